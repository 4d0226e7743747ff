"""The fetch's own logic, with a stand-in client that serves raw Salesforce
pages from memory (the local-org tests in test_fetch_org.py run the real
client over HTTP)."""

import json
import re
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command

from activity_finder.models import Location
from traction_rec import queries
from traction_rec.errors import ConfigurationError, QueryError, TransientError
from traction_rec_import import fetch, locks, storage
from traction_rec_import.models import ImportRun, ImportSettings, LocationMapping

pytestmark = pytest.mark.django_db

TAG = "TREX1__Program_Category_Tag__c"
COURSE = "TREX1__Course__c"
OPTION = "TREX1__Course_Session_Option__c"
LOCATION = "TREX1__Location__c"


@dataclass
class Page:
    records: list
    number: int
    total_size: int


class StandInClient:
    """Pages per object (by the FROM of the SOQL); an exception in the list is
    raised when that page is asked for."""

    def __init__(self, pages, limit_info=(41, 15000)):
        self.by_object = pages
        self.limit_info = limit_info
        self.soql = []

    def pages(self, soql, batch_size=None):
        self.soql.append(soql)
        name = re.search(r" FROM (\w+)", soql)[1]
        pages = self.by_object.get(name, [[]])
        total = sum(len(page) for page in pages if isinstance(page, list))
        for number, page in enumerate(pages, start=1):
            if isinstance(page, Exception):
                raise page
            yield Page(page, number, total)


def attributes(kind):
    return {"type": kind, "url": f"/services/data/v62.0/sobjects/{kind}/x"}


def tag(tag_id, program, category):
    return {
        "attributes": attributes(TAG),
        "Id": tag_id,
        "Name": f"PCT-{tag_id}",
        "TREX1__Program__r": {
            "attributes": attributes("TREX1__Program__c"),
            "Id": program[0],
            "Name": program[1],
            "TREX1__Available__c": True,
        },
        "TREX1__Program_Category__r": {
            "attributes": attributes("TREX1__Program_Category__c"),
            "Id": category[0],
            "Name": category[1],
            "TREX1__Available__c": True,
        },
    }


SWIM = ("a0P000000000001AAA", "Youth Swim Lessons")
FIT = ("a0P000000000002AAA", "Family Fitness")
AQUATICS = ("a0C000000000001AAA", "Aquatics")
FAMILY = ("a0C000000000002AAA", "Family")


def course(course_id, name):
    return {
        "attributes": attributes(COURSE),
        "Id": course_id,
        "Name": name,
        "TREX1__Description__c": None,
        "TREX1__Rich_Description__c": "<p>Fun</p>",
        "TREX1__Available__c": True,
        "TREX1__Program__r": {
            "attributes": attributes("TREX1__Program__c"),
            "Id": SWIM[0],
            "Name": SWIM[1],
        },
    }


def option(link_id):
    return {
        "attributes": attributes(OPTION),
        "Id": link_id,
        "TREX1__Course_Option__r": {
            "attributes": attributes("TREX1__Course_Option__c"),
            "Id": f"opt-{link_id}",
            "Name": "Swim Tue",
            "TREX1__Location__c": "a0L000000000001AAA",
            "TREX1__Location__r": {
                "attributes": attributes(LOCATION),
                "Id": "a0L000000000001AAA",
                "Name": "Downtown YMCA",
            },
        },
    }


def location(location_id, name, street=None, city=None):
    return {
        "attributes": attributes(LOCATION),
        "Id": location_id,
        "Name": name,
        "TREX1__Address_Street__c": street,
        "TREX1__Address_City__c": city,
        "TREX1__Address_State__c": None,
        "TREX1__Address_Postal_Code__c": None,
        "TREX1__Address_Country__c": None,
    }


def org_pages(**changes):
    pages = {
        TAG: [
            [tag("t1", SWIM, AQUATICS), tag("t2", FIT, FAMILY)],
            [tag("t3", SWIM, FAMILY)],
        ],
        COURSE: [[course("c1", "Swim 1")], [course("c2", "Swim 2")]],
        OPTION: [
            [option("s1"), option("s2")],
            [option("s3"), option("s4")],
            [option("s5")],
        ],
        LOCATION: [
            [location("l1", "Downtown YMCA", "125 W Lake St", "Chicago")],
            [location("l2", "Virtual"), location("l3", "Camp", city="  ")],
        ],
    }
    pages.update(changes)
    return pages


