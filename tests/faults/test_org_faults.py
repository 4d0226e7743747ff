"""Faults of Traction Rec and the network, switched on in the local org during a fetch.

Every test first fetches and imports the org cleanly (the catalogue visitors
see), then changes the org (one course option renamed, one removed) and
fetches again with one fault switched on:

- a fault the client rides out (a 503, a timeout, a dropped connection,
  damaged JSON, the concurrent-request limit, an expired token, slow answers): `tr_fetch`
  completes, its files hold exactly what a fault-free fetch of the same org
  holds, and the import then shows the rename and the removal;
- a fault the fetch cannot ride out but a later try can (a 500, an expired
  query cursor): the fetch run fails with the error recorded, nothing is imported,
  and the `fetch_and_import` task schedules a retry whose attempt completes;
- a fault that stays (HTML, a redirect, a daily limit, a locator or token
  refused every time): `tr_fetch` exits non-zero, the fetch's Import Run
  holds the typed error and the fix-it hint, and an import with --sync of
  what was fetched leaves the catalogue exactly as it was.

Client retries sleep for nothing (`fast_client`), and the read timeout is
0.3 s.
"""

import json
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activity_finder.models import Session
from tests.faults.catalogue import assert_unchanged, catalogue_snapshot, diff
from tests.faults.reliability import fault
from traction_rec_import import storage
from traction_rec_import.models import ImportRun

pytestmark = pytest.mark.django_db

SESSIONS_OBJECT = "TREX1__Course_Session_Option__c"
FILES = (
    "programs.json",
    "program_categories.json",
    "classes.json",
    "sessions.json",
    "locations.json",
)


def read_files(folder):
    return {name: json.loads((folder / name).read_text()) for name in FILES}


def latest_fetch_run():
    return ImportRun.objects.filter(kind=ImportRun.Kind.FETCH).latest("pk")


@pytest.fixture
def baseline(org, fast_client, branches):
    """A clean fetch and import, then a change in the org the next fetch sees."""
    from traction_rec_import.fetch import run_fetch
    from traction_rec_import.importer import run_import

    fetched = run_fetch()
    assert fetched.complete
    run_import(directory=fetched.folder, sync=True)
    sessions = list(Session.objects.order_by("sf_id"))
    assert len(sessions) >= 6, "the small org must give several pages of sessions"

    renamed, removed = sessions[0], sessions[1]
    option = dict(org.org.index[renamed.sf_id])
    option["Name"] = "Renamed by the faults suite"
    org.org.upsert("TREX1__Course_Option__c", option)
    links = [
        link["Id"]
        for link in org.org.records(SESSIONS_OBJECT)
        if link["TREX1__Course_Option__c"] == removed.sf_id
    ]
    for link_id in links:
        org.org.delete(SESSIONS_OBJECT, link_id)
    fast_client.clear()
    return {
        "snapshot": catalogue_snapshot(),
        "renamed": renamed.sf_id,
        "removed": removed.sf_id,
        "sessions": len(sessions),
    }


def clean_fetch_files(org):
    """The files a fault-free fetch of the org as it is now writes."""
    from traction_rec_import.fetch import run_fetch

    org.faults.clear()
    fetched = run_fetch()
    assert fetched.complete
    return read_files(fetched.folder)


def assert_changes_imported(baseline):
    assert Session.objects.count() == baseline["sessions"] - 1
    assert Session.objects.get(sf_id=baseline["renamed"]).title == (
        "Renamed by the faults suite"
    )
    assert not Session.objects.filter(sf_id=baseline["removed"]).exists()


# Faults the client rides out

