"""Bad files: broken JSON, a missing file, bad records and absurd values.

Each test imports a good folder of ten sessions first (the catalogue
visitors see), then imports with --sync a folder that is broken in one way.
A broken file refuses the import with a message naming it and changes
nothing; a broken record is skipped with its Id and a reason an operator
can act on, and every other record is imported as usual.
"""

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from activity_finder.models import Location, Session
from tests.faults import folders
from tests.faults.catalogue import assert_unchanged, catalogue_snapshot, diff
from tests.faults.reliability import attack
from traction_rec_import.models import ImportRun, SkippedRecord

pytestmark = pytest.mark.django_db

SESSIONS = 10


@pytest.fixture
def imported():
    """Ten sessions imported from a good folder; the snapshot of the result."""
    Location.objects.create(title=folders.LOCATION_NAME)
    folder = folders.write_folder(
        settings.TRACTION_REC_DATA_DIR,
        folders.catalogue_files(SESSIONS),
        stamp="20261204T010000Z",
    )
    call_command("tr_import", "--sync", "--dir", str(folder))
    assert Session.objects.count() == SESSIONS
    return catalogue_snapshot()


def import_folder(files, **options):
    folder = folders.write_folder(settings.TRACTION_REC_DATA_DIR, files, **options)
    call_command("tr_import", "--sync", "--dir", str(folder))
    return folder


def last_import():
    return ImportRun.objects.filter(kind=ImportRun.Kind.IMPORT).latest("pk")


def without_session(snapshot, pk):
    """The snapshot without one session and its times (legitimately changed)."""
    kept = dict(snapshot)
    sessions = snapshot["Session"]
    kept["Session"] = {key: row for key, row in sessions.items() if key != pk}
    kept["SessionTime"] = {
        key: row
        for key, row in snapshot["SessionTime"].items()
        if row["session_id"] != pk
    }
    return kept


def skips(run):
    return list(run.skips.values_list("model", "sf_id", "reason"))


# Broken files


@attack(
    "sessions.json that is not valid JSON (cut off mid-record)",
    expected="import refused with a message naming the file; catalogue unchanged",
)
def test_invalid_json_refuses_the_import_and_changes_nothing(imported, observed):
    files = folders.catalogue_files(SESSIONS)
    del files["sessions.json"]

    with pytest.raises(CommandError) as error:
        import_folder(files, raw={"sessions.json": '[{"Id": "a0X", '})
    run = last_import()

    observed(f"CommandError; run {run.status} {run.error_code}")
    assert str(error.value).endswith("; fetch again.")
    assert "sessions.json is not valid JSON after 0 records" in str(error.value)
    assert (run.status, run.error_code) == (ImportRun.Status.FAILED, "bad_folder")
    assert_unchanged(imported)


@attack(
    "a Drupal-style folder (no manifest) without sessions.json, imported with --sync",
    expected="the other files imported, no session removed, a note says why",
)
def test_a_missing_file_removes_nothing(imported, observed):
    files = folders.catalogue_files(SESSIONS)
    del files["sessions.json"]

    import_folder(files, manifest=False)
    run = last_import()

    observed(f"run {run.status}; notes {run.options.get('notes', [])[:2]}")
    assert run.status == ImportRun.Status.COMPLETE
    assert "Sessions were not synced: sessions.json is not complete in this fetch." in (
        run.options["notes"]
    )
    assert_unchanged(imported)


@attack(
    "a file whose checksum no longer matches its manifest (edited after the fetch)",
    expected="import refused with a message naming the file; catalogue unchanged",
)
def test_a_file_changed_after_the_fetch_is_refused(imported, observed):
    files = folders.catalogue_files(SESSIONS)
    folder = folders.write_folder(settings.TRACTION_REC_DATA_DIR, files)
    sessions = folder / "sessions.json"
    sessions.write_text(sessions.read_text().replace("Swim Lesson 1", "Tampered 1"))

    with pytest.raises(CommandError) as error:
        call_command("tr_import", "--sync", "--dir", str(folder))

    observed(f"CommandError: {error.value}")
    assert "sessions.json" in str(error.value)
    assert_unchanged(imported)


# Broken records: skipped with a reason, the rest imported, nothing lost

