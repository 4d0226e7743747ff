"""The operation buttons on the Import Run list, and who may press them."""

import os
import shutil
import socket

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from traction_rec_import import locks
from traction_rec_import.models import ImportRun, Lock

pytestmark = pytest.mark.django_db

RUNS = "/admin/traction_rec_import/importrun/"
HOST = socket.gethostname()
PID = os.getpid()


def operation(slug):
    return f"{RUNS}operations/{slug}/"


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_run_list_shows_the_buttons_to_an_operator(operator):
    page = logged_in(operator).get(RUNS)

    body = page.content.decode()
    assert page.status_code == 200
    for slug, label in [
        ("test-connection", "Test connection"),
        ("fetch", "Fetch now"),
        ("import", "Import latest&hellip;"),
        ("fetch-and-import", "Fetch and import now&hellip;"),
        ("quick-sync", "Quick availability sync"),
        ("reset-lock", "Reset lock&hellip;"),
    ]:
        assert f'action="{operation(slug)}"' in body
        assert f">{label}</button>" in body
    assert "No lock is held." in body


def test_the_run_list_hides_the_buttons_from_staff_without_the_permission(viewer):
    page = logged_in(viewer).get(RUNS)

    assert page.status_code == 200
    assert "operations/fetch/" not in page.content.decode()


@pytest.mark.parametrize("slug", ["fetch", "import", "reset-lock", "test-connection"])
def test_staff_without_the_permission_are_refused(viewer, slug):
    held = locks.acquire(locks.FETCH)

    response = logged_in(viewer).post(
        operation(slug), {"confirmed": "yes", "lock": "fetch"}
    )

    assert response.status_code == 403
    assert not ImportRun.objects.exists()
    assert Lock.objects.get().acquired_at == held.acquired_at


