"""Processes killed half-way (SIGKILL), and runs started twice at once.

Every process is a real `manage.py` child on a SQLite file shared by all of
them: the local org (`tr_emulator`, slowed down so that a fetch takes a few
seconds), the fetch, the import. A child killed half-way leaves its lock
and its Import Run behind; the next run must take the stale lock over,
never import a half-written folder, and find the database as it was before
the killed run started.
"""

import json
import re
import signal

import pytest

from tests.faults import folders
from tests.faults.conftest import CONSUMER_KEY, PAGE_SIZE, USERNAME
from tests.faults.processes import (
    catalogue,
    child_env,
    children,
    migrated_template,
    new_workdir,
    query,
    read_url,
    wait_for,
)
from tests.faults.reliability import fault

SAVE_CONNECTION = """
import json, sys
import django
django.setup()
from activity_finder.models import Location
from tests.faults.conftest import connection_data
from traction_rec.forms import ConnectionSettingsForm
from traction_rec.models import ConnectionSettings

url, key_path, cert_path, org_dir = sys.argv[1:5]
data = connection_data(url, open(key_path).read(), open(cert_path).read())
form = ConnectionSettingsForm(data=data, instance=ConnectionSettings.load())
assert form.is_valid(), form.errors
form.save()
records = json.load(open(org_dir + "/TREX1__Location__c.json"))["records"]
for record in records:
    Location.objects.get_or_create(title=record["Name"])
"""

ADD_BRANCH = """
import sys
import django
django.setup()
from activity_finder.models import Location

Location.objects.create(title=sys.argv[1])
"""

SLOW_IMPORT = """
import sys, time
import django
django.setup()
from django.core.management import call_command
from traction_rec_import import mapping

original = mapping.map_session


def slow_map_session(*args, **kwargs):
    # A slow mapping hook: the import holds its transaction open for seconds.
    time.sleep(0.02)
    return original(*args, **kwargs)


mapping.map_session = slow_map_session
call_command("tr_import", "--sync", "--dir", sys.argv[1])
"""


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    return migrated_template(tmp_path_factory.mktemp("faults-template-db"))


def fetch_folders(workdir):
    root = workdir / "data" / "fetch"
    if not root.is_dir():
        return [], []
    entries = sorted(root.iterdir())
    temporary = [entry.name for entry in entries if entry.name.startswith(".tmp-")]
    published = [entry.name for entry in entries if not entry.name.startswith(".")]
    return temporary, published


def runs(database, kind):
    return query(
        database,
        "SELECT id, status, error_code, options FROM traction_rec_import_importrun "
        "WHERE kind = ? ORDER BY id",
        (kind,),
    )


def locks(database):
    return query(database, "SELECT name, owner_pid FROM traction_rec_import_lock")


@pytest.fixture
def local_org(tmp_path, template_db, small_org_dir, key_pair):
    """A workdir with the connection saved, and a slow local org in a child."""
    workdir = new_workdir(template_db, tmp_path / "work")
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_path.write_text(key_pair[0])
    cert_path.write_text(key_pair[1])
    env = child_env(workdir)
    with children() as procs:
        emulator = procs.start(
            [
                "tr_emulator",
                "--org", str(small_org_dir),
                "--port", "0",
                "--cert", str(cert_path),
                "--consumer-key", CONSUMER_KEY,
                "--username", USERNAME,
                "--page-size", str(PAGE_SIZE),
                "--fault", "slow:seconds=0.08",
            ],
            env,
        )
        url = read_url(emulator)
        code, _, stderr = procs.run(
            ["-c", SAVE_CONNECTION, url, str(key_path), str(cert_path),
             str(small_org_dir)],
            env,
            python=True,
        )
        assert code == 0, stderr
        yield {"workdir": workdir, "env": env, "procs": procs,
               "db": workdir / "faults.sqlite3"}


