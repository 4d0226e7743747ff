import calendar
import datetime as dt
import json
import logging
import os
import random
import time
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests
import responses
from cryptography import x509

from traction_rec import keys
from traction_rec.client import TractionRecClient, parse_limit_info
from traction_rec.errors import (
    AuthenticationError,
    ConfigurationError,
    LimitError,
    QueryError,
    TransientError,
)

LOGIN = "https://login.salesforce.com"
TOKEN_URL = LOGIN + "/services/oauth2/token"
HOST = "https://ymca.my.salesforce.com"
QUERY_URL = HOST + "/services/data/v62.0/query/"
SOQL = "SELECT Id FROM TREX1__Location__c"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(key_pair, sleeps):
    def make(**overrides):
        options = dict(
            consumer_key="3MVG9-consumer",
            login_user="integration@ymca.org",
            login_url=LOGIN,
            audience="https://login.salesforce.com",
            private_key=keys.load_private_key(key_pair[0]).key,
            sleep=sleeps.append,
            rng=random.Random(7),
        )
        options.update(overrides)
        return TractionRecClient(**options)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def token_ok(mocked, token="00D-token-1", instance_url=HOST, **extra):
    mocked.post(
        TOKEN_URL,
        json={
            "access_token": token,
            "instance_url": instance_url,
            "id": "https://login.salesforce.com/id/00D/005",
            "token_type": "Bearer",
            "scope": "api",
            "signature": "ignored",
            **extra,
        },
    )


def page(records, *, done=True, next_url=None, total=None):
    body = {"totalSize": total if total is not None else len(records), "done": done}
    if next_url:
        body["nextRecordsUrl"] = next_url
    body["records"] = records
    return body


def record(number):
    return {"attributes": {"type": "TREX1__Location__c"}, "Id": f"a0L{number:015d}"}


def calls_to(mocked, url_start):
    return [call for call in mocked.calls if call.request.url.startswith(url_start)]


class TestAssertion:
    def test_the_claims_name_app_user_audience_and_expiry(self, make_client):
        now = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.timezone.utc)
        client = make_client(clock=lambda: now)

        assert client.assertion_claims() == {
            "iss": "3MVG9-consumer",
            "sub": "integration@ymca.org",
            "aud": "https://login.salesforce.com",
            "exp": calendar.timegm((2026, 12, 4, 18, 3, 0)),
        }

    def test_the_assertion_is_rs256_and_verifies_with_the_certificate(
        self, make_client, key_pair
    ):
        now = dt.datetime.now(dt.timezone.utc)
        client = make_client(clock=lambda: now)
        public_key = x509.load_pem_x509_certificate(key_pair[1].encode()).public_key()

        assertion = client.assertion()

        assert jwt.get_unverified_header(assertion)["alg"] == "RS256"
        assert jwt.decode(
            assertion, public_key, algorithms=["RS256"], audience="https://login.salesforce.com"
        ) == client.assertion_claims()

    def test_an_aware_clock_in_another_zone_gives_the_same_exp(self, make_client):
        chicago = dt.datetime(2026, 12, 4, 12, 0, tzinfo=ZoneInfo("America/Chicago"))

        claims = make_client(clock=lambda: chicago).assertion_claims()

        # 12:00 CST is 18:00 UTC.
        assert claims["exp"] == calendar.timegm((2026, 12, 4, 18, 0, 0)) + 180

    def test_a_naive_clock_is_refused(self, make_client):
        client = make_client(clock=lambda: dt.datetime(2026, 12, 4, 12, 0))

        with pytest.raises(ValueError, match="must return an aware datetime"):
            client.assertion_claims()

    @pytest.mark.parametrize("zone", ["America/Chicago", "Pacific/Kiritimati"])
    def test_exp_is_now_plus_180_seconds_whatever_the_process_tz(
        self, make_client, settings, zone
    ):
        previous = os.environ.get("TZ")
        os.environ["TZ"] = zone
        time.tzset()
        settings.TIME_ZONE = zone
        try:
            before = int(time.time())
            exp = make_client().assertion_claims()["exp"]
            after = int(time.time())
        finally:
            if previous is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = previous
            time.tzset()

        # A naive local or utcnow() clock would be off by the zone's offset
        # (6 or 14 hours); only an aware UTC clock lands in this window.
        assert before + 180 <= exp <= after + 180


