"""Backups of imported fetch folders, and the clean-up that prunes them.

After an import its fetch folder moves from fetch/ to backups/ (or is removed
when the settings keep no backups); the clean-up keeps the newest N backups
and removes temporary folders that a killed fetch left behind.

Everything here runs in Python (no shell), and removes only folders that
this project named (the published name pattern, or .tmp-) directly inside
the backup or fetch root. A symbolic link is never followed or removed; a
folder with another name (a Drupal backup copied in by hand) is left alone.
"""

import logging
import os
import secrets
import shutil
import socket
import time
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from traction_rec_import import storage
from traction_rec_import.models import ImportRun, ImportSettings

logger = logging.getLogger(__name__)

# A fetch writes to its .tmp- folder every few seconds while its pages
# arrive; one silent for this long belongs to a process that is gone (it
# is also twice the fetch lock's expiry, so no live fetch can own it).
ABANDONED_AFTER = timedelta(hours=6)


class CleanUpError(Exception):
    """Some folders could not be removed; the message names them."""


def _inside(path, root):
    return path.parent.resolve() == root.resolve()


def _remove(path, root):
    """Remove one folder directly inside root, never following a link."""
    if path.is_symlink() or not path.is_dir() or not _inside(path, root):
        raise CleanUpError(f"{path} is not a folder directly inside {root}.")
    # On Linux shutil.rmtree works through file descriptors and does not
    # follow symbolic links inside the tree (rmtree.avoids_symlink_attacks).
    shutil.rmtree(path)


def _last_activity(folder):
    latest = folder.lstat().st_mtime
    for entry in folder.iterdir():
        latest = max(latest, entry.lstat().st_mtime)
    return latest


def archive(folder):
    """Move an imported fetch folder out of fetch/ and return where it is.

    Into backups/ when ImportSettings.keep_backups (then prune to the newest
    backups_to_keep), otherwise removed (returns None). A folder outside
    fetch/ (a Drupal backup named with --dir) is left where it is and
    returned unchanged."""
    folder = Path(folder)
    root = storage.fetch_root()
    if not (_inside(folder, root) and storage.is_published_name(folder.name)):
        logger.info("folder=%s left in place: not a published fetch folder", folder)
        return folder

    import_settings = ImportSettings.load()
    if not import_settings.keep_backups:
        _remove(folder, root)
        logger.info("folder=%s removed after import (backups are off)", folder.name)
        return None

    backups = storage.backup_root()
    backups.mkdir(parents=True, exist_ok=True)
    target = backups / folder.name
    # A backup of the same name (a folder copied back into fetch/ and
    # imported again) must not block every later import: take a fresh
    # suffix, keeping the time stamp so the backups still sort by it.
    stamp = storage.PUBLISHED_NAME.match(folder.name)["stamp"]
    for _ in range(10):
        if not target.exists():
            break
        target = backups / f"{stamp}-{secrets.token_hex(3)}"
    else:
        raise CleanUpError(
            f"{backups / folder.name} already exists and no free name was found; "
            f"move it away and archive {folder} again."
        )
    # shutil.move renames within one file system and copies across mounts.
    shutil.move(os.fspath(folder), os.fspath(target))
    storage.fsync_dir(backups)
    logger.info("folder=%s moved to backups", folder.name)

    for extra in _backups_beyond(import_settings.backups_to_keep):
        try:
            _remove(extra, backups)
        except (OSError, CleanUpError) as exc:
            logger.warning("backup=%s not removed: %s", extra.name, exc)
    return target


def _backups_beyond(keep):
    return storage.published_folders(storage.backup_root())[keep:]


def _abandoned_temp_folders(now):
    root = storage.fetch_root()
    if not root.is_dir():
        return []
    cutoff = now - ABANDONED_AFTER.total_seconds()
    folders = []
    for entry in sorted(root.iterdir()):
        if not entry.name.startswith(storage.TMP_PREFIX):
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        if _last_activity(entry) < cutoff:
            folders.append(entry)
    return folders


def plan_clean_up(*, now=None):
    """What clean_up() would remove: [(folder, root, reason)]."""
    now = time.time() if now is None else now
    keep = ImportSettings.load().backups_to_keep
    plan = [
        (folder, storage.backup_root(), f"beyond the newest {keep} backups")
        for folder in _backups_beyond(keep)
    ]
    plan += [
        (folder, storage.fetch_root(), "temporary folder of a fetch that stopped")
        for folder in _abandoned_temp_folders(now)
    ]
    return plan


def clean_up(*, dry_run=False, now=None):
    """Remove old backups and abandoned temporary folders; return how many.

    Records an ImportRun (kind clean-up) unless dry_run. Raises CleanUpError
    after removing what it could when some folder could not be removed."""
    plan = plan_clean_up(now=now)
    if dry_run:
        return len(plan)

    run = ImportRun.objects.create(
        kind=ImportRun.Kind.CLEAN_UP,
        source_dir=os.fspath(storage.data_dir()),
        host=socket.gethostname(),
        pid=os.getpid(),
    )
    removed, problems = [], []
    for folder, root, reason in plan:
        try:
            _remove(folder, root)
        except (OSError, CleanUpError) as exc:
            problems.append(f"{folder.name} ({exc})")
            logger.warning("folder=%s not removed: %s", folder.name, exc)
            continue
        removed.append(folder.name)
        logger.info("folder=%s removed: %s", folder.name, reason)

    run.finished_at = timezone.now()
    run.counts = {
        "removed": len(removed),
        "not_removed": len(problems),
        "removed_folders": removed,
    }
    run.status = ImportRun.Status.FAILED if problems else ImportRun.Status.COMPLETE
    if problems:
        run.error_code = "CLEAN_UP_FAILED"
        run.error_message = "Could not remove: " + "; ".join(problems) + "."
        run.hint = "Check the permissions of the data folder and run tr_clean_up again."
    run.save()

    if problems:
        raise CleanUpError(f"{run.error_message} {run.hint}")
    return len(removed)
