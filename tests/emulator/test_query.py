"""Queries against the sample org. Every expected figure is computed here
from the org's JSON files."""

import datetime as dt
import json

import pytest

from .conftest import TODAY, VERSION, by_id, records

OPTION = "TREX1__Course_Option__c"


def ids(found):
    return sorted(record["Id"] for record in found)


def option_ids(sample_org_dir, keep):
    return sorted(
        record["Id"] for record in records(sample_org_dir, OPTION) if keep(record)
    )


def test_it_resolves_relationship_paths_into_nested_records(api, sample_org_dir):
    links = records(sample_org_dir, "TREX1__Course_Session_Option__c")
    options = by_id(sample_org_dir, OPTION)
    locations = by_id(sample_org_dir, "TREX1__Location__c")
    sessions = by_id(sample_org_dir, "TREX1__Course_Session__c")
    courses = by_id(sample_org_dir, "TREX1__Course__c")
    link = links[0]
    option = options[link["TREX1__Course_Option__c"]]
    session = sessions[link["TREX1__Course_Session__c"]]
    location_id = option["TREX1__Location__c"]

    response = api.query(
        "SELECT Id, TREX1__Course_Option__r.Name, "
        "TREX1__Course_Option__r.TREX1__Location__r.Name, "
        "TREX1__Course_Option__r.TREX1__Location__c, "
        "TREX1__Course_Session__r.TREX1__Course__r.Name "
        "FROM TREX1__Course_Session_Option__c"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["totalSize"] == len(links) == 384
    assert body["done"] is True
    assert "nextRecordsUrl" not in body
    sobjects = f"/services/data/{VERSION}/sobjects"
    assert body["records"][0] == {
        "attributes": {
            "type": "TREX1__Course_Session_Option__c",
            "url": f"{sobjects}/TREX1__Course_Session_Option__c/{link['Id']}",
        },
        "Id": link["Id"],
        "TREX1__Course_Option__r": {
            "attributes": {
                "type": OPTION,
                "url": f"{sobjects}/{OPTION}/{option['Id']}",
            },
            "Name": option["Name"],
            "TREX1__Location__r": {
                "attributes": {
                    "type": "TREX1__Location__c",
                    "url": f"{sobjects}/TREX1__Location__c/{location_id}",
                },
                "Name": locations[option["TREX1__Location__c"]]["Name"],
            },
            "TREX1__Location__c": option["TREX1__Location__c"],
        },
        "TREX1__Course_Session__r": {
            "attributes": {
                "type": "TREX1__Course_Session__c",
                "url": f"{sobjects}/TREX1__Course_Session__c/{session['Id']}",
            },
            "TREX1__Course__r": {
                "attributes": {
                    "type": "TREX1__Course__c",
                    "url": f"{sobjects}/TREX1__Course__c/{session['TREX1__Course__c']}",
                },
                "Name": courses[session["TREX1__Course__c"]]["Name"],
            },
        },
    }


def test_names_are_case_insensitive_and_keys_keep_the_api_casing(api, sample_org_dir):
    first = records(sample_org_dir, "TREX1__Location__c")[0]

    response = api.query(
        "select ID, trex1__location__c.NAME, trex1__address_city__C "
        "from TREX1__LOCATION__C"
    )

    assert response.status_code == 200
    record = response.json()["records"][0]
    assert list(record) == ["attributes", "Id", "Name", "TREX1__Address_City__c"]
    assert record["attributes"]["type"] == "TREX1__Location__c"
    assert record["Name"] == first["Name"]
    assert record["TREX1__Address_City__c"] == first["TREX1__Address_City__c"]


def test_a_field_may_be_qualified_by_an_alias(api, sample_org_dir):
    programs = records(sample_org_dir, "TREX1__Program__c")
    expected = sorted(record["Name"] for record in programs)

    response = api.query("SELECT p.Name FROM TREX1__Program__c p ORDER BY p.Name")

    assert [record["Name"] for record in response.json()["records"]] == sorted(
        expected, key=str.lower
    )


@pytest.mark.parametrize(
    "op, keep",
    [
        ("=", lambda value: value == 12),
        ("!=", lambda value: value != 12),
        ("<", lambda value: value is not None and value < 12),
        ("<=", lambda value: value is not None and value <= 12),
        (">", lambda value: value is not None and value > 12),
        (">=", lambda value: value is not None and value >= 12),
    ],
)
def test_each_comparison_on_a_number(api, sample_org_dir, op, keep):
    expected = option_ids(sample_org_dir, lambda r: keep(r["TREX1__Capacity__c"]))

    found, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Capacity__c {op} 12"
    )

    assert ids(found) == expected
    assert 0 < len(expected) < 384 or op in ("!=",)


