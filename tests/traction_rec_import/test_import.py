import copy
import datetime as dt
import json
import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms.models import model_to_dict
from django.utils import timezone

from activity_finder import cache
from activity_finder.models import (
    Activity,
    Class,
    Location,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)
from tests.traction_rec_import.import_support import (
    make_sample_locations,
    sample_org_records,
    write_folder,
)
from traction_rec.models import ConnectionSettings
from traction_rec_import import importer, locks, mapping
from traction_rec_import.importer import ImportRefused, run_import
from traction_rec_import.models import (
    FetchedLocation,
    ImportRun,
    ImportSettings,
    Lock,
    LocationMapping,
    SkippedRecord,
)

pytestmark = pytest.mark.django_db

SWIM_OPTION = "a0O5e0000eYy3tqEAB"
EVANSTON = "a0L5e0000HIhd4eEQB"

CATALOGUE = (Program, ProgramSubcategory, Activity, Class, Session, SessionTime)


def snapshot():
    """Every catalogue row with every field, to compare before and after."""
    return {
        model.__name__: sorted(
            (model_to_dict(row) | {"pk": row.pk} for row in model.objects.all()),
            key=lambda row: row["pk"],
        )
        for model in CATALOGUE
    }


def counts(created=0, updated=0, unchanged=0, removed=0, skipped=0):
    return {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "removed": removed,
        "skipped": skipped,
    }


@pytest.fixture
def sample(sample_org_dir):
    make_sample_locations(sample_org_dir)
    return sample_org_records(sample_org_dir)


@pytest.fixture
def folder(sample, tmp_path):
    return write_folder(tmp_path / "fetch-1", sample)


def test_it_imports_the_sample_org_with_exact_counts(folder):
    result = run_import(directory=folder)

    assert result.counts == {
        "program": counts(created=6),
        "subcategory": counts(created=12),
        "activity": counts(created=50),
        "class": counts(created=50),
        "session": counts(created=378),
    }
    assert result.complete is True
    assert (Program.objects.count(), ProgramSubcategory.objects.count()) == (6, 12)
    assert (Session.objects.count(), SessionTime.objects.count()) == (378, 378)
    assert set(
        Session.objects.values_list("created_by_import", flat=True).distinct()
    ) == {True}
    run = ImportRun.objects.get(pk=result.run_id)
    assert run.status == ImportRun.Status.COMPLETE
    assert run.counts == result.counts
    assert run.source_dir == str(folder)


def test_it_reports_the_dropped_category_link_of_a_program_under_two(folder):
    result = run_import(directory=folder)

    skips = list(
        SkippedRecord.objects.filter(run_id=result.run_id).values_list(
            "model", "sf_id", "reason"
        )
    )
    assert skips == [
        (
            "subcategory",
            "a0P5e0000qqOTBvEAO",
            "Also listed under program category a0C5e0000emWg5YEAS; kept under "
            "a0C5e00001lCT8fEAG only (a program has one parent here).",
        )
    ]
    kept = ProgramSubcategory.objects.get(sf_id="a0P5e0000qqOTBvEAO")
    assert kept.program.sf_id == "a0C5e00001lCT8fEAG"


def test_it_stores_the_exact_values_of_a_session(folder):
    connection = ConnectionSettings.load()
    connection.community_url = "https://ymca.my.site.com/community"
    connection.save()

    run_import(directory=folder)

    session = Session.objects.get(sf_id=SWIM_OPTION)
    assert session.title == "Parent & Child Swim Tue 12:00 PM"
    assert session.session_class.sf_id == "a0K5e0000jWLCBmEAP"
    assert session.location.title == "Evanston YMCA"
    assert (session.min_age, session.max_age) == (6, 36)
    assert session.availability == 0  # -2 in Traction Rec: overbooked
    assert session.unlimited_capacity is False
    assert (session.wait_list_capacity, session.wait_list_unlimited) == (3, True)
    assert session.instructor == "A. Rivera"
    assert session.price_description == "Members: $45 / Program Participants: $90"
    assert session.product_id == "a0D5e0000TCjF4LEQV"
    assert session.published is True
    assert session.online_registration is True
    assert session.description == (
        "<p><strong>Parent &amp; Child Swim</strong> builds skills and confidence."
        "</p><ul><li>Small groups</li><li>Certified instructors</li></ul>"
    )
    assert session.registration_link == (
        "https://ymca.my.site.com/community/s/registration"
        "?courseSessionId=a0E5e0000C6BUa9EQG&courseOptionId=a0O5e0000eYy3tqEAB"
    )
    local = timezone.localtime
    assert local(session.registration_opens_at).isoformat() == (
        "2026-12-06T08:00:00-06:00"
    )
    assert local(session.registration_closes_at).isoformat() == (
        "2027-03-30T23:59:00-05:00"
    )
    (time,) = session.times.all()
    assert local(time.start).isoformat() == "2027-01-05T12:00:00-06:00"
    assert local(time.end).isoformat() == "2027-04-06T12:30:00-05:00"
    assert (time.start_time, time.end_time) == (dt.time(12, 0), dt.time(12, 30))
    assert time.days == ["tuesday"]
    assert (session.starts_at, session.ends_at) == (time.start, time.end)


