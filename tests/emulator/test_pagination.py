"""Pages as Salesforce sends them: totalSize, done, nextRecordsUrl, batchSize."""

import re

from .conftest import VERSION, records

OPTION = "TREX1__Course_Option__c"
NEXT_URL = re.compile(
    rf"^/services/data/{re.escape(VERSION)}/query/(01g[0-9A-Z]{{15}})-(\d+)$"
)


def test_it_pages_by_the_servers_page_size(small_api, sample_org_dir):
    expected = [record["Id"] for record in records(sample_org_dir, OPTION)]

    first = small_api.query(f"SELECT Id FROM {OPTION}").json()
    found, sizes = small_api.query_all(f"SELECT Id FROM {OPTION}")

    assert first["totalSize"] == 384
    assert first["done"] is False
    locator, offset = NEXT_URL.match(first["nextRecordsUrl"]).groups()
    assert offset == "50"
    assert sizes == [50] * 7 + [34]
    assert [record["Id"] for record in found] == expected


def test_the_batch_size_header_sets_the_page(small_api, sample_org_dir):
    found, sizes = small_api.query_all(f"SELECT Id FROM {OPTION}", batch_size=7)

    assert sizes == [7] * 54 + [6]
    assert len({record["Id"] for record in found}) == 384


def test_every_page_repeats_the_total_and_the_last_says_done(small_api):
    first = small_api.query(f"SELECT Id FROM {OPTION}", batch_size=200).json()
    second = small_api.get(first["nextRecordsUrl"]).json()

    assert (first["totalSize"], first["done"]) == (384, False)
    assert (second["totalSize"], second["done"]) == (384, True)
    assert "nextRecordsUrl" not in second
    assert len(second["records"]) == 184


def test_salesforce_clamps_the_batch_size_to_200_and_2000(api):
    small = api.query(f"SELECT Id FROM {OPTION}", batch_size=5).json()
    large = api.query(f"SELECT Id FROM {OPTION}", batch_size=50000).json()

    assert len(small["records"]) == 200
    assert small["nextRecordsUrl"].endswith("-200")
    assert len(large["records"]) == 384
    assert large["done"] is True


def test_a_result_that_fits_one_page_has_no_next_url(api):
    body = api.query("SELECT Id FROM TREX1__Location__c").json()

    assert body["totalSize"] == 8
    assert body["done"] is True
    assert list(body) == ["totalSize", "done", "records"]


def test_pages_are_a_snapshot_of_the_query(small_pages_org, small_api, sample_org_dir):
    first = small_api.query(f"SELECT Id, Name FROM {OPTION}").json()
    removed = records(sample_org_dir, OPTION)[60]["Id"]
    small_pages_org.org.delete(OPTION, removed)

    second = small_api.get(first["nextRecordsUrl"]).json()
    fresh = small_api.query(f"SELECT Id FROM {OPTION}").json()

    assert second["records"][10]["Id"] == removed
    assert second["totalSize"] == 384
    assert fresh["totalSize"] == 383


def test_a_read_cursor_is_closed_and_its_locator_refused(small_api):
    first = small_api.query(f"SELECT Id FROM {OPTION}", batch_size=200).json()
    small_api.get(first["nextRecordsUrl"])

    again = small_api.get(first["nextRecordsUrl"])

    assert again.status_code == 400
    assert again.json() == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]


def test_an_unknown_locator_is_refused(small_api):
    response = small_api.get(f"/services/data/{VERSION}/query/01gAAAAAAAAAAAAAAA-50")

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_every_response_carries_the_api_usage(small_pages_org, small_api):
    first = small_api.query(f"SELECT Id FROM {OPTION}")
    second = small_api.get(first.json()["nextRecordsUrl"])
    refused = small_api.get(f"/services/data/{VERSION}/query/01gAAAAAAAAAAAAAAA-50")

    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/15000"
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=3/15000"
    assert small_pages_org.api_usage == 3
