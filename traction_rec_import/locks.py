"""Named locks that stop two fetches or two imports from overlapping.

A lock is a database row, so every process that shares the database sees it:
the web server, the Celery worker and an operator's shell. It carries its
owner (host, process, task) and an expiry. A lock whose owner process is gone
(same host, pid no longer running) or whose expiry has passed is stale: the
next run reports it and takes it over.

The lock row is written in autocommit, outside any import transaction, so
other processes see it at once and a rolled-back import still releases it.
A held lock is found with a read (check()), so a second run reports it even
where the database lets one writer at a time (SQLite) and the first run's
transaction is open.
"""

import logging
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from traction_rec_import.models import Lock

logger = logging.getLogger(__name__)

FETCH = "fetch"
IMPORT = "import"

DEFAULT_TTL = timedelta(hours=3)


class LockHeld(Exception):
    """Another live run holds the lock."""

    def __init__(self, lock):
        self.lock = lock
        self.since = lock.acquired_at
        owner = f"{lock.owner_host}, process {lock.owner_pid}"
        if lock.owner_task:
            owner += f", task {lock.owner_task}"
        super().__init__(
            f"Another run holds the {lock.name} lock since "
            f"{timezone.localtime(lock.acquired_at):%Y-%m-%d %H:%M:%S %Z} ({owner}). "
            f"Wait for it to finish, or clear a lock you know is dead with "
            f"`manage.py tr_reset_lock {lock.name}`."
        )


@dataclass
class Held:
    name: str
    host: str
    pid: int
    acquired_at: object
    # The owner of the stale lock this run took over, for the operator.
    took_over: str = ""


def _owner_is_gone(lock, now):
    if lock.expires_at <= now:
        return True
    if lock.owner_host != socket.gethostname():
        return False
    try:
        os.kill(lock.owner_pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def check(name):
    """Raise LockHeld when a live run holds the lock, writing nothing.

    On SQLite a write waits while another process holds the write
    transaction (an import runs in one), so a run that must report a held
    lock at once checks with this read before it writes anything.
    """
    current = Lock.objects.filter(name=name).first()
    if current is not None and not _owner_is_gone(current, timezone.now()):
        raise LockHeld(current)


def acquire(name, *, task_id="", ttl=DEFAULT_TTL):
    """Take the lock or raise LockHeld; return a Held to pass to release()."""
    check(name)
    host, pid = socket.gethostname(), os.getpid()
    now = timezone.now()
    fields = dict(
        owner_host=host,
        owner_pid=pid,
        owner_task=task_id or "",
        acquired_at=now,
        expires_at=now + ttl,
    )

    try:
        with transaction.atomic():
            Lock.objects.create(name=name, **fields)
        return Held(name, host, pid, now)
    except IntegrityError:
        pass

    current = Lock.objects.filter(name=name).first()
    if current is None:
        # Released between our insert and our read: try once more.
        return acquire(name, task_id=task_id, ttl=ttl)
    if not _owner_is_gone(current, now):
        raise LockHeld(current)

    # Take over only the exact stale row we looked at, so two runs that both
    # saw it stale cannot both win.
    taken = Lock.objects.filter(
        name=name,
        owner_host=current.owner_host,
        owner_pid=current.owner_pid,
        acquired_at=current.acquired_at,
    ).update(**fields)
    if not taken:
        latest = Lock.objects.filter(name=name).first()
        if latest is None:
            return acquire(name, task_id=task_id, ttl=ttl)
        raise LockHeld(latest)

    stale = f"{current.owner_host}:{current.owner_pid} since {current.acquired_at:%Y-%m-%d %H:%M:%S}"
    logger.warning("lock=%s took over stale lock owner=%s", name, stale)
    return Held(name, host, pid, now, took_over=stale)


def release(held):
    Lock.objects.filter(
        name=held.name, owner_host=held.host, owner_pid=held.pid
    ).delete()


def extend(held, ttl=DEFAULT_TTL):
    """Push the expiry out, for a run that is still working."""
    Lock.objects.filter(
        name=held.name, owner_host=held.host, owner_pid=held.pid
    ).update(expires_at=timezone.now() + ttl)


def reset(name):
    """Clear a lock whoever holds it; return the removed lock or None."""
    current = Lock.objects.filter(name=name).first()
    if current is not None:
        # Delete by query: Model.delete() would blank the name we return.
        Lock.objects.filter(pk=current.pk).delete()
        logger.warning(
            "lock=%s reset owner=%s:%s", name, current.owner_host, current.owner_pid
        )
    return current


@contextmanager
def hold(name, *, task_id="", ttl=DEFAULT_TTL):
    """Hold the lock for the block; released on every exit path."""
    held = acquire(name, task_id=task_id, ttl=ttl)
    try:
        yield held
    finally:
        release(held)
