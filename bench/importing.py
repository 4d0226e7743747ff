"""Import: cold, unchanged re-run and a 1% change, beside the naive importer.

Each round starts from a copy of one migrated SQLite database that holds only
our locations (titled as the org's, so every session can be placed), and
imports a fresh copy of the fetch folder each time (an import moves its folder
to the backups).
"""

import hashlib
import json
import logging
import math
import shutil
import tempfile
import time
from pathlib import Path

from bench import databases
from bench.process import ChildFailed, child_env, run_child
from bench.stats import median, ratio

logger = logging.getLogger(__name__)

MB = 1024 * 1024
CHANGED_SHARE = 100  # every 100th session changes: 1%
# At 50,000 options a one-row-at-a-time import takes many minutes, more than
# the whole benchmark may. Above NAIVE_SESSIONS sessions it imports an even
# sample of the sessions (with their classes) instead, and its time is scaled
# by the share of sessions; the table says so. Past the time limit its rate so
# far is scaled the same way.
NAIVE_SESSIONS = 4000
NAIVE_TIME_LIMIT = 150.0


def _env(workdir, db):
    return child_env(
        DATABASE_URL=databases.sqlite_url(db),
        VAR_DIR=workdir / "var",
        TRACTION_REC_DATA_DIR=workdir / "data",
    )


def _fresh_folder(folder, workdir, name):
    target = workdir / "sources" / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(folder, target)
    return target


def change_one_percent(folder):
    """Change every 100th session the way a day in Traction Rec does (a
    registration, a renamed option) and keep the manifest's checksum true."""
    path = Path(folder) / "sessions.json"
    sessions = json.loads(path.read_text())
    changed = 0
    for index in range(0, len(sessions), CHANGED_SHARE):
        option = sessions[index].get("Course_Option") or {}
        option["Name"] = f"{option.get('Name') or 'Session'} (changed)"
        if isinstance(option.get("Total_Capacity_Available"), (int, float)):
            option["Total_Capacity_Available"] -= 1
        if isinstance(option.get("Registration_Total"), (int, float)):
            option["Registration_Total"] += 1
        changed += 1
    path.write_text(json.dumps(sessions))
    manifest_path = Path(folder) / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        entry = manifest.get("files", {}).get("sessions.json")
        if entry is not None:
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            manifest_path.write_text(json.dumps(manifest))
    return changed


def _session_counts(result):
    counts = result.get("counts") or {}
    return counts.get("session", counts.get("sessions"))


def measure(org_dir, folder, workdir, *, migrated, repetitions, naive, timeout, notes,
            profile=False):
    """Return (figures, path of a database holding the last import)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    template = workdir / "template.sqlite3"
    databases.copy_sqlite(migrated, template)
    run_child(
        "setup", {"org_dir": str(org_dir), "migrate": False},
        env=_env(workdir, template), timeout=180,
    )

    runs = {"cold": [], "unchanged": [], "changed": []}
    changed_folder = _fresh_folder(folder, workdir, "changed-template")
    changed_count = change_one_percent(changed_folder)
    db = None
    for round_number in range(repetitions):
        round_started = time.monotonic()
        db = workdir / f"import-{round_number}.sqlite3"
        databases.copy_sqlite(template, db)
        env = _env(workdir, db)
        for kind in ("cold", "unchanged", "changed"):
            source = changed_folder if kind == "changed" else folder
            copy = _fresh_folder(source, workdir, kind)
            result, rss, _ = run_child(
                "import_ours", {"directory": str(copy)}, env=env, timeout=_left(deadline)
            )
            if not result["complete"]:
                raise RuntimeError(f"Our {kind} import did not complete.")
            result["peak_rss"] = rss
            runs[kind].append(result)
            logger.info(
                "import %s round %s: %.2f s, %.0f MB", kind, round_number + 1,
                result["seconds"], rss / MB,
            )
        if round_number + 1 == repetitions:
            break
        # Leave the naive importer its share of the time.
        if deadline - time.monotonic() < (time.monotonic() - round_started) * 1.3 + 30:
            notes.append(
                f"import at {Path(org_dir).parent.name}: stopped after {round_number + 1} "
                f"of {repetitions} rounds at the time limit."
            )
            break
        databases.remove_sqlite(db)

    figures = {
        kind: {
            "seconds": round(median([r["seconds"] for r in kind_runs]), 3),
            "cpu_seconds": round(median([r["cpu_seconds"] for r in kind_runs]), 3),
            "peak_rss_mb": round(median([r["peak_rss"] for r in kind_runs]) / MB, 1),
            "runs": [round(r["seconds"], 3) for r in kind_runs],
            "sessions": _session_counts(kind_runs[-1]),
        }
        for kind, kind_runs in runs.items()
    }
    figures["changed"]["sessions_changed_in_source"] = changed_count
    figures["peak_rss_mb"] = max(figures[kind]["peak_rss_mb"] for kind in runs)

    if profile:
        figures["profile"] = _profile(template, folder, workdir, org_dir)
        logger.info("import profile written to %s", figures["profile"])

    if naive:
        figures["naive"] = _naive(template, folder, workdir, deadline)
        naive = figures["naive"]
        figures["ratios"] = {
            "naive_over_ours_cold": ratio(naive["seconds_for_all"], figures["cold"]["seconds"])
            if naive.get("seconds_for_all") else None,
            "cpu_naive_over_ours_cold": ratio(
                naive["cpu_seconds_for_all"], figures["cold"]["cpu_seconds"]
            ) if naive.get("cpu_seconds_for_all") else None,
        }
    return figures, db


def sample_folder(folder, target, every):
    """Write to `target` a copy of `folder` holding every `every`-th session
    and only the classes those sessions use; the manifest follows."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(folder, target)
    target = Path(target)
    sessions = json.loads((target / "sessions.json").read_text())[::every]
    courses = {
        ((s.get("Course_Session") or {}).get("Course") or {}).get("Id") for s in sessions
    }
    classes = [
        c for c in json.loads((target / "classes.json").read_text()) if c.get("Id") in courses
    ]
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else None
    for name, rows in (("sessions.json", sessions), ("classes.json", classes)):
        path = target / name
        path.write_text(json.dumps(rows))
        if manifest and name in manifest.get("files", {}):
            manifest["files"][name]["records"] = len(rows)
            manifest["files"][name]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    if manifest:
        manifest_path.write_text(json.dumps(manifest))
    return len(sessions)


