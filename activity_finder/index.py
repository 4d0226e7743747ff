"""An in-memory index of the visible sessions, for filtering and faceting.

Each filter option (a location, a subcategory, a day and part of day, an age
range...) is a bit set over the sessions, held as a Python int, so a facet
count is one AND and one popcount instead of a query. For 50,000 sessions a
set is 6 KB and a whole search with every facet takes well under a
millisecond; the one-off build reads three queries.

The index belongs to one cache version: activity_finder.cache.invalidate()
(called by every import and admin edit) makes the next search rebuild it, in
every process. It also rebuilds after MAX_AGE as a safety net for a change
made without invalidate(). What depends on the clock (a session that has
ended, a registration window) is computed from the index per minute.

Known cost: the first search after an import builds the index in each web
process, about 2.7 s of CPU for 44,000 visible sessions (measured on this
project's 2-core machine); that request waits for it. Nothing pre-builds it.
"""

import dataclasses
import datetime as dt
import logging
import re
import threading
import time

from django.db.models import BooleanField as BooleanOutput
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from activity_finder import cache
from activity_finder.models import WEEKDAYS, Class, Session, SessionTime

logger = logging.getLogger(__name__)

MAX_AGE = 15 * 60
KEYWORD_MEMO = 256
# Up to this many matches, a page is cut from the sorted matches instead of
# by walking a whole sort order.
SPARSE = 5000
NOON = dt.time(12, 0)
FIVE_PM = dt.time(17, 0)
_TAGS = re.compile(r"<[^>]*>")


def parts_of_day(start, end):
    """Parts a time slot touches, as half-open overlaps: morning before 12:00,
    afternoon 12:00 to 17:00, evening after 17:00. A slot ending at 12:00 is
    morning only; one starting at 17:00 is evening only; an end before the
    start runs past midnight."""
    overnight = end < start
    parts = set()
    if start < NOON:
        parts.add(1)
    if start < FIVE_PM and (end > NOON or overnight):
        parts.add(2)
    if end > FIVE_PM or start >= FIVE_PM or overnight:
        parts.add(3)
    return parts


def age_matches(low, high, months, points):
    """Whether a session for ages low..high (months, None = no limit) is for a
    child of `months`. A session narrower than the gap between two points
    also matches the point nearest to it (the lower one on a tie), so the age
    picker never leaves it out of reach."""
    lo = low or 0
    if lo <= months and (high is None or high >= months):
        return True
    if months not in points:
        return False
    if any(lo <= point and (high is None or point <= high) for point in points):
        return False  # another point is inside the range
    index = points.index(months)
    lower = points[index - 1] if index > 0 else None
    upper = points[index + 1] if index + 1 < len(points) else None
    if high is not None and high < months:
        # Below this point: nearest unless the lower point is as near.
        return lower is None or (lo > lower and months - high < lo - lower)
    if lo > months:
        return upper is None or (
            high is not None and high < upper and lo - months <= upper - high
        )
    return False


