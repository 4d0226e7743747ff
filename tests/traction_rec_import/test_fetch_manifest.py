import datetime as dt
import json

import pytest

from traction_rec_import import manifest
from traction_rec_import.storage import ManifestError, read_manifest

UTC = dt.timezone.utc
STARTED = dt.datetime(2026, 12, 4, 6, 0, 0, tzinfo=UTC)
FINISHED = dt.datetime(2026, 12, 4, 6, 0, 42, tzinfo=UTC)


def entry(records=1, error=None):
    return manifest.file_entry(records=records, pages=1, sha256="ab" * 32, error=error)


def test_it_is_complete_only_when_every_file_is():
    files = {name: entry() for name in manifest.FILES}

    document = manifest.build(
        run_id=7,
        started_at=STARTED,
        finished_at=FINISHED,
        api_usage={"used": 12, "allowed": 15000},
        files=files,
    )

    assert document == {
        "format": 1,
        "run_id": 7,
        "started_at": "2026-12-04T06:00:00+00:00",
        "finished_at": "2026-12-04T06:00:42+00:00",
        "status": "complete",
        "api_usage": {"used": 12, "allowed": 15000},
        "files": files,
    }


def test_one_failed_file_fails_the_run():
    error = {"code": "INVALID_QUERY_LOCATOR", "message": "x", "status": 400, "hint": ""}
    files = {name: entry() for name in manifest.FILES}
    files["sessions.json"] = entry(records=2000, error=error)

    document = manifest.build(
        run_id=1, started_at=STARTED, finished_at=FINISHED, api_usage=None, files=files
    )

    assert document["status"] == "failed"
    assert document["files"]["sessions.json"]["status"] == "failed"
    assert manifest.failed_files(document) == ["sessions.json"]


def test_a_missing_file_fails_the_run():
    files = {name: entry() for name in manifest.FILES if name != "locations.json"}

    document = manifest.build(
        run_id=1, started_at=STARTED, finished_at=FINISHED, api_usage=None, files=files
    )

    assert document["status"] == "failed"


def test_a_folder_without_manifest_trusts_present_files_and_fails_absent_ones(
    tmp_path,
):
    for name in ("programs.json", "program_categories.json", "sessions.json"):
        (tmp_path / name).write_text("[]")

    document = read_manifest(tmp_path)

    assert document["status"] == "failed"
    assert document["legacy"] is True
    assert document["files"]["sessions.json"] == {
        "status": "complete",
        "records": None,
        "pages": None,
        "sha256": None,
        "error": None,
    }
    assert document["files"]["classes.json"] == {
        "status": "failed",
        "records": None,
        "pages": None,
        "sha256": None,
        "error": {
            "code": "MISSING_FILE",
            "message": "classes.json is not in this folder.",
            "status": None,
            "hint": "",
        },
    }
    assert manifest.is_complete(document, "sessions.json") is True
    assert manifest.is_complete(document, "locations.json") is False


def test_the_drupal_export_reads_as_failed_only_for_its_absent_files(
    drupal_export_dir,
):
    document = read_manifest(drupal_export_dir)

    assert sorted(manifest.failed_files(document)) == ["locations.json"]


def test_it_reads_back_what_it_wrote(tmp_path):
    files = {name: entry() for name in manifest.FILES}
    document = manifest.build(
        run_id=3, started_at=STARTED, finished_at=FINISHED, api_usage=None, files=files
    )

    manifest.write(tmp_path, document)

    assert read_manifest(tmp_path) == document
    assert json.loads((tmp_path / "manifest.json").read_text()) == document


def test_it_refuses_a_manifest_of_another_format(tmp_path):
    (tmp_path / "manifest.json").write_text('{"format": 2, "status": "complete"}')

    with pytest.raises(ManifestError) as refused:
        read_manifest(tmp_path)

    assert str(refused.value) == (
        f"{tmp_path / 'manifest.json'} has format 2; this version reads format 1. "
        "Fetch again with `manage.py tr_fetch`."
    )


def test_it_refuses_a_manifest_that_is_not_json(tmp_path):
    (tmp_path / "manifest.json").write_text("{")

    with pytest.raises(ManifestError) as refused:
        read_manifest(tmp_path)

    assert str(refused.value).startswith(
        f"{tmp_path / 'manifest.json'} cannot be read (Expecting property name"
    )
    assert str(refused.value).endswith("Fetch again with `manage.py tr_fetch`.")


def test_a_manifest_that_lacks_a_file_counts_it_as_failed(tmp_path):
    files = {name: entry() for name in manifest.FILES if name != "locations.json"}
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": 1, "status": "complete", "files": files})
    )

    document = read_manifest(tmp_path)

    assert document["status"] == "failed"
    assert document["files"]["locations.json"]["error"]["code"] == "MISSING_FILE"