RIDDEN_OUT = [
    pytest.param(
        "status",
        dict(code=503, page=2, times=2, object=SESSIONS_OBJECT),
        2,
        marks=fault(
            "503 SERVER_UNAVAILABLE on page 2 of the sessions query, twice",
            expected="two client retries, the fetch completes with the same data",
        ),
        id="503-twice",
    ),
    pytest.param(
        "hang",
        dict(seconds=1.0, page=2, object=SESSIONS_OBJECT),
        1,
        marks=fault(
            "page 2 hangs 1 s, past the 0.3 s read timeout, once",
            expected="one retry after the timeout, the fetch completes",
        ),
        id="read-timeout-once",
    ),
    pytest.param(
        "drop_connection",
        dict(page=2, object=SESSIONS_OBJECT),
        1,
        marks=fault(
            "connection dropped half-way through the body of page 2",
            expected="one retry, the fetch completes with the same data",
        ),
        id="dropped-connection-once",
    ),
    pytest.param(
        "malformed_json",
        dict(page=2, object=SESSIONS_OBJECT),
        1,
        marks=fault(
            "malformed JSON body on page 2, once",
            expected="one client retry, the fetch completes with the same data",
        ),
        id="malformed-json-once",
    ),
    pytest.param(
        "truncated_json",
        dict(page=2, object=SESSIONS_OBJECT),
        1,
        marks=fault(
            "truncated JSON body (a complete response, half the JSON) on page 2, once",
            expected="one client retry, the fetch completes with the same data",
        ),
        id="truncated-json-once",
    ),
    pytest.param(
        "limit",
        dict(kind="concurrent", page=2, object=SESSIONS_OBJECT),
        1,
        marks=fault(
            "403 REQUEST_LIMIT_EXCEEDED, concurrent kind (ConcurrentPerOrgLongTxn), "
            "on page 2",
            expected="one retry, the fetch completes",
        ),
        id="concurrent-limit-once",
    ),
    pytest.param(
        "expire_token",
        dict(after=3),
        0,
        marks=fault(
            "token expires after 3 calls (401 INVALID_SESSION_ID)",
            expected="one new token, the same request repeated, the fetch completes",
        ),
        id="token-expires",
    ),
    pytest.param(
        "expire_token",
        dict(after=2, times=None),
        0,
        marks=fault(
            "token expires again every 2 calls, all through the fetch",
            expected="a new token each time, the fetch completes",
        ),
        id="token-expires-repeatedly",
    ),
    pytest.param(
        "slow",
        dict(seconds=0.03),
        0,
        marks=fault(
            "every response 0.03 s late (a slow org)",
            expected="no retry, the fetch completes",
        ),
        id="slow-responses",
    ),
]


@pytest.mark.parametrize("kind, options, retries", RIDDEN_OUT)
def test_the_fetch_rides_out(
    org, baseline, fast_client, kind, options, retries, observed
):
    added = org.faults.add(kind, **options)

    call_command("tr_fetch")
    run = latest_fetch_run()
    faulted = read_files(storage.latest_published())
    sleeps = len(fast_client)
    call_command("tr_import", "--sync")

    observed(
        f"fault fired {added.fired}x, {sleeps} client retries, fetch run "
        f"{run.status}, {Session.objects.count()} sessions after import"
    )
    assert added.fired >= 1
    assert sleeps == retries
    assert run.status == ImportRun.Status.COMPLETE
    assert (run.error_code, run.error_message) == ("", "")
    assert_changes_imported(baseline)
    assert faulted == clean_fetch_files(org)


# Faults a later try rides out: the fetch fails, the task retries

RETRIED_BY_THE_TASK = [
    pytest.param(
        "status",
        dict(code=500, page=2, object=SESSIONS_OBJECT),
        "UNKNOWN_EXCEPTION",
        "Salesforce answered 500 UNKNOWN_EXCEPTION: An unexpected error occurred. "
        "Please include this ErrorId if you contact support: 1024-2048 (-1).",
        marks=fault(
            "500 UNKNOWN_EXCEPTION on page 2 of the sessions query, once",
            expected="fetch run failed with the error, nothing imported, "
            "tr_fetch exits non-zero; the task retries and its next attempt "
            "imports the change",
        ),
        id="500-once",
    ),
    pytest.param(
        "invalid_locator",
        dict(page=2, object=SESSIONS_OBJECT),
        "INVALID_QUERY_LOCATOR",
        "Salesforce answered 400 INVALID_QUERY_LOCATOR: invalid query locator.",
        marks=fault(
            "400 INVALID_QUERY_LOCATOR on page 2 (an expired cursor), once",
            expected="fetch run failed, nothing imported, non-zero exit; the task "
            "retries (the client calls the error retryable and its hint says to "
            "fetch again) and its next attempt imports the change",
        ),
        id="invalid-locator-once",
    ),
]


