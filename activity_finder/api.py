"""`GET /af/get-data`: the Open Y Activity Finder's JSON, from our search.

Parameters and response keys follow Open Y so its front end can be pointed
here. Where Open Y is wrong this is not: `excludeloc` is honoured, `limitloc`
narrows the locations instead of widening them, cached failures and the
site's settings are never sent, and the Traction Rec add-on's rules apply
(`price` is the price description; `wait_list_availability` is 1 for an
unlimited wait list, else the wait-list capacity).

Known gaps: Open Y's `weeks`, `durations`, `start_months` and `program_types`
filters have no data behind them in the Traction Rec import; a request that
uses them gets a 400 naming the parameter rather than a silently wider result.
The facets Open Y reports for raw minimum and maximum ages
(`field_session_min_age`, `field_session_max_age`) are not sent; the age
picker uses `static_age_filter` and `af_ages_min_max`, which are. The page
size is Open Y's fixed 25.
"""

import functools
import logging
import re

from django.http import JsonResponse
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.csrf import csrf_exempt

from activity_finder import display, search
from activity_finder.models import WEEKDAYS, Location
from activity_finder.search import Criteria

logger = logging.getLogger(__name__)

# Open Y's sort fields, and ours, to our sort names.
SORT_FIELDS = {
    "title": "title",
    "field_session_location": "location",
    "location": "location",
    "af_date_of_day": "start_date",
    "start_date": "start_date",
    "af_time_of_day": "start_time",
    "start_time": "start_time",
    "search_api_relevance": "relevance",
    "relevance": "relevance",
}
# Open Y's own sort options spell ascending "ACS"; accept it.
DIRECTIONS = {"ASC": False, "ACS": False, "DESC": True}
UNSUPPORTED = ("weeks", "durations", "start_months", "program_types")
MAX_IDS = 200


class BadParameter(ValueError):
    def __init__(self, parameter, message):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def error_response(parameter, message, status=400, code="invalid_parameter"):
    return JsonResponse(
        {"error": {"code": code, "parameter": parameter, "message": message}},
        status=status,
    )


def _raw(request, name):
    # Open Y sends comma-separated values; repeated keys are accepted too.
    values = [value.strip() for value in request.GET.getlist(name)]
    return ",".join(value for value in values if value)


def _integers(request, name, *, low, high, example):
    raw = _raw(request, name)
    if not raw:
        return ()
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if len(parts) > MAX_IDS:
        raise BadParameter(name, f"{name} takes at most {MAX_IDS} values.")
    numbers = []
    for part in parts:
        if not re.fullmatch(r"\d{1,9}", part) or not low <= int(part) <= high:
            raise BadParameter(
                name,
                f"{name} must be whole numbers from {low} to {high} separated by "
                f"commas, such as {example}; got {part[:20]!r}.",
            )
        numbers.append(int(part))
    return tuple(sorted(set(numbers)))


def _daystimes(request):
    raw = _raw(request, "daystimes")
    if not raw:
        return ()
    codes = []
    for part in raw.split(","):
        part = part.strip()
        if not re.fullmatch(r"[1-7][0-3]", part):
            raise BadParameter(
                "daystimes",
                "daystimes must be two-digit codes, a day 1-7 (Monday first) and a "
                "part of day 0-3 (0 any time, 1 morning, 2 afternoon, 3 evening), "
                f"such as 11,23; got {part[:20]!r}.",
            )
        codes.append((int(part[0]), int(part[1])))
    return tuple(sorted(set(codes)))


def _sort(request):
    raw = request.GET.get("sort", "").strip()
    if not raw:
        return "title__ASC", "title", False
    field, _, direction = raw.partition("__")
    if field not in SORT_FIELDS or direction.upper() not in DIRECTIONS:
        raise BadParameter(
            "sort",
            "sort must be a field and a direction such as title__ASC or "
            "af_date_of_day__DESC; fields: " + ", ".join(sorted(SORT_FIELDS)) + ".",
        )
    return raw, SORT_FIELDS[field], DIRECTIONS[direction.upper()]


