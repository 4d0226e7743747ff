import pytest
from django.core.exceptions import ImproperlyConfigured

from traction_rec import queries, soql

OPTION_WHERE = (
    "TREX1__Course_Option__r.TREX1__Available_Online__c = true"
    " AND TREX1__Course_Option__r.TREX1__Day_of_Week__c != null"
    " AND TREX1__Course_Option__r.TREX1__Register_Online_To_Date__c > YESTERDAY"
    " AND TREX1__Course_Option__r.TREX1__End_Date__c >= TODAY"
    " AND TREX1__Course_Option__r.TREX1__Start_Date__c != null"
    " AND TREX1__Course_Session__r.TREX1__Available_Online__c = true"
    " AND TREX1__Course_Session__r.TREX1__Num_Option_Entitlements__c <= 1"
)


def test_the_registry_names_every_query():
    assert queries.names() == [
        "program_category_tags",
        "courses",
        "course_options",
        "locations",
        "availability",
    ]


def test_program_category_tags_keep_what_is_available_online():
    assert queries.build("program_category_tags") == (
        "SELECT Id, Name, TREX1__Program__r.Id, TREX1__Program__r.Name, "
        "TREX1__Program__r.TREX1__Available__c, TREX1__Program_Category__r.Id, "
        "TREX1__Program_Category__r.Name, TREX1__Program_Category__r.TREX1__Available__c "
        "FROM TREX1__Program_Category_Tag__c "
        "WHERE TREX1__Program__r.TREX1__Available_Online__c = true "
        "AND TREX1__Program_Category__r.TREX1__Available_Online__c = true"
    )


def test_courses_keep_what_is_available_online():
    assert queries.build("courses") == (
        "SELECT Id, Name, TREX1__Description__c, TREX1__Rich_Description__c, "
        "TREX1__Available__c, TREX1__Program__r.Id, TREX1__Program__r.Name "
        "FROM TREX1__Course__c WHERE TREX1__Available_Online__c = true"
    )


def test_locations_take_every_location_with_its_address():
    assert queries.build("locations") == (
        "SELECT Id, Name, TREX1__Address_Street__c, TREX1__Address_City__c, "
        "TREX1__Address_State__c, TREX1__Address_Postal_Code__c, "
        "TREX1__Address_Country__c FROM TREX1__Location__c"
    )


def test_course_options_select_every_field_of_the_session_layout():
    query = queries.get("course_options")

    assert query.object == "TREX1__Course_Session_Option__c"
    option = [
        name.removeprefix("TREX1__Course_Option__r.")
        for name in query.fields
        if name.startswith("TREX1__Course_Option__r.")
    ]
    assert option == [
        "Id",
        "Name",
        "TREX1__Available__c",
        "TREX1__Available_Online__c",
        "TREX1__Capacity__c",
        "TREX1__Start_Date__c",
        "TREX1__Start_Time__c",
        "TREX1__End_Date__c",
        "TREX1__End_Time__c",
        "TREX1__Day_of_Week__c",
        "TREX1__Instructor__c",
        "TREX1__Location__c",
        "TREX1__Location__r.Id",
        "TREX1__Location__r.Name",
        "TREX1__Age_Min__c",
        "TREX1__Age_Max__c",
        "TREX1__Register_Online_From_Date__c",
        "TREX1__Register_Online_From_Time__c",
        "TREX1__Register_Online_To_Date__c",
        "TREX1__Register_Online_To_Time__c",
        "TREX1__Registration_Total__c",
        "TREX1__Total_Capacity_Available__c",
        "TREX1__Type__c",
        "TREX1__Unlimited_Capacity__c",
        "TREX1__Unlimited_Waitlist_Capacity__c",
        "TREX1__Waitlist_Total__c",
        "TREX1__Waitlist_Capacity__c",
        "TREX1__Product__c",
        "TREX1__Product__r.Id",
        "TREX1__Product__r.Name",
        "TREX1__Product__r.TREX1__Price_Description__c",
    ]
    assert [n for n in query.fields if n.startswith("TREX1__Course_Session__r.")] == [
        "TREX1__Course_Session__r.Id",
        "TREX1__Course_Session__r.Name",
        "TREX1__Course_Session__r.TREX1__Description__c",
        "TREX1__Course_Session__r.TREX1__Rich_Description__c",
        "TREX1__Course_Session__r.TREX1__Course__r.Id",
        "TREX1__Course_Session__r.TREX1__Course__r.Name",
        "TREX1__Course_Session__r.TREX1__Course__r.TREX1__Description__c",
        "TREX1__Course_Session__r.TREX1__Course__r.TREX1__Rich_Description__c",
    ]


def test_course_options_keep_what_can_be_booked_online_from_today():
    soql_text = queries.build("course_options")

    assert soql_text.endswith(" FROM TREX1__Course_Session_Option__c WHERE " + OPTION_WHERE)


