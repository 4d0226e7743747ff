"""Fetch what the site needs from Traction Rec into a published folder of JSON.

The Drupal module's fetcher treated a failed page 2 as the end of the data,
and the next `--sync` import deleted every session that was not on page 1.
Here every query pages to its end or its file is marked failed in the
manifest with the Salesforce error; the run is published as failed (kept for
inspection), the previous complete folder stays where it was, and the import
never uses a failed file for deletions.

Records stream from the client through the key simplifier into the files;
nothing holds a whole object's records. Memory is bounded by the page size
(the client keeps the last page while it asks for the next, so at most two
pages of 2,000 records), not by the number of pages.
"""

import logging
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from traction_rec_import import locks, manifest, storage
from traction_rec_import.models import ImportRun, ImportSettings, LocationMapping

logger = logging.getLogger(__name__)


class FetchDisabled(Exception):
    """The admin turned the fetch off; the message says where to turn it on."""


@dataclass
class FetchResult:
    run_id: int | None
    folder: Path | None
    complete: bool
    soql: list[str] = field(default_factory=list)
    # The manifest written (None for a dry run or a run that never started).
    manifest: dict | None = None


def settings_admin_url():
    """Where an admin edits ImportSettings (fetch and import switches)."""
    try:
        return reverse("admin:traction_rec_import_importsettings_change", args=[1])
    except NoReverseMatch:
        return reverse("admin:index")


def _disabled_message():
    return (
        "Fetching from Traction Rec is disabled in the import settings. Tick "
        f"\"Fetch enabled\" at {settings_admin_url()} to turn it on."
    )


def _program_tag_rows(tags):
    """Split Program Category Tags into programs.json and
    program_categories.json.

    The names cross over: Traction Rec's Program Category is what Open Y
    calls a Program, and Traction Rec's Program is Open Y's Program
    Subcategory (in the files, the "Program" of a program category entry is
    its Traction Rec category). programs.json lists each category once;
    program_categories.json keeps one entry per tag link, because a Traction
    Rec Program may sit under several categories and the import chooses one.
    """
    seen_categories = set()
    for tag in tags:
        program, category = tag.get("Program"), tag.get("Program_Category")
        if not isinstance(program, dict) or not isinstance(category, dict):
            # A tag whose program or category was deleted or is not visible
            # to the integration user: nothing to link.
            logger.warning(
                "program category tag=%s skipped: no program or category",
                tag.get("Id"),
            )
            continue
        if category.get("Id") not in seen_categories:
            seen_categories.add(category.get("Id"))
            yield "programs.json", category
        link = dict(program)
        link["Program"] = category
        yield "program_categories.json", link


def _location_rows(locations):
    """Locations as a list, each marked with whether it has an address.

    Every location is kept (the admin maps them, the Drupal fetcher meant to
    drop those without a city); Has_Address marks the ones with neither a
    street nor a city, such as a "Virtual" location."""
    for location in locations:
        row = dict(location)
        row["Has_Address"] = any(
            (location.get(key) or "").strip()
            for key in ("Address_Street", "Address_City")
        )
        yield "locations.json", row


def _rows(file_name):
    def rows(records):
        for record in records:
            yield file_name, record

    return rows


@dataclass(frozen=True)
class FetchObject:
    query: str
    files: tuple
    rows: object
    # Whether the location mapping narrows this query.
    mapped: bool = False


OBJECTS = (
    FetchObject(
        "program_category_tags",
        ("programs.json", "program_categories.json"),
        _program_tag_rows,
    ),
    FetchObject("courses", ("classes.json",), _rows("classes.json")),
    FetchObject(
        "course_options", ("sessions.json",), _rows("sessions.json"), mapped=True
    ),
    FetchObject("locations", ("locations.json",), _location_rows),
)


def mapped_location_ids():
    """The Traction Rec location Ids the admin mapped, or None for all."""
    ids = list(LocationMapping.objects.values_list("sf_location_id", flat=True))
    return ids or None


def build_soql():
    """[(query name, SOQL)] as the next fetch will send them."""
    from traction_rec import queries

    location_ids = mapped_location_ids()
    built = []
    for item in OBJECTS:
        ids = location_ids if item.mapped else None
        try:
            text = queries.build(item.query, location_ids=ids)
        except ValueError as exc:
            # Only the mapped Ids are data here; the rest of the query is code.
            raise ImproperlyConfigured(
                f"A location mapping holds an Id the {item.query} query cannot "
                f"use: {exc} Correct it on the location mapping screen."
            ) from None
        built.append((item.query, text))
    return built


class _Pages:
    """Counts the pages a query streamed."""

    def __init__(self):
        self.count = 0


def _records(client, soql, pages, batch_size):
    from traction_rec.errors import ConfigurationError
    from traction_rec.records import simplify

    for page in client.pages(soql, batch_size=batch_size):
        pages.count += 1
        for raw in page.records:
            try:
                yield simplify(raw)
            except ValueError as exc:
                raise ConfigurationError(
                    str(exc),
                    error_code="FIELD_COLLISION",
                    hint="Change TRACTION_REC_QUERY_OVERRIDES so the fields differ.",
                ) from None


def _error(exc):
    error = exc.as_dict()
    # A timeout or a refused connection has no Salesforce errorCode.
    error["code"] = error["code"] or type(exc).__name__
    return error


