"""Pure functions that turn simplified Traction Rec records into PEF field values.

No database access here: the importer (and the naive baseline in naive.py)
resolve foreign keys and write rows; these functions only parse and map. A
value that cannot be mapped raises MappingError with a sentence an operator
can act on; the importer skips the row with that sentence as its reason.

The rules follow the Drupal module's migrations with its known faults fixed:
the maximum age is read from its own field, times are read in the site's
zone with the offset of each date, tag-only HTML counts as empty, and one
parent is chosen for a program listed under several categories.
"""

import datetime as dt
import hashlib
import html
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import nh3

from activity_finder.models import WEEKDAYS

# Bumped when a rule below changes, so that the next import rewrites every
# row instead of skipping rows whose source did not change.
MAPPING_VERSION = "1"

TITLE_LENGTH = 255
# The largest value of the integer columns (availability, ages, wait list).
COLUMN_LIMIT = 2**31 - 1
INSTRUCTOR_LENGTH = 255

# Traction Rec leaves the start time blank for all-day options and the end
# time blank for "until closing"; the Drupal module used the same defaults.
DEFAULT_START = dt.time(7, 0)
DEFAULT_END = dt.time(23, 59)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "div", "dl",
    "dt", "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p",
    "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_TIME = re.compile(
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<half>[ap]\.?\s*m\.?)?z?",
    re.IGNORECASE,
)


MIN_YEAR = 1900
MAX_YEAR = 2200


class MappingError(ValueError):
    """A source value that cannot be mapped; the message is the skip reason."""


def source_hash(record, *context):
    """A digest of the source record and whatever else shaped the row.

    The context (the resolved location, the community URL, the zone, the
    mapping version) is part of the digest, so a changed location mapping or
    setting reaches unchanged records without --update.
    """
    # repr() of the parsed record is exact for JSON's types and about twice as
    # fast as json.dumps; it follows the file's key order, so a fetch that
    # reorders keys rewrites each row once.
    extra = "|".join(str(part) for part in context)
    return hashlib.sha256(f"{record!r}|{extra}".encode()).hexdigest()


def ref_id(value):
    """The Id of a lookup given as a nested record or as a bare Id."""
    if value.__class__ is dict:
        value = value.get("Id")
    if value.__class__ is str:
        value = value.strip()
        return value or None
    return None


def check_id(sf_id):
    """Refuse an Id too long for sf_id (18 characters).

    Shorter ones are let through: the Drupal export and hand-made folders
    use short stand-ins, and they fit the column."""
    if len(sf_id) > 18:
        raise MappingError(
            f"Its Id {sf_id[:40]!r} is {len(sf_id)} characters long; a Salesforce "
            "Id is 15 or 18 characters."
        )


def nested(record, *keys):
    """record[k1][k2]...; None when any level is missing or null."""
    for key in keys:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def text(value, limit=None):
    if value is None:
        return ""
    value = str(value).strip()
    if limit is not None:
        value = value[:limit]
    return value