def test_it_stores_a_hundred_spots_for_unlimited_capacity(folder):
    run_import(directory=folder)

    session = Session.objects.get(sf_id="a0O5e0000YWeoseEQB")
    assert (session.availability, session.unlimited_capacity) == (100, True)
    assert session.times.get().days == ["tuesday", "thursday"]


def test_it_skips_unchanged_records_on_a_re_run_with_a_fixed_number_of_queries(
    folder, django_assert_max_num_queries
):
    run_import(directory=folder)
    before = snapshot()

    with django_assert_max_num_queries(40):
        result = run_import(directory=folder)

    assert result.counts == {
        "program": counts(unchanged=6),
        "subcategory": counts(unchanged=12),
        "activity": counts(unchanged=50),
        "class": counts(unchanged=50),
        "session": counts(unchanged=378),
    }
    assert snapshot() == before


def test_it_updates_only_the_changed_session_and_replaces_its_times(
    sample, folder, tmp_path
):
    run_import(directory=folder)
    before = snapshot()
    first = Session.objects.get(sf_id=SWIM_OPTION)
    old_time_pk = first.times.get().pk
    changed = copy.deepcopy(sample)
    row = next(
        row for row in changed["sessions.json"]
        if row["Course_Option"]["Id"] == SWIM_OPTION
    )
    row["Course_Option"].update(
        Name="Parent & Child Swim Wed 5:00 PM",
        Day_of_Week="Wednesday;Friday",
        Start_Time="5:00 PM",
        End_Time="5:45 pm",
    )

    result = run_import(directory=write_folder(tmp_path / "fetch-2", changed))

    assert result.counts["session"] == counts(updated=1, unchanged=377)
    session = Session.objects.get(sf_id=SWIM_OPTION)
    assert session.pk == first.pk
    assert session.title == "Parent & Child Swim Wed 5:00 PM"
    (time,) = session.times.all()
    assert time.pk != old_time_pk
    assert time.days == ["wednesday", "friday"]
    assert (time.start_time, time.end_time) == (dt.time(17, 0), dt.time(17, 45))
    assert SessionTime.objects.count() == 378
    after = snapshot()
    for name in ("Program", "ProgramSubcategory", "Activity", "Class"):
        assert after[name] == before[name]
    others = [row for row in after["Session"] if row["pk"] != first.pk]
    assert others == [row for row in before["Session"] if row["pk"] != first.pk]


def test_it_keeps_local_edits_to_unchanged_rows_unless_update_is_given(folder):
    run_import(directory=folder)
    Session.objects.filter(sf_id=SWIM_OPTION).update(title="Edited by hand")

    kept = run_import(directory=folder)

    assert kept.counts["session"] == counts(unchanged=378)
    assert Session.objects.get(sf_id=SWIM_OPTION).title == "Edited by hand"

    overwritten = run_import(directory=folder, update=True)

    assert overwritten.counts["session"] == counts(updated=378)
    assert overwritten.counts["program"] == counts(updated=6)
    assert Session.objects.get(sf_id=SWIM_OPTION).title == (
        "Parent & Child Swim Tue 12:00 PM"
    )
    assert SessionTime.objects.count() == 378


