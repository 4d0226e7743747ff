"""The Import Run list and run page, and the import settings page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from traction_rec_import.models import ImportRun, ImportSettings, SkippedRecord

pytestmark = pytest.mark.django_db

RUNS = "/admin/traction_rec_import/importrun/"


@pytest.fixture
def runs():
    started = timezone.now() - timedelta(hours=2)
    complete = ImportRun.objects.create(
        kind=ImportRun.Kind.IMPORT,
        status=ImportRun.Status.COMPLETE,
        started_at=started,
        finished_at=started + timedelta(seconds=83),
        counts={
            "session": {"created": 3, "updated": 1, "unchanged": 0, "skipped": 2},
            "class": {"created": 0, "updated": 0},
        },
        manifest={"format": 1, "run_id": 7, "status": "complete", "files": {}},
    )
    SkippedRecord.objects.create(
        run=complete,
        model="session",
        sf_id="a0O5e0000eYy3tqEAB",
        reason="No start date: the option has no Start_Date.",
    )
    SkippedRecord.objects.create(
        run=complete,
        model="session",
        sf_id="a0O5e0000eYy3tqEAC",
        reason="Location a0L000000000001AAA is not mapped and matches no branch.",
    )
    failed = ImportRun.objects.create(
        kind=ImportRun.Kind.FETCH,
        status=ImportRun.Status.FAILED,
        started_at=started + timedelta(minutes=30),
        finished_at=started + timedelta(minutes=30, seconds=4.25),
        error_code="invalid_grant",
        error_message="The token request was refused.",
        hint="Pre-authorise the profile.",
    )
    return complete, failed


def test_the_run_list_shows_status_duration_counts_and_errors(admin_client, runs):
    complete, failed = runs

    page = admin_client.get(RUNS)

    body = page.content.decode()
    assert page.status_code == 200
    assert '<td class="field-status">Complete</td>' in body
    assert '<td class="field-duration_display">1 min 23 s</td>' in body
    assert (
        '<td class="field-counts_display">class: no change; session: 3 created, '
        "1 updated, 2 skipped</td>"
    ) in body
    assert '<td class="field-skip_count">2</td>' in body
    assert '<td class="field-status">Failed</td>' in body
    assert '<td class="field-duration_display">4.2 s</td>' in body
    assert (
        '<td class="field-error_display">invalid_grant: The token request was '
        "refused.</td>"
    ) in body


def test_the_run_page_lists_the_skipped_records_and_the_manifest(admin_client, runs):
    complete, _ = runs

    page = admin_client.get(f"{RUNS}{complete.pk}/change/")

    body = page.content.decode()
    assert page.status_code == 200
    assert (
        "<tr><td>session</td><td>a0O5e0000eYy3tqEAB</td><td>No start date: the "
        "option has no Start_Date.</td></tr>"
    ) in body
    assert (
        "<tr><td>session</td><td>a0O5e0000eYy3tqEAC</td><td>Location "
        "a0L000000000001AAA is not mapped and matches no branch.</td></tr>"
    ) in body
    assert (
        "<pre>{\n  &quot;files&quot;: {},\n  &quot;format&quot;: 1,\n  "
        "&quot;run_id&quot;: 7,"
    ) in body
    # A record of what happened: nobody edits it.
    assert 'name="_save"' not in body


def test_a_long_skip_list_links_to_all_of_it(admin_client, runs):
    complete, _ = runs
    SkippedRecord.objects.bulk_create(
        SkippedRecord(run=complete, model="class", sf_id=f"a0C{n:015d}", reason="x")
        for n in range(250)
    )

    page = admin_client.get(f"{RUNS}{complete.pk}/change/")

    assert (
        'Showing 200 of 252. <a href="/admin/traction_rec_import/skippedrecord/'
        f'?run__id__exact={complete.pk}">All skipped records of this run</a>.'
    ) in page.content.decode()
    listed = admin_client.get(
        f"/admin/traction_rec_import/skippedrecord/?run__id__exact={complete.pk}"
    )
    assert listed.status_code == 200
    assert "252 skipped records" in listed.content.decode()


def test_runs_of_one_task_are_listed_by_its_id(admin_client, runs):
    complete, failed = runs
    ImportRun.objects.filter(pk=failed.pk).update(task_id="abc-123")

    page = admin_client.get(f"{RUNS}?task_id=abc-123")

    body = page.content.decode()
    assert page.status_code == 200
    assert "1 import run" in body
    assert "invalid_grant" in body and "session: 3 created" not in body


def test_nobody_adds_or_edits_a_run(admin_client, runs):
    complete, _ = runs

    add = admin_client.get(f"{RUNS}add/")
    edit = admin_client.post(f"{RUNS}{complete.pk}/change/", {"status": "failed"})

    assert add.status_code == 403
    assert edit.status_code == 403
    complete.refresh_from_db()
    assert complete.status == "complete"


def test_the_settings_list_opens_the_one_settings_page(admin_client):
    response = admin_client.get("/admin/traction_rec_import/importsettings/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/traction_rec_import/importsettings/1/change/"


def test_the_settings_are_saved_from_their_page(admin_client):
    response = admin_client.post(
        "/admin/traction_rec_import/importsettings/1/change/",
        {
            "fetch_enabled": "on",
            "keep_backups": "on",
            "backups_to_keep": "5",
            "sync_safety_share": "20",
            "removal": "unpublish",
        },
    )

    settings = ImportSettings.load()
    assert response.status_code == 302
    assert (
        settings.fetch_enabled,
        settings.import_enabled,
        settings.backups_to_keep,
        settings.sync_safety_share,
        settings.removal,
    ) == (True, False, 5, 20, "unpublish")
    assert ImportSettings.objects.count() == 1