class TestToken:
    def test_the_token_request_posts_the_jwt_grant_with_timeouts(self, client, mocked):
        token_ok(mocked)

        token = client.token()

        request = mocked.calls[0].request
        form = parse_qs(request.body)
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        assert jwt.decode(form["assertion"][0], options={"verify_signature": False})[
            "sub"
        ] == "integration@ymca.org"
        assert request.req_kwargs["timeout"] == (10, 90)
        assert token.access_token == "00D-token-1"
        assert token.instance_url == HOST

    def test_the_api_host_is_the_instance_url_not_the_login_url(self, client, mocked):
        token_ok(mocked, instance_url="https://ymca--dev.sandbox.my.salesforce.com/")
        mocked.get(
            "https://ymca--dev.sandbox.my.salesforce.com/services/data/v62.0/query/",
            json=page([record(1)]),
        )

        assert list(client.query(SOQL)) == [record(1)]

    def test_api_calls_have_connect_and_read_timeouts(self, make_client, mocked):
        client = make_client(timeout=45)
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([]))

        list(client.query(SOQL))

        assert mocked.calls[1].request.req_kwargs["timeout"] == (10, 45)

    def test_the_token_is_cached_for_other_clients_with_the_same_settings(
        self, make_client, mocked
    ):
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([]))

        list(make_client().query(SOQL))
        list(make_client().query(SOQL))

        assert len(calls_to(mocked, TOKEN_URL)) == 1
        assert [c.request.headers["Authorization"] for c in calls_to(mocked, QUERY_URL)] == [
            "Bearer 00D-token-1",
            "Bearer 00D-token-1",
        ]

    def test_a_changed_setting_gets_its_own_token(self, make_client, mocked):
        token_ok(mocked)

        first = make_client().cache_key
        second = make_client(login_user="other@ymca.org").cache_key
        make_client().token()
        make_client(login_user="other@ymca.org").token()

        assert first != second
        assert len(calls_to(mocked, TOKEN_URL)) == 2

    @pytest.mark.parametrize(
        "error, description, message, hint",
        [
            (
                "invalid_grant",
                "user hasn't approved this consumer",
                "Salesforce refused the token: invalid_grant (user hasn't approved "
                "this consumer).",
                "In Salesforce Setup, open the connected app (Manage Connected Apps), "
                "set Permitted Users to 'Admin approved users are pre-authorized' and "
                "add the integration user's profile or permission set.",
            ),
            (
                "invalid_grant",
                "audience is invalid",
                "Salesforce refused the token: invalid_grant (audience is invalid).",
                "The audience does not match the org: a sandbox needs "
                "https://test.salesforce.com, production https://login.salesforce.com. "
                "Clear the Audience field to derive it, or set it.",
            ),
            (
                "invalid_grant",
                "invalid assertion",
                "Salesforce refused the token: invalid_grant (invalid assertion).",
                "Salesforce could not verify the signature: upload the certificate "
                "that belongs to this private key to the connected app, and check the "
                "consumer key is that app's.",
            ),
            (
                "invalid_grant",
                "expired authorization code",
                "Salesforce refused the token: invalid_grant (expired authorization "
                "code).",
                "The assertion arrived expired: check that this server's clock is "
                "correct (NTP).",
            ),
            (
                "invalid_client_id",
                "client identifier invalid",
                "Salesforce refused the token: invalid_client_id (client identifier "
                "invalid).",
                "The consumer key is not a connected app of this org: copy the "
                "Consumer Key from the app's Manage Consumer Details, and check the "
                "login URL is this org's (sandbox or production).",
            ),
            (
                "unsupported_grant_type",
                "grant type not supported",
                "Salesforce refused the token: unsupported_grant_type (grant type not "
                "supported).",
                "The login URL does not accept the JWT bearer grant: use "
                "https://login.salesforce.com, https://test.salesforce.com or the "
                "org's My Domain.",
            ),
        ],
    )
    def test_each_token_error_says_what_to_change_and_is_not_retried(
        self, client, mocked, sleeps, error, description, message, hint
    ):
        mocked.post(
            TOKEN_URL, status=400, json={"error": error, "error_description": description}
        )

        with pytest.raises(AuthenticationError) as caught:
            client.token()

        assert caught.value.message == message
        assert caught.value.hint == hint
        assert caught.value.error_code == error
        assert caught.value.status == 400
        assert caught.value.retryable is False
        assert len(mocked.calls) == 1
        assert sleeps == []

    def test_a_token_response_without_instance_url_is_an_error(self, client, mocked):
        mocked.post(TOKEN_URL, json={"access_token": "00D-token-1"})

        with pytest.raises(AuthenticationError) as caught:
            client.token()

        assert caught.value.message == (
            "The token response has no instance_url, so there is no API host."
        )

    def test_an_http_instance_url_off_loopback_is_refused(self, client, mocked):
        token_ok(mocked, instance_url="http://ymca.my.salesforce.com")

        with pytest.raises(ConfigurationError) as caught:
            client.token()

        assert caught.value.message == (
            "The token response names the API host http://ymca.my.salesforce.com, "
            "which is not https."
        )

    def test_a_redirect_on_the_token_request_is_a_configuration_error(
        self, make_client, mocked
    ):
        client = make_client(login_url="https://ymca.lightning.force.com")
        mocked.post(
            "https://ymca.lightning.force.com/services/oauth2/token",
            status=302,
            headers={"Location": "https://ymca.my.salesforce.com/"},
            body="<html>moved</html>",
        )

        with pytest.raises(ConfigurationError) as caught:
            client.token()

        assert caught.value.message == (
            "The login URL https://ymca.lightning.force.com answered the token "
            "request with a redirect (status 302) to ymca.my.salesforce.com."
        )

    def test_an_html_token_answer_is_a_configuration_error(self, client, mocked):
        mocked.post(
            TOKEN_URL, status=200, body="<html><body>Login</body></html>",
            content_type="text/html",
        )

        with pytest.raises(ConfigurationError) as caught:
            client.token()

        assert caught.value.message == (
            "The login URL https://login.salesforce.com answered the token request "
            "with an HTML page (status 200), not Salesforce's JSON."
        )

    def test_a_503_on_the_token_request_is_retried(self, client, mocked, sleeps):
        mocked.post(TOKEN_URL, status=503, body="")
        token_ok(mocked)

        assert client.token().access_token == "00D-token-1"
        assert len(sleeps) == 1


