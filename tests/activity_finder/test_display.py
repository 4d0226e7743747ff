import datetime as dt

import pytest

from activity_finder import display
from activity_finder.index import age_matches, parts_of_day


@pytest.mark.parametrize(
    "low, high, words",
    [
        (6, 36, "6 months - 3 years"),
        (216, None, "18+ years"),
        (6, None, "6+ months"),
        (60, 144, "5 - 12 years"),
        (14, 20, "14 - 20 months"),
        (None, 36, "Up to 3 years"),
        (0, None, "All ages"),
        (None, None, "All ages"),
        (24, 24, "2 years"),
        (1, 12, "1 - 12 months"),
        (12, 30, "12 months - 2 years 6 months"),
        (30, None, "2 years 6 months and up"),
    ],
)
def test_it_words_an_age_range(low, high, words):
    assert display.ages_in_words(low, high) == words


@pytest.mark.parametrize(
    "start, end, words",
    [
        (dt.date(2027, 1, 5), dt.date(2027, 3, 2), "Jan 5 - Mar 2, 2027"),
        (dt.date(2026, 12, 28), dt.date(2027, 1, 4), "Dec 28, 2026 - Jan 4, 2027"),
        (dt.date(2027, 6, 7), dt.date(2027, 6, 7), "Jun 7, 2027"),
    ],
)
def test_it_words_a_date_range_with_the_year(start, end, words):
    assert display.date_range(start, end) == words


def test_it_shortens_runs_of_days():
    assert (
        display.days_in_words(["monday", "tuesday", "wednesday", "thursday", "friday"])
        == "Mon - Fri"
    )
    assert display.days_in_words(["saturday", "monday", "wednesday"]) == "Mon, Wed, Sat"
    assert display.days_in_words(["monday", "tuesday", "thursday"]) == "Mon, Tue, Thu"


def test_it_writes_clock_times():
    assert [
        display.clock(dt.time(h, m)) for h, m in [(0, 5), (9, 0), (12, 0), (17, 30)]
    ] == [
        "12:05 AM",
        "9:00 AM",
        "12:00 PM",
        "5:30 PM",
    ]


@pytest.mark.parametrize(
    "start, end, parts",
    [
        ("09:00", "12:00", {1}),
        ("11:59", "12:01", {1, 2}),
        ("12:00", "13:00", {2}),
        ("16:00", "17:00", {2}),
        ("17:00", "18:00", {3}),
        ("16:30", "17:30", {2, 3}),
        ("08:00", "18:00", {1, 2, 3}),
        ("22:00", "01:00", {3}),
        ("15:00", "00:00", {2, 3}),
    ],
)
def test_it_places_a_slot_in_parts_of_day(start, end, parts):
    assert (
        parts_of_day(dt.time.fromisoformat(start), dt.time.fromisoformat(end)) == parts
    )


POINTS = [6, 12, 24, 36]


@pytest.mark.parametrize(
    "low, high, matched",
    [
        (6, 36, [6, 12, 24, 36]),
        (14, 20, [12]),  # nearer 12 (2) than 24 (4)
        (16, 20, [12]),  # 4 from 12 and 4 from 24: a tie goes to the lower point
        (17, 20, [24]),  # 5 from 12, 4 from 24
        (1, 3, [6]),  # below the first point
        (40, 50, [36]),  # above the last point
        (40, None, [36]),
        (None, None, [6, 12, 24, 36]),
        (25, 35, [24]),  # 1 from 24, 1 from 36: the lower one
    ],
)
def test_it_matches_a_narrow_range_to_the_nearest_point(low, high, matched):
    assert [p for p in POINTS if age_matches(low, high, p, POINTS)] == matched
