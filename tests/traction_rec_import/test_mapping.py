import datetime as dt

import pytest

from traction_rec_import import mapping
from traction_rec_import.mapping import MappingError

CHICAGO = "America/Chicago"


def option(**fields):
    base = {
        "Id": "a0O5e0000eYy3tqEAB",
        "Name": "Swim Tue",
        "Start_Date": "2027-03-02",
        "Start_Time": "6:00 PM",
        "End_Date": "2027-04-27",
        "End_Time": "6:45 PM",
        "Day_of_Week": "Tuesday",
    }
    base.update(fields)
    return {
        "Id": "a0X5e0000Cfz5DjEQI",
        "Course_Option": base,
        "Course_Session": {
            "Id": "a0E5e0000C6BUa9EQG",
            "Name": "Swim - Spring 2027",
            "Course": {"Id": "a0K5e0000jWLCBmEAP", "Name": "Swim"},
        },
    }


def session(record, community_url="https://ymca.my.site.com/community"):
    return mapping.map_session(record, community_url=community_url, time_zone=CHICAGO)


def utc_offset(value):
    return value.utcoffset()


# Times and dates


@pytest.mark.parametrize(
    "text, expected",
    [
        ("6:00 AM", dt.time(6, 0)),
        ("06:00 AM", dt.time(6, 0)),
        ("6:00 pm", dt.time(18, 0)),
        ("06:30 Pm", dt.time(18, 30)),
        ("12:00 PM", dt.time(12, 0)),
        ("12:00 AM", dt.time(0, 0)),
        ("12:30 am", dt.time(0, 30)),
        ("11:59 PM", dt.time(23, 59)),
        (" 7:05AM ", dt.time(7, 5)),
        ("18:15", dt.time(18, 15)),
    ],
)
def test_it_reads_padded_unpadded_and_any_case_times(text, expected):
    assert mapping.parse_time(text, "Start_Time") == expected


@pytest.mark.parametrize("text", [None, "", "   "])
def test_it_reads_a_missing_time_as_none(text):
    assert mapping.parse_time(text, "End_Time") is None


def test_it_refuses_a_time_it_cannot_read():
    with pytest.raises(MappingError) as error:
        mapping.parse_time("noon", "Start_Time")

    assert str(error.value) == "Start_Time 'noon' is not a time such as 6:00 PM."


def test_it_refuses_an_hour_past_twelve_with_am_or_pm():
    with pytest.raises(MappingError) as error:
        mapping.parse_time("13:00 PM", "End_Time")

    assert str(error.value) == "End_Time '13:00 PM' has an hour outside 1 to 12."


def test_it_stores_a_chicago_class_across_the_march_switch_with_both_offsets():
    values, time = session(option())

    assert time["start"].isoformat() == "2027-03-02T18:00:00-06:00"
    assert time["end"].isoformat() == "2027-04-27T18:45:00-05:00"
    assert utc_offset(time["start"]) == dt.timedelta(hours=-6)
    assert utc_offset(time["end"]) == dt.timedelta(hours=-5)
    assert time["start"].astimezone(dt.timezone.utc) == dt.datetime(
        2027, 3, 3, 0, 0, tzinfo=dt.timezone.utc
    )
    assert time["end"].astimezone(dt.timezone.utc) == dt.datetime(
        2027, 4, 27, 23, 45, tzinfo=dt.timezone.utc
    )
    assert (time["start_time"], time["end_time"]) == (dt.time(18, 0), dt.time(18, 45))
    assert values["starts_at"] == time["start"]
    assert values["ends_at"] == time["end"]


def test_it_defaults_a_missing_start_to_seven_and_a_missing_end_to_midnight_minus_one():
    _, time = session(option(Start_Time=None, End_Time=""))

    assert time["start_time"] == dt.time(7, 0)
    assert time["end_time"] == dt.time(23, 59)
    assert time["start"].isoformat() == "2027-03-02T07:00:00-06:00"
    assert time["end"].isoformat() == "2027-04-27T23:59:00-05:00"


def test_it_uses_the_start_date_when_the_end_date_is_missing():
    _, time = session(option(End_Date=None, End_Time="7:00 PM"))

    assert time["end"].isoformat() == "2027-03-02T19:00:00-06:00"


def test_it_skips_an_option_without_a_start_date():
    with pytest.raises(MappingError) as error:
        session(option(Start_Date=None))

    assert str(error.value) == "The option has no Start_Date."


def test_it_skips_an_option_that_ends_before_it_starts():
    with pytest.raises(MappingError) as error:
        session(option(End_Date="2027-03-01"))

    assert str(error.value) == (
        "The option ends (2027-03-01 18:45) before it starts (2027-03-02 18:00)."
    )


# Days


def test_it_reads_days_trimmed_case_folded_and_once_each_in_week_order():
    days = mapping.parse_days(" saturday;Monday ;MONDAY;;wednesday")

    assert days == ["monday", "wednesday", "saturday"]


