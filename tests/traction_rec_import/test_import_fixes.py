"""Faults a review found in the import, one test (or a few) per fault."""

import copy
import json

import pytest

from activity_finder.models import Class, Session
from tests.traction_rec_import.import_support import (
    make_sample_locations,
    sample_org_records,
    write_folder,
)
from traction_rec_import import backups, importer
from traction_rec_import.importer import ImportRefused, run_import
from traction_rec_import.models import ImportRun

pytestmark = pytest.mark.django_db

OLDER = "20261204T010000Z-aaaaaa"
NEWER = "20261204T020000Z-bbbbbb"


@pytest.fixture
def sample(sample_org_dir):
    make_sample_locations(sample_org_dir)
    return sample_org_records(sample_org_dir)


@pytest.fixture
def fetch_root(settings):
    return settings.TRACTION_REC_DATA_DIR / "fetch"


def test_it_refuses_a_fetch_folder_older_than_the_last_import(sample, fetch_root):
    older = write_folder(fetch_root / OLDER, sample)
    write_folder(fetch_root / NEWER, sample)
    first = run_import()

    with pytest.raises(importer.SourceError) as refused:
        run_import(sync=True)

    assert first.source_dir == str(fetch_root / NEWER)
    assert str(refused.value) == (
        f"The newest folder in fetch/, {OLDER}, is older than {NEWER}, which was "
        "already imported; importing it would bring back older data. Run "
        f"tr_fetch for fresh data, or pass --dir {older} to import it on purpose."
    )
    run = ImportRun.objects.latest("started_at")
    assert (run.status, run.error_code) == (ImportRun.Status.FAILED, "stale_folder")
    assert older.is_dir()


def test_it_imports_an_older_folder_named_with_dir(sample, fetch_root):
    older = write_folder(fetch_root / OLDER, sample)
    write_folder(fetch_root / NEWER, sample)
    run_import()

    result = run_import(directory=older)

    assert result.source_dir == str(older)
    assert result.counts["session"]["unchanged"] == 378


def test_it_archives_under_a_new_suffix_when_the_backup_name_is_taken(
    sample, fetch_root, settings
):
    taken = settings.TRACTION_REC_DATA_DIR / "backups" / NEWER
    taken.mkdir(parents=True)
    folder = write_folder(fetch_root / NEWER, sample)

    result = run_import()

    moved = [
        path.name
        for path in (settings.TRACTION_REC_DATA_DIR / "backups").iterdir()
        if path.name != NEWER
    ]
    assert not folder.exists()
    assert len(moved) == 1 and moved[0].startswith("20261204T020000Z-")
    assert ImportRun.objects.get(pk=result.run_id).status == ImportRun.Status.COMPLETE


def test_it_records_the_run_complete_when_moving_the_folder_fails(
    sample, fetch_root, monkeypatch
):
    folder = write_folder(fetch_root / NEWER, sample)

    def fail(path):
        raise backups.CleanUpError("backups/X is not writable.")

    monkeypatch.setattr(backups, "archive", fail)

    result = run_import()
    again = run_import()

    run = ImportRun.objects.get(pk=result.run_id)
    note = (
        f"The import is complete, but moving {folder} to the backups failed "
        "(backups/X is not writable.). Move or remove the folder by hand; until "
        "then the next tr_import without --dir imports it again."
    )
    assert (run.status, run.error_code) == (ImportRun.Status.COMPLETE, "")
    assert note in run.options["notes"]
    assert result.counts["session"]["created"] == 378
    assert again.counts["session"]["unchanged"] == 378
    assert ImportRun.objects.get(pk=result.run_id).status == ImportRun.Status.COMPLETE


def test_it_counts_the_sessions_a_removed_class_takes_with_it(sample, tmp_path):
    run_import(directory=write_folder(tmp_path / "f1", sample))
    smaller = copy.deepcopy(sample)
    smaller["classes.json"] = smaller["classes.json"][15:]
    target = write_folder(tmp_path / "f2", smaller)

    with pytest.raises(ImportRefused) as refused:
        run_import(directory=target, sync=True)
    forced = run_import(directory=target, sync=True, force=True)

    assert str(refused.value) == (
        "Sync refused: it would remove 123 of 378 sessions (33%), above the "
        "safety share of 30%. Check that the fetch is complete; if these really "
        "are gone from Traction Rec, run again with --force."
    )
    assert forced.counts["activity"]["removed"] == 15
    assert forced.counts["class"]["removed"] == 15
    assert forced.counts["session"] == {
        "created": 0, "updated": 0, "unchanged": 255, "removed": 123, "skipped": 123
    }  # fmt: skip
    assert (Class.objects.count(), Session.objects.count()) == (35, 255)


def test_it_skips_an_option_ending_in_the_year_9999_with_its_reason(sample, tmp_path):
    changed = copy.deepcopy(sample)
    option = changed["sessions.json"][0]["Course_Option"]
    option["End_Date"] = "9999-12-31"

    result = run_import(directory=write_folder(tmp_path / "f1", changed))

    assert result.counts["session"]["created"] == 377
    assert [skip for skip in result.skipped if skip[0] == "session"] == [
        (
            "session",
            option["Id"],
            "End_Date '9999-12-31' is outside the years 1900 to 2200; correct the "
            "date in Traction Rec.",
        )
    ]


def manifest_of(folder):
    return json.loads((folder / "manifest.json").read_text())