def read(folder, name):
    return json.loads((folder / name).read_text())


def fetch_with(pages, **kwargs):
    client = StandInClient(pages, **kwargs)
    return fetch.run_fetch(client=client), client


def test_it_writes_each_category_once_and_each_program_link(settings):
    result, _ = fetch_with(org_pages())

    assert read(result.folder, "programs.json") == [
        {"Id": AQUATICS[0], "Name": "Aquatics", "Available": True},
        {"Id": FAMILY[0], "Name": "Family", "Available": True},
    ]
    assert read(result.folder, "program_categories.json") == [
        {
            "Id": SWIM[0],
            "Name": "Youth Swim Lessons",
            "Available": True,
            "Program": {"Id": AQUATICS[0], "Name": "Aquatics", "Available": True},
        },
        {
            "Id": FIT[0],
            "Name": "Family Fitness",
            "Available": True,
            "Program": {"Id": FAMILY[0], "Name": "Family", "Available": True},
        },
        {
            "Id": SWIM[0],
            "Name": "Youth Swim Lessons",
            "Available": True,
            "Program": {"Id": FAMILY[0], "Name": "Family", "Available": True},
        },
    ]


def test_it_writes_every_page_of_courses_and_sessions_simplified():
    result, _ = fetch_with(org_pages())

    assert [row["Id"] for row in read(result.folder, "classes.json")] == ["c1", "c2"]
    assert read(result.folder, "classes.json")[0] == {
        "Id": "c1",
        "Name": "Swim 1",
        "Description": None,
        "Rich_Description": "<p>Fun</p>",
        "Available": True,
        "Program": {"Id": SWIM[0], "Name": "Youth Swim Lessons"},
    }
    sessions = read(result.folder, "sessions.json")
    assert [row["Id"] for row in sessions] == ["s1", "s2", "s3", "s4", "s5"]
    assert sessions[0] == {
        "Id": "s1",
        "Course_Option": {
            "Id": "opt-s1",
            "Name": "Swim Tue",
            "Location_Id": "a0L000000000001AAA",
            "Location": {"Id": "a0L000000000001AAA", "Name": "Downtown YMCA"},
        },
    }


def test_locations_are_a_list_marked_with_whether_they_have_an_address():
    result, _ = fetch_with(org_pages())

    locations = read(result.folder, "locations.json")

    assert [(row["Name"], row["Has_Address"]) for row in locations] == [
        ("Downtown YMCA", True),
        ("Virtual", False),
        ("Camp", False),
    ]
    assert locations[0] == {
        "Id": "l1",
        "Name": "Downtown YMCA",
        "Address_Street": "125 W Lake St",
        "Address_City": "Chicago",
        "Address_State": None,
        "Address_Postal_Code": None,
        "Address_Country": None,
        "Has_Address": True,
    }


def test_a_complete_run_is_published_with_its_manifest_and_recorded(settings):
    result, _ = fetch_with(org_pages())

    assert result.complete is True
    assert result.folder == storage.latest_published()
    assert not [p for p in storage.fetch_root().iterdir() if p.name.startswith(".tmp")]
    document = storage.read_manifest(result.folder)
    assert document["status"] == "complete"
    assert document["run_id"] == result.run_id
    assert document["api_usage"] == {"used": 41, "allowed": 15000}
    files = document["files"]
    assert {name: (e["records"], e["pages"]) for name, e in files.items()} == {
        "programs.json": (2, 2),
        "program_categories.json": (3, 2),
        "classes.json": (2, 2),
        "sessions.json": (5, 3),
        "locations.json": (3, 2),
    }
    run = ImportRun.objects.get(pk=result.run_id)
    assert (run.kind, run.status, run.error_code) == ("fetch", "complete", "")
    assert run.finished_at is not None
    assert run.source_dir == str(result.folder)
    assert run.manifest == document


def test_the_manifest_checksums_are_those_of_the_files():
    import hashlib

    result, _ = fetch_with(org_pages())

    document = storage.read_manifest(result.folder)
    for name, entry in document["files"].items():
        digest = hashlib.sha256((result.folder / name).read_bytes()).hexdigest()
        assert entry["sha256"] == digest, name