def test_a_decimal_and_a_negative_number(api, sample_org_dir):
    halves = option_ids(sample_org_dir, lambda r: r["TREX1__Age_Min__c"] == 0.5)
    overbooked = option_ids(
        sample_org_dir, lambda r: r["TREX1__Total_Capacity_Available__c"] < 0
    )

    found_halves, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Age_Min__c = 0.5"
    )
    found_overbooked, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Total_Capacity_Available__c <= -1"
    )

    assert ids(found_halves) == halves != []
    assert ids(found_overbooked) == overbooked != []


def test_not_equal_matches_null_values_as_salesforce_does(api, sample_org_dir):
    expected = option_ids(sample_org_dir, lambda r: r["TREX1__Age_Max__c"] != 3)

    found, _ = api.query_all(f"SELECT Id FROM {OPTION} WHERE TREX1__Age_Max__c != 3")

    assert ids(found) == expected
    all_options = records(sample_org_dir, OPTION)
    assert sum(1 for r in all_options if r["TREX1__Age_Max__c"] is None) == 146


def test_null_and_not_null(api, sample_org_dir):
    without = option_ids(sample_org_dir, lambda r: r["TREX1__Instructor__c"] is None)
    with_instructor = option_ids(
        sample_org_dir, lambda r: r["TREX1__Instructor__c"] is not None
    )

    found_without, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Instructor__c = null"
    )
    found_with, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Instructor__c != NULL"
    )

    assert ids(found_without) == without
    assert len(without) == 60
    assert ids(found_with) == with_instructor
    assert len(with_instructor) == 324


def test_booleans(api, sample_org_dir):
    online = option_ids(
        sample_org_dir, lambda r: r["TREX1__Available_Online__c"] is True
    )
    offline = option_ids(
        sample_org_dir, lambda r: r["TREX1__Available_Online__c"] is False
    )

    found_online, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Available_Online__c = TRUE"
    )
    found_offline, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Available_Online__c = false"
    )

    assert ids(found_online) == online
    assert ids(found_offline) == offline
    assert len(online) + len(offline) == 384
    assert offline != []


def test_in_and_not_in_on_a_lookup(api, sample_org_dir):
    locations = records(sample_org_dir, "TREX1__Location__c")
    chosen = [locations[0]["Id"], locations[2]["Id"]]
    inside = option_ids(sample_org_dir, lambda r: r["TREX1__Location__c"] in chosen)
    outside = option_ids(
        sample_org_dir, lambda r: r["TREX1__Location__c"] not in chosen
    )
    listed = ", ".join(f"'{value}'" for value in chosen)

    found_in, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Location__c IN ({listed})"
    )
    found_out, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Location__c NOT IN ({listed})"
    )

    assert ids(found_in) == inside != []
    assert ids(found_out) == outside != []


def test_a_15_character_id_matches_its_18_character_form(api, sample_org_dir):
    location = records(sample_org_dir, "TREX1__Location__c")[1]

    response = api.query(
        f"SELECT Name FROM TREX1__Location__c WHERE Id = '{location['Id'][:15]}'"
    )

    found = [record["Name"] for record in response.json()["records"]]
    assert found == [location["Name"]]


def test_string_comparison_ignores_case(api, sample_org_dir):
    location = records(sample_org_dir, "TREX1__Location__c")[0]

    response = api.query(
        f"SELECT Id FROM TREX1__Location__c WHERE Name = '{location['Name'].upper()}'"
    )

    assert [record["Id"] for record in response.json()["records"]] == [location["Id"]]


