"""A session as schema.org Event data and as an iCalendar (.ics) file.

The .ics has one event per schedule line, recurring weekly on its days until
the line's last date, with times in the site's zone (a VTIMEZONE built from
the zone's rules for the years the session spans), so a calendar keeps the
wall-clock time across daylight-saving changes.
"""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone

from activity_finder import display
from activity_finder.models import WEEKDAYS

ICS_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SCHEMA_DAYS = (
    "https://schema.org/Monday",
    "https://schema.org/Tuesday",
    "https://schema.org/Wednesday",
    "https://schema.org/Thursday",
    "https://schema.org/Friday",
    "https://schema.org/Saturday",
    "https://schema.org/Sunday",
)


plain_text = display.plain_text


def _local(value):
    return timezone.localtime(value)


def first_meeting(time):
    """The first date on or after the line's start that falls on one of its days."""
    start = _local(time.start).date()
    numbers = {WEEKDAYS.index(day) for day in time.days}
    if not numbers:
        return start
    for offset in range(7):
        day = start + dt.timedelta(days=offset)
        if day.weekday() in numbers:
            return day
    return start


def structured_data(session, url, register_url):
    location = session.location
    words, level = display.availability(session)
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": session.title,
        "description": plain_text(
            session.description or session.session_class.description
        ),
        "url": url,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "eventStatus": "https://schema.org/EventScheduled",
        "location": {
            "@type": "Place",
            "name": location.title,
            "address": {
                "@type": "PostalAddress",
                "streetAddress": location.street,
                "addressLocality": location.city,
                "addressRegion": location.state,
                "postalCode": location.postal_code,
                "addressCountry": location.country,
            },
        },
        "eventSchedule": [
            {
                "@type": "Schedule",
                "byDay": [SCHEMA_DAYS[WEEKDAYS.index(day)] for day in time.days],
                "startDate": _local(time.start).date().isoformat(),
                "endDate": _local(time.end).date().isoformat(),
                "startTime": time.start_time.strftime("%H:%M"),
                "endTime": time.end_time.strftime("%H:%M"),
                "repeatFrequency": "P1W",
                "scheduleTimezone": settings.TIME_ZONE,
            }
            for time in session.times.all()
        ],
    }
    if session.starts_at:
        data["startDate"] = _local(session.starts_at).isoformat()
    if session.ends_at:
        data["endDate"] = _local(session.ends_at).isoformat()
    if session.instructor:
        data["performer"] = {"@type": "Person", "name": session.instructor}
    if session.min_age is not None or session.max_age is not None:
        low = f"{(session.min_age or 0) / 12:g}"
        high = f"{session.max_age / 12:g}" if session.max_age is not None else ""
        data["typicalAgeRange"] = f"{low}-{high}"
    offer = {
        "@type": "Offer",
        "description": session.price_description,
        "availability": {
            "full": "https://schema.org/SoldOut",
            "waitlist": "https://schema.org/SoldOut",
            "low": "https://schema.org/LimitedAvailability",
        }.get(level, "https://schema.org/InStock"),
    }
    if register_url:
        offer["url"] = register_url
    data["offers"] = offer
    return data


# iCalendar ------------------------------------------------------------------


def _escape(text):
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line):
    """Lines longer than 75 octets continue on the next line after a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts = []
    while len(data) > 75:
        cut = 75 if not parts else 74
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1  # never split a UTF-8 character
        parts.append(data[:cut].decode())
        data = data[cut:]
    parts.append(data.decode())
    return "\r\n ".join(parts)


def _offset(delta):
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _transitions(zone, year):
    """The local moments in `year` when the zone's UTC offset changes."""
    found = []
    moment = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc)
    step = dt.timedelta(days=1)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + step
        offset = following.astimezone(zone).utcoffset()
        if offset != previous:
            low, high = moment, following
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            found.append((high.replace(second=0, microsecond=0), previous, offset))
            previous = offset
        moment = following
    return found


def _byday(day):
    week = (day.day - 1) // 7 + 1
    next_month = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if (next_month - day).days <= 7:
        week = -1
    return f"{week}{ICS_DAYS[day.weekday()]}"


def vtimezone(name, year):
    """The zone's rules as observed in `year`, repeated yearly. Known gap: a
    zone whose rules change during a session's span (rare; not any US zone
    since 2007) is described by its first year's rules only."""
    zone = zoneinfo.ZoneInfo(name)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    transitions = _transitions(zone, year)
    if not transitions:
        offset = dt.datetime(year, 1, 1, tzinfo=zone).utcoffset()
        lines += [
            "BEGIN:STANDARD",
            f"DTSTART:{year}0101T000000",
            f"TZOFFSETFROM:{_offset(offset)}",
            f"TZOFFSETTO:{_offset(offset)}",
            "END:STANDARD",
        ]
    for moment, before, after in transitions:
        local = (moment + before).replace(tzinfo=None)
        kind = "DAYLIGHT" if after > before else "STANDARD"
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{local:%Y%m%dT%H%M%S}",
            f"RRULE:FREQ=YEARLY;BYMONTH={local.month};BYDAY={_byday(local.date())}",
            f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(after)}",
            f"TZNAME:{moment.astimezone(zone).tzname()}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def ics(session, *, host, url, now=None):
    now = now or timezone.now()
    zone = settings.TIME_ZONE
    times = list(session.times.all())
    year = min((_local(t.start).year for t in times), default=_local(now).year)
    location = display.location_line(session.location)
    description = plain_text(session.description or session.session_class.description)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//YMCA activity finder//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *vtimezone(zone, year),
    ]
    for time in times:
        first = first_meeting(time)
        start = dt.datetime.combine(first, time.start_time)
        end_day = (
            first + dt.timedelta(days=1) if time.end_time <= time.start_time else first
        )
        end = dt.datetime.combine(end_day, time.end_time)
        lines += [
            "BEGIN:VEVENT",
            f"UID:session-{session.pk}-time-{time.pk}@{host}",
            f"DTSTAMP:{now.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}",
            f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={zone}:{end:%Y%m%dT%H%M%S}",
        ]
        if time.days:
            until = time.end.astimezone(dt.timezone.utc)
            byday = ",".join(ICS_DAYS[WEEKDAYS.index(day)] for day in time.days)
            lines.append(
                f"RRULE:FREQ=WEEKLY;BYDAY={byday};UNTIL={until:%Y%m%dT%H%M%SZ}"
            )
        lines += [
            f"SUMMARY:{_escape(session.title)}",
            f"LOCATION:{_escape(location)}",
            f"DESCRIPTION:{_escape(description)}",
            f"URL:{url}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