def test_it_leaves_the_catalogue_exactly_as_it_was_when_a_record_fails_mid_import(
    sample, folder, tmp_path, monkeypatch
):
    run_import(directory=folder)
    before = snapshot()
    changed = copy.deepcopy(sample)
    for row in changed["sessions.json"]:
        row["Course_Option"]["Name"] += " (new term)"
    for row in changed["programs.json"]:
        row["Name"] += " (renamed)"
    real = mapping.map_session
    calls = []

    def failing(record, **kwargs):
        calls.append(record["Course_Option"]["Id"])
        if len(calls) == 250:
            raise RuntimeError("disk full")
        return real(record, **kwargs)

    monkeypatch.setattr(mapping, "map_session", failing)

    with pytest.raises(RuntimeError, match="disk full"):
        run_import(directory=write_folder(tmp_path / "fetch-2", changed))

    assert len(calls) == 250
    assert snapshot() == before
    run = ImportRun.objects.latest("started_at")
    assert run.status == ImportRun.Status.FAILED
    assert run.error_code == "RuntimeError"
    assert run.error_message == "The import failed and changed nothing: disk full"
    assert Lock.objects.count() == 0


def test_it_changes_nothing_in_a_dry_run_and_reports_what_it_would_do(folder):
    invalidations = cache.version()

    result = run_import(directory=folder, dry_run=True)

    assert result.dry_run is True
    assert result.counts["session"] == counts(created=378)
    assert result.counts["program"] == counts(created=6)
    assert snapshot() == {model.__name__: [] for model in CATALOGUE}
    assert FetchedLocation.objects.count() == 0
    assert cache.version() == invalidations
    assert folder.is_dir()
    run = ImportRun.objects.get(pk=result.run_id)
    assert run.options["dry_run"] is True
    assert run.status == ImportRun.Status.COMPLETE


def test_it_invalidates_the_finder_cache_only_after_a_change(folder):
    first = cache.version()

    run_import(directory=folder)
    second = cache.version()
    run_import(directory=folder)

    assert second == first + 1
    assert cache.version() == second


def gone(sample, share):
    """The sample with the first `share` of its sessions removed."""
    smaller = copy.deepcopy(sample)
    rows = smaller["sessions.json"]
    cut = len(rows) * share // 100
    return smaller, [row["Course_Option"]["Id"] for row in rows[:cut]], rows[cut:]


def test_it_removes_rows_whose_source_is_gone_on_sync(sample, folder, tmp_path):
    run_import(directory=folder)
    smaller, removed, rest = gone(sample, 10)
    smaller["sessions.json"] = rest

    result = run_import(directory=write_folder(tmp_path / "f2", smaller), sync=True)

    assert len(removed) == 37
    assert result.counts["session"] == counts(removed=37, unchanged=341)
    assert not Session.objects.filter(sf_id__in=removed).exists()
    assert SessionTime.objects.count() == 341


def test_it_keeps_gone_rows_without_sync(sample, folder, tmp_path):
    run_import(directory=folder)
    smaller, removed, rest = gone(sample, 10)
    smaller["sessions.json"] = rest

    result = run_import(directory=write_folder(tmp_path / "f2", smaller))

    assert result.counts["session"] == counts(unchanged=341)
    assert Session.objects.filter(sf_id__in=removed).count() == 37


def test_it_unpublishes_instead_when_the_setting_says_so(sample, folder, tmp_path):
    run_import(directory=folder)
    settings = ImportSettings.load()
    settings.removal = ImportSettings.Removal.UNPUBLISH
    settings.save()
    smaller, removed, rest = gone(sample, 10)
    smaller["sessions.json"] = rest

    result = run_import(directory=write_folder(tmp_path / "f2", smaller), sync=True)
    back = run_import(directory=folder, sync=True)

    assert result.counts["session"] == counts(removed=37, unchanged=341)
    assert back.counts["session"] == counts(updated=37, unchanged=341)
    assert Session.objects.filter(published=True).count() == 378


def test_it_refuses_a_sync_above_the_safety_share_naming_the_numbers(
    sample, folder, tmp_path
):
    run_import(directory=folder)
    before = snapshot()
    smaller, removed, rest = gone(sample, 40)
    smaller["sessions.json"] = rest
    target = write_folder(tmp_path / "f2", smaller)

    with pytest.raises(ImportRefused) as refused:
        run_import(directory=target, sync=True)

    assert str(refused.value) == (
        "Sync refused: it would remove 151 of 378 sessions (40%), above the "
        "safety share of 30%. Check that the fetch is complete; if these really "
        "are gone from Traction Rec, run again with --force."
    )
    assert snapshot() == before
    run = ImportRun.objects.latest("started_at")
    assert (run.status, run.error_code) == (ImportRun.Status.FAILED, "sync_refused")

    forced = run_import(directory=target, sync=True, force=True)

    assert forced.counts["session"] == counts(removed=151, unchanged=227)
    assert Session.objects.count() == 227