def parse(request):
    """The request's Open Y parameters as Criteria, or BadParameter."""
    for name in UNSUPPORTED:
        if _raw(request, name):
            raise BadParameter(
                name, f"{name} is not supported by this site; leave it out."
            )
    keywords = request.GET.get("keywords", "").strip()
    if len(keywords) > 200:
        raise BadParameter("keywords", "keywords must be at most 200 characters.")
    page_raw = request.GET.get("page", "").strip()
    if page_raw and (not re.fullmatch(r"\d{1,6}", page_raw) or int(page_raw) < 1):
        raise BadParameter("page", "page must be a whole number from 1, such as 2.")
    in_membership = request.GET.get("in_membership", "").strip()
    if in_membership not in ("", "0", "1"):
        raise BadParameter("in_membership", "in_membership must be 0 or 1.")
    sort_raw, sort, descending = _sort(request)
    ids = {"low": 1, "high": 2**31 - 1, "example": "12,15"}
    criteria = Criteria(
        keywords=keywords,
        ages=_integers(request, "ages", low=0, high=1200, example="6,24"),
        days=_integers(request, "days", low=1, high=7, example="1,3"),
        times=_integers(request, "times", low=1, high=3, example="1,3"),
        daystimes=_daystimes(request),
        locations=_integers(request, "locations", **ids),
        subcategories=_integers(request, "categories", **ids),
        limit=_integers(request, "limit", **ids),
        exclude=_integers(request, "exclude", **ids),
        limitloc=_integers(request, "limitloc", **ids),
        excludeloc=_integers(request, "excludeloc", **ids),
        in_membership=None if not in_membership else in_membership == "1",
        sort=sort,
        descending=descending,
        page=int(page_raw) if page_raw else 1,
        page_size=search.DEFAULT_PAGE_SIZE,
    )
    return criteria, sort_raw


# The response -----------------------------------------------------------------


def _location_info(location):
    return {
        "type": location.kind,
        "address": ", ".join(
            part
            for part in (
                location.street,
                location.city,
                location.state,
                location.postal_code,
            )
            if part
        ),
        "days": [["Hours:", location.hours]] if location.hours else [],
        "email": location.email,
        "nid": str(location.pk),
        "phone": location.phone,
        "title": location.title,
    }


def _weeks(session):
    if not session.starts_at or not session.ends_at:
        return ""
    days = (
        display.local_date(session.ends_at) - display.local_date(session.starts_at)
    ).days
    return days // 7 + 1


@functools.lru_cache(maxsize=4096)
def _summary(description):
    """A description as plain text, cut to 600 characters. Cached by its
    text: cleaning and cutting were a third of a row's cost, and the answer
    depends on nothing else (the site has one language, so one ellipsis)."""
    return Truncator(display.plain_text(description)).chars(600)


def row(session, now, lines=None):
    schedule = [
        {"days": line["days"], "time": line["time"], "dates": line["dates"]}
        for line in (display.schedule(session) if lines is None else lines)
    ]
    state = display.registration_state(session, now)
    link = display.register_link(session, now)
    status = "open" if link else "closed"
    note = display.registration_note(session, now)
    words, _level = display.availability(session)
    subcategory = session.session_class.activity.subcategory
    wait_list = 1 if session.wait_list_unlimited else session.wait_list_capacity
    return {
        "nid": str(session.pk),
        "name": session.title,
        "description": _summary(session.description or ""),
        "dates": display.session_dates(session),
        "weeks": _weeks(session),
        "schedule": schedule,
        "days": schedule[0]["days"] if schedule else "",
        "times": schedule[0]["time"] if schedule else "",
        "location": session.location.title,
        "location_id": str(session.location_id),
        "location_info": _location_info(session.location),
        "instructor": session.instructor,
        "log_id": 0,
        "price": session.price_description,
        "link": link,
        "ages": display.ages_in_words(session.min_age, session.max_age),
        "min_age": None if session.min_age is None else str(session.min_age),
        "max_age": None if session.max_age is None else str(session.max_age),
        "gender": session.gender,
        "program_id": str(subcategory.pk),
        "program_name": session.title,
        "activity_type": "",
        "offering_id": "",
        "info": [],
        "location_name": "",
        "location_address": "",
        "location_phone": "",
        "spots_available": str(session.availability),
        "availability": words,
        "availability_status": status,
        "availability_note": note,
        "registration": state,
        "status": status,
        "note": note,
        "wait_list_availability": wait_list,
        "learn_more": "",
        "more_results": "",
        "more_results_type": "program",
        "atc_info": [],
        "product_id": session.product_id or None,
    }