def test_a_unicode_escape_in_a_string_literal(api, sample_org_dir):
    courses = records(sample_org_dir, "TREX1__Course__c")
    course = next(record for record in courses if "&" in record["Name"])
    escaped = course["Name"].replace("&", "\\u0026")

    response = api.query(f"SELECT Id FROM TREX1__Course__c WHERE Name = '{escaped}'")

    assert [record["Id"] for record in response.json()["records"]] == [course["Id"]]


def test_today_and_yesterday(api, sample_org_dir):
    today = TODAY.isoformat()
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    current = option_ids(sample_org_dir, lambda r: r["TREX1__End_Date__c"] >= today)
    open_online = option_ids(
        sample_org_dir, lambda r: r["TREX1__Register_Online_To_Date__c"] > yesterday
    )

    found_current, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__End_Date__c >= TODAY"
    )
    found_open, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Register_Online_To_Date__c > YESTERDAY"
    )

    assert ids(found_current) == current
    assert ids(found_open) == open_online
    assert 0 < len(current) < 384


def test_an_iso_date_literal(api, sample_org_dir):
    expected = option_ids(
        sample_org_dir, lambda r: r["TREX1__Start_Date__c"] == "2027-01-05"
    )

    found, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Start_Date__c = 2027-01-05"
    )

    assert ids(found) == expected != []


def test_and_or_not_and_parentheses(api, sample_org_dir):
    def keep(r):
        either = r["TREX1__Capacity__c"] > 12 or r["TREX1__Instructor__c"] is None
        return either and r["TREX1__Available_Online__c"] is not False

    expected = option_ids(sample_org_dir, keep)

    found, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE (TREX1__Capacity__c > 12 OR "
        "TREX1__Instructor__c = null) AND NOT TREX1__Available_Online__c = false"
    )

    assert ids(found) == expected != []


def test_the_product_query_of_the_e2e_test_selects_what_the_rules_select(
    api, sample_org_dir
):
    """The Drupal module's session conditions, through two relationships."""
    options = by_id(sample_org_dir, OPTION)
    sessions = by_id(sample_org_dir, "TREX1__Course_Session__c")
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()

    def selected(link):
        option = options[link["TREX1__Course_Option__c"]]
        session = sessions[link["TREX1__Course_Session__c"]]
        return (
            option["TREX1__Available_Online__c"]
            and option["TREX1__Register_Online_To_Date__c"] > yesterday
            and option["TREX1__End_Date__c"] >= TODAY.isoformat()
            and session["TREX1__Available_Online__c"]
            and session["TREX1__Num_Option_Entitlements__c"] <= 1
        )

    links = records(sample_org_dir, "TREX1__Course_Session_Option__c")
    expected = sorted(link["Id"] for link in links if selected(link))

    found, _ = api.query_all(
        "SELECT Id FROM TREX1__Course_Session_Option__c WHERE "
        "TREX1__Course_Option__r.TREX1__Available_Online__c = true AND "
        "TREX1__Course_Option__r.TREX1__Register_Online_To_Date__c > YESTERDAY AND "
        "TREX1__Course_Option__r.TREX1__End_Date__c >= TODAY AND "
        "TREX1__Course_Session__r.TREX1__Available_Online__c = true AND "
        "TREX1__Course_Session__r.TREX1__Num_Option_Entitlements__c <= 1"
    )

    assert ids(found) == expected
    assert len(expected) == 294


def test_order_by_and_limit(api, sample_org_dir):
    expected = sorted(
        records(sample_org_dir, OPTION),
        key=lambda r: (-r["TREX1__Capacity__c"], r["Name"].lower()),
    )[:5]

    response = api.query(
        f"SELECT Name FROM {OPTION} ORDER BY TREX1__Capacity__c DESC, Name ASC LIMIT 5"
    )

    body = response.json()
    assert body["totalSize"] == 5
    found = [record["Name"] for record in body["records"]]
    assert found == [r["Name"] for r in expected]