def test_it_uses_the_share_from_the_settings(sample, folder, tmp_path):
    run_import(directory=folder)
    settings = ImportSettings.load()
    settings.sync_safety_share = 5
    settings.save()
    smaller, removed, rest = gone(sample, 10)
    smaller["sessions.json"] = rest

    with pytest.raises(ImportRefused, match=r"37 of 378 sessions \(10%\), above "
                       r"the safety share of 5%"):  # fmt: skip
        run_import(directory=write_folder(tmp_path / "f2", smaller), sync=True)


def test_it_never_removes_rows_of_a_file_the_fetch_did_not_complete_nor_reads_it(
    sample, folder, tmp_path
):
    run_import(directory=folder)
    smaller = copy.deepcopy(sample)
    smaller["sessions.json"] = smaller["sessions.json"][:10]
    smaller["classes.json"] = smaller["classes.json"][:45]
    target = write_folder(tmp_path / "f2", smaller, failed=("classes.json",))

    result = run_import(directory=target, sync=True, force=True)

    assert result.complete is False
    assert result.counts["class"] == counts()
    assert result.counts["activity"] == counts()
    assert Class.objects.count() == 50
    # The sessions still find their classes among the rows already there.
    assert result.counts["session"] == counts(unchanged=10, removed=368)
    assert result.notes[:1] == [
        "classes.json failed in the fetch (Your query request was running for too "
        "long.). Its rows were left as they are."
    ]
    assert (
        "Activities were not synced: classes.json is not complete in this fetch."
        in result.notes
    )


def test_it_refuses_a_second_import_while_the_lock_is_held(folder):
    with locks.hold(locks.IMPORT, task_id="task-7"):
        with pytest.raises(locks.LockHeld) as held:
            run_import(directory=folder)

    # Found with a read, before the run writes anything (see locks.check).
    assert ", task task-7)." in str(held.value)
    assert ImportRun.objects.count() == 0
    assert Session.objects.count() == 0


def test_it_takes_over_a_stale_lock_and_says_so(folder):
    Lock.objects.create(
        name=locks.IMPORT,
        owner_host=socket.gethostname(),
        owner_pid=2**22 + 11,
        acquired_at=timezone.now() - dt.timedelta(hours=1),
        expires_at=timezone.now() + dt.timedelta(hours=2),
    )

    result = run_import(directory=folder)

    assert result.counts["session"]["created"] == 378
    assert any(
        note.startswith(
            f"Took over a stale import lock held by {socket.gethostname()}:4194315 "
        )
        for note in result.notes
    )
    assert Lock.objects.count() == 0


def test_it_refuses_when_import_is_switched_off(folder):
    settings = ImportSettings.load()
    settings.import_enabled = False
    settings.save()

    with pytest.raises(importer.ImportDisabled) as disabled:
        run_import(directory=folder)

    assert str(disabled.value) == (
        "Import is switched off in the import settings; switch it on at "
        "/admin/traction_rec_import/importsettings/1/change/ to run it."
    )
    assert ImportRun.objects.get().status == ImportRun.Status.SKIPPED


def test_it_places_sessions_by_the_admin_mapping_before_the_title(sample, folder):
    other = Location.objects.create(title="Evanston Annex")
    LocationMapping.objects.create(sf_location_id=EVANSTON, location=other)

    run_import(directory=folder)

    assert Session.objects.get(sf_id=SWIM_OPTION).location == other


def test_it_skips_a_session_whose_location_matches_nothing(sample, tmp_path):
    Location.objects.filter(title="Evanston YMCA").update(title="Evanston Y")
    Location.objects.create(title="Oak Park YMCA", kind=Location.Kind.FACILITY)
    Location.objects.filter(title="Oak Park YMCA", kind="branch").delete()

    result = run_import(directory=write_folder(tmp_path / "f", sample))

    evanston = (
        "Its location 'Evanston YMCA' (a0L5e0000HIhd4eEQB) is not mapped and "
        "matches none of our branches or camps by title; map it under Traction "
        "Rec locations in admin, or create a branch from it."
    )
    reasons = dict(
        SkippedRecord.objects.filter(model="session").values_list("sf_id", "reason")
    )
    assert reasons[SWIM_OPTION] == evanston
    assert not Session.objects.filter(sf_id=SWIM_OPTION).exists()
    # A facility with the same title is not a match: only branches and camps.
    assert reasons["a0O5e0000ahTp1sEAC"] == (
        "Its location 'Oak Park YMCA' (a0L5e0000gLJ4GyEAL) is not mapped and "
        "matches none of our branches or camps by title; map it under Traction "
        "Rec locations in admin, or create a branch from it."
    )
    assert result.counts["session"]["skipped"] == len(reasons)
    assert Session.objects.filter(location__title__startswith="Oak Park").count() == 0


