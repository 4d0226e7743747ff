"""System checks: the certificate's expiry, 30 days ahead.

`manage.py check` (and every runserver, migrate and deploy check) warns while
there is still time to renew, so the yearly renewal is not left to a
calendar reminder.
"""

import datetime as dt

from django.core.checks import Error, Warning
from django.db import DatabaseError
from django.utils import timezone

EXPIRY_WARNING_DAYS = 30


def certificate_expiry(app_configs=None, *, now=None, **kwargs):
    from traction_rec.models import ConnectionSettings

    try:
        connection = ConnectionSettings.objects.filter(pk=1).first()
    except DatabaseError:
        return []  # not migrated yet: nothing stored to check
    except RuntimeError:
        return []  # pytest-django forbids database access in this test
    if connection is None or connection.certificate_expires_at is None:
        return []

    now = now or timezone.now()
    expires_at = connection.certificate_expires_at
    renew = (
        "Make a new key and certificate, upload the certificate to the connected "
        "app, and paste both in the Traction Rec connection settings."
    )
    if expires_at <= now:
        return [
            Error(
                f"The Traction Rec certificate expired on {expires_at:%Y-%m-%d}; "
                "Salesforce refuses every token.",
                hint=renew,
                id="traction_rec.E001",
            )
        ]
    if expires_at - now <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
        days = (expires_at - now).days
        return [
            Warning(
                f"The Traction Rec certificate expires in {days} days, on "
                f"{expires_at:%Y-%m-%d}.",
                hint=renew,
                id="traction_rec.W001",
            )
        ]
    return []
