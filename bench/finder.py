"""Activity finder: latency and throughput of a fixed search mix, beside a
trivial view served by the same gunicorn (2 workers on 127.0.0.1), with 1 and
4 concurrent clients, on SQLite and on PostgreSQL."""

import http.client
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import databases
from bench.machine import BASE_DIR
from bench.process import ChildFailed, child_env, run_child
from bench.stats import median, percentile, ratio

logger = logging.getLogger(__name__)

CLIENTS = (1, 4)
DEFAULT_REQUESTS = 60
ROUND_TIME_LIMIT = 8.0


def mix(params):
    """The fixed search mix: (name, path). Ids come from the imported data."""
    return [
        ("no_filter", "/activities/"),
        ("age", "/activities/?" + urlencode({"ages": params["age"]})),
        ("day_and_time", "/activities/?" + urlencode({"days": 1, "times": 3})),
        (
            "location_and_category",
            "/activities/?"
            + urlencode({"locations": params["location"], "categories": params["category"]}),
        ),
        ("keywords", "/activities/?" + urlencode({"keywords": params["keywords"]})),
        (
            "json_api",
            "/af/get-data?"
            + urlencode({"ages": params["age"], "days": 1, "locations": params["location"]}),
        ),
    ]


class Server:
    """gunicorn with 2 sync workers on a socket bound here to 127.0.0.1:0 and
    handed over by file descriptor, so no other process can take the port."""

    def __init__(self, env, log_path):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        fd = self.listener.fileno()
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--workers", "2", "--bind", f"fd://{fd}",
                "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning",
            ],
            env=env, cwd=BASE_DIR, pass_fds=(fd,),
            stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}.")
            try:
                status, _, _ = get(self.port, "/bench/trivial", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on 127.0.0.1:{self.port} in {timeout} s.")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.listener.close()
        self.log.close()


def get(port, path, timeout=30):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - started, len(body)
    finally:
        connection.close()


def load(port, paths, *, clients, count, time_limit):
    """`count` requests over `paths` in turn from `clients` threads; returns
    (latencies by path name, statuses that were not 200, elapsed seconds)."""
    lock = threading.Lock()
    state = {"next": 0}
    latencies = {name: [] for name, _ in paths}
    failures = []
    deadline = time.monotonic() + time_limit

    def client():
        while time.monotonic() < deadline:
            with lock:
                index = state["next"]
                if index >= count:
                    return
                state["next"] += 1
            name, path = paths[index % len(paths)]
            try:
                status, seconds, _ = get(port, path)
            except OSError as exc:
                failures.append((name, type(exc).__name__))
                continue
            if status != 200:
                failures.append((name, status))
                continue
            with lock:
                latencies[name].append(seconds)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 60)
    return latencies, failures, time.perf_counter() - started


def _round_figures(latencies, elapsed):
    every = [s for values in latencies.values() for s in values]
    if not every:
        return None
    return {
        "p50_ms": percentile(every, 50) * 1000,
        "p95_ms": percentile(every, 95) * 1000,
        "p99_ms": percentile(every, 99) * 1000,
        "rps": len(every) / elapsed,
        "requests": len(every),
        "by_query_p95_ms": {
            name: percentile(values, 95) * 1000 for name, values in latencies.items() if values
        },
    }


def _median_figures(rounds):
    rounds = [r for r in rounds if r]
    if not rounds:
        return {"error": "no request succeeded"}
    figures = {
        key: round(median([r[key] for r in rounds]), 2)
        for key in ("p50_ms", "p95_ms", "p99_ms", "rps")
    }
    figures["requests"] = sum(r["requests"] for r in rounds)
    figures["rounds"] = len(rounds)
    names = rounds[0]["by_query_p95_ms"]
    figures["by_query_p95_ms"] = {
        name: round(
            median([r["by_query_p95_ms"][name] for r in rounds if name in r["by_query_p95_ms"]]),
            2,
        )
        for name in names
    }
    return figures


