"""Rules read straight from the sample org's JSON files, shared by the tests
that check the fetch and the import against it.

These are the test's own reading of the issue's rules (the Drupal module's
queries), written once so that two tests cannot drift apart; they never call
the project's code.
"""

import datetime as dt
import json


def records_by_id(org_dir, object_name):
    """{Id: record} of one object file, e.g. "TREX1__Course__c"."""
    text = (org_dir / f"{object_name}.json").read_text()
    return {record["Id"]: record for record in json.loads(text)["records"]}


def online_tags(tags, programs, categories):
    """Program category tags whose program and category are both online."""
    return [
        tag
        for tag in tags.values()
        if programs[tag["TREX1__Program__c"]]["TREX1__Available_Online__c"]
        and categories[tag["TREX1__Program_Category__c"]]["TREX1__Available_Online__c"]
    ]


def selected_by_sessions_query(link, options, course_sessions, today):
    """Whether the sessions query selects this course session option on `today`."""
    option = options[link["TREX1__Course_Option__c"]]
    course_session = course_sessions[link["TREX1__Course_Session__c"]]
    return bool(
        option["TREX1__Available_Online__c"]
        and option["TREX1__Day_of_Week__c"] is not None
        and (option["TREX1__Register_Online_To_Date__c"] or "")
        > str(today - dt.timedelta(days=1))
        and option["TREX1__End_Date__c"] >= str(today)
        and option["TREX1__Start_Date__c"] is not None
        and course_session["TREX1__Available_Online__c"]
        and course_session["TREX1__Num_Option_Entitlements__c"] <= 1
    )
