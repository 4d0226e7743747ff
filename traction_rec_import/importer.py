"""The import: one fetch folder into Program, Subcategory, Activity, Class,
Session and Session Time rows, in one transaction.

Shape of a run, chosen for 50,000 options: the existing rows of each model
are read once into {sf_id: (pk, source_hash)}; each source record is hashed
and skipped when the hash matches; new and changed rows are written with
bulk_create / bulk_update in batches; a changed session's times are deleted
and written again in the same batch. sessions.json is streamed. No query runs
per record.

The Import Run row is written outside the transaction, so a failed import is
recorded even though everything it wrote is rolled back. The lock is taken
before the transaction and released on every exit path.
"""

import logging
import os
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timezone as dt_timezone
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
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
from traction_rec_import import backups, locks, mapping, sources, storage
from traction_rec_import.models import (
    FetchedLocation,
    ImportRun,
    ImportSettings,
    LocationMapping,
    SkippedRecord,
)

logger = logging.getLogger(__name__)

BATCH = 2000
UPDATE_BATCH = 500
PROGRESS_EVERY = 5000
# SQLite allows 32,766 variables per statement; stay far below it.
IN_CHUNK = 900

MODELS = ("program", "subcategory", "activity", "class", "session")
PLURALS = {
    "program": "programs",
    "subcategory": "program subcategories",
    "activity": "activities",
    "class": "classes",
    "session": "sessions",
}
# The file whose completeness allows sync to remove rows of each model.
SOURCE_FILES = {
    "program": sources.PROGRAMS,
    "subcategory": sources.SUBCATEGORIES,
    "activity": sources.CLASSES,
    "class": sources.CLASSES,
    "session": sources.SESSIONS,
}

# The foreign key to each type's parent, along which a delete cascades.
PARENT_FIELDS = {
    "subcategory": "program_id",
    "activity": "subcategory_id",
    "class": "activity_id",
    "session": "session_class_id",
}

SESSION_FIELDS = [
    "title",
    "published",
    "online_registration",
    "description",
    "min_age",
    "max_age",
    "registration_link",
    "registration_opens_at",
    "registration_closes_at",
    "instructor",
    "availability",
    "unlimited_capacity",
    "price_description",
    "wait_list_capacity",
    "wait_list_unlimited",
    "product_id",
    "starts_at",
    "ends_at",
]

SESSION_UPDATE_COLUMNS = SESSION_FIELDS + [
    "session_class_id",
    "location_id",
    "source_hash",
    "updated_at",
]

SourceError = sources.SourceError


@lru_cache(maxsize=65536)
def _sqlite_datetime(value):
    # What Django's SQLite backend stores: naive UTC text. Options share
    # their dates, so most conversions are cache hits.
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt_timezone.utc).replace(tzinfo=None)
    return str(value)


def _sqlite_time(value):
    return None if value is None else str(value)


class RowWriter:
    """INSERT and UPDATE of plain value dicts with executemany.

    Django's bulk_create prepares every value through the field and, on
    SQLite, sends at most 999 parameters a statement; for the tens of
    thousands of sessions and times of a large org that costs more than the
    rest of the import. Values here are already clean (the mapping made
    them), so each column only needs the backend's adaptation of dates and
    times. Keys are attnames (`location_id`); a column left out gets the
    field's default.
    """

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [f.attname for f in self.fields]
        # get_default() is "" for text without a default, None for the rest.
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.adapters = {f.attname: self._adapter(f) for f in self.fields}

    @staticmethod
    def _adapter(field):
        kind = field.get_internal_type()
        ops = connection.ops
        if connection.vendor == "sqlite":
            if kind == "DateTimeField":
                return _sqlite_datetime
            if kind == "TimeField":
                return _sqlite_time
        if kind == "DateTimeField":
            return ops.adapt_datetimefield_value
        if kind == "TimeField":
            return ops.adapt_timefield_value
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind == "DecimalField":
            return lambda value: ops.adapt_decimalfield_value(
                value, field.max_digits, field.decimal_places
            )
        return None

    def _row(self, values, columns):
        row = []
        for column in columns:
            value = values[column] if column in values else self.defaults.get(column)
            adapt = self.adapters[column]
            row.append(value if adapt is None else adapt(value))
        return row

    def insert(self, rows):
        quote = connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(self.model._meta.db_table),
            ", ".join(quote(column) for column in self.columns),
            ", ".join(["%s"] * len(self.columns)),
        )
        with connection.cursor() as cursor:
            params = [self._row(values, self.columns) for values in rows]
            cursor.executemany(sql, params)

    def update(self, rows, columns):
        quote = connection.ops.quote_name
        sql = "UPDATE {} SET {} WHERE {} = %s".format(
            quote(self.model._meta.db_table),
            ", ".join(f"{quote(column)} = %s" for column in columns),
            quote(self.model._meta.pk.column),
        )
        params = [self._row(values, columns) + [values["id"]] for values in rows]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


