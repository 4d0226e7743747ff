import datetime as dt
import json
import re

import pytest

from bench.cli import main
from traction_rec.emulator.generator import build_org, checksum, write_org

ANCHOR = dt.date(2026, 12, 4)
OBJECTS = [
    "TREX1__Location__c",
    "TREX1__Program_Category__c",
    "TREX1__Program__c",
    "TREX1__Program_Category_Tag__c",
    "TREX1__Course__c",
    "TREX1__Session__c",
    "TREX1__Course_Session__c",
    "TREX1__Course_Option__c",
    "TREX1__Course_Session_Option__c",
    "TREX1__Product__c",
]
ID_PATTERN = re.compile(r"^[0-9A-Za-z]{18}$")


def _records(directory, name):
    return json.loads((directory / f"{name}.json").read_text())["records"]


def _independent_checksum(id15):
    # Written out again from Salesforce's rule, not taken from the generator.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    out = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        value = sum(2**i for i, c in enumerate(chunk) if c.isupper())
        out += alphabet[value]
    return out


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("org")
    write_org(directory, options=400, seed=1, anchor_date=ANCHOR)
    return directory


def test_it_computes_the_documented_checksums():
    assert checksum("001A0000006Vm9r") == "IAC"
    assert checksum("a0O5e0000eYy3tq") == "EAB"
    assert checksum("aaaaaAAAAAzzzzz") == "A5A"


def test_it_writes_the_counts_of_a_400_option_org(tmp_path):
    counts = write_org(tmp_path, options=400, seed=1, anchor_date=ANCHOR)

    assert counts == {
        "TREX1__Location__c": 8,
        "TREX1__Program_Category__c": 7,
        "TREX1__Program__c": 13,
        "TREX1__Program_Category_Tag__c": 14,
        "TREX1__Course__c": 54,
        "TREX1__Session__c": 4,
        "TREX1__Course_Session__c": 202,
        "TREX1__Course_Option__c": 400,
        "TREX1__Course_Session_Option__c": 400,
        "TREX1__Product__c": 202,
    }
    assert json.loads((tmp_path / "org.json").read_text()) == {
        "anchor_date": "2026-12-04",
        "namespace": "TREX1",
        "counts": counts,
    }
    for name, count in counts.items():
        assert len(_records(tmp_path, name)) == count


def test_it_scales_branches_programs_and_courses_with_the_options():
    org = build_org(options=50_000, seed=1, anchor_date=ANCHOR)

    assert len(org["TREX1__Course_Option__c"]) == 50_000
    assert len(org["TREX1__Course_Session_Option__c"]) == 50_000
    assert len(org["TREX1__Location__c"]) == 59
    assert len(org["TREX1__Program__c"]) == 133
    assert len(org["TREX1__Course__c"]) == 6501
    assert len(org["TREX1__Course_Session__c"]) == 24443


def test_it_writes_every_field_of_the_sample_org_with_the_same_types(
    org_dir, sample_org_dir
):
    def kinds(value):
        return {"float": "number", "int": "number"}.get(type(value).__name__, type(value).__name__)

    for name in OBJECTS:
        sample = _records(sample_org_dir, name)
        generated = _records(org_dir, name)
        sample_types = {}
        for record in sample:
            for field, value in record.items():
                sample_types.setdefault(field, set()).add(kinds(value))
        generated_types = {}
        for record in generated:
            assert list(record) == list(sample[0]), name
            for field, value in record.items():
                generated_types.setdefault(field, set()).add(kinds(value))

        for field, types in generated_types.items():
            assert types - {"NoneType", "str"} <= sample_types[field] | {"NoneType"}, (
                name,
                field,
            )


def test_it_gives_valid_unique_ids_with_the_sample_prefixes(org_dir, sample_org_dir):
    seen = set()

    for name in OBJECTS:
        prefix = _records(sample_org_dir, name)[0]["Id"][:3]
        for record in _records(org_dir, name):
            record_id = record["Id"]
            assert ID_PATTERN.match(record_id)
            assert record_id[:3] == prefix
            assert record_id[15:] == _independent_checksum(record_id[:15])
            seen.add(record_id)

    assert len(seen) == 8 + 7 + 13 + 14 + 54 + 4 + 202 + 400 + 400 + 202


def test_its_lookups_point_at_records_of_the_right_object(org_dir):
    ids = {name: {r["Id"] for r in _records(org_dir, name)} for name in OBJECTS}
    lookups = {
        "TREX1__Course__c": {"TREX1__Program__c": "TREX1__Program__c"},
        "TREX1__Program_Category_Tag__c": {
            "TREX1__Program__c": "TREX1__Program__c",
            "TREX1__Program_Category__c": "TREX1__Program_Category__c",
        },
        "TREX1__Course_Session__c": {
            "TREX1__Course__c": "TREX1__Course__c",
            "TREX1__Session__c": "TREX1__Session__c",
            "TREX1__Product__c": "TREX1__Product__c",
        },
        "TREX1__Course_Option__c": {
            "TREX1__Location__c": "TREX1__Location__c",
            "TREX1__Product__c": "TREX1__Product__c",
        },
        "TREX1__Course_Session_Option__c": {
            "TREX1__Course_Option__c": "TREX1__Course_Option__c",
            "TREX1__Course_Session__c": "TREX1__Course_Session__c",
        },
    }

    for name, fields in lookups.items():
        for record in _records(org_dir, name):
            for field, target in fields.items():
                assert record[field] in ids[target], (name, field)