def _allowed_location(location, criteria):
    if criteria.limitloc and location.pk not in criteria.limitloc:
        return False
    return location.pk not in criteria.excludeloc


def facets_payload(result, catalogue, criteria):
    facets = result.facets
    locations = [loc for loc in catalogue.locations if _allowed_location(loc, criteria)]
    subcategories = [
        (program, sub)
        for program, subs in catalogue.programs
        for sub in subs
        if (not criteria.limit or sub.pk in criteria.limit)
        and sub.pk not in criteria.exclude
    ]
    program_counts = {}
    for program, sub in subcategories:
        program_counts[program.title] = program_counts.get(program.title, 0) + facets[
            "subcategories"
        ].get(sub.pk, 0)
    return {
        "locations": [
            {
                "filter": loc.title,
                "count": facets["locations"].get(loc.pk, 0),
                "id": str(loc.pk),
            }
            for loc in locations
        ],
        "field_activity_category": [
            {
                "filter": str(sub.pk),
                "count": facets["subcategories"].get(sub.pk, 0),
                "id": sub.pk,
            }
            for _program, sub in subcategories
        ],
        "field_category_program": [
            {"filter": title, "count": count} for title, count in program_counts.items()
        ],
        "days_of_week": [
            {"filter": WEEKDAYS[day - 1], "count": facets["days"][day]}
            for day in range(1, 8)
        ],
        "af_parts_of_day": [
            {"filter": str(part), "count": facets["times"][part]}
            for part in search.PARTS
        ],
        "af_weekdays_parts_of_day": [
            {"filter": str(code), "count": count}
            for code, count in facets["daystimes"].items()
        ],
        "af_ages_min_max": [
            {"filter": str(months), "count": facets["ages"][months]}
            for months, _label in catalogue.age_points
        ],
        "static_age_filter": [
            {"label": label, "value": str(months), "count": facets["ages"][months]}
            for months, label in catalogue.age_points
        ],
        "static_weeks_filter": [],
    }


def grouped_locations(catalogue, facets, criteria):
    groups = []
    for kind, label in Location.Kind.choices:
        members = [
            loc
            for loc in catalogue.locations
            if loc.kind == kind and _allowed_location(loc, criteria)
        ]
        if members:
            groups.append(
                {
                    "value": [
                        {"value": str(loc.pk), "label": loc.title} for loc in members
                    ],
                    "label": label,
                    "count": sum(facets["locations"].get(loc.pk, 0) for loc in members),
                }
            )
    return groups


# Read-only and GET-only: exempt from CSRF so that any other method gets this
# API's own JSON 405 instead of Django's HTML CSRF page.
@csrf_exempt
def get_data(request):
    if request.method != "GET":
        response = error_response(
            "method", "Only GET is allowed here.", status=405, code="method_not_allowed"
        )
        response["Allow"] = "GET"
        return response
    try:
        criteria, sort_raw = parse(request)
    except BadParameter as exc:
        logger.info("get-data refused parameter=%s", exc.parameter)
        return error_response(exc.parameter, exc.message)

    result = search.run(criteria)
    catalogue = search.catalogue()
    now = timezone.now()
    pages = result.pages
    data = {
        "count": result.count,
        "facets": facets_payload(result, catalogue, criteria),
        "pager": result.page if result.count > criteria.page_size else 0,
        "pager_info": {
            "total_pages": pages,
            "pages": {str(n): n for n in range(1, pages + 1)},
        },
        "table": [
            row(session, now, result.schedules.get(session.pk))
            for session in result.sessions
        ],
        "groupedLocations": grouped_locations(catalogue, result.facets, criteria),
        "sort": sort_raw,
    }
    return JsonResponse(data)
