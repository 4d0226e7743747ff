"""Bad input to the parsers: times, days, ages, availability and SOQL literals.

Each property says what any input must give: the right value for every
well-formed spelling, and for anything else a MappingError (the import's
per-record skip reason), never another exception. The SOQL properties run
the client's quoting through the local org's own parser.
"""

import datetime as dt
import json
import os
import string
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from activity_finder.models import WEEKDAYS
from tests.faults.reliability import attack
from traction_rec import queries, soql
from traction_rec.emulator import soql as org_soql
from traction_rec_import import mapping
from traction_rec_import.mapping import MappingError

FAST = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Anything a JSON file can hold in a field.
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
JSON_VALUES = JSON_SCALARS | st.lists(JSON_SCALARS, max_size=3) | st.dictionaries(
    st.text(max_size=5), JSON_SCALARS, max_size=3
)


def twelve_hour(hour):
    return 12 if hour % 12 == 0 else hour % 12


# Times


@st.composite
def spelled_times(draw):
    """A time of day and one of the ways Traction Rec or a person writes it."""
    hour = draw(st.integers(0, 23))
    minute = draw(st.integers(0, 59))
    clock = twelve_hour(hour)
    padded = draw(st.booleans())
    half = "AM" if hour < 12 else "PM"
    half = draw(st.sampled_from([half, half.lower(), half.capitalize()]))
    space = draw(st.sampled_from(["", " ", "  "]))
    hours = f"{clock:02d}" if padded else str(clock)
    text = f"{hours}:{minute:02d}{space}{half}"
    before = draw(st.sampled_from(["", " ", "\t"]))
    text = before + text + draw(st.sampled_from(["", " "]))
    return dt.time(hour, minute), text


@attack(
    "any spelling of a 12-hour time (padded or not, am/AM/Am, spaces)",
    expected="the same time of day; 12 AM is midnight, 12 PM noon",
)
@FAST
@given(spelled_times())
@example((dt.time(0, 0), "12:00 AM"))
@example((dt.time(12, 0), "12:00 PM"))
@example((dt.time(6, 0), "06:00 am"))
def test_it_reads_every_spelling_of_a_twelve_hour_time(case):
    expected, text = case

    assert mapping.parse_time(text, "Start_Time") == expected


@FAST
@given(st.integers(0, 23), st.integers(0, 59))
def test_it_reads_a_twenty_four_hour_time(hour, minute):
    assert mapping.parse_time(f"{hour:02d}:{minute:02d}", "End_Time") == dt.time(
        hour, minute
    )


@attack(
    "any text or JSON value as a start or end time",
    expected="a time of day, None for blank, or a MappingError naming the field",
)
@FAST
@given(JSON_VALUES)
@example("24:00")
@example("13:00 PM")
@example("0:30 AM")
@example("6:60 PM")
@example("noon")
@example("")
def test_any_value_gives_a_time_or_a_reason(value):
    try:
        parsed = mapping.parse_time(value, "Start_Time")
    except MappingError as exc:
        assert str(exc).startswith(f"Start_Time {value!r} ")
        return

    assert parsed is None or isinstance(parsed, dt.time)
    if parsed is None:
        assert value is None or (isinstance(value, str) and not value.strip())


# Days


@st.composite
def spelled_days(draw):
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=10))
    tokens = []
    for day in days:
        case = draw(st.sampled_from([str.lower, str.upper, str.capitalize]))
        pad = draw(st.sampled_from(["", " ", "  "]))
        tokens.append(pad + case(day) + draw(st.sampled_from(["", " "])))
    if draw(st.booleans()):
        tokens.append("")
    return [day for day in WEEKDAYS if day in days], ";".join(tokens)


@attack(
    "a day list in any case, padded, repeated, with empty items",
    expected="the distinct days in week order",
)
@FAST
@given(spelled_days())
@example((["monday", "wednesday"], "Wednesday;Monday;wednesday"))
@example((["sunday"], " SUNDAY ;"))
def test_it_reads_every_spelling_of_a_day_list(case):
    expected, text = case

    assert mapping.parse_days(text) == expected


