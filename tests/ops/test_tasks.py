"""The Celery tasks, run eagerly in the test process: results, skips, retries,
permanent failures and what each leaves on the Import Run."""

import json
import os
import socket
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from traction_rec.errors import AuthenticationError, TransientError
from traction_rec_import import locks, storage, tasks
from traction_rec_import.fetch import FetchResult
from traction_rec_import.models import ImportRun, ImportSettings

pytestmark = pytest.mark.django_db

HOST = socket.gethostname()
PID = os.getpid()


def since(held):
    return f"{timezone.localtime(held.acquired_at):%Y-%m-%d %H:%M:%S %Z}"


def test_the_tasks_retry_only_retryable_failures_with_capped_backoff():
    for task in (
        tasks.fetch,
        tasks.run_import,
        tasks.fetch_and_import,
        tasks.quick_availability_sync,
        tasks.clean_up,
    ):
        assert task.autoretry_for == (tasks.RetryableFailure,)
        assert (task.retry_backoff, task.retry_backoff_max) == (30, 900)
        assert task.max_retries == 4
        assert task.retry_jitter is True


def test_a_fetch_that_finds_the_lock_held_is_skipped_and_recorded():
    held = locks.acquire(locks.FETCH, task_id="nightly-1")

    result = tasks.fetch.apply(task_id="admin-1").get()

    message = (
        f"skipped: another run holds the fetch lock since {since(held)} "
        f"({HOST}, process {PID}, task nightly-1)."
    )
    run = ImportRun.objects.get()
    assert result == {"status": "skipped", "run_id": run.pk, "detail": message}
    assert (run.kind, run.status, run.error_code, run.error_message, run.task_id) == (
        "fetch",
        "skipped",
        "lock_held",
        message,
        "admin-1",
    )
    assert run.finished_at is not None


def test_an_import_that_finds_the_lock_held_is_skipped(drupal_export_dir):
    held = locks.acquire(locks.IMPORT)

    result = tasks.run_import.apply(
        kwargs={"directory": str(drupal_export_dir)}, task_id="admin-2"
    ).get()

    run = ImportRun.objects.get()
    assert result == {
        "status": "skipped",
        "run_id": run.pk,
        "detail": (
            f"skipped: another run holds the import lock since {since(held)} "
            f"({HOST}, process {PID})."
        ),
    }
    # The importer found the lock before writing; the task recorded the skip.
    assert (run.kind, run.status, run.error_code, run.task_id) == (
        "import",
        "skipped",
        "lock_held",
        "admin-2",
    )


def test_a_disabled_fetch_fails_at_once_with_where_to_enable_it():
    ImportSettings.objects.update_or_create(pk=1, defaults={"fetch_enabled": False})

    with pytest.raises(tasks.RunFailed) as failed:
        tasks.fetch.apply(task_id="admin-3").get()

    message = (
        'Fetching from Traction Rec is disabled in the import settings. Tick "Fetch '
        'enabled" at /admin/traction_rec_import/importsettings/1/change/ to turn it on.'
    )
    run = ImportRun.objects.get()
    assert str(failed.value) == message
    assert failed.value.run_id == run.pk
    assert (run.status, run.error_code, run.error_message, run.task_id) == (
        "failed",
        "FetchDisabled",
        message,
        "admin-3",
    )


def test_a_fetch_without_a_connection_fails_at_once_with_the_fix(monkeypatch):
    with pytest.raises(tasks.RunFailed) as failed:
        tasks.fetch.apply(task_id="admin-4").get()

    run = ImportRun.objects.get()
    assert str(failed.value) == (
        f"Fetch run #{run.pk} failed: The Traction Rec connection is not set up: "
        "consumer key, login user, login URL are empty. Fill them in on the "
        "Traction Rec connection page in the admin."
    )
    assert (run.status, run.error_code, run.hint) == (
        "failed",
        "ConfigurationError",
        "Fill them in on the Traction Rec connection page in the admin.",
    )