def test_zero_records_write_an_empty_list_and_a_complete_status():
    result, _ = fetch_with(org_pages(**{OPTION: [[]]}))

    assert result.complete is True
    assert (result.folder / "sessions.json").read_text() == "[]\n"
    entry = storage.read_manifest(result.folder)["files"]["sessions.json"]
    assert (entry["status"], entry["records"], entry["pages"]) == ("complete", 0, 1)


def test_a_failure_on_page_two_publishes_a_failed_run_and_keeps_the_last_good_one():
    good, _ = fetch_with(org_pages())
    expired = QueryError(
        "invalid query locator",
        status=400,
        error_code="INVALID_QUERY_LOCATOR",
        hint="Run the fetch again.",
    )

    cut_off = [[option("s1"), option("s2")], expired]
    failed, _ = fetch_with(org_pages(**{OPTION: cut_off}))

    assert failed.complete is False
    assert storage.latest_published() == failed.folder
    assert storage.latest_published(complete_only=True) == good.folder
    assert read(good.folder, "sessions.json")[4]["Id"] == "s5"
    document = storage.read_manifest(failed.folder)
    assert document["status"] == "failed"
    assert document["files"]["sessions.json"] == {
        "status": "failed",
        "records": 2,
        "pages": 1,
        "sha256": document["files"]["sessions.json"]["sha256"],
        "error": {
            "code": "INVALID_QUERY_LOCATOR",
            "message": "invalid query locator",
            "status": 400,
            "hint": "Run the fetch again.",
            "retryable": False,
        },
    }
    assert document["files"]["locations.json"]["status"] == "complete"
    run = ImportRun.objects.get(pk=failed.run_id)
    assert (run.status, run.error_code, run.hint) == (
        "failed",
        "INVALID_QUERY_LOCATOR",
        "Run the fetch again.",
    )
    assert run.error_message == "sessions.json: invalid query locator"


def test_an_error_without_a_salesforce_code_is_named_by_its_kind():
    timeout = TransientError("Traction Rec did not answer within 90 seconds.")

    result, _ = fetch_with(org_pages(**{COURSE: [[course("c1", "Swim")], timeout]}))

    error = storage.read_manifest(result.folder)["files"]["classes.json"]["error"]
    assert error == {
        "code": "TransientError",
        "message": "Traction Rec did not answer within 90 seconds.",
        "status": None,
        "hint": "",
        "retryable": True,
    }


def test_a_failed_tag_query_fails_both_files_it_writes():
    refused = QueryError("No such column", status=400, error_code="INVALID_FIELD")

    result, _ = fetch_with(org_pages(**{TAG: [refused]}))

    files = storage.read_manifest(result.folder)["files"]
    assert files["programs.json"]["status"] == "failed"
    assert files["program_categories.json"]["status"] == "failed"
    assert read(result.folder, "programs.json") == []
    assert ImportRun.objects.get(pk=result.run_id).error_message == (
        "programs.json: No such column program_categories.json: No such column"
    )


def test_fields_that_collide_when_simplified_fail_their_file():
    colliding = dict(location("l1", "Downtown"), TREX1__Name__c="Other")

    result, _ = fetch_with(org_pages(**{LOCATION: [[colliding]]}))

    error = storage.read_manifest(result.folder)["files"]["locations.json"]["error"]
    assert error["code"] == "FIELD_COLLISION"
    assert error["message"] == (
        "The fields Name and TREX1__Name__c both simplify to 'Name'; leave one "
        "of them out of the query."
    )


def test_a_second_fetch_is_refused_while_one_runs():
    with locks.hold(locks.FETCH, task_id="nightly"):
        with pytest.raises(locks.LockHeld) as held:
            fetch_with(org_pages())

    assert ", task nightly)." in str(held.value)
    assert ImportRun.objects.count() == 0
    assert storage.latest_published() is None


def test_a_disabled_fetch_says_how_to_enable_it():
    import_settings = ImportSettings.load()
    import_settings.fetch_enabled = False
    import_settings.save()

    with pytest.raises(fetch.FetchDisabled) as disabled:
        fetch_with(org_pages())

    assert str(disabled.value) == (
        "Fetching from Traction Rec is disabled in the import settings. Tick "
        '"Fetch enabled" at /admin/traction_rec_import/importsettings/1/change/ '
        "to turn it on."
    )
    assert ImportRun.objects.count() == 0


