"""Fetch folders on disk: written in a temporary folder, published by rename.

Layout under settings.TRACTION_REC_DATA_DIR:

    fetch/.tmp-<uuid>/                 a fetch being written (never read)
    fetch/<YYYYmmddTHHMMSSZ>-<6 hex>/  a published fetch
    backups/<same name>/               a published fetch after its import

A fetch folder is renamed into its published name only after every file in
it, manifest.json last, is written, flushed, fsynced and closed. A rename
inside one directory is atomic, so a reader sees either no folder or a
complete one; a process killed half-way leaves only a .tmp- folder, which
nothing reads and the clean-up removes once it is old.
"""

import hashlib
import json
import logging
import os
import re
import secrets
import uuid
from datetime import timezone as dt_timezone
from pathlib import Path

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

TMP_PREFIX = ".tmp-"
PUBLISHED_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-[0-9a-f]{6}$")
MANIFEST = "manifest.json"


def data_dir():
    return Path(settings.TRACTION_REC_DATA_DIR)


def fetch_root():
    return data_dir() / "fetch"


def backup_root():
    return data_dir() / "backups"


def is_published_name(name):
    return PUBLISHED_NAME.match(name) is not None


def new_temp_folder():
    """Create and return fetch/.tmp-<uuid>/; a uuid4 never repeats, so two
    fetches started in the same second never share a folder."""
    root = fetch_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{TMP_PREFIX}{uuid.uuid4().hex}"
    folder.mkdir()
    return folder


def fsync_dir(path):
    """Make a directory's entries (new files, renames) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(temp_folder, *, now=None):
    """Rename a finished temporary folder to its published name and return it.

    Every file in it must already be closed and fsynced (JsonListWriter and
    write_json do that)."""
    temp_folder = Path(temp_folder)
    if not temp_folder.name.startswith(TMP_PREFIX):
        raise ValueError(f"{temp_folder} is not a temporary fetch folder.")
    moment = (now or timezone.now()).astimezone(dt_timezone.utc)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    fsync_dir(temp_folder)

    # The 6 hex digits keep two runs finishing in the same second apart; on
    # the rare clash, draw again rather than merge into the other folder.
    for _ in range(10):
        target = temp_folder.parent / f"{stamp}-{secrets.token_hex(3)}"
        if target.exists():
            continue
        os.rename(temp_folder, target)
        fsync_dir(target.parent)
        return target
    raise FileExistsError(
        f"No free published name for {stamp} in {temp_folder.parent}."
    )


def _published(root):
    if not root.is_dir():
        return []
    folders = []
    for entry in root.iterdir():
        match = PUBLISHED_NAME.match(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        # Within one second the random suffix says nothing about order; the
        # folder's own mtime (its last file, the manifest) does.
        try:
            written = entry.stat().st_mtime_ns
        except FileNotFoundError:
            continue  # moved to the backups meanwhile
        folders.append(((match["stamp"], written), entry))
    folders.sort(reverse=True)
    return [folder for _, folder in folders]


def published_folders(root=None):
    """Published folders under root (default fetch/), newest first."""
    return _published(Path(root) if root is not None else fetch_root())


def latest_published(*, complete_only=False):
    """The newest published fetch folder, or None.

    With complete_only, the newest one whose manifest status is complete:
    the last good data after a failed run."""
    for folder in published_folders():
        if not complete_only:
            return folder
        try:
            manifest = read_manifest(folder)
        except ManifestError:
            logger.warning("folder=%s skipped: unreadable manifest", folder.name)
            continue
        if manifest["status"] == "complete":
            return folder
    return None


def read_manifest(folder):
    """The folder's manifest as a dict; see traction_rec_import.manifest.read."""
    from traction_rec_import.manifest import read

    return read(folder)


class ManifestError(ValueError):
    """A manifest.json that cannot be read as this version's format."""


class JsonListWriter:
    """Write a JSON list one record at a time, hashing and counting as it goes.

    Nothing is kept but the running digest and count, so memory stays flat
    however many records stream through. The file is a JSON list even when a
    run fails half-way (close() ends it), so the records that did arrive can
    be inspected; the manifest says the file is incomplete.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.count = 0
        self.sha256 = None
        self._digest = hashlib.sha256()
        self._file = open(self.path, "wb")
        self._put(b"[")

    def _put(self, data):
        self._file.write(data)
        self._digest.update(data)

    def write(self, record):
        try:
            encoded = json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (JSON "\ud800" from the API) has no UTF-8 form;
            # written as an escape the file stays valid JSON.
            encoded = json.dumps(record).encode("ascii")
        self._put((b"\n" if self.count == 0 else b",\n") + encoded)
        self.count += 1

    def close(self):
        if self._file.closed:
            return
        self._put(b"\n]\n" if self.count else b"]\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.sha256 = self._digest.hexdigest()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def write_json(path, data):
    """Write a small JSON document (the manifest), fsynced before it returns."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