def measure_server(env, workdir, *, rounds, requests_per_round, deadline, notes, label):
    params, _, _ = run_child("finder_params", {}, env=env, timeout=120)
    paths = mix(params)
    trivial = [("trivial", "/bench/trivial")]
    server = Server(env, workdir / "gunicorn.log")
    figures = {"params": params, "mix": [path for _, path in paths]}
    try:
        server.wait_ready()
        # Warm-up: every worker imports the views and compiles the templates.
        load(server.port, paths, clients=2, count=len(paths) * 2, time_limit=30)
        rounds_left = len(CLIENTS) * 2 * rounds
        for clients in CLIENTS:
            for view, view_paths in (("mix", paths), ("trivial", trivial)):
                per_round = []
                failures = []
                for _ in range(rounds):
                    left = deadline - time.monotonic()
                    if left <= 2:
                        raise TimeoutError("The finder benchmark ran out of its time limit.")
                    latencies, failed, elapsed = load(
                        server.port, view_paths, clients=clients,
                        count=requests_per_round,
                        time_limit=min(ROUND_TIME_LIMIT, left / rounds_left),
                    )
                    rounds_left -= 1
                    failures += failed
                    per_round.append(_round_figures(latencies, elapsed))
                result = _median_figures(per_round)
                result["failures"] = len(failures)
                if failures:
                    result["failure_sample"] = [list(map(str, f)) for f in failures[:5]]
                    notes.append(
                        f"finder {label}, {view}, {clients} clients: {len(failures)} "
                        f"requests failed (first: {result['failure_sample'][0]}); their "
                        f"latencies are not in the figures. See the gunicorn log."
                    )
                figures[f"{view}_c{clients}"] = result
                logger.info(
                    "finder %s, %s clients: p95 %s ms, %s rps, %s failures",
                    view, clients, result.get("p95_ms"), result.get("rps"), len(failures),
                )
            mix_p95 = figures[f"mix_c{clients}"].get("p95_ms")
            trivial_p95 = figures[f"trivial_c{clients}"].get("p95_ms")
            figures[f"p95_over_trivial_c{clients}"] = (
                ratio(mix_p95, trivial_p95) if mix_p95 and trivial_p95 else None
            )
    finally:
        server.stop()
    return figures


def measure(org_dir, folder, sqlite_db, workdir, *, rounds, requests_per_round, timeout,
            notes, postgres=True):
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    count = requests_per_round or DEFAULT_REQUESTS
    figures = {}

    sqlite_env = child_env(
        DATABASE_URL=databases.sqlite_url(sqlite_db),
        VAR_DIR=workdir / "var",
        TRACTION_REC_DATA_DIR=workdir / "data",
        DJANGO_SETTINGS_MODULE="bench.settings",
    )
    # SQLite first, with a bit under half the time; PostgreSQL also migrates
    # and imports before it is measured.
    label = Path(org_dir).parent.name
    figures["sqlite"] = measure_server(
        sqlite_env, workdir, rounds=rounds, requests_per_round=count,
        deadline=time.monotonic() + timeout * 0.42, notes=notes, label=f"{label} sqlite",
    )

    if not postgres:
        return figures
    if not databases.postgres_available():
        notes.append(
            f"PostgreSQL at {databases.POSTGRES_SERVER} was not reachable: the "
            "finder was measured on SQLite only."
        )
        return figures
    try:
        pg_env = child_env(
            DATABASE_URL=databases.create_postgres(),
            VAR_DIR=workdir / "var",
            TRACTION_REC_DATA_DIR=workdir / "data",
            DJANGO_SETTINGS_MODULE="bench.settings",
        )
        run_child("setup", {"org_dir": str(org_dir)}, env=pg_env, timeout=300)
        copy = workdir / "pg-source"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(folder, copy)
        imported, rss, _ = run_child(
            "import_ours", {"directory": str(copy)}, env=pg_env,
            timeout=max(60.0, deadline - time.monotonic()),
        )
        result = measure_server(
            pg_env, workdir, rounds=rounds, requests_per_round=count, deadline=deadline,
            notes=notes, label=f"{label} postgresql",
        )
        result["import_cold_seconds"] = round(imported["seconds"], 3)
        result["import_peak_rss_mb"] = round(rss / (1024 * 1024), 1)
        figures["postgresql"] = result
    except (ChildFailed, RuntimeError, TimeoutError) as exc:
        notes.append(f"The PostgreSQL finder run failed: {str(exc).splitlines()[0]}")
        logger.warning("PostgreSQL finder run failed: %s", exc)
    finally:
        databases.drop_postgres()
    return figures
