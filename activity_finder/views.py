"""The finder page, the session page and its calendar file. Views stay thin:
the form validates, search.run() does the work, the templates render it."""

import json
import logging
from html import escape

import nh3
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from activity_finder import calendar, display, search
from activity_finder.forms import SearchForm
from activity_finder.models import Location

logger = logging.getLogger(__name__)

FILTER_KEYS = (
    "keywords",
    "ages",
    "days",
    "times",
    "locations",
    "programs",
    "categories",
    "open",
)


def _url(pairs):
    query = urlencode(pairs)
    return f"?{query}" if query else "?"


def _pairs(querydict, *, drop_page=True):
    return [
        (key, value)
        for key, values in querydict.lists()
        for value in values
        if value != "" and not (drop_page and key == "page")
    ]


def card(session, now, schedule=None, url=None):
    words, level = display.availability(session)
    return {
        "session": session,
        "url": url or session.get_absolute_url(),
        "dates": display.session_dates(session),
        "schedule": display.schedule(session) if schedule is None else schedule,
        "location": session.location,
        "ages": display.ages_in_words(session.min_age, session.max_age),
        "availability": words,
        "availability_level": level,
        "register_url": display.register_link(session, now),
        "registration_note": display.registration_note(session, now),
        "program": session.session_class.activity.subcategory.program,
        "subcategory": session.session_class.activity.subcategory,
    }


def _e(value):
    """The template engine's escaping (conditional_escape) without its lazy
    wrapper, which costs more than the escaping on a page of 25 cards."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def card_html(card):
    """One result card, exactly as the template loop wrote it. Built in
    Python: 25 cards through the template engine cost more than the whole
    search behind them. Every value is escaped here."""
    session, location = card["session"], card["location"]
    lines = card["schedule"]
    if len(lines) > 1:
        schedule = "".join(
            f"<li>{_e(line['days'])}, {_e(line['time'])} ({_e(line['dates'])})</li>"
            for line in lines
        )
    else:
        schedule = "".join(
            f"<li>{_e(line['days'])}, {_e(line['time'])}</li>" for line in lines
        )
    title = _e(session.title)
    address = location.address
    place = _e(location.title) + (f", {_e(address)}" if address else "")
    price = (
        f"<dt>Price</dt><dd>{_e(session.price_description)}</dd>"
        if session.price_description
        else ""
    )
    instructor = (
        f"<dt>Instructor</dt><dd>{_e(session.instructor)}</dd>"
        if session.instructor
        else ""
    )
    if card["register_url"]:
        action = (
            f'<a class="button" href="{_e(card["register_url"])}" data-register>'
            f'Register<span class="visually-hidden"> for {title}</span></a>'
        )
    elif card["registration_note"]:
        action = f'<span class="note">{_e(card["registration_note"])}</span>'
    else:
        action = ""
    return CARD_HTML.format(
        pk=_e(session.pk),
        url=_e(card["url"]),
        title=title,
        program=_e(card["program"].title),
        subcategory=_e(card["subcategory"].title),
        dates=_e(card["dates"]),
        schedule=schedule,
        place=place,
        ages=_e(card["ages"]),
        price=price,
        instructor=instructor,
        level=_e(card["availability_level"]),
        availability=_e(card["availability"]),
        action=action,
    )


# The card's markup, whitespace included, as the template loop produced it.
CARD_HTML = """
  <li class="card">
    <article aria-labelledby="session-{pk}">
      <h3 id="session-{pk}"><a href="{url}">{title}</a></h3>
      <p class="kind">{program} &middot; {subcategory}</p>
      <dl>
        <dt>Dates</dt><dd>{dates}</dd>
        <dt>Schedule</dt><dd><ul class="schedule">{schedule}</ul></dd>
        <dt>Location</dt><dd>{place}</dd>
        <dt>Ages</dt><dd>{ages}</dd>
        {price}
        {instructor}
        <dt>Availability</dt><dd><span class="availability \
availability-{level}">{availability}</span></dd>
      </dl>
      <p class="card-actions">
        <a href="{url}">Details<span class="visually-hidden"> for {title}</span></a>
        {action}
      </p>
    </article>
  </li>
