"""Loading an org: dates moved by whole weeks, the Id index, relationships,
clear refusals for bad folders, and changes for a second fetch."""

import datetime as dt
import json

import pytest

from traction_rec.emulator.org import Org, OrgError

from .conftest import records

OPTION = "TREX1__Course_Option__c"


def test_it_keeps_the_dates_on_the_anchor_day(sample_org_dir):
    org = Org.load(sample_org_dir, today=dt.date(2026, 12, 1))

    assert org.shift_days == 0
    assert org.records(OPTION) == records(sample_org_dir, OPTION)


@pytest.mark.parametrize(
    "today, weeks",
    [
        (dt.date(2026, 12, 7), 0),
        (dt.date(2026, 12, 8), 1),
        (dt.date(2026, 12, 16), 2),
        (dt.date(2026, 11, 30), -1),
        (dt.date(2027, 6, 1), 26),
    ],
)
def test_it_moves_every_date_by_whole_weeks_to_today(sample_org_dir, today, weeks):
    original = records(sample_org_dir, OPTION)[0]

    org = Org.load(sample_org_dir, today=today)

    moved = org.records(OPTION)[0]
    delta = dt.timedelta(weeks=weeks)
    assert org.shift_days == weeks * 7
    dates = (
        "TREX1__Start_Date__c",
        "TREX1__End_Date__c",
        "TREX1__Register_Online_To_Date__c",
    )
    for name in dates:
        expected = dt.date.fromisoformat(original[name]) + delta
        assert moved[name] == expected.isoformat()
        assert expected.weekday() == dt.date.fromisoformat(original[name]).weekday()
    assert moved["TREX1__Start_Time__c"] == original["TREX1__Start_Time__c"]
    assert moved["Name"] == original["Name"]


def test_the_query_date_literals_follow_the_fixed_today(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    from .conftest import CONSUMER_KEY, USERNAME, Api

    today = dt.date(2027, 2, 10)  # ten weeks and one day after the anchor
    delta = dt.timedelta(weeks=10)
    expected = sorted(
        r["Id"]
        for r in records(sample_org_dir, OPTION)
        if (dt.date.fromisoformat(r["TREX1__End_Date__c"]) + delta) >= today
    )

    with running_org(
        sample_org_dir,
        certificate_pem=key_pair[1],
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        today=today,
    ) as handle:
        client = Api(handle, key_pair[0])
        client.login()
        found, _ = client.query_all(
            f"SELECT Id FROM {OPTION} WHERE TREX1__End_Date__c >= TODAY"
        )

    assert sorted(r["Id"] for r in found) == expected
    assert 0 < len(expected) < 384


def test_the_index_finds_a_record_by_its_18_and_15_character_id(sample_org_dir):
    location = records(sample_org_dir, "TREX1__Location__c")[0]

    org = Org.load(sample_org_dir, today=dt.date(2026, 12, 1))

    assert org.index[location["Id"]]["Name"] == location["Name"]
    assert org.index[location["Id"][:15]]["Name"] == location["Name"]


def test_relationships_come_from_the_lookup_fields(sample_org_dir):
    org = Org.load(sample_org_dir, today=dt.date(2026, 12, 1))

    relationships = org.sobject(OPTION).relationships

    assert {name: (r.lookup, r.target) for name, r in relationships.items()} == {
        "trex1__location__r": ("TREX1__Location__c", "TREX1__Location__c"),
        "trex1__product__r": ("TREX1__Product__c", "TREX1__Product__c"),
    }


def test_field_types_are_read_from_the_values(sample_org_dir):
    org = Org.load(sample_org_dir, today=dt.date(2026, 12, 1))

    types = org.sobject(OPTION).types

    assert types["Id"] == "id"
    assert types["TREX1__Location__c"] == "reference"
    assert types["TREX1__Available__c"] == "boolean"
    assert types["TREX1__Capacity__c"] == "double"
    assert types["TREX1__Start_Date__c"] == "date"
    assert types["TREX1__Start_Time__c"] == "string"


def test_upsert_and_delete_change_what_the_next_query_sees(sample_org_dir):
    org = Org.load(sample_org_dir, today=dt.date(2026, 12, 1))
    first = dict(org.records(OPTION)[0])
    generation = org.generation

    org.upsert(OPTION, {**first, "Name": "Renamed"})
    org.delete(OPTION, org.records(OPTION)[0]["Id"])

    assert len(org.records(OPTION)) == 383
    assert org.records(OPTION)[-1]["Name"] == "Renamed"
    assert org.generation == generation + 2
    with pytest.raises(KeyError, match="has no record a0Onothere"):
        org.delete(OPTION, "a0Onothere")


def test_it_refuses_a_missing_folder(tmp_path):
    with pytest.raises(OrgError) as raised:
        Org.load(tmp_path / "nowhere")

    assert str(raised.value) == f"The org folder {tmp_path / 'nowhere'} does not exist."


def test_it_refuses_a_folder_without_objects(tmp_path):
    (tmp_path / "org.json").write_text('{"anchor_date": "2026-12-01"}')

    with pytest.raises(OrgError) as raised:
        Org.load(tmp_path)

    assert str(raised.value) == (
        f"The org folder {tmp_path} holds no <Object>.json files."
    )


def test_it_refuses_a_file_that_is_not_json(tmp_path):
    (tmp_path / "TREX1__Location__c.json").write_text("{not json")

    with pytest.raises(OrgError) as raised:
        Org.load(tmp_path)

    assert str(raised.value).startswith(
        f"{tmp_path / 'TREX1__Location__c.json'} cannot be read as JSON"
    )


def test_it_refuses_records_without_an_id(tmp_path):
    (tmp_path / "TREX1__Location__c.json").write_text(
        json.dumps({"records": [{"Name": "x"}]})
    )

    with pytest.raises(OrgError) as raised:
        Org.load(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'TREX1__Location__c.json'}: expected {{\"records\": [...]}} with "
        "an Id in every record."
    )


def test_it_refuses_a_bad_anchor_date(tmp_path):
    (tmp_path / "org.json").write_text('{"anchor_date": "first of December"}')
    (tmp_path / "TREX1__Location__c.json").write_text('{"records": []}')

    with pytest.raises(OrgError) as raised:
        Org.load(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'org.json'}: anchor_date must be a date like 2026-12-01."
    )
