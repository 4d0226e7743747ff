"""Fetch: our `run_fetch` beside a plain download loop and simple-salesforce.

All three run in child processes against the same local org (one server in
this process, on 127.0.0.1), over the same SOQL, in interleaved rounds so
that machine noise falls on each of them alike.
"""

import logging
import shutil
import time
from pathlib import Path

from bench import databases, orgs
from bench.process import child_env, run_child
from bench.stats import median, ratio

logger = logging.getLogger(__name__)

MB = 1024 * 1024


def _query_pages(org, since):
    """Query and query-more requests the org served after index `since`."""
    return sum(1 for entry in list(org.requests)[since:] if "/query" in _path(entry))


def _path(entry):
    if isinstance(entry, (tuple, list)):
        return entry[1]
    return getattr(entry, "path", "")


def _summary(runs):
    return {
        "seconds": round(median([r["seconds"] for r in runs]), 3),
        "cpu_seconds": round(median([r["cpu_seconds"] for r in runs]), 3),
        "peak_rss_mb": round(median([r["peak_rss"] for r in runs]) / MB, 1),
        "pages": runs[-1]["pages"],
        "records": runs[-1].get("records"),
        "runs": [round(r["seconds"], 3) for r in runs],
    }


def _one(kind, org, baseline, env, workdir, deadline):
    since = len(org.requests)
    if kind == "floor":
        result, rss, _ = run_child("fetch_floor", baseline, env=env, timeout=_left(deadline))
    elif kind == "peer":
        out_dir = workdir / "peer"
        result, rss, _ = run_child(
            "fetch_peer", {**baseline, "out_dir": str(out_dir)}, env=env, timeout=_left(deadline)
        )
        shutil.rmtree(out_dir, ignore_errors=True)
    else:
        result, rss, _ = run_child("fetch_ours", {}, env=env, timeout=_left(deadline))
        if not result["complete"]:
            raise RuntimeError(f"Our fetch did not complete: {result['files']}")
        result["records"] = sum((entry.get("records") or 0) for entry in result["files"].values())
    result["pages"] = _query_pages(org, since)
    result["peak_rss"] = rss
    return result


def measure(org_dir, workdir, *, migrated, key_path, cert_path, repetitions, timeout, notes):
    """Return the fetch figures for one org and the folder of our last fetch
    (kept for the import benchmark)."""
    org_dir, workdir = Path(org_dir), Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    databases.copy_sqlite(migrated, workdir / "fetch.sqlite3")
    env = child_env(
        DATABASE_URL=databases.sqlite_url(workdir / "fetch.sqlite3"),
        VAR_DIR=workdir / "var",
        TRACTION_REC_DATA_DIR=data_dir,
    )
    deadline = time.monotonic() + timeout
    runs = {"ours": [], "floor": [], "peer": []}
    kept = None

    with orgs.serving(org_dir, cert_path) as org:
        run_child(
            "setup",
            {
                "org_dir": str(org_dir),
                "migrate": False,
                "org_url": org.url,
                "consumer_key": orgs.CONSUMER_KEY,
                "username": orgs.USERNAME,
                "key_path": str(key_path),
                "cert_path": str(cert_path),
            },
            env=env,
            timeout=120,
        )
        soql, _, _ = run_child("soql", {}, env=env, timeout=60)
        token_path = orgs.access_token(org.url, key_path, workdir / "token")
        baseline = {"url": org.url, "token_path": str(token_path), "soql": soql["soql"]}
        # A discarded warm-up, so the first measured run pays no one-off cost.
        run_child("fetch_floor", baseline, env=env, timeout=_left(deadline))

        for round_number in range(repetitions):
            round_started = time.monotonic()
            for kind in ("floor", "peer", "ours"):
                runs[kind].append(_one(kind, org, baseline, env, workdir, deadline))
                if kind == "ours":
                    if kept:
                        shutil.rmtree(kept, ignore_errors=True)
                    kept = Path(runs[kind][-1]["folder"])
                logger.info(
                    "fetch %s round %s: %.2f s, %.0f MB, %s pages", kind, round_number + 1,
                    runs[kind][-1]["seconds"], runs[kind][-1]["peak_rss"] / MB,
                    runs[kind][-1]["pages"],
                )
            last_round = time.monotonic() - round_started
            if round_number + 1 < repetitions and deadline - time.monotonic() < last_round * 1.3:
                notes.append(
                    f"fetch at {org_dir.parent.name}: stopped after {round_number + 1} of "
                    f"{repetitions} rounds at the time limit."
                )
                break

    figures = {kind: _summary(kind_runs) for kind, kind_runs in runs.items()}
    figures["ours"]["files"] = runs["ours"][-1]["files"]
    figures["ratios"] = {
        "ours_over_floor": ratio(figures["ours"]["seconds"], figures["floor"]["seconds"]),
        "ours_over_peer": ratio(figures["ours"]["seconds"], figures["peer"]["seconds"]),
        "cpu_ours_over_floor": ratio(
            figures["ours"]["cpu_seconds"], figures["floor"]["cpu_seconds"]
        ),
        "cpu_ours_over_peer": ratio(
            figures["ours"]["cpu_seconds"], figures["peer"]["cpu_seconds"]
        ),
    }
    return figures, kept


def _left(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("The fetch benchmark ran out of its time limit.")
    return left