def test_it_fills_the_traction_rec_locations_for_the_mapping_screen(folder):
    run_import(directory=folder)

    evanston = FetchedLocation.objects.get(sf_id=EVANSTON)
    assert evanston.name == "Evanston YMCA"
    assert evanston.address == "1000 Grove St, Evanston, IL 60201, United States"
    assert FetchedLocation.objects.get(sf_id="a0L5e0000LrMyEPEQ0").address == ""
    assert FetchedLocation.objects.count() == 8


def test_it_refuses_a_file_that_changed_after_the_fetch(folder):
    path = folder / "programs.json"
    path.write_text(path.read_text().replace("Aquatics", "Aquatic"))

    with pytest.raises(importer.SourceError) as error:
        run_import(directory=folder)

    assert str(error.value) == (
        f"programs.json in {folder} does not match the checksum in manifest.json: "
        "it changed after the fetch. Fetch again."
    )
    assert Program.objects.count() == 0


def test_it_refuses_a_folder_that_is_not_a_fetch(tmp_path):
    (tmp_path / "empty").mkdir()

    with pytest.raises(importer.SourceError) as error:
        run_import(directory=tmp_path / "empty")

    assert str(error.value) == (
        f"{tmp_path / 'empty'} holds none of programs.json, program_categories.json, "
        "classes.json, sessions.json, locations.json; it is not a fetch folder. Run "
        "tr_fetch, or give the folder it wrote."
    )
    run = ImportRun.objects.get()
    assert (run.status, run.error_code) == (ImportRun.Status.FAILED, "bad_folder")


def test_it_says_what_to_do_when_there_is_nothing_to_import():
    with pytest.raises(importer.SourceError) as error:
        run_import()

    assert str(error.value) == (
        "There is no published fetch folder to import; run tr_fetch first, or "
        "give one with --dir."
    )


def test_it_imports_the_newest_published_folder_and_moves_it_to_backups(
    sample, settings
):
    fetch_root = settings.TRACTION_REC_DATA_DIR / "fetch"
    published = write_folder(fetch_root / "20261204T010000Z-a1b2c3", sample)

    result = run_import()

    assert result.source_dir == str(published)
    assert not published.exists()
    backup = settings.TRACTION_REC_DATA_DIR / "backups" / "20261204T010000Z-a1b2c3"
    assert (backup / "sessions.json").is_file()
    assert f"Moved {published} to {backup}." in result.notes


def test_it_removes_the_imported_folder_when_backups_are_off(sample, settings):
    import_settings = ImportSettings.load()
    import_settings.keep_backups = False
    import_settings.save()
    published = write_folder(
        settings.TRACTION_REC_DATA_DIR / "fetch" / "20261204T010000Z-a1b2c3", sample
    )

    result = run_import()

    assert not published.exists()
    assert f"Removed {published} after the import (backups are off)." in result.notes


def test_it_reads_an_envelope_and_records_with_attributes(tmp_path):
    Location.objects.create(title="Downtown YMCA")
    folder = tmp_path / "drupal"
    folder.mkdir()
    (folder / "programs.json").write_text(
        json.dumps([{"attributes": {"type": "x"}, "Id": "C1", "Name": "Aquatics"}])
    )
    (folder / "program_categories.json").write_text(
        json.dumps([{"Id": "P1", "Name": "Swim", "Program": "C1"}])
    )
    (folder / "classes.json").write_text(
        json.dumps([{"Id": "K1", "Name": "Swim 1", "Program": {"Id": "P1"}}])
    )
    (folder / "sessions.json").write_text(
        json.dumps(
            {
                "totalSize": 1,
                "done": True,
                "records": [
                    {
                        "Course_Option": {
                            "Id": "O1", "Name": "Swim 1 Mon", "Start_Date": "2027-01-04",
                            "Day_of_Week": "Monday", "Location": {"Name": "Downtown YMCA"},
                        },
                        "Course_Session": {"Course": {"Id": "K1"}},
                    }
                ],
            }
        )
    )  # fmt: skip

    result = run_import(directory=folder)

    assert result.counts["session"] == counts(created=1)
    assert ProgramSubcategory.objects.get().program.sf_id == "C1"
    assert Session.objects.get().location.title == "Downtown YMCA"