BAD_RECORDS = [
    pytest.param(
        {"Name": None},
        "The option has no Name.",
        marks=attack(
            "a course option without its Name",
            expected='skipped: "The option has no Name."; the session keeps its '
            "values",
        ),
        id="no-name",
    ),
    pytest.param(
        {"Start_Date": None},
        "The option has no Start_Date.",
        marks=attack(
            "a course option without a Start_Date",
            expected='skipped: "The option has no Start_Date."',
        ),
        id="no-start-date",
    ),
    pytest.param(
        {"Day_of_Week": 5},
        "Day_of_Week holds '5', which is not a day of the week; fix the option's "
        "days in Traction Rec.",
        marks=attack(
            "Day_of_Week as a number (wrong type)",
            expected="skipped with the token named",
        ),
        id="days-wrong-type",
    ),
    pytest.param(
        {"Start_Date": 20270104},
        "Start_Date 20270104 is not a date (YYYY-MM-DD).",
        marks=attack(
            "Start_Date as a number (wrong type)",
            expected="skipped: not a date (YYYY-MM-DD)",
        ),
        id="date-wrong-type",
    ),
    pytest.param(
        {"Age_Min": "three"},
        "Age_Min 'three' is not a number.",
        marks=attack("Age_Min as text", expected="skipped: not a number"),
        id="age-text",
    ),
    pytest.param(
        {"Age_Min": -1},
        "Age_Min -1 is negative.",
        marks=attack("a negative age (Age_Min -1)", expected="skipped: negative"),
        id="negative-age",
    ),
    pytest.param(
        {"End_Date": "2026-12-01"},
        "The option ends (2026-12-01 18:45) before it starts (2027-01-04 18:00).",
        marks=attack(
            "an option that ends before it starts",
            expected="skipped with both dates named",
        ),
        id="end-before-start",
    ),
    pytest.param(
        {"Start_Time": "25:00 PM"},
        "Start_Time '25:00 PM' has an hour outside 1 to 12.",
        marks=attack("an impossible start time", expected="skipped with the value"),
        id="impossible-time",
    ),
    pytest.param(
        {"Age_Max": "1e30"},
        # The wording is the owner's to choose; the field and value lead it,
        # as in every other mapping reason.
        re.compile(r"Age_Max '1e30' \w.*\."),
        marks=attack(
            "an absurd age (Age_Max 1e30 years)",
            expected="that record skipped with a reason; the other nine imported "
            "(no crash of the whole import)",
        ),
        id="absurd-age",
    ),
    pytest.param(
        {"Total_Capacity_Available": "1e30"},
        re.compile(r"Total_Capacity_Available '1e30' \w.*\."),
        marks=attack(
            "an absurd capacity (Total_Capacity_Available 1e30)",
            expected="that record skipped with a reason; the other nine imported",
        ),
        id="absurd-capacity",
    ),
]


@pytest.mark.parametrize("changes, reason", BAD_RECORDS)
def test_a_bad_record_is_skipped_with_its_reason(imported, changes, reason, observed):
    files = folders.catalogue_files(SESSIONS)
    files["sessions.json"][1]["Course_Option"].update(changes)
    files["sessions.json"][2]["Course_Option"]["Name"] = "Changed Lesson 3"

    try:
        import_folder(files)
    except Exception as exc:
        observed(f"the whole import failed: {type(exc).__name__}: {exc}")
        raise
    run = last_import()

    observed(f"skipped: {skips(run)}")
    if isinstance(reason, re.Pattern):
        assert [(model, sf_id) for model, sf_id, _ in skips(run)] == [
            ("session", folders.option_id(2))
        ]
        assert reason.fullmatch(skips(run)[0][2]), skips(run)[0][2]
    else:
        assert skips(run) == [("session", folders.option_id(2), reason)]
    # The good change went in; the bad record's session kept its values.
    assert Session.objects.get(sf_id=folders.option_id(3)).title == "Changed Lesson 3"
    changed = Session.objects.get(sf_id=folders.option_id(3)).pk
    assert diff(
        without_session(imported, changed),
        without_session(catalogue_snapshot(), changed),
    ) == []
    assert Session.objects.count() == SESSIONS


@attack(
    "a row without its Course_Option (missing required key)",
    expected="skipped with the row's Id and a reason; no crash",
)
def test_a_row_without_its_option_is_skipped_with_a_reason(imported, observed):
    files = folders.catalogue_files(SESSIONS)
    del files["sessions.json"][1]["Course_Option"]

    import_folder(files)
    run = last_import()

    observed(f"skipped: {skips(run)}")
    assert skips(run) == [
        ("session", folders.sf_id("a0X", 2), "The row has no Course_Option Id.")
    ]


@attack(
    "a sessions.json entry that is a list, not a record (wrong type)",
    expected="that entry reported with its position and skipped; the other nine "
    "imported",
)
def test_an_entry_that_is_not_a_record_is_reported(imported, observed):
    files = folders.catalogue_files(SESSIONS)
    files["sessions.json"][1] = [1, 2]
    files["sessions.json"][2]["Course_Option"]["Name"] = "Changed Lesson 3"

    try:
        import_folder(files)
        outcome = "imported"
    except CommandError as exc:
        outcome = f"refused: {exc}"
    run = last_import()

    observed(f"{outcome}; skipped {skips(run)}")
    assert outcome == "imported"
    # One skip naming the file and the entry's position; the wording is the
    # owner's to choose.
    ((model, _, reason),) = skips(run)
    assert model == "session"
    assert re.search(r"\b2\b", reason) and "sessions.json" in reason, reason
    assert Session.objects.get(sf_id=folders.option_id(3)).title == "Changed Lesson 3"


@attack(
    "10,000-character names, instructor and description",
    expected="imported without a crash, names and instructor cut to the 255 "
    "characters the columns hold, the description kept whole",
)
def test_ten_thousand_character_values_are_cut_to_the_columns(imported, observed):
    files = folders.catalogue_files(SESSIONS)
    row = files["sessions.json"][1]
    row["Course_Option"].update(Name="N" * 10_000, Instructor="I" * 10_000)
    row["Course_Session"]["Course"]["Rich_Description"] = "<p>" + "D" * 10_000 + "</p>"
    files["classes.json"][0]["Rich_Description"] = "<p>" + "D" * 10_000 + "</p>"
    files["programs.json"][0]["Name"] = "P" * 10_000

    import_folder(files)
    session = Session.objects.get(sf_id=folders.option_id(2))

    observed(
        f"title {len(session.title)} chars, instructor {len(session.instructor)}, "
        f"description {len(session.description)}"
    )
    assert (session.title, session.instructor) == ("N" * 255, "I" * 255)
    assert session.description == "<p>" + "D" * 10_000 + "</p>"
    assert session.session_class.activity.subcategory.program.title == "P" * 255
    assert SkippedRecord.objects.filter(run=last_import()).count() == 0