def test_every_field_named_exists_in_the_sample_org(sample_org_dir):
    import json

    fields = {}
    for path in sample_org_dir.glob("TREX1__*.json"):
        records = json.loads(path.read_text())["records"]
        fields[path.stem] = set().union(*(record.keys() for record in records))
    # A relationship name -> the object it points at.
    targets = {
        "TREX1__Course_Option__r": "TREX1__Course_Option__c",
        "TREX1__Course_Session__r": "TREX1__Course_Session__c",
        "TREX1__Course__r": "TREX1__Course__c",
        "TREX1__Location__r": "TREX1__Location__c",
        "TREX1__Product__r": "TREX1__Product__c",
        "TREX1__Program__r": "TREX1__Program__c",
        "TREX1__Program_Category__r": "TREX1__Program_Category__c",
    }

    missing = []
    for name in queries.names():
        query = queries.get(name)
        paths = list(query.fields)
        paths += [condition[0] for condition in query.conditions]
        for path in paths:
            sobject = query.object
            *relationships, field_name = path.split(".")
            for relationship in relationships:
                assert relationship[:-1] + "c" in fields[sobject], (name, path)
                sobject = targets[relationship]
            if field_name not in fields[sobject]:
                missing.append((name, path))

    assert missing == []


def test_location_ids_filter_the_options_with_validated_ids():
    soql_text = queries.build(
        "course_options", location_ids=["a0L5e0000HIhd4e", "a0L5e00006xT50fEAC"]
    )

    assert soql_text.endswith(
        OPTION_WHERE + " AND TREX1__Course_Option__r.TREX1__Location__c IN "
        "('a0L5e0000HIhd4eEQB', 'a0L5e00006xT50fEAC')"
    )


def test_a_bad_location_id_is_refused():
    with pytest.raises(ValueError, match="is not a Salesforce Id"):
        queries.build("course_options", location_ids=["a0L' OR Id != '"])


def test_an_empty_location_list_is_refused_rather_than_matching_nothing():
    with pytest.raises(soql.EmptyInList):
        queries.build("course_options", location_ids=[])


def test_queries_without_a_location_lookup_ignore_location_ids():
    assert queries.build("courses", location_ids=["a0L5e0000HIhd4e"]) == (
        queries.build("courses")
    )


def test_availability_selects_only_availability_fields_of_the_same_options():
    assert queries.build("availability") == (
        "SELECT Id, TREX1__Course_Option__r.Id, "
        "TREX1__Course_Option__r.TREX1__Available__c, "
        "TREX1__Course_Option__r.TREX1__Capacity__c, "
        "TREX1__Course_Option__r.TREX1__Registration_Total__c, "
        "TREX1__Course_Option__r.TREX1__Total_Capacity_Available__c, "
        "TREX1__Course_Option__r.TREX1__Unlimited_Capacity__c, "
        "TREX1__Course_Option__r.TREX1__Unlimited_Waitlist_Capacity__c, "
        "TREX1__Course_Option__r.TREX1__Waitlist_Capacity__c, "
        "TREX1__Course_Option__r.TREX1__Waitlist_Total__c "
        "FROM TREX1__Course_Session_Option__c WHERE " + OPTION_WHERE
    )


def test_sessions_is_another_name_for_course_options():
    assert queries.build("sessions") == queries.build("course_options")


def test_an_unknown_query_name_says_which_exist():
    with pytest.raises(KeyError) as caught:
        queries.build("memberships")

    assert caught.value.args[0] == (
        "There is no Traction Rec query named 'memberships'; the queries are "
        "program_category_tags, courses, course_options, locations, availability."
    )


class TestOverrides:
    def test_a_site_adds_fields_and_conditions(self, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {
            "courses": {
                "fields": ["TREX1__Code__c"],
                "where": ["Name != 'Test' OR TREX1__Code__c = null", ["Name", "!=", "X"]],
            }
        }

        assert queries.build("courses") == (
            "SELECT Id, Name, TREX1__Description__c, TREX1__Rich_Description__c, "
            "TREX1__Available__c, TREX1__Program__r.Id, TREX1__Program__r.Name, "
            "TREX1__Code__c FROM TREX1__Course__c WHERE TREX1__Available_Online__c "
            "= true AND (Name != 'Test' OR TREX1__Code__c = null) AND Name != 'X'"
        )

    def test_a_site_replaces_a_query(self, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {
            "locations": {
                "replace": True,
                "fields": ["Id", "Name"],
                "where": [["Id", "IN", ["a", "b"]]],
            }
        }

        assert queries.build("locations") == (
            "SELECT Id, Name FROM TREX1__Location__c WHERE Id IN ('a', 'b')"
        )

    def test_the_sessions_alias_works_in_overrides(self, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {"sessions": {"fields": ["Name"]}}

        assert queries.get("course_options").fields[-1] == "Name"

    def test_an_unknown_override_key_is_named(self, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {"courses": {"feilds": ["Name"]}}

        with pytest.raises(ImproperlyConfigured) as caught:
            queries.build("courses")

        assert str(caught.value) == (
            "TRACTION_REC_QUERY_OVERRIDES['courses'] has unknown keys feilds; use "
            "fields, location_field, object, replace, where."
        )

    def test_an_override_for_an_unknown_query_is_named(self, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {"classes": {"fields": ["Name"]}}

        with pytest.raises(ImproperlyConfigured, match="names the query 'classes'"):
            queries.build("courses")

    def test_a_bad_field_name_is_refused(self, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {"courses": {"fields": ["Name, Id"]}}

        with pytest.raises(ImproperlyConfigured, match="'Name, Id' is not a SOQL field"):
            queries.build("courses")
