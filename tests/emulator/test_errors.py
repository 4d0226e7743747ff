"""The Salesforce error array for each refusal."""

import pytest
import requests

from .conftest import VERSION


def error(response):
    (item,) = response.json()
    return item["errorCode"], item["message"]


def test_a_query_without_a_token_is_refused(org):
    response = requests.get(
        f"{org.url}/services/data/{VERSION}/query",
        params={"q": "SELECT Id FROM TREX1__Location__c"},
        timeout=10,
    )

    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert response.headers["Sforce-Limit-Info"] == "api-usage=1/15000"


def test_an_unknown_token_is_refused(api):
    api.token = "00D5e000000YMCAEAW!not-a-token-this-org-issued"

    response = api.query("SELECT Id FROM TREX1__Location__c")

    assert response.status_code == 401
    assert error(response) == ("INVALID_SESSION_ID", "Session expired or invalid")


def test_a_revoked_token_is_refused(org, api):
    org.revoke_tokens()

    response = api.query("SELECT Id FROM TREX1__Location__c")

    assert response.status_code == 401
    assert error(response)[0] == "INVALID_SESSION_ID"


def test_a_syntax_error_is_a_malformed_query(api):
    response = api.query("SELECT Id FROM TREX1__Location__c WHERE Name = ")

    assert response.status_code == 400
    assert error(response) == (
        "MALFORMED_QUERY",
        "\nSELECT Id FROM TREX1__Location__c WHERE Name = \n"
        + " " * 47
        + "^\nERROR at Row:1:Column:48\nunexpected token: '<EOF>'",
    )


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT FROM TREX1__Location__c",
        "SELECT Id TREX1__Location__c",
        "SELECT Id FROM TREX1__Location__c WHERE Name = 'unterminated",
        "SELECT Id FROM TREX1__Location__c WHERE Name = 'bad \\q escape'",
        "SELECT Id FROM TREX1__Location__c WHERE Name IN ('a', )",
        "SELECT Id FROM TREX1__Location__c WHERE Name = 'a' AND Id != null "
        "OR Name = 'b'",
        "SELECT Id FROM TREX1__Location__c WHERE (Name = 'a'",
        "SELECT Id FROM TREX1__Location__c LIMIT many",
        "SELECT Id FROM TREX1__Location__c WHERE Name = :name",
        "SELECT Id, (SELECT Id FROM Children__r) FROM TREX1__Location__c",
        "SELECT COUNT() FROM TREX1__Location__c",
        "SELECT Id, Id FROM TREX1__Location__c",
    ],
    ids=[
        "no-fields",
        "no-from",
        "unterminated",
        "bad-escape",
        "trailing-comma",
        "and-or-unparenthesised",
        "open-parenthesis",
        "limit-word",
        "bind-variable",
        "subquery",
        "aggregate",
        "duplicate",
    ],
)
def test_it_answers_malformed_query(api, soql):
    response = api.query(soql)

    assert response.status_code == 400
    assert error(response)[0] == "MALFORMED_QUERY"


def test_a_missing_query_string_is_malformed(api):
    response = api.get(f"/services/data/{VERSION}/query")

    assert response.status_code == 400
    assert error(response) == ("MALFORMED_QUERY", "A query string has to be specified")


def test_an_unknown_field_is_invalid_field(api):
    response = api.query("SELECT Id, Colour__c FROM TREX1__Location__c")

    assert response.status_code == 400
    code, message = error(response)
    assert code == "INVALID_FIELD"
    assert message.endswith(
        "No such column 'Colour__c' on entity 'TREX1__Location__c'. If you are "
        "attempting to use a custom field, be sure to append the '__c' after the "
        "custom field name. Please reference your WSDL or the describe call for "
        "the appropriate names."
    )
    assert "ERROR at Row:1:Column:12" in message


def test_an_unknown_field_behind_a_relationship_names_the_related_object(api):
    response = api.query(
        "SELECT TREX1__Location__r.Colour__c FROM TREX1__Course_Option__c"
    )

    assert response.status_code == 400
    assert error(response)[0] == "INVALID_FIELD"
    assert "No such column 'Colour__c' on entity 'TREX1__Location__c'" in (
        error(response)[1]
    )


