import pytest

from traction_rec.records import simplify


def test_it_strips_the_prefix_and_suffixes_and_drops_attributes():
    record = {
        "attributes": {"type": "TREX1__Course__c", "url": "/services/data/v62.0/x"},
        "Id": "a0K5e0000jWLCBmEAP",
        "TREX1__Rich_Description__c": "<p>Swim</p>",
        "TREX1__Program__r": {
            "attributes": {"type": "TREX1__Program__c"},
            "Id": "a0P5e0000a5mBHbEAM",
            "Name": "Youth Swim Lessons",
        },
    }

    assert simplify(record) == {
        "Id": "a0K5e0000jWLCBmEAP",
        "Rich_Description": "<p>Swim</p>",
        "Program": {"Id": "a0P5e0000a5mBHbEAM", "Name": "Youth Swim Lessons"},
    }


def test_a_lookup_id_and_its_relationship_never_collide_id_first():
    record = {
        "TREX1__Location__c": "a0L5e0000HIhd4eEQB",
        "TREX1__Location__r": {"attributes": {}, "Id": "a0L5e0000HIhd4eEQB", "Name": "Downtown"},
    }

    assert simplify(record) == {
        "Location_Id": "a0L5e0000HIhd4eEQB",
        "Location": {"Id": "a0L5e0000HIhd4eEQB", "Name": "Downtown"},
    }


def test_a_lookup_id_and_its_relationship_never_collide_relationship_first():
    record = {
        "TREX1__Location__r": {"Id": "a0L5e0000HIhd4eEQB", "Name": "Downtown"},
        "TREX1__Location__c": "a0L5e0000HIhd4eEQB",
    }

    assert simplify(record) == {
        "Location": {"Id": "a0L5e0000HIhd4eEQB", "Name": "Downtown"},
        "Location_Id": "a0L5e0000HIhd4eEQB",
    }


def test_an_empty_lookup_keeps_both_keys_as_null():
    record = {"TREX1__Product__c": None, "TREX1__Product__r": None}

    assert simplify(record) == {"Product_Id": None, "Product": None}


def test_a_lookup_without_its_relationship_keeps_the_drupal_key():
    assert simplify({"TREX1__Location__c": "a0L5e0000HIhd4eEQB"}) == {
        "Location": "a0L5e0000HIhd4eEQB"
    }


def test_it_simplifies_nested_and_listed_records():
    record = {
        "TREX1__Course_Option__r": {
            "attributes": {},
            "TREX1__Location__c": "L1",
            "TREX1__Location__r": {"attributes": {}, "Id": "L1", "Name": "Camp"},
        },
        "TREX1__Tags__r": {
            "totalSize": 1,
            "done": True,
            "records": [{"attributes": {}, "TREX1__Label__c": "x"}],
        },
    }

    assert simplify(record) == {
        "Course_Option": {"Location_Id": "L1", "Location": {"Id": "L1", "Name": "Camp"}},
        "Tags": {"totalSize": 1, "done": True, "records": [{"Label": "x"}]},
    }


def test_it_does_not_change_the_record_it_was_given():
    record = {"attributes": {}, "TREX1__Location__c": "L1"}

    simplify(record)

    assert record == {"attributes": {}, "TREX1__Location__c": "L1"}


def test_two_other_fields_that_would_share_a_key_raise_instead_of_losing_one():
    with pytest.raises(ValueError) as caught:
        simplify({"TREX1__Code__c": "A", "Code__c": "B"})

    assert str(caught.value) == (
        "The fields TREX1__Code__c and Code__c both simplify to 'Code'; leave one "
        "of them out of the query."
    )
