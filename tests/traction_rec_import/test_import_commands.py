"""tr_import on a terminal, tr_reset_lock, and the lock as the commands see it."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.traction_rec_import.import_support import (
    make_sample_locations,
    sample_org_folder,
)
from traction_rec_import import locks
from traction_rec_import.models import ImportRun, Lock

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def folder(sample_org_dir, tmp_path):
    make_sample_locations(sample_org_dir)
    return sample_org_folder(sample_org_dir, tmp_path / "fetch")


def test_it_draws_progress_bars_on_a_terminal(folder):
    out, err = Terminal(), io.StringIO()

    call_command("tr_import", "--dir", str(folder), stdout=out, stderr=err)

    bars = err.getvalue()
    assert "sessions: 100%" in bars
    assert "378/378" in bars
    assert "records read" not in out.getvalue()
    run = ImportRun.objects.get()
    assert out.getvalue().splitlines()[-1].startswith(f"Imported #{run.pk} from ")


def test_it_reports_a_held_lock_as_a_command_error(folder):
    with locks.hold(locks.IMPORT, task_id="nightly"):
        with pytest.raises(CommandError) as error:
            call_command("tr_import", "--dir", str(folder))

    assert str(error.value).startswith("Another run holds the import lock since ")
    assert str(error.value).endswith(
        ", task nightly). Wait for it to finish, or clear a lock you know is dead "
        "with `manage.py tr_reset_lock import`."
    )


def test_it_reports_a_missing_folder_as_a_command_error(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("tr_import", "--dir", str(tmp_path / "nowhere"))

    assert str(error.value) == (
        f"{tmp_path / 'nowhere'} is not a folder; give the fetch folder to import "
        "(it holds sessions.json)."
    )


def test_reset_lock_clears_a_held_lock_and_names_its_owner(capsys):
    Lock.objects.create(
        name="import",
        owner_host="worker-2",
        owner_pid=4242,
        owner_task="abc-123",
        acquired_at=timezone.make_aware(dt.datetime(2026, 12, 4, 1, 0)),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )

    call_command("tr_reset_lock", "import")

    assert capsys.readouterr().out == (
        "Cleared the import lock held since 2026-12-04 01:00:00 CST "
        "(worker-2, process 4242, task abc-123).\n"
    )
    assert Lock.objects.count() == 0


def test_reset_lock_says_when_nothing_is_held(capsys):
    call_command("tr_reset_lock", "fetch")

    assert capsys.readouterr().out == "The fetch lock is not held; nothing to clear.\n"


def test_reset_lock_refuses_an_unknown_lock_name():
    with pytest.raises(CommandError, match="invalid choice: 'imports'"):
        call_command("tr_reset_lock", "imports")
