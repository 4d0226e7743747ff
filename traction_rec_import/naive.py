"""A deliberately naive importer: the benchmark's baseline, not for production.

It maps with the same functions as the real importer (traction_rec_import.
mapping) and so produces the same rows, but it reads and saves one row at a
time through the ORM, the way a first attempt (or a Drupal migration) does:
a SELECT per record, a save() per row, and a delete and insert per session
time. The benchmark runs both on one org to measure the ratio. It writes in
one transaction like the real import, so the difference is only the per-row
queries. No sync, dry run, lock or run record: the real importer has those.
"""

import time

from django.conf import settings
from django.db import transaction

from activity_finder.models import (
    Activity,
    Class,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)
from traction_rec_import import mapping, sources
from traction_rec_import.importer import LocationResolver, community_url


def _save(model, sf_id, digest, values, counts):
    row = model.objects.filter(sf_id=sf_id).first()
    if row is not None and row.source_hash == digest:
        counts["unchanged"] += 1
        return row, False
    if row is None:
        row = model(sf_id=sf_id, created_by_import=True)
        counts["created"] += 1
    else:
        counts["updated"] += 1
    for name, value in values.items():
        setattr(row, name, value)
    row.source_hash = digest
    row.save()
    return row, True


def _counter():
    return {"created": 0, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 0}


def run_naive_import(directory, *, time_limit=None):
    """Import a folder row by row; stop after time_limit seconds if given.

    Returns per-model counts plus sessions_total, sessions_done and seconds.
    """
    started = time.monotonic()
    folder = sources.FetchFolder(directory)
    counts = {name: _counter() for name in ("program", "subcategory", "activity",
                                             "class", "session")}  # fmt: skip
    url = community_url()
    zone = settings.TIME_ZONE
    resolver = LocationResolver()
    sessions_total = sum(1 for _ in folder.stream(sources.SESSIONS))
    sessions_done = 0

    with transaction.atomic():
        available = {}
        for record in folder.records(sources.PROGRAMS):
            sf_id = mapping.ref_id(record.get("Id"))
            try:
                values = mapping.map_program(record)
            except mapping.MappingError:
                counts["program"]["skipped"] += 1
                continue
            digest = mapping.source_hash(record, mapping.MAPPING_VERSION)
            _save(Program, sf_id, digest, values, counts["program"])
            available[sf_id] = mapping.flag(record.get("Available"), default=True)

        rows = folder.records(sources.SUBCATEGORIES)
        chosen, _, orphans = mapping.choose_parents(rows, available)
        counts["subcategory"]["skipped"] += len(orphans)
        for sf_id in sorted(chosen):
            record, parent = chosen[sf_id]
            try:
                values = mapping.map_subcategory(record)
            except mapping.MappingError:
                counts["subcategory"]["skipped"] += 1
                continue
            values["program"] = Program.objects.get(sf_id=parent)
            digest = mapping.source_hash(record, parent, mapping.MAPPING_VERSION)
            _save(ProgramSubcategory, sf_id, digest, values, counts["subcategory"])

        for record in folder.records(sources.CLASSES):
            sf_id = mapping.ref_id(record.get("Id"))
            program_id = mapping.course_program_id(record)
            subcategory = ProgramSubcategory.objects.filter(sf_id=program_id).first()
            if subcategory is None:
                counts["activity"]["skipped"] += 1
                counts["class"]["skipped"] += 1
                continue
            try:
                activity_values = mapping.map_activity(record)
                class_values = mapping.map_class(record)
            except mapping.MappingError:
                counts["activity"]["skipped"] += 1
                counts["class"]["skipped"] += 1
                continue
            digest = mapping.source_hash(record, program_id, mapping.MAPPING_VERSION)
            activity_values["subcategory"] = subcategory
            activity, _ = _save(
                Activity, sf_id, digest, activity_values, counts["activity"]
            )
            class_values["activity"] = activity
            _save(Class, sf_id, digest, class_values, counts["class"])

        seen = set()
        for record in folder.stream(sources.SESSIONS):
            if time_limit is not None and time.monotonic() - started > time_limit:
                break
            sessions_done += 1
            option_id, _, course_id = mapping.session_ids(record)
            if option_id is None or option_id in seen:
                counts["session"]["skipped"] += 1
                continue
            seen.add(option_id)
            session_class = Class.objects.filter(sf_id=course_id).first()
            location_pk, _ = resolver.resolve(*mapping.session_location(record))
            if session_class is None or location_pk is None:
                counts["session"]["skipped"] += 1
                continue
            digest = mapping.source_hash(
                record, location_pk, url, zone, mapping.MAPPING_VERSION
            )
            existing = Session.objects.filter(sf_id=option_id).first()
            if existing is not None and existing.source_hash == digest:
                counts["session"]["unchanged"] += 1
                continue
            try:
                values, time_values = mapping.map_session(
                    record, community_url=url, time_zone=zone
                )
            except mapping.MappingError:
                counts["session"]["skipped"] += 1
                continue
            values.update(session_class=session_class, location_id=location_pk)
            session, _ = _save(Session, option_id, digest, values, counts["session"])
            SessionTime.objects.filter(session=session).delete()
            SessionTime.objects.create(session=session, **time_values)

    return {
        **counts,
        "sessions_total": sessions_total,
        "sessions_done": sessions_done,
        "seconds": time.monotonic() - started,
    }
