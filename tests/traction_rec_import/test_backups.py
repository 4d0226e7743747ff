import os
import time

import pytest
from django.core.management import CommandError, call_command

from traction_rec_import import backups, storage
from traction_rec_import.models import ImportRun, ImportSettings

pytestmark = pytest.mark.django_db

NOW = time.time()
HOUR = 3600


def folder(root, name, files=("sessions.json",)):
    path = root / name
    path.mkdir(parents=True)
    for file_name in files:
        (path / file_name).write_text("[]\n")
    return path


def backup_names():
    return sorted(path.name for path in storage.backup_root().iterdir())


def set_backups_to_keep(count, keep_backups=True):
    import_settings = ImportSettings.load()
    import_settings.backups_to_keep = count
    import_settings.keep_backups = keep_backups
    import_settings.save()


def age(path, hours):
    moment = NOW - hours * HOUR
    for entry in [path, *path.iterdir()]:
        os.utime(entry, (moment, moment), follow_symlinks=False)


def test_it_moves_an_imported_folder_into_the_backups():
    fetched = folder(storage.fetch_root(), "20261204T010000Z-abcdef")

    archived = backups.archive(fetched)

    assert archived == storage.backup_root() / "20261204T010000Z-abcdef"
    assert not fetched.exists()
    assert (archived / "sessions.json").read_text() == "[]\n"


def test_archiving_keeps_only_the_newest_backups():
    set_backups_to_keep(2)
    for day in (1, 2, 3):
        folder(storage.backup_root(), f"2026120{day}T010000Z-000000")
    fetched = folder(storage.fetch_root(), "20261204T010000Z-abcdef")

    backups.archive(fetched)

    assert backup_names() == ["20261203T010000Z-000000", "20261204T010000Z-abcdef"]


def test_without_backups_an_imported_folder_is_removed():
    set_backups_to_keep(10, keep_backups=False)
    fetched = folder(storage.fetch_root(), "20261204T010000Z-abcdef")

    assert backups.archive(fetched) is None
    assert not fetched.exists()
    assert not storage.backup_root().exists()


def test_a_folder_outside_the_fetch_area_stays_where_it_is(tmp_path):
    drupal = folder(tmp_path / "drupal", "202101011200")

    assert backups.archive(drupal) == drupal
    assert (drupal / "sessions.json").exists()


def test_clean_up_keeps_the_newest_backups_and_records_the_run():
    set_backups_to_keep(3)
    for day in range(1, 7):
        folder(storage.backup_root(), f"2026120{day}T010000Z-000000")

    removed = backups.clean_up()

    assert removed == 3
    assert backup_names() == [
        "20261204T010000Z-000000",
        "20261205T010000Z-000000",
        "20261206T010000Z-000000",
    ]
    run = ImportRun.objects.get()
    assert (run.kind, run.status) == ("clean_up", "complete")
    assert run.counts == {
        "removed": 3,
        "not_removed": 0,
        "removed_folders": [
            "20261203T010000Z-000000",
            "20261202T010000Z-000000",
            "20261201T010000Z-000000",
        ],
    }


def test_clean_up_touches_nothing_it_did_not_name_or_outside_the_root(tmp_path):
    set_backups_to_keep(1)
    root = storage.backup_root()
    outside = folder(tmp_path / "elsewhere", "20261101T010000Z-000000")
    folder(root, "20261203T010000Z-000000")
    folder(root, "20261202T010000Z-000000")
    folder(root, "202101011200")  # a Drupal backup copied in by hand
    (root / "20261201T010000Z-000000").symlink_to(outside)
    (root / "notes.txt").write_text("keep me")

    assert backups.clean_up() == 1

    assert backup_names() == [
        "202101011200",
        "20261201T010000Z-000000",
        "20261203T010000Z-000000",
        "notes.txt",
    ]
    assert (outside / "sessions.json").read_text() == "[]\n"


def test_clean_up_does_not_follow_a_link_inside_a_removed_backup(tmp_path):
    set_backups_to_keep(1)
    outside = folder(tmp_path / "elsewhere", "precious")
    folder(storage.backup_root(), "20261203T010000Z-000000")
    old = folder(storage.backup_root(), "20261202T010000Z-000000")
    (old / "link").symlink_to(outside)

    assert backups.clean_up() == 1

    assert not old.exists()
    assert (outside / "sessions.json").read_text() == "[]\n"


def test_clean_up_removes_temporary_folders_of_fetches_that_stopped_long_ago():
    root = storage.fetch_root()
    abandoned = folder(root, ".tmp-abandoned")
    running = folder(root, ".tmp-running")
    published = folder(root, "20261101T010000Z-000000")
    age(abandoned, hours=7)
    age(running, hours=1)
    age(published, hours=24 * 30)

    assert backups.clean_up(now=NOW) == 1

    assert sorted(path.name for path in root.iterdir()) == [
        ".tmp-running",
        "20261101T010000Z-000000",
    ]


def test_a_temporary_folder_counts_as_alive_while_its_files_are_written():
    writing = folder(storage.fetch_root(), ".tmp-writing")
    age(writing, hours=9)
    os.utime(writing / "sessions.json", (NOW, NOW))

    assert backups.clean_up(now=NOW) == 0
    assert writing.exists()


def test_a_dry_run_removes_nothing():
    set_backups_to_keep(1)
    folder(storage.backup_root(), "20261203T010000Z-000000")
    folder(storage.backup_root(), "20261202T010000Z-000000")

    assert backups.clean_up(dry_run=True) == 1

    assert len(backup_names()) == 2
    assert ImportRun.objects.count() == 0


def test_the_command_lists_what_a_dry_run_would_remove(capsys):
    set_backups_to_keep(1)
    folder(storage.backup_root(), "20261203T010000Z-000000")
    old = folder(storage.backup_root(), "20261202T010000Z-000000")

    call_command("tr_clean_up", "--dry-run")

    assert capsys.readouterr().out == (
        f"Would remove {old} (beyond the newest 1 backups).\n"
        "Would remove 1 folders; the newest 1 backups stay.\n"
    )
    assert old.exists()


def test_the_command_says_how_many_folders_it_removed(capsys):
    set_backups_to_keep(1)
    folder(storage.backup_root(), "20261203T010000Z-000000")
    folder(storage.backup_root(), "20261202T010000Z-000000")

    call_command("tr_clean_up")

    assert capsys.readouterr().out == (
        "Removed 1 folders; the newest 1 backups stay.\n"
    )


def test_the_command_fails_naming_a_folder_it_could_not_remove(monkeypatch):
    set_backups_to_keep(1)
    folder(storage.backup_root(), "20261203T010000Z-000000")
    folder(storage.backup_root(), "20261202T010000Z-000000")

    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(backups.shutil, "rmtree", refuse)

    with pytest.raises(CommandError) as failed:
        call_command("tr_clean_up")

    assert str(failed.value) == (
        "Could not remove: 20261202T010000Z-000000 ([Errno 13] Permission denied). "
        "Check the permissions of the data folder and run tr_clean_up again."
    )
    assert ImportRun.objects.get().status == "failed"
