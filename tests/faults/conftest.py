"""The faults suite's hooks and fixtures.

The hooks collect, for every test marked with `reliability.fault()` or
`reliability.attack()`, its outcome and what it observed, and at the end of
a run that ran the whole suite (every file, nothing deselected, not stopped
early) write docs/reliability.md from them. A partial run (one file, `-k`,
`-x` stopping early) leaves the document alone and says so.
"""

import re
from pathlib import Path

import pytest

from tests.faults import reliability

HERE = Path(__file__).resolve().parent
ROWS = pytest.StashKey()
TMP_PATH = re.compile(r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]+")
STATE = {
    "rows": {},
    "order": [],
    "sections": [],
    "deselected": 0,
    "files": set(),
    "message": "",
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{reliability.MARK}(kind, name, expected): a fault or attack test listed "
        "in docs/reliability.md",
    )


def _in_suite(item):
    return Path(str(item.path)).resolve().parent == HERE


def _section(item):
    doc = (item.module.__doc__ or item.module.__name__).strip()
    return doc.splitlines()[0].rstrip(".")


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if not _in_suite(item):
            continue
        STATE["files"].add(Path(str(item.path)).name)
        mark = item.get_closest_marker(reliability.MARK)
        if mark is None:
            continue
        section = _section(item)
        if section not in STATE["sections"]:
            STATE["sections"].append(section)
        row = reliability.Row(
            nodeid=item.nodeid,
            section=section,
            kind=mark.kwargs["kind"],
            name=mark.kwargs["name"],
            expected=mark.kwargs["expected"],
        )
        STATE["rows"][item.nodeid] = row
        STATE["order"].append(item.nodeid)
        item.stash[ROWS] = row


def pytest_deselected(items):
    STATE["deselected"] += sum(1 for item in items if _in_suite(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    row = item.stash.get(ROWS, None)
    if row is None:
        return report

    if hasattr(report, "wasxfail"):
        if report.skipped:
            row.result, row.detail = "xfail", report.wasxfail
        elif report.passed:
            row.result, row.detail = "failed", "passed unexpectedly (XPASS)"
    elif report.failed:
        row.result = "failed"
        row.detail = "" if report.when == "call" else f"error in {report.when}"
    elif report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        row.result, row.detail = "skipped", reason.removeprefix("Skipped: ")
    elif report.when == "call" and row.result == "not run":
        row.result = "passed"
    return report


@pytest.fixture
def observed(request):
    """observed(text): note what the test actually saw, for the report."""
    row = request.node.stash.get(ROWS, None)

    def note(text):
        if row is not None:
            # Temporary folders differ on every run; the report names none.
            row.observed.append(TMP_PATH.sub("<tmp>", str(text)))

    return note


def _whole_suite_ran(session):
    expected_files = {path.name for path in HERE.glob("test_*.py")}
    rows = [STATE["rows"][nodeid] for nodeid in STATE["order"]]
    return (
        rows
        and STATE["files"] >= expected_files
        and STATE["deselected"] == 0
        and not session.shouldstop
        and not session.shouldfail
        and all(row.result != "not run" for row in rows)
    )


def pytest_sessionfinish(session, exitstatus):
    if not STATE["order"]:
        return
    if not _whole_suite_ran(session):
        STATE["message"] = (
            f"{reliability.REPORT.name} not written: the run did not include the "
            "whole faults suite."
        )
        return

    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    rows = [STATE["rows"][nodeid] for nodeid in STATE["order"]]
    path = reliability.write_report(rows, sections=STATE["sections"], database=engine)
    STATE["message"] = f"{path} written: {len(rows)} faults and attacks."


def pytest_terminal_summary(terminalreporter):
    if STATE["message"]:
        terminalreporter.write_line(STATE["message"])


# The local org, the connection and a fast client


CONSUMER_KEY = "faults-consumer-key"
USERNAME = "integration@ymca-faults.example"
CONSUMER_SECRET = "faults-consumer-secret-Zq81"
# Small pages so that "page K" exists for every query of a small org.
PAGE_SIZE = 5
OPTIONS = 12


@pytest.fixture(scope="session")
def small_org_dir(tmp_path_factory):
    """A generated org of OPTIONS course options (the generator is seeded)."""
    from traction_rec.emulator.generator import write_org

    directory = tmp_path_factory.mktemp("faults-org")
    write_org(directory, options=OPTIONS, seed=9)
    return directory


@pytest.fixture
def org(small_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    _, cert_pem = key_pair
    with running_org(
        small_org_dir,
        certificate_pem=cert_pem,
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        page_size=PAGE_SIZE,
    ) as handle:
        yield handle


def connection_data(org_url, key_pem, cert_pem, **changes):
    data = {
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "login_user": USERNAME,
        "login_url": org_url,
        "services_base_url": f"{org_url}/services",
        "api_base_url": f"{org_url}/services/data/v62.0",
        "community_url": "https://ymca-faults.my.site.com",
        "audience": "",
        "timeout": 5,
        "api_version": "v62.0",
        "private_key_source": "database",
        "private_key": key_pem,
        "private_key_path": "",
        "private_key_passphrase": "",
        "certificate": cert_pem,
    }
    data.update(changes)
    return data


@pytest.fixture
def connection(org, key_pair):
    """The connection saved through the admin's form, as an admin would."""
    from traction_rec.forms import ConnectionSettingsForm
    from traction_rec.models import ConnectionSettings

    key_pem, cert_pem = key_pair
    form = ConnectionSettingsForm(
        data=connection_data(org.url, key_pem, cert_pem),
        instance=ConnectionSettings.load(),
    )
    assert form.is_valid(), form.errors
    return form.save()


class Sleeps(list):
    """The backoff delays the client asked for; nothing actually sleeps."""


READ_TIMEOUT = 0.3


@pytest.fixture
def fast_client(monkeypatch, connection):
    """Every client the fetch makes retries at once and times out after
    READ_TIMEOUT seconds, so hang and retry faults cost a fraction of a
    second. Returns the list of backoff delays asked for."""
    from traction_rec.client import TractionRecClient
    from traction_rec_import import fetch

    sleeps = Sleeps()

    def make_client():
        client = TractionRecClient.from_settings(
            sleep=sleeps.append, backoff_base=0.001, backoff_cap=0.001
        )
        # from_settings takes the read timeout from the saved connection,
        # whose form accepts 5 s at least.
        client.timeout = (READ_TIMEOUT, READ_TIMEOUT)
        return client

    monkeypatch.setattr(fetch, "make_client", make_client)
    return sleeps


@pytest.fixture
def branches(small_org_dir):
    """Our locations, titled as in Traction Rec so the import matches them."""
    import json

    from activity_finder.models import Location

    records = json.loads((small_org_dir / "TREX1__Location__c.json").read_text())
    for record in records["records"]:
        Location.objects.create(title=record["Name"], kind=Location.Kind.BRANCH)