def test_an_unknown_relationship_is_invalid_field(api):
    response = api.query("SELECT TREX1__Coach__r.Name FROM TREX1__Course_Option__c")

    assert response.status_code == 400
    code, message = error(response)
    assert code == "INVALID_FIELD"
    assert "Didn't understand relationship 'TREX1__Coach__r' in field path." in message


def test_an_unknown_field_in_the_where_clause_is_invalid_field(api):
    response = api.query("SELECT Id FROM TREX1__Location__c WHERE Colour__c = 'red'")

    assert response.status_code == 400
    assert error(response)[0] == "INVALID_FIELD"


def test_an_unknown_object_is_invalid_type(api):
    response = api.query("SELECT Id FROM TREX1__Membership__c")

    assert response.status_code == 400
    code, message = error(response)
    assert code == "INVALID_TYPE"
    assert "sObject type 'TREX1__Membership__c' is not supported." in message


@pytest.mark.parametrize(
    "condition, message",
    [
        (
            "TREX1__Available_Online__c = 'true'",
            "value of filter criterion for field 'TREX1__Available_Online__c' must be "
            "of type boolean and should not be enclosed in quotes",
        ),
        (
            "TREX1__End_Date__c >= '2026-12-01'",
            "value of filter criterion for field 'TREX1__End_Date__c' must be of type "
            "date and should not be enclosed in quotes",
        ),
        (
            "TREX1__Capacity__c = '12'",
            "value of filter criterion for field 'TREX1__Capacity__c' must be of type "
            "double and should not be enclosed in quotes",
        ),
        (
            "Name = 12",
            "value of filter criterion for field 'Name' must be of type string and "
            "should be enclosed in quotes",
        ),
    ],
    ids=["boolean", "date", "number", "string"],
)
def test_a_literal_of_the_wrong_type_is_invalid_field(api, condition, message):
    response = api.query(f"SELECT Id FROM TREX1__Course_Option__c WHERE {condition}")

    assert response.status_code == 400
    code, text = error(response)
    assert code == "INVALID_FIELD"
    assert text.endswith(message)


def test_a_malformed_id_is_refused(api):
    response = api.query(
        "SELECT Id FROM TREX1__Course_Option__c WHERE TREX1__Location__c IN ('x')"
    )

    assert response.status_code == 400
    assert error(response)[0] == "INVALID_QUERY_FILTER_OPERATOR"
    assert error(response)[1].endswith("invalid ID field: x")


def test_an_injected_quote_stays_inside_the_literal(api):
    response = api.query(
        "SELECT Id FROM TREX1__Location__c WHERE Name = 'x\\' OR Name != \\'y'"
    )

    assert response.status_code == 200
    assert response.json()["totalSize"] == 0


def test_an_unknown_api_version_is_not_found(api):
    response = api.get(
        "/services/data/v12.0/query", q="SELECT Id FROM TREX1__Location__c"
    )

    assert response.status_code == 404
    assert error(response) == ("NOT_FOUND", "The requested resource does not exist")


def test_the_versions_list_needs_no_token(org):
    response = requests.get(f"{org.url}/services/data/", timeout=10)

    assert response.status_code == 200
    versions = response.json()
    assert {
        "label": "Winter '25",
        "url": "/services/data/v62.0",
        "version": "62.0",
    } in versions
    assert versions[-1]["version"] == "68.0"
    assert versions[-1]["label"] == "Winter '27"
    assert response.headers["Sforce-Limit-Info"] == "api-usage=0/15000"


def test_the_daily_limit_is_enforced(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    from .conftest import CONSUMER_KEY, USERNAME, Api

    with running_org(
        sample_org_dir,
        certificate_pem=key_pair[1],
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        api_limit=2,
    ) as handle:
        client = Api(handle, key_pair[0])
        client.login()
        statuses = [
            client.query("SELECT Id FROM TREX1__Location__c").status_code
            for _ in range(3)
        ]
        refused = client.query("SELECT Id FROM TREX1__Location__c")

    assert statuses == [200, 200, 403]
    assert refused.json() == [
        {
            "message": "TotalRequests Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=4/2"