def test_order_by_puts_nulls_first_ascending_unless_told(api, sample_org_dir):
    all_options = records(sample_org_dir, OPTION)
    nulls = sum(1 for r in all_options if r["TREX1__Age_Max__c"] is None)

    first = api.query(
        f"SELECT TREX1__Age_Max__c FROM {OPTION} ORDER BY TREX1__Age_Max__c"
    )
    last = api.query(
        f"SELECT TREX1__Age_Max__c FROM {OPTION} ORDER BY TREX1__Age_Max__c NULLS LAST"
    )

    first_values = [r["TREX1__Age_Max__c"] for r in first.json()["records"]]
    last_values = [r["TREX1__Age_Max__c"] for r in last.json()["records"]]
    assert first_values[:nulls] == [None] * nulls
    assert first_values[nulls] is not None
    assert last_values[-nulls:] == [None] * nulls
    filled = sorted(v for v in first_values if v is not None)
    assert last_values[: len(last_values) - nulls] == filled


def test_like_and_includes(api, sample_org_dir):
    swims = option_ids(sample_org_dir, lambda r: "swim" in r["Name"].lower())
    def on_tuesday(r):
        return "Tuesday" in (r["TREX1__Day_of_Week__c"] or "").split(";")

    tuesdays = option_ids(sample_org_dir, on_tuesday)

    found_swims, _ = api.query_all(f"SELECT Id FROM {OPTION} WHERE Name LIKE '%Swim%'")
    found_tuesdays, _ = api.query_all(
        f"SELECT Id FROM {OPTION} WHERE TREX1__Day_of_Week__c INCLUDES ('Tuesday')"
    )

    assert ids(found_swims) == swims != []
    assert ids(found_tuesdays) == tuesdays != []


# A small org of our own, for values the sample org lacks.


@pytest.fixture
def odd_org(tmp_path, key_pair):
    from traction_rec.emulator.testing import running_org

    from .conftest import CONSUMER_KEY, USERNAME, Api

    folder = tmp_path / "odd-org"
    folder.mkdir()
    (folder / "TREX1__Location__c.json").write_text(
        json.dumps({"records": [{"Id": "a0L5e00006xT50fEAC", "Name": "Downtown"}]})
    )
    names = [
        "O'Hare Branch",
        'The "Loop"',
        "Back\\slash",
        "Two\nLines",
        "Tab\there",
        "Bell\bFeed\f",
        "Crème brûlée",
    ]
    (folder / "TREX1__Course_Option__c.json").write_text(
        json.dumps(
            {
                "records": [
                    {
                        "Id": f"a0O5e0000eYy3t{index:02d}AB",
                        "Name": name,
                        "TREX1__Location__c": "a0L5e00006xT50fEAC" if index else None,
                    }
                    for index, name in enumerate(names)
                ]
            }
        )
    )
    with running_org(
        folder,
        certificate_pem=key_pair[1],
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        today=TODAY,
    ) as handle:
        client = Api(handle, key_pair[0])
        client.login()
        yield client


@pytest.mark.parametrize(
    "literal, name",
    [
        (r"O\'Hare Branch", "O'Hare Branch"),
        (r"The \"Loop\"", 'The "Loop"'),
        (r"Back\\slash", "Back\\slash"),
        (r"Two\nLines", "Two\nLines"),
        (r"Tab\there", "Tab\there"),
        (r"Bell\bFeed\f", "Bell\bFeed\f"),
        (r"Cr\u00e8me br\u00FBl\u00e9e", "Crème brûlée"),
    ],
    ids=[
        "quote",
        "double-quote",
        "backslash",
        "newline",
        "tab",
        "bell-feed",
        "unicode",
    ],
)
def test_each_soql_escape_selects_the_record(odd_org, literal, name):
    response = odd_org.query(f"SELECT Name FROM {OPTION} WHERE Name = '{literal}'")

    assert response.status_code == 200, response.text
    assert [record["Name"] for record in response.json()["records"]] == [name]


def test_an_empty_lookup_is_null(odd_org):
    response = odd_org.query(
        f"SELECT Name, TREX1__Location__r.Name FROM {OPTION} "
        "WHERE TREX1__Location__c = null"
    )

    assert response.json()["records"] == [
        {
            "attributes": {
                "type": OPTION,
                "url": f"/services/data/{VERSION}/sobjects/{OPTION}/a0O5e0000eYy3t00AB",
            },
            "Name": "O'Hare Branch",
            "TREX1__Location__r": None,
        }
    ]