def _fetch_object(client, item, soql, folder, batch_size):
    """Write one query's files; return {file name: manifest entry}."""
    from traction_rec.errors import TractionRecError

    writers = {name: storage.JsonListWriter(folder / name) for name in item.files}
    pages = _Pages()
    error = None
    started = time.monotonic()
    try:
        for name, row in item.rows(_records(client, soql, pages, batch_size)):
            writers[name].write(row)
    except TractionRecError as exc:
        error = _error(exc)
        logger.warning(
            "query=%s failed on page=%s status=%s code=%s",
            item.query,
            pages.count + 1,
            exc.status,
            error["code"],
        )
    finally:
        for writer in writers.values():
            writer.close()

    logger.info(
        "query=%s pages=%s records=%s seconds=%.2f",
        item.query,
        pages.count,
        {name: writer.count for name, writer in writers.items()},
        time.monotonic() - started,
    )
    return {
        name: manifest.file_entry(
            records=writer.count,
            pages=pages.count,
            sha256=writer.sha256,
            error=error,
        )
        for name, writer in writers.items()
    }


def make_client():
    """The client for the saved connection settings (the one place tests
    patch to serve their own pages)."""
    from traction_rec.client import TractionRecClient

    return TractionRecClient.from_settings()


def _api_usage(client):
    info = getattr(client, "limit_info", None)
    if not info:
        return None
    used, allowed = info
    return {"used": used, "allowed": allowed}


def _record_errors(run, files):
    failed = [
        (name, entry["error"]) for name, entry in files.items() if entry["error"]
    ]
    if not failed:
        return
    run.error_code = failed[0][1]["code"][:64]
    run.error_message = " ".join(
        f"{name}: {error['message']}" for name, error in failed
    )
    run.hint = failed[0][1]["hint"]


def _close_interrupted_runs():
    """Mark fetch runs still "running" as failed. Called with the fetch lock
    held, so none of them is alive: its process was killed or its machine
    restarted before it could record the end (and it published nothing)."""
    stopped = ImportRun.objects.filter(
        kind=ImportRun.Kind.FETCH, status=ImportRun.Status.RUNNING
    ).update(
        status=ImportRun.Status.FAILED,
        finished_at=timezone.now(),
        error_code="INTERRUPTED",
        error_message=(
            "The fetch stopped before it finished (its process was killed or "
            "the machine restarted); it published nothing."
        ),
        hint="Nothing to undo: run `manage.py tr_fetch` again.",
    )
    if stopped:
        logger.warning("fetch runs=%s marked failed: interrupted", stopped)


def run_fetch(*, dry_run=False, task_id="", client=None, batch_size=None):
    """Fetch every object into a new published folder; see COMMON.md.

    A dry run only returns the SOQL (it sends nothing, so it works while the
    fetch is disabled). Raises FetchDisabled, or locks.LockHeld while
    another fetch runs. A failed object does not raise: the result says
    complete=False and the manifest and ImportRun say what failed.
    `client` is for tests; by default the client is made from the saved
    connection settings."""
    soql = build_soql()
    if dry_run:
        return FetchResult(None, None, True, [text for _, text in soql])

    if not ImportSettings.load().fetch_enabled:
        raise FetchDisabled(_disabled_message())

    with locks.hold(locks.FETCH, task_id=task_id) as held:
        _close_interrupted_runs()
        run = ImportRun.objects.create(
            kind=ImportRun.Kind.FETCH,
            options={"dry_run": False, "batch_size": batch_size},
            host=socket.gethostname(),
            pid=os.getpid(),
            task_id=task_id or "",
        )
        try:
            return _run(run, held, soql, client, batch_size)
        except BaseException as exc:
            # Record the failure an operator would otherwise never see, then
            # let it propagate: this is a bug or the process is stopping.
            run.status = ImportRun.Status.FAILED
            run.finished_at = timezone.now()
            run.error_code = type(exc).__name__[:64]
            run.error_message = (
                "The fetch stopped on an unexpected error; see the log."
            )
            run.save()
            raise


def _run(run, held, soql, client, batch_size):
    from traction_rec.errors import TractionRecError

    if client is None:
        try:
            client = make_client()
        except TractionRecError as exc:
            error = _error(exc)
            run.status = ImportRun.Status.FAILED
            run.finished_at = timezone.now()
            run.error_code = error["code"][:64]
            run.error_message = error["message"]
            run.hint = error["hint"]
            run.save()
            return FetchResult(run.pk, None, False, [text for _, text in soql])

    queries = dict(soql)
    temp = storage.new_temp_folder()
    try:
        files = {}
        for item in OBJECTS:
            text = queries[item.query]
            files.update(_fetch_object(client, item, text, temp, batch_size))
            locks.extend(held)

        finished_at = timezone.now()
        document = manifest.build(
            run_id=run.pk,
            started_at=run.started_at,
            finished_at=finished_at,
            api_usage=_api_usage(client),
            files=files,
        )
        manifest.write(temp, document)
        folder = storage.publish(temp, now=finished_at)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise

    complete = document["status"] == manifest.COMPLETE
    run.status = ImportRun.Status.COMPLETE if complete else ImportRun.Status.FAILED
    run.finished_at = finished_at
    run.source_dir = os.fspath(folder)
    run.manifest = document
    run.counts = {name: entry["records"] for name, entry in files.items()}
    _record_errors(run, files)
    run.save()

    logger.info(
        "fetch run=%s status=%s folder=%s api_used=%s",
        run.pk,
        document["status"],
        folder.name,
        (document["api_usage"] or {}).get("used"),
    )
    return FetchResult(run.pk, folder, complete, [text for _, text in soql], document)