def test_the_command_prints_plain_lines_and_a_one_line_summary(folder, capsys):
    call_command("tr_import", "--dir", str(folder))

    lines = capsys.readouterr().out.splitlines()
    assert "sessions: 378 of 378 records read" in lines
    run = ImportRun.objects.get()
    assert lines[-1].startswith(f"Imported #{run.pk} from {folder} in ")
    assert lines[-1].endswith(
        "programs 6 created, 0 updated, 0 unchanged, 0 removed, 0 skipped; program "
        "subcategories 12 created, 0 updated, 0 unchanged, 0 removed, 0 skipped; "
        "activities 50 created, 0 updated, 0 unchanged, 0 removed, 0 skipped; "
        "classes 50 created, 0 updated, 0 unchanged, 0 removed, 0 skipped; sessions "
        "378 created, 0 updated, 0 unchanged, 0 removed, 0 skipped."
    )


def test_the_command_turns_a_refusal_into_a_command_error(sample, folder, tmp_path):
    run_import(directory=folder)
    smaller, _, rest = gone(sample, 50)
    smaller["sessions.json"] = rest

    with pytest.raises(CommandError, match=r"^Sync refused: it would remove 189 of "):
        call_command(
            "tr_import", "--sync", "--dir", str(write_folder(tmp_path / "f2", smaller))
        )


def test_the_command_dry_run_says_so(folder, capsys):
    call_command("tr_import", "--dir", str(folder), "--dry-run", "--no-progress")

    out = capsys.readouterr().out.splitlines()
    run = ImportRun.objects.get()
    assert out[-1].startswith(f"Dry run of import #{run.pk} from ")
    assert Session.objects.count() == 0


def test_it_moves_sessions_when_the_admin_maps_their_location_later(folder):
    run_import(directory=folder)
    evanston = Session.objects.filter(location__title="Evanston YMCA")
    moved = set(evanston.values_list("sf_id", flat=True))
    annex = Location.objects.create(title="Evanston Annex")
    LocationMapping.objects.create(sf_location_id=EVANSTON, location=annex)

    result = run_import(directory=folder)

    assert len(moved) > 0
    assert result.counts["session"] == counts(
        updated=len(moved), unchanged=378 - len(moved)
    )
    assert set(
        Session.objects.filter(location=annex).values_list("sf_id", flat=True)
    ) == moved


def test_it_rewrites_the_links_when_the_community_url_changes(folder):
    run_import(directory=folder)
    connection = ConnectionSettings.load()
    connection.community_url = "https://ymca.my.site.com"
    connection.save()

    result = run_import(directory=folder)

    assert result.counts["session"] == counts(updated=378)
    assert Session.objects.get(sf_id=SWIM_OPTION).registration_link == (
        "https://ymca.my.site.com/s/registration"
        "?courseSessionId=a0E5e0000C6BUa9EQG&courseOptionId=a0O5e0000eYy3tqEAB"
    )


def test_it_marks_a_run_left_running_by_a_killed_process_as_interrupted(folder):
    killed = ImportRun.objects.create(
        kind=ImportRun.Kind.IMPORT,
        started_at=timezone.now() - dt.timedelta(hours=1),
    )

    run_import(directory=folder)

    killed.refresh_from_db()
    assert (killed.status, killed.error_code) == (ImportRun.Status.FAILED, "INTERRUPTED")
    assert killed.error_message == (
        "The run stopped before it finished (its process was killed or the "
        "machine restarted); its changes were rolled back."
    )


def test_it_skips_an_entry_that_is_not_a_record_and_says_where(sample, tmp_path):
    files = copy.deepcopy(sample)
    files["sessions.json"][1] = [1, 2]
    files["classes.json"].insert(0, "a course")

    result = run_import(directory=write_folder(tmp_path / "f", files))

    assert result.counts["session"] == counts(created=377, skipped=1)
    assert result.counts["class"] == counts(created=50, skipped=1)
    skips = set(
        SkippedRecord.objects.filter(sf_id="").values_list("model", "reason")
    )
    assert skips == {
        ("session", "Entry 2 of sessions.json is a list, not a record; it was skipped."),
        ("class", "Entry 1 of classes.json is text, not a record; it was skipped."),
    }