def test_it_refuses_a_manifest_entry_that_is_not_an_object(sample, tmp_path):
    folder = write_folder(tmp_path / "f1", sample)
    manifest = manifest_of(folder)
    manifest["files"]["sessions.json"] = "complete"
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(importer.SourceError) as refused:
        run_import(directory=folder)

    assert str(refused.value) == (
        f"{folder / 'manifest.json'} lists sessions.json as text, not an object "
        "with its status and record count; fetch again."
    )


def test_it_refuses_a_manifest_record_count_of_true(sample, tmp_path):
    folder = write_folder(tmp_path / "f1", sample)
    manifest = manifest_of(folder)
    manifest["files"]["sessions.json"]["records"] = True
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(importer.SourceError) as refused:
        run_import(directory=folder)

    assert str(refused.value) == (
        f"{folder / 'manifest.json'} gives sessions.json a record count of True, "
        "not a whole number; fetch again."
    )


@pytest.mark.parametrize(
    "content", ['{"totalSize": 285, "done": false}', '"oops"', "7", ""]
)
def test_it_refuses_a_sessions_file_that_is_not_a_list(sample, tmp_path, content):
    files = dict(sample)
    del files["sessions.json"]
    folder = write_folder(tmp_path / "f1", files, manifest=False)
    (folder / "sessions.json").write_text(content)

    with pytest.raises(importer.SourceError) as refused:
        run_import(directory=folder)

    assert str(refused.value) == (
        f"{folder / 'sessions.json'} holds neither a list of records nor a "
        'response with "records"; fetch again.'
    )
    assert Session.objects.count() == 0


def test_it_reads_an_envelope_with_no_records_as_no_sessions(sample, tmp_path):
    files = dict(sample)
    del files["sessions.json"]
    folder = write_folder(tmp_path / "f1", files, manifest=False)
    (folder / "sessions.json").write_text('{"totalSize": 0, "records": []}')

    result = run_import(directory=folder)

    assert result.counts["session"]["created"] == 0


@pytest.mark.parametrize("name", ["sessions.json", "classes.json"])
def test_it_names_the_file_and_position_of_a_byte_order_mark(sample, tmp_path, name):
    folder = write_folder(tmp_path / "f1", sample, manifest=False)
    path = folder / name
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    with pytest.raises(importer.SourceError) as refused:
        run_import(directory=folder)

    assert str(refused.value) == (
        f"{path} is not valid JSON: it starts with a UTF-8 byte order mark at "
        "byte 0; fetch again."
    )


def test_it_names_the_position_of_broken_json_in_one_sentence(sample, tmp_path):
    folder = write_folder(tmp_path / "f1", sample, manifest=False)
    (folder / "sessions.json").write_text('[{"Id": "a"}, {"Id": ')
    (folder / "classes.json").write_text('[{"Id": "a"},\n {"Id" "b"}]')

    with pytest.raises(importer.SourceError) as classes:
        run_import(directory=folder)
    (folder / "classes.json").write_text(json.dumps(sample["classes.json"]))
    with pytest.raises(importer.SourceError) as sessions:
        run_import(directory=folder)

    assert str(classes.value) == (
        f"{folder / 'classes.json'} is not valid JSON (line 2, column 8); "
        "fetch again."
    )
    assert str(sessions.value) == (
        f"{folder / 'sessions.json'} is not valid JSON after 1 records (it breaks "
        "in entry 2); fetch again."
    )
    run = ImportRun.objects.latest("started_at")
    assert run.error_message == str(sessions.value)


def test_it_skips_records_whose_id_is_longer_than_a_salesforce_id(sample, tmp_path):
    changed = copy.deepcopy(sample)
    long_option = "a0O5e0000eYy3tqEAB-copy"
    long_course = "a0K" + "x" * 20
    course = changed["classes.json"][0]
    course["Id"] = long_course
    row = next(
        row
        for row in changed["sessions.json"]
        if row["Course_Session"]["Course"]["Id"] != course["Id"]
        and row["Course_Session"]["Course"]["Id"] in
        {course["Id"] for course in changed["classes.json"][1:]}
    )  # fmt: skip
    row["Course_Option"]["Id"] = long_option

    result = run_import(directory=write_folder(tmp_path / "f1", changed))

    reasons = {(model, sf_id): reason for model, sf_id, reason in result.skipped}
    assert reasons[("session", long_option)] == (
        "Its Id 'a0O5e0000eYy3tqEAB-copy' is 23 characters long; a Salesforce Id "
        "is 15 or 18 characters."
    )
    assert reasons[("class", long_course)] == (
        f"Its Id {long_course!r} is 23 characters long; a Salesforce Id is 15 or "
        "18 characters."
    )
    assert not Session.objects.filter(sf_id=long_option).exists()
    assert not Class.objects.filter(sf_id=long_course).exists()


def test_it_says_why_a_course_may_be_missing_from_classes_json(sample, tmp_path):
    changed = copy.deepcopy(sample)
    course_id = changed["sessions.json"][0]["Course_Session"]["Course"]["Id"]
    changed["classes.json"] = [
        row for row in changed["classes.json"] if row["Id"] != course_id
    ]
    option_id = changed["sessions.json"][0]["Course_Option"]["Id"]

    result = run_import(directory=write_folder(tmp_path / "f1", changed))

    reasons = {(model, sf_id): reason for model, sf_id, reason in result.skipped}
    assert reasons[("session", option_id)] == (
        f"Its course {course_id} is not in classes.json: the course is likely not "
        "available online in Traction Rec, or the courses fetch failed."
    )