def test_it_sets_the_weekday_flags_of_the_time():
    _, time = session(option(Day_of_Week="Tuesday;Thursday"))

    flags = {day: time[day] for day in mapping.WEEKDAYS}
    assert flags == {
        "monday": False,
        "tuesday": True,
        "wednesday": False,
        "thursday": True,
        "friday": False,
        "saturday": False,
        "sunday": False,
    }


def test_it_refuses_an_unknown_day():
    with pytest.raises(MappingError) as error:
        mapping.parse_days("Monday;Funday")

    assert str(error.value) == (
        "Day_of_Week holds 'Funday', which is not a day of the week; fix the "
        "option's days in Traction Rec."
    )


@pytest.mark.parametrize("days", [None, "", " ; "])
def test_it_skips_an_option_without_days(days):
    with pytest.raises(MappingError) as error:
        session(option(Day_of_Week=days))

    assert str(error.value) == "The option has no days of the week (Day_of_Week)."


# Ages


@pytest.mark.parametrize(
    "years, months",
    [
        (0.5, 6),
        (3, 36),
        (2.0, 24),
        ("5", 60),
        (" 1.25 ", 15),
        (0, 0),
        (None, None),
        ("", None),
    ],
)
def test_it_turns_years_into_months(years, months):
    assert mapping.age_months(years, "Age_Min") == months


def test_it_reads_each_age_limit_from_its_own_field():
    values, _ = session(option(Age_Min=None, Age_Max=12))

    assert (values["min_age"], values["max_age"]) == (None, 144)


def test_it_keeps_a_maximum_when_only_the_minimum_is_set_the_other_way_round():
    values, _ = session(option(Age_Min=0.5, Age_Max=None))

    assert (values["min_age"], values["max_age"]) == (6, None)


def test_it_refuses_an_age_that_is_not_a_number():
    with pytest.raises(MappingError) as error:
        mapping.age_months("three", "Age_Max")

    assert str(error.value) == "Age_Max 'three' is not a number."


def test_it_refuses_a_negative_age():
    with pytest.raises(MappingError) as error:
        mapping.age_months(-1, "Age_Min")

    assert str(error.value) == "Age_Min -1 is negative."


# Availability and wait list


@pytest.mark.parametrize(
    "total, unlimited, expected",
    [
        (-2, False, 0),
        (5, False, 5),
        (5.0, False, 5),
        ("7", False, 7),
        (None, False, 0),
        (-2, True, 100),
        (0, True, 100),
    ],
)
def test_it_clamps_availability_and_gives_unlimited_a_hundred(total, unlimited, expected):
    assert mapping.availability(total, unlimited) == expected


def test_it_takes_the_wait_list_from_waitlist_total_and_its_unlimited_flag():
    values, _ = session(
        option(Waitlist_Total=3, Waitlist_Capacity=5, Unlimited_Waitlist_Capacity=True)
    )

    assert values["wait_list_capacity"] == 3
    assert values["wait_list_unlimited"] is True


def test_it_reads_a_missing_wait_list_as_none_limited():
    values, _ = session(option())

    assert values["wait_list_capacity"] == 0
    assert values["wait_list_unlimited"] is False


def test_it_maps_an_overbooked_unlimited_option():
    values, _ = session(option(Total_Capacity_Available=-4, Unlimited_Capacity=True))

    assert values["availability"] == 100
    assert values["unlimited_capacity"] is True


# Descriptions


def test_it_sanitises_html_to_the_allow_list_and_decodes_entities_once():
    dirty = (
        '<p onclick="steal()">Swim &amp; Play <script>alert(1)</script>'
        '<a href="javascript:alert(1)">here</a> &amp;lt;b&amp;gt; '
        '<a href="https://ymca.example/swim" target="_blank">more</a></p>'
        "<iframe src='https://evil.example'></iframe><img src=x onerror=1>"
    )

    assert mapping.sanitize_html(dirty) == (
        '<p>Swim &amp; Play <a rel="noopener noreferrer">here</a> &amp;lt;b&amp;gt; '
        '<a href="https://ymca.example/swim" rel="noopener noreferrer">more</a></p>'
    )


def test_it_takes_the_first_non_empty_description_in_the_fallback_chain():
    record = option()
    record["Course_Session"]["Course"].update(
        Rich_Description="<p>&nbsp;</p><br>", Description="   "
    )
    record["Course_Session"].update(
        Rich_Description="", Description="Bring a towel & goggles.\nArrive early."
    )

    values, _ = session(record)

    assert values["description"] == (
        "Bring a towel &amp; goggles.<br>\nArrive early."
    )


def test_it_prefers_the_course_rich_description():
    record = option()
    record["Course_Session"]["Course"].update(
        Rich_Description="<p><strong>Parent & Child</strong> swim</p>",
        Description="Plain course text.",
    )
    record["Course_Session"]["Rich_Description"] = "<p>Session text.</p>"

    values, _ = session(record)

    assert values["description"] == "<p><strong>Parent &amp; Child</strong> swim</p>"


