"""The client against the local org: real HTTP on 127.0.0.1, real JWT."""

import datetime as dt
import json
import math
import random

import pytest

from tests import sample_org
from tests.conftest import make_key_pair
from traction_rec import queries
from traction_rec.client import TractionRecClient
from traction_rec.errors import (
    AuthenticationError,
    ConfigurationError,
    LimitError,
    QueryError,
)
from traction_rec.forms import ConnectionSettingsForm
from traction_rec.models import ConnectionSettings
from traction_rec.records import simplify

try:
    from traction_rec.emulator.testing import running_org
except ImportError:  # pragma: no cover - the local org ships in this repository
    running_org = None

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(running_org is None, reason="traction_rec.emulator.testing is missing"),
]

TODAY = dt.date(2026, 12, 4)
PAGE_SIZE = 50


def load(sample_org_dir, name):
    return sample_org.records_by_id(sample_org_dir, name)


@pytest.fixture(scope="module")
def org_data(sample_org_dir):
    names = [
        "TREX1__Course_Option__c",
        "TREX1__Course_Session_Option__c",
        "TREX1__Course_Session__c",
        "TREX1__Course__c",
        "TREX1__Location__c",
        "TREX1__Product__c",
        "TREX1__Program__c",
        "TREX1__Program_Category__c",
        "TREX1__Program_Category_Tag__c",
    ]
    anchor = dt.date.fromisoformat(json.loads((sample_org_dir / "org.json").read_text())["anchor_date"])
    # The org moves dates by whole weeks from its anchor; 2026-12-04 is three
    # days after the anchor, so nothing moves.
    assert (TODAY - anchor).days // 7 == 0
    return {name: load(sample_org_dir, name) for name in names}


def expected_option_ids(data, location_id=None):
    """The session options the course_options query should keep, worked out
    from the files with the Drupal module's conditions."""
    today = TODAY.isoformat()
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    kept = []
    for link in data["TREX1__Course_Session_Option__c"].values():
        option = data["TREX1__Course_Option__c"][link["TREX1__Course_Option__c"]]
        session = data["TREX1__Course_Session__c"][link["TREX1__Course_Session__c"]]
        if (
            option["TREX1__Available_Online__c"] is True
            and option["TREX1__Day_of_Week__c"] is not None
            and option["TREX1__Register_Online_To_Date__c"] is not None
            and option["TREX1__Register_Online_To_Date__c"] > yesterday
            and option["TREX1__End_Date__c"] is not None
            and option["TREX1__End_Date__c"] >= today
            and option["TREX1__Start_Date__c"] is not None
            and session["TREX1__Available_Online__c"] is True
            and session["TREX1__Num_Option_Entitlements__c"] is not None
            and session["TREX1__Num_Option_Entitlements__c"] <= 1
            and (location_id is None or option["TREX1__Location__c"] == location_id)
        ):
            kept.append(link["Id"])
    return kept


@pytest.fixture
def org(sample_org_dir):
    key_pem, certificate_pem = make_key_pair()
    with running_org(
        sample_org_dir, certificate_pem=certificate_pem, today=TODAY, page_size=PAGE_SIZE
    ) as handle:
        handle.key_pem = key_pem
        handle.certificate_pem = certificate_pem
        yield handle


@pytest.fixture
def connected(org):
    """The connection saved the way an admin does, aimed at the local org."""
    form = ConnectionSettingsForm(
        {
            "consumer_key": "demo-consumer-key",
            "login_user": "integration@ymca.example",
            "login_url": org.url,
            "api_base_url": org.url,
            "services_base_url": org.url,
            "community_url": "http://127.0.0.1:8000/register",
            "private_key": org.key_pem,
            "certificate": org.certificate_pem,
        },
        instance=ConnectionSettings.load(),
    )
    assert form.errors == {}
    form.save()
    return org


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(connected, sleeps):
    return TractionRecClient.from_settings(sleep=sleeps.append, rng=random.Random(3))