class TestSessionRefresh:
    def test_a_401_gets_one_new_token_and_repeats_the_same_request(self, client, mocked):
        token_ok(mocked, token="00D-old")
        token_ok(mocked, token="00D-new")
        mocked.get(
            QUERY_URL,
            status=401,
            json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        )
        mocked.get(QUERY_URL, json=page([record(1)]))

        assert list(client.query(SOQL, batch_size=500)) == [record(1)]

        queries = calls_to(mocked, QUERY_URL)
        assert [c.request.headers["Authorization"] for c in queries] == [
            "Bearer 00D-old",
            "Bearer 00D-new",
        ]
        assert [c.request.headers["Sforce-Query-Options"] for c in queries] == [
            "batchSize=500",
            "batchSize=500",
        ]
        assert queries[0].request.url == queries[1].request.url
        assert len(calls_to(mocked, TOKEN_URL)) == 2

    def test_the_new_token_replaces_the_cached_one(self, make_client, mocked):
        token_ok(mocked, token="00D-old")
        token_ok(mocked, token="00D-new")
        mocked.get(QUERY_URL, status=401, json=[{"message": "x", "errorCode": "INVALID_SESSION_ID"}])
        mocked.get(QUERY_URL, json=page([]))
        list(make_client().query(SOQL))

        list(make_client().query(SOQL))

        assert calls_to(mocked, QUERY_URL)[-1].request.headers["Authorization"] == (
            "Bearer 00D-new"
        )

    def test_a_second_401_is_an_authentication_error(self, client, mocked):
        token_ok(mocked)
        mocked.get(
            QUERY_URL,
            status=401,
            json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        )

        with pytest.raises(AuthenticationError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "Salesforce answered 401 INVALID_SESSION_ID: Session expired or invalid."
        )
        assert caught.value.hint == (
            "A new token was refused as well: check that the integration user is "
            "active and its session is not revoked, and that the API host is not a "
            "lightning host."
        )
        assert len(calls_to(mocked, QUERY_URL)) == 2
        assert len(calls_to(mocked, TOKEN_URL)) == 2


