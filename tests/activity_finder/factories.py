"""Factory helpers for finder tests: a chain, a location, a session with its
time slots, all with exact values and local (America/Chicago) wall-clock
times."""

import datetime as dt
import itertools
import zoneinfo

from django.conf import settings
from django.utils import timezone

from activity_finder.models import (
    Activity,
    Class,
    Location,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)

_numbers = itertools.count(1)


def local(day, clock=dt.time(0)):
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(day, clock, tzinfo=zone)


def location(title, *, kind=Location.Kind.BRANCH, **fields):
    return Location.objects.create(title=title, kind=kind, **fields)


def program(title, **fields):
    return Program.objects.create(title=title, **fields)


def subcategory(parent, title, **fields):
    return ProgramSubcategory.objects.create(program=parent, title=title, **fields)


def session_class(
    sub, title, *, activity_title=None, activity_published=True, **fields
):
    activity = Activity.objects.create(
        subcategory=sub,
        title=activity_title or f"{title} activity",
        published=activity_published,
    )
    return Class.objects.create(activity=activity, title=title, **fields)


def session(
    cls,
    where,
    title,
    *,
    ages=(None, None),
    slots=(),
    registration="open",
    **fields,
):
    """slots: (days, start "HH:MM", end "HH:MM", first date, last date).
    registration: "open" (a window around now), "closed" (ended yesterday),
    "later" (opens in ten days), or "none" (no online registration)."""
    now = timezone.now()
    defaults = {
        "min_age": ages[0],
        "max_age": ages[1],
        "online_registration": registration != "none",
        "registration_link": f"https://ymca.example/register/{next(_numbers)}",
        "availability": 20,
        "price_description": "$40 members, $80 non-members",
    }
    if registration == "open":
        defaults["registration_opens_at"] = now - dt.timedelta(days=30)
        defaults["registration_closes_at"] = now + dt.timedelta(days=30)
    elif registration == "closed":
        defaults["registration_opens_at"] = now - dt.timedelta(days=30)
        defaults["registration_closes_at"] = now - dt.timedelta(days=1)
    elif registration == "later":
        defaults["registration_opens_at"] = now + dt.timedelta(days=10)
        defaults["registration_closes_at"] = now + dt.timedelta(days=40)
    defaults.update(fields)
    created = Session.objects.create(
        session_class=cls, location=where, title=title, **defaults
    )
    times = []
    for days, start, end, first, last in slots:
        start_time = dt.time.fromisoformat(start)
        end_time = dt.time.fromisoformat(end)
        slot = SessionTime(
            session=created,
            start=local(first, start_time),
            end=local(last, end_time),
            start_time=start_time,
            end_time=end_time,
        )
        slot.days = days
        slot.save()
        times.append(slot)
    if times:
        created.starts_at = min(t.start for t in times)
        created.ends_at = max(t.end for t in times)
        created.save(update_fields=["starts_at", "ends_at"])
    return created