def token_requests(org):
    return [r for r in org.requests if r.path == "/services/oauth2/token"]


def query_requests(org):
    return [r for r in org.requests if r.path.startswith("/services/data/v62.0/query")]


class TestQueries:
    def test_every_query_pages_to_the_end_with_the_counts_of_the_files(
        self, client, org, org_data
    ):
        options = expected_option_ids(org_data)
        tags = [
            tag
            for tag in org_data["TREX1__Program_Category_Tag__c"].values()
            if org_data["TREX1__Program__c"][tag["TREX1__Program__c"]]["TREX1__Available_Online__c"]
            and org_data["TREX1__Program_Category__c"][tag["TREX1__Program_Category__c"]][
                "TREX1__Available_Online__c"
            ]
        ]
        courses = [
            c for c in org_data["TREX1__Course__c"].values() if c["TREX1__Available_Online__c"]
        ]
        expected = {
            "program_category_tags": len(tags),
            "courses": len(courses),
            "course_options": len(options),
            "locations": len(org_data["TREX1__Location__c"]),
            "availability": len(options),
        }

        counts = {}
        pages = {}
        for name in queries.names():
            seen = list(client.pages(queries.build(name)))
            counts[name] = sum(len(page.records) for page in seen)
            pages[name] = len(seen)

        assert counts == expected
        assert pages == {name: max(1, math.ceil(n / PAGE_SIZE)) for name, n in expected.items()}
        assert expected["course_options"] > PAGE_SIZE
        assert client.limit_info == (len(org.requests) - len(token_requests(org)), 15000)

    def test_the_option_ids_are_those_the_conditions_keep(self, client, org_data):
        ids = [record["Id"] for record in client.query(queries.build("course_options"))]

        assert sorted(ids) == sorted(expected_option_ids(org_data))

    def test_a_simplified_session_has_the_contract_layout(self, client, org_data):
        link = next(
            link
            for link in org_data["TREX1__Course_Session_Option__c"].values()
            if link["Id"] in set(expected_option_ids(org_data))
        )
        option = org_data["TREX1__Course_Option__c"][link["TREX1__Course_Option__c"]]
        session = org_data["TREX1__Course_Session__c"][link["TREX1__Course_Session__c"]]
        course = org_data["TREX1__Course__c"][session["TREX1__Course__c"]]
        location = org_data["TREX1__Location__c"][option["TREX1__Location__c"]]
        product = org_data["TREX1__Product__c"][option["TREX1__Product__c"]]

        records = {r["Id"]: r for r in client.query(queries.build("course_options"))}
        simplified = simplify(records[link["Id"]])

        plain = {
            key.replace("TREX1__", "").replace("__c", ""): value
            for key, value in option.items()
            if key not in ("TREX1__Location__c", "TREX1__Product__c")
        }
        assert simplified == {
            "Id": link["Id"],
            "Course_Option": {
                **plain,
                "Location_Id": location["Id"],
                "Location": {"Id": location["Id"], "Name": location["Name"]},
                "Product_Id": product["Id"],
                "Product": {
                    "Id": product["Id"],
                    "Name": product["Name"],
                    "Price_Description": product["TREX1__Price_Description__c"],
                },
            },
            "Course_Session": {
                "Id": session["Id"],
                "Name": session["Name"],
                "Description": session["TREX1__Description__c"],
                "Rich_Description": session["TREX1__Rich_Description__c"],
                "Course": {
                    "Id": course["Id"],
                    "Name": course["Name"],
                    "Description": course["TREX1__Description__c"],
                    "Rich_Description": course["TREX1__Rich_Description__c"],
                },
            },
        }

    def test_location_ids_keep_only_those_locations(self, client, org_data):
        location_id = "a0L5e0000HIhd4eEQB"

        ids = [
            r["Id"]
            for r in client.query(
                queries.build("course_options", location_ids=[location_id[:15]])
            )
        ]

        assert sorted(ids) == sorted(expected_option_ids(org_data, location_id))
        assert ids

    def test_batch_size_sets_the_page_size(self, client, org_data):
        pages = list(client.pages(queries.build("courses"), batch_size=20))

        courses = sum(1 for c in org_data["TREX1__Course__c"].values() if c["TREX1__Available_Online__c"])
        assert [len(page.records) for page in pages] == (
            [20] * (courses // 20) + ([courses % 20] if courses % 20 else [])
        )

    def test_the_versions_are_listed(self, client):
        versions = client.versions()

        assert "62.0" in [item["version"] for item in versions]


class TestFailures:
    def test_an_expired_session_gets_one_new_token_and_the_run_completes(
        self, client, org, org_data
    ):
        org.faults.add("expire_token", after=2)

        ids = [r["Id"] for r in client.query(queries.build("course_options"))]

        assert sorted(ids) == sorted(expected_option_ids(org_data))
        assert len(token_requests(org)) == 2
        assert [r.status for r in query_requests(org)].count(401) == 1

    def test_503_twice_on_page_two_then_the_run_completes(self, client, org, org_data, sleeps):
        org.faults.add("status", code=503, page=2, times=2)

        ids = [r["Id"] for r in client.query(queries.build("course_options"))]

        assert sorted(ids) == sorted(expected_option_ids(org_data))
        assert [r.status for r in query_requests(org)][:4] == [200, 503, 503, 200]
        assert len(sleeps) == 2

    def test_a_read_timeout_is_retried(self, connected, org, org_data, sleeps):
        client = TractionRecClient.from_settings(sleep=sleeps.append)
        client.timeout = (1, 0.3)
        org.faults.add("hang", seconds=1.5, page=1, times=1)

        records = list(client.query(queries.build("locations")))

        assert len(records) == len(org_data["TREX1__Location__c"])
        assert len(sleeps) == 1

    def test_a_redirect_like_a_lightning_host_is_a_configuration_error(self, client, org):
        org.faults.add("redirect", page=1)

        with pytest.raises(ConfigurationError) as caught:
            list(client.query(queries.build("courses")))

        host = org.url.removeprefix("http://")
        assert caught.value.message == (
            f"The API host {host} answered with a redirect (status 302) to {host}; "
            "an API call must not be redirected."
        )

    def test_an_html_page_is_a_configuration_error(self, client, org):
        org.faults.add("html", page=2)

        with pytest.raises(ConfigurationError, match="answered with an HTML page"):
            list(client.query(queries.build("course_options")))

    def test_done_false_without_a_next_url_is_an_error(self, client, org):
        org.faults.add("no_next_url", page=1)

        with pytest.raises(QueryError) as caught:
            list(client.query(queries.build("courses")))

        assert caught.value.message == (
            "Page 1 of the TREX1__Course__c query says more records follow but gives "
            "no nextRecordsUrl; the result would be incomplete."
        )

    def test_an_invalid_query_locator_is_a_query_error(self, client, org):
        org.faults.add("invalid_locator", page=2)

        with pytest.raises(QueryError) as caught:
            list(client.query(queries.build("course_options")))

        assert caught.value.error_code == "INVALID_QUERY_LOCATOR"
        assert caught.value.status == 400

    def test_the_daily_limit_is_not_retried(self, client, org, sleeps):
        org.faults.add("limit", kind="daily", page=1)

        with pytest.raises(LimitError) as caught:
            list(client.query(queries.build("courses")))

        assert caught.value.retryable is False
        assert len(query_requests(org)) == 1
        assert sleeps == []

    def test_the_concurrent_limit_is_retried(self, client, org, sleeps):
        org.faults.add("limit", kind="concurrent", page=1)

        list(client.query(queries.build("locations")))

        assert [r.status for r in query_requests(org)] == [403, 200]
        assert len(sleeps) == 1

    def test_an_unknown_field_is_a_query_error(self, client, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {"courses": {"fields": ["TREX1__Gender__c"]}}

        with pytest.raises(QueryError) as caught:
            list(client.query(queries.build("courses")))

        assert caught.value.error_code == "INVALID_FIELD"
        assert caught.value.retryable is False

    def test_an_unapproved_user_gets_the_pre_authorise_advice(self, client, org):
        org.faults.add("unapproved_user")

        with pytest.raises(AuthenticationError) as caught:
            client.token()

        assert caught.value.message == (
            "Salesforce refused the token: invalid_grant (user hasn't approved this "
            "consumer)."
        )
        assert "Admin approved users are pre-authorized" in caught.value.hint

    def test_a_key_of_another_certificate_is_an_invalid_assertion(self, connected, org):
        other_key, _ = make_key_pair()
        connection = ConnectionSettings.load()
        connection.private_key = other_key
        connection.certificate = ""
        connection.save()

        with pytest.raises(AuthenticationError) as caught:
            TractionRecClient.from_settings().token()

        assert caught.value.message == (
            "Salesforce refused the token: invalid_grant (invalid assertion)."
        )

    def test_a_sandbox_audience_against_a_production_org(self, connected, org):
        connection = ConnectionSettings.load()
        connection.audience = "https://test.salesforce.com"
        connection.save()

        with pytest.raises(AuthenticationError) as caught:
            TractionRecClient.from_settings().token()

        assert caught.value.message == (
            "Salesforce refused the token: invalid_grant (audience is invalid)."
        )

    def test_a_wrong_consumer_key(self, connected, org):
        connection = ConnectionSettings.load()
        connection.consumer_key = "another-app"
        connection.save()

        with pytest.raises(AuthenticationError) as caught:
            TractionRecClient.from_settings().token()

        assert caught.value.error_code == "invalid_client_id"

    def test_no_token_reaches_the_logs(self, client, org, caplog):
        import logging

        org.faults.add("expire_token", after=1)
        with caplog.at_level(logging.DEBUG):
            list(client.query(queries.build("courses")))

        token = client.token().access_token
        assert token not in caplog.text
        assert token.split("!")[1] not in caplog.text


class TestDamagedAnswers:
    @pytest.mark.parametrize("kind", ["truncated_json", "malformed_json"])
    def test_damaged_json_every_time_is_transient_after_the_retries(
        self, client, org, kind, sleeps
    ):
        from traction_rec.errors import TransientError

        fault = org.faults.add(kind, page=2, times=None)

        with pytest.raises(TransientError) as caught:
            list(client.query(queries.build("course_options")))

        host = org.url.removeprefix("http://")
        assert caught.value.message == (
            f"The API host {host} sent JSON that could not be read (status 200); "
            "the answer was cut short or damaged on the way."
        )
        assert caught.value.retryable is True
        assert [r.status for r in query_requests(org)] == [200, 200, 200, 200, 200]
        assert fault.fired == 4
        assert len(sleeps) == 3

    @pytest.mark.parametrize("kind", ["truncated_json", "malformed_json"])
    def test_damaged_json_once_is_retried_and_the_run_completes(
        self, client, org, org_data, kind, sleeps
    ):
        fault = org.faults.add(kind, page=2, times=1)

        ids = [r["Id"] for r in client.query(queries.build("course_options"))]

        assert sorted(ids) == sorted(expected_option_ids(org_data))
        assert fault.fired == 1
        assert len(sleeps) == 1

    def test_a_dropped_connection_is_retried(self, client, org, org_data, sleeps):
        org.faults.add("drop_connection", page=2)

        ids = [r["Id"] for r in client.query(queries.build("course_options"))]

        assert sorted(ids) == sorted(expected_option_ids(org_data))
        assert len(sleeps) == 1