def unavailable(calls):
    def service(**kwargs):
        calls.append(kwargs["task_id"])
        raise TransientError(
            "Traction Rec answered 503 SERVER_UNAVAILABLE.",
            status=503,
            error_code="SERVER_UNAVAILABLE",
            hint="Salesforce is busy; try again later.",
        )

    return service


def test_a_transient_error_schedules_a_retry_with_backoff(monkeypatch):
    calls = []
    monkeypatch.setattr("traction_rec_import.fetch.run_fetch", unavailable(calls))

    # Eagerly, Celery raises the Retry a worker would schedule.
    with pytest.raises(Retry) as retry:
        tasks.fetch.apply(task_id="nightly-2").get()

    run = ImportRun.objects.get()
    assert calls == ["nightly-2"]
    assert 0 <= retry.value.when <= 30
    assert isinstance(retry.value.exc, tasks.RetryableFailure)
    assert retry.value.exc.run_id == run.pk
    assert (run.status, run.error_code, run.error_message, run.hint) == (
        "failed",
        "SERVER_UNAVAILABLE",
        "Traction Rec answered 503 SERVER_UNAVAILABLE.",
        "Salesforce is busy; try again later. The task retries by itself "
        "(4 of 4 tries left).",
    )


def test_the_last_retry_gives_up_and_says_so(monkeypatch):
    calls = []
    monkeypatch.setattr("traction_rec_import.fetch.run_fetch", unavailable(calls))

    with pytest.raises(tasks.RetryableFailure) as failed:
        tasks.fetch.apply(task_id="nightly-2", retries=4).get()

    run = ImportRun.objects.get()
    assert str(failed.value) == (
        "Traction Rec answered 503 SERVER_UNAVAILABLE. Salesforce is busy; try "
        "again later."
    )
    assert run.hint == (
        "Salesforce is busy; try again later. The task gave up after 4 retries."
    )


def test_bad_credentials_fail_at_once_without_a_retry(monkeypatch):
    calls = []

    def refused(**kwargs):
        calls.append(kwargs["task_id"])
        raise AuthenticationError(
            "The token request was refused: invalid_grant (user hasn't approved "
            "this consumer).",
            status=400,
            error_code="invalid_grant",
            hint="Pre-authorise the integration user's profile or permission set.",
        )

    monkeypatch.setattr("traction_rec_import.fetch.run_fetch", refused)

    with pytest.raises(tasks.RunFailed) as failed:
        tasks.fetch_and_import.apply(task_id="nightly-3").get()

    assert calls == ["nightly-3"]
    assert str(failed.value) == (
        "The token request was refused: invalid_grant (user hasn't approved this "
        "consumer). Pre-authorise the integration user's profile or permission set."
    )
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.error_code, run.hint) == (
        "fetch",
        "failed",
        "invalid_grant",
        "Pre-authorise the integration user's profile or permission set.",
    )


def failed_fetch_run(error):
    return ImportRun.objects.create(
        kind=ImportRun.Kind.FETCH,
        status=ImportRun.Status.FAILED,
        finished_at=timezone.now(),
        manifest={
            "format": 1,
            "status": "failed",
            "files": {
                "classes.json": {"status": "complete", "records": 3, "error": None},
                "sessions.json": {"status": "failed", "records": 100, "error": error},
            },
        },
        hint=error["hint"],
    )


