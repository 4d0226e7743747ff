from django.apps import AppConfig
from django.core import checks


class TractionRecConfig(AppConfig):
    name = "traction_rec"
    verbose_name = "Traction Rec connection"

    def ready(self):
        from traction_rec.checks import certificate_expiry

        # Runs with every `manage.py check` (and runserver), reading the one
        # settings row; a database not migrated yet is skipped.
        checks.register(certificate_expiry, "traction_rec")
