"""/healthz: reach of database, cache and broker, sync age, certificate days."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from tests.conftest import redis_reachable
from traction_rec.models import ConnectionSettings
from traction_rec_import.models import ImportRun

pytestmark = pytest.mark.django_db

REDIS = "redis://127.0.0.1:6379/6"


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def probe(client):
    response = client.get("/healthz")
    body = response.json()
    for check in body["checks"].values():
        check.pop("ms", None)
    return response, body


def import_run(age, **fields):
    finished = timezone.now() - age
    return ImportRun.objects.create(
        kind=ImportRun.Kind.IMPORT,
        status=ImportRun.Status.COMPLETE,
        started_at=finished - timedelta(seconds=20),
        finished_at=finished,
        **fields,
    )


def certificate_expires_in(delta):
    ConnectionSettings.objects.update_or_create(
        pk=1, defaults={"certificate_expires_at": timezone.now() + delta}
    )


@pytest.fixture
def broker():
    from config.celery import app

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False

    def point_at(url):
        app.conf.broker_url = url

    yield point_at
    app.conf.task_always_eager, app.conf.broker_url = previous


def test_it_is_healthy_after_a_recent_import(client):
    run = import_run(timedelta(hours=3))
    certificate_expires_in(timedelta(days=200, hours=1))

    response, body = probe(client)

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    expires_at = body["checks"]["certificate"].pop("expires_at")
    assert expires_at.startswith(str((timezone.now() + timedelta(days=200)).date()))
    assert body == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok", "detail": "The database answers."},
            "cache": {"status": "ok", "detail": "The cache answers."},
            "broker": {
                "status": "ok",
                "detail": "No broker: tasks run eagerly in the calling process.",
            },
            "last_sync": {
                "status": "ok",
                "detail": "The last complete import is recent.",
                "age_seconds": body["checks"]["last_sync"]["age_seconds"],
                "run_id": run.pk,
            },
            "certificate": {
                "status": "ok",
                "detail": "The certificate is valid for 200 more days.",
                "days_left": 200,
            },
        },
    }
    assert 3 * 3600 <= body["checks"]["last_sync"]["age_seconds"] <= 3 * 3600 + 60


def test_an_old_last_import_fails_the_probe(client):
    run = import_run(timedelta(hours=31))
    # A newer dry run changes nothing, so it does not count as a sync.
    import_run(timedelta(hours=1), options={"dry_run": True})

    response, body = probe(client)

    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["last_sync"]["status"] == "fail"
    assert body["checks"]["last_sync"]["run_id"] == run.pk
    assert body["checks"]["last_sync"]["detail"] == (
        "The last complete import finished 31 hours ago, more than 30."
    )


def test_no_import_yet_is_a_warning_while_the_schedules_wait(client):
    response, body = probe(client)

    assert response.status_code == 200
    assert body["checks"]["last_sync"] == {
        "status": "warning",
        "detail": (
            "No import has completed yet; the sync schedules are off until the "
            "connection test passes."
        ),
    }


def test_no_import_yet_fails_once_a_sync_is_scheduled(client):
    nightly = PeriodicTask.objects.filter(
        task="traction_rec_import.tasks.fetch_and_import"
    )
    nightly.update(enabled=True)

    response, body = probe(client)

    assert response.status_code == 503
    assert body["checks"]["last_sync"] == {
        "status": "fail",
        "detail": "No import has completed, though a sync is scheduled.",
    }


@pytest.mark.parametrize(
    "delta, status, code, detail",
    [
        (
            timedelta(days=12, hours=1),
            "warning",
            200,
            "The certificate expires in 12 days. Renew it before then.",
        ),
        (
            timedelta(days=-2),
            "fail",
            503,
            "The certificate has expired: token requests fail. Upload a new one to "
            "the connected app and to the connection settings.",
        ),
    ],
)
def test_the_certificate_warns_before_and_fails_after_it_expires(
    client, delta, status, code, detail
):
    import_run(timedelta(hours=1))
    certificate_expires_in(delta)

    response, body = probe(client)

    assert response.status_code == code
    assert body["checks"]["certificate"]["status"] == status
    assert body["checks"]["certificate"]["detail"] == detail


def test_no_stored_certificate_is_a_warning(client):
    import_run(timedelta(hours=1))

    response, body = probe(client)

    assert response.status_code == 200
    assert body["checks"]["certificate"] == {
        "status": "warning",
        "detail": (
            "No certificate is stored with the connection, so its expiry is not "
            "tracked. Paste it on the connection settings page."
        ),
    }
    assert not ConnectionSettings.objects.exists()


def test_an_unreachable_broker_fails_the_probe(client, broker):
    import_run(timedelta(hours=1))
    broker(f"redis://127.0.0.1:{closed_port()}/6")

    response, body = probe(client)

    assert response.status_code == 503
    assert body["checks"]["broker"] == {
        "status": "fail",
        "detail": "The broker did not answer (OperationalError).",
    }


def test_a_reachable_broker_passes(client, broker):
    if not redis_reachable(REDIS):
        pytest.skip(f"needs Redis at {REDIS}; none answered")
    broker(REDIS)

    response, body = probe(client)

    assert body["checks"]["broker"] == {"status": "ok", "detail": "The broker answers."}


def test_an_unreachable_cache_fails_the_probe(client, settings):
    import_run(timedelta(hours=1))
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/6",
        }
    }

    response, body = probe(client)

    assert response.status_code == 503
    assert body["checks"]["cache"] == {
        "status": "fail",
        "detail": "The cache did not answer (ConnectionError).",
    }
    assert body["status"] == "fail"


def test_the_probe_holds_no_secret(client):
    ConnectionSettings.objects.update_or_create(
        pk=1, defaults={"consumer_key": "3MVG9-public-key", "login_user": "int@ymca"}
    )

    response = client.get("/healthz")

    assert b"3MVG9" not in response.content
    assert b"int@ymca" not in response.content
