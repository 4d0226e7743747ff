"""Attacks on a production deployment: the deploy check and the security headers.

Settings are read once per process, so each test starts `manage.py` in a
child process with the production environment (DEPLOYMENT=production, own
SECRET_KEY and FIELD_ENCRYPTION_KEY, ALLOWED_HOSTS) and a throw-away
database and data folder under tmp_path.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.reliability import attack

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "ymca.example"

HEADERS_SCRIPT = """
import json
import django
django.setup()
from django.test import Client

client = Client()
plain = client.get("/admin/login/", HTTP_HOST="ymca.example")
secure = client.get("/admin/login/", HTTP_HOST="ymca.example", secure=True)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "status": secure.status_code,
    "headers": dict(secure.headers),
    "cookies": {
        name: {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"])}
        for name, morsel in secure.cookies.items()
    },
}))
"""


def production_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SHARED_DIR")
    }
    env.update(
        DEPLOYMENT="production",
        DEBUG="false",
        SECRET_KEY="k9#Vq2!mZ7rT4wYp8sL1xN6cB3dF5gH0jQ-aE_uI+oR=tW%yU@zX",
        FIELD_ENCRYPTION_KEY="f3Qm9Lx2Vt7Wc1Zr8Kp4Hs6Nd0Gb5Jy",
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
        TRACTION_REC_DATA_DIR=str(tmp_path / "data"),
        STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def run_child(args, env, *, timeout=120):
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout, stderr


@attack(
    "`manage.py check --deploy` with the production environment",
    expected="exit 0, no warning",
)
def test_the_deploy_check_is_clean_with_production_settings(tmp_path, observed):
    returncode, stdout, stderr = run_child(
        ["manage.py", "check", "--deploy"], production_env(tmp_path)
    )

    observed(f"exit {returncode}: {(stdout + stderr).strip()}")
    assert (returncode, stderr) == (0, "")
    assert stdout == "System check identified no issues (0 silenced).\n"


@attack(
    "production without its own SECRET_KEY",
    expected="refuses to start and names the missing settings",
)
def test_production_refuses_the_insecure_default_keys(tmp_path, observed):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]

    returncode, stdout, stderr = run_child(["manage.py", "check"], env)

    observed(f"exit {returncode}: {stderr.strip().splitlines()[-1]}")
    assert returncode != 0
    assert stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DEPLOYMENT=production needs "
        "SECRET_KEY and FIELD_ENCRYPTION_KEY of its own."
    )


@pytest.fixture(scope="module")
def production_response(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path)
    # The production storage serves hashed names from a manifest, so the
    # admin page needs collectstatic first, as a deployment would run it.
    returncode, _, stderr = run_child(["manage.py", "collectstatic", "--noinput"], env)
    assert returncode == 0, stderr

    returncode, stdout, stderr = run_child(["-c", HEADERS_SCRIPT], env)
    assert returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


@attack("plain HTTP request in production", expected="301 to the https:// URL")
def test_production_redirects_plain_http_to_https(production_response, observed):
    observed(
        f"{production_response['plain_status']} to "
        f"{production_response['plain_location']}"
    )
    assert production_response["plain_status"] == 301
    assert production_response["plain_location"] == f"https://{HOST}/admin/login/"


SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@attack(
    "security headers of a production response",
    expected="HSTS (1 year, subdomains, preload), nosniff, X-Frame-Options DENY, "
    "Referrer-Policy and COOP same-origin",
)
def test_production_sets_every_security_header(production_response, observed):
    seen = {name: production_response["headers"].get(name) for name in SECURITY_HEADERS}

    observed("; ".join(f"{name}: {value}" for name, value in seen.items()))
    assert production_response["status"] == 200
    assert seen == SECURITY_HEADERS


@attack(
    "cookies of a production response",
    expected="the CSRF cookie is Secure (HTTPS only)",
)
def test_production_cookies_are_https_only(production_response, observed):
    cookies = production_response["cookies"]

    observed(f"cookies {cookies}")
    assert cookies["csrftoken"]["secure"] is True
