"""The deployment files: docker-compose.yml, the Dockerfile, .env.example, and
`check --deploy` on the production settings the example describes."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
SECRETS = {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "POSTGRES_PASSWORD"}
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def example_env():
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def production_env(tmp_path, **overrides):
    """The example filled in the way an operator would, on a scratch SQLite."""
    # Only what a process needs to run: nothing of this test's own settings
    # (DJANGO_ALLOW_ASYNC_UNSAFE from a browser test, a DATABASE_URL) leaks in.
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update(example_env())
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(50),
        DEPLOYMENT="production",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
    )
    env.update(overrides)
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_check_deploy_is_clean_with_the_example_settings(tmp_path):
    result = manage(
        production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_production_refuses_to_start_with_the_example_left_unfilled(tmp_path):
    env = production_env(tmp_path, SECRET_KEY="", FIELD_ENCRYPTION_KEY="")

    result = manage(env, "check")

    assert result.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: DEPLOYMENT=production needs "
        "SECRET_KEY and FIELD_ENCRYPTION_KEY of its own."
    ) in result.stderr


def test_the_example_holds_no_secret():
    values = example_env()

    assert {name: values[name] for name in SECRETS} == dict.fromkeys(SECRETS, "")
    assert all(not value for name, value in values.items() if name.endswith("_FILE"))


def test_every_example_setting_is_read_somewhere():
    settings = (BASE_DIR / "config" / "settings.py").read_text()
    compose_text = (BASE_DIR / "docker-compose.yml").read_text()

    unread = [
        name
        for name in example_env()
        if f'"{name.removesuffix("_FILE")}"' not in settings
        and "${" + name not in compose_text
    ]

    assert unread == []


def test_compose_runs_web_worker_beat_postgres_and_redis(compose):
    services = compose["services"]

    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert services["web"]["command"] == ["gunicorn", "config.wsgi:application"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["migrate"]["command"] == [
        "python", "manage.py", "migrate", "--noinput"
    ]
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["DEPLOYMENT"] == "production"
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_compose_publishes_only_the_web_port_and_only_on_loopback(compose):
    published = {
        name: service.get("ports", []) for name, service in compose["services"].items()
    }

    assert published == {
        "db": [],
        "redis": [],
        "migrate": [],
        "web": ["127.0.0.1:8000:8000"],
        "worker": [],
        "beat": [],
    }


def test_the_image_serves_static_files_with_whitenoise_and_keeps_secrets_out():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    ignored = (BASE_DIR / ".dockerignore").read_text().splitlines()

    assert re.search(r"^FROM python:3\.11-", dockerfile, re.M)
    assert "python manage.py collectstatic --noinput" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.M)
    assert 'CMD ["gunicorn", "config.wsgi:application"]' in dockerfile
    assert {".env", ".git", ".venv", "var"} <= set(ignored)


def test_collectstatic_works_with_the_build_step_keys(tmp_path):
    env = production_env(
        tmp_path,
        SECRET_KEY="collectstatic-build-step-only",
        FIELD_ENCRYPTION_KEY="collectstatic-build-step-only",
        STATIC_ROOT=str(tmp_path / "static"),
    )

    result = manage(env, "collectstatic", "--noinput", "--verbosity", "0")

    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "static" / "staticfiles.json"
    assert manifest.is_file()
    assert (tmp_path / "static" / "admin" / "css" / "base.css").is_file()
