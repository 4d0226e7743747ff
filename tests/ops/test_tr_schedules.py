"""`manage.py tr_schedules`."""

from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from traction_rec.signals import connection_tested

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("tr_schedules", *args, stdout=out)
    return out.getvalue()


def test_it_lists_the_defaults_with_their_times():
    assert run() == (
        "disabled  30 3 * * * (m/h/dM/MY/d) America/Chicago  "
        "Traction Rec: full sync, nightly\n"
        "disabled  */15 5-21 * * * (m/h/dM/MY/d) America/Chicago  "
        "Traction Rec: quick availability sync, every 15 minutes 5:00-21:45\n"
        "disabled  30 4 * * * (m/h/dM/MY/d) America/Chicago  "
        "Traction Rec: clean-up of backups, daily\n"
    )


def test_it_recreates_a_deleted_default():
    name = "Traction Rec: clean-up of backups, daily"
    PeriodicTask.objects.filter(name=name).delete()

    output = run()

    assert output.startswith(
        "Created (disabled): Traction Rec: clean-up of backups, daily\n"
    )
    assert PeriodicTask.objects.count() == 3


def test_disable_outlasts_the_next_connection_test():
    run("--enable")
    run("--disable")

    connection_tested.send(sender=None, ok=True)

    assert not PeriodicTask.objects.filter(enabled=True).exists()
    description = PeriodicTask.objects.first().description
    assert description.startswith("Default schedule, disabled with tr_schedules on ")


def test_enable_switches_every_default_on():
    output = run("--enable")

    assert output.count("enabled ") == 3
    assert PeriodicTask.objects.filter(enabled=True).count() == 3
