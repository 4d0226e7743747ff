"""Attacks on the public pages: XSS, hidden content, settings, hostile searches.

Every text field that reaches a page (program, subcategory, class and
session names, descriptions, instructor, price description, location name)
is imported from a fetch folder holding an XSS corpus, then /activities/,
the session page and /af/get-data are read the way a browser would: no
element, attribute or URL from the corpus may be live. Unpublished content
and the connection settings never appear. Hostile search parameters give an
explained empty result or a 400, never a 500 or an unbounded page.
"""

import json
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from activity_finder import search
from activity_finder.models import Location, Program, Session
from tests.faults import folders
from tests.faults.reliability import attack
from traction_rec.models import ConnectionSettings

pytestmark = pytest.mark.django_db

# One value carrying the corpus, short enough for a 255-character title.
XSS = (
    '<script>alert(1)</script><img src=x onerror=alert(2)>"><svg onload=alert(3)>'
    "</script><a href=\"javascript:alert(4)\">j</a><iframe src=javascript:alert(5)>"
)
LIVE_TAGS = {"script", "svg", "iframe", "img", "object", "embed", "style", "base"}


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and inline script text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.scripts = []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts.append((self._in_script.get("type", ""), data))


def live_markup(html):
    """What in a page could run: injected tags, on* handlers, javascript: URLs."""
    parser = Elements()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag in LIVE_TAGS and not (
            tag == "script"
            and (attrs.get("src", "").startswith("/static/")
                 or attrs.get("type") == "application/ld+json")
        ):
            found.append(f"<{tag} {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"<{tag} {name}=...>")
            if (value or "").strip().lower().startswith("javascript:"):
                found.append(f"<{tag} {name}={value}>")
    for kind, text in parser.scripts:
        if kind != "application/ld+json" and "alert(" in text:
            found.append("inline script with the corpus")
    return found, parser


def xss_files():
    files = folders.catalogue_files(2)
    files["programs.json"][0]["Name"] = XSS
    files["program_categories.json"][0]["Name"] = XSS
    course = files["classes.json"][0]
    course.update(Name=XSS, Description=XSS, Rich_Description=f"<p>{XSS}</p>")
    for row in files["sessions.json"]:
        option = row["Course_Option"]
        option.update(Name=XSS, Instructor=XSS)
        option["Location"]["Name"] = XSS
        option["Product"]["Price_Description"] = XSS
        row["Course_Session"].update(Description=XSS, Rich_Description=XSS)
        row["Course_Session"]["Course"].update(Description=XSS, Rich_Description=XSS)
    return files


@pytest.fixture
def xss_catalogue():
    # A branch an editor titled with the corpus, which the import matches.
    Location.objects.create(title=XSS, street=XSS, city="Evanston")
    folder = folders.write_folder(settings.TRACTION_REC_DATA_DIR, xss_files())
    call_command("tr_import", "--dir", str(folder))
    assert Session.objects.count() == 2
    return Session.objects.order_by("pk").first()


@attack(
    "XSS corpus in every text field, on /activities/",
    expected="rendered as text: no injected tag, handler or javascript: URL",
)
def test_the_search_page_renders_the_corpus_inert(client, xss_catalogue, observed):
    page = client.get("/activities/").content.decode()

    found, _ = live_markup(page)

    observed(f"{len(found)} live elements; corpus shown escaped: "
             f"{'&lt;script&gt;alert(1)' in page}")
    assert found == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@attack(
    "XSS corpus in every text field, on the session page (with its JSON-LD)",
    expected="rendered as text or allow-listed HTML; the JSON-LD block holds the "
    "corpus as data and cannot be closed early",
)
def test_the_session_page_renders_the_corpus_inert(client, xss_catalogue, observed):
    page = client.get(f"/activities/{xss_catalogue.pk}/").content.decode()

    found, parser = live_markup(page)
    ld = [text for kind, text in parser.scripts if kind == "application/ld+json"]

    observed(f"status 200, {len(found)} live elements, {len(ld)} JSON-LD block")
    assert found == []
    assert len(ld) == 1
    assert json.loads(ld[0])["name"] == XSS


@attack(
    "XSS corpus in every text field, through /af/get-data",
    expected="JSON (application/json); HTML fields allow-listed with nothing live",
)
def test_the_json_api_serves_the_corpus_inert(client, xss_catalogue, observed):
    response = client.get("/af/get-data")
    rows = response.json()["table"]

    found = [problem for row in rows for problem in live_markup(row["description"])[0]]

    observed(
        f"{response['Content-Type']}, {len(rows)} rows, {len(found)} live "
        "elements in descriptions"
    )
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(rows) == 2
    assert found == []
    assert {row["name"] for row in rows} == {XSS}


# Hidden content and settings


@pytest.fixture
def hidden_content():
    """Two current sessions, one visible and one whose program is unpublished,
    plus an unpublished session under the visible chain."""
    Location.objects.create(title=folders.LOCATION_NAME)
    folder = folders.write_folder(
        settings.TRACTION_REC_DATA_DIR, folders.catalogue_files(3)
    )
    call_command("tr_import", "--dir", str(folder))
    hidden = Session.objects.get(sf_id=folders.option_id(2))
    hidden.title = "Hidden Unpublished Session"
    hidden.published = False
    hidden.save()

    program = Program.objects.create(title="Hidden Program", published=False)
    visible = Session.objects.get(sf_id=folders.option_id(1))
    chain = visible.session_class
    activity = chain.activity
    subcategory = activity.subcategory.__class__.objects.create(
        program=program, title="Hidden Subcategory"
    )
    activity.pk, activity.sf_id, activity.subcategory = None, None, subcategory
    activity.title = "Hidden Activity"
    activity.save()
    chain.pk, chain.sf_id, chain.activity = None, None, activity
    chain.title = "Hidden Class"
    chain.save()
    orphan = Session.objects.get(sf_id=folders.option_id(3))
    orphan.session_class = chain
    orphan.title = "Hidden Chain Session"
    orphan.save()

    connection = ConnectionSettings.load()
    connection.consumer_key = "hidden-consumer-key-77"
    connection.consumer_secret = "hidden-consumer-secret-77"
    connection.login_user = "hidden-user@ymca.example"
    connection.save()
    return {"hidden": hidden, "orphan": orphan, "visible": visible}


HIDDEN_TEXT = (
    "Hidden Unpublished Session",
    "Hidden Chain Session",
    "Hidden Program",
    "Hidden Subcategory",
    "Hidden Activity",
    "Hidden Class",
    "hidden-consumer-key-77",
    "hidden-consumer-secret-77",
    "hidden-user@ymca.example",
)


@attack(
    "unpublished session, a session under an unpublished program, and the "
    "connection settings, looked for on every public page and the JSON API",
    expected="none of them appears; their session pages and calendar files are 404",
)
def test_no_public_page_shows_hidden_content_or_settings(client, hidden_content,
                                                         observed):
    pages = {
        url: client.get(url)
        for url in (
            "/activities/",
            "/activities/?keywords=Hidden",
            f"/activities/{hidden_content['visible'].pk}/",
            "/af/get-data",
            "/af/get-data?keywords=Hidden",
        )
    }
    closed = {
        url: client.get(url).status_code
        for session in (hidden_content["hidden"], hidden_content["orphan"])
        for url in (
            f"/activities/{session.pk}/",
            f"/activities/{session.pk}/calendar.ics",
        )
    }
    shown = {
        url: [text for text in HIDDEN_TEXT if text in response.content.decode()]
        for url, response in pages.items()
    }

    observed(f"hidden pages {sorted(set(closed.values()))}; shown {shown}")
    assert {url: response.status_code for url, response in pages.items()} == {
        url: 200 for url in pages
    }
    assert {url: found for url, found in shown.items() if found} == {}
    assert set(closed.values()) == {404}
    assert len(pages["/af/get-data"].json()["table"]) == 1
    assert "settings" not in pages["/af/get-data"].json()


# Hostile search parameters

HOSTILE = st.sampled_from(
    [
        "", "0", "-1", "-99999999", "99999999999999999999", "1e9", "NaN", "abc",
        "1,2,abc", ",,,", "1;2", "%00", "\x00", "' OR 1=1 --", "<script>", "日本",
        "🙂", "a" * 5000, "1" * 400, " ", "null", "[]", "{}", "../../etc/passwd",
    ]
) | st.text(max_size=30)
PAGE_PARAMETERS = ("keywords", "ages", "days", "times", "locations", "programs",
                   "subcategories", "page", "per_page", "sort", "open_now")
API_PARAMETERS = ("keywords", "ages", "days", "times", "daystimes", "locations",
                  "categories", "limit", "exclude", "limitloc", "excludeloc", "page",
                  "sort")
FUZZ = hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _query(draw_params):
    return {name: value for name, value in draw_params.items() if value is not None}


@attack(
    "hostile search parameters on /activities/ (huge and negative pages, non-numeric "
    "ages, unicode, NUL, 5,000-character values)",
    expected="200 with at most one page of results, or 400; never 500; a bounded "
    "number of queries",
)
@FUZZ
@given(st.dictionaries(st.sampled_from(PAGE_PARAMETERS), HOSTILE, max_size=4))
def test_hostile_parameters_never_break_the_search_page(client, hidden_content, params):
    with CaptureQueriesContext(db) as queries:
        response = client.get("/activities/", params)

    assert response.status_code in (200, 400), (params, response.status_code)
    assert len(queries) <= 40
    if response.status_code == 200:
        assert len(response.context["cards"]) <= max(search.PAGE_SIZES)


@attack(
    "hostile parameters on /af/get-data (limit -1, page 10^20, ages 'abc', unicode, "
    "5,000-character values)",
    expected="200 with at most one page of rows, or 400 with the one JSON error "
    "shape; never 500",
)
@FUZZ
@given(st.dictionaries(st.sampled_from(API_PARAMETERS), HOSTILE, max_size=4))
def test_hostile_parameters_never_break_the_json_api(client, hidden_content, params):
    with CaptureQueriesContext(db) as queries:
        response = client.get("/af/get-data", params)

    assert response.status_code in (200, 400), (params, response.status_code)
    assert len(queries) <= 40
    body = response.json()
    if response.status_code == 400:
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "parameter", "message"}
    else:
        assert len(body["table"]) <= search.DEFAULT_PAGE_SIZE