@pytest.mark.parametrize("slug", ["fetch", "import", "reset-lock"])
def test_a_user_who_is_not_staff_is_sent_to_the_login_page(outsider, slug):
    locks.acquire(locks.FETCH)

    response = logged_in(outsider).post(
        operation(slug), {"confirmed": "yes", "lock": "fetch"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={operation(slug)}"
    assert not ImportRun.objects.exists()
    assert Lock.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_the_login_page():
    response = Client().post(operation("fetch"))

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={operation('fetch')}"


def test_the_operations_accept_only_post(operator):
    response = logged_in(operator).get(operation("fetch"))

    assert response.status_code == 405
    assert not ImportRun.objects.exists()


def test_the_operations_check_the_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.post(operation("fetch"))

    assert response.status_code == 403
    assert not ImportRun.objects.exists()


def test_an_unknown_operation_is_not_found(operator):
    response = logged_in(operator).post(operation("drop-everything"))

    assert response.status_code == 404


def test_fetch_now_is_sent_after_the_commit_and_says_where_its_runs_appear(
    operator, django_capture_on_commit_callbacks
):
    from traction_rec_import.models import ImportSettings

    ImportSettings.objects.update_or_create(pk=1, defaults={"fetch_enabled": False})

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = logged_in(operator).post(operation("fetch"))
        # Nothing ran yet: the task is sent when the request's transaction commits.
        assert not ImportRun.objects.exists()

    (message,) = texts(response)
    task_id = message.split("queued as task ")[1].split(".")[0]
    assert response.status_code == 302
    assert response["Location"] == RUNS
    assert len(callbacks) == 1
    assert message == (
        f'Fetch now queued as task {task_id}. <a href="{RUNS}?task_id={task_id}">Its '
        "runs</a> appear when the worker picks it up."
    )


@pytest.mark.django_db(transaction=True)
def test_fetch_now_without_a_broker_links_to_the_failed_run(operator):
    from traction_rec_import.models import ImportSettings

    ImportSettings.objects.update_or_create(pk=1, defaults={"fetch_enabled": False})

    response = logged_in(operator).post(operation("fetch"))

    run = ImportRun.objects.get()
    (message,) = texts(response)
    assert (run.kind, run.status, run.error_code) == (
        "fetch",
        "failed",
        "FetchDisabled",
    )
    assert message == (
        "Fetch now failed: Fetching from Traction Rec is disabled in the import "
        "settings. Tick &quot;Fetch enabled&quot; at /admin/traction_rec_import/"
        "importsettings/"
        f'1/change/ to turn it on. See <a href="{RUNS}{run.pk}/change/">run '
        f"#{run.pk}</a>."
    )


@pytest.mark.django_db(transaction=True)
def test_fetch_now_reports_the_lock_another_run_holds(operator):
    held = locks.acquire(locks.FETCH, task_id="nightly-1")

    response = logged_in(operator).post(operation("fetch"))

    run = ImportRun.objects.get()
    since = f"{timezone.localtime(held.acquired_at):%Y-%m-%d %H:%M:%S %Z}"
    assert texts(response) == [
        f"Fetch now skipped: another run holds the fetch lock since {since} ({HOST}, "
        f'process {PID}, task nightly-1). See <a href="{RUNS}{run.pk}/change/">run '
        f"#{run.pk}</a>."
    ]
    assert run.status == "skipped"


@pytest.mark.django_db(transaction=True)
def test_a_transient_failure_without_a_broker_says_it_is_not_retried(
    operator, monkeypatch
):
    from traction_rec.errors import TransientError

    def unavailable(**kwargs):
        raise TransientError("Traction Rec did not answer within 10 s.")

    monkeypatch.setattr("traction_rec_import.fetch.run_fetch", unavailable)

    response = logged_in(operator).post(operation("fetch"))

    run = ImportRun.objects.get()
    assert texts(response) == [
        "Fetch now failed: Traction Rec did not answer within 10 s. Without a broker "
        "it is not retried by itself; try again later. See "
        f'<a href="{RUNS}{run.pk}/change/">run #{run.pk}</a>.'
    ]
    assert (run.status, run.error_code) == ("failed", "TransientError")


def test_an_operator_without_the_view_permission_still_sees_the_runs(db):
    from tests.ops.conftest import _user

    operator = _user(
        "bare-operator", staff=True, permissions=["traction_rec_import.operate_sync"]
    )

    page = logged_in(operator).get(RUNS)

    assert page.status_code == 200
    assert f'action="{operation("fetch")}"' in page.content.decode()


def test_import_latest_asks_for_confirmation_first(operator):
    response = logged_in(operator).post(operation("import"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Import latest: are you sure?" in body
    assert '<input type="hidden" name="confirmed" value="yes">' in body
    assert 'name="sync"' in body and 'name="force"' in body
    assert not ImportRun.objects.exists()


def test_force_without_sync_is_refused_on_the_confirmation_page(operator):
    response = logged_in(operator).post(
        operation("import"), {"confirmed": "yes", "force": "on"}
    )

    assert response.status_code == 200
    assert (
        "Force only applies to a sync; tick Sync as well, or untick Force."
        in response.content.decode()
    )
    assert not ImportRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_import_runs_with_the_chosen_options(operator, drupal_export_dir):
    from traction_rec_import import storage

    shutil.copytree(drupal_export_dir, storage.fetch_root() / "20261203T033000Z-abc123")

    response = logged_in(operator).post(
        operation("import"), {"confirmed": "yes", "update": "on"}
    )

    run = ImportRun.objects.get()
    (message,) = texts(response)
    assert run.kind == "import"
    assert run.options["update"] is True and run.options["sync"] is False
    assert message.startswith("Import latest finished (")
    assert message.endswith(f'See <a href="{RUNS}{run.pk}/change/">run #{run.pk}</a>.')


@pytest.mark.django_db(transaction=True)
def test_fetch_and_import_now_runs_both_and_links_both_runs(
    operator, org, connection, branches
):
    from activity_finder.models import Session

    response = logged_in(operator).post(
        operation("fetch-and-import"), {"confirmed": "yes", "sync": "on"}
    )

    fetch_run = ImportRun.objects.get(kind="fetch")
    import_run = ImportRun.objects.get(kind="import")
    assert texts(response) == [
        f'Fetch and import now finished (complete). See <a href="{RUNS}{fetch_run.pk}'
        f'/change/">run #{fetch_run.pk}</a>, <a href="{RUNS}{import_run.pk}/change/">'
        f"run #{import_run.pk}</a>."
    ]
    assert Session.objects.count() == 294
    assert import_run.options["sync"] is True


def test_reset_lock_shows_the_held_locks_before_it_clears_one(operator):
    locks.acquire(locks.IMPORT, task_id="nightly-9")

    response = logged_in(operator).post(operation("reset-lock"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Reset lock: are you sure?" in body
    assert f"import: {HOST}, process {PID}, task nightly-9, since " in body
    assert Lock.objects.count() == 1


def test_a_confirmed_reset_clears_the_chosen_lock(operator):
    held = locks.acquire(locks.IMPORT)
    locks.acquire(locks.FETCH)

    response = logged_in(operator).post(
        operation("reset-lock"), {"confirmed": "yes", "lock": "import"}
    )

    since = f"{timezone.localtime(held.acquired_at):%Y-%m-%d %H:%M:%S %Z}"
    assert response.status_code == 302
    assert texts(response) == [
        f"Reset the import lock held by {HOST}, process {PID} since {since}."
    ]
    assert list(Lock.objects.values_list("name", flat=True)) == ["fetch"]


def test_resetting_a_free_lock_says_there_was_nothing_to_reset(operator):
    response = logged_in(operator).post(
        operation("reset-lock"), {"confirmed": "yes", "lock": "fetch"}
    )

    assert texts(response) == ["The fetch lock was not held; nothing to reset."]


@pytest.mark.django_db(transaction=True)
def test_quick_availability_sync_without_a_connection_links_to_the_failed_run(
    operator,
):
    response = logged_in(operator).post(operation("quick-sync"))

    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.error_code) == (
        "quick_sync",
        "failed",
        "ConfigurationError",
    )
    assert texts(response) == [
        "Quick availability sync failed: The Traction Rec connection is not set up: "
        "consumer key, login user, login URL are empty. Fill them in on the Traction "
        f'Rec connection page in the admin. See <a href="{RUNS}{run.pk}/change/">run '
        f"#{run.pk}</a>."
    ]


def test_test_connection_lists_each_failed_step_with_its_fix(operator):
    from django_celery_beat.models import PeriodicTask

    response = logged_in(operator).post(operation("test-connection"))

    assert response.status_code == 302
    assert texts(response) == [
        "Settings and private key: The Traction Rec connection is not set up: "
        "consumer key, login user, login URL are empty. Fill them in on the "
        "Traction Rec connection page in the admin."
    ]
    assert not PeriodicTask.objects.filter(enabled=True).exists()


def test_a_passing_connection_test_enables_the_default_schedules(
    operator, org, connection
):
    from django_celery_beat.models import PeriodicTask

    response = logged_in(operator).post(operation("test-connection"))

    messages = texts(response)
    assert messages[0].startswith("Connection test passed: all ")
    assert messages[1] == (
        "The default schedules are enabled: Traction Rec: clean-up of backups, "
        "daily; Traction Rec: full sync, nightly; Traction Rec: quick availability "
        "sync, every 15 minutes 5:00-21:45."
    )
    assert PeriodicTask.objects.filter(enabled=True).count() == 3
