from django.contrib import admin  # noqa: F401

# The location mapping screen registers itself.
from traction_rec_import import location_admin  # noqa: F401
