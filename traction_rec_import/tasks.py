"""Celery tasks: the syncs that run on a schedule or from the admin buttons.

Each task is a thin wrapper over the service function its management command
calls, takes plain arguments, and ends in one of three ways:

- done: returns a dict with the status and the ids of the runs it recorded;
- skipped: another run holds the lock; returns "skipped: another run holds
  the ... lock since ...", recorded as a skipped Import Run, never queued
  behind the holder;
- failed: the Import Run shows the error and what to change, and the task
  raises. A failure that may pass (a timeout, a 503, the concurrent-request
  limit) is retried with exponential backoff up to MAX_RETRIES times; a
  permanent one (bad credentials, a malformed query, a disabled import)
  fails at once.

The service functions are imported when a task runs, not at import time, so
Celery and the admin load this module without pulling in the whole client.
"""

import logging
import os
import socket
import time

from celery import shared_task
from django.utils import timezone

from traction_rec.errors import TractionRecError
from traction_rec_import.locks import LockHeld
from traction_rec_import.models import ImportRun

logger = logging.getLogger(__name__)

MAX_RETRIES = 4
# Seconds: the n-th retry waits a random time up to RETRY_BACKOFF * 2**n,
# capped at RETRY_BACKOFF_MAX (30 s, 60 s, 120 s, 240 s at most).
RETRY_BACKOFF = 30
RETRY_BACKOFF_MAX = 900


class RetryableFailure(Exception):
    """A failure that may pass on its own; the task retries it with backoff.

    Raised for a TractionRecError whose `retryable` is True (TransientError,
    and the concurrent-request form of LimitError), which cannot be named as
    a class in `autoretry_for` because the flag lives on the instance.
    """

    def __init__(self, message, *, run_id=None):
        super().__init__(message)
        self.run_id = run_id


class RunFailed(Exception):
    """A permanent failure, recorded on the Import Run; retrying cannot help."""

    def __init__(self, message, *, run_id=None):
        super().__init__(message)
        self.run_id = run_id


TASK_OPTIONS = dict(
    bind=True,
    autoretry_for=(RetryableFailure,),
    retry_backoff=RETRY_BACKOFF,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)


def _permanent_errors():
    """The service errors that say "change something first", by class."""
    from traction_rec_import.backups import CleanUpError
    from traction_rec_import.fetch import FetchDisabled
    from traction_rec_import.importer import ImportDisabled, ImportRefused
    from traction_rec_import.sources import SourceError

    return (FetchDisabled, ImportDisabled, ImportRefused, SourceError, CleanUpError)


def _lock_message(exc):
    lock = exc.lock
    since = timezone.localtime(exc.since)
    owner = f"{lock.owner_host}, process {lock.owner_pid}"
    if lock.owner_task:
        owner += f", task {lock.owner_task}"
    return (
        f"skipped: another run holds the {lock.name} lock since "
        f"{since:%Y-%m-%d %H:%M:%S %Z} ({owner})."
    )


def _attempt_run(kind, task_id, attempt_started):
    """The run the service recorded for this attempt, if it got that far: the
    one with this task's id, else one this process started meanwhile without
    an id (backups.clean_up takes no task id)."""
    runs = ImportRun.objects.filter(kind=kind, started_at__gte=attempt_started)
    latest = ("-started_at", "-pk")
    if task_id:
        run = runs.filter(task_id=task_id).order_by(*latest).first()
        if run is not None:
            return run
    run = (
        runs.filter(task_id="", host=socket.gethostname(), pid=os.getpid())
        .order_by(*latest)
        .first()
    )
    if run is not None and task_id:
        run.task_id = task_id
        run.save(update_fields=["task_id"])
    return run


def _record(kind, task_id, attempt_started, status, *, code="", message="", hint=""):
    """Put the outcome on this attempt's run, creating the run if the service
    stopped before it recorded one (a held lock, a disabled fetch)."""
    now = timezone.now()
    run = _attempt_run(kind, task_id, attempt_started)
    if run is None:
        run = ImportRun(
            kind=kind,
            started_at=attempt_started,
            host=socket.gethostname(),
            pid=os.getpid(),
            task_id=task_id,
        )
    elif run.status not in (ImportRun.Status.RUNNING, status):
        # The service already recorded its own outcome; keep its words.
        return run
    run.status = status
    run.finished_at = run.finished_at or now
    run.error_code = run.error_code or code[:64]
    run.error_message = run.error_message or message
    run.hint = run.hint or hint
    run.save()
    return run


