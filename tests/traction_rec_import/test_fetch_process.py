"""The fetch as a separate process: killed between pages it publishes
nothing, and a second fetch is refused while the first holds the lock."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from traction_rec_import import backups, storage

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 1)
CONSUMER_KEY = "process-consumer-key"
USERNAME = "integration@ymca-process.example"
SESSIONS_OBJECT = "TREX1__Course_Session_Option__c"

# Saves the connection to the local org, then runs tr_fetch; argv: org URL,
# key file, certificate file.
FETCH_SCRIPT = """
import sys
import django

django.setup()
from django.core.management import call_command
from traction_rec.models import ConnectionSettings

url, key_path, cert_path = sys.argv[1:4]
ConnectionSettings.objects.update_or_create(pk=1, defaults=dict(
    consumer_key=%r,
    login_user=%r,
    login_url=url,
    services_base_url=url + "/services",
    api_base_url=url,
    timeout=90,
    private_key_source="database",
    private_key=open(key_path).read(),
    certificate=open(cert_path).read(),
))
call_command("tr_fetch")
""" % (CONSUMER_KEY, USERNAME)


@pytest.fixture
def org(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    _, cert_pem = key_pair
    with running_org(
        sample_org_dir,
        certificate_pem=cert_pem,
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        today=TODAY,
        page_size=50,
    ) as handle:
        yield handle


@pytest.fixture
def environment(tmp_path, settings, key_pair):
    """A file database and cache of the processes' own; the fetch folders
    are this test's TRACTION_REC_DATA_DIR."""
    key_pem, cert_pem = key_pair
    (tmp_path / "key.pem").write_text(key_pem)
    (tmp_path / "cert.pem").write_text(cert_pem)
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'process.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
        TRACTION_REC_DATA_DIR=str(settings.TRACTION_REC_DATA_DIR),
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def start_fetch(org, environment, tmp_path):
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            FETCH_SCRIPT,
            org.url,
            str(tmp_path / "key.pem"),
            str(tmp_path / "cert.pem"),
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, process, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(
                f"the fetch ended early: {process.stderr.read().decode()[-2000:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError("the fetch never reached the second page")
        time.sleep(0.05)


def hang_on_second_sessions_page(org):
    return org.faults.add(
        "hang", seconds=60, page=2, object=SESSIONS_OBJECT, times=None
    )


def test_a_fetch_killed_between_pages_publishes_nothing(org, environment, tmp_path):
    from traction_rec.models import ConnectionSettings
    from traction_rec_import.fetch import run_fetch

    key_pem = (tmp_path / "key.pem").read_text()
    cert_pem = (tmp_path / "cert.pem").read_text()
    ConnectionSettings.objects.create(
        consumer_key=CONSUMER_KEY,
        login_user=USERNAME,
        login_url=org.url,
        api_base_url=org.url,
        private_key=key_pem,
        certificate=cert_pem,
    )
    good = run_fetch()
    hang = hang_on_second_sessions_page(org)
    process = start_fetch(org, environment, tmp_path)

    wait_for(lambda: hang.fired >= 1, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    assert process.returncode == -signal.SIGKILL
    assert good.complete is True
    assert storage.published_folders() == [good.folder]
    assert storage.latest_published() == good.folder
    (temp,) = [p for p in storage.fetch_root().iterdir() if p.name.startswith(".tmp-")]
    assert sorted(path.name for path in temp.iterdir()) == [
        "classes.json",
        "program_categories.json",
        "programs.json",
        "sessions.json",
    ]
    # The clean-up removes it once it is old, and nothing else.
    assert backups.clean_up(now=time.time() + 7 * 3600) == 1
    assert sorted(storage.fetch_root().iterdir()) == [good.folder]


def test_a_second_fetch_is_refused_while_the_first_holds_the_lock(
    org, environment, tmp_path
):
    hang = hang_on_second_sessions_page(org)
    first = start_fetch(org, environment, tmp_path)
    try:
        wait_for(lambda: hang.fired >= 1, first)

        second = subprocess.run(
            [sys.executable, "manage.py", "tr_fetch"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)

    assert second.returncode == 1
    last_line = second.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        "CommandError: Another run holds the fetch lock since "
    )
    assert f", process {first.pid})." in last_line
    assert last_line.endswith(
        "Wait for it to finish, or clear a lock you know is dead with "
        "`manage.py tr_reset_lock fetch`."
    )
    assert storage.published_folders() == []