@attack(
    "any text or JSON value as Day_of_Week",
    expected="weekday names in week order, or a MappingError naming the token",
)
@FAST
@given(JSON_VALUES)
@example("Mon;Tue")
@example("Monday,Tuesday")
@example("Funday")
def test_any_value_gives_days_or_a_reason(value):
    try:
        days = mapping.parse_days(value)
    except MappingError as exc:
        assert str(exc).startswith("Day_of_Week holds ")
        assert str(exc).endswith(
            ", which is not a day of the week; fix the option's days in Traction Rec."
        )
        return

    assert days == [day for day in WEEKDAYS if day in days]
    assert len(set(days)) == len(days)


# Ages


@attack(
    "an age in years as a JSON number, float or numeric string",
    expected="whole months, rounded half up (0.5 -> 6)",
)
@FAST
@given(
    st.decimals(min_value=0, max_value=120, places=2, allow_nan=False),
    st.sampled_from(["number", "string", "padded string"]),
)
@example(Decimal("0.5"), "number")
@example(Decimal("1.04"), "string")
def test_it_turns_any_age_in_years_into_months(years, spelling):
    value = {
        "number": float(years),
        "string": str(years),
        "padded string": f" {years} ",
    }[spelling]
    expected = int((years * 12).to_integral_value(rounding=ROUND_HALF_UP))

    assert mapping.age_months(value, "Age_Min") == expected


@attack(
    "any text or JSON value as Age_Min / Age_Max (negative, text, NaN, huge)",
    expected="months that fit the database column (0 to 2147483647), None for "
    "blank, or a MappingError naming the field",
)
@FAST
@given(JSON_VALUES)
@example(-1)
@example("-0.5")
@example("NaN")
@example("Infinity")
@example("1e12")
@example("three")
def test_any_value_gives_an_age_or_a_reason(value):
    try:
        months = mapping.age_months(value, "Age_Max")
    except MappingError as exc:
        assert str(exc).startswith(f"Age_Max {value!r} ")
        return

    assert months is None or (isinstance(months, int) and 0 <= months <= 2**31 - 1)


# Availability


@attack(
    "Total_Capacity_Available of any size, overbooked, unlimited",
    expected="spots clamped at 0, 100 when unlimited",
)
@FAST
@given(st.integers(-(10**6), 10**6), st.booleans())
@example(-2, False)
@example(-2, True)
def test_availability_is_never_negative_and_100_when_unlimited(spots, unlimited):
    expected = 100 if unlimited else max(0, spots)

    assert mapping.availability(spots, unlimited) == expected
    assert mapping.availability(str(spots), unlimited) == expected


@attack(
    "any text or JSON value as Total_Capacity_Available",
    expected="spots between 0 and the column's limit, or a MappingError",
)
@FAST
@given(JSON_VALUES)
@example("1e12")
@example("NaN")
def test_any_value_gives_availability_or_a_reason(value):
    try:
        spots = mapping.availability(value, False)
    except MappingError as exc:
        assert str(exc).startswith(f"Total_Capacity_Available {value!r} ")
        return

    assert isinstance(spots, int) and 0 <= spots <= 2**31 - 1


@attack(
    "any text or JSON value as Waitlist_Total",
    expected="a wait-list capacity between 0 and the column's limit, or a "
    "MappingError",
)
@FAST
@given(JSON_VALUES)
@example(-3)
@example("2.5")
@example("1e12")
def test_any_value_gives_a_wait_list_or_a_reason(value):
    try:
        capacity, unlimited = mapping.wait_list(value, None)
    except MappingError as exc:
        assert str(exc).startswith(f"Waitlist_Total {value!r} ")
        return

    assert unlimited is False
    assert isinstance(capacity, int) and 0 <= capacity <= 2**31 - 1


HUGE_SCRIPT = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from traction_rec_import import mapping

outcomes = {}
for name, call in (
    ("age_months", lambda: mapping.age_months("1e10000000", "Age_Max")),
    ("availability", lambda: mapping.availability("1e10000000", False)),
    ("wait_list", lambda: mapping.wait_list("1e10000000", None)),
):
    try:
        outcomes[name] = repr(call())
    except Exception as exc:
        outcomes[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(outcomes))
