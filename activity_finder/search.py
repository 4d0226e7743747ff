"""The one search behind the finder page and the JSON API.

`run(criteria)` filters the visible sessions, counts every facet option given
the other filters, sorts and cuts one page. Filtering and counting use the
in-memory bit-set index (activity_finder.index), so a search costs two
query (the page's sessions) whatever the number of options;
results are also cached under `activity_finder.cache.key()`. An import bumps
the cache version, which retires both.

Facets follow the usual multi-select rule: the counts of a group are computed
with every filter except that group's own, so choosing an option never hides
the other options of the same group.
"""

import dataclasses
import hashlib
import json
import logging
import math
import threading
import time

from django.core.cache import cache as django_cache
from django.utils import timezone

from activity_finder import cache, index
from activity_finder.age_points import AgePoint
from activity_finder.models import (
    WEEKDAYS,
    Location,
    Program,
    ProgramSubcategory,
    Session,
)

logger = logging.getLogger(__name__)

# A cached search is reused for at most this long: results depend on the clock
# too (a session that just ended, a registration window that just opened), so
# the entry expires on its own even when no import bumps the version.
CACHE_TIMEOUT = 60
DEFAULT_PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
MAX_KEYWORDS = 8

PARTS = (1, 2, 3)
PART_NAMES = {1: "Morning", 2: "Afternoon", 3: "Evening"}
PART_HINTS = {1: "before 12 PM", 2: "12 PM - 5 PM", 3: "after 5 PM"}
DAY_NAMES = {number: day.capitalize() for number, day in enumerate(WEEKDAYS, 1)}
DAYS = tuple(DAY_NAMES)

SORTS = ("title", "start_date", "start_time", "location", "relevance")


@dataclasses.dataclass(frozen=True)
class Criteria:
    """A validated search. Days are 1-7 (Monday first), times 1-3 (morning,
    afternoon, evening), daystimes (day, part) pairs where part 0 is any time.
    A session matches days and times when one of its meetings is on a chosen
    day in a chosen part of day (one slot, never a day from one slot and a
    time from another). `limit`/`exclude` restrict subcategories and
    `limitloc`/`excludeloc` locations for a whole embedding; they are not
    facet groups."""

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
        return self.keywords.lower().split()[:MAX_KEYWORDS]

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
    schedules: dict = dataclasses.field(default_factory=dict)  # pk -> lines
    elapsed_ms: float = 0.0


# The choices a visitor can pick from --------------------------------------


@dataclasses.dataclass
class Catalogue:
    version: tuple  # cache.stamp() it was built for
    age_points: list  # [(months, label)]
    locations: list  # [Location], published, by kind then title
    programs: list  # [(Program, [ProgramSubcategory])], published
    subcategory_program: dict  # subcategory id -> program id
    built_at: float = 0.0


_catalogue = None
_catalogue_lock = threading.Lock()


def catalogue():
    """Published locations, programs with subcategories, and age points; kept
    in this process until the cache version changes (every import, every
    edit of the age points) or index.MAX_AGE passes."""
    global _catalogue
    version = cache.stamp()
    found = _catalogue
    if (
        found
        and found.version == version
        and time.monotonic() - found.built_at < index.MAX_AGE
    ):
        return found
    with _catalogue_lock:
        points = [
            (point.months, point.display_label) for point in AgePoint.objects.all()
        ]
        locations = list(
            Location.objects.filter(published=True).order_by("kind", "title")
        )
        subcategories = {}
        for sub in ProgramSubcategory.objects.filter(published=True).order_by("title"):
            subcategories.setdefault(sub.program_id, []).append(sub)
        programs = [
            (program, subcategories.get(program.pk, []))
            for program in Program.objects.filter(published=True).order_by("title")
        ]
        found = Catalogue(
            version=version,
            age_points=points,
            locations=locations,
            programs=programs,
            subcategory_program={
                sub.pk: program.pk for program, subs in programs for sub in subs
            },
        )
        found.built_at = time.monotonic()
        _catalogue = found
        return found


def forget():
    """Drop this process's catalogue and index (for tests that change rows
    without an import)."""
    global _catalogue
    _catalogue = None
    index.forget()