@pytest.mark.parametrize("kind, options, code, message", RETRIED_BY_THE_TASK)
def test_the_task_retries_after(org, baseline, kind, options, code, message, observed):
    from celery.exceptions import Retry

    from traction_rec_import import tasks

    message = message.format(host=urlsplit(org.url).netloc)
    org.faults.add(kind, **options)

    with pytest.raises(CommandError):
        call_command("tr_fetch")
    failed = latest_fetch_run()
    assert_unchanged(baseline["snapshot"])

    org.faults.add(kind, **options)
    try:
        tasks.fetch_and_import.apply(kwargs={"sync": True}, throw=True)
    except Retry:
        outcome = "retry scheduled"
    except tasks.RunFailed as exc:
        outcome = f"failed for good: {exc}"
    else:
        outcome = "no failure"
    unchanged = not diff(baseline["snapshot"], catalogue_snapshot())
    retried = tasks.fetch_and_import.apply(kwargs={"sync": True}, retries=1)

    observed(
        f"tr_fetch exit non-zero, run {failed.error_code}; first task attempt: "
        f"{outcome}; retried attempt: {retried.state}"
    )
    assert (failed.status, failed.error_code) == (ImportRun.Status.FAILED, code)
    assert failed.error_message == f"sessions.json: {message}"
    assert unchanged
    assert outcome == "retry scheduled"
    assert retried.state == "SUCCESS"
    assert_changes_imported(baseline)


# Faults that stay