def test_a_dry_run_returns_the_soql_and_sends_nothing():
    client = StandInClient(org_pages())

    result = fetch.run_fetch(dry_run=True, client=client)

    assert result.soql == [
        queries.build("program_category_tags"),
        queries.build("courses"),
        queries.build("course_options"),
        queries.build("locations"),
    ]
    assert (result.run_id, result.folder) == (None, None)
    assert client.soql == []
    assert ImportRun.objects.count() == 0
    assert not storage.fetch_root().exists()


def test_mapped_locations_limit_the_sessions_query_only():
    branch = Location.objects.create(title="Downtown YMCA")
    LocationMapping.objects.create(sf_location_id="a0L5e00006xT50fEAC", location=branch)
    LocationMapping.objects.create(sf_location_id="a0L5e0000KoPevpEQC", location=branch)

    result, client = fetch_with(org_pages())

    limited = "TREX1__Course_Option__r.TREX1__Location__c IN ('a0L5e00006xT50fEAC', "
    assert limited + "'a0L5e0000KoPevpEQC')" in client.soql[2]
    assert client.soql[2].startswith("SELECT Id, TREX1__Course_Option__r.Id, ")
    assert [text for text in client.soql if " IN (" in text] == [client.soql[2]]
    assert result.soql == client.soql


def test_a_connection_that_cannot_be_made_fails_the_run_before_any_folder(monkeypatch):
    def broken():
        raise ConfigurationError(
            "No private key is saved.", hint="Paste the key in the connection settings."
        )

    monkeypatch.setattr(fetch, "make_client", broken)

    result = fetch.run_fetch()

    assert (result.complete, result.folder) == (False, None)
    run = ImportRun.objects.get(pk=result.run_id)
    assert (run.status, run.error_code, run.error_message, run.hint) == (
        "failed",
        "ConfigurationError",
        "No private key is saved.",
        "Paste the key in the connection settings.",
    )
    assert not storage.fetch_root().exists()


def test_an_unexpected_error_records_the_run_and_leaves_no_folder(monkeypatch):
    def full_disk(self, record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.JsonListWriter, "write", full_disk)

    with pytest.raises(OSError):
        fetch_with(org_pages())

    run = ImportRun.objects.get()
    assert (run.status, run.error_code) == ("failed", "OSError")
    assert run.error_message == "The fetch stopped on an unexpected error; see the log."
    assert list(storage.fetch_root().iterdir()) == []
    assert locks.Lock.objects.count() == 0


# The command.


def serve(monkeypatch, pages):
    monkeypatch.setattr(fetch, "make_client", lambda: StandInClient(pages))


def test_the_command_lists_each_file_and_the_published_folder(monkeypatch, capsys):
    serve(monkeypatch, org_pages())

    call_command("tr_fetch")

    run = ImportRun.objects.get()
    assert capsys.readouterr().out == (
        "programs.json: complete, 2 records, 2 pages\n"
        "program_categories.json: complete, 3 records, 2 pages\n"
        "classes.json: complete, 2 records, 2 pages\n"
        "sessions.json: complete, 5 records, 3 pages\n"
        "locations.json: complete, 3 records, 2 pages\n"
        f"Fetch run #{run.pk} complete: {run.source_dir}\n"
    )


def test_the_command_fails_with_what_failed_and_what_to_do(monkeypatch, capsys):
    serve(monkeypatch, org_pages())
    call_command("tr_fetch")
    good = storage.latest_published()
    capsys.readouterr()
    server_error = TransientError(
        "Traction Rec answered 500.",
        status=500,
        error_code="UNKNOWN_EXCEPTION",
        hint="Try again later.",
    )
    serve(monkeypatch, org_pages(**{OPTION: [[option("s1")], server_error]}))

    with pytest.raises(CommandError) as failed:
        call_command("tr_fetch")

    run = ImportRun.objects.order_by("pk").last()
    assert str(failed.value) == (
        f"Fetch run #{run.pk} failed: sessions.json. Try again later. The folder "
        f"{run.source_dir} is kept for inspection and marked failed, so no import "
        f"deletes anything on the strength of it. The last complete fetch, {good}, "
        "is still there. Fix the cause and run `manage.py tr_fetch` again."
    )
    assert capsys.readouterr().out.splitlines()[3] == (
        "sessions.json: FAILED after 1 record, 1 page (UNKNOWN_EXCEPTION, HTTP 500): "
        "Traction Rec answered 500."
    )