class TestRetries:
    def test_503_twice_then_success(self, client, mocked, sleeps):
        token_ok(mocked)
        unavailable = [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
        mocked.get(QUERY_URL, status=503, json=unavailable)
        mocked.get(QUERY_URL, status=503, json=unavailable)
        mocked.get(QUERY_URL, json=page([record(1)]))

        assert list(client.query(SOQL)) == [record(1)]

        assert len(calls_to(mocked, QUERY_URL)) == 3
        assert len(sleeps) == 2
        # Full jitter under a doubling ceiling: [0, 1] then [0, 2] seconds.
        assert 0 <= sleeps[0] <= 1.0
        assert 0 <= sleeps[1] <= 2.0

    def test_the_backoff_ceiling_doubles_up_to_the_cap(self, make_client):
        client = make_client(rng=random.Random(1), backoff_base=1.0, backoff_cap=5.0)
        client.rng.uniform = lambda low, high: high

        assert [client._backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]

    def test_retry_after_is_honoured_up_to_the_cap(self, make_client):
        client = make_client(backoff_cap=30.0)
        client.rng.uniform = lambda low, high: 0.0

        assert client._backoff(1, retry_after=12) == 12
        assert client._backoff(1, retry_after=300) == 30.0

    def test_503_every_time_gives_up_after_four_attempts(self, client, mocked, sleeps):
        token_ok(mocked)
        mocked.get(
            QUERY_URL, status=503,
            json=[{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
        )

        with pytest.raises(TransientError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "Salesforce answered 503 SERVER_UNAVAILABLE: Server unavailable."
        )
        assert caught.value.retryable is True
        assert caught.value.status == 503
        assert len(calls_to(mocked, QUERY_URL)) == 4
        assert len(sleeps) == 3

    def test_a_connection_error_is_retried(self, client, mocked, sleeps):
        token_ok(mocked)
        mocked.get(QUERY_URL, body=requests.ConnectionError("refused"))
        mocked.get(QUERY_URL, json=page([record(2)]))

        assert list(client.query(SOQL)) == [record(2)]
        assert len(sleeps) == 1

    def test_a_read_timeout_is_retried_and_then_reported(self, client, mocked, sleeps):
        token_ok(mocked)
        mocked.get(QUERY_URL, body=requests.ReadTimeout("slow"))

        with pytest.raises(TransientError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "GET /services/data/v62.0/query/ timed out 4 times (ReadTimeout)."
        )
        assert caught.value.retryable is True
        assert len(sleeps) == 3

    def test_the_concurrent_request_limit_is_retried(self, client, mocked, sleeps):
        token_ok(mocked)
        mocked.get(
            QUERY_URL, status=403,
            json=[{"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        )
        mocked.get(QUERY_URL, json=page([]))

        assert list(client.query(SOQL)) == []
        assert len(sleeps) == 1

    def test_the_daily_request_limit_is_never_retried(self, client, mocked, sleeps):
        token_ok(mocked)
        mocked.get(
            QUERY_URL, status=403,
            json=[{"message": "TotalRequests Limit exceeded.",
                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        )

        with pytest.raises(LimitError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "Salesforce answered 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."
        )
        assert caught.value.retryable is False
        assert caught.value.hint == (
            "The org's daily API request limit is used up; it resets over 24 hours. "
            "Run fewer fetches, or ask Salesforce for more."
        )
        assert len(calls_to(mocked, QUERY_URL)) == 1
        assert sleeps == []

    @pytest.mark.parametrize(
        "code, message",
        [
            ("MALFORMED_QUERY", "unexpected token: FROM"),
            ("INVALID_FIELD", "No such column 'TREX1__Gender__c' on entity 'TREX1__Course__c'."),
            ("INVALID_TYPE", "sObject type 'TREX1__Course__c' is not supported."),
        ],
    )
    def test_query_errors_are_typed_and_never_retried(
        self, client, mocked, sleeps, code, message
    ):
        token_ok(mocked)
        mocked.get(QUERY_URL, status=400, json=[{"message": message, "errorCode": code}])

        with pytest.raises(QueryError) as caught:
            list(client.query(SOQL))

        expected = f"Salesforce answered 400 {code}: {message}"
        assert caught.value.message == (expected if expected.endswith(".") else expected + ".")
        assert caught.value.error_code == code
        assert caught.value.status == 400
        assert caught.value.retryable is False
        assert len(calls_to(mocked, QUERY_URL)) == 1
        assert sleeps == []

    def test_a_500_is_reported_at_once(self, client, mocked, sleeps):
        token_ok(mocked)
        mocked.get(
            QUERY_URL, status=500,
            json=[{"message": "An unexpected error occurred.", "errorCode": "UNKNOWN_EXCEPTION"}],
        )

        with pytest.raises(TransientError) as caught:
            list(client.query(SOQL))

        assert caught.value.error_code == "UNKNOWN_EXCEPTION"
        assert caught.value.status == 500
        assert len(calls_to(mocked, QUERY_URL)) == 1
        assert sleeps == []


class TestWrongHosts:
    def test_an_html_302_from_a_lightning_host_is_a_configuration_error(
        self, client, mocked
    ):
        token_ok(mocked, instance_url="https://ymca.lightning.force.com")
        mocked.get(
            "https://ymca.lightning.force.com/services/data/v62.0/query/",
            status=302,
            headers={"Location": "https://ymca.my.salesforce.com/secur/login_page.jsp"},
            body="<html><head><title>Redirecting</title></head></html>",
            content_type="text/html",
        )

        with pytest.raises(ConfigurationError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "The API host ymca.lightning.force.com answered with a redirect (status "
            "302) to ymca.my.salesforce.com; an API call must not be redirected."
        )
        assert caught.value.hint == (
            "Use the org's https://NAME.my.salesforce.com host, not the "
            "lightning.force.com host: it redirects, and API calls then fail with "
            "INVALID_SESSION_ID."
        )
        assert caught.value.status == 302

    def test_an_html_page_is_never_no_records(self, client, mocked):
        token_ok(mocked)
        mocked.get(QUERY_URL, body="<!DOCTYPE html><html></html>", content_type="text/html")

        with pytest.raises(ConfigurationError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "The API host ymca.my.salesforce.com answered with an HTML page (status "
            "200), not Salesforce's JSON."
        )

    def test_an_empty_body_is_never_no_records(self, client, mocked):
        token_ok(mocked)
        mocked.get(QUERY_URL, body="")

        with pytest.raises(ConfigurationError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "The API host ymca.my.salesforce.com answered with an empty body (status "
            "200); that is not a Salesforce API answer."
        )


class TestPages:
    def test_it_follows_next_records_url_until_done(self, client, mocked):
        token_ok(mocked)
        mocked.get(
            QUERY_URL,
            json=page([record(1), record(2)], done=False, total=5,
                      next_url="/services/data/v62.0/query/01gxx-2"),
        )
        mocked.get(
            HOST + "/services/data/v62.0/query/01gxx-2",
            json=page([record(3), record(4)], done=False, total=5,
                      next_url="/services/data/v62.0/query/01gxx-4"),
        )
        mocked.get(
            HOST + "/services/data/v62.0/query/01gxx-4", json=page([record(5)], total=5)
        )

        pages = list(client.pages(SOQL))

        assert [(p.number, p.total_size, len(p.records)) for p in pages] == [
            (1, 5, 2),
            (2, 5, 2),
            (3, 5, 1),
        ]
        assert [r["Id"] for p in pages for r in p.records] == [
            record(n)["Id"] for n in range(1, 6)
        ]

    def test_it_asks_for_the_next_page_only_when_the_last_is_used(self, client, mocked):
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([record(1)], done=False, next_url="/services/data/v62.0/query/01g-1"))
        mocked.get(HOST + "/services/data/v62.0/query/01g-1", json=page([record(2)]))

        records = client.query(SOQL)
        first = next(records)

        assert first == record(1)
        assert len(calls_to(mocked, HOST)) == 1
        assert list(records) == [record(2)]
        assert len(calls_to(mocked, HOST)) == 2

    def test_the_next_url_is_resolved_against_the_instance_host(self, make_client, mocked):
        client = make_client(login_url="https://ymca.my.salesforce.com/")
        mocked.post(
            HOST + "/services/oauth2/token",
            json={"access_token": "00D-token-1", "instance_url": HOST + "/"},
        )
        mocked.get(QUERY_URL, json=page([], done=False, next_url="services/data/v62.0/query/01g-1"))
        mocked.get(HOST + "/services/data/v62.0/query/01g-1", json=page([record(9)]))

        assert list(client.query(SOQL)) == [record(9)]

    def test_a_next_url_on_another_host_is_refused(self, client, mocked):
        token_ok(mocked)
        mocked.get(
            QUERY_URL,
            json=page([], done=False, next_url="https://evil.example/services/data/v62.0/query/01g-1"),
        )

        with pytest.raises(ConfigurationError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "Refusing to send the token to evil.example: the API host is "
            "ymca.my.salesforce.com."
        )

    def test_done_false_without_a_next_url_fails(self, client, mocked):
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([record(1)], done=False, total=3))

        with pytest.raises(QueryError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "Page 1 of the TREX1__Location__c query says more records follow but "
            "gives no nextRecordsUrl; the result would be incomplete."
        )

    def test_batch_size_is_asked_on_every_page(self, client, mocked):
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([], done=False, next_url="/services/data/v62.0/query/01g-1"))
        mocked.get(HOST + "/services/data/v62.0/query/01g-1", json=page([]))

        list(client.query(SOQL, batch_size=200))

        assert [c.request.headers.get("Sforce-Query-Options") for c in calls_to(mocked, HOST)] == [
            "batchSize=200",
            "batchSize=200",
        ]

    def test_no_batch_size_sends_no_query_options(self, client, mocked):
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([]))

        list(client.query(SOQL))

        assert "Sforce-Query-Options" not in calls_to(mocked, HOST)[0].request.headers

    def test_the_soql_is_sent_as_the_q_parameter(self, client, mocked):
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([]))

        list(client.query("SELECT Id FROM X__c WHERE Name = 'a b'"))

        assert parse_qs(calls_to(mocked, HOST)[0].request.url.split("?", 1)[1]) == {
            "q": ["SELECT Id FROM X__c WHERE Name = 'a b'"]
        }

    def test_a_bad_batch_size_is_refused(self, client):
        with pytest.raises(ValueError, match="batch_size is a whole number"):
            list(client.query(SOQL, batch_size=0))


class TestLimitInfo:
    def test_it_parses_the_header(self):
        assert parse_limit_info("api-usage=18/15000") == (18, 15000)
        assert parse_limit_info("api-usage=18/15000, per-app-api-usage=2/500(appName=x)") == (
            18,
            15000,
        )
        assert parse_limit_info(None) is None
        assert parse_limit_info("nonsense") is None

    def test_the_latest_usage_is_kept_and_logged_per_query(self, client, mocked, caplog):
        token_ok(mocked)
        mocked.get(
            QUERY_URL,
            json=page([], done=False, next_url="/services/data/v62.0/query/01g-1"),
            headers={"Sforce-Limit-Info": "api-usage=41/15000"},
        )
        mocked.get(
            HOST + "/services/data/v62.0/query/01g-1",
            json=page([record(1)]),
            headers={"Sforce-Limit-Info": "api-usage=42/15000"},
        )

        with caplog.at_level(logging.INFO, logger="traction_rec.client"):
            list(client.query(SOQL))

        assert client.limit_info == (42, 15000)
        finished = [r.getMessage() for r in caplog.records if "Query on" in r.getMessage()]
        assert len(finished) == 1
        assert finished[0].startswith("Query on TREX1__Location__c: 1 records in 2 pages, ")
        assert finished[0].endswith("API usage 42/15000")


class TestVersions:
    def test_it_lists_the_versions(self, client, mocked):
        token_ok(mocked)
        versions = [{"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}]
        mocked.get(HOST + "/services/data/", json=versions)

        assert client.versions() == versions


class TestSecretsStayOut:
    def test_no_token_assertion_key_or_secret_reaches_logs_errors_or_repr(
        self, make_client, mocked, caplog, key_pair
    ):
        client = make_client()
        token_ok(mocked, token="00D-SECRET-TOKEN")
        mocked.get(QUERY_URL, status=401, json=[{"message": "x", "errorCode": "INVALID_SESSION_ID"}])
        mocked.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "invalid assertion"})

        with caplog.at_level(logging.DEBUG):
            with pytest.raises(AuthenticationError) as caught:
                list(client.query(SOQL))
        assertion = parse_qs(mocked.calls[0].request.body)["assertion"][0]

        shown = "\n".join(
            [caplog.text, str(caught.value), repr(caught.value), caught.value.hint,
             repr(client), json.dumps(caught.value.as_dict())]
        )
        key_line = key_pair[0].splitlines()[1]
        assert "00D-SECRET-TOKEN" not in shown
        assert assertion not in shown
        assert assertion.split(".")[2] not in shown
        assert key_line not in shown

    def test_the_token_repr_hides_the_token(self):
        from traction_rec.client import Token

        assert repr(Token("00D-SECRET", HOST)) == f"<Token instance_url={HOST!r}>"


@pytest.mark.django_db
class TestFromSettings:
    def test_it_names_what_is_missing(self):
        with pytest.raises(ConfigurationError) as caught:
            TractionRecClient.from_settings()

        assert caught.value.message == (
            "The Traction Rec connection is not set up: consumer key, login user, "
            "login URL are empty."
        )

    def test_it_builds_a_client_from_the_saved_connection(self, key_pair):
        from traction_rec.models import ConnectionSettings

        connection = ConnectionSettings.load()
        connection.consumer_key = "3MVG9-consumer"
        connection.login_user = "integration@ymca.org.dev"
        connection.login_url = "https://ymca--dev.sandbox.my.salesforce.com"
        connection.private_key = key_pair[0]
        connection.timeout = 30
        connection.save()

        client = TractionRecClient.from_settings()

        assert client.audience == "https://test.salesforce.com"
        assert client.token_url == (
            "https://ymca--dev.sandbox.my.salesforce.com/services/oauth2/token"
        )
        assert client.timeout == (10, 30)
        assert client.api_version == "v62.0"

    def test_a_plain_http_login_url_off_loopback_is_refused(self, key_pair):
        from traction_rec.models import ConnectionSettings

        connection = ConnectionSettings(
            consumer_key="k", login_user="u@x.org", login_url="http://login.salesforce.com",
            private_key=key_pair[0],
        )

        with pytest.raises(ConfigurationError) as caught:
            TractionRecClient.from_settings(connection)

        assert caught.value.message == "The login URL http://login.salesforce.com is not https."


NEXT_PATH = "/services/data/v62.0/query/01gxx-2000"


class TestReadingOnce:
    @pytest.fixture
    def text_reads(self, monkeypatch):
        """How often each response's body is decoded to text or JSON."""
        reads = []
        text = requests.Response.text

        def counted_text(response):
            reads.append(("text", response.url))
            return text.fget(response)

        def counted_json(response, **kwargs):
            reads.append(("json", response.url))
            return json.loads(text.fget(response), **kwargs)

        monkeypatch.setattr(requests.Response, "text", property(counted_text))
        monkeypatch.setattr(requests.Response, "json", counted_json)
        return reads

    def test_each_page_body_is_decoded_once(self, client, mocked, text_reads):
        token_ok(mocked)
        mocked.get(QUERY_URL, json=page([record(1)], done=False, next_url=NEXT_PATH))
        mocked.get(HOST + NEXT_PATH, json=page([record(2)]))

        ids = [r["Id"] for r in client.query(SOQL)]

        assert ids == ["a0L000000000000001", "a0L000000000000002"]
        assert [kind for kind, url in text_reads] == ["text", "text", "text"]
        assert [url.split("?")[0] for _, url in text_reads] == [
            TOKEN_URL,
            QUERY_URL,
            HOST + NEXT_PATH,
        ]

    def test_an_error_body_is_decoded_once(self, client, mocked, text_reads):
        token_ok(mocked)
        mocked.get(
            QUERY_URL,
            status=400,
            json=[{"errorCode": "MALFORMED_QUERY", "message": "unexpected token: FORM"}],
        )

        with pytest.raises(QueryError) as caught:
            list(client.query(SOQL))

        assert caught.value.message == (
            "Salesforce answered 400 MALFORMED_QUERY: unexpected token: FORM."
        )
        assert [url.split("?")[0] for _, url in text_reads] == [TOKEN_URL, QUERY_URL]

    def test_the_cache_key_is_computed_once_per_client(
        self, client, mocked, monkeypatch
    ):
        token_ok(mocked)
        fingerprints = []
        fingerprint = keys.public_key_fingerprint

        def counted(public_key):
            fingerprints.append(1)
            return fingerprint(public_key)

        monkeypatch.setattr(keys, "public_key_fingerprint", counted)

        first = client.cache_key
        client.token()
        client.token(refresh=True)
        client._drop_token()
        client.token()

        assert client.cache_key == first
        assert len(fingerprints) == 1
        assert len(calls_to(mocked, TOKEN_URL)) == 3