def _retry_hint(task, hint):
    left = task.max_retries - task.request.retries
    if left > 0:
        retry = f"The task retries by itself ({left} of {task.max_retries} tries left)."
    else:
        retry = f"The task gave up after {task.max_retries} retries."
    return f"{hint} {retry}".strip()


def _call(task, kind, service, **kwargs):
    """Run one service function for a task and turn its outcome into a result,
    a recorded skip, a retry or a recorded failure."""
    task_id = task.request.id or ""
    attempt_started = timezone.now()
    clock = time.monotonic()

    try:
        result = service(**kwargs)
    except LockHeld as exc:
        message = _lock_message(exc)
        run = _record(
            kind,
            task_id,
            attempt_started,
            ImportRun.Status.SKIPPED,
            code="lock_held",
            message=message,
        )
        logger.info(
            "task=%s kind=%s run=%s status=skipped lock=%s task_id=%s",
            task.name,
            kind,
            run.pk,
            exc.lock.name,
            task_id,
        )
        return None, {"status": "skipped", "run_id": run.pk, "detail": message}
    except TractionRecError as exc:
        run = _record(
            kind,
            task_id,
            attempt_started,
            ImportRun.Status.FAILED,
            code=exc.error_code or type(exc).__name__,
            message=exc.message,
            hint=exc.hint,
        )
        if exc.retryable:
            # Also on a run the service recorded itself: say what happens next.
            run.hint = _retry_hint(task, run.hint)
            run.save(update_fields=["hint"])
        logger.warning(
            "task=%s kind=%s run=%s status=failed error=%s code=%s retryable=%s "
            "retries=%s task_id=%s",
            task.name,
            kind,
            run.pk,
            type(exc).__name__,
            exc.error_code,
            exc.retryable,
            task.request.retries,
            task_id,
        )
        if exc.retryable:
            raise RetryableFailure(exc.describe(), run_id=run.pk) from exc
        raise RunFailed(exc.describe(), run_id=run.pk) from exc
    except _permanent_errors() as exc:
        run = _record(
            kind,
            task_id,
            attempt_started,
            ImportRun.Status.FAILED,
            code=type(exc).__name__,
            message=str(exc),
        )
        logger.warning(
            "task=%s kind=%s run=%s status=failed error=%s task_id=%s",
            task.name,
            kind,
            run.pk,
            type(exc).__name__,
            task_id,
        )
        raise RunFailed(str(exc), run_id=run.pk) from exc

    logger.info(
        "task=%s kind=%s run=%s complete=%s duration_ms=%d task_id=%s",
        task.name,
        kind,
        getattr(result, "run_id", None),
        getattr(result, "complete", None),
        (time.monotonic() - clock) * 1000,
        task_id,
    )
    return result, None


def _error_is_transient(error):
    """Whether a failed object of a fetch manifest may pass on a retry: the
    client's own `retryable` flag, which the manifest records. A manifest
    without it (written before the flag was recorded) is not retried."""
    return bool(error.get("retryable", False))


def _raise_failed_fetch(task, result, *, then=""):
    """A fetch published as failed (or stopped before it wrote anything):
    retry when every failure may pass, else fail at once; both name the
    failed files and keep the run's own error."""
    run = ImportRun.objects.filter(pk=result.run_id).first()
    files = ((run.manifest if run else {}) or {}).get("files") or {}
    errors = {
        name: entry.get("error") or {}
        for name, entry in sorted(files.items())
        if entry.get("status") != "complete"
    }
    if errors:
        listed = "; ".join(
            f"{name} ({error.get('code') or 'error'}: "
            f"{error.get('message') or 'no message'})"
            for name, error in errors.items()
        )
        transient = all(_error_is_transient(error) for error in errors.values())
    else:
        # No file was written: the client could not be made (settings).
        listed = run.error_message.rstrip(".") if run and run.error_message else ""
        listed = listed or "no details"
        transient = False
    message = f"Fetch run #{result.run_id} failed: {listed}."
    if then:
        message = f"{message} {then}"

    if transient and run is not None:
        run.hint = _retry_hint(task, run.hint)
        run.save(update_fields=["hint"])
    logger.warning(
        "task=%s kind=fetch run=%s status=failed files=%d retryable=%s retries=%s",
        task.name,
        result.run_id,
        len(errors),
        transient,
        task.request.retries,
    )
    if transient:
        raise RetryableFailure(message, run_id=result.run_id)
    hint = run.hint if run and run.hint else ""
    raise RunFailed(f"{message} {hint}".strip(), run_id=result.run_id)


