"""The data of a local org: objects loaded from JSON files, dates made current,
field names and types, lookups and the relationships they resolve.

A folder holds one `<ObjectApiName>.json` per object (`{"records": [...]}`,
optionally `"fields": [...]` to declare fields no record fills) and may hold
`org.json` with `anchor_date`. The files' dates are written relative to the
anchor; on loading, every date and date-time value moves by the whole number
of weeks from the anchor back to "today" (rounded down: weeks =
(today - anchor).days // 7), so weekdays stay right and the org is current.

`upsert` and `delete` replace the record lists and the index (copy on
write) and bump `generation`; query results are separate dicts, so a query
that already took its snapshot keeps the data it started with.
"""

import datetime as dt
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$"
)
ID_RE = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")
STANDARD_FIELDS = ("Id", "Name")
TYPE_SAMPLE = 200


class OrgError(Exception):
    """The org folder cannot be loaded; the message says which file and why."""


@dataclass
class Relationship:
    name: str  # as the API writes it: TREX1__Location__r
    lookup: str  # the lookup field holding the Id: TREX1__Location__c
    target: str | None  # the object it points at, None when nothing tells


@dataclass
class SObject:
    name: str
    records: list
    fields: dict = field(default_factory=dict)  # lower-case name -> API name
    types: dict = field(default_factory=dict)  # API name -> type or None
    relationships: dict = field(default_factory=dict)  # lower-case -> Relationship


def shift_weeks(anchor, today):
    return (today - anchor).days // 7


def _shift_value(value, delta):
    if len(value) == 10 and DATE_RE.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return (day + delta).isoformat()
    if DATETIME_RE.match(value):
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return (day + delta).isoformat() + value[10:]
    return value


def _shifted(record, delta):
    return {
        key: _shift_value(value, delta) if isinstance(value, str) else value
        for key, value in record.items()
    }


def _value_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "double"
    if isinstance(value, str):
        if len(value) == 10 and DATE_RE.match(value):
            return "date"
        if DATETIME_RE.match(value):
            return "datetime"
        return "string"
    return "other"


