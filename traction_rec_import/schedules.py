"""The default sync schedules, kept in django-celery-beat's tables.

Admins edit them in Django admin (Periodic tasks); beat runs with the
database scheduler, so an edit takes effect without a restart. The defaults
are created after every `migrate` (idempotent: an existing schedule is never
overwritten) and start disabled, because a schedule that runs before the
connection works only fills the run list with failures. The first successful
connection test enables them; after that, enabling and disabling is the
admin's call alone.
"""

import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# The description marks a default that still waits for its first successful
# connection test; an admin's own description is never touched.
WAITING = "Default schedule, disabled until the connection test passes."
ENABLED = "Default schedule, enabled by the connection test of {at:%Y-%m-%d %H:%M %Z}."
SWITCHED = "Default schedule, {state} with tr_schedules on {at:%Y-%m-%d %H:%M %Z}."


@dataclass(frozen=True)
class Default:
    name: str
    task: str
    crontab: dict
    kwargs: dict = field(default_factory=dict)


# Times are the site's local time (settings.TIME_ZONE). 03:30 and 04:30 exist
# exactly once on both daylight-saving switch days, unlike 01:00 to 02:59.
DEFAULTS = (
    Default(
        name="Traction Rec: full sync, nightly",
        task="traction_rec_import.tasks.fetch_and_import",
        crontab={"minute": "30", "hour": "3"},
        kwargs={"sync": True},
    ),
    Default(
        name="Traction Rec: quick availability sync, every 15 minutes 5:00-21:45",
        task="traction_rec_import.tasks.quick_availability_sync",
        crontab={"minute": "*/15", "hour": "5-21"},
    ),
    Default(
        name="Traction Rec: clean-up of backups, daily",
        task="traction_rec_import.tasks.clean_up",
        crontab={"minute": "30", "hour": "4"},
    ),
)


def _tables_exist(using):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    names = connections[using].introspection.table_names()
    return PeriodicTask._meta.db_table in names and (
        CrontabSchedule._meta.db_table in names
    )


def ensure_defaults(using=DEFAULT_DB_ALIAS):
    """Create the missing default schedules, disabled; return the names created."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = []
    with transaction.atomic(using=using):
        for default in DEFAULTS:
            if PeriodicTask.objects.using(using).filter(name=default.name).exists():
                continue
            schedule, _ = CrontabSchedule.objects.using(using).get_or_create(
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=settings.TIME_ZONE,
                **default.crontab,
            )
            PeriodicTask.objects.using(using).create(
                name=default.name,
                task=default.task,
                crontab=schedule,
                kwargs=json.dumps(default.kwargs),
                enabled=False,
                description=WAITING,
            )
            created.append(default.name)

    if created:
        logger.info("schedules created=%d disabled=true", len(created))
    return created


def waiting_names(using=DEFAULT_DB_ALIAS):
    """The defaults still disabled until the first successful connection test."""
    from django_celery_beat.models import PeriodicTask

    names = [default.name for default in DEFAULTS]
    waiting = PeriodicTask.objects.using(using).filter(
        name__in=names, enabled=False, description=WAITING
    )
    return list(waiting.order_by("name").values_list("name", flat=True))


def enable_waiting(using=DEFAULT_DB_ALIAS):
    """Enable the defaults that still wait for the first successful connection
    test; return their names. Schedules an admin has touched stay as they are."""
    from django_celery_beat.models import PeriodicTask

    names = [default.name for default in DEFAULTS]
    waiting = PeriodicTask.objects.using(using).filter(
        name__in=names, enabled=False, description=WAITING
    )
    now = timezone.localtime()
    enabled = []
    for task in waiting:
        task.enabled = True
        task.description = ENABLED.format(at=now)
        # save(), not update(): it tells a running beat that schedules changed.
        task.save()
        enabled.append(task.name)

    if enabled:
        logger.info("schedules enabled=%d by=connection_test", len(enabled))
    return enabled


def on_post_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    # `migrate` of a single app can run before django_celery_beat's tables
    # exist; the next full migrate creates the defaults then.
    if not _tables_exist(using):
        return
    ensure_defaults(using=using)


def on_connection_tested(sender, ok=False, **kwargs):
    if not ok:
        return
    ensure_defaults()
    enable_waiting()
