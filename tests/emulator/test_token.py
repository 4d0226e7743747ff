"""The JWT bearer grant of the local org: success and each Salesforce error."""

import time

import jwt
import pytest
import requests

from tests.conftest import make_key_pair

from .conftest import JWT_BEARER, VERSION, assertion, request_token


def test_it_grants_a_token_for_a_valid_assertion(org, key_pair):
    response = request_token(org.url, key_pair[0])

    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == [
        "access_token",
        "id",
        "instance_url",
        "issued_at",
        "scope",
        "token_type",
    ]
    assert "refresh_token" not in body
    assert body["instance_url"] == org.url
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api"
    assert body["id"].startswith(f"{org.url}/id/00D")
    assert len(body["access_token"]) > 40
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_each_grant_gets_a_new_token_and_the_token_opens_the_api(org, key_pair):
    first = request_token(org.url, key_pair[0]).json()["access_token"]
    second = request_token(org.url, key_pair[0]).json()["access_token"]

    response = requests.get(
        f"{org.url}/services/data/{VERSION}/query",
        params={"q": "SELECT Id FROM TREX1__Location__c"},
        headers={"Authorization": f"Bearer {second}"},
        timeout=10,
    )

    assert first != second
    assert response.status_code == 200
    assert response.json()["totalSize"] == 8


@pytest.mark.parametrize(
    "claims, error, description",
    [
        ({"iss": "someone-else"}, "invalid_client_id", "client identifier invalid"),
        (
            {"aud": "https://test.salesforce.com"},
            "invalid_grant",
            "audience is invalid",
        ),
        (
            {"exp": int(time.time()) - 10},
            "invalid_grant",
            "expired authorization code",
        ),
        ({"exp": None}, "invalid_grant", "expired authorization code"),
        ({"sub": "nobody@ymca.example"}, "invalid_grant", "invalid assertion"),
    ],
    ids=["issuer", "audience", "expired", "no-exp", "user"],
)
def test_it_refuses_a_wrong_claim(org, key_pair, claims, error, description):
    response = request_token(org.url, key_pair[0], **claims)

    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_it_refuses_an_assertion_signed_by_another_key(org):
    other_key, _ = make_key_pair(common_name="intruder", key_size=2048)

    response = request_token(org.url, other_key)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "invalid assertion",
    }


@pytest.mark.parametrize(
    "value",
    ["", "not-a-jwt", "a.b.c"],
    ids=["empty", "garbage", "three-parts"],
)
def test_it_refuses_an_assertion_that_does_not_decode(org, value):
    response = requests.post(
        f"{org.url}/services/oauth2/token",
        data={"grant_type": JWT_BEARER, "assertion": value},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "invalid assertion",
    }


def test_it_refuses_an_assertion_signed_with_a_shared_secret(org):
    forged = jwt.encode(
        {
            "iss": "emulator-consumer-key",
            "sub": "integration@ymca-emulator.example",
            "aud": "https://login.salesforce.com",
            "exp": int(time.time()) + 180,
        },
        "a-shared-secret-of-enough-length-for-hs256",
        algorithm="HS256",
    )

    response = requests.post(
        f"{org.url}/services/oauth2/token",
        data={"grant_type": JWT_BEARER, "assertion": forged},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error_description"] == "invalid assertion"


def test_it_refuses_another_grant_type(org, key_pair):
    response = requests.post(
        f"{org.url}/services/oauth2/token",
        data={"grant_type": "password", "assertion": assertion(key_pair[0])},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant type not supported",
    }


def test_the_unapproved_user_fault_refuses_once(org, key_pair):
    fault = org.faults.add("unapproved_user")

    refused = request_token(org.url, key_pair[0])
    granted = request_token(org.url, key_pair[0])

    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "user hasn't approved this consumer",
    }
    assert granted.status_code == 200
    assert fault.fired == 1


def test_the_log_holds_no_token_or_assertion(org, key_pair):
    token = request_token(org.url, key_pair[0]).json()["access_token"]
    requests.get(
        f"{org.url}/services/data/{VERSION}/query",
        params={"q": "SELECT Id FROM TREX1__Location__c"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert org.requests == [
        ("POST", "/services/oauth2/token", 200),
        ("GET", f"/services/data/{VERSION}/query", 200),
    ]
    assert token not in repr(org.requests)