def _set_bits(mask):
    """The positions of the set bits, lowest first (a byte scan: zero bytes,
    the common case, cost one comparison)."""
    found = []
    data = mask.to_bytes((mask.bit_length() + 7) // 8 or 1, "little")
    for offset, byte in enumerate(data):
        if byte:
            base = offset << 3
            found.extend(base + bit for bit in range(8) if byte >> bit & 1)
    return found


def _mask(positions, size):
    bits = bytearray((size + 7) // 8)
    for position in positions:
        bits[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(bits, "little")


def _text(*parts):
    return " ".join(_TAGS.sub(" ", part or "") for part in parts).lower()


@dataclasses.dataclass
class Index:
    version: tuple  # cache.stamp() it was built for
    built_at: float
    ids: list  # session pk per position
    size: int
    full: int
    ends: list  # ends_at per position (aware datetime)
    opens: list
    closes: list
    registrable: list  # online registration with a link
    titles: list  # lower-case session titles (relevance)
    texts: list  # lower-case session title and description
    class_of: list
    class_titles: dict  # class id -> lower-case title
    class_texts: dict  # class id -> lower-case text of the chain
    location_masks: dict
    subcategory_masks: dict
    program_masks: dict
    code_masks: dict  # (day 1-7, part 0-3) -> sessions with a slot then
    age_ranges: dict  # (min, max) -> mask
    membership_mask: int
    orders: dict  # sort name -> positions in ascending order
    slots: dict  # session pk -> [(start, end, start_time, end_time, days)]
    _schedules: dict = dataclasses.field(default_factory=dict)
    _ranks: dict = dataclasses.field(default_factory=dict)
    # session pk -> the Session a result page shows (see search._load); it
    # lives and dies with the index, so every import and edit retires it.
    page_sessions: dict = dataclasses.field(default_factory=dict)
    _relevance: dict = dataclasses.field(default_factory=dict)
    _ages: dict = dataclasses.field(default_factory=dict)
    _keywords: dict = dataclasses.field(default_factory=dict)
    _clock: tuple = (None, 0, 0)

    def age_mask(self, months, points):
        key = (months, tuple(points))
        if key not in self._ages:
            found = 0
            for (low, high), mask in self.age_ranges.items():
                if age_matches(low, high, months, points):
                    found |= mask
            self._ages[key] = found
        return self._ages[key]

    def schedule(self, pk):
        """The session's schedule lines (display.schedule_line), memoised."""
        if pk not in self._schedules:
            from activity_finder.display import slot_line

            self._schedules[pk] = [slot_line(*slot) for slot in self.slots.get(pk, [])]
        return self._schedules[pk]

    def keyword_mask(self, word):
        if word not in self._keywords:
            classes = {cid for cid, text in self.class_texts.items() if word in text}
            positions = [
                i
                for i, text in enumerate(self.texts)
                if self.class_of[i] in classes or word in text
            ]
            if len(self._keywords) >= KEYWORD_MEMO:
                self._keywords.clear()
            self._keywords[word] = _mask(positions, self.size)
        return self._keywords[word]

    def clock_masks(self, now, *, exact=False):
        """(visible, open now) at `now`: sessions not yet ended, and those
        whose online registration window holds `now`. Reused for a minute
        unless `exact`."""
        minute = int(now.timestamp() // 60)
        if not exact and self._clock[0] == minute:
            return self._clock[1], self._clock[2]
        visible = []
        open_now = []
        for i in range(self.size):
            if self.ends[i] > now:
                visible.append(i)
            if (
                self.registrable[i]
                and (self.opens[i] is None or self.opens[i] <= now)
                and (self.closes[i] is None or self.closes[i] >= now)
            ):
                open_now.append(i)
        masks = (_mask(visible, self.size), _mask(open_now, self.size))
        if not exact:
            self._clock = (minute, *masks)
        return masks

    def positions(self, mask, order, *, descending=False, offset=0, limit=25):
        """Positions set in `mask`, in `order`, from `offset`, at most `limit`."""
        count = mask.bit_count()
        if count <= SPARSE:
            # Few matches: pick them out of the set and sort them, rather
            # than walk the whole order looking for them.
            rank = self._rank(order)
            found = sorted(_set_bits(mask), key=rank.__getitem__, reverse=descending)
            return found[offset : offset + limit]
        bits = mask.to_bytes((self.size + 7) // 8 or 1, "little")
        sequence = reversed(order) if descending else order
        found = []
        skipped = 0
        for position in sequence:
            if bits[position >> 3] >> (position & 7) & 1:
                if skipped < offset:
                    skipped += 1
                    continue
                found.append(position)
                if len(found) >= limit:
                    break
        return found

    def _rank(self, order):
        entry = self._ranks.get(id(order))
        if entry is None or entry[0] is not order:
            rank = [0] * self.size
            for n, position in enumerate(order):
                rank[position] = n
            entry = self._ranks[id(order)] = (order, rank)
        return entry[1]

    def relevance_order(self, words):
        """Sessions holding every word, best first: a word in the session
        title counts 4, in the class title 2; ties by title. Memoised per
        set of words; other filters then pick from it."""
        key = tuple(words)
        if key not in self._relevance:
            mask = self.full
            for word in words:
                mask &= self.keyword_mask(word)
            rank = self._rank(self.orders["title"])
            scored = _set_bits(mask)
            titles, class_titles, class_of = (
                self.titles,
                self.class_titles,
                self.class_of,
            )
            scored.sort(
                key=lambda i: (
                    -sum(
                        (4 if word in titles[i] else 0)
                        + (2 if word in class_titles.get(class_of[i], "") else 0)
                        for word in words
                    ),
                    rank[i],
                )
            )
            if len(self._relevance) >= KEYWORD_MEMO:
                self._relevance.clear()
            self._relevance[key] = scored
        return self._relevance[key]


def visible_chain():
    """Published sessions with a published location and chain up to the program."""
    return Q(
        published=True,
        location__published=True,
        session_class__published=True,
        session_class__activity__published=True,
        session_class__activity__subcategory__published=True,
        session_class__activity__subcategory__program__published=True,
    )


def build(version):
    started = time.perf_counter()
    now = timezone.now()
    rows = list(
        Session.objects.filter(visible_chain(), ends_at__gt=now)
        .annotate(
            has_link=Case(
                When(registration_link="", then=Value(False)),
                default=Value(True),
                output_field=BooleanOutput(),
            )
        )
        .order_by()
        .values_list(
            "pk",
            "location_id",
            "session_class_id",
            "session_class__activity__subcategory_id",
            "session_class__activity__subcategory__program_id",
            "min_age",
            "max_age",
            "starts_at",
            "ends_at",
            "online_registration",
            "has_link",
            "registration_opens_at",
            "registration_closes_at",
            "in_membership",
            "title",
            "description",
            "location__title",
        )
    )
    size = len(rows)
    position_of = {row[0]: i for i, row in enumerate(rows)}

    locations, subcategories, programs, ranges = {}, {}, {}, {}
    membership = []
    for i, row in enumerate(rows):
        locations.setdefault(row[1], []).append(i)
        subcategories.setdefault(row[3], []).append(i)
        programs.setdefault(row[4], []).append(i)
        ranges.setdefault((row[5], row[6]), []).append(i)
        if row[13]:
            membership.append(i)

    codes = {}
    first_time = [dt.time(23, 59, 59)] * size
    slot_rows = {}
    slots = SessionTime.objects.filter(
        session__in=Session.objects.filter(visible_chain(), ends_at__gt=now)
    ).values_list(
        "session_id", "start_time", "end_time", "start", "end", "pk", *WEEKDAYS
    )
    for (
        session_id,
        start,
        end,
        begins,
        finishes,
        pk,
        *days,
    ) in slots.order_by().iterator(chunk_size=5000):
        i = position_of.get(session_id)
        if i is None:
            continue
        names = [WEEKDAYS[n] for n, meets in enumerate(days) if meets]
        slot_rows.setdefault(session_id, []).append(
            (begins, pk, finishes, start, end, names)
        )
        if start < first_time[i]:
            first_time[i] = start
        parts = parts_of_day(start, end)
        for number, meets in enumerate(days, 1):
            if meets:
                codes.setdefault((number, 0), set()).add(i)
                for part in parts:
                    codes.setdefault((number, part), set()).add(i)

    class_ids = {row[2] for row in rows}
    class_titles, class_texts = {}, {}
    for pk, *texts in (
        Class.objects.filter(pk__in=class_ids)
        .values_list(
            "pk",
            "title",
            "description",
            "activity__title",
            "activity__description",
            "activity__subcategory__title",
            "activity__subcategory__description",
            "activity__subcategory__program__title",
            "activity__subcategory__program__description",
        )
        .iterator(chunk_size=2000)
    ):
        class_titles[pk] = (texts[0] or "").lower()
        class_texts[pk] = _text(*texts)

    for rows_of_session in slot_rows.values():
        rows_of_session.sort(key=lambda slot: (slot[0], slot[1]))
    by_title = sorted(range(size), key=lambda i: (rows[i][14].lower(), rows[i][0]))
    rank = {position: n for n, position in enumerate(by_title)}
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    index = Index(
        version=version,
        built_at=time.monotonic(),
        ids=[row[0] for row in rows],
        size=size,
        full=(1 << size) - 1,
        ends=[row[8] for row in rows],
        opens=[row[11] for row in rows],
        closes=[row[12] for row in rows],
        registrable=[bool(row[9] and row[10]) for row in rows],
        titles=[row[14].lower() for row in rows],
        texts=[_text(row[14], row[15]) for row in rows],
        class_of=[row[2] for row in rows],
        class_titles=class_titles,
        class_texts=class_texts,
        location_masks={k: _mask(v, size) for k, v in locations.items()},
        subcategory_masks={k: _mask(v, size) for k, v in subcategories.items()},
        program_masks={k: _mask(v, size) for k, v in programs.items()},
        code_masks={k: _mask(v, size) for k, v in codes.items()},
        age_ranges={k: _mask(v, size) for k, v in ranges.items()},
        membership_mask=_mask(membership, size),
        orders={
            "title": by_title,
            "start_date": sorted(
                range(size), key=lambda i: (rows[i][7] or far, rank[i])
            ),
            "start_time": sorted(range(size), key=lambda i: (first_time[i], rank[i])),
            "location": sorted(
                range(size), key=lambda i: ((rows[i][16] or "").lower(), rank[i])
            ),
        },
        slots={
            pk: [(b, f, st, et, names) for b, _pk, f, st, et, names in found]
            for pk, found in slot_rows.items()
        },
    )
    logger.info(
        "finder index built sessions=%s version=%s took_ms=%.0f",
        size,
        version,
        (time.perf_counter() - started) * 1000,
    )
    return index


_current = None
_lock = threading.Lock()


def current():
    """The index for the current cache stamp, built on first use."""
    global _current
    version = cache.stamp()
    found = _current
    if (
        found
        and found.version == version
        and time.monotonic() - found.built_at < MAX_AGE
    ):
        return found
    with _lock:
        found = _current
        if (
            found
            and found.version == version
            and time.monotonic() - found.built_at < MAX_AGE
        ):
            return found
        _current = build(version)
        return _current


def forget():
    """Drop this process's index (tests that edit rows without an import)."""
    global _current
    _current = None