def _naive(template, folder, workdir, deadline):
    """One run of the naive importer on a fresh database, on the whole folder
    or (when it is large) on an even sample of its sessions; see
    NAIVE_SESSIONS. The figure for the whole folder is scaled from it by the
    share of sessions, and says so."""
    db = workdir / "naive.sqlite3"
    databases.copy_sqlite(template, db)
    total_sessions = len(json.loads((Path(folder) / "sessions.json").read_text()))
    every = max(1, math.ceil(total_sessions / NAIVE_SESSIONS))
    copy = workdir / "sources" / "naive"
    if every > 1:
        sample_folder(folder, copy, every)
    else:
        copy = _fresh_folder(folder, workdir, "naive")
    limit = max(15.0, min(NAIVE_TIME_LIMIT, (deadline - time.monotonic()) * 0.8))
    try:
        result, rss, _ = run_child(
            "import_naive", {"directory": str(copy), "time_limit": limit},
            env=_env(workdir, db), timeout=limit + 120,
        )
    except ChildFailed as exc:
        logger.warning("the naive importer failed: %s", exc)
        return {"error": str(exc).strip().splitlines()[-1]}
    done = result["sessions_done"]
    seconds = result["seconds"]
    figures = {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(result["cpu_seconds"], 3),
        "sessions_done": done,
        "sessions_in_run": result["sessions_total"],
        "sessions_total": total_sessions,
        "sampled_every": every,
        "stopped_at_time_limit": done < result["sessions_total"],
        "peak_rss_mb": round(rss / MB, 1),
    }
    scale = total_sessions / done if done else None
    figures["scaled"] = bool(scale and scale != 1)
    figures["seconds_for_all"] = round(seconds * scale, 3) if scale else None
    figures["cpu_seconds_for_all"] = round(result["cpu_seconds"] * scale, 3) if scale else None
    return figures


def _profile(template, folder, workdir, org_dir):
    db = workdir / "profile.sqlite3"
    databases.copy_sqlite(template, db)
    copy = _fresh_folder(folder, workdir, "profile")
    # Outside the work folder, which is removed at the end of the run.
    out = Path(tempfile.gettempdir()) / f"bench-profile-import-{Path(org_dir).parent.name}.txt"
    run_child(
        "profile",
        {"task": "import_ours", "arguments": {"directory": str(copy)}, "out": str(out)},
        env=_env(workdir, db), timeout=600,
    )
    return str(out)


def _left(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("The import benchmark ran out of its time limit.")
    return left
