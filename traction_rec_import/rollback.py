"""Undo the import: remove every row the import created, and only those.

A row counts as the import's when created_by_import is set; rows an editor
made stay, and so does an imported parent that a hand-made row hangs under
(deleting it would cascade into the editor's work): such parents are kept and
counted. The removal runs in one transaction under the import lock, so it
never overlaps an import.
"""

import logging
import os
import socket

from django.db import transaction
from django.utils import timezone

from activity_finder import cache
from activity_finder.models import Activity, Class, Program, ProgramSubcategory, Session
from traction_rec_import import locks
from traction_rec_import.importer import close_interrupted_runs
from traction_rec_import.models import ImportRun

logger = logging.getLogger(__name__)


def plan_and_remove():
    """Delete bottom-up; return ({model: removed}, {model: kept})."""
    removed, kept = {}, {}

    sessions = Session.objects.filter(created_by_import=True)
    removed["session"] = sessions.count()
    sessions.delete()
    kept["session"] = 0

    steps = (
        ("class", Class, "sessions"),
        ("activity", Activity, "classes"),
        ("subcategory", ProgramSubcategory, "activities"),
        ("program", Program, "subcategories"),
    )
    for name, model, children in steps:
        created = model.objects.filter(created_by_import=True)
        # What is left below is hand-made (or kept): a parent with children
        # left stays.
        removable = created.filter(**{f"{children}__isnull": True})
        total = created.count()
        removed[name] = removable.count()
        kept[name] = total - removed[name]
        removable.delete()
    return removed, kept


def run_rollback(*, dry_run=False, task_id=""):
    """Remove what the import created; returns {"removed": {...}, "kept": {...},
    "dry_run": bool, "run_id": int}."""
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.ROLLBACK,
        options={"dry_run": dry_run},
        host=socket.gethostname(),
        pid=os.getpid(),
        task_id=task_id or "",
    )
    try:
        with locks.hold(locks.IMPORT, task_id=task_id):
            close_interrupted_runs(run)
            with transaction.atomic():
                removed, kept = plan_and_remove()
                if dry_run:
                    transaction.set_rollback(True)
    except locks.LockHeld as exc:
        run.status = ImportRun.Status.SKIPPED
        run.error_code = "lock_held"
        run.error_message = str(exc)
        run.finished_at = timezone.now()
        run.save()
        raise
    except Exception as exc:
        run.status = ImportRun.Status.FAILED
        run.error_code = type(exc).__name__
        run.error_message = f"The rollback failed and removed nothing: {exc}"
        run.finished_at = timezone.now()
        run.save()
        raise

    counts = {
        name: {"removed": removed[name], "kept": kept[name]} for name in removed
    }
    run.status = ImportRun.Status.COMPLETE
    run.counts = counts
    run.finished_at = timezone.now()
    run.save()
    if not dry_run and any(removed.values()):
        cache.invalidate()
    logger.info("rollback run=%s dry_run=%s removed=%s", run.pk, dry_run, removed)
    return {"run_id": run.pk, "dry_run": dry_run, "removed": removed, "kept": kept}
