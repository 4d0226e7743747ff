import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

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
    sample_org_folder,
)
from traction_rec_import import locks
from traction_rec_import.importer import run_import
from traction_rec_import.models import ImportRun
from traction_rec_import.rollback import run_rollback

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(sample_org_dir, tmp_path):
    make_sample_locations(sample_org_dir)
    run_import(directory=sample_org_folder(sample_org_dir, tmp_path / "fetch"))


@pytest.fixture
def by_hand(imported):
    """An editor's own program, and an own session under an imported class."""
    program = Program.objects.create(title="Member events")
    swim = Class.objects.get(sf_id="a0K5e0000jWLCBmEAP")
    session = Session.objects.create(
        session_class=swim,
        location=Location.objects.get(title="Downtown YMCA"),
        title="Swim clinic (hand-made)",
    )
    return program, session


def test_it_removes_everything_the_import_created_and_nothing_else(by_hand):
    program, session = by_hand

    result = run_rollback()

    assert result["removed"] == {
        "session": 378,
        "class": 49,
        "activity": 49,
        "subcategory": 11,
        "program": 5,
    }
    assert result["kept"] == {
        "session": 0,
        "class": 1,
        "activity": 1,
        "subcategory": 1,
        "program": 1,
    }
    assert list(Session.objects.all()) == [session]
    assert SessionTime.objects.count() == 0
    assert Program.objects.filter(created_by_import=False).get() == program
    kept_class = Class.objects.get()
    assert kept_class.sf_id == "a0K5e0000jWLCBmEAP"
    assert Activity.objects.get().sf_id == "a0K5e0000jWLCBmEAP"
    assert ProgramSubcategory.objects.count() == 1
    assert Program.objects.count() == 2
    assert Location.objects.count() == 8
    run = ImportRun.objects.get(pk=result["run_id"])
    assert run.kind == ImportRun.Kind.ROLLBACK
    assert run.counts["session"] == {"removed": 378, "kept": 0}


def test_it_removes_all_of_an_untouched_import(imported):
    result = run_rollback()

    assert result["removed"] == {
        "session": 378, "class": 50, "activity": 50, "subcategory": 12, "program": 6,
    }  # fmt: skip
    assert sum(model.objects.count() for model in (
        Program, ProgramSubcategory, Activity, Class, Session, SessionTime
    )) == 0  # fmt: skip


def test_it_removes_nothing_in_a_dry_run(by_hand):
    result = run_rollback(dry_run=True)

    assert result["removed"]["session"] == 378
    assert Session.objects.count() == 379
    assert Program.objects.count() == 7


def test_it_waits_for_a_running_import(imported):
    with locks.hold(locks.IMPORT):
        with pytest.raises(locks.LockHeld):
            run_rollback()

    assert Session.objects.count() == 378


def test_the_command_reports_a_dry_run(by_hand, capsys):
    call_command("tr_rollback", "--dry-run")

    run = ImportRun.objects.get(kind=ImportRun.Kind.ROLLBACK)
    assert capsys.readouterr().out == (
        "Would remove 5 program, 11 subcategory, 49 activity, 49 class, 378 session "
        f"(rollback #{run.pk}); kept 4 imported rows that rows made by hand hang "
        "under.\n"
    )
    assert Session.objects.count() == 379


def test_the_command_asks_for_yes_when_it_cannot_prompt(imported, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    with pytest.raises(CommandError) as error:
        call_command("tr_rollback")

    assert str(error.value) == (
        "tr_rollback removes everything the import created; run it with --dry-run "
        "to see what, then with --yes to do it."
    )
    assert Session.objects.count() == 378


def test_the_command_removes_with_yes(imported, capsys):
    call_command("tr_rollback", "--yes")

    assert capsys.readouterr().out.startswith(
        "Removed 6 program, 12 subcategory, 50 activity, 50 class, 378 session "
    )
    assert Session.objects.count() == 0
