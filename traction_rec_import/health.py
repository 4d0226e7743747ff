"""`/healthz`: what monitoring needs to know, as JSON.

Each check says "ok", "warning" or "fail" with a sentence and its figures.
The response is 200 unless a check fails, then 503, so a plain HTTP monitor
alerts on the status alone and a person reads the JSON for the reason. It
holds no secret and no record: reach, ages and counts only.

A warning does not fail the probe: a certificate that expires within 30
days, or no import yet while the schedules still wait for the first
successful connection test.
"""

import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Q
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_redis.exceptions import ConnectionInterrupted
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

OK, WARNING, FAIL = "ok", "warning", "fail"
CERTIFICATE_WARNING_DAYS = 30
BROKER_TIMEOUT = 2  # seconds
SYNC_TASKS = (
    "traction_rec_import.tasks.fetch_and_import",
    "traction_rec_import.tasks.run_import",
)


def _check(status, detail, **figures):
    return {"status": status, "detail": detail, **figures}


def _elapsed_ms(started):
    return round((time.monotonic() - started) * 1000, 1)


def check_database():
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return _check(FAIL, f"The database did not answer ({type(exc).__name__}).")
    return _check(OK, "The database answers.", ms=_elapsed_ms(started))


def check_cache():
    started = time.monotonic()
    key, value = "healthz:probe", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=30)
        read = cache.get(key)
    except (OSError, RedisError, ConnectionInterrupted) as exc:
        return _check(FAIL, f"The cache did not answer ({type(exc).__name__}).")
    if read != value:
        return _check(FAIL, "The cache did not keep a value it was given.")
    return _check(OK, "The cache answers.", ms=_elapsed_ms(started))


def check_broker():
    from config.celery import app

    if app.conf.task_always_eager:
        return _check(OK, "No broker: tasks run eagerly in the calling process.")
    started = time.monotonic()
    try:
        with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT
            )
    except (BrokerError, OSError) as exc:
        return _check(FAIL, f"The broker did not answer ({type(exc).__name__}).")
    return _check(OK, "The broker answers.", ms=_elapsed_ms(started))


def _sync_scheduled():
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.filter(task__in=SYNC_TASKS, enabled=True).exists()


def check_last_sync(now=None):
    from traction_rec_import.models import ImportRun

    now = now or timezone.now()
    max_age = settings.HEALTH_MAX_SYNC_AGE_HOURS * 3600
    try:
        last = (
            ImportRun.objects.filter(
                kind=ImportRun.Kind.IMPORT,
                status=ImportRun.Status.COMPLETE,
                finished_at__isnull=False,
            )
            # A dry run changed nothing. (exclude() would also drop the runs
            # without the key: the JSON lookup is NULL there.)
            .filter(Q(options__dry_run=False) | Q(options__dry_run__isnull=True))
            .order_by("-finished_at")
            .first()
        )
        scheduled = last is None and _sync_scheduled()
    except DatabaseError:
        return _check(FAIL, "Unknown: the database did not answer.")

    if last is None:
        if scheduled:
            return _check(FAIL, "No import has completed, though a sync is scheduled.")
        return _check(
            WARNING,
            "No import has completed yet; the sync schedules are off until the "
            "connection test passes.",
        )
    age = int((now - last.finished_at).total_seconds())
    figures = {"age_seconds": age, "run_id": last.pk}
    if age > max_age:
        return _check(
            FAIL,
            f"The last complete import finished {age // 3600} hours ago, more than "
            f"{settings.HEALTH_MAX_SYNC_AGE_HOURS}.",
            **figures,
        )
    return _check(OK, "The last complete import is recent.", **figures)


def check_certificate(now=None):
    from traction_rec.models import ConnectionSettings

    now = now or timezone.now()
    try:
        # A read, not load(): a probe never creates the settings row.
        expires_at = (
            ConnectionSettings.objects.filter(pk=1)
            .values_list("certificate_expires_at", flat=True)
            .first()
        )
    except DatabaseError:
        return _check(FAIL, "Unknown: the database did not answer.")

    if expires_at is None:
        return _check(
            WARNING,
            "No certificate is stored with the connection, so its expiry is not "
            "tracked. Paste it on the connection settings page.",
        )
    days = (expires_at - now).days
    figures = {"days_left": days, "expires_at": expires_at.isoformat()}
    if expires_at <= now:
        return _check(
            FAIL,
            "The certificate has expired: token requests fail. Upload a new one "
            "to the connected app and to the connection settings.",
            **figures,
        )
    if days < CERTIFICATE_WARNING_DAYS:
        return _check(
            WARNING,
            f"The certificate expires in {days} days. Renew it before then.",
            **figures,
        )
    return _check(OK, f"The certificate is valid for {days} more days.", **figures)


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "last_sync": check_last_sync,
    "certificate": check_certificate,
}


@never_cache
def healthz(request):
    checks = {name: check() for name, check in CHECKS.items()}
    failed = sorted(name for name, check in checks.items() if check["status"] == FAIL)
    if failed:
        logger.warning("healthz status=fail failed=%s", ",".join(failed))
    body = {"status": FAIL if failed else OK, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


# Included by config/urls.py as path("healthz", include(...)).
urlpatterns = [path("", healthz, name="healthz")]