def test_it_contains_the_oddities_of_real_orgs(org_dir):
    options = _records(org_dir, "TREX1__Course_Option__c")
    categories = _records(org_dir, "TREX1__Program_Category__c")
    programs = _records(org_dir, "TREX1__Program__c")
    tags = _records(org_dir, "TREX1__Program_Category_Tag__c")
    locations = _records(org_dir, "TREX1__Location__c")
    courses = _records(org_dir, "TREX1__Course__c")

    assert sum(o["TREX1__Total_Capacity_Available__c"] < 0 for o in options) == 49
    assert sum(o["TREX1__Unlimited_Capacity__c"] for o in options) == 24
    assert sum(o["TREX1__Unlimited_Waitlist_Capacity__c"] for o in options) == 85
    assert sum(not o["TREX1__Available_Online__c"] for o in options) == 10
    assert sum(";" in o["TREX1__Day_of_Week__c"] for o in options) == 158
    assert sum(o["TREX1__Instructor__c"] is None for o in options) == 55
    assert {"Monday;Wednesday", "Tuesday;Thursday"} <= {
        o["TREX1__Day_of_Week__c"] for o in options
    }
    assert all(
        o["TREX1__Total_Capacity_Available__c"]
        == o["TREX1__Capacity__c"] - o["TREX1__Registration_Total__c"]
        for o in options
    )
    assert [c["Name"] for c in categories if not c["TREX1__Available_Online__c"]] == [
        "Staff Only"
    ]
    assert [p["Name"] for p in programs if not p["TREX1__Available_Online__c"]] == [
        "Staff Training"
    ]
    gymnastics = next(p["Id"] for p in programs if p["Name"] == "Gymnastics")
    assert sum(t["TREX1__Program__c"] == gymnastics for t in tags) == 2
    assert [loc["Name"] for loc in locations if loc["TREX1__Address_Street__c"] is None] == [
        "Virtual"
    ]
    assert "Camp Lake Shore" in {loc["Name"] for loc in locations}
    assert sum(c["TREX1__Rich_Description__c"] is None for c in courses) == 18
    assert sum("<p>" in (c["TREX1__Rich_Description__c"] or "") for c in courses) == 36


def test_its_seasons_surround_the_anchor_date(org_dir):
    seasons = _records(org_dir, "TREX1__Session__c")
    options = _records(org_dir, "TREX1__Course_Option__c")

    assert [(s["Name"], s["TREX1__Start_Date__c"], s["TREX1__End_Date__c"]) for s in seasons] == [
        ("Summer 2026", "2026-08-10", "2026-11-06"),
        ("Fall 2026", "2026-11-09", "2027-02-05"),
        ("Winter 2027", "2027-02-15", "2027-05-14"),
        ("Spring 2027", "2027-05-24", "2027-08-06"),
    ]
    past = [o for o in options if o["TREX1__End_Date__c"] < "2026-12-04"]
    open_now = [
        o
        for o in options
        if o["TREX1__Register_Online_From_Date__c"] <= "2026-12-04"
        <= o["TREX1__Register_Online_To_Date__c"]
    ]
    assert len(past) == 97
    assert len(open_now) == 97
    assert {o["TREX1__Start_Date__c"] for o in open_now} == {"2026-11-09"}


def test_it_moves_only_the_dates_with_the_anchor(tmp_path):
    first = build_org(options=50, seed=3, anchor_date=dt.date(2026, 12, 4))
    later = build_org(options=50, seed=3, anchor_date=dt.date(2027, 1, 1))

    a, b = first["TREX1__Course_Option__c"][0], later["TREX1__Course_Option__c"][0]
    assert a["Id"] == b["Id"]
    assert a["TREX1__Start_Date__c"] == "2026-08-10"
    assert b["TREX1__Start_Date__c"] == "2026-09-07"


def test_it_writes_byte_identical_files_for_the_same_seed(tmp_path):
    write_org(tmp_path / "a", options=300, seed=7, anchor_date=ANCHOR)
    write_org(tmp_path / "b", options=300, seed=7, anchor_date=ANCHOR)
    write_org(tmp_path / "c", options=300, seed=8, anchor_date=ANCHOR)

    for name in OBJECTS + ["org"]:
        a = (tmp_path / "a" / f"{name}.json").read_bytes()
        assert a == (tmp_path / "b" / f"{name}.json").read_bytes()
    options = "TREX1__Course_Option__c.json"
    assert (tmp_path / "a" / options).read_bytes() != (tmp_path / "c" / options).read_bytes()


def test_it_refuses_an_org_without_options():
    with pytest.raises(ValueError, match="^The number of course options must be at least 1.$"):
        build_org(options=0)


def test_the_command_writes_an_org(tmp_path, capsys):
    code = main(["generate", "--options", "120", "--seed", "2", "--out", str(tmp_path)])

    assert code == 0
    assert len(_records(tmp_path, "TREX1__Course_Option__c")) == 120
    assert capsys.readouterr().out.startswith(f"Wrote 120 course options (")
