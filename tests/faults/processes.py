"""Child processes for the kill and concurrency tests: `manage.py` commands on a
file database shared by every process, each killed in a `finally`.

The database is a SQLite file migrated once per session and copied per
scenario; tests read it back with the sqlite3 module, so the test process
itself never opens a connection that could hold a lock.
"""

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PEF_TABLES = (
    "activity_finder_program",
    "activity_finder_programsubcategory",
    "activity_finder_activity",
    "activity_finder_class",
    "activity_finder_session",
    "activity_finder_sessiontime",
    "activity_finder_location",
)


def child_env(workdir, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SHARED_DIR")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'faults.sqlite3'}",
        TRACTION_REC_DATA_DIR=str(workdir / "data"),
        VAR_DIR=str(workdir / "var"),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(BASE_DIR),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def migrated_template(directory):
    """Migrate a fresh SQLite file once; scenarios copy it."""
    env = child_env(directory)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return directory / "faults.sqlite3"


def new_workdir(template, workdir):
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, workdir / "faults.sqlite3")
    return workdir


class Children:
    """Processes started by one test; every one is killed when it ends."""

    def __init__(self):
        self.processes = []

    def start(self, args, env, *, python=False):
        command = [sys.executable, *args] if python else [
            sys.executable, "manage.py", *args
        ]
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def run(self, args, env, *, python=False, timeout=90):
        process = self.start(args, env, python=python)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        finally:
            kill(process)
        return process.returncode, stdout, stderr

    def stop_all(self):
        for process in self.processes:
            kill(process)


def kill(process):
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    for stream in (process.stdout, process.stderr):
        if stream is not None and not stream.closed:
            stream.close()


@contextlib.contextmanager
def children():
    group = Children()
    try:
        yield group
    finally:
        group.stop_all()


def wait_for(predicate, *, timeout=30, interval=0.05, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")


def read_url(process, *, timeout=30):
    """The URL a `tr_emulator` child prints when it serves."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError(f"tr_emulator stopped: {process.stderr.read()}")
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)
        if match:
            return match.group(1)
    raise AssertionError("tr_emulator printed no URL.")


def query(database, sql, params=()):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        connection.close()


def catalogue(database):
    """Every PEF row, as the database file holds it now."""
    return {
        table: query(database, f"SELECT * FROM {table} ORDER BY id")
        for table in PEF_TABLES
    }