@fault(
    "SIGKILL of `tr_fetch` between pages (slow org in another process)",
    expected="no published folder; an import run meanwhile finds nothing to import; "
    "the next fetch takes the stale lock over, marks the killed run failed and "
    "publishes a complete folder",
)
def test_a_fetch_killed_half_way_publishes_nothing(local_org, observed):
    workdir, env, procs, db = (
        local_org[key] for key in ("workdir", "env", "procs", "db")
    )

    fetch = procs.start(["tr_fetch"], env)
    wait_for(
        lambda: any(
            (workdir / "data" / "fetch" / name / "classes.json").exists()
            for name in fetch_folders(workdir)[0]
        ),
        what="the fetch to reach its second query",
    )
    fetch.send_signal(signal.SIGKILL)
    fetch.wait(timeout=10)
    after_kill = {
        "folders": fetch_folders(workdir),
        "locks": locks(db),
        "runs": runs(db, "fetch"),
    }
    import_code, _, import_err = procs.run(["tr_import", "--sync"], env)
    code, stdout, stderr = procs.run(["tr_fetch"], env)
    temporary, published = fetch_folders(workdir)
    manifest = json.loads(
        (workdir / "data" / "fetch" / published[0] / "manifest.json").read_text()
    ) if published else {}

    observed(
        f"after SIGKILL: {len(after_kill['folders'][0])} .tmp folder, "
        f"{len(after_kill['folders'][1])} published, lock {after_kill['locks']}; "
        f"import meanwhile exit {import_code}; next fetch exit {code}, manifest "
        f"{manifest.get('status')}, killed run {runs(db, 'fetch')[0][1:3]}"
    )
    assert after_kill["folders"][1] == []
    assert len(after_kill["folders"][0]) == 1
    assert [name for name, _ in after_kill["locks"]] == ["fetch"]
    assert [status for _, status, _, _ in after_kill["runs"]] == ["running"]
    assert import_code != 0
    assert "There is no published fetch folder to import" in import_err
    assert code == 0, stderr
    assert "took over stale lock" in stderr
    assert len(published) == 1 and manifest["status"] == "complete"
    assert [row[1:3] for row in runs(db, "fetch")] == [
        ("failed", "INTERRUPTED"),
        ("complete", ""),
    ]
    assert locks(db) == []
    assert catalogue(db)["activity_finder_session"] == []


@pytest.fixture(scope="module")
def killed_import(tmp_path_factory, template_db):
    """Import a folder of 150 sessions, then kill a slow re-import of it with
    every session renamed, and run that import again."""
    workdir = new_workdir(template_db, tmp_path_factory.mktemp("killed-import"))
    env = child_env(workdir)
    db = workdir / "faults.sqlite3"
    files = folders.catalogue_files(150)
    with children() as procs:
        code, _, stderr = procs.run(
            ["-c", ADD_BRANCH, folders.LOCATION_NAME], env, python=True
        )
        assert code == 0, stderr
        first = folders.write_folder(workdir / "data", files, stamp="20261204T010000Z")
        code, _, stderr = procs.run(["tr_import", "--sync", "--dir", str(first)], env)
        assert code == 0, stderr
        before = catalogue(db)

        for row in files["sessions.json"]:
            row["Course_Option"]["Name"] = "Renamed before the kill"
        changed = folders.write_folder(workdir / "data", files)
        slow = procs.start(["-c", SLOW_IMPORT, str(changed)], env, python=True)
        wait_for(lambda: locks(db), what="the import to take its lock")
        wait_for(
            lambda: any(status == "running" for _, status, _, _ in runs(db, "import")),
            what="the import run to start",
        )
        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=10)
        after_kill = {"catalogue": catalogue(db), "locks": locks(db),
                      "runs": runs(db, "import")}

        code, stdout, stderr = procs.run(
            ["tr_import", "--sync", "--dir", str(changed)], env
        )
    return {
        "before": before,
        "after_kill": after_kill,
        "code": code,
        "stderr": stderr,
        "db": db,
    }


@fault(
    "SIGKILL of `tr_import` inside its transaction (a slow mapping hook)",
    expected="the catalogue exactly as before the killed run; the next import "
    "takes the stale lock over and imports the whole folder",
)
def test_an_import_killed_half_way_changes_nothing(killed_import, observed):
    db = killed_import["db"]
    titles = {row[0] for row in query(db, "SELECT title FROM activity_finder_session")}
    last = runs(db, "import")[-1]

    observed(
        f"catalogue unchanged after SIGKILL: "
        f"{killed_import['after_kill']['catalogue'] == killed_import['before']}; "
        f"lock left {killed_import['after_kill']['locks']}; next import exit "
        f"{killed_import['code']}, titles {sorted(titles)}"
    )
    assert killed_import["after_kill"]["catalogue"] == killed_import["before"]
    assert [name for name, _ in killed_import["after_kill"]["locks"]] == ["import"]
    assert killed_import["code"] == 0, killed_import["stderr"]
    assert last[1] == "complete"
    assert re.search(r"Took over a stale import lock held by [^:]+:\d+", last[3])
    assert titles == {"Renamed before the kill"}
    assert locks(db) == []
    orphans = query(
        db,
        "SELECT COUNT(*) FROM activity_finder_sessiontime t LEFT JOIN "
        "activity_finder_session s ON s.id = t.session_id WHERE s.id IS NULL",
    )
    assert orphans == [(0,)]