class ImportDisabled(Exception):
    """Import is switched off in the import settings."""


class ImportRefused(Exception):
    """A sync would remove more than the safety share of a type."""


@dataclass
class ImportResult:
    run_id: int
    counts: dict
    complete: bool
    dry_run: bool = False
    source_dir: str = ""
    duration: float = 0.0
    notes: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    @property
    def changed(self):
        return any(
            counts.get(kind, 0)
            for counts in self.counts.values()
            for kind in ("created", "updated", "removed")
        )

    def summary(self):
        """One line for the operator."""
        parts = []
        for model in MODELS:
            counts = self.counts.get(model, {})
            parts.append(
                f"{PLURALS[model]} {counts.get('created', 0)} created, "
                f"{counts.get('updated', 0)} updated, "
                f"{counts.get('unchanged', 0)} unchanged, "
                f"{counts.get('removed', 0)} removed, "
                f"{counts.get('skipped', 0)} skipped"
            )
        verb = "Dry run of import" if self.dry_run else "Imported"
        return (
            f"{verb} #{self.run_id} from {self.source_dir} in {self.duration:.1f} s: "
            + "; ".join(parts)
            + "."
        )


def new_counts():
    return {
        model: {"created": 0, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 0}
        for model in MODELS
    }


def community_url():
    """The community URL for registration links; "" until the client settings exist."""
    try:
        from traction_rec.models import ConnectionSettings
    except ImportError:
        return ""
    load = getattr(ConnectionSettings, "load", None)
    if load is None:
        return ""
    try:
        return getattr(load(), "community_url", "") or ""
    except DatabaseError:
        # The connection settings table is not migrated yet.
        return ""




# The runs that hold the import lock while they work.
LOCKED_KINDS = (
    ImportRun.Kind.IMPORT,
    ImportRun.Kind.QUICK_SYNC,
    ImportRun.Kind.ROLLBACK,
)


def close_interrupted_runs(current):
    """Mark runs of the import lock still "running" as failed.

    Called with the lock held, so none of them is alive: its process was
    killed or its machine restarted before it recorded the end; its
    transaction was rolled back with it.
    """
    stopped = (
        ImportRun.objects.filter(
            kind__in=LOCKED_KINDS,
            status=ImportRun.Status.RUNNING,
            started_at__lte=current.started_at,
        )
        .exclude(pk=current.pk)
        .update(
            status=ImportRun.Status.FAILED,
            finished_at=timezone.now(),
            error_code="INTERRUPTED",
            error_message=(
                "The run stopped before it finished (its process was killed or "
                "the machine restarted); its changes were rolled back."
            ),
            hint="Nothing to undo: run it again.",
        )
    )
    if stopped:
        logger.warning("runs=%s marked failed: interrupted", stopped)
    return stopped


def save_fetched_locations(records, source_dir, *, now=None):
    """Store locations.json rows for the mapping screen; returns how many."""
    now = now or timezone.now()
    existing = {row.sf_id: row for row in FetchedLocation.objects.all()}
    new, changed = {}, {}
    for record in records:
        sf_id = mapping.ref_id(record.get("Id"))
        if sf_id is None or len(sf_id) > 18:
            continue
        values = mapping.map_fetched_location(record)
        row = existing.get(sf_id) or new.get(sf_id)
        if row is None:
            new[sf_id] = FetchedLocation(
                sf_id=sf_id, source_dir=str(source_dir), seen_at=now, **values
            )
            continue
        for name, value in values.items():
            setattr(row, name, value)
        row.source_dir = str(source_dir)
        row.seen_at = now
        if row.pk is not None:
            changed[sf_id] = row
    FetchedLocation.objects.bulk_create(new.values(), batch_size=BATCH)
    FetchedLocation.objects.bulk_update(
        changed.values(),
        ["name", "street", "city", "state", "postal_code", "country", "source_dir",
         "seen_at"],
        batch_size=UPDATE_BATCH,
    )  # fmt: skip
    return len(new) + len(changed)


