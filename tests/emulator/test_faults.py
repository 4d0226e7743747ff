"""Each switchable fault of the local org, deterministic by page, object and count."""

import json
import time

import pytest
import requests

from traction_rec.emulator.faults import FaultError, Faults, parse_fault

from .conftest import VERSION, records, request_token

OPTION = "TREX1__Course_Option__c"
QUERY = f"SELECT Id FROM {OPTION}"


def pages(api, soql=QUERY, **kwargs):
    """(status, body) of each page, following nextRecordsUrl while it works."""
    response = api.query(soql, **kwargs)
    seen = [response]
    while response.status_code == 200 and not response.json()["done"]:
        response = api.get(response.json()["nextRecordsUrl"], **kwargs)
        seen.append(response)
    return seen


def test_status_503_on_page_2_twice_then_the_page_comes(
    small_pages_org, small_api, sample_org_dir
):
    expected = [record["Id"] for record in records(sample_org_dir, OPTION)][50:100]
    fault = small_pages_org.faults.add("status", code=503, page=2, times=2)
    first = small_api.query(QUERY).json()

    answers = [small_api.get(first["nextRecordsUrl"]) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [503, 503, 200]
    assert answers[0].json() == [
        {
            "message": "Server temporarily unavailable; try again later.",
            "errorCode": "SERVER_UNAVAILABLE",
        }
    ]
    assert [record["Id"] for record in answers[2].json()["records"]] == expected
    assert fault.fired == 2


def test_status_500_on_the_first_page(small_pages_org, small_api):
    small_pages_org.faults.add("status", code=500, page=1)

    failed = small_api.query(QUERY)
    retried = small_api.query(QUERY)

    assert failed.status_code == 500
    assert failed.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert retried.status_code == 200


def test_status_with_an_html_body(small_pages_org, small_api):
    small_pages_org.faults.add("status", code=503, body="html")

    response = small_api.query(QUERY)

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "text/html;charset=UTF-8"
    assert response.text.startswith("<!DOCTYPE html>")


def test_status_on_the_token_endpoint(org, key_pair):
    org.faults.add("status", code=503, endpoint="token")

    failed = request_token(org.url, key_pair[0])
    granted = request_token(org.url, key_pair[0])

    assert failed.status_code == 503
    assert granted.status_code == 200


def test_hang_outlasts_the_clients_read_timeout(small_pages_org, small_api):
    small_pages_org.faults.add("hang", page=2, seconds=1.5)
    first = small_api.query(QUERY).json()

    with pytest.raises(requests.exceptions.ReadTimeout):
        small_api.get(first["nextRecordsUrl"], timeout=0.3)
    retried = small_api.get(first["nextRecordsUrl"])

    assert retried.status_code == 200
    assert len(retried.json()["records"]) == 50


def test_html_instead_of_json(small_pages_org, small_api):
    small_pages_org.faults.add("html", page=2)
    first = small_api.query(QUERY).json()

    response = small_api.get(first["nextRecordsUrl"])

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html;charset=UTF-8"
    assert "<title>Login | Salesforce</title>" in response.text


def test_malformed_json(small_pages_org, small_api):
    small_pages_org.faults.add("malformed_json", page=1)

    response = small_api.query(QUERY)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert b"<<not json>>" in response.content
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_truncated_json(small_pages_org, small_api):
    whole = small_api.query(QUERY).content
    small_pages_org.faults.add("truncated_json", page=1)

    response = small_api.query(QUERY)

    assert response.status_code == 200
    assert len(response.content) == len(whole) // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_drop_connection_mid_body(small_pages_org, small_api):
    small_pages_org.faults.add("drop_connection", page=2)
    first = small_api.query(QUERY).json()

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        small_api.get(first["nextRecordsUrl"])
    retried = small_api.get(first["nextRecordsUrl"])

    assert retried.status_code == 200


def test_done_false_without_a_next_url(small_pages_org, small_api):
    small_pages_org.faults.add("no_next_url", page=2)
    first = small_api.query(QUERY).json()

    body = small_api.get(first["nextRecordsUrl"]).json()

    assert body["done"] is False
    assert "nextRecordsUrl" not in body
    assert len(body["records"]) == 50


@pytest.mark.parametrize(
    "kind, message",
    [
        ("daily", "TotalRequests Limit exceeded."),
        ("concurrent", "ConcurrentPerOrgLongTxn Limit exceeded."),
    ],
)
def test_request_limit_exceeded(small_pages_org, small_api, kind, message):
    small_pages_org.faults.add("limit", kind=kind, page=3)

    answers = pages(small_api)

    assert [answer.status_code for answer in answers] == [200, 200, 403]
    assert answers[-1].json() == [
        {"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_invalid_query_locator_on_a_next_page(small_pages_org, small_api):
    small_pages_org.faults.add("invalid_locator", page=3)

    answers = pages(small_api)

    assert [answer.status_code for answer in answers] == [200, 200, 400]
    assert answers[-1].json() == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]


def test_invalid_locator_never_fires_on_a_first_page(small_pages_org, small_api):
    fault = small_pages_org.faults.add("invalid_locator")

    answers = pages(small_api)

    assert [answer.status_code for answer in answers] == [200, 400]
    assert fault.fired == 1


def test_redirect_to_the_login_page(small_pages_org, small_api):
    small_pages_org.faults.add("redirect", page=1, times=2)

    raw = small_api.session.get(
        f"{small_pages_org.url}/services/data/{VERSION}/query",
        params={"q": QUERY},
        headers={"Authorization": f"Bearer {small_api.token}"},
        allow_redirects=False,
        timeout=10,
    )
    followed = small_api.query(QUERY)

    assert raw.status_code == 302
    login_page = f"{small_pages_org.url}/secur/login_page.jsp"
    assert raw.headers["Location"] == f"{login_page}?ec=302"
    assert followed.status_code == 200
    assert followed.url.startswith(f"{small_pages_org.url}/secur/login_page.jsp")
    assert followed.headers["Content-Type"] == "text/html;charset=UTF-8"


def test_expire_token_after_n_calls(small_pages_org, small_api):
    fault = small_pages_org.faults.add("expire_token", after=2)

    answers = [small_api.query("SELECT Id FROM TREX1__Location__c") for _ in range(4)]
    small_api.login()
    fresh = small_api.query("SELECT Id FROM TREX1__Location__c")

    assert [answer.status_code for answer in answers] == [200, 200, 401, 401]
    assert answers[2].json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert fresh.status_code == 200
    assert fault.fired == 1


def test_slow_delays_every_response(small_pages_org, small_api):
    fault = small_pages_org.faults.add("slow", seconds=0.2)

    started = time.monotonic()
    answers = pages(small_api, batch_size=200)
    elapsed = time.monotonic() - started

    assert [answer.status_code for answer in answers] == [200, 200]
    assert elapsed >= 0.4
    assert fault.fired == 2
    assert fault.times is None


def test_a_fault_aimed_at_another_object_does_not_fire(small_pages_org, small_api):
    fault = small_pages_org.faults.add("status", code=503, object="TREX1__Location__c")

    options = small_api.query(QUERY)
    locations = small_api.query("SELECT Id FROM trex1__location__c")

    assert options.status_code == 200
    assert locations.status_code == 503
    assert fault.fired == 1


def test_a_fault_for_always_fires_on_every_match(small_pages_org, small_api):
    fault = small_pages_org.faults.add("status", code=500, page=2, times=None)
    first = small_api.query(QUERY).json()

    statuses = [small_api.get(first["nextRecordsUrl"]).status_code for _ in range(4)]

    assert statuses == [500, 500, 500, 500]
    assert fault.fired == 4


def test_clear_removes_every_fault(small_pages_org, small_api):
    small_pages_org.faults.add("status", code=500, times=None)
    small_pages_org.faults.clear()

    assert small_api.query(QUERY).status_code == 200
    assert len(small_pages_org.faults) == 0


@pytest.mark.parametrize(
    "kind, options, message",
    [
        ("explode", {}, "Unknown fault 'explode'; choose one of "),
        (
            "status",
            {"code": 200},
            "status code must be an HTTP error code (400 to 599).",
        ),
        ("hang", {"seconds": 600}, "seconds must be between 0 and 60."),
        ("limit", {"kind": "weekly"}, 'limit kind must be "daily" or "concurrent".'),
        ("html", {"code": 500}, "The fault 'html' takes no option code"),
        ("status", {"times": 0}, "times must be a whole number of 1 or more, or None."),
        ("status", {"page": 0}, "page must be 1 (the first page) or more."),
    ],
)
def test_a_bad_fault_is_refused_with_what_is_accepted(kind, options, message):
    with pytest.raises(FaultError) as raised:
        Faults().add(kind, **options)

    assert str(raised.value).startswith(message)


def test_the_command_line_form_parses_into_add_arguments():
    assert parse_fault("status:code=503,page=2,times=2") == (
        "status",
        {"code": 503, "page": 2, "times": 2},
    )
    assert parse_fault("slow:seconds=0.25") == ("slow", {"seconds": 0.25})
    assert parse_fault("limit:kind=concurrent,times=always") == (
        "limit",
        {"kind": "concurrent", "times": None},
    )
    assert parse_fault("html") == ("html", {})
    with pytest.raises(FaultError, match="Write fault options as key=value"):
        parse_fault("status:503")


def test_redirect_on_the_versions_url_as_the_lightning_host_answers(org):
    org.faults.add("redirect", endpoint="versions")

    probed = requests.get(
        f"{org.url}/services/data/", allow_redirects=False, timeout=10
    )
    again = requests.get(f"{org.url}/services/data/", allow_redirects=False, timeout=10)

    assert probed.status_code == 302
    assert probed.headers["Location"] == f"{org.url}/secur/login_page.jsp?ec=302"
    assert again.status_code == 200


def test_html_on_the_token_endpoint(org, key_pair):
    org.faults.add("html", endpoint="token")

    response = request_token(org.url, key_pair[0])

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html;charset=UTF-8"


def test_an_unknown_endpoint_is_refused():
    with pytest.raises(FaultError) as raised:
        Faults().add("redirect", endpoint="sobjects")

    assert str(raised.value) == 'endpoint must be "query", "token" or "versions".'
