"""Fixtures every test area shares: an isolated data folder and cache, eager
Celery, and one RSA key pair with its self-signed certificate per session."""

import datetime as dt
import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
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


def make_key_pair(common_name="ymca-demo", days=365, key_size=2048):
    """An RSA private key (PKCS#8 PEM) and its self-signed X.509 certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return key_pem, cert_pem


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
