"""The quick availability sync: fresh spots and wait lists between full imports.

It sends the registry's `availability` query (only the availability and
wait-list fields of the same options the fetch reads) and updates the
sessions the last import created, with the same rules as the import
(mapping.map_availability). Options not imported yet are left for the next
full import. It holds the import lock, so it never overlaps an import.

The availability query also returns Available; the quick sync leaves
`published` to the full import (it only refreshes spots and wait lists).
"""

import logging
import os
import socket
import time

from django.db import transaction
from django.utils import timezone

from activity_finder import cache
from activity_finder.models import Session
from traction_rec_import import locks, mapping
from traction_rec_import.importer import (
    ImportResult,
    close_interrupted_runs,
    new_counts,
)
from traction_rec_import.models import ImportRun, SkippedRecord

logger = logging.getLogger(__name__)

FIELDS = [
    "availability",
    "unlimited_capacity",
    "wait_list_capacity",
    "wait_list_unlimited",
]
UPDATE_BATCH = 500


def _client():
    from traction_rec.client import TractionRecClient

    return TractionRecClient.from_settings()


def _soql():
    from traction_rec import queries
    from traction_rec_import.fetch import mapped_location_ids

    return queries.build("availability", location_ids=mapped_location_ids())


def apply(records, *, now=None):
    """Update sessions from simplified availability records.

    Returns (counts, skips, unknown): counts for "session", skips as
    (model, sf_id, reason), and how many options are not imported yet.
    """
    now = now or timezone.now()
    counts = new_counts()["session"]
    skips = []
    existing = {
        sf_id: (pk, tuple(values))
        for sf_id, pk, *values in Session.objects.filter(sf_id__isnull=False)
        .values_list("sf_id", "pk", *FIELDS)
        .iterator(chunk_size=5000)
    }
    seen = set()
    changed = []
    unknown = 0

    for record in records:
        option = record.get("Course_Option")
        if not isinstance(option, dict):
            option = record
        sf_id = mapping.ref_id(option.get("Id"))
        if sf_id is None or sf_id in seen:
            continue
        seen.add(sf_id)
        if sf_id not in existing:
            unknown += 1
            continue
        try:
            values = mapping.map_availability(option)
        except mapping.MappingError as exc:
            counts["skipped"] += 1
            skips.append(("session", sf_id, str(exc)))
            continue
        pk, before = existing[sf_id]
        if tuple(values[name] for name in FIELDS) == before:
            counts["unchanged"] += 1
            continue
        changed.append(Session(pk=pk, updated_at=now, **values))
        counts["updated"] += 1

    Session.objects.bulk_update(
        changed, FIELDS + ["updated_at"], batch_size=UPDATE_BATCH
    )
    return counts, skips, unknown


def run_quick_sync(*, task_id="", client=None):
    """Query Traction Rec for availability and update existing sessions."""
    from traction_rec.errors import TractionRecError
    from traction_rec.records import simplify

    started = time.monotonic()
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.QUICK_SYNC,
        host=socket.gethostname(),
        pid=os.getpid(),
        task_id=task_id or "",
    )

    def fail(status, code, message, hint=""):
        run.status = status
        run.error_code = code
        run.error_message = message
        run.hint = hint
        run.finished_at = timezone.now()
        run.save()

    notes = []
    try:
        with locks.hold(locks.IMPORT, task_id=task_id) as held:
            close_interrupted_runs(run)
            if held.took_over:
                notes.append(f"Took over a stale import lock held by {held.took_over}.")
            client = client or _client()
            # Read everything before writing: no write transaction stays open
            # while Traction Rec answers. The records are a few fields each.
            records = [simplify(record) for record in client.query(_soql())]
            with transaction.atomic():
                counts, skips, unknown = apply(records)
    except locks.LockHeld as exc:
        fail(ImportRun.Status.SKIPPED, "lock_held", str(exc))
        raise
    except TractionRecError as exc:
        fail(
            ImportRun.Status.FAILED,
            exc.error_code or type(exc).__name__,
            f"The quick availability sync changed nothing: {exc.message}",
            exc.hint,
        )
        raise
    except Exception as exc:
        logger.exception("quick sync run=%s failed", run.pk)
        fail(
            ImportRun.Status.FAILED,
            type(exc).__name__,
            f"The quick availability sync changed nothing: {exc}",
        )
        raise

    if unknown:
        notes.append(
            f"{unknown} options are not imported yet; the next full import adds them."
        )
    SkippedRecord.objects.bulk_create(
        [SkippedRecord(run=run, model=m, sf_id=s, reason=r) for m, s, r in skips]
    )
    all_counts = {**new_counts(), "session": counts}
    run.status = ImportRun.Status.COMPLETE
    run.counts = all_counts
    run.options = {"notes": notes} if notes else {}
    run.finished_at = timezone.now()
    run.save()
    if counts["updated"]:
        cache.invalidate()
    result = ImportResult(
        run_id=run.pk,
        counts=all_counts,
        complete=True,
        notes=notes,
        skipped=skips,
        duration=time.monotonic() - started,
    )
    logger.info(
        "quick sync run=%s updated=%s unchanged=%s unknown=%s",
        run.pk,
        counts["updated"],
        counts["unchanged"],
        unknown,
    )
    return result


def summary(result):
    counts = result.counts["session"]
    return (
        f"Quick availability sync #{result.run_id} in {result.duration:.1f} s: "
        f"{counts['updated']} sessions updated, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped."
    )
