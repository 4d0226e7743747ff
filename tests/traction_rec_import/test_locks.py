import datetime as dt
import socket

import pytest
from django.utils import timezone

from traction_rec_import import locks
from traction_rec_import.models import Lock

pytestmark = pytest.mark.django_db


def test_it_refuses_a_second_holder_and_names_the_owner():
    with locks.hold("import", task_id="task-1"):
        with pytest.raises(locks.LockHeld) as held:
            locks.acquire("import")

    message = str(held.value)
    assert message.startswith("Another run holds the import lock since ")
    assert f"({socket.gethostname()}, process " in message
    assert ", task task-1)." in message
    assert "`manage.py tr_reset_lock import`" in message


def test_it_releases_the_lock_when_the_block_raises():
    with pytest.raises(RuntimeError):
        with locks.hold("fetch"):
            raise RuntimeError("boom")

    assert Lock.objects.count() == 0


def test_it_takes_over_a_lock_whose_process_is_gone():
    Lock.objects.create(
        name="fetch",
        owner_host=socket.gethostname(),
        owner_pid=2**22 + 7,  # above the default pid_max: never a live process
        acquired_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )

    held = locks.acquire("fetch")

    assert held.took_over.startswith(f"{socket.gethostname()}:{2**22 + 7} since ")
    assert Lock.objects.get(name="fetch").owner_pid == held.pid


def test_it_takes_over_an_expired_lock_from_another_host():
    Lock.objects.create(
        name="import",
        owner_host="other-host",
        owner_pid=1,
        acquired_at=timezone.now() - dt.timedelta(hours=5),
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )

    held = locks.acquire("import")

    assert held.took_over.startswith("other-host:1 since ")


def test_it_respects_a_live_lock_from_another_host():
    Lock.objects.create(
        name="import",
        owner_host="other-host",
        owner_pid=1,
        acquired_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )

    with pytest.raises(locks.LockHeld):
        locks.acquire("import")


def test_reset_removes_the_lock_whoever_holds_it():
    locks.acquire("fetch")

    removed = locks.reset("fetch")

    assert removed.name == "fetch"
    assert Lock.objects.count() == 0
    assert locks.reset("fetch") is None
