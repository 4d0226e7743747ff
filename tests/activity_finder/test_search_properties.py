"""The bit-set search against a plain re-reading of the rules, session by
session, for many generated searches over the fixture."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activity_finder import search
from activity_finder.index import age_matches, parts_of_day
from activity_finder.models import WEEKDAYS
from activity_finder.search import Criteria
from tests.activity_finder.conftest import POINTS

VISIBLE = ("tot", "preschool", "lap", "team", "camp", "toddler")


def meetings(session):
    """(day 1-7, part 1-3) for every meeting of every slot."""
    found = set()
    for slot in session.times.all():
        for day in slot.days:
            for part in parts_of_day(slot.start_time, slot.end_time):
                found.add((WEEKDAYS.index(day) + 1, part))
    return found


def matches(session, criteria, *, leave_out=None):
    c = criteria
    if leave_out != "ages" and c.ages:
        if not any(
            age_matches(session.min_age, session.max_age, a, POINTS) for a in c.ages
        ):
            return False
    if leave_out != "slots" and (c.days or c.times):
        if not any(
            (not c.days or day in c.days) and (not c.times or part in c.times)
            for day, part in meetings(session)
        ):
            return False
    if leave_out != "locations" and c.locations:
        if session.location_id not in c.locations:
            return False
    return True


criteria = st.builds(
    Criteria,
    ages=st.lists(
        st.sampled_from(POINTS + [0, 20, 100, 600]), max_size=2, unique=True
    ).map(lambda xs: tuple(sorted(xs))),
    days=st.lists(st.integers(1, 7), max_size=2, unique=True).map(
        lambda xs: tuple(sorted(xs))
    ),
    times=st.lists(st.integers(1, 3), max_size=2, unique=True).map(
        lambda xs: tuple(sorted(xs))
    ),
    locations=st.lists(st.integers(0, 2), max_size=2, unique=True),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chosen=criteria)
def test_counts_and_facets_agree_with_the_rules(finder, chosen):
    locations = [
        finder.locations.downtown,
        finder.locations.westside,
        finder.locations.lakeview,
    ]
    chosen = Criteria(
        ages=chosen.ages,
        days=chosen.days,
        times=chosen.times,
        locations=tuple(sorted(locations[i].pk for i in chosen.locations)),
        sort="title",
    )
    sessions = [getattr(finder, name) for name in VISIBLE]

    result = search.run(chosen)

    expected = sorted(s.title for s in sessions if matches(s, chosen))
    assert sorted(s.title for s in result.sessions) == expected
    assert result.count == len(expected)
    for location in locations:
        assert result.facets["locations"][location.pk] == sum(
            1
            for s in sessions
            if s.location_id == location.pk
            and matches(s, chosen, leave_out="locations")
        )
    for day in range(1, 8):
        assert result.facets["days"][day] == sum(
            1
            for s in sessions
            if matches(s, chosen, leave_out="slots")
            and any(
                d == day and (not chosen.times or p in chosen.times)
                for d, p in meetings(s)
            )
        )
    for point in POINTS:
        assert result.facets["ages"][point] == sum(
            1
            for s in sessions
            if matches(s, chosen, leave_out="ages")
            and age_matches(s.min_age, s.max_age, point, POINTS)
        )