PERMANENT = [
    pytest.param(
        "html",
        dict(page=2, times=None, object=SESSIONS_OBJECT),
        ["sessions.json"],
        "ConfigurationError",
        "The API host {host} answered with an HTML page (status 200), not "
        "Salesforce's JSON.",
        "Check the API base URL is the org's My Domain host (NAME.my.salesforce.com) "
        "and the API version exists.",
        marks=fault(
            "an HTML page instead of JSON on page 2",
            expected="ConfigurationError with the base-URL hint on the fetch run; "
            "nothing imported or removed; tr_fetch exits non-zero",
        ),
        id="html",
    ),
    pytest.param(
        "no_next_url",
        dict(page=1, times=None, object=SESSIONS_OBJECT),
        ["sessions.json"],
        "QueryError",
        "Page 1 of the TREX1__Course_Session_Option__c query says more records "
        "follow but gives no nextRecordsUrl; the result would be incomplete.",
        "Run the fetch again.",
        marks=fault(
            "done: false with no nextRecordsUrl",
            expected="QueryError on the fetch run (never read as the end of the "
            "data); nothing imported or removed; non-zero exit",
        ),
        id="done-false-no-next-url",
    ),
    pytest.param(
        "limit",
        dict(kind="daily", times=None, object=SESSIONS_OBJECT),
        ["sessions.json"],
        "REQUEST_LIMIT_EXCEEDED",
        "Salesforce answered 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.",
        "The org's daily API request limit is used up; it resets over 24 hours. Run "
        "fewer fetches, or ask Salesforce for more.",
        marks=fault(
            "403 REQUEST_LIMIT_EXCEEDED, daily kind (TotalRequests)",
            expected="LimitError at once (no retry) with the daily-limit hint; "
            "nothing imported or removed; non-zero exit",
        ),
        id="daily-limit",
    ),
    pytest.param(
        "invalid_locator",
        dict(page=2, times=None, object=SESSIONS_OBJECT),
        ["sessions.json"],
        "INVALID_QUERY_LOCATOR",
        "Salesforce answered 400 INVALID_QUERY_LOCATOR: invalid query locator.",
        "The query's cursor expired or was dropped before its next page was read; "
        "run the fetch again.",
        marks=fault(
            "400 INVALID_QUERY_LOCATOR on every next page",
            expected="QueryError on the fetch run; nothing imported or removed; "
            "non-zero exit",
        ),
        id="invalid-locator-always",
    ),
    pytest.param(
        "redirect",
        dict(page=2, times=None, object=SESSIONS_OBJECT),
        ["sessions.json"],
        "ConfigurationError",
        "The API host {host} answered with a redirect (status 302) to {host}; an "
        "API call must not be redirected.",
        "Set the API base URL to the org's https My Domain host "
        "(NAME.my.salesforce.com).",
        marks=fault(
            "302 redirect to the login page, as a lightning host answers",
            expected="ConfigurationError naming the redirect, with the My Domain "
            "hint; the token is not sent on; nothing imported; non-zero exit",
        ),
        id="redirect-to-login",
    ),
    pytest.param(
        "status",
        dict(code=503, page=2, times=None, object=SESSIONS_OBJECT),
        ["sessions.json"],
        "SERVER_UNAVAILABLE",
        "Salesforce answered 503 SERVER_UNAVAILABLE: Server temporarily "
        "unavailable; try again later.",
        "Salesforce may be down for maintenance; try again later.",
        marks=fault(
            "503 on every try of page 2 (an outage)",
            expected="3 client retries, then TransientError on the fetch run; "
            "nothing imported or removed; non-zero exit",
        ),
        id="503-outage",
    ),
    pytest.param(
        "hang",
        dict(seconds=0.6, page=2, times=None, object=SESSIONS_OBJECT),
        ["sessions.json"],
        "TransientError",
        "GET /services/data/v62.0/query/{locator} timed out 4 times (ReadTimeout).",
        "Check that this server can reach Salesforce; try again later.",
        marks=fault(
            "page 2 hangs past the read timeout on every try",
            expected="4 tries, then TransientError on the fetch run; nothing "
            "imported or removed; non-zero exit",
        ),
        id="read-timeout-always",
    ),
    pytest.param(
        "expire_token",
        dict(after=0, times=None),
        list(FILES),
        "INVALID_SESSION_ID",
        "Salesforce answered 401 INVALID_SESSION_ID: Session expired or invalid.",
        "A new token was refused as well: check that the integration user is active "
        "and its session is not revoked, and that the API host is not a lightning "
        "host.",
        marks=fault(
            "every token refused: 401 INVALID_SESSION_ID again after a new token",
            expected="AuthenticationError after one refresh, with the hint on the "
            "fetch run; nothing imported or removed; non-zero exit",
        ),
        id="token-refused-twice",
    ),
]


# Client retries before each permanent fault is reported: none for what no
# retry can fix, the whole budget (4 tries) for an outage.
PERMANENT_RETRIES = {
    "html": 0,
    "done-false-no-next-url": 0,
    "daily-limit": 0,
    "invalid-locator-always": 0,
    "redirect-to-login": 0,
    "503-outage": 3,
    "read-timeout-always": 3,
    "token-refused-twice": 0,
}


@pytest.mark.parametrize("kind, options, failed_files, code, message, hint", PERMANENT)
def test_the_fetch_fails_cleanly_on(
    request, org, baseline, fast_client, kind, options, failed_files, code, message,
    hint, observed
):
    host = urlsplit(org.url).netloc
    org.faults.add(kind, **options)

    with pytest.raises(CommandError) as error:
        call_command("tr_fetch")
    retries = len(fast_client)
    run = latest_fetch_run()
    folder = storage.latest_published()
    call_command("tr_import", "--sync")

    observed(
        f"exit non-zero after {retries} client retries; run {run.status} "
        f"{run.error_code}: {run.hint}"
    )
    assert retries == PERMANENT_RETRIES[request.node.callspec.id]
    assert str(error.value).startswith(
        f"Fetch run #{run.pk} failed: {', '.join(failed_files)}. {hint} The folder "
        f"{folder} is kept for inspection and marked failed, so no import deletes "
        "anything on the strength of it."
    )
    assert (run.status, run.error_code, run.hint) == (
        ImportRun.Status.FAILED,
        code,
        hint,
    )
    # The locator of a next page is the org's own; any one matches.
    expected = re.escape(f"{failed_files[0]}: {message.format(host=host, locator='@')}")
    assert re.match(expected.replace("@", r"[0-9A-Za-z]+-\d+"), run.error_message)
    assert_unchanged(baseline["snapshot"])