def visible_sessions(now=None):
    """Sessions a visitor may see: not yet ended, published, with a published
    location and a published chain up to the program."""
    return Session.objects.filter(
        index.visible_chain(), ends_at__gt=now or timezone.now()
    )


# The search ------------------------------------------------------------------


def _union(masks):
    found = 0
    for mask in masks:
        found |= mask
    return found


class _Groups:
    """Each filter group's bit set, so a facet can leave its own group out."""

    def __init__(self, idx, criteria, points, now, *, exact_clock):
        c = criteria
        self.idx = idx
        visible, self.open_mask = idx.clock_masks(now, exact=exact_clock)
        base = visible
        if c.limit:
            base &= _union(idx.subcategory_masks.get(s, 0) for s in c.limit)
        if c.exclude:
            base &= ~_union(idx.subcategory_masks.get(s, 0) for s in c.exclude)
        if c.limitloc:
            base &= _union(idx.location_masks.get(loc, 0) for loc in c.limitloc)
        if c.excludeloc:
            base &= ~_union(idx.location_masks.get(loc, 0) for loc in c.excludeloc)
        if c.in_membership is True:
            base &= idx.membership_mask
        elif c.in_membership is False:
            base &= ~idx.membership_mask
        self.base = base & idx.full

        self.masks = {}
        if c.words:
            found = idx.full
            for word in c.words:
                found &= idx.keyword_mask(word)
            self.masks["keywords"] = found
        if c.ages:
            self.masks["ages"] = _union(idx.age_mask(age, points) for age in c.ages)
        self.days = c.days or DAYS
        self.times = c.times or (0,)
        self.daystimes_mask = (
            _union(idx.code_masks.get(code, 0) for code in c.daystimes)
            if c.daystimes
            else idx.full
        )
        self.meetings_mask = (
            self.meetings(self.days, self.times) if c.days or c.times else idx.full
        )
        if c.days or c.times or c.daystimes:
            self.masks["slots"] = self.meetings_mask & self.daystimes_mask
        if c.locations:
            self.masks["locations"] = _union(
                idx.location_masks.get(loc, 0) for loc in c.locations
            )
        if c.programs or c.subcategories:
            self.masks["kinds"] = _union(
                idx.subcategory_masks.get(s, 0) for s in c.subcategories
            ) | _union(idx.program_masks.get(p, 0) for p in c.programs)
        if c.open_now:
            self.masks["open"] = self.open_mask

    def meetings(self, days, times):
        return _union(
            self.idx.code_masks.get((day, part), 0) for day in days for part in times
        )

    def others(self, leave_out=None):
        found = self.base
        for group, mask in self.masks.items():
            if group != leave_out:
                found &= mask
        return found


def _facets(groups, criteria, points, catalogue_):
    idx = groups.idx
    facets = {}

    others = groups.others("ages")
    facets["ages"] = {
        months: (idx.age_mask(months, points) & others).bit_count() for months in points
    }

    others = groups.others("slots")
    facets["days"] = {
        day: (
            groups.meetings((day,), groups.times) & groups.daystimes_mask & others
        ).bit_count()
        for day in DAYS
    }
    facets["times"] = {
        part: (
            groups.meetings(groups.days, (part,)) & groups.daystimes_mask & others
        ).bit_count()
        for part in PARTS
    }
    facets["daystimes"] = {
        day * 10 + part: (
            idx.code_masks.get((day, part), 0) & groups.meetings_mask & others
        ).bit_count()
        for day in DAYS
        for part in (0, *PARTS)
    }

    others = groups.others("locations")
    facets["locations"] = {
        location.pk: (idx.location_masks.get(location.pk, 0) & others).bit_count()
        for location in catalogue_.locations
    }

    others = groups.others("kinds")
    facets["subcategories"] = {}
    facets["programs"] = {}
    for program, subs in catalogue_.programs:
        facets["programs"][program.pk] = (
            idx.program_masks.get(program.pk, 0) & others
        ).bit_count()
        for sub in subs:
            facets["subcategories"][sub.pk] = (
                idx.subcategory_masks.get(sub.pk, 0) & others
            ).bit_count()

    facets["open_now"] = (groups.open_mask & groups.others("open")).bit_count()
    return facets


