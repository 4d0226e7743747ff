"""How a session reads to a visitor: ages, dates, schedule lines, availability.

Everything here is plain text in the site's time zone (settings.TIME_ZONE);
the templates, the JSON API and the calendar file share it so the three never
disagree.
"""

import re
from html import unescape

import nh3
from django.utils import timezone

from activity_finder.models import WEEKDAYS

DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Availability at or above this many spots is shown as "10+ spots".
MANY_SPOTS = 10
# At or below this many spots the card uses the low-spots style.
LOW_SPOTS = 3


def _plural(number, unit):
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _simple_unit(months):
    """(number, unit) when the age reads as whole months or whole years."""
    if months < 24:
        return months, "month"
    if months % 12 == 0:
        return months // 12, "year"
    return None


def age_in_words(months):
    """24 -> "2 years", 18 -> "18 months", 30 -> "2 years 6 months"."""
    simple = _simple_unit(months)
    if simple:
        return _plural(*simple)
    return f"{_plural(months // 12, 'year')} {_plural(months % 12, 'month')}"


def ages_in_words(min_age, max_age):
    """A session's age range as a visitor reads it: "6 months - 3 years"."""
    low = min_age or 0
    if max_age is None:
        if not low:
            return "All ages"
        simple = _simple_unit(low)
        if simple:
            return f"{simple[0]}+ {simple[1]}s"
        return f"{age_in_words(low)} and up"
    if not low:
        return f"Up to {age_in_words(max_age)}"
    if low == max_age:
        return age_in_words(low)
    low_unit, high_unit = _simple_unit(low), _simple_unit(max_age)
    if low_unit and high_unit and low_unit[1] == high_unit[1]:
        return f"{low_unit[0]} - {high_unit[0]} {high_unit[1]}s"
    return f"{age_in_words(low)} - {age_in_words(max_age)}"


def clock(value):
    """A wall-clock time as "6:00 PM"."""
    hour = value.hour % 12 or 12
    suffix = "AM" if value.hour < 12 else "PM"
    return f"{hour}:{value.minute:02d} {suffix}"


def _day(value):
    return f"{value:%b} {value.day}"


def date_range(start, end):
    """Two dates with the year: "Jan 5 - Mar 2, 2027", "Dec 28, 2026 - Jan 4, 2027"."""
    if start == end:
        return f"{_day(start)}, {start.year}"
    if start.year == end.year:
        return f"{_day(start)} - {_day(end)}, {end.year}"
    return f"{_day(start)}, {start.year} - {_day(end)}, {end.year}"


def local_date(value):
    return timezone.localtime(value).date()


def session_dates(session):
    if not session.starts_at or not session.ends_at:
        return ""
    return date_range(local_date(session.starts_at), local_date(session.ends_at))


def days_in_words(days):
    """Weekday names (monday...) as "Mon - Fri" or "Mon, Wed, Sat"."""
    numbers = sorted(WEEKDAYS.index(day) for day in days)
    runs = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_ABBREVIATIONS[run[0]]} - {DAY_ABBREVIATIONS[run[-1]]}")
        else:
            parts.extend(DAY_ABBREVIATIONS[number] for number in run)
    return ", ".join(parts)


def slot_line(start, end, start_time, end_time, days):
    """One schedule line as {"days", "time", "dates"} in the site's time zone."""
    return {
        "days": days_in_words(days),
        "time": f"{clock(start_time)} - {clock(end_time)}",
        "dates": date_range(local_date(start), local_date(end)),
    }


def schedule_line(time):
    return slot_line(time.start, time.end, time.start_time, time.end_time, time.days)


def schedule(session):
    return [schedule_line(time) for time in session.times.all()]


def has_wait_list(session):
    return session.wait_list_unlimited or session.wait_list_capacity > 0


def is_full(session):
    return not session.unlimited_capacity and session.availability <= 0


def availability(session):
    """(words, level): level is one of full, waitlist, low, some, many."""
    if session.unlimited_capacity or session.availability >= MANY_SPOTS:
        return f"{MANY_SPOTS}+ spots", "many"
    if session.availability > 0:
        spots = session.availability
        words = "1 spot left" if spots == 1 else f"{spots} spots left"
        return words, "low" if spots <= LOW_SPOTS else "some"
    if has_wait_list(session):
        return "Waiting list", "waitlist"
    return "Full", "full"


def registration_state(session, now=None):
    """ "open", "not_yet" (opens later) or "closed"."""
    now = now or timezone.now()
    if not session.online_registration or not session.registration_link:
        return "closed"
    if session.registration_closes_at and session.registration_closes_at < now:
        return "closed"
    if session.registration_opens_at and session.registration_opens_at > now:
        return "not_yet"
    return "open"


def register_link(session, now=None):
    """The community registration link, or "" when a visitor cannot register:
    registration is not open, or the class is full with no wait list."""
    if registration_state(session, now) != "open":
        return ""
    if is_full(session) and not has_wait_list(session):
        return ""
    return session.registration_link


def registration_note(session, now=None):
    state = registration_state(session, now)
    if state == "not_yet":
        opens = timezone.localtime(session.registration_opens_at)
        day = date_range(opens.date(), opens.date())
        return f"Registration opens {day}, {clock(opens)}"
    if state == "closed":
        return "Registration closed"
    if is_full(session) and not has_wait_list(session):
        return "Full"
    return ""


def location_line(location):
    if location.address:
        return f"{location.title}, {location.address}"
    return location.title


# Tags that end a line or a block: their text must not run into the next.
_BREAKS = re.compile(
    r"<(?:br|hr|/p|/li|/div|/h[1-6]|/tr|/td|/th|/ul|/ol|/blockquote)\b[^>]*>",
    re.IGNORECASE,
)


def plain_text(html):
    """Stored (sanitised) HTML as one line of text, for JSON, JSON-LD and
    calendars: block ends become spaces, tags go, entities are decoded once
    ("&amp;" is "&"), and runs of white space fold to one space."""
    text = nh3.clean(_BREAKS.sub(" ", html or ""), tags=set())
    return " ".join(unescape(text).split())
