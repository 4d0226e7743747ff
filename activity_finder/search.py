"""The one query behind the finder page and the JSON API.

`run(criteria)` filters the visible sessions, counts every facet option given
the other filters, sorts and cuts one page. Facet counts are aggregate queries
(one per filter group, never one per option), so a search costs a fixed
handful of queries whatever the number of locations or programs. Results are
cached under `activity_finder.cache.key()`; an import bumps the cache version.

Facets follow the usual multi-select rule: the counts of a group are computed
with every filter except that group's own, so choosing an option never hides
the other options of the same group.
"""

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import time

from django.core.cache import cache as django_cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from activity_finder import cache
from activity_finder.age_points import AgePoint
from activity_finder.models import (
    WEEKDAYS,
    Class,
    Location,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)

logger = logging.getLogger(__name__)

# A cached search is reused for at most this long: results depend on the clock
# too (a session that just ended, a registration window that just opened), so
# the entry expires on its own even when no import bumps the version.
CACHE_TIMEOUT = 60
DEFAULT_PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
MAX_KEYWORDS = 8

NOON = dt.time(12, 0)
FIVE_PM = dt.time(17, 0)

# Parts of day, matched on one time slot as half-open overlaps: morning is
# before 12:00, afternoon 12:00 to 17:00, evening after 17:00. A slot that ends
# at 12:00 is morning only; one that starts at 17:00 is evening only. A slot
# whose end is before its start runs past midnight.
_OVERNIGHT = Q(end_time__lt=F("start_time"))
PARTS = {
    1: Q(start_time__lt=NOON),
    2: Q(start_time__lt=FIVE_PM) & (Q(end_time__gt=NOON) | _OVERNIGHT),
    3: Q(end_time__gt=FIVE_PM) | Q(start_time__gte=FIVE_PM) | _OVERNIGHT,
}
PART_NAMES = {1: "Morning", 2: "Afternoon", 3: "Evening"}
PART_HINTS = {1: "before 12 PM", 2: "12 PM - 5 PM", 3: "after 5 PM"}
DAY_NAMES = {number: day.capitalize() for number, day in enumerate(WEEKDAYS, 1)}

SORTS = ("title", "start_date", "start_time", "location", "relevance")


