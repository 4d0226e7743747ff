import hashlib
import json
import os
import re

import pytest

from traction_rec_import import storage
from traction_rec_import.manifest import FILES


def make_published(root, name, status="complete"):
    folder = root / name
    folder.mkdir(parents=True)
    entry = {"status": status, "records": 0, "pages": 1, "sha256": "", "error": None}
    files = {name: dict(entry) for name in FILES}
    (folder / "manifest.json").write_text(
        json.dumps({"format": 1, "status": status, "files": files})
    )
    return folder


def test_it_writes_an_explicit_empty_list_when_there_are_no_records(tmp_path):
    writer = storage.JsonListWriter(tmp_path / "sessions.json")

    writer.close()

    assert (tmp_path / "sessions.json").read_bytes() == b"[]\n"
    assert writer.count == 0
    assert writer.sha256 == hashlib.sha256(b"[]\n").hexdigest()


def test_it_streams_records_into_a_json_list_with_count_and_checksum(tmp_path):
    records = [{"Id": "a01", "Name": "Swim & Gym"}, {"Id": "a02", "Name": "Café"}]

    with storage.JsonListWriter(tmp_path / "classes.json") as writer:
        for record in records:
            writer.write(record)

    written = (tmp_path / "classes.json").read_bytes()
    assert json.loads(written) == records
    assert writer.count == 2
    assert writer.sha256 == hashlib.sha256(written).hexdigest()
    assert written == (
        '[\n{"Id": "a01", "Name": "Swim & Gym"},\n{"Id": "a02", "Name": "Café"}\n]\n'
    ).encode()


def test_each_temporary_folder_has_its_own_name(settings):
    first = storage.new_temp_folder()
    second = storage.new_temp_folder()

    assert first != second
    assert first.parent == second.parent == settings.TRACTION_REC_DATA_DIR / "fetch"
    assert re.fullmatch(r"\.tmp-[0-9a-f]{32}", first.name)


def test_it_publishes_a_temporary_folder_by_renaming_it(settings):
    import datetime as dt

    temp = storage.new_temp_folder()
    (temp / "sessions.json").write_text("[]\n")
    moment = dt.datetime(2026, 12, 4, 7, 8, 9, tzinfo=dt.timezone.utc)

    folder = storage.publish(temp, now=moment)

    assert not temp.exists()
    assert folder.parent == settings.TRACTION_REC_DATA_DIR / "fetch"
    assert re.fullmatch(r"20261204T070809Z-[0-9a-f]{6}", folder.name)
    assert (folder / "sessions.json").read_text() == "[]\n"


def test_it_refuses_to_publish_a_folder_that_is_not_temporary(tmp_path):
    with pytest.raises(ValueError) as refused:
        storage.publish(tmp_path)

    assert str(refused.value) == f"{tmp_path} is not a temporary fetch folder."


def test_latest_published_is_none_without_any_fetch():
    assert storage.latest_published() is None


def test_latest_published_ignores_temporary_folders_links_and_other_names(tmp_path):
    root = storage.fetch_root()
    published = make_published(root, "20261201T010000Z-aaaaaa")
    (root / ".tmp-0123").mkdir()
    (root / "202612040100").mkdir()  # the Drupal module's folder name
    (root / "20261204T010000Z-bbbbbb").symlink_to(published)
    (root / "20261205T010000Z-cccccc").write_text("not a folder")

    assert storage.latest_published() == published


def test_latest_published_is_the_newest_and_complete_only_skips_failed_runs():
    root = storage.fetch_root()
    older = make_published(root, "20261202T235959Z-ffffff")
    newer_failed = make_published(root, "20261203T000000Z-000000", status="failed")

    assert storage.latest_published() == newer_failed
    assert storage.latest_published(complete_only=True) == older


def test_within_one_second_the_folder_written_last_is_the_newest():
    root = storage.fetch_root()
    later = make_published(root, "20261203T000000Z-000000")
    earlier = make_published(root, "20261203T000000Z-ffffff")
    os.utime(earlier, ns=(1_000_000_000, 1_000_000_000))
    os.utime(later, ns=(2_000_000_000, 2_000_000_000))

    assert storage.latest_published() == later


def test_complete_only_skips_a_folder_with_an_unreadable_manifest():
    root = storage.fetch_root()
    good = make_published(root, "20261201T000000Z-000000")
    broken = root / "20261202T000000Z-000000"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")

    assert storage.latest_published(complete_only=True) == good


def test_a_lone_surrogate_is_written_as_an_escape(tmp_path):
    with storage.JsonListWriter(tmp_path / "classes.json") as writer:
        writer.write({"Name": "Swim \ud83c"})

    written = (tmp_path / "classes.json").read_bytes()
    assert written == b'[\n{"Name": "Swim \\ud83c"}\n]\n'
    assert json.loads(written) == [{"Name": "Swim \ud83c"}]