def flag(value, *, default):
    """A checkbox value. The Drupal export leaves some out: missing means default."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise MappingError(f"{value!r} is not true or false.")


def title(record, what="record"):
    name = text(record.get("Name"), TITLE_LENGTH)
    if not name:
        raise MappingError(f"The {what} has no Name.")
    return name


def parse_date(value, field):
    if not isinstance(value, str) and value is not None:
        raise MappingError(f"{field} {value!r} is not a date (YYYY-MM-DD).")
    return _parse_date(value, field)


def parse_time(value, field):
    """Traction Rec's text time: "6:00 AM", "06:00 am", "6:00 pm", "18:00".

    12 AM is midnight and 12 PM noon. None for a missing or empty value.
    """
    if not isinstance(value, str) and value is not None:
        raise MappingError(f"{field} {value!r} is not a time such as 6:00 PM.")
    return _parse_time(value, field)


# The same few dates and times repeat across thousands of options: each text
# is parsed once.
@lru_cache(maxsize=65536)
def _parse_date(value, field):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        date = dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise MappingError(f"{field} {value!r} is not a date (YYYY-MM-DD).") from None
    # Traction Rec allows "9999-12-31" for "no end"; such a date has no UTC
    # form near the edge of the calendar, and no class runs outside this span.
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        raise MappingError(
            f"{field} {value!r} is outside the years {MIN_YEAR} to {MAX_YEAR}; "
            "correct the date in Traction Rec."
        )
    return date


@lru_cache(maxsize=65536)
def _parse_time(value, field):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = _TIME.fullmatch(str(value).strip())
    if match is None:
        raise MappingError(f"{field} {value!r} is not a time such as 6:00 PM.")

    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    half = match["half"]
    if half is not None:
        if not 1 <= hour <= 12:
            raise MappingError(f"{field} {value!r} has an hour outside 1 to 12.")
        hour %= 12
        if half[0].lower() == "p":
            hour += 12
    if hour > 23 or minute > 59 or second > 59:
        raise MappingError(f"{field} {value!r} is not a time of day.")
    return dt.time(hour, minute, second)


def parse_days(value):
    """The weekday names of a `;` multi-select, in week order.

    Tokens are trimmed and case-folded and repeats collapse; an unknown token
    refuses the whole value, since guessing a day would show a class on the
    wrong day.
    """
    if value is None:
        return []
    chosen = set()
    for token in str(value).split(";"):
        day = token.strip().casefold()
        if not day:
            continue
        if day not in WEEKDAYS:
            raise MappingError(
                f"Day_of_Week holds {token.strip()!r}, which is not a day of the "
                "week; fix the option's days in Traction Rec."
            )
        chosen.add(day)
    return [day for day in WEEKDAYS if day in chosen]


def local_datetime(date, time, zone):
    """The aware datetime of a local wall-clock date and time.

    The offset is the one in force on that date, so a class that starts in
    early March and ends in late April has two different UTC offsets.
    """
    return dt.datetime.combine(date, time).replace(tzinfo=zone)


@lru_cache(maxsize=8)
def zone(name):
    return ZoneInfo(name)


def number(value, field):
    """A JSON number or a numeric string as a Decimal; None when blank."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        text = str(value)
    else:
        raise MappingError(f"{field} {value!r} is not a number.")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise MappingError(f"{field} {value!r} is not a number.") from None
    if not result.is_finite():
        raise MappingError(f"{field} {value!r} is not a number.")
    # Compared before any conversion to int: Decimal("1e10000000") is cheap,
    # its int() takes minutes.
    if result.copy_abs() > COLUMN_LIMIT:
        raise MappingError(f"{field} {value!r} is out of range.")
    return result


def age_months(value, field):
    """An age limit in years (0.5, "3", 12) as whole months; None means no limit."""
    years = number(value, field)
    if years is None:
        return None
    if years < 0:
        raise MappingError(f"{field} {value!r} is negative.")
    if years * 12 > COLUMN_LIMIT:
        raise MappingError(f"{field} {value!r} is out of range.")
    return int((years * 12).to_integral_value(rounding=ROUND_HALF_UP))


def availability(total_available, unlimited):
    """Spots left: 100 when capacity is unlimited, never below 0.

    Traction Rec allows overbooking, so Total Capacity Available can be
    negative; the finder shows a full class instead.
    """
    if unlimited:
        return 100
    spots = number(total_available, "Total_Capacity_Available")
    if spots is None:
        return 0
    return max(0, int(spots.to_integral_value(rounding=ROUND_HALF_UP)))


def wait_list(total, unlimited):
    """(wait-list capacity, unlimited) as the Drupal module read them:
    the capacity comes from Waitlist_Total."""
    places = number(total, "Waitlist_Total")
    capacity = 0 if places is None else max(0, int(places))
    return capacity, flag(unlimited, default=False)


@lru_cache(maxsize=4096)
def sanitize_html(value):
    """Allow-listed HTML. Entities are decoded once by the parser and written
    back escaped, so "&amp;" shows as "&" and "&amp;lt;" as "&lt;"."""
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    ).strip()


@lru_cache(maxsize=4096)
def is_blank_html(value):
    """True for None, "", whitespace and markup without text ("<p>&nbsp;</p>")."""
    if value is None:
        return True
    if not value.strip():
        return True
    bare = nh3.clean(value, tags=set())
    return not html.unescape(bare).strip()


def plain_to_html(value):
    """A plain-text description as HTML: line breaks kept, the rest sanitised."""
    return sanitize_html(value.strip().replace("\r\n", "\n").replace("\n", "<br>\n"))