@dataclasses.dataclass(frozen=True)
class Criteria:
    """A validated search. Days are 1-7 (Monday first), times 1-3 (morning,
    afternoon, evening), daystimes (day, part) pairs where part 0 is any time.
    `limit`/`exclude` restrict subcategories and `limitloc`/`excludeloc`
    locations for a whole embedding; they are not facet groups."""

    keywords: str = ""
    ages: tuple = ()
    days: tuple = ()
    times: tuple = ()
    daystimes: tuple = ()
    locations: tuple = ()
    programs: tuple = ()
    subcategories: tuple = ()
    limit: tuple = ()
    exclude: tuple = ()
    limitloc: tuple = ()
    excludeloc: tuple = ()
    open_now: bool = False
    in_membership: object = None  # None: either; True/False: Open Y's flag
    sort: str = ""
    descending: bool = False
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def words(self):
        return self.keywords.split()[:MAX_KEYWORDS]

    @property
    def effective_sort(self):
        if self.sort == "relevance" and not self.words:
            return "start_date"
        if self.sort:
            return self.sort
        return "relevance" if self.words else "start_date"

    def digest(self):
        payload = json.dumps(dataclasses.asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclasses.dataclass
class SearchResult:
    criteria: Criteria
    count: int
    page: int
    pages: int
    sessions: list
    facets: dict
    elapsed_ms: float = 0.0


# The choices a visitor can pick from --------------------------------------


@dataclasses.dataclass
class Catalogue:
    age_points: list  # [(months, label)]
    locations: list  # [Location], published, by kind then title
    programs: list  # [(Program, [ProgramSubcategory])], published
    subcategory_program: dict  # subcategory id -> program id


def catalogue():
    """Published locations, programs with subcategories, and age points;
    cached until the next import (or an edit of the age points)."""
    key = cache.key("catalogue")
    found = django_cache.get(key)
    if found is not None:
        return found
    points = [(point.months, point.display_label) for point in AgePoint.objects.all()]
    locations = list(Location.objects.filter(published=True).order_by("kind", "title"))
    subcategories = {}
    for sub in ProgramSubcategory.objects.filter(published=True).order_by("title"):
        subcategories.setdefault(sub.program_id, []).append(sub)
    programs = [
        (program, subcategories.get(program.pk, []))
        for program in Program.objects.filter(published=True).order_by("title")
    ]
    found = Catalogue(
        age_points=points,
        locations=locations,
        programs=programs,
        subcategory_program={
            sub.pk: program.pk for program, subs in programs for sub in subs
        },
    )
    django_cache.set(key, found, timeout=None)
    return found


# Building blocks -----------------------------------------------------------


def visible_sessions(now=None):
    """Sessions a visitor may see: not yet ended, published, with a published
    location and a published chain up to the program."""
    now = now or timezone.now()
    return Session.objects.filter(
        published=True,
        ends_at__gt=now,
        location__published=True,
        session_class__published=True,
        session_class__activity__published=True,
        session_class__activity__subcategory__published=True,
        session_class__activity__subcategory__program__published=True,
    )


def _any(conditions):
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined


def _day(number):
    return Q(**{WEEKDAYS[number - 1]: True})


def slot_condition(days=(), times=(), daystimes=()):
    """What one SessionTime must satisfy; a session matches when one of its
    slots does (never a day from one slot and a time from another)."""
    condition = Q()
    if days:
        condition &= _any(_day(day) for day in days)
    if times:
        condition &= _any(PARTS[part] for part in times)
    if daystimes:
        condition &= _any(
            _day(day) & PARTS[part] if part else _day(day) for day, part in daystimes
        )
    return condition


def age_condition(months, points):
    """Sessions for a child of `months`: the age falls inside the range (a
    blank limit is none). A session narrower than the gap between two points
    also matches the nearest point (the lower one on a tie), so it is never
    out of reach of the age picker."""
    inside = (Q(min_age__isnull=True) | Q(min_age__lte=months)) & (
        Q(max_age__isnull=True) | Q(max_age__gte=months)
    )
    if months not in points:
        return inside
    index = points.index(months)
    lower = points[index - 1] if index > 0 else None
    upper = points[index + 1] if index + 1 < len(points) else None
    # Below this point and above the lower one, closer to this point:
    # months - max < min - lower, i.e. min + max > months + lower.
    below = Q(max_age__lt=months)
    if lower is not None:
        below &= Q(min_age__gt=lower) & Q(
            GreaterThan(F("min_age") + F("max_age"), months + lower)
        )
    # Above this point and below the upper one, at least as close to it.
    above = Q(min_age__gt=months)
    if upper is not None:
        above &= Q(max_age__lt=upper) & Q(
            LessThanOrEqual(F("min_age") + F("max_age"), months + upper)
        )
    return inside | below | above


def open_condition(now):
    return (
        Q(online_registration=True)
        & ~Q(registration_link="")
        & (Q(registration_opens_at__isnull=True) | Q(registration_opens_at__lte=now))
        & (Q(registration_closes_at__isnull=True) | Q(registration_closes_at__gte=now))
    )


def keyword_condition(word):
    chain = Class.objects.filter(
        Q(title__icontains=word)
        | Q(description__icontains=word)
        | Q(activity__title__icontains=word)
        | Q(activity__description__icontains=word)
        | Q(activity__subcategory__title__icontains=word)
        | Q(activity__subcategory__description__icontains=word)
        | Q(activity__subcategory__program__title__icontains=word)
        | Q(activity__subcategory__program__description__icontains=word)
    ).values("pk")
    return (
        Q(title__icontains=word)
        | Q(description__icontains=word)
        | Q(session_class__in=chain)
    )


def _relevance(words):
    score = Value(0)
    for word in words:
        score = (
            score
            + Case(When(title__icontains=word, then=Value(4)), default=Value(0))
            + Case(
                When(session_class__title__icontains=word, then=Value(2)),
                default=Value(0),
            )
            + Case(When(description__icontains=word, then=Value(1)), default=Value(0))
        )
    return score


class _Filters:
    """The filter of each group, so a facet can leave its own group out."""

    GROUPS = ("keywords", "ages", "slots", "locations", "kinds", "open", "fixed")

    def __init__(self, criteria, points, now):
        self.criteria = criteria
        self.now = now
        c = criteria
        self.by_group = {}
        if c.words:
            condition = Q()
            for word in c.words:
                condition &= keyword_condition(word)
            self.by_group["keywords"] = condition
        if c.ages:
            self.by_group["ages"] = _any(age_condition(age, points) for age in c.ages)
        if c.days or c.times or c.daystimes:
            self.by_group["slots"] = Exists(
                SessionTime.objects.filter(session=OuterRef("pk")).filter(
                    slot_condition(c.days, c.times, c.daystimes)
                )
            )
        if c.locations:
            self.by_group["locations"] = Q(location_id__in=c.locations)
        if c.programs or c.subcategories:
            kinds = Q()
            if c.subcategories:
                kinds |= Q(session_class__activity__subcategory_id__in=c.subcategories)
            if c.programs:
                kinds |= Q(session_class__activity__subcategory__program_id__in=c.programs)
            self.by_group["kinds"] = kinds
        if c.open_now:
            self.by_group["open"] = open_condition(now)
        fixed = Q()
        if c.limit:
            fixed &= Q(session_class__activity__subcategory_id__in=c.limit)
        if c.exclude:
            fixed &= ~Q(session_class__activity__subcategory_id__in=c.exclude)
        if c.limitloc:
            fixed &= Q(location_id__in=c.limitloc)
        if c.excludeloc:
            fixed &= ~Q(location_id__in=c.excludeloc)
        if c.in_membership is not None:
            fixed &= Q(in_membership=c.in_membership)
        if fixed:
            self.by_group["fixed"] = fixed

    def queryset(self, *, leave_out=()):
        queryset = visible_sessions(self.now)
        for group, condition in self.by_group.items():
            if group not in leave_out:
                queryset = queryset.filter(condition)
        return queryset


# The search ------------------------------------------------------------------


def _facets(filters, points, *, daystimes_facet):
    c = filters.criteria
    facets = {}

    # Ages: one aggregate with a filtered count per point.
    if points:
        totals = (
            filters.queryset(leave_out=("ages",))
            .order_by()
            .aggregate(
                **{
                    f"age_{months}": Count("pk", filter=age_condition(months, points))
                    for months in points
                }
            )
        )
        facets["ages"] = {months: totals[f"age_{months}"] for months in points}
    else:
        facets["ages"] = {}

    # Days and parts of day: per session, whether one slot matches each option
    # (with the other slot filters), then a sum over sessions. One query.
    flags = {}
    for day in range(1, 8):
        flags[f"day_{day}"] = _day(day) & slot_condition((), c.times, c.daystimes)
    for part in PARTS:
        flags[f"part_{part}"] = PARTS[part] & slot_condition(c.days, (), c.daystimes)
    if daystimes_facet:
        for day in range(1, 8):
            for part in range(4):
                code = (day, part)
                flags[f"dt_{day}{part}"] = slot_condition((), (), (code,)) & (
                    slot_condition(c.days, c.times, ())
                )
    per_session = (
        SessionTime.objects.filter(
            session__in=filters.queryset(leave_out=("slots",)).order_by().values("pk")
        )
        .order_by()
        .values("session_id")
        .annotate(
            **{
                name: Max(Case(When(flag, then=1), default=0, output_field=IntegerField()))
                for name, flag in flags.items()
            }
        )
    )
    sums = per_session.aggregate(**{f"{name}_n": Sum(name) for name in flags})
    facets["days"] = {day: sums[f"day_{day}_n"] or 0 for day in range(1, 8)}
    facets["times"] = {part: sums[f"part_{part}_n"] or 0 for part in PARTS}
    if daystimes_facet:
        facets["daystimes"] = {
            day * 10 + part: sums[f"dt_{day}{part}_n"] or 0
            for day in range(1, 8)
            for part in range(4)
        }

    rows = (
        filters.queryset(leave_out=("locations",))
        .order_by()
        .values("location_id")
        .annotate(n=Count("pk"))
    )
    facets["locations"] = {row["location_id"]: row["n"] for row in rows}

    rows = (
        filters.queryset(leave_out=("kinds",))
        .order_by()
        .values("session_class__activity__subcategory_id")
        .annotate(n=Count("pk"))
    )
    facets["subcategories"] = {
        row["session_class__activity__subcategory_id"]: row["n"] for row in rows
    }
    return facets


def _ordered(queryset, criteria):
    sort = criteria.effective_sort
    if sort == "relevance":
        queryset = queryset.annotate(relevance=_relevance(criteria.words))
        fields = ["-relevance", "title", "pk"]
    elif sort == "start_time":
        queryset = queryset.annotate(first_time=Min("times__start_time"))
        fields = ["first_time", "title", "pk"]
    elif sort == "location":
        fields = ["location__title", "title", "pk"]
    elif sort == "start_date":
        fields = ["starts_at", "title", "pk"]
    else:
        fields = ["title", "pk"]
    if criteria.descending:
        fields = [f[1:] if f.startswith("-") else f"-{f}" for f in fields]
    return queryset.order_by(*fields)


def run(criteria, *, daystimes_facet=False, clamp_page=False, now=None):
    """Search: count, facets, one page of sessions (with location, chain and
    times loaded). Cached until the next import or CACHE_TIMEOUT."""
    key = cache.key(
        f"search:{criteria.digest()}:{int(daystimes_facet)}:{int(clamp_page)}"
    )
    # A caller that fixes the clock (tests, previews) neither reads nor fills
    # the cache, which holds answers for the real time only.
    use_cache = now is None
    if use_cache:
        found = django_cache.get(key)
        if found is not None:
            return found

    started = time.perf_counter()
    now = now or timezone.now()
    points = [months for months, _label in catalogue().age_points]
    filters = _Filters(criteria, points, now)

    open_now = open_condition(now)
    totals = (
        filters.queryset(leave_out=("open",))
        .order_by()
        .aggregate(
            total=Count("pk", filter=open_now) if criteria.open_now else Count("pk"),
            open=Count("pk", filter=open_now),
        )
    )
    count = totals["total"]
    facets = _facets(filters, points, daystimes_facet=daystimes_facet)
    facets["open_now"] = totals["open"]
    subcategory_program = catalogue().subcategory_program
    programs = {}
    for sub_id, n in facets["subcategories"].items():
        program_id = subcategory_program.get(sub_id)
        if program_id is not None:
            programs[program_id] = programs.get(program_id, 0) + n
    facets["programs"] = programs

    pages = math.ceil(count / criteria.page_size) if count else 0
    page = criteria.page
    if clamp_page:
        page = max(1, min(page, pages or 1))
    offset = (page - 1) * criteria.page_size
    sessions = []
    if offset < count:
        sessions = list(
            _ordered(filters.queryset(), criteria)
            .select_related(
                "location", "session_class__activity__subcategory__program"
            )
            .prefetch_related(
                Prefetch("times", queryset=SessionTime.objects.order_by("start", "pk"))
            )[offset : offset + criteria.page_size]
        )

    result = SearchResult(
        criteria=criteria,
        count=count,
        page=page,
        pages=pages,
        sessions=sessions,
        facets=facets,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    logger.info(
        "search count=%s page=%s took_ms=%s", count, page, result.elapsed_ms
    )
    if use_cache:
        django_cache.set(key, result, timeout=CACHE_TIMEOUT)
    return result
