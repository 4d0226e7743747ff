"""The fetch against the local org over real HTTP, paging every query.

Expected file contents are computed here from the sample org's own JSON
files, by the issue's rules written in this test, never from the fetch's
output."""

import datetime as dt
import hashlib
import json
import math

import pytest

from traction_rec.client import TractionRecClient
from traction_rec.models import ConnectionSettings
from traction_rec_import import fetch, storage
from tests import sample_org
from traction_rec_import.models import ImportRun

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)  # the sample org's anchor date: no date shift
PAGE_SIZE = 7
CONSUMER_KEY = "fetch-consumer-key"
USERNAME = "integration@ymca-fetch.example"
SESSIONS_OBJECT = "TREX1__Course_Session_Option__c"


def load(org_dir, name):
    return sample_org.records_by_id(org_dir, f"TREX1__{name}__c")


def strip(record, fields):
    """The record's fields under their simplified names."""
    return {
        name.replace("TREX1__", "").replace("__c", ""): record[name] for name in fields
    }


OPTION_FIELDS = [
    "Id",
    "Name",
    "TREX1__Available__c",
    "TREX1__Available_Online__c",
    "TREX1__Capacity__c",
    "TREX1__Start_Date__c",
    "TREX1__Start_Time__c",
    "TREX1__End_Date__c",
    "TREX1__End_Time__c",
    "TREX1__Day_of_Week__c",
    "TREX1__Instructor__c",
    "TREX1__Age_Min__c",
    "TREX1__Age_Max__c",
    "TREX1__Register_Online_From_Date__c",
    "TREX1__Register_Online_From_Time__c",
    "TREX1__Register_Online_To_Date__c",
    "TREX1__Register_Online_To_Time__c",
    "TREX1__Registration_Total__c",
    "TREX1__Total_Capacity_Available__c",
    "TREX1__Type__c",
    "TREX1__Unlimited_Capacity__c",
    "TREX1__Unlimited_Waitlist_Capacity__c",
    "TREX1__Waitlist_Total__c",
    "TREX1__Waitlist_Capacity__c",
]
DESCRIPTIONS = ["Id", "Name", "TREX1__Description__c", "TREX1__Rich_Description__c"]
ADDRESS = [
    "Id",
    "Name",
    "TREX1__Address_Street__c",
    "TREX1__Address_City__c",
    "TREX1__Address_State__c",
    "TREX1__Address_Postal_Code__c",
    "TREX1__Address_Country__c",
]


def expected_files(org_dir):
    """Each file's records, by the rules of issue 4 and COMMON.md."""
    options = load(org_dir, "Course_Option")
    links = load(org_dir, "Course_Session_Option")
    course_sessions = load(org_dir, "Course_Session")
    courses = load(org_dir, "Course")
    programs = load(org_dir, "Program")
    categories = load(org_dir, "Program_Category")
    tags = load(org_dir, "Program_Category_Tag")
    locations = load(org_dir, "Location")
    products = load(org_dir, "Product")

    def category_of(tag):
        category = categories[tag["TREX1__Program_Category__c"]]
        return strip(category, ["Id", "Name", "TREX1__Available__c"])

    online_tags = sample_org.online_tags(tags, programs, categories)
    program_categories = [
        {
            **strip(
                programs[tag["TREX1__Program__c"]],
                ["Id", "Name", "TREX1__Available__c"],
            ),
            "Program": category_of(tag),
        }
        for tag in online_tags
    ]
    unique_categories = {
        tag["TREX1__Program_Category__c"]: category_of(tag) for tag in online_tags
    }

    classes = [
        {
            **strip(course, DESCRIPTIONS + ["TREX1__Available__c"]),
            "Program": strip(programs[course["TREX1__Program__c"]], ["Id", "Name"])
            if course["TREX1__Program__c"]
            else None,
        }
        for course in courses.values()
        if course["TREX1__Available_Online__c"]
    ]

    def selected(link):
        return sample_org.selected_by_sessions_query(
            link, options, course_sessions, TODAY
        )

    def session(link):
        option = options[link["TREX1__Course_Option__c"]]
        course_session = course_sessions[link["TREX1__Course_Session__c"]]
        location_id = option["TREX1__Location__c"]
        product_id = option["TREX1__Product__c"]
        return {
            "Id": link["Id"],
            "Course_Option": {
                **strip(option, OPTION_FIELDS),
                "Location_Id": location_id,
                "Location": strip(locations[location_id], ["Id", "Name"])
                if location_id
                else None,
                "Product_Id": product_id,
                "Product": strip(
                    products[product_id], ["Id", "Name", "TREX1__Price_Description__c"]
                )
                if product_id
                else None,
            },
            "Course_Session": {
                **strip(course_session, DESCRIPTIONS),
                "Course": strip(
                    courses[course_session["TREX1__Course__c"]], DESCRIPTIONS
                ),
            },
        }

    def with_address(location):
        row = strip(location, ADDRESS)
        row["Has_Address"] = bool(
            (location["TREX1__Address_Street__c"] or "").strip()
            or (location["TREX1__Address_City__c"] or "").strip()
        )
        return row

    return {
        "programs.json": list(unique_categories.values()),
        "program_categories.json": program_categories,
        "classes.json": classes,
        "sessions.json": [session(link) for link in links.values() if selected(link)],
        "locations.json": [with_address(location) for location in locations.values()],
    }


