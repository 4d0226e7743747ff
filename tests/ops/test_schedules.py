"""The default beat schedules: created disabled after migrate, enabled by the
first successful connection test, editable in admin."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

from traction_rec.signals import connection_tested
from traction_rec_import import schedules

pytestmark = pytest.mark.django_db

NIGHTLY = "Traction Rec: full sync, nightly"
QUICK = "Traction Rec: quick availability sync, every 15 minutes 5:00-21:45"
CLEAN_UP = "Traction Rec: clean-up of backups, daily"


def describe(task):
    crontab = task.crontab
    return (
        task.task,
        json.loads(task.kwargs),
        task.enabled,
        task.description,
        (
            crontab.minute,
            crontab.hour,
            crontab.day_of_week,
            crontab.day_of_month,
            crontab.month_of_year,
            str(crontab.timezone),
        ),
    )


def test_it_creates_the_defaults_disabled_when_the_database_is_migrated():
    # The test database was made by `migrate`, so post_migrate already ran.
    tasks = {task.name: describe(task) for task in PeriodicTask.objects.all()}

    assert tasks == {
        NIGHTLY: (
            "traction_rec_import.tasks.fetch_and_import",
            {"sync": True},
            False,
            "Default schedule, disabled until the connection test passes.",
            ("30", "3", "*", "*", "*", "America/Chicago"),
        ),
        QUICK: (
            "traction_rec_import.tasks.quick_availability_sync",
            {},
            False,
            "Default schedule, disabled until the connection test passes.",
            ("*/15", "5-21", "*", "*", "*", "America/Chicago"),
        ),
        CLEAN_UP: (
            "traction_rec_import.tasks.clean_up",
            {},
            False,
            "Default schedule, disabled until the connection test passes.",
            ("30", "4", "*", "*", "*", "America/Chicago"),
        ),
    }


def test_it_never_overwrites_a_schedule_an_admin_changed():
    nightly = PeriodicTask.objects.get(name=NIGHTLY)
    nightly.kwargs = json.dumps({"sync": False})
    nightly.save()
    PeriodicTask.objects.filter(name=CLEAN_UP).delete()

    created = schedules.ensure_defaults()

    assert created == [CLEAN_UP]
    assert json.loads(PeriodicTask.objects.get(name=NIGHTLY).kwargs) == {"sync": False}
    assert PeriodicTask.objects.count() == 3


def test_running_migrate_again_creates_nothing_new():
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    assert PeriodicTask.objects.count() == 3


def test_a_successful_connection_test_enables_the_defaults():
    connection_tested.send(sender=None, ok=True)

    enabled = dict(PeriodicTask.objects.values_list("name", "enabled"))
    assert enabled == {NIGHTLY: True, QUICK: True, CLEAN_UP: True}
    description = PeriodicTask.objects.get(name=NIGHTLY).description
    assert description.startswith(
        "Default schedule, enabled by the connection test of "
    )


def test_a_failed_connection_test_leaves_them_disabled():
    connection_tested.send(sender=None, ok=False)

    assert not PeriodicTask.objects.filter(enabled=True).exists()


def test_a_schedule_disabled_after_the_first_success_stays_disabled():
    connection_tested.send(sender=None, ok=True)
    quick = PeriodicTask.objects.get(name=QUICK)
    quick.enabled = False
    quick.save()

    connection_tested.send(sender=None, ok=True)

    assert PeriodicTask.objects.get(name=QUICK).enabled is False
    assert PeriodicTask.objects.get(name=NIGHTLY).enabled is True


def test_the_defaults_are_editable_in_admin(admin_client):
    nightly = PeriodicTask.objects.get(name=NIGHTLY)
    url = f"/admin/django_celery_beat/periodictask/{nightly.pk}/change/"

    page = admin_client.get(url)
    response = admin_client.post(
        url,
        {
            "name": NIGHTLY,
            "regtask": "traction_rec_import.tasks.fetch_and_import",
            "task": "",
            "enabled": "on",
            "description": "Moved to 02:45 by the web team.",
            "crontab": nightly.crontab_id,
            "args": "[]",
            "kwargs": '{"sync": true, "update": true}',
            "expire_seconds": "",
            "queue": "",
            "exchange": "",
            "routing_key": "",
            "priority": "",
            "headers": "{}",
        },
    )

    assert page.status_code == 200
    assert response.status_code == 302, response.context["adminform"].form.errors
    nightly.refresh_from_db()
    assert nightly.enabled is True
    assert json.loads(nightly.kwargs) == {"sync": True, "update": True}
    assert nightly.description == "Moved to 02:45 by the web team."


def test_beat_reads_the_defaults_as_local_crontabs():
    from zoneinfo import ZoneInfo

    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery import app

    connection_tested.send(sender=None, ok=True)

    entries = {
        task.name: DatabaseScheduler.Entry(task, app=app)
        for task in PeriodicTask.objects.all()
    }

    described = {
        name: (
            entry.task,
            entry.kwargs,
            entry.schedule.minute,
            entry.schedule.hour,
            entry.schedule.tz,
        )
        for name, entry in entries.items()
    }
    chicago = ZoneInfo("America/Chicago")
    assert described == {
        NIGHTLY: (
            "traction_rec_import.tasks.fetch_and_import",
            {"sync": True},
            {30},
            {3},
            chicago,
        ),
        QUICK: (
            "traction_rec_import.tasks.quick_availability_sync",
            {},
            {0, 15, 30, 45},
            set(range(5, 22)),
            chicago,
        ),
        CLEAN_UP: ("traction_rec_import.tasks.clean_up", {}, {30}, {4}, chicago),
    }
