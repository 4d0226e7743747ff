"""Run the parts for each size and collect one result document."""

import datetime as dt
import logging
import shutil
import tempfile
import time
from pathlib import Path

from bench import databases, fetching, finder, importing, machine, orgs, targets
from bench.process import ChildFailed, child_env, run_child
from traction_rec.emulator.generator import write_org

logger = logging.getLogger(__name__)

PARTS = ("fetch", "import", "finder")


def run(*, parts=PARTS, sizes=(5000, 50000), repetitions=3, seed=1, keep=False,
        workdir=None, time_limit=840, finder_requests=None, profile=False, postgres=True):
    """Measure `parts` for each size; return the result document.

    The import needs a fetch folder and the finder an imported database, so a
    part that is not asked for still runs once, unmeasured, when a later part
    needs its output.
    """
    started = time.monotonic()
    deadline = started + time_limit
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="ymca-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = orgs.write_key_pair(root / "keys")
    document = {
        "format": 1,
        "machine": machine.describe(),
        "settings": {
            "sizes": list(sizes),
            "repetitions": repetitions,
            "seed": seed,
            "parts": list(parts),
        },
        "fetch": {},
        "import": {},
        "finder": {},
        "notes": [],
    }
    try:
        migrated = root / "migrated.sqlite3"
        run_child(
            "setup", {}, timeout=300,
            env=child_env(DATABASE_URL=databases.sqlite_url(migrated), VAR_DIR=root / "var"),
        )
        weights = [size**0.7 + 2000 for size in sizes]
        for number, size in enumerate(sizes):
            # Each size gets a share of the time left, larger sizes more.
            budget = (deadline - time.monotonic()) * weights[number] / sum(weights[number:])
            size_deadline = time.monotonic() + budget
            _measure_size(document, size, root, migrated, key_path, cert_path, parts=parts,
                          repetitions=repetitions, seed=seed, deadline=size_deadline,
                          finder_requests=finder_requests, profile=profile,
                          postgres=postgres)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    document["machine"]["load_average_at_end"] = machine.load_average()
    document["targets"] = targets.check(document)
    document["duration_seconds"] = round(time.monotonic() - started, 1)
    return document


def _measure_size(document, size, root, migrated, key_path, cert_path, *, parts, repetitions,
                  seed, deadline, finder_requests, profile, postgres):
    size_dir = root / f"options-{size}"
    org_dir = size_dir / "org"
    counts = write_org(org_dir, options=size, seed=seed, anchor_date=dt.date.today())
    logger.info("org of %s options: %s records", size, sum(counts.values()))
    key = str(size)
    notes = document["notes"]
    needs_import = "import" in parts or "finder" in parts
    # Time shares of the steps still to run; a step run only for a later
    # part's sake (one unmeasured round) gets a small one.
    steps = {
        "fetch": 0.3 if "fetch" in parts else 0.1,
        "import": (0.35 if "import" in parts else 0.1) if needs_import else 0,
        "finder": 0.35 if "finder" in parts else 0,
    }

    order = [name for name, weight in steps.items() if weight]

    def share(step):
        total = sum(steps[name] for name in order[order.index(step):])
        return max(30.0, (deadline - time.monotonic()) * steps[step] / total)

    try:
        figures, folder = fetching.measure(
            org_dir, size_dir / "fetch", migrated=migrated,
            key_path=key_path, cert_path=cert_path,
            repetitions=repetitions if "fetch" in parts else 1,
            timeout=share("fetch"), notes=notes,
        )
    except (ChildFailed, RuntimeError, TimeoutError) as exc:
        _failed(document, "fetch", key, exc)
        return
    if "fetch" in parts:
        figures["org_records"] = counts
        document["fetch"][key] = figures
    if not needs_import:
        return

    try:
        figures, ready_db = importing.measure(
            org_dir, folder, size_dir / "import", migrated=migrated,
            repetitions=repetitions if "import" in parts else 1,
            naive="import" in parts, timeout=share("import"), notes=notes,
            profile=profile,
        )
    except (ChildFailed, RuntimeError, TimeoutError) as exc:
        _failed(document, "import", key, exc)
        return
    if "import" in parts:
        document["import"][key] = figures
    if "finder" not in parts:
        return

    try:
        document["finder"][key] = finder.measure(
            org_dir, folder, ready_db, size_dir / "finder",
            rounds=repetitions, requests_per_round=finder_requests,
            timeout=share("finder"), notes=notes, postgres=postgres,
        )
    except (ChildFailed, RuntimeError, TimeoutError) as exc:
        _failed(document, "finder", key, exc)


def _failed(document, part, size, exc):
    message = str(exc).strip().splitlines()
    summary = message[0] + (f" ... {message[-1]}" if len(message) > 1 else "")
    document["notes"].append(f"{part} at {size} options failed: {summary}")
    logger.error("%s at %s options failed: %s", part, size, exc)