def description(*candidates):
    """The first non-empty of (value, is_rich) pairs, as sanitised HTML."""
    for value, rich in candidates:
        if not isinstance(value, str) or is_blank_html(value):
            continue
        return sanitize_html(value) if rich else plain_to_html(value)
    return ""


def registration_link(community_url, course_session_id, course_option_id):
    """Traction Rec's registration page for one option; "" when a part is missing."""
    if not community_url or not course_session_id or not course_option_id:
        return ""
    query = urlencode(
        {"courseSessionId": course_session_id, "courseOptionId": course_option_id}
    )
    return f"{community_url.rstrip('/')}/s/registration?{query}"


# Programs, subcategories, activities and classes


def map_program(record):
    return {
        "title": title(record, "program category"),
        "published": flag(record.get("Available"), default=True),
    }


def map_subcategory(record):
    return {
        "title": title(record, "program"),
        "published": flag(record.get("Available"), default=True),
    }


def choose_parents(rows, categories):
    """One parent category per Traction Rec Program.

    rows are program_categories.json entries (one per tag link); categories
    maps the category Ids that were imported to their Available flag. The
    parent is the first by (unavailable last, Id), the same on every run
    whatever the order of the file. Returns (chosen, dropped, orphans):
    chosen maps a program Id to (record, category Id); dropped lists
    (program Id, dropped category Id, kept category Id); orphans lists
    (program Id, record, reason) for programs with no imported category.
    """
    links = {}
    first = {}
    for row in rows:
        program_id = ref_id(row.get("Id"))
        if program_id is None:
            continue
        first.setdefault(program_id, row)
        parent = ref_id(row.get("Program"))
        links.setdefault(program_id, [])
        if parent is not None and parent not in links[program_id]:
            links[program_id].append(parent)

    chosen, dropped, orphans = {}, [], []
    for program_id, parents in links.items():
        known = [parent for parent in parents if parent in categories]
        if not known:
            named = ", ".join(parents) or "none"
            orphans.append(
                (
                    program_id,
                    first[program_id],
                    f"Its program category ({named}) is not among the imported "
                    "programs; check programs.json.",
                )
            )
            continue
        known.sort(key=lambda parent: (not categories[parent], parent))
        kept = known[0]
        chosen[program_id] = (first[program_id], kept)
        for parent in parents:
            if parent != kept:
                dropped.append((program_id, parent, kept))
    return chosen, dropped, orphans


def course_program_id(record):
    return ref_id(record.get("Program")) or ref_id(record.get("Program_Id"))


def map_activity(record):
    return {
        "title": title(record, "course"),
        "published": flag(record.get("Available"), default=True),
    }


def map_class(record):
    return {
        "title": title(record, "course"),
        "published": flag(record.get("Available"), default=True),
        "description": description(
            (record.get("Rich_Description"), True),
            (record.get("Description"), False),
        ),
    }


# Sessions


def session_keys(record):
    """(course option Id, course session Id, course Id, location Id, location
    name) of a sessions.json row, read in one pass: this runs for every row
    of every import, changed or not."""
    option = record.get("Course_Option")
    if not isinstance(option, dict):
        option = {}
    course_session = record.get("Course_Session")
    if not isinstance(course_session, dict):
        course_session = {}
    location = option.get("Location")
    if isinstance(location, dict):
        location_id = ref_id(option.get("Location_Id")) or ref_id(location)
        name = location.get("Name")
        name = name.strip() if isinstance(name, str) else ""
    else:
        location_id = ref_id(option.get("Location_Id")) or ref_id(location)
        name = ""
    return (
        ref_id(option.get("Id")),
        ref_id(course_session.get("Id")),
        ref_id(course_session.get("Course")),
        location_id,
        name,
    )


def session_ids(record):
    """(course option Id, course session Id, course Id) of a sessions.json row."""
    return session_keys(record)[:3]


def session_location(record):
    """(Traction Rec location Id, location name) of a sessions.json row."""
    return session_keys(record)[3:]


def _registration_bound(option, prefix, default_time):
    date = parse_date(option.get(f"{prefix}_Date"), f"{prefix}_Date")
    if date is None:
        return None
    time = parse_time(option.get(f"{prefix}_Time"), f"{prefix}_Time")
    return date, time or default_time