"""


def option_html(option):
    """One filter checkbox. Built in Python rather than with an included
    template: the panel has one per location, program, subcategory and age
    point, and an include per option costs more than the whole search.
    Every value is escaped here."""
    ident = escape(option["id"])
    flags = (" checked" if option["checked"] else "") + (
        " disabled" if option["disabled"] else ""
    )
    extra = ""
    if option.get("hint"):
        extra += f" <span class=hint>({escape(option['hint'])})</span>"
    if option["count"] is not None:
        extra += f" <span class=count>({option['count']})</span>"
    return (
        f'<li class="option{" is-empty" if option["disabled"] else ""}">'
        f'<input type="checkbox" id="{ident}" name="{escape(option["name"])}"'
        f' value="{escape(str(option["value"]))}"{flags}>'
        f'<label for="{ident}">{escape(option["label"])}{extra}</label></li>'
    )


def options_html(options):
    return mark_safe("".join(option_html(option) for option in options))


def _option(field, value, label, counts, chosen, prefix):
    count = counts.get(value, 0) if counts is not None else None
    return {
        "id": f"{prefix}-{value}",
        "name": field,
        "value": value,
        "label": label,
        "count": count,
        "checked": value in chosen,
        # A zero option stays visible but cannot be chosen; a chosen one can
        # always be unchosen.
        "disabled": count == 0 and value not in chosen,
    }


def filter_panel(catalogue, criteria, facets):
    """The filter groups with each option's count given the other filters."""
    f = facets or {}
    counts = (lambda name: f.get(name)) if facets is not None else (lambda name: None)
    c = criteria or search.Criteria()
    ages = [
        _option("ages", months, label, counts("ages"), c.ages, "age")
        for months, label in catalogue.age_points
    ]
    days = [
        _option("days", n, name, counts("days"), c.days, "day")
        for n, name in search.DAY_NAMES.items()
    ]
    times = [
        dict(
            _option("times", n, name, counts("times"), c.times, "time"),
            hint=search.PART_HINTS[n],
        )
        for n, name in search.PART_NAMES.items()
    ]
    kinds = []
    for kind, label in Location.Kind.choices:
        options = [
            dict(
                _option(
                    "locations",
                    loc.pk,
                    loc.title,
                    counts("locations"),
                    c.locations,
                    "location",
                ),
            )
            for loc in catalogue.locations
            if loc.kind == kind
        ]
        if options:
            kinds.append({"label": label, "options": options})
    programs = []
    for program, subs in catalogue.programs:
        programs.append(
            {
                "option": _option(
                    "programs",
                    program.pk,
                    program.title,
                    counts("programs"),
                    c.programs,
                    "program",
                ),
                "options": [
                    _option(
                        "categories",
                        sub.pk,
                        sub.title,
                        counts("subcategories"),
                        c.subcategories,
                        "category",
                    )
                    for sub in subs
                ],
            }
        )
    open_count = f.get("open_now") if facets is not None else None
    for group in kinds:
        group["html"] = options_html(group["options"])
    for program in programs:
        program["html"] = mark_safe(option_html(program["option"]))
        program["options_html"] = options_html(program["options"])
    return {
        "ages": options_html(ages),
        "days": options_html(days),
        "times": options_html(times),
        "locations": kinds,
        "programs": programs,
        "open": mark_safe(
            option_html(
                {
                    "id": "open-now",
                    "name": "open",
                    "value": "1",
                    "label": "Registration open now",
                    "count": open_count,
                    "checked": c.open_now,
                    "disabled": open_count == 0 and not c.open_now,
                }
            )
        ),
    }