def test_a_fetch_published_as_failed_by_a_503_is_retried(monkeypatch):
    runs = []

    def published_failed(**kwargs):
        run = failed_fetch_run(
            {
                "code": "SERVER_UNAVAILABLE",
                "message": "Server unavailable.",
                "status": 503,
                "retryable": True,
                "hint": "Try again later.",
            }
        )
        runs.append(run.pk)
        return FetchResult(run.pk, None, False)

    monkeypatch.setattr("traction_rec_import.fetch.run_fetch", published_failed)

    with pytest.raises(Retry) as retry:
        tasks.fetch_and_import.apply(task_id="nightly-4").get()

    failed = retry.value.exc
    assert len(runs) == 1
    assert isinstance(failed, tasks.RetryableFailure)
    assert ImportRun.objects.get(pk=runs[0]).hint == (
        "Try again later. The task retries by itself (4 of 4 tries left)."
    )
    assert str(failed) == (
        f"Fetch run #{runs[-1]} failed: sessions.json (SERVER_UNAVAILABLE: Server "
        "unavailable.). The import did not run."
    )
    assert not ImportRun.objects.filter(kind="import").exists()


def test_a_fetch_published_as_failed_by_a_bad_query_fails_at_once(monkeypatch):
    runs = []

    def published_failed(**kwargs):
        run = failed_fetch_run(
            {
                "code": "INVALID_FIELD",
                "message": (
                    "No such column 'Colour__c' on entity 'TREX1__Course_Option__c'."
                ),
                "status": 400,
                "hint": "Remove the field from TRACTION_REC_QUERY_OVERRIDES.",
            }
        )
        runs.append(run.pk)
        return FetchResult(run.pk, None, False)

    monkeypatch.setattr("traction_rec_import.fetch.run_fetch", published_failed)

    with pytest.raises(tasks.RunFailed) as failed:
        tasks.fetch_and_import.apply(task_id="nightly-5").get()

    assert len(runs) == 1
    assert str(failed.value) == (
        f"Fetch run #{runs[0]} failed: sessions.json (INVALID_FIELD: No such column "
        "'Colour__c' on entity 'TREX1__Course_Option__c'.). The import did not run. "
        "Remove the field from TRACTION_REC_QUERY_OVERRIDES."
    )
    assert not ImportRun.objects.filter(kind="import").exists()


def test_fetch_and_import_imports_what_it_fetched(org, connection, branches):
    from activity_finder.models import Session

    result = tasks.fetch_and_import.apply(
        kwargs={"sync": True}, task_id="nightly-6"
    ).get()

    fetch_run = ImportRun.objects.get(kind="fetch")
    import_run = ImportRun.objects.get(kind="import")
    assert result["status"] == "complete"
    assert result["fetch"]["run_id"] == fetch_run.pk
    assert result["import"]["run_id"] == import_run.pk
    assert result["import"]["counts"]["session"]["created"] == 294
    assert Session.objects.count() == 294
    assert (fetch_run.status, fetch_run.task_id) == ("complete", "nightly-6")
    assert (import_run.status, import_run.task_id) == ("complete", "nightly-6")
    assert import_run.options["sync"] is True
    assert import_run.source_dir == result["fetch"]["folder"]


def test_an_expired_cursor_on_page_two_retries_and_imports_nothing(
    org, connection, branches
):
    from activity_finder.models import Session

    org.faults.add("invalid_locator", page=2, object="TREX1__Course_Session_Option__c")

    with pytest.raises(Retry) as retry:
        tasks.fetch_and_import.apply(task_id="nightly-7").get()

    fetch_run = ImportRun.objects.get()
    assert (fetch_run.kind, fetch_run.status) == ("fetch", "failed")
    assert str(retry.value.exc) == (
        f"Fetch run #{fetch_run.pk} failed: sessions.json (INVALID_QUERY_LOCATOR: "
        "Salesforce answered 400 INVALID_QUERY_LOCATOR: invalid query locator.). "
        "The import did not run."
    )
    assert fetch_run.hint.endswith("The task retries by itself (4 of 4 tries left).")
    assert Session.objects.count() == 0


