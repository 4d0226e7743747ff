import datetime as dt
import types

import pytest

from activity_finder.age_points import AgePoint
from activity_finder.models import Location
from tests.activity_finder import factories as make

WINTER = (dt.date(2027, 1, 4), dt.date(2027, 3, 1))
SUMMER = (dt.date(2027, 6, 7), dt.date(2027, 8, 13))
POINTS = [6, 12, 24, 36, 72, 156, 216]


@pytest.fixture
def age_points(db):
    AgePoint.objects.all().delete()
    AgePoint.objects.bulk_create([AgePoint(months=m) for m in POINTS])
    return POINTS


@pytest.fixture
def finder(db, age_points):
    """Six visible sessions and five that must never show.

    1 Parent & Tot Swim   6-36 mo   Downtown  Swim Lessons  Mon+Wed 9:00-12:00
    2 Preschool Swim      36-72     Westside  Swim Lessons  Tue 12:00-13:00   wait list
    3 Adult Lap Swim      216+      Downtown  Lap Swim      Mon 17:00-18:00   unlimited
    4 Teen Swim Team      156-216   Westside  Lap Swim      Thu 16:00-17:00   reg closed
    5 Summer Day Camp     72-144    Lakeview  Day Camp      Mon 7:00-9:00 + Sat 13:00-15:00, full
    6 Toddler Splash      14-20     Downtown  Swim Lessons  Fri 10:00-10:30   reg later
    """
    downtown = make.location(
        "Downtown YMCA",
        street="100 Main St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        country="US",
        phone="(217) 555-0100",
    )
    westside = make.location(
        "Westside YMCA",
        street="9 Elm Ave",
        city="Springfield",
        state="IL",
        postal_code="62704",
    )
    lakeview = make.location(
        "Camp Lakeview", kind=Location.Kind.CAMP, city="Lake Forest", state="IL"
    )
    closed_branch = make.location("Old Branch", published=False)

    aquatics = make.program("Aquatics", description="Water safety for every age.")
    youth = make.program("Youth Development")
    retired = make.program("Retired Programs", published=False)
    lessons = make.subcategory(aquatics, "Swim Lessons")
    lap = make.subcategory(aquatics, "Lap Swim")
    camp = make.subcategory(youth, "Day Camp", description="Outdoor summer days.")
    old = make.subcategory(retired, "Old Stuff")

    tot_class = make.session_class(lessons, "Parent and Child Swim")
    preschool_class = make.session_class(lessons, "Preschool Lessons")
    lap_class = make.session_class(lap, "Lap Swim Hours")
    team_class = make.session_class(lap, "Swim Team")
    camp_class = make.session_class(
        camp, "Summer Camp", description="<p>Arts, <b>games</b> and swimming.</p>"
    )
    broken_class = make.session_class(
        lessons, "Hidden Lessons", activity_published=False
    )
    old_class = make.session_class(old, "Old Class")

    s = types.SimpleNamespace()
    s.tot = make.session(
        tot_class,
        downtown,
        "Parent & Tot Swim",
        ages=(6, 36),
        slots=[(["monday", "wednesday"], "09:00", "12:00", *WINTER)],
        availability=2,
        instructor="Ana Diaz",
        description="<p>Babies and parents in the <em>warm</em> pool.</p><script>alert(1)</script>",
    )
    s.preschool = make.session(
        preschool_class,
        westside,
        "Preschool Swim",
        ages=(36, 72),
        slots=[(["tuesday"], "12:00", "13:00", *WINTER)],
        availability=0,
        wait_list_capacity=5,
    )
    s.lap = make.session(
        lap_class,
        downtown,
        "Adult Lap Swim",
        ages=(216, None),
        slots=[(["monday"], "17:00", "18:00", *WINTER)],
        availability=100,
        unlimited_capacity=True,
        price_description="Free for members",
    )
    s.team = make.session(
        team_class,
        westside,
        "Teen Swim Team",
        ages=(156, 216),
        slots=[(["thursday"], "16:00", "17:00", *WINTER)],
        availability=5,
        registration="closed",
    )
    s.camp = make.session(
        camp_class,
        lakeview,
        "Summer Day Camp",
        ages=(72, 144),
        slots=[
            (["monday"], "07:00", "09:00", *SUMMER),
            (["saturday"], "13:00", "15:00", *SUMMER),
        ],
        availability=0,
    )
    s.toddler = make.session(
        tot_class,
        downtown,
        "Toddler Splash",
        ages=(14, 20),
        slots=[(["friday"], "10:00", "10:30", *WINTER)],
        availability=12,
        registration="later",
    )
    # Never visible: past, unpublished, broken chain, unpublished location and program.
    s.past = make.session(
        tot_class,
        downtown,
        "Fall Swim",
        ages=(6, 36),
        slots=[
            (["monday"], "09:00", "10:00", dt.date(2026, 9, 7), dt.date(2026, 11, 2))
        ],
    )
    s.draft = make.session(
        tot_class,
        downtown,
        "Draft Swim",
        ages=(6, 36),
        published=False,
        slots=[(["monday"], "09:00", "10:00", *WINTER)],
    )
    s.broken = make.session(
        broken_class,
        downtown,
        "Hidden Class Session",
        ages=(6, 36),
        slots=[(["monday"], "09:00", "10:00", *WINTER)],
    )
    s.gone_branch = make.session(
        tot_class,
        closed_branch,
        "Old Branch Swim",
        ages=(6, 36),
        slots=[(["monday"], "09:00", "10:00", *WINTER)],
    )
    s.old = make.session(
        old_class,
        downtown,
        "Retired Session",
        ages=(6, 36),
        slots=[(["monday"], "09:00", "10:00", *WINTER)],
    )
    s.locations = types.SimpleNamespace(
        downtown=downtown, westside=westside, lakeview=lakeview, closed=closed_branch
    )
    s.programs = types.SimpleNamespace(aquatics=aquatics, youth=youth)
    s.subcategories = types.SimpleNamespace(lessons=lessons, lap=lap, camp=camp)
    return s