class LocationResolver:
    """Our Location for a Traction Rec location: the admin's mapping first,
    then an exact title match among branches and camps."""

    def __init__(self):
        self.mapped = dict(
            LocationMapping.objects.values_list("sf_location_id", "location_id")
        )
        self.by_title = defaultdict(list)
        kinds = [Location.Kind.BRANCH, Location.Kind.CAMP]
        for pk, title in Location.objects.filter(kind__in=kinds).values_list(
            "pk", "title"
        ):
            self.by_title[title].append(pk)
        self._cache = {}

    def resolve(self, location_id, name):
        """(Location pk, "") or (None, reason)."""
        key = (location_id, name)
        if key not in self._cache:
            self._cache[key] = self._resolve(location_id, name)
        return self._cache[key]

    def _resolve(self, location_id, name):
        if location_id and location_id in self.mapped:
            return self.mapped[location_id], ""
        if not location_id and not name:
            return None, "The option has no location."
        label = f"{name!r} ({location_id})" if location_id else repr(name)
        matches = self.by_title.get(name, []) if name else []
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            return None, (
                f"Its location {label} matches {len(matches)} of our branches and "
                "camps by title; map its Id under Traction Rec locations in admin."
            )
        return None, (
            f"Its location {label} is not mapped and matches none of our branches "
            "or camps by title; map it under Traction Rec locations in admin, or "
            "create a branch from it."
        )


class Table:
    """What one run knows about one model: the rows before it and what it saw."""

    def __init__(self, model, name, fields):
        self.model = model
        self.name = name
        self.fields = fields
        self.existing = {}
        self.published = set()
        for sf_id, pk, digest, published in model.objects.filter(
            sf_id__isnull=False
        ).values_list("sf_id", "pk", "source_hash", "published"):
            self.existing[sf_id] = (pk, digest)
            if published:
                self.published.add(sf_id)
        self.pks = {sf_id: pk for sf_id, (pk, _) in self.existing.items()}
        self.seen = set()

    def state(self, sf_id, digest, update):
        """"new", "changed" or "unchanged" for a source record."""
        before = self.existing.get(sf_id)
        if before is None:
            return "new"
        if update or before[1] != digest:
            return "changed"
        return "unchanged"


