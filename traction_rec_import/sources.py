"""Reading one fetch folder: ours, and the Drupal module's current and older ones.

All three hold the same simplified records (`Course_Option`, not
`TREX1__Course_Option__r`). The differences this module smooths over:

- our folders carry manifest.json, saying which files are complete; a
  folder without one (a Drupal backup) counts every present file as
  complete and every absent one as failed, so it never drives deletions
  of an object it does not hold;
- the Drupal module wrote locations.json as the whole response envelope
  (`{"totalSize": .., "records": [..]}`), every other file as a list;
- in program_categories.json the parent `Program` is a nested record (ours)
  or a bare Id (the Drupal module's);
- records may still carry `attributes`, which are dropped.

sessions.json can be large (50,000 options is a few tens of megabytes), so it
is streamed with ijson and never held whole.
"""

import hashlib
import json
import logging
from pathlib import Path

import ijson

logger = logging.getLogger(__name__)

PROGRAMS = "programs.json"
SUBCATEGORIES = "program_categories.json"
CLASSES = "classes.json"
SESSIONS = "sessions.json"
LOCATIONS = "locations.json"
MANIFEST = "manifest.json"

FILES = (PROGRAMS, SUBCATEGORIES, CLASSES, SESSIONS, LOCATIONS)


class SourceError(Exception):
    """A fetch folder that cannot be imported; the message says what to do."""


def _clean(record):
    if isinstance(record, dict) and "attributes" in record:
        record = {key: value for key, value in record.items() if key != "attributes"}
    return record


BOM = b"\xef\xbb\xbf"


def _kind(value):
    return {dict: "an object", list: "a list", str: "text", type(None): "null",
            bool: "true or false"}.get(type(value), "a number")  # fmt: skip


def _bom_error(path):
    return SourceError(
        f"{path} is not valid JSON: it starts with a UTF-8 byte order mark at "
        "byte 0; fetch again."
    )


def _shape_error(path):
    return SourceError(
        f"{path} holds neither a list of records nor a response with "
        "\"records\"; fetch again."
    )


class FetchFolder:
    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(
                f"{self.path} is not a folder; give the fetch folder to import "
                "(it holds sessions.json)."
            )
        self.manifest = self._read_manifest()
        # (file name, reason) for entries that are not records, as read.
        self.bad_entries = []
        present = [name for name in FILES if (self.path / name).is_file()]
        if not present:
            raise SourceError(
                f"{self.path} holds none of {', '.join(FILES)}; it is not a fetch "
                "folder. Run tr_fetch, or give the folder it wrote."
            )

    def _read_manifest(self):
        path = self.path / MANIFEST
        if not path.is_file():
            return None
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SourceError(
                f"{path} cannot be read as JSON ({exc}); fetch again."
            ) from None
        if not isinstance(manifest, dict) or not isinstance(
            manifest.get("files"), dict
        ):
            raise SourceError(f"{path} has no \"files\" section; fetch again.")
        for name, entry in manifest["files"].items():
            if not isinstance(entry, dict):
                raise SourceError(
                    f"{path} lists {name} as {_kind(entry)}, not an object with "
                    "its status and record count; fetch again."
                )
            records = entry.get("records")
            if records is not None and (
                isinstance(records, bool) or not isinstance(records, int)
            ):
                raise SourceError(
                    f"{path} gives {name} a record count of {records!r}, not a "
                    "whole number; fetch again."
                )
        return manifest

    def _entry(self, name):
        return (self.manifest or {}).get("files", {}).get(name) or {}

    def is_complete(self, name):
        """Whether the fetch got every record of this file (so sync may delete)."""
        if self.manifest is None:
            return (self.path / name).is_file()
        return self._entry(name).get("status") == "complete" and (
            self.path / name
        ).is_file()

    def is_readable(self, name):
        """Present and not marked failed: a failed file may be cut short."""
        if not (self.path / name).is_file():
            return False
        return self.manifest is None or self._entry(name).get("status") == "complete"

    def failure(self, name):
        """A sentence on why a file is not used, or "" when it is."""
        if self.is_readable(name):
            return ""
        if self.manifest is not None and self._entry(name).get("status") == "failed":
            error = self._entry(name).get("error") or {}
            detail = error.get("message") or "no detail recorded"
            return f"{name} failed in the fetch ({detail})."
        return f"{name} is not in the folder."

    def expected_count(self, name):
        count = self._entry(name).get("records")
        return count if isinstance(count, int) else None

    def verify(self, name):
        """Refuse a file that changed after the fetch wrote its checksum."""
        expected = self._entry(name).get("sha256")
        if not expected:
            return
        digest = hashlib.sha256()
        with open(self.path / name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != expected:
            raise SourceError(
                f"{name} in {self.path} does not match the checksum in "
                f"{MANIFEST}: it changed after the fetch. Fetch again."
            )

    def records(self, name):
        """Every record of a small file, as a list; [] when it is not readable."""
        if not self.is_readable(name):
            return []
        self.verify(name)
        path = self.path / name
        raw = path.read_bytes()
        if raw.startswith(BOM):
            raise _bom_error(path)
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}); "
                "fetch again."
            ) from None
        except ValueError:
            raise SourceError(
                f"{path} is not valid JSON (not UTF-8 text); fetch again."
            ) from None
        if isinstance(data, dict) and isinstance(data.get("records"), list):
            data = data["records"]
        if not isinstance(data, list):
            raise _shape_error(path)
        records = []
        for position, record in enumerate(data, start=1):
            if isinstance(record, dict):
                records.append(_clean(record))
            else:
                self._not_a_record(name, position, record)
        self._check_count(name, len(data))
        return records

    def stream(self, name):
        """The records of a file one at a time, read with ijson."""
        if not self.is_readable(name):
            return
        self.verify(name)
        path = self.path / name
        with open(path, "rb") as handle:
            if handle.read(len(BOM)) == BOM:
                raise _bom_error(path)
            handle.seek(0)
            first = self._first_byte(handle)
            if first not in (b"{", b"["):
                raise _shape_error(path)
            prefix = "records.item" if first == b"{" else "item"
            seen = 0
            try:
                for record in ijson.items(handle, prefix, use_float=True):
                    seen += 1
                    if isinstance(record, dict):
                        yield _clean(record)
                    else:
                        self._not_a_record(name, seen, record)
            except ijson.JSONError:
                # ijson's own message is a multi-line excerpt of the text.
                raise SourceError(
                    f"{path} is not valid JSON after {seen} records (it breaks "
                    f"in entry {seen + 1}); fetch again."
                ) from None
        if first == b"{" and seen == 0:
            # No "records.item" at all: an envelope without records, or
            # another object. Only then is the (small) object read whole.
            data = json.loads(path.read_bytes())
            if not isinstance(data.get("records"), list):
                raise _shape_error(path)
        self._check_count(name, seen)

    def _not_a_record(self, name, position, value):
        kind = _kind(value)
        self.bad_entries.append(
            (
                name,
                f"Entry {position} of {name} is {kind}, not a record; it was "
                "skipped.",
            )
        )

    @staticmethod
    def _first_byte(handle):
        while True:
            byte = handle.read(1)
            if not byte or not byte.isspace():
                handle.seek(0)
                return byte

    def _check_count(self, name, count):
        expected = self.expected_count(name)
        if expected is not None and expected != count:
            raise SourceError(
                f"{name} holds {count} records but {MANIFEST} says {expected}; "
                "the folder is damaged. Fetch again."
            )
