"""GET /af/get-data: Open Y's parameters and response shape."""

import json
import os
from pathlib import Path

import pytest

URL = "/af/get-data"
RECORDED = Path(__file__).parent / "data" / "get-data.json"

# The keys of a table row in Open Y's Solr backend (openy_activity_finder's
# processResults, with the Traction Rec add-on's wait_list_availability).
OPEN_Y_ROW_KEYS = {
    "nid",
    "availability_note",
    "availability_status",
    "activity_type",
    "dates",
    "weeks",
    "schedule",
    "days",
    "times",
    "location",
    "location_id",
    "location_info",
    "instructor",
    "log_id",
    "name",
    "price",
    "link",
    "description",
    "ages",
    "gender",
    "program_id",
    "offering_id",
    "info",
    "location_name",
    "location_address",
    "location_phone",
    "spots_available",
    "status",
    "note",
    "learn_more",
    "more_results",
    "more_results_type",
    "program_name",
    "atc_info",
    "min_age",
    "max_age",
    "product_id",
    "wait_list_availability",
}
OPEN_Y_LOCATION_INFO_KEYS = {
    "type",
    "address",
    "days",
    "email",
    "nid",
    "phone",
    "title",
}


def get(client, **params):
    return client.get(URL, params)


def shape(value):
    """A value's JSON shape: dict keys with their shapes, a list's first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null"
    return type(value).__name__


def normalise(data, finder):
    """Replace database ids and generated links with stable names, so the
    recorded example does not depend on the order tests ran in."""
    sessions = {
        str(getattr(finder, n).pk): n
        for n in ("tot", "preschool", "lap", "team", "camp", "toddler")
    }
    locations = {str(loc.pk): loc.title for loc in vars(finder.locations).values()}
    subcategories = {
        str(sub.pk): sub.title for sub in vars(finder.subcategories).values()
    }
    for row in data["table"]:
        row["nid"] = f"<session:{sessions[row['nid']]}>"
        row["location_id"] = f"<location:{locations[row['location_id']]}>"
        row["location_info"]["nid"] = (
            f"<location:{locations[row['location_info']['nid']]}>"
        )
        row["program_id"] = f"<subcategory:{subcategories[row['program_id']]}>"
        row["link"] = "<link>" if row["link"] else ""
    for item in data["facets"]["locations"]:
        item["id"] = f"<location:{locations[item['id']]}>"
    for item in data["facets"]["field_activity_category"]:
        item["filter"] = item["id"] = f"<subcategory:{subcategories[str(item['id'])]}>"
    for group in data["groupedLocations"]:
        for item in group["value"]:
            item["value"] = f"<location:{locations[item['value']]}>"
    return data


def test_it_answers_with_open_ys_top_level_keys_and_nothing_else(client, finder):
    data = get(client).json()

    assert list(data) == [
        "count",
        "facets",
        "pager",
        "pager_info",
        "table",
        "groupedLocations",
        "sort",
    ]
    assert "expanderSectionsConfig" not in data


def test_it_matches_the_recorded_example_field_by_field(client, finder):
    data = normalise(get(client, ages="36", sort="title__ASC").json(), finder)
    if os.environ.get("RECORD_GET_DATA") == "1":
        RECORDED.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    recorded = json.loads(RECORDED.read_text())

    assert shape(data) == shape(recorded)
    assert data["count"] == recorded["count"] == 2
    assert [row["name"] for row in data["table"]] == [
        "Parent & Tot Swim",
        "Preschool Swim",
    ]
    assert data["table"] == recorded["table"]
    assert data["facets"] == recorded["facets"]
    assert data["groupedLocations"] == recorded["groupedLocations"]
    assert (data["pager"], data["pager_info"], data["sort"]) == (
        recorded["pager"],
        recorded["pager_info"],
        recorded["sort"],
    )


def test_it_gives_each_row_open_ys_fields(client, finder):
    row = get(client, sort="title__ASC").json()["table"][0]

    assert OPEN_Y_ROW_KEYS <= set(row)
    assert set(row["location_info"]) == OPEN_Y_LOCATION_INFO_KEYS


def test_it_fills_a_row_with_the_traction_rec_rules(client, finder):
    rows = {row["name"]: row for row in get(client, sort="title__ASC").json()["table"]}

    tot = rows["Parent & Tot Swim"]
    assert tot["nid"] == str(finder.tot.pk)
    assert tot["ages"] == "6 months - 3 years"
    assert (tot["min_age"], tot["max_age"]) == ("6", "36")
    assert tot["dates"] == "Jan 4 - Mar 1, 2027"
    assert tot["schedule"] == [
        {
            "days": "Mon, Wed",
            "time": "9:00 AM - 12:00 PM",
            "dates": "Jan 4 - Mar 1, 2027",
        }
    ]
    assert (tot["days"], tot["times"]) == ("Mon, Wed", "9:00 AM - 12:00 PM")
    assert tot["location"] == "Downtown YMCA"
    assert tot["location_id"] == str(finder.locations.downtown.pk)
    assert tot["location_info"]["address"] == "100 Main St, Springfield, IL, 62701"
    assert tot["price"] == "$40 members, $80 non-members"
    assert tot["link"] == finder.tot.registration_link
    assert tot["spots_available"] == "2"
    assert tot["program_id"] == str(finder.subcategories.lessons.pk)
    assert tot["description"] == "Babies and parents in the warm pool."
    assert (tot["availability_status"], tot["availability_note"]) == ("open", "")
    assert tot["wait_list_availability"] == 0

    assert rows["Preschool Swim"]["wait_list_availability"] == 5
    assert rows["Adult Lap Swim"]["ages"] == "18+ years"
    assert rows["Adult Lap Swim"]["max_age"] is None
    camp = rows["Summer Day Camp"]
    assert (camp["link"], camp["availability_status"], camp["availability_note"]) == (
        "",
        "closed",
        "Full",
    )
    team = rows["Teen Swim Team"]
    assert (team["link"], team["availability_note"]) == ("", "Registration closed")


def test_it_counts_wait_list_as_one_when_unlimited(client, finder):
    finder.camp.wait_list_unlimited = True
    finder.camp.save()

    rows = {row["name"]: row for row in get(client).json()["table"]}

    assert rows["Summer Day Camp"]["wait_list_availability"] == 1
    assert rows["Summer Day Camp"]["link"] == finder.camp.registration_link


def test_it_reports_facets_pager_and_grouped_locations(client, finder):
    loc = finder.locations
    data = get(client, days="1", locations=str(loc.downtown.pk)).json()
    facets = data["facets"]

    assert data["count"] == 2
    assert data["pager"] == 0
    assert data["pager_info"] == {"total_pages": 1, "pages": {"1": 1}}
    assert data["sort"] == "title__ASC"
    assert facets["locations"] == [
        {"filter": "Downtown YMCA", "count": 2, "id": str(loc.downtown.pk)},
        {"filter": "Westside YMCA", "count": 0, "id": str(loc.westside.pk)},
        {"filter": "Camp Lakeview", "count": 1, "id": str(loc.lakeview.pk)},
    ]
    assert facets["days_of_week"][:3] == [
        {"filter": "monday", "count": 2},
        {"filter": "tuesday", "count": 0},
        {"filter": "wednesday", "count": 1},
    ]
    assert facets["af_parts_of_day"] == [
        {"filter": "1", "count": 1},
        {"filter": "2", "count": 0},
        {"filter": "3", "count": 1},
    ]
    assert {"filter": "11", "count": 1} in facets["af_weekdays_parts_of_day"]
    assert {"filter": "13", "count": 1} in facets["af_weekdays_parts_of_day"]
    assert facets["static_age_filter"][0] == {
        "label": "6 months",
        "value": "6",
        "count": 1,
    }
    assert facets["field_category_program"] == [
        {"filter": "Aquatics", "count": 2},
        {"filter": "Youth Development", "count": 0},
    ]
    assert data["groupedLocations"] == [
        {
            "value": [
                {"value": str(loc.downtown.pk), "label": "Downtown YMCA"},
                {"value": str(loc.westside.pk), "label": "Westside YMCA"},
            ],
            "label": "Branch",
            "count": 2,
        },
        {
            "value": [{"value": str(loc.lakeview.pk), "label": "Camp Lakeview"}],
            "label": "Camp",
            "count": 1,
        },
    ]


def test_it_honours_excludeloc_and_narrows_with_limitloc(client, finder):
    loc = finder.locations

    excluded = get(client, excludeloc=f"{loc.downtown.pk},{loc.westside.pk}").json()
    limited = get(
        client,
        limitloc=str(loc.westside.pk),
        locations=f"{loc.westside.pk},{loc.downtown.pk}",
    ).json()

    assert [row["name"] for row in excluded["table"]] == ["Summer Day Camp"]
    assert [g["label"] for g in excluded["groupedLocations"]] == ["Camp"]
    assert sorted(row["name"] for row in limited["table"]) == [
        "Preschool Swim",
        "Teen Swim Team",
    ]
    assert [f["filter"] for f in limited["facets"]["locations"]] == ["Westside YMCA"]


def test_it_reads_open_ys_parameters(client, finder):
    names = lambda data: sorted(row["name"] for row in data["table"])  # noqa: E731
    sub = finder.subcategories

    assert names(get(client, daystimes="62").json()) == ["Summer Day Camp"]
    assert names(get(client, days="1", times="3").json()) == ["Adult Lap Swim"]
    assert names(get(client, categories=str(sub.camp.pk)).json()) == ["Summer Day Camp"]
    assert names(
        get(
            client, exclude=str(sub.lessons.pk), limit=f"{sub.lessons.pk},{sub.lap.pk}"
        ).json()
    ) == [
        "Adult Lap Swim",
        "Teen Swim Team",
    ]
    assert names(get(client, keywords="tot").json()) == ["Parent & Tot Swim"]
    assert [row["name"] for row in get(client, sort="title__DESC").json()["table"]][
        0
    ] == "Toddler Splash"
    assert [
        row["name"] for row in get(client, sort="af_time_of_day__ACS").json()["table"]
    ][0] == "Summer Day Camp"


@pytest.mark.parametrize(
    "params, parameter, message",
    [
        (
            {"ages": "abc"},
            "ages",
            "ages must be whole numbers from 0 to 1200 separated by commas, such as 6,24; got 'abc'.",
        ),
        (
            {"days": "8"},
            "days",
            "days must be whole numbers from 1 to 7 separated by commas, such as 1,3; got '8'.",
        ),
        (
            {"times": "0"},
            "times",
            "times must be whole numbers from 1 to 3 separated by commas, such as 1,3; got '0'.",
        ),
        (
            {"daystimes": "81"},
            "daystimes",
            "daystimes must be two-digit codes, a day 1-7 (Monday first) and a part of day 0-3 (0 any time, 1 morning, 2 afternoon, 3 evening), such as 11,23; got '81'.",
        ),
        (
            {"locations": "-1"},
            "locations",
            "locations must be whole numbers from 1 to 2147483647 separated by commas, such as 12,15; got '-1'.",
        ),
        ({"page": "0"}, "page", "page must be a whole number from 1, such as 2."),
        (
            {"sort": "price__UP"},
            "sort",
            "sort must be a field and a direction such as title__ASC or af_date_of_day__DESC; fields: af_date_of_day, af_time_of_day, field_session_location, location, relevance, search_api_relevance, start_date, start_time, title.",
        ),
        ({"weeks": "2"}, "weeks", "weeks is not supported by this site; leave it out."),
        ({"in_membership": "yes"}, "in_membership", "in_membership must be 0 or 1."),
        (
            {"keywords": "x" * 201},
            "keywords",
            "keywords must be at most 200 characters.",
        ),
    ],
)
def test_it_refuses_a_bad_parameter_with_one_error_shape(
    client, finder, params, parameter, message
):
    response = get(client, **params)

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_parameter",
            "parameter": parameter,
            "message": message,
        }
    }


def test_it_answers_other_methods_with_the_same_error_shape(client, finder):
    response = client.post(URL)

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {
        "error": {
            "code": "method_not_allowed",
            "parameter": "method",
            "message": "Only GET is allowed here.",
        }
    }


def test_it_returns_an_empty_table_past_the_last_page(client, finder):
    data = get(client, page="3").json()

    assert (data["count"], data["table"], data["pager"]) == (6, [], 0)