def map_session(record, *, community_url, time_zone):
    """(Session fields, SessionTime fields) of one sessions.json row.

    Foreign keys (class, location) are left to the caller. Raises
    MappingError for a row that must be skipped.
    """
    option = record.get("Course_Option") or {}
    course_session = record.get("Course_Session") or {}
    course = course_session.get("Course") or {}
    tz = zone(time_zone)

    start_date = parse_date(option.get("Start_Date"), "Start_Date")
    if start_date is None:
        raise MappingError("The option has no Start_Date.")
    days = parse_days(option.get("Day_of_Week"))
    if not days:
        raise MappingError("The option has no days of the week (Day_of_Week).")
    end_date = parse_date(option.get("End_Date"), "End_Date") or start_date
    start_time = parse_time(option.get("Start_Time"), "Start_Time") or DEFAULT_START
    end_time = parse_time(option.get("End_Time"), "End_Time") or DEFAULT_END
    start = local_datetime(start_date, start_time, tz)
    end = local_datetime(end_date, end_time, tz)
    if end < start:
        raise MappingError(
            f"The option ends ({end_date} {end_time:%H:%M}) before it starts "
            f"({start_date} {start_time:%H:%M})."
        )

    opens = _registration_bound(option, "Register_Online_From", dt.time(0, 0))
    closes = _registration_bound(option, "Register_Online_To", DEFAULT_END)
    unlimited = flag(option.get("Unlimited_Capacity"), default=False)
    wait_capacity, wait_unlimited = wait_list(
        option.get("Waitlist_Total"), option.get("Unlimited_Waitlist_Capacity")
    )
    product = option.get("Product") if isinstance(option.get("Product"), dict) else {}
    option_id, course_session_id, _ = session_ids(record)

    session = {
        "title": title(option, "option"),
        "published": flag(option.get("Available"), default=True),
        "online_registration": flag(option.get("Available_Online"), default=False),
        "description": description(
            (course.get("Rich_Description"), True),
            (course.get("Description"), False),
            (course_session.get("Rich_Description"), True),
            (course_session.get("Description"), False),
        ),
        "min_age": age_months(option.get("Age_Min"), "Age_Min"),
        "max_age": age_months(option.get("Age_Max"), "Age_Max"),
        "registration_link": registration_link(
            community_url, course_session_id, option_id
        ),
        "registration_opens_at": opens and local_datetime(*opens, tz),
        "registration_closes_at": closes and local_datetime(*closes, tz),
        "instructor": text(option.get("Instructor"), INSTRUCTOR_LENGTH),
        "availability": availability(option.get("Total_Capacity_Available"), unlimited),
        "unlimited_capacity": unlimited,
        "price_description": text(product.get("Price_Description")),
        "wait_list_capacity": wait_capacity,
        "wait_list_unlimited": wait_unlimited,
        "product_id": text(ref_id(option.get("Product_Id")) or ref_id(product), 18),
        "starts_at": start,
        "ends_at": end,
    }
    time = {
        "start": start,
        "end": end,
        "start_time": start_time,
        "end_time": end_time,
        **{day: day in days for day in WEEKDAYS},
    }
    return session, time


def map_availability(option):
    """The availability fields of a course option, for the quick sync."""
    unlimited = flag(option.get("Unlimited_Capacity"), default=False)
    wait_capacity, wait_unlimited = wait_list(
        option.get("Waitlist_Total"), option.get("Unlimited_Waitlist_Capacity")
    )
    return {
        "availability": availability(option.get("Total_Capacity_Available"), unlimited),
        "unlimited_capacity": unlimited,
        "wait_list_capacity": wait_capacity,
        "wait_list_unlimited": wait_unlimited,
    }


def map_fetched_location(record):
    """FetchedLocation fields of a locations.json row."""
    return {
        "name": text(record.get("Name"), 255) or text(record.get("Id")),
        "street": text(record.get("Address_Street"), 255),
        "city": text(record.get("Address_City"), 128),
        "state": text(record.get("Address_State"), 64),
        "postal_code": text(record.get("Address_Postal_Code"), 32),
        "country": text(record.get("Address_Country"), 64),
    }