class Importer:
    def __init__(self, folder, *, sync, update, force, dry_run, progress=None):
        self.folder = folder
        self.sync = sync
        self.update = update
        self.force = force
        self.dry_run = dry_run
        self.progress = progress or (lambda stage, done, total: None)
        self.counts = new_counts()
        self.skips = []
        self.notes = []
        self.settings = ImportSettings.load()
        self.community_url = community_url()
        self.time_zone = settings.TIME_ZONE
        self.now = timezone.now()
        self.session_writer = RowWriter(Session)
        self.time_writer = RowWriter(SessionTime)

    # Bookkeeping

    def report_bad_entries(self, model):
        """Skips for the entries of a file that were not records."""
        for _, reason in self.folder.bad_entries:
            self.skip(model, "", reason)
        self.folder.bad_entries.clear()

    def skip(self, model, sf_id, reason):
        self.counts[model]["skipped"] += 1
        self.skips.append((model, sf_id or "", reason))

    def note(self, text):
        self.notes.append(text)
        logger.info("import note: %s", text)

    # The run

    def run(self):
        for name in sources.FILES:
            failure = self.folder.failure(name)
            if failure and name != sources.LOCATIONS:
                self.note(failure + " Its rows were left as they are.")
        if not self.community_url:
            self.note(
                "No community URL in the Traction Rec connection settings: "
                "sessions get no registration link."
            )

        self.refresh_fetched_locations()
        self.resolver = LocationResolver()
        self.tables = {
            "program": Table(Program, "program", ["title", "published"]),
            "subcategory": Table(
                ProgramSubcategory, "subcategory", ["title", "published", "program"]
            ),
            "activity": Table(
                Activity, "activity", ["title", "published", "subcategory"]
            ),
            "class": Table(
                Class, "class", ["title", "published", "description", "activity"]
            ),
            "session": Table(Session, "session", SESSION_FIELDS),
        }
        self.import_programs()
        self.import_subcategories()
        self.import_courses()
        self.import_sessions()
        if self.sync:
            self.remove_gone()

    def refresh_fetched_locations(self):
        records = self.folder.records(sources.LOCATIONS)
        for _, reason in self.folder.bad_entries:
            self.note(reason)
        self.folder.bad_entries.clear()
        save_fetched_locations(records, self.folder.path, now=self.now)

    def _write(self, table, new, changed):
        """bulk_create the new rows and bulk_update the changed ones."""
        if new:
            table.model.objects.bulk_create(new, batch_size=BATCH)
            for row in new:
                table.pks[row.sf_id] = row.pk
        if changed:
            table.model.objects.bulk_update(
                changed, table.fields + ["source_hash", "updated_at"],
                batch_size=UPDATE_BATCH,
            )

    def _offer(self, table, sf_id, digest, build, new, changed):
        """Queue one source record's row; build() returns its field values."""
        try:
            mapping.check_id(sf_id)
        except mapping.MappingError as exc:
            self.skip(table.name, sf_id, str(exc))
            return False
        state = table.state(sf_id, digest, self.update)
        if state == "unchanged":
            self.counts[table.name]["unchanged"] += 1
            return True
        try:
            values = build()
        except mapping.MappingError as exc:
            self.skip(table.name, sf_id, str(exc))
            return False
        if state == "new":
            row = table.model(
                sf_id=sf_id, source_hash=digest, created_by_import=True, **values
            )
            new.append(row)
            self.counts[table.name]["created"] += 1
        else:
            pk = table.existing[sf_id][0]
            row = table.model(
                pk=pk, sf_id=sf_id, source_hash=digest, updated_at=self.now, **values
            )
            changed.append(row)
            self.counts[table.name]["updated"] += 1
        return True

    def _first_seen(self, table, sf_id, model_name):
        if sf_id is None:
            self.skip(model_name, "", "The record has no Id.")
            return False
        if sf_id in table.seen:
            self.skip(model_name, sf_id, "The Id is listed twice; the first was used.")
            return False
        table.seen.add(sf_id)
        return True

    def import_programs(self):
        table = self.tables["program"]
        records = self.folder.records(sources.PROGRAMS)
        new, changed = [], []
        self.category_available = {}
        for record in records:
            sf_id = mapping.ref_id(record.get("Id"))
            if not self._first_seen(table, sf_id, "program"):
                continue
            digest = mapping.source_hash(record, mapping.MAPPING_VERSION)
            if self._offer(
                table, sf_id, digest, lambda: mapping.map_program(record), new, changed
            ):
                self.category_available[sf_id] = mapping.flag(
                    record.get("Available"), default=True
                )
        if not self.folder.is_readable(sources.PROGRAMS):
            # Parents from the last good import stand in for a failed file.
            self.category_available = {
                sf_id: sf_id in table.published for sf_id in table.existing
            }
        self._write(table, new, changed)
        self.report_bad_entries("program")
        self.progress("programs", len(records), len(records))

    def import_subcategories(self):
        table = self.tables["subcategory"]
        programs = self.tables["program"]
        rows = self.folder.records(sources.SUBCATEGORIES)
        self.report_bad_entries("subcategory")
        chosen, dropped, orphans = mapping.choose_parents(rows, self.category_available)
        new, changed = [], []

        for sf_id, record, reason in orphans:
            table.seen.add(sf_id)
            self.skip("subcategory", sf_id, reason)
        for sf_id, parent, kept in dropped:
            self.skips.append(
                (
                    "subcategory",
                    sf_id,
                    f"Also listed under program category {parent}; kept under "
                    f"{kept} only (a program has one parent here).",
                )
            )
        self.subcategory_skips = {sf_id: reason for sf_id, _, reason in orphans}
        for row in rows:
            if mapping.ref_id(row.get("Id")) is None:
                self.skip("subcategory", "", "The record has no Id.")

        for sf_id in sorted(chosen):
            record, parent = chosen[sf_id]
            table.seen.add(sf_id)
            digest = mapping.source_hash(record, parent, mapping.MAPPING_VERSION)
            parent_pk = programs.pks[parent]

            def build(record=record, parent_pk=parent_pk):
                return {**mapping.map_subcategory(record), "program_id": parent_pk}

            if not self._offer(table, sf_id, digest, build, new, changed):
                self.subcategory_skips[sf_id] = self.skips[-1][2]
        self._write(table, new, changed)
        self.progress("program subcategories", len(rows), len(rows))

    def import_courses(self):
        activities = self.tables["activity"]
        classes = self.tables["class"]
        subcategories = self.tables["subcategory"]
        records = self.folder.records(sources.CLASSES)
        self.report_bad_entries("class")
        self.class_skips = {}
        new_activities, changed_activities, pending = [], [], []

        for record in records:
            sf_id = mapping.ref_id(record.get("Id"))
            if not self._first_seen(activities, sf_id, "activity"):
                self.skip("class", sf_id, self.skips[-1][2])
                continue
            classes.seen.add(sf_id)
            program_id = mapping.course_program_id(record)
            reason = ""
            if program_id is None:
                reason = "The course has no Program."
            elif program_id in self.subcategory_skips:
                reason = (
                    f"Its program {program_id} was skipped: "
                    f"{self.subcategory_skips[program_id]}"
                )
            elif program_id not in subcategories.seen and not (
                program_id in subcategories.pks
                and not self.folder.is_readable(sources.SUBCATEGORIES)
            ):
                reason = f"Its program {program_id} is not in program_categories.json."
            if reason:
                self.skip("activity", sf_id, reason)
                self.skip("class", sf_id, reason)
                self.class_skips[sf_id] = reason
                continue

            parent_pk = subcategories.pks[program_id]
            digest = mapping.source_hash(record, program_id, mapping.MAPPING_VERSION)

            def build(record=record, parent_pk=parent_pk):
                return {**mapping.map_activity(record), "subcategory_id": parent_pk}

            if self._offer(
                activities, sf_id, digest, build, new_activities, changed_activities
            ):
                pending.append((sf_id, record, digest))
            else:
                self.skip("class", sf_id, self.skips[-1][2])
                self.class_skips[sf_id] = self.skips[-1][2]
        self._write(activities, new_activities, changed_activities)

        new_classes, changed_classes = [], []
        for sf_id, record, digest in pending:
            activity_pk = activities.pks[sf_id]

            def build(record=record, activity_pk=activity_pk):
                return {**mapping.map_class(record), "activity_id": activity_pk}

            if not self._offer(
                classes, sf_id, digest, build, new_classes, changed_classes
            ):
                self.class_skips[sf_id] = self.skips[-1][2]
        self._write(classes, new_classes, changed_classes)
        self.progress("classes", len(records), len(records))

    def import_sessions(self):
        table = self.tables["session"]
        classes = self.tables["class"]
        total = self.folder.expected_count(sources.SESSIONS)
        first_course_session = {}
        new, changed = [], []
        done = 0

        for record in self.folder.stream(sources.SESSIONS):
            done += 1
            if self.folder.bad_entries:
                self.report_bad_entries("session")
            (
                option_id,
                course_session_id,
                course_id,
                location_id,
                location_name,
            ) = mapping.session_keys(record)
            if option_id is None:
                self.skip(
                    "session",
                    mapping.ref_id(record.get("Id")),
                    "The row has no Course_Option Id.",
                )
                continue
            if option_id in table.seen:
                self.skip(
                    "session",
                    option_id,
                    f"The option is listed again under course session "
                    f"{course_session_id}; it was imported once, from course "
                    f"session {first_course_session[option_id]}.",
                )
                continue
            table.seen.add(option_id)
            first_course_session[option_id] = course_session_id

            reason = ""
            if course_id is None:
                reason = "The row names no course (Course_Session.Course.Id)."
            elif course_id in self.class_skips:
                reason = (
                    f"Its course {course_id} was skipped: {self.class_skips[course_id]}"
                )
            elif course_id not in classes.seen and not (
                course_id in classes.pks
                and not self.folder.is_readable(sources.CLASSES)
            ):
                reason = (
                    f"Its course {course_id} is not in classes.json: the course "
                    "is likely not available online in Traction Rec, or the "
                    "courses fetch failed."
                )
            location_pk = None
            if not reason:
                location_pk, reason = self.resolver.resolve(location_id, location_name)
            if reason:
                self.skip("session", option_id, reason)
            else:
                digest = mapping.source_hash(
                    record,
                    location_pk,
                    self.community_url,
                    self.time_zone,
                    mapping.MAPPING_VERSION,
                )
                self._offer_session(
                    table, option_id, digest, record, classes.pks[course_id],
                    location_pk, new, changed,
                )
            if len(new) + len(changed) >= BATCH:
                self._write_sessions(new, changed)
                new, changed = [], []
            if done % PROGRESS_EVERY == 0:
                self.progress("sessions", done, total)
        self._write_sessions(new, changed)
        self.report_bad_entries("session")
        self.progress("sessions", done, total)

    def _offer_session(
        self, table, sf_id, digest, record, class_pk, location_pk, new, changed
    ):
        state = table.state(sf_id, digest, self.update)
        if state == "unchanged":
            self.counts["session"]["unchanged"] += 1
            return
        try:
            mapping.check_id(sf_id)
            values, times = mapping.map_session(
                record, community_url=self.community_url, time_zone=self.time_zone
            )
        except mapping.MappingError as exc:
            self.skip("session", sf_id, str(exc))
            return
        values.update(
            session_class_id=class_pk,
            location_id=location_pk,
            sf_id=sf_id,
            source_hash=digest,
            updated_at=self.now,
        )
        if state == "new":
            values.update(created_by_import=True, created_at=self.now)
            new.append((values, times))
            self.counts["session"]["created"] += 1
        else:
            values["id"] = table.existing[sf_id][0]
            changed.append((values, times))
            self.counts["session"]["updated"] += 1

    def _write_sessions(self, new, changed):
        """Write one batch: sessions inserted or updated, their times replaced."""
        if new:
            self.session_writer.insert([values for values, _ in new])
            ids = [values["sf_id"] for values, _ in new]
            pks = {}
            for start in range(0, len(ids), IN_CHUNK):
                pks.update(
                    Session.objects.filter(
                        sf_id__in=ids[start : start + IN_CHUNK]
                    ).values_list("sf_id", "pk")
                )
            for values, _ in new:
                values["id"] = pks[values["sf_id"]]
        if changed:
            self.session_writer.update(
                [values for values, _ in changed], SESSION_UPDATE_COLUMNS
            )
            pks = [values["id"] for values, _ in changed]
            for start in range(0, len(pks), IN_CHUNK):
                SessionTime.objects.filter(
                    session_id__in=pks[start : start + IN_CHUNK]
                ).delete()
        times = []
        for values, time in new + changed:
            time["session_id"] = values["id"]
            times.append(time)
        if times:
            self.time_writer.insert(times)

    # Sync

    def remove_gone(self):
        """Remove (or unpublish) rows whose source is gone, per complete file.

        Deleting a row deletes its children by cascade (a gone class takes
        its sessions, even those sessions.json still lists); those count as
        removed and in their own type's safety share, so the refusal names
        what would really go. Unpublishing has no cascade.
        """
        unpublish = self.settings.removal == ImportSettings.Removal.UNPUBLISH
        plans = {}
        share = self.settings.sync_safety_share
        for name in MODELS:
            table = self.tables[name]
            source = SOURCE_FILES[name]
            if not self.folder.is_complete(source):
                self.note(
                    f"{PLURALS[name].capitalize()} were not synced: {source} is not "
                    "complete in this fetch."
                )
                continue
            pool = table.published if unpublish else set(table.existing)
            plans[name] = {
                table.existing[sf_id][0] for sf_id in pool if sf_id not in table.seen
            }
        if not unpublish:
            self._add_cascades(plans)

        refusals = []
        for name in MODELS:
            gone = plans.get(name)
            if not gone:
                continue
            table = self.tables[name]
            pool = table.published if unpublish else set(table.existing)
            # Cascaded rows the import did not create (no sf_id) count too.
            total = len(pool) + len(gone - set(table.pks.values()))
            percent = len(gone) * 100 / total
            if percent > share:
                refusals.append(
                    f"{len(gone)} of {total} {PLURALS[name]} ({percent:.0f}%)"
                )

        if refusals and not self.force:
            verb = "unpublish" if unpublish else "remove"
            raise ImportRefused(
                f"Sync refused: it would {verb} {', '.join(refusals)}, above the "
                f"safety share of {share}%. Check that the fetch is complete; if "
                "these really are gone from Traction Rec, run again with --force."
            )

        # Leaves first, so each delete removes exactly the rows it counts.
        for name in reversed(MODELS):
            gone = sorted(plans.get(name, ()))
            if not gone:
                continue
            model = self.tables[name].model
            for start in range(0, len(gone), IN_CHUNK):
                rows = model.objects.filter(pk__in=gone[start : start + IN_CHUNK])
                if unpublish:
                    # Forget the hash so the row is rewritten if its source returns.
                    rows.update(published=False, source_hash="", updated_at=self.now)
                else:
                    rows.delete()
            self.counts[name]["removed"] = len(gone)

    def _add_cascades(self, plans):
        """Add to each type's plan (pks) the rows a parent's delete cascades to."""
        parents = set()
        for name in MODELS:
            own = set(plans.get(name, ()))
            parent_field = PARENT_FIELDS.get(name)
            if parent_field and parents:
                parent_pks = sorted(parents)
                model = self.tables[name].model
                for start in range(0, len(parent_pks), IN_CHUNK):
                    chunk = parent_pks[start : start + IN_CHUNK]
                    own.update(
                        model.objects.filter(
                            **{f"{parent_field}__in": chunk}
                        ).values_list("pk", flat=True)
                    )
            if own:
                plans[name] = own
            parents = own