def test_it_falls_back_to_the_plain_course_description():
    record = option()
    record["Course_Session"]["Course"].update(
        Rich_Description=None, Description="Plain course text."
    )
    record["Course_Session"]["Rich_Description"] = "<p>Session text.</p>"

    values, _ = session(record)

    assert values["description"] == "Plain course text."


def test_it_leaves_the_description_empty_when_every_candidate_is_empty():
    values, _ = session(option())

    assert values["description"] == ""


def test_it_gives_a_class_its_rich_description_else_its_plain_one():
    rich = {"Id": "a", "Name": "Swim", "Rich_Description": "<p>Rich</p>",
            "Description": "Plain"}  # fmt: skip
    plain = {"Id": "b", "Name": "Swim", "Rich_Description": "<p></p>",
             "Description": "Plain"}  # fmt: skip

    assert mapping.map_class(rich)["description"] == "<p>Rich</p>"
    assert mapping.map_class(plain)["description"] == "Plain"


# Price, instructor, registration


def test_it_copies_the_price_description_and_product():
    values, _ = session(
        option(
            Product_Id="a0D5e0000TCjF4LEQV",
            Product={"Id": "a0D5e0000TCjF4LEQV", "Name": "Fee",
                     "Price_Description": "Members: $45 / Program Participants: $90"},
        )
    )  # fmt: skip

    assert values["price_description"] == "Members: $45 / Program Participants: $90"
    assert values["product_id"] == "a0D5e0000TCjF4LEQV"


def test_it_cuts_the_instructor_to_255_characters():
    values, _ = session(option(Instructor="A" * 300))

    assert values["instructor"] == "A" * 255


def test_it_builds_an_encoded_registration_link():
    record = option()
    record["Course_Session"]["Id"] = "a0E5e0000C6B&a=b"

    values, _ = session(record, community_url="https://ymca.my.site.com/community/")

    assert values["registration_link"] == (
        "https://ymca.my.site.com/community/s/registration"
        "?courseSessionId=a0E5e0000C6B%26a%3Db&courseOptionId=a0O5e0000eYy3tqEAB"
    )


def test_it_leaves_the_link_empty_without_a_community_url_or_course_session():
    record = option()

    assert session(record, community_url="")[0]["registration_link"] == ""
    record["Course_Session"].pop("Id")
    assert session(record)[0]["registration_link"] == ""


def test_it_reads_the_online_registration_window_in_local_time():
    values, _ = session(
        option(
            Register_Online_From_Date="2026-12-06",
            Register_Online_From_Time="8:00 AM",
            Register_Online_To_Date="2027-03-30",
            Register_Online_To_Time=None,
        )
    )

    assert values["registration_opens_at"].isoformat() == "2026-12-06T08:00:00-06:00"
    assert values["registration_closes_at"].isoformat() == "2027-03-30T23:59:00-05:00"


def test_it_publishes_from_available_and_registers_online_from_available_online():
    values, _ = session(option(Available=False, Available_Online=True))

    assert values["published"] is False
    assert values["online_registration"] is True


# Parents


def test_it_chooses_one_parent_per_program_whatever_the_file_order():
    rows = [
        {"Id": "P1", "Name": "Swim", "Program": {"Id": "C2"}},
        {"Id": "P1", "Name": "Swim", "Program": "C1"},
        {"Id": "P2", "Name": "Art", "Program": "C3"},
    ]
    categories = {"C1": True, "C2": True}

    chosen, dropped, orphans = mapping.choose_parents(rows, categories)
    again = mapping.choose_parents(list(reversed(rows)), categories)

    assert {key: parent for key, (_, parent) in chosen.items()} == {"P1": "C1"}
    assert dropped == [("P1", "C2", "C1")]
    assert orphans == [
        (
            "P2",
            rows[2],
            "Its program category (C3) is not among the imported programs; "
            "check programs.json.",
        )
    ]
    assert {key: parent for key, (_, parent) in again[0].items()} == {"P1": "C1"}


def test_it_prefers_an_available_parent():
    rows = [
        {"Id": "P1", "Name": "Swim", "Program": "C1"},
        {"Id": "P1", "Name": "Swim", "Program": "C2"},
    ]

    chosen, dropped, _ = mapping.choose_parents(rows, {"C1": False, "C2": True})

    assert chosen["P1"][1] == "C2"
    assert dropped == [("P1", "C1", "C2")]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mapping.availability("1e12", False),
         "Total_Capacity_Available '1e12' is out of range."),
        (lambda: mapping.age_months(200_000_000, "Age_Max"),
         "Age_Max 200000000 is out of range."),
        (lambda: mapping.wait_list("1e10000000", None),
         "Waitlist_Total '1e10000000' is out of range."),
        (lambda: mapping.age_months("NaN", "Age_Min"), "Age_Min 'NaN' is not a number."),
        (lambda: mapping.availability([3], False),
         "Total_Capacity_Available [3] is not a number."),
    ],
)  # fmt: skip
def test_it_refuses_numbers_the_columns_cannot_hold(call, message):
    with pytest.raises(MappingError) as error:
        call()

    assert str(error.value) == message