"""


@attack(
    'a number with a huge exponent ("1e10000000") as an age, capacity or wait list',
    expected="a MappingError for each, answered at once (no hang, no other error)",
)
def test_a_huge_exponent_is_refused_at_once(observed):
    # A child process: converting 10**10000000 to an int runs in C for
    # minutes and cannot be interrupted inside the test's own process.
    process = subprocess.Popen(
        [sys.executable, "-c", HUGE_SCRIPT],
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        observed("no answer within 8 s (the conversion hangs)")
        raise AssertionError("The mapping hung on 1e10000000 for 8 s.") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    outcomes = json.loads(stdout.strip().splitlines()[-1])

    observed("; ".join(f"{name}: {outcome}" for name, outcome in outcomes.items()))
    assert {name: outcome.split(":")[0] for name, outcome in outcomes.items()} == {
        "age_months": "MappingError",
        "availability": "MappingError",
        "wait_list": "MappingError",
    }, stderr


# SOQL literals through the local org's parser

SOQL_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        # quote() carries these escaped; other control characters are refused.
        blacklist_characters=[
            chr(code) for code in range(0x20) if chr(code) not in "\n\r\t\b\f"
        ]
        + ["\x7f"],
    ),
    max_size=60,
)
NASTY = [
    "O'Brien",
    "\\",
    "\\'",
    "' OR Name != '",
    "x') OR (Id != null",
    "\\' OR Id != null OR Name = \\'",
    "%_",
    "\\u0041",
    "line\nbreak\ttab",
    '"double"',
    "日本語 ✓",
]


def where_clause(soql_text):
    return org_soql.parse(soql_text).where


@attack(
    "any string quoted by traction_rec.soql.quote, through the local org's parser",
    expected="read back as exactly the same value, in one comparison",
)
@FAST
@given(SOQL_TEXT)
def test_a_quoted_string_round_trips_through_the_org_parser(value):
    condition = where_clause(f"SELECT Id FROM Account WHERE Name = {soql.quote(value)}")

    assert isinstance(condition, org_soql.Comparison)
    assert condition.path.parts == ["Name"]
    assert (condition.op, condition.value.kind, condition.value.value) == (
        "=",
        "string",
        value,
    )


@pytest.mark.parametrize("value", NASTY)
def test_a_nasty_string_round_trips_through_the_org_parser(value):
    condition = where_clause(
        soql.select("Account", ["Id"], [soql.compare("Name", "=", value)])
    )

    assert isinstance(condition, org_soql.Comparison)
    assert condition.value.value == value


@attack(
    "a control character (NUL, ESC, ...) in a SOQL string literal",
    expected="refused with a sentence naming the character",
)
@FAST
@given(st.sampled_from([chr(c) for c in range(0x20) if chr(c) not in "\n\r\t\b\f"]))
def test_quote_refuses_a_control_character(char):
    with pytest.raises(ValueError) as error:
        soql.quote(f"a{char}b")

    assert str(error.value) == (
        f"The text holds the control character U+{ord(char):04X}, which a SOQL "
        "string cannot carry; remove it from the value."
    )


ID_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + "' ()=,\\", max_size=20
)


@attack(
    "location Ids of any text in the sessions query (quotes, parentheses, OR)",
    expected="refused as not an Id, or a single IN of 18-character Id literals",
)
@FAST
@given(st.lists(ID_TEXT, min_size=1, max_size=4))
@example(["a0L5e000001AbCdEAK' OR Id != null OR Id = '"])
@example(["a0L5e000001AbCd"])
def test_location_ids_cannot_change_the_sessions_query(location_ids):
    try:
        normalised = [soql.normalize_id(value) for value in location_ids]
    except ValueError:
        with pytest.raises(ValueError):
            queries.build("course_options", location_ids=location_ids)
        return

    text = queries.build("course_options", location_ids=location_ids)
    plain = queries.build("course_options")
    condition = where_clause(text)

    # The standard conditions, then exactly one IN over the normalised Ids.
    assert isinstance(condition, org_soql.Logical) and condition.op == "and"
    assert len(condition.items) == len(where_clause(plain).items) + 1
    location = condition.items[-1]
    assert location.op == "in"
    assert location.path.parts == ["TREX1__Course_Option__r", "TREX1__Location__c"]
    assert [literal.value for literal in location.value] == list(
        dict.fromkeys(normalised)
    )