def test_the_command_dry_run_prints_each_query_with_its_files(capsys):
    call_command("tr_fetch", "--dry-run")

    out = capsys.readouterr().out
    assert out == (
        "program_category_tags (programs.json, program_categories.json):\n"
        f"{queries.build('program_category_tags')}\n\n"
        "courses (classes.json):\n"
        f"{queries.build('courses')}\n\n"
        "course_options (sessions.json):\n"
        f"{queries.build('course_options')}\n\n"
        "locations (locations.json):\n"
        f"{queries.build('locations')}\n\n"
    )


def test_the_command_refuses_while_another_fetch_runs(monkeypatch):
    serve(monkeypatch, org_pages())

    with locks.hold(locks.FETCH):
        with pytest.raises(CommandError) as refused:
            call_command("tr_fetch")

    assert str(refused.value).startswith("Another run holds the fetch lock since ")


def test_the_command_names_a_connection_problem(monkeypatch):
    def broken():
        raise ConfigurationError("No private key is saved.", hint="Paste the key.")

    monkeypatch.setattr(fetch, "make_client", broken)

    with pytest.raises(CommandError) as failed:
        call_command("tr_fetch")

    run = ImportRun.objects.get()
    assert str(failed.value) == (
        f"Fetch run #{run.pk} failed before any query: No private key is saved. "
        "Paste the key."
    )


def test_the_command_names_a_mapped_location_id_that_cannot_be_queried(monkeypatch):
    serve(monkeypatch, org_pages())
    branch = Location.objects.create(title="Downtown YMCA")
    LocationMapping.objects.create(sf_location_id="a0L5e00006xT50", location=branch)

    with pytest.raises(CommandError) as refused:
        call_command("tr_fetch")

    assert str(refused.value) == (
        "A location mapping holds an Id the course_options query cannot use: "
        "'a0L5e00006xT50' is not a Salesforce Id: an Id has 15 or 18 characters, "
        "this has 14. Correct it on the location mapping screen."
    )
    assert ImportRun.objects.count() == 0


def test_the_command_says_a_disabled_fetch_is_disabled(monkeypatch):
    serve(monkeypatch, org_pages())
    import_settings = ImportSettings.load()
    import_settings.fetch_enabled = False
    import_settings.save()

    with pytest.raises(CommandError) as refused:
        call_command("tr_fetch")

    assert str(refused.value).startswith(
        "Fetching from Traction Rec is disabled in the import settings."
    )


def test_the_command_refuses_a_batch_size_salesforce_would_change(capsys):
    with pytest.raises(CommandError) as refused:
        call_command("tr_fetch", "--batch-size", "50")

    assert str(refused.value) == (
        "Error: argument --batch-size: '50' is not a batch size; give a whole "
        "number from 200 to 2000."
    )


def test_the_command_asks_for_the_batch_size_given(monkeypatch):
    seen = []

    class Recording(StandInClient):
        def pages(self, soql, batch_size=None):
            seen.append(batch_size)
            return super().pages(soql, batch_size=batch_size)

    monkeypatch.setattr(fetch, "make_client", lambda: Recording(org_pages()))

    call_command("tr_fetch", "--batch-size", "500")

    assert seen == [500, 500, 500, 500]


def test_a_run_left_running_by_a_killed_fetch_is_marked_failed_by_the_next():
    killed = ImportRun.objects.create(kind="fetch", status="running")
    importing = ImportRun.objects.create(kind="import", status="running")

    fetch_with(org_pages())

    killed.refresh_from_db()
    importing.refresh_from_db()
    assert (killed.status, killed.error_code) == ("failed", "INTERRUPTED")
    assert killed.error_message == (
        "The fetch stopped before it finished (its process was killed or the "
        "machine restarted); it published nothing."
    )
    assert killed.hint == "Nothing to undo: run `manage.py tr_fetch` again."
    assert killed.finished_at is not None
    assert importing.status == "running"