def active_filters(request, catalogue):
    """Each active filter with the URL that drops it."""
    names = {
        "ages": dict(catalogue.age_points),
        "days": search.DAY_NAMES,
        "times": search.PART_NAMES,
        "locations": {loc.pk: loc.title for loc in catalogue.locations},
        "programs": {p.pk: p.title for p, _subs in catalogue.programs},
        "categories": {s.pk: s.title for _p, subs in catalogue.programs for s in subs},
    }
    headings = {
        "keywords": "Keywords",
        "ages": "Age",
        "days": "Day",
        "times": "Time",
        "locations": "Location",
        "programs": "Program",
        "categories": "Activity",
        "open": "Registration open now",
    }
    pairs = _pairs(request.GET)
    active = []
    for index, (key, value) in enumerate(pairs):
        if key not in FILTER_KEYS:
            continue
        if key == "open":
            label = headings["open"]
        elif key == "keywords":
            label = f"Keywords: {value}"
        else:
            try:
                label = f"{headings[key]}: {names[key][int(value)]}"
            except (ValueError, KeyError):
                label = f"{headings[key]}: {value}"
        rest = pairs[:index] + pairs[index + 1 :]
        active.append({"label": label, "remove_url": _url(rest)})
    return active


def pagination(request, result):
    if not result or result.pages <= 1:
        return None
    pairs = _pairs(request.GET)

    def page_url(number):
        return _url(pairs + ([("page", number)] if number > 1 else []))

    first = max(1, result.page - 2)
    last = min(result.pages, result.page + 2)
    return {
        "previous": page_url(result.page - 1) if result.page > 1 else None,
        "next": page_url(result.page + 1) if result.page < result.pages else None,
        "pages": [
            {"number": n, "url": page_url(n), "current": n == result.page}
            for n in range(first, last + 1)
        ],
        "first": page_url(1) if first > 1 else None,
        "last": page_url(result.pages) if last < result.pages else None,
        "total": result.pages,
    }


def search_view(request):
    catalogue = search.catalogue()
    form = SearchForm(request.GET, catalogue=catalogue)
    result = None
    criteria = None
    if form.is_valid():
        criteria = form.criteria()
        result = search.run(criteria, clamp_page=True)
    now = timezone.now()
    cards = []
    if result:
        # One reverse() for the page instead of one per card.
        url_pattern = reverse("activity_finder:session", args=[0]).replace(
            "/0/", "/{}/"
        )
        cards = [
            card(
                session,
                now,
                result.schedules.get(session.pk),
                url_pattern.format(session.pk),
            )
            for session in result.sessions
        ]
    first = (
        (result.page - 1) * result.criteria.page_size + 1
        if result and result.count
        else 0
    )
    context = {
        "form": form,
        "result": result,
        "cards": cards,
        "cards_html": mark_safe("".join(card_html(card) for card in cards)),
        "first": first,
        "last": first + len(cards) - 1 if cards else 0,
        "panel": filter_panel(catalogue, criteria, result.facets if result else None),
        "active": active_filters(request, catalogue),
        "pagination": pagination(request, result),
        "sort_choices": form.fields["sort"].choices,
        "page_sizes": search.PAGE_SIZES,
        "current_sort": criteria.sort if criteria else "",
        "current_page_size": criteria.page_size
        if criteria
        else search.DEFAULT_PAGE_SIZE,
        "reset_url": reverse("activity_finder:search"),
    }
    return render(request, "activity_finder/search.html", context)


def _visible_session(pk):
    queryset = (
        search.visible_sessions()
        .select_related("location", "session_class__activity__subcategory__program")
        .prefetch_related("times")
    )
    return get_object_or_404(queryset, pk=pk)


def _ld_json(data):
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def session_detail(request, pk):
    session = _visible_session(pk)
    now = timezone.now()
    info = card(session, now)
    description = nh3.clean(session.description or "")
    class_description = nh3.clean(session.session_class.description or "")
    structured = calendar.structured_data(
        session,
        request.build_absolute_uri(session.get_absolute_url()),
        info["register_url"],
    )
    context = {
        "card": info,
        "session": session,
        "description": description,
        "class_description": class_description,
        "ld_json": _ld_json(structured),
        "map_url": (
            "https://www.openstreetmap.org/search?"
            + urlencode({"query": session.location.address})
            if session.location.address
            else ""
        ),
        "back_url": reverse("activity_finder:search"),
    }
    return render(request, "activity_finder/session.html", context)


def session_calendar(request, pk):
    session = _visible_session(pk)
    body = calendar.ics(
        session,
        host=request.get_host(),
        url=request.build_absolute_uri(session.get_absolute_url()),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}.ics"'
    return response
