"""The main job over real HTTP: the local org, the JWT bearer flow, every page,
JSON files on disk, rows in the database and the finder page.

Expected figures are computed here from the sample org's own files, by rules
written in this test, never from what the project's code produced.
"""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from activity_finder.models import (
    Activity,
    Class,
    Location,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)
from tests import sample_org

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)  # the sample org's anchor date: no date shift
CONSUMER_KEY = "e2e-consumer-key"
USERNAME = "integration@ymca-e2e.example"
# The first course option of the sample org: overbooked, half-year minimum
# age, an unlimited wait list, a noon start.
OPTION_ID = "a0O5e0000eYy3tqEAB"


def load(org_dir, name):
    return sample_org.records_by_id(org_dir, f"TREX1__{name}__c")


def expected_catalogue(org_dir):
    """What the Drupal module's queries select, by the issue's rules."""
    options = load(org_dir, "Course_Option")
    links = load(org_dir, "Course_Session_Option")
    course_sessions = load(org_dir, "Course_Session")
    courses = load(org_dir, "Course")
    programs = load(org_dir, "Program")
    categories = load(org_dir, "Program_Category")
    tags = load(org_dir, "Program_Category_Tag")

    def selected(link):
        return sample_org.selected_by_sessions_query(
            link, options, course_sessions, TODAY
        )

    online_tags = sample_org.online_tags(tags, programs, categories)
    linked_programs = {tag["TREX1__Program__c"] for tag in online_tags}
    online_courses = {
        course_id
        for course_id, course in courses.items()
        if course["TREX1__Available_Online__c"]
        and course["TREX1__Program__c"] in linked_programs
    }
    sessions = [
        link
        for link in links.values()
        if selected(link)
        and course_sessions[link["TREX1__Course_Session__c"]]["TREX1__Course__c"]
        in online_courses
    ]
    return {
        "sessions_fetched": sum(1 for link in links.values() if selected(link)),
        "sessions": len(sessions),
        "programs": len({tag["TREX1__Program_Category__c"] for tag in online_tags}),
        "subcategories": len(linked_programs),
        "classes": len(online_courses),
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
        page_size=50,
    ) as handle:
        yield handle


@pytest.fixture
def connection(org, key_pair):
    from traction_rec.forms import ConnectionSettingsForm
    from traction_rec.models import ConnectionSettings

    key_pem, cert_pem = key_pair
    form = ConnectionSettingsForm(
        data={
            "consumer_key": CONSUMER_KEY,
            "consumer_secret": "e2e-secret",
            "login_user": USERNAME,
            "login_url": org.url,
            "services_base_url": f"{org.url}/services",
            "api_base_url": f"{org.url}/services/data/v62.0",
            "community_url": "https://ymca-e2e.my.site.com",
            "audience": "",
            "timeout": 10,
            "api_version": "v62.0",
            "private_key_source": "database",
            "private_key": key_pem,
            "private_key_path": "",
            "private_key_passphrase": "",
            "certificate": cert_pem,
        },
        instance=ConnectionSettings.load(),
    )
    assert form.is_valid(), form.errors
    return form.save()


@pytest.fixture
def branches(sample_org_dir):
    """Our locations, titled as in Traction Rec so the import matches them."""
    for record in load(sample_org_dir, "Location").values():
        kind = Location.Kind.CAMP if "Camp" in record["Name"] else Location.Kind.BRANCH
        Location.objects.create(title=record["Name"], kind=kind)


def test_it_fetches_and_imports_the_sample_org_over_http(
    org, connection, branches, sample_org_dir
):
    from traction_rec_import.fetch import run_fetch
    from traction_rec_import.importer import run_import

    expected = expected_catalogue(sample_org_dir)

    fetched = run_fetch()
    sessions_file = json.loads((fetched.folder / "sessions.json").read_text())
    imported = run_import(directory=fetched.folder, sync=True)

    assert fetched.complete is True
    assert len(sessions_file) == expected["sessions_fetched"] == 294
    # Every query paged: 294 sessions at 50 a page is 6 pages.
    query_pages = [
        path for method, path, status in org.requests if "/query" in path
    ]
    assert sum(1 for path in query_pages if "/query/" in path) >= 5

    assert imported.complete is True
    assert Session.objects.count() == expected["sessions"] == 294
    assert SessionTime.objects.count() == 294
    assert Program.objects.count() == expected["programs"] == 6
    assert ProgramSubcategory.objects.count() == expected["subcategories"] == 12
    assert Class.objects.count() == expected["classes"]
    assert Activity.objects.count() == expected["classes"]


def test_it_stores_the_traction_rec_fields_of_one_option(org, connection, branches):
    from traction_rec_import.fetch import run_fetch
    from traction_rec_import.importer import run_import

    fetched = run_fetch()
    run_import(directory=fetched.folder)

    session = Session.objects.get(sf_id=OPTION_ID)
    chicago = ZoneInfo("America/Chicago")
    (time,) = session.times.all()
    assert session.title == "Parent & Child Swim Tue 12:00 PM"
    assert session.location.title == "Evanston YMCA"
    assert (session.min_age, session.max_age) == (6, 36)
    assert session.availability == 0  # -2 spots: overbooked, clamped
    assert session.wait_list_unlimited is True
    assert session.price_description == "Members: $45 / Program Participants: $90"
    assert session.instructor == "A. Rivera"
    assert session.registration_link == (
        "https://ymca-e2e.my.site.com/s/registration"
        "?courseSessionId=a0E5e0000C6BUa9EQG&courseOptionId=a0O5e0000eYy3tqEAB"
    )
    assert time.days == ["tuesday"]
    assert time.start == dt.datetime(2027, 1, 5, 12, 0, tzinfo=chicago)
    assert time.end == dt.datetime(2027, 4, 6, 12, 30, tzinfo=chicago)
    assert session.session_class.title == "Parent & Child Swim"


def test_the_finder_lists_the_imported_sessions(org, connection, branches, client):
    from traction_rec_import.fetch import run_fetch
    from traction_rec_import.importer import run_import

    run_import(directory=run_fetch().folder)

    page = client.get("/activities/", {"keywords": "Parent Child Swim"})

    assert page.status_code == 200
    assert b"Parent &amp; Child Swim Tue 12:00 PM" in page.content
    assert b"Members: $45 / Program Participants: $90" in page.content