@fault(
    "`fetch_and_import` task while the org answers HTML instead of JSON",
    expected="the task fails at once (no retry), the fetch run holds the error, "
    "no import run is recorded, the catalogue is unchanged",
)
def test_the_task_never_imports_a_failed_fetch(org, baseline, observed):
    from traction_rec_import import tasks

    org.faults.add("html", page=2, times=None, object=SESSIONS_OBJECT)
    imports_before = ImportRun.objects.filter(kind=ImportRun.Kind.IMPORT).count()

    with pytest.raises(tasks.RunFailed) as error:
        tasks.fetch_and_import.apply(kwargs={"sync": True}, throw=True)

    observed(f"RunFailed: {error.value}")
    assert str(error.value).startswith(
        f"Fetch run #{latest_fetch_run().pk} failed: sessions.json "
        "(ConfigurationError: "
    )
    assert "The import did not run." in str(error.value)
    imports = ImportRun.objects.filter(kind=ImportRun.Kind.IMPORT).count()
    assert imports == imports_before
    assert_unchanged(baseline["snapshot"])


@fault(
    "session revoked, and the new token refused: invalid_grant \"user hasn't "
    "approved this consumer\"",
    expected="AuthenticationError with the pre-authorise hint on the fetch run; "
    "nothing imported or removed; non-zero exit",
)
def test_a_refused_token_fails_the_fetch_with_the_setup_hint(org, baseline, observed):
    org.revoke_tokens()
    org.faults.add("unapproved_user", times=None)

    with pytest.raises(CommandError) as error:
        call_command("tr_fetch")
    run = latest_fetch_run()
    call_command("tr_import", "--sync")

    observed(f"exit non-zero; run {run.error_code}: {run.hint}")
    assert str(error.value).startswith(
        f"Fetch run #{run.pk} failed: {', '.join(FILES)}. In Salesforce Setup"
    )
    assert (run.status, run.error_code) == (ImportRun.Status.FAILED, "invalid_grant")
    assert run.error_message.startswith(
        "programs.json: Salesforce refused the token: invalid_grant (user hasn't "
        "approved this consumer)."
    )
    assert run.hint == (
        "In Salesforce Setup, open the connected app (Manage Connected Apps), set "
        "Permitted Users to 'Admin approved users are pre-authorized' and add the "
        "integration user's profile or permission set."
    )
    assert_unchanged(baseline["snapshot"])


@fault(
    "quick availability sync while page 2 answers 500 every time",
    expected="`tr_quick_availability_sync` exits non-zero with the error; no "
    "session's availability changes (the org's did)",
)
def test_a_failed_quick_sync_changes_no_availability(org, baseline, observed):
    for link in org.org.records(SESSIONS_OBJECT):
        option = dict(org.org.index[link["TREX1__Course_Option__c"]])
        option["TREX1__Total_Capacity_Available__c"] = 1
        org.org.upsert("TREX1__Course_Option__c", option)
    org.faults.add("status", code=500, page=2, times=None, object=SESSIONS_OBJECT)

    with pytest.raises(CommandError) as error:
        call_command("tr_quick_availability_sync")
    run = ImportRun.objects.filter(kind=ImportRun.Kind.QUICK_SYNC).latest("pk")

    observed(f"exit non-zero: {error.value}; run {run.status} {run.error_code}")
    assert (run.status, run.error_code) == (
        ImportRun.Status.FAILED,
        "UNKNOWN_EXCEPTION",
    )
    assert_unchanged(baseline["snapshot"])