# What a result card and an API row read; the rest (descriptions, hashes)
# stays in the database, which keeps the page query and its rows small.
PAGE_FIELDS = (
    "title",
    "description",
    "min_age",
    "max_age",
    "online_registration",
    "registration_link",
    "registration_opens_at",
    "registration_closes_at",
    "instructor",
    "availability",
    "unlimited_capacity",
    "price_description",
    "wait_list_capacity",
    "wait_list_unlimited",
    "gender",
    "product_id",
    "in_membership",
    "starts_at",
    "ends_at",
    "location_id",
    "session_class_id",
    "location__title",
    "location__kind",
    "location__street",
    "location__city",
    "location__state",
    "location__postal_code",
    "location__country",
    "location__phone",
    "location__email",
    "location__hours",
    "session_class__title",
    "session_class__activity__title",
    "session_class__activity__subcategory__title",
    "session_class__activity__subcategory__program__title",
)


# At most this many page sessions are kept with one index; past it the memo
# starts again, which bounds its memory whatever visitors page through.
MAX_PAGE_SESSIONS = 5000


def _load(idx, ids):
    """The page's sessions in the order of `ids`. A session's row changes
    only through an import or an admin edit, and both retire the index, so
    sessions already built for it are reused instead of queried again: the
    query and building the model instances were most of a search's cost."""
    memo = idx.page_sessions
    # A local copy, so another thread clearing the memo cannot lose a row.
    found = {pk: memo.get(pk) for pk in ids}
    missing = [pk for pk, session in found.items() if session is None]
    if missing:
        if len(memo) + len(missing) > MAX_PAGE_SESSIONS:
            memo.clear()
        # One query: the schedule lines come from the index, which an import
        # rebuilds like any other change to the times. No ORDER BY: the
        # page's order is the index's, and Session's default ordering costs a
        # sort in the database and its compilation here.
        sessions = (
            Session.objects.filter(pk__in=missing)
            .select_related(
                "location", "session_class__activity__subcategory__program"
            )
            .only(*PAGE_FIELDS)
            .order_by()
        )
        for session in sessions:
            found[session.pk] = memo[session.pk] = session
    return [found[pk] for pk in ids if found[pk] is not None]


def run(criteria, *, clamp_page=False, now=None):
    """Search: count, facets, one page of sessions (with location, chain and
    times loaded). Cached until the next import or CACHE_TIMEOUT."""
    key = cache.key(f"search:{criteria.digest()}:{int(clamp_page)}")
    # A caller that fixes the clock (tests, previews) neither reads nor fills
    # the cache, which holds answers for the real time only.
    use_cache = now is None
    if use_cache:
        found = django_cache.get(key)
        if found is not None:
            return found

    started = time.perf_counter()
    current = catalogue()
    points = [months for months, _label in current.age_points]
    idx = index.current()
    groups = _Groups(
        idx, criteria, points, now or timezone.now(), exact_clock=not use_cache
    )
    matched = groups.others()
    count = matched.bit_count()
    facets = _facets(groups, criteria, points, current)

    pages = math.ceil(count / criteria.page_size) if count else 0
    page = criteria.page
    if clamp_page:
        page = max(1, min(page, pages or 1))
    offset = (page - 1) * criteria.page_size
    sessions = []
    if offset < count:
        sort = criteria.effective_sort
        if sort == "relevance":
            order = idx.relevance_order(criteria.words)
        else:
            order = idx.orders[sort]
        positions = idx.positions(
            matched,
            order,
            descending=criteria.descending,
            offset=offset,
            limit=criteria.page_size,
        )
        sessions = _load(idx, [idx.ids[position] for position in positions])
    schedules = {session.pk: idx.schedule(session.pk) for session in sessions}

    result = SearchResult(
        criteria=criteria,
        count=count,
        page=page,
        pages=pages,
        sessions=sessions,
        facets=facets,
        schedules=schedules,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    logger.debug("search count=%s page=%s took_ms=%s", count, page, result.elapsed_ms)
    if use_cache:
        django_cache.set(key, result, timeout=CACHE_TIMEOUT)
    return result