def ordered(rows):
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))


def query_pages(expected):
    """Pages each query takes at PAGE_SIZE records a page (at least one)."""
    return {
        name: max(1, math.ceil(len(rows) / PAGE_SIZE))
        for name, rows in expected.items()
    }


@pytest.fixture
def org(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    _, cert_pem = key_pair
    with running_org(
        sample_org_dir,
        certificate_pem=cert_pem,
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        today=TODAY,
        page_size=PAGE_SIZE,
    ) as handle:
        yield handle


@pytest.fixture
def connection(org, key_pair, monkeypatch):
    key_pem, cert_pem = key_pair
    ConnectionSettings.objects.create(
        consumer_key=CONSUMER_KEY,
        consumer_secret="fetch-secret",
        login_user=USERNAME,
        login_url=org.url,
        services_base_url=f"{org.url}/services",
        api_base_url=org.url,
        community_url="https://ymca-fetch.my.site.com",
        timeout=2,
        api_version="v62.0",
        private_key_source="database",
        private_key=key_pem,
        certificate=cert_pem,
    )
    # Retries back off for real seconds; the tests need not wait for them.
    monkeypatch.setattr(
        fetch,
        "make_client",
        lambda: TractionRecClient.from_settings(sleep=lambda seconds: None),
    )


def read(folder, name):
    return json.loads((folder / name).read_text())


def test_it_writes_every_page_of_every_query(org, connection, sample_org_dir):
    expected = expected_files(sample_org_dir)
    pages = query_pages(expected)

    result = fetch.run_fetch()

    assert result.complete is True
    for name, rows in expected.items():
        assert ordered(read(result.folder, name)) == ordered(rows), name
    document = storage.read_manifest(result.folder)
    assert {name: entry["records"] for name, entry in document["files"].items()} == {
        name: len(rows) for name, rows in expected.items()
    }
    # The sample org's figures: six categories online, twelve programs with
    # thirteen links (one program sits under two categories).
    assert {name: len(rows) for name, rows in expected.items()} == {
        "programs.json": 6,
        "program_categories.json": 13,
        "classes.json": 50,
        "sessions.json": 294,
        "locations.json": 8,
    }
    assert {name: entry["pages"] for name, entry in document["files"].items()} == {
        "programs.json": pages["program_categories.json"],
        "program_categories.json": pages["program_categories.json"],
        "classes.json": pages["classes.json"],
        "sessions.json": pages["sessions.json"],
        "locations.json": pages["locations.json"],
    }
    assert min(entry["pages"] for entry in document["files"].values()) >= 2


def test_the_manifest_holds_checksums_and_the_api_usage_seen(org, connection):
    result = fetch.run_fetch()

    document = storage.read_manifest(result.folder)
    for name, entry in document["files"].items():
        digest = hashlib.sha256((result.folder / name).read_bytes()).hexdigest()
        assert (entry["status"], entry["sha256"]) == ("complete", digest), name
    query_calls = sum(1 for request in org.requests if "/query" in request.path)
    assert document["api_usage"] == {"used": query_calls, "allowed": 15000}
    run = ImportRun.objects.get(pk=result.run_id)
    assert (run.kind, run.status, run.manifest) == ("fetch", "complete", document)


def test_locations_are_a_list_not_the_response_envelope(org, connection):
    result = fetch.run_fetch()

    locations = read(result.folder, "locations.json")

    assert isinstance(locations, list)
    assert [row["Name"] for row in locations if not row["Has_Address"]] == ["Virtual"]


def expire_twice(org, sample_org_dir):
    """401 INVALID_SESSION_ID on page 2 of the sessions query, and again on
    its repeat with a new token."""
    expected = expected_files(sample_org_dir)
    pages = query_pages(expected)
    before = pages["program_categories.json"] + pages["classes.json"] + 1
    # Two faults, each letting the same calls through and firing once.
    org.faults.add("expire_token", after=before)
    org.faults.add("expire_token", after=before)


FAILURES = {
    "invalid query locator": (
        lambda org, _: org.faults.add(
            "invalid_locator", page=2, object=SESSIONS_OBJECT
        ),
        ("INVALID_QUERY_LOCATOR", 400),
    ),
    "server error": (
        lambda org, _: org.faults.add(
            "status", code=500, page=2, object=SESSIONS_OBJECT, times=None
        ),
        ("UNKNOWN_EXCEPTION", 500),
    ),
    "read timeout": (
        lambda org, _: org.faults.add(
            "hang", seconds=5, page=2, object=SESSIONS_OBJECT, times=None
        ),
        ("TransientError", None),
    ),
    "401 twice": (expire_twice, ("INVALID_SESSION_ID", 401)),
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_a_page_two_failure_publishes_a_failed_run_and_keeps_the_last_good_one(
    org, connection, sample_org_dir, kind
):
    good = fetch.run_fetch()
    add_fault, (code, status) = FAILURES[kind]
    add_fault(org, sample_org_dir)

    failed = fetch.run_fetch()

    assert (good.complete, failed.complete) == (True, False)
    assert storage.latest_published() == failed.folder
    assert storage.latest_published(complete_only=True) == good.folder
    assert len(read(good.folder, "sessions.json")) == 294
    document = storage.read_manifest(failed.folder)
    sessions = document["files"]["sessions.json"]
    assert document["status"] == "failed"
    assert (sessions["status"], sessions["records"], sessions["pages"]) == (
        "failed",
        PAGE_SIZE,
        1,
    )
    assert (sessions["error"]["code"], sessions["error"]["status"]) == (code, status)
    files = document["files"]
    failed_files = [name for name, e in files.items() if e["status"] != "complete"]
    assert failed_files == ["sessions.json"]
    run = ImportRun.objects.get(pk=failed.run_id)
    assert (run.status, run.error_code) == ("failed", code)
    assert run.error_message == f"sessions.json: {sessions['error']['message']}"


def test_zero_records_write_an_empty_list_and_a_complete_status(org, connection):
    for record in list(org.org.records(SESSIONS_OBJECT)):
        org.org.delete(SESSIONS_OBJECT, record["Id"])

    result = fetch.run_fetch()

    assert result.complete is True
    assert (result.folder / "sessions.json").read_text() == "[]\n"
    entry = storage.read_manifest(result.folder)["files"]["sessions.json"]
    assert (entry["status"], entry["records"], entry["pages"]) == ("complete", 0, 1)


def test_mapped_locations_limit_the_sessions_to_those_locations(
    org, connection, sample_org_dir
):
    from activity_finder.models import Location
    from traction_rec_import.models import LocationMapping

    mapped = {"a0L5e00006xT50fEAC", "a0L5e0000HIhd4eEQB"}  # Downtown, Evanston
    for sf_id in sorted(mapped):
        branch = Location.objects.create(title=sf_id)
        LocationMapping.objects.create(sf_location_id=sf_id, location=branch)
    expected = [
        row["Id"]
        for row in expected_files(sample_org_dir)["sessions.json"]
        if row["Course_Option"]["Location_Id"] in mapped
    ]

    result = fetch.run_fetch()

    sessions = read(result.folder, "sessions.json")
    assert sorted(row["Id"] for row in sessions) == sorted(expected)
    assert 0 < len(expected) < 294
    # The other objects are not narrowed: every location stays mappable.
    assert len(read(result.folder, "locations.json")) == 8


def test_a_dry_run_sends_nothing_to_the_org(org, connection):
    result = fetch.run_fetch(dry_run=True)

    assert len(result.soql) == 4
    assert org.requests == []
    assert not storage.fetch_root().exists()