def test_an_html_page_two_fails_at_once_and_imports_nothing(org, connection, branches):
    from activity_finder.models import Session

    org.faults.add("html", page=2, object="TREX1__Course_Session_Option__c")

    with pytest.raises(tasks.RunFailed) as failed:
        tasks.fetch_and_import.apply(task_id="nightly-8").get()

    fetch_run = ImportRun.objects.get()
    assert (fetch_run.kind, fetch_run.status) == ("fetch", "failed")
    assert str(failed.value).startswith(
        f"Fetch run #{fetch_run.pk} failed: sessions.json (ConfigurationError: "
    )
    assert "The import did not run." in str(failed.value)
    assert Session.objects.count() == 0


def test_quick_availability_sync_updates_the_imported_sessions(
    org, connection, branches
):
    from activity_finder.models import Session

    tasks.fetch_and_import.apply(task_id="nightly-8").get()
    option = Session.objects.get(sf_id="a0O5e0000eYy3tqEAB")
    Session.objects.filter(pk=option.pk).update(availability=17)

    result = tasks.quick_availability_sync.apply(task_id="quarter-1").get()

    run = ImportRun.objects.get(kind="quick_sync")
    assert result["status"] == "complete"
    assert result["run_id"] == run.pk
    assert result["counts"]["session"]["updated"] == 1
    assert (run.status, run.task_id) == ("complete", "quarter-1")
    # Overbooked in Traction Rec (-2 spots): clamped to 0 again.
    assert Session.objects.get(pk=option.pk).availability == 0


def test_clean_up_prunes_old_backups_and_records_its_run():
    ImportSettings.objects.update_or_create(pk=1, defaults={"backups_to_keep": 2})
    backups = storage.backup_root()
    names = [f"2026120{day}T033000Z-abc12{day}" for day in range(1, 6)]
    for name in names:
        (backups / name).mkdir(parents=True)

    result = tasks.clean_up.apply(task_id="daily-1").get()

    run = ImportRun.objects.get()
    assert result == {"status": "complete", "run_id": run.pk, "removed": 3}
    assert sorted(path.name for path in backups.iterdir()) == names[3:]
    assert (run.kind, run.status, run.task_id) == ("clean_up", "complete", "daily-1")
    assert run.counts["removed"] == 3


def test_a_stale_lock_is_no_reason_to_skip(drupal_export_dir):
    from traction_rec_import.models import Lock

    Lock.objects.create(
        name=locks.IMPORT,
        owner_host=HOST,
        owner_pid=PID,
        acquired_at=timezone.now() - timedelta(hours=5),
        expires_at=timezone.now() - timedelta(hours=2),
    )

    result = tasks.run_import.apply(
        kwargs={"directory": str(drupal_export_dir)}, task_id="admin-5"
    ).get()

    assert result["status"] in ("complete", "partial")
    assert ImportRun.objects.get().status == "complete"
    assert not Lock.objects.exists()


def test_the_result_of_a_task_is_plain_json():
    held = locks.acquire(locks.FETCH)

    result = tasks.fetch.apply().get()

    assert json.loads(json.dumps(result)) == result
    locks.release(held)


def test_a_retry_is_announced_on_the_run_the_service_recorded(
    org, connection, branches
):
    # Every availability query answers 503: the quick sync records its own
    # failed run, and the task adds that it retries.
    org.faults.add("status", code=503, times=None)

    with pytest.raises(Retry):
        tasks.quick_availability_sync.apply(task_id="quarter-2").get()

    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.task_id) == ("quick_sync", "failed", "quarter-2")
    assert run.error_message.startswith(
        "The quick availability sync changed nothing: "
    )
    assert run.hint.endswith("The task retries by itself (4 of 4 tries left).")


@pytest.mark.parametrize(
    "error, transient",
    [
        ({"code": "SERVER_UNAVAILABLE", "status": 503, "retryable": True}, True),
        ({"code": "INVALID_FIELD", "status": 400, "retryable": False}, False),
        # Written before the fetch recorded the client's flag: not retried.
        ({"code": "SERVER_UNAVAILABLE", "status": 503}, False),
    ],
)
def test_a_manifest_error_is_retried_as_the_client_flagged_it(error, transient):
    assert tasks._error_is_transient(error) is transient