class Org:
    """All objects of one org, and an index of every record by Id."""

    def __init__(self, objects, *, today, shift_days=0):
        self.today = today
        self.shift_days = shift_days
        self._lock = threading.Lock()
        self._objects = {}
        self._names = {}
        self.index = {}
        self.generation = 0
        for obj in objects:
            self._objects[obj.name] = obj
            self._names[obj.name.lower()] = obj.name
        self._reindex()

    @classmethod
    def load(cls, folder, *, today=None):
        folder = Path(folder)
        if not folder.is_dir():
            raise OrgError(f"The org folder {folder} does not exist.")
        today = today or dt.date.today()

        anchor = None
        org_file = folder / "org.json"
        if org_file.is_file():
            meta = _read_json(org_file)
            if meta.get("anchor_date"):
                try:
                    anchor = dt.date.fromisoformat(meta["anchor_date"])
                except (TypeError, ValueError):
                    raise OrgError(
                        f"{org_file}: anchor_date must be a date like 2026-12-01."
                    ) from None
        weeks = shift_weeks(anchor, today) if anchor else 0
        delta = dt.timedelta(weeks=weeks)

        objects = []
        for path in sorted(folder.glob("*.json")):
            if path.name == "org.json":
                continue
            data = _read_json(path)
            records = data.get("records") if isinstance(data, dict) else None
            if not isinstance(records, list) or not all(
                isinstance(record, dict) and isinstance(record.get("Id"), str)
                for record in records
            ):
                raise OrgError(
                    f"{path}: expected {{\"records\": [...]}} with an Id in every "
                    f"record."
                )
            if weeks:
                records = [_shifted(record, delta) for record in records]
            obj = SObject(name=path.stem, records=records)
            declared = data.get("fields") or []
            obj.fields = {name.lower(): name for name in declared}
            objects.append(obj)
        if not objects:
            raise OrgError(f"The org folder {folder} holds no <Object>.json files.")

        org = cls(objects, today=today, shift_days=weeks * 7)
        logger.info(
            "Loaded org from %s: %s objects, %s records, dates moved %s weeks",
            folder,
            len(objects),
            sum(len(obj.records) for obj in objects),
            weeks,
        )
        return org

    # Lookups for the query compiler.

    def object_name(self, name):
        """The API name of an object, or None; names are case-insensitive."""
        return self._names.get(name.lower())

    def sobject(self, name):
        return self._objects[name]

    @property
    def object_names(self):
        return list(self._objects)

    def records(self, name):
        return self._objects[self.object_name(name)].records

    # Changes (tests use them to make a second fetch see a different org).

    def upsert(self, object_name, record):
        """Add a record, or replace the one with the same Id."""
        if not isinstance(record.get("Id"), str):
            raise ValueError("A record needs an Id.")
        with self._lock:
            name = self._require(object_name)
            obj = self._objects[name]
            records = [r for r in obj.records if r["Id"] != record["Id"]]
            records.append(dict(record))
            obj.records = records
            self._reindex()

    def delete(self, object_name, record_id):
        """Remove a record; say so when it is not there."""
        with self._lock:
            name = self._require(object_name)
            obj = self._objects[name]
            records = [r for r in obj.records if r["Id"] != record_id]
            if len(records) == len(obj.records):
                raise KeyError(f"{name} has no record {record_id}.")
            obj.records = records
            self._reindex()

    def _require(self, object_name):
        name = self.object_name(object_name)
        if name is None:
            raise KeyError(f"The org has no object {object_name}.")
        return name

    def _reindex(self):
        self.generation += 1
        index = {}
        owner = {}
        for obj in self._objects.values():
            for record in obj.records:
                index[record["Id"]] = record
                index[record["Id"][:15]] = record
                owner[record["Id"][:15]] = obj.name
        self.index = index

        for obj in self._objects.values():
            fields = dict(obj.fields)
            types = {}
            for name in STANDARD_FIELDS:
                fields.setdefault(name.lower(), name)
            for record in obj.records:
                for key in record:
                    if key.lower() not in fields:
                        fields[key.lower()] = key
            names = list(fields.values())
            for record in obj.records:
                # Every record holds every field (None when empty), so the
                # query's output can copy fields with one itemgetter call.
                if len(record) < len(names):
                    for name in names:
                        record.setdefault(name, None)
            for name in names:
                types[name] = self._field_type(obj, name, owner)
            obj.fields = fields
            obj.types = types
            obj.relationships = self._relationships(obj, owner)

    def _field_type(self, obj, name, owner):
        """The field's type from its first TYPE_SAMPLE filled values; mixed
        values give None (compared loosely rather than refused)."""
        if name == "Id":
            return "id"
        seen = None
        sampled = 0
        for record in obj.records:
            value = record.get(name)
            if value is None:
                continue
            kind = _value_type(value)
            if kind == "string" and ID_RE.match(value) and value[:15] in owner:
                kind = "reference"
            if seen is None:
                seen = kind
            elif seen != kind:
                return None
            sampled += 1
            if sampled >= TYPE_SAMPLE:
                break
        return seen

    def _relationships(self, obj, owner):
        relationships = {}
        for name in obj.fields.values():
            if name.endswith("__c"):
                relationship = name[:-3] + "__r"
            elif name.endswith("Id") and name != "Id":
                relationship = name[:-2]
            else:
                continue
            target = None
            for record in obj.records:
                value = record.get(name)
                if isinstance(value, str) and value[:15] in owner:
                    target = owner[value[:15]]
                    break
            if target is None:
                if obj.types.get(name) not in (None, "reference"):
                    continue
                target = self.object_name(name)
            if target is None and obj.types.get(name) is not None:
                continue
            relationships[relationship.lower()] = Relationship(
                name=relationship, lookup=name, target=target
            )
        return relationships


def _read_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OrgError(f"{path} cannot be read as JSON ({exc}).") from None
