"""A real Celery worker process on the Redis at 127.0.0.1.

The worker runs in its own process, with its own settings read from the
environment, against a file SQLite database that this test also reads
(pytest-django's in-memory test database cannot be shared with another
process). The local org runs in a thread of this test, on 127.0.0.1. Each
test module run has its own queue, so a parallel suite on the same Redis
database never hands this worker someone else's task.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

from tests.conftest import redis_reachable
from tests.ops.conftest import CONSUMER_KEY, TODAY, USERNAME

BASE_DIR = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("OPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
RESULTS = os.environ.get("OPS_TEST_REDIS_RESULTS_URL", "redis://127.0.0.1:6379/7")
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
TASK_TIMEOUT = 120  # seconds, the first task also waits for the worker to start

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(300)]

SETUP_SCRIPT = """
import sys
from pathlib import Path

import django

django.setup()

from tests.ops.conftest import create_branches, save_connection

url, key_path, cert_path, org_dir = sys.argv[1:5]
save_connection(url, Path(key_path).read_text(), Path(cert_path).read_text())
create_branches(Path(org_dir))
"""


def run_manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def query(database, sql, *params):
    with sqlite3.connect(database, timeout=30) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sample_org_dir, key_pair):
    """Database, local org, saved connection and a running worker."""
    if not redis_reachable(BROKER):
        pytest.skip(f"needs Redis at {BROKER} for the real worker; none answered")
    from traction_rec.emulator.testing import running_org

    base = tmp_path_factory.mktemp("worker")
    database = base / "ops.sqlite3"
    queue = f"ops-test-{uuid.uuid4().hex[:8]}"
    key_pem, cert_pem = key_pair
    key_path, cert_path = base / "key.pem", base / "cert.pem"
    key_path.write_text(key_pem)
    key_path.chmod(0o600)
    cert_path.write_text(cert_pem)

    # Only what a process needs, then the worker's own settings: nothing of
    # this test process's environment (a DATABASE_URL) leaks in.
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEPLOYMENT="local",
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL=BROKER,
        CELERY_RESULT_BACKEND=RESULTS,
        CACHE_KEY_PREFIX=queue,
        CELERY_TASK_ALWAYS_EAGER="false",
        VAR_DIR=str(base / "var"),
        TRACTION_REC_DATA_DIR=str(base / "data"),
        LOG_LEVEL="INFO",
    )
    run_manage(env, "manage.py", "migrate", "--noinput")

    with running_org(
        sample_org_dir,
        certificate_pem=cert_pem,
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        today=TODAY,
        page_size=100,
    ) as org:
        run_manage(
            env, "-c", SETUP_SCRIPT, org.url, str(key_path), str(cert_path),
            str(sample_org_dir),
        )
        log_path = base / "worker.log"
        with open(log_path, "w") as log:
            # Threads, two of them: the lock test needs two tasks at once.
            worker = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "config", "worker",
                    "--pool=threads", "--concurrency=2", "-Q", queue,
                    f"--hostname={queue}@127.0.0.1", "--without-gossip",
                    "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = Celery("ops-test", broker=BROKER, backend=RESULTS)
        client.conf.update(task_serializer="json", accept_content=["json"])
        try:
            yield {
                "org": org,
                "database": database,
                "queue": queue,
                "client": client,
                "log": log_path,
                "worker": worker,
            }
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
            client.close()
            _forget_queue(queue)


def _forget_queue(queue):
    """Remove what this run left in its Redis databases: the queue's bindings,
    the cache entries under its prefix (the local org's tokens among them)."""
    import redis

    broker = redis.Redis.from_url(BROKER, socket_connect_timeout=2, socket_timeout=5)
    patterns = (
        f"{queue}:*",
        f"_kombu.binding.{queue}",
        f"_kombu.binding_permanent.{queue}",
    )
    for pattern in patterns:
        for key in broker.scan_iter(match=pattern, count=500):
            broker.delete(key)
    broker.close()


def send(stack, name, **kwargs):
    return stack["client"].send_task(
        f"traction_rec_import.tasks.{name}", kwargs=kwargs, queue=stack["queue"]
    )


def outcome(result):
    """The task's result, then its stored copy removed from Redis."""
    try:
        return result.get(timeout=TASK_TIMEOUT)
    finally:
        result.forget()


def test_a_worker_fetches_and_imports_the_local_org(stack):
    database = stack["database"]

    result = outcome(send(stack, "fetch_and_import", sync=True))

    runs = query(
        database,
        "SELECT id, kind, status, task_id FROM traction_rec_import_importrun "
        "ORDER BY id",
    )
    fetch_id, import_id = result["fetch"]["run_id"], result["import"]["run_id"]
    task_id = runs[0][3]
    assert result["status"] == "complete"
    assert runs == [
        (fetch_id, "fetch", "complete", task_id),
        (import_id, "import", "complete", task_id),
    ]
    assert query(database, "SELECT COUNT(*) FROM activity_finder_session") == [(294,)]
    assert query(database, "SELECT COUNT(*) FROM activity_finder_sessiontime") == [
        (294,)
    ]
    assert result["import"]["counts"]["session"]["created"] == 294
    # The worker logs one key=value line per event, never a record or a key.
    log = stack["log"].read_text()
    assert (
        f"logger=traction_rec_import.tasks pid={stack['worker'].pid} "
        f"task=traction_rec_import.tasks.fetch_and_import kind=import run={import_id} "
        "complete=True duration_ms="
    ) in log
    assert "PRIVATE KEY" not in log
    assert "ops-secret" not in log


def test_two_fetches_started_together_one_runs_and_one_reports_the_lock(stack):
    database = stack["database"]
    # Slow answers keep the first fetch holding its lock while the second starts.
    stack["org"].faults.add("slow", seconds=0.15)
    try:
        first, second = send(stack, "fetch"), send(stack, "fetch")
        results = [outcome(first), outcome(second)]
    finally:
        stack["org"].faults.clear()

    statuses = sorted(result["status"] for result in results)
    skipped = next(result for result in results if result["status"] == "skipped")
    ran = next(result for result in results if result["status"] == "complete")
    holder_task = first.id if ran is results[0] else second.id
    assert statuses == ["complete", "skipped"]
    assert skipped["detail"].startswith(
        "skipped: another run holds the fetch lock since "
    )
    assert skipped["detail"].endswith(
        f" ({socket.gethostname()}, process {stack['worker'].pid}, task {holder_task})."
    )
    recorded = query(
        database,
        "SELECT status, error_message FROM traction_rec_import_importrun "
        "WHERE id IN (?, ?) ORDER BY status",
        ran["run_id"],
        skipped["run_id"],
    )
    assert recorded == [("complete", ""), ("skipped", skipped["detail"])]
    assert query(database, "SELECT COUNT(*) FROM traction_rec_import_lock") == [(0,)]
