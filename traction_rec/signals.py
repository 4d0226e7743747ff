from django.dispatch import Signal

# Sent after every connection test (admin button or tr_check) with ok=bool, so
# other apps can react (the default sync schedules are enabled on the first
# success).
connection_tested = Signal()