@fault(
    "the Import Run of an import killed half-way, after the next import",
    expected="marked failed as interrupted (as the fetch does), not left running",
)
def test_the_killed_import_run_is_not_left_running(killed_import, observed):
    statuses = [
        (status, code) for _, status, code, _ in runs(killed_import["db"], "import")
    ]

    observed(f"import runs {statuses}")
    assert statuses[1][0] == "failed", statuses


# Two at once


@fault(
    "two `tr_fetch` processes started together",
    expected="one fetches; the other exits non-zero at once, naming the lock, "
    "its holder and how to clear a dead one",
)
def test_two_fetches_at_once_one_reports_the_lock(local_org, observed):
    workdir, env, procs, db = (
        local_org[key] for key in ("workdir", "env", "procs", "db")
    )

    both = [procs.start(["tr_fetch"], env), procs.start(["tr_fetch"], env)]
    outcomes = [(process, *process.communicate(timeout=90)) for process in both]
    winners = [item for item in outcomes if item[0].returncode == 0]
    losers = [item for item in outcomes if item[0].returncode != 0]

    observed(
        f"exit codes {[item[0].returncode for item in outcomes]}; refused: "
        f"{losers[0][2].strip().splitlines()[-1] if losers else 'none'}"
    )
    assert (len(winners), len(losers)) == (1, 1), [item[2] for item in outcomes]
    first, stderr = winners[0][0], losers[0][2]
    assert re.search(
        r"CommandError: Another run holds the fetch lock since \d{4}-\d\d-\d\d "
        rf"\d\d:\d\d:\d\d \w+ \([^,]+, process {first.pid}\)\. Wait for it to "
        r"finish, or clear a lock you know is dead with `manage.py tr_reset_lock "
        r"fetch`\.",
        stderr,
    ), stderr
    assert len(fetch_folders(workdir)[1]) == 1


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def import_workdir(request, tmp_path, template_db):
    """(workdir, env, read_locks) on a SQLite file or a PostgreSQL database of
    its own (test_faults_proc_<pid>, dropped afterwards)."""
    workdir = new_workdir(template_db, tmp_path / "work")
    if request.param == "sqlite":
        db = workdir / "faults.sqlite3"
        yield workdir, child_env(workdir), lambda: locks(db)
        return

    import os

    import psycopg

    name = f"test_faults_proc_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432; none answered")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"

    def read_locks():
        with psycopg.connect(url) as connection:
            try:
                return connection.execute(
                    "SELECT name, owner_pid FROM traction_rec_import_lock"
                ).fetchall()
            except psycopg.errors.UndefinedTable:
                return []

    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
        try:
            django_url = url.replace("postgresql", "postgres", 1)
            env = child_env(workdir, DATABASE_URL=django_url)
            with children() as procs:
                code, _, stderr = procs.run(["migrate", "--noinput", "-v0"], env,
                                            timeout=180)
            assert code == 0, stderr
            yield workdir, env, read_locks
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize(
    "import_workdir",
    [
        pytest.param(
            "sqlite",
            marks=fault(
                "two `tr_import` processes started together (the first one slow), "
                "on the embedded SQLite database",
                expected="one imports; the other exits non-zero at once naming the "
                "lock, without waiting for the first",
            ),
            id="sqlite",
        ),
        pytest.param(
            "postgresql",
            marks=fault(
                "two `tr_import` processes started together (the first one slow), "
                "on PostgreSQL",
                expected="one imports; the other exits non-zero at once naming the "
                "lock, without waiting for the first",
            ),
            id="postgresql",
        ),
    ],
    indirect=True,
)
def test_two_imports_at_once_one_reports_the_lock(import_workdir, observed):
    import time

    workdir, env, read_locks = import_workdir
    folder = folders.write_folder(workdir / "data", folders.catalogue_files(150))
    with children() as procs:
        code, _, stderr = procs.run(
            ["-c", ADD_BRANCH, folders.LOCATION_NAME], env, python=True
        )
        assert code == 0, stderr

        first = procs.start(["-c", SLOW_IMPORT, str(folder)], env, python=True)
        wait_for(read_locks, what="the first import to take its lock")
        started = time.monotonic()
        code, _, stderr = procs.run(["tr_import", "--sync", "--dir", str(folder)], env)
        waited = time.monotonic() - started
        still_running = first.poll() is None
        first.communicate(timeout=90)

    observed(
        f"first exit {first.returncode}; second exit {code} after {waited:.1f} s "
        f"(first still running then: {still_running}): "
        f"{stderr.strip().splitlines()[-1] if stderr.strip() else ''}"
    )
    assert first.returncode == 0
    assert code != 0
    assert "Another run holds the import lock since" in stderr, stderr
    assert still_running