def run_import(
    *,
    directory=None,
    sync=False,
    update=False,
    force=False,
    dry_run=False,
    task_id="",
    progress=None,
):
    """Import one fetch folder (the newest published one unless given)."""
    started = time.monotonic()
    options = {"sync": sync, "update": update, "force": force, "dry_run": dry_run}
    # Before any write: on SQLite a write would wait for the running
    # import's transaction instead of reporting its lock.
    locks.check(locks.IMPORT)
    import_settings = ImportSettings.load()
    path = Path(directory) if directory else storage.latest_published()
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.IMPORT,
        source_dir=str(path or ""),
        options=options,
        host=socket.gethostname(),
        pid=os.getpid(),
        task_id=task_id or "",
    )

    def finish(status, *, code="", message="", hint="", counts=None, notes=()):
        run.status = status
        run.finished_at = timezone.now()
        run.error_code = code
        run.error_message = message
        run.hint = hint
        if counts is not None:
            run.counts = counts
        if notes:
            run.options = {**options, "notes": list(notes)}
        run.save()

    if not import_settings.import_enabled:
        from traction_rec_import.fetch import settings_admin_url

        message = (
            "Import is switched off in the import settings; switch it on at "
            f"{settings_admin_url()} to run it."
        )
        finish(ImportRun.Status.SKIPPED, code="import_disabled", message=message)
        raise ImportDisabled(message)
    if path is None:
        message = (
            "There is no published fetch folder to import; run tr_fetch first, "
            "or give one with --dir."
        )
        finish(ImportRun.Status.FAILED, code="no_folder", message=message)
        raise SourceError(message)

    if not directory:
        stale = stale_folder_message(path)
        if stale:
            finish(ImportRun.Status.FAILED, code="stale_folder", message=stale)
            raise SourceError(stale)

    importer = None
    try:
        with locks.hold(locks.IMPORT, task_id=task_id) as held:
            close_interrupted_runs(run)
            folder = sources.FetchFolder(path)
            run.manifest = folder.manifest or {}
            importer = Importer(
                folder,
                sync=sync,
                update=update,
                force=force,
                dry_run=dry_run,
                progress=progress,
            )
            if held.took_over:
                importer.note(
                    f"Took over a stale import lock held by {held.took_over}."
                )
            with transaction.atomic():
                importer.run()
                if dry_run:
                    transaction.set_rollback(True)
    except locks.LockHeld as exc:
        finish(ImportRun.Status.SKIPPED, code="lock_held", message=str(exc))
        raise
    except ImportRefused as exc:
        _save_skips(run, importer)
        finish(
            ImportRun.Status.FAILED,
            code="sync_refused",
            message=str(exc),
            hint="Run tr_import --sync --force if the rows really are gone.",
            counts=importer.counts,
            notes=importer.notes,
        )
        raise
    except SourceError as exc:
        finish(ImportRun.Status.FAILED, code="bad_folder", message=str(exc))
        raise
    except Exception as exc:
        # Recorded and raised again: the transaction is already rolled back.
        logger.exception("import run=%s failed", run.pk)
        finish(
            ImportRun.Status.FAILED,
            code=type(exc).__name__,
            message=f"The import failed and changed nothing: {exc}",
            hint="Fix the cause and run tr_import again.",
            counts=importer.counts if importer else None,
        )
        raise

    _save_skips(run, importer)
    result = ImportResult(
        run_id=run.pk,
        counts=importer.counts,
        complete=all(folder.is_complete(name) for name in set(SOURCE_FILES.values())),
        dry_run=dry_run,
        source_dir=str(path),
        notes=importer.notes,
        skipped=importer.skips,
    )
    if result.changed and not dry_run:
        cache.invalidate()
    if not dry_run:
        try:
            _move_to_backups(path, importer)
        except (OSError, backups.CleanUpError) as exc:
            # The import is committed: record it as complete, say the
            # folder stayed, and never leave the run "running".
            logger.warning("import run=%s folder not archived: %s", run.pk, exc)
            importer.note(
                f"The import is complete, but moving {path} to the backups "
                f"failed ({exc}). Move or remove the folder by hand; until "
                "then the next tr_import without --dir imports it again."
            )
    result.duration = time.monotonic() - started
    finish(
        ImportRun.Status.COMPLETE, counts=importer.counts, notes=importer.notes
    )
    logger.info(
        "import run=%s dry_run=%s duration=%.1fs counts=%s",
        run.pk,
        dry_run,
        result.duration,
        importer.counts,
    )
    return result