def _fetch_result(result):
    return {
        "status": "complete" if result.complete else "failed",
        "run_id": result.run_id,
        "folder": str(result.folder) if result.folder else "",
        "complete": result.complete,
    }


def _import_result(result):
    return {
        "status": "complete" if result.complete else "partial",
        "run_id": result.run_id,
        "complete": result.complete,
        "counts": result.counts,
    }


@shared_task(**TASK_OPTIONS)
def fetch(self):
    """Fetch what Traction Rec holds into a new published folder."""
    from traction_rec_import.fetch import run_fetch

    result, skipped = _call(
        self, ImportRun.Kind.FETCH, run_fetch, task_id=self.request.id or ""
    )
    if skipped:
        return skipped
    if not result.complete:
        _raise_failed_fetch(self, result)
    return _fetch_result(result)


@shared_task(**TASK_OPTIONS)
def run_import(self, sync=False, update=False, force=False, directory=None):
    """Import the newest published fetch folder, or `directory`."""
    from traction_rec_import.importer import run_import as service

    result, skipped = _call(
        self,
        ImportRun.Kind.IMPORT,
        service,
        directory=directory,
        sync=sync,
        update=update,
        force=force,
        task_id=self.request.id or "",
    )
    if skipped:
        return skipped
    return _import_result(result)


@shared_task(**TASK_OPTIONS)
def fetch_and_import(self, sync=False, update=False, force=False):
    """Fetch, then import that very folder, only when the fetch was complete.

    A fetch published as failed is never imported: its data is partial, and
    the last good data stays in place for the next run.
    """
    from traction_rec_import.fetch import run_fetch
    from traction_rec_import.importer import run_import as service

    task_id = self.request.id or ""
    fetched, skipped = _call(self, ImportRun.Kind.FETCH, run_fetch, task_id=task_id)
    if skipped:
        return {"status": "skipped", "detail": skipped["detail"], "fetch": skipped}
    if not fetched.complete:
        _raise_failed_fetch(self, fetched, then="The import did not run.")

    imported, skipped = _call(
        self,
        ImportRun.Kind.IMPORT,
        service,
        directory=fetched.folder,
        sync=sync,
        update=update,
        force=force,
        task_id=task_id,
    )
    if skipped:
        return {
            "status": "skipped",
            "detail": skipped["detail"],
            "fetch": _fetch_result(fetched),
            "import": skipped,
        }
    outcome = _import_result(imported)
    return {
        "status": outcome["status"],
        "fetch": _fetch_result(fetched),
        "import": outcome,
    }


@shared_task(**TASK_OPTIONS)
def quick_availability_sync(self):
    """Refresh only availability and wait-list figures of existing sessions."""
    from traction_rec_import.availability import run_quick_sync

    result, skipped = _call(
        self,
        ImportRun.Kind.QUICK_SYNC,
        run_quick_sync,
        task_id=self.request.id or "",
    )
    if skipped:
        return skipped
    return _import_result(result)


@shared_task(**TASK_OPTIONS)
def clean_up(self):
    """Prune the backup area to the newest N folders (ImportSettings) and
    remove temporary folders of fetches that stopped."""
    from traction_rec_import import backups

    task_id = self.request.id or ""
    attempt_started = timezone.now()
    removed, skipped = _call(self, ImportRun.Kind.CLEAN_UP, backups.clean_up)
    if skipped:
        return skipped
    run = _record(
        ImportRun.Kind.CLEAN_UP, task_id, attempt_started, ImportRun.Status.COMPLETE
    )
    return {"status": "complete", "run_id": run.pk, "removed": removed}
