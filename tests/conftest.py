"""Fixtures every test area shares: an isolated data folder and cache, eager
Celery, and one RSA key pair with its self-signed certificate per session."""

import os
from pathlib import Path

import pytest

from traction_rec.emulator.selfsigned import make_key_pair  # noqa: F401  (re-exported)

# CI lays a copy of shared/ beside the clone; SHARED_DIR points elsewhere.
SHARED = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
SAMPLE_ORG = SHARED / "sample-org"
DRUPAL_EXPORT = SHARED / "fixtures" / "drupal-export-2021"


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if settings.REDIS_URL else "eager"
    return f"database: {engine}, celery: {broker}"


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    """Each test writes fetch folders under its own tmp_path and starts with an
    empty cache, so tests never see each other's tokens or files."""
    settings.TRACTION_REC_DATA_DIR = tmp_path / "traction_rec"
    if not settings.REDIS_URL:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"test-{os.getpid()}-{tmp_path.name}",
            }
        }
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in the test's process; the worker test starts a real worker."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def key_pair():
    return make_key_pair()


@pytest.fixture(scope="session")
def sample_org_dir():
    if not SAMPLE_ORG.is_dir():
        pytest.skip(f"needs the shared sample org at {SAMPLE_ORG}")
    return SAMPLE_ORG


@pytest.fixture(scope="session")
def drupal_export_dir():
    if not DRUPAL_EXPORT.is_dir():
        pytest.skip(f"needs the shared Drupal export at {DRUPAL_EXPORT}")
    return DRUPAL_EXPORT


def redis_reachable(url):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


@pytest.fixture
def require_redis():
    """Skip, saying why, where no Redis answers on 127.0.0.1:6379."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    if not redis_reachable(url):
        pytest.skip(f"needs Redis at {url}; none answered")
    return url