def last_imported_folder():
    """The name of the newest fetch folder already imported, or "".

    The newer of the last complete, non-dry-run import's source folder and
    the newest backup; both carry the fetch's time-stamped name."""
    names = []
    runs = ImportRun.objects.filter(
        kind=ImportRun.Kind.IMPORT, status=ImportRun.Status.COMPLETE
    ).order_by("-started_at")
    for source_dir, options in runs.values_list("source_dir", "options")[:50]:
        name = Path(source_dir).name
        if not (options or {}).get("dry_run") and storage.is_published_name(name):
            names.append(name)
            break
    newest_backup = storage.published_folders(storage.backup_root())
    if newest_backup:
        names.append(newest_backup[0].name)
    return max(names, key=_stamp, default="")


def _stamp(name):
    return storage.PUBLISHED_NAME.match(name)["stamp"]


def stale_folder_message(path):
    """Why the newest fetch folder must not be imported, or "" when it may.

    A folder older than one already imported would bring back older data
    (and, with --sync, remove rows only the newer fetch had)."""
    if not storage.is_published_name(path.name):
        return ""
    last = last_imported_folder()
    if not last or _stamp(path.name) >= _stamp(last):
        return ""
    return (
        f"The newest folder in fetch/, {path.name}, is older than {last}, which "
        "was already imported; importing it would bring back older data. Run "
        f"tr_fetch for fresh data, or pass --dir {path} to import it on purpose."
    )


def _save_skips(run, importer):
    if importer is None or not importer.skips:
        return
    SkippedRecord.objects.bulk_create(
        [
            SkippedRecord(run=run, model=model, sf_id=sf_id, reason=reason)
            for model, sf_id, reason in importer.skips
        ],
        batch_size=BATCH,
    )


def _move_to_backups(path, importer):
    """Hand an imported folder of the fetch area to the backups: moved to
    backups/ when the settings keep backups, removed otherwise. A folder
    named with --dir outside fetch/ stays where it is."""
    if Path(path).resolve().parent != Path(storage.fetch_root()).resolve():
        return
    moved = backups.archive(Path(path))
    if moved is None:
        importer.note(f"Removed {path} after the import (backups are off).")
    else:
        importer.note(f"Moved {path} to {moved}.")
