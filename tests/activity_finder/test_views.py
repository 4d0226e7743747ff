import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from tests.activity_finder import factories as make

URL = "/activities/"


def cards(response):
    return re.findall(
        r'<h3 id="session-\d+"><a href="[^"]+">([^<]+)</a></h3>',
        response.content.decode(),
    )


def card_html(response, title):
    html = response.content.decode()
    start = html.index(f">{title}</a></h3>")
    return html[start : html.index("</article>", start)]


def test_it_lists_the_visible_sessions_with_a_count(client, finder):
    response = client.get(URL, {"sort": "title"})

    assert response.status_code == 200
    assert cards(response) == [
        "Adult Lap Swim",
        "Parent &amp; Tot Swim",
        "Preschool Swim",
        "Summer Day Camp",
        "Teen Swim Team",
        "Toddler Splash",
    ]
    assert "Showing 1-6 of 6 sessions" in response.content.decode()


def test_it_renders_a_card_with_dates_schedule_place_ages_and_spots(client, finder):
    html = card_html(client.get(URL), "Parent &amp; Tot Swim")

    assert "<dt>Dates</dt><dd>Jan 4 - Mar 1, 2027</dd>" in html
    assert "<li>Mon, Wed, 9:00 AM - 12:00 PM</li>" in html
    assert "<dd>Downtown YMCA, 100 Main St, Springfield, IL 62701</dd>" in html
    assert "<dt>Ages</dt><dd>6 months - 3 years</dd>" in html
    assert "<dt>Price</dt><dd>$40 members, $80 non-members</dd>" in html
    assert "<dt>Instructor</dt><dd>Ana Diaz</dd>" in html
    assert '<span class="availability availability-low">2 spots left</span>' in html
    assert f'href="{finder.tot.registration_link}" data-register>Register' in html


def test_it_escapes_every_value_on_a_card(client, finder):
    finder.tot.instructor = """Ana "Coach" O'Neil <3"""
    finder.tot.price_description = "$40 & up"
    finder.tot.save()

    html = card_html(client.get(URL), "Parent &amp; Tot Swim")

    assert "<dt>Instructor</dt><dd>Ana &quot;Coach&quot; O&#x27;Neil &lt;3</dd>" in html
    assert "<dt>Price</dt><dd>$40 &amp; up</dd>" in html
    assert '<span class="visually-hidden"> for Parent &amp; Tot Swim</span>' in html


def test_it_words_availability_and_register_rules(client, finder):
    response = client.get(URL)

    lap = card_html(response, "Adult Lap Swim")
    assert "<dd>18+ years</dd>" in lap
    assert 'availability-many">10+ spots<' in lap
    assert "data-register" in lap

    preschool = card_html(response, "Preschool Swim")
    assert 'availability-waitlist">Waiting list<' in preschool
    assert "data-register" in preschool  # full, but the wait list is open

    camp = card_html(response, "Summer Day Camp")
    assert 'availability-full">Full<' in camp
    assert "data-register" not in camp
    assert '<span class="note">Full</span>' in camp

    team = card_html(response, "Teen Swim Team")
    assert "data-register" not in team
    assert '<span class="note">Registration closed</span>' in team

    toddler = card_html(response, "Toddler Splash")
    assert "data-register" not in toddler
    assert '<span class="note">Registration opens ' in toddler
    assert "<dd>14 - 20 months</dd>" in toddler


def test_it_shows_zero_options_disabled_and_keeps_chosen_ones_usable(client, finder):
    loc = finder.locations
    response = client.get(URL, {"days": 1, "locations": loc.downtown.pk})
    html = response.content.decode()

    assert (
        f'<input type="checkbox" id="location-{loc.westside.pk}" name="locations" '
        f'value="{loc.westside.pk}" disabled>'
    ) in html
    assert (
        f'<input type="checkbox" id="location-{loc.downtown.pk}" name="locations" '
        f'value="{loc.downtown.pk}" checked>'
    ) in html
    assert (
        f'<label for="location-{loc.lakeview.pk}">Camp Lakeview <span class=count>(1)</span>'
        in html
    )
    assert '<label for="day-2">Tuesday <span class=count>(0)</span>' in html
    assert "Showing 1-2 of 2 sessions" in html


def test_it_explains_an_empty_result_and_offers_to_drop_each_filter(client, finder):
    response = client.get(URL, {"days": 1, "times": 2})
    html = response.content.decode()

    assert "No sessions found" in html
    assert "No sessions match all of these filters. Remove one to see more:" in html
    assert (
        '<a href="?times=2" data-finder-link>Remove <span class="visually-hidden">filter </span>Day: Monday</a>'
        in html
    )
    assert (
        '<a href="?days=1" data-finder-link>Remove <span class="visually-hidden">filter </span>Time: Afternoon</a>'
        in html
    )


def test_it_explains_bad_input_instead_of_failing(client, finder):
    response = client.get(URL, {"ages": "999", "page": "two"})
    html = response.content.decode()

    assert response.status_code == 200
    assert cards(response) == []
    assert "Some filters could not be used" in html
    assert (
        "<li>Age: Select a valid choice. 999 is not one of the available choices.</li>"
        in html
    )
    assert "<li>Page: Enter a whole number.</li>" in html


def test_it_pages_by_the_chosen_page_size(client, finder):
    extra = make.session_class(finder.subcategories.lap, "Open Swim")
    for n in range(30):
        make.session(
            extra,
            finder.locations.westside,
            f"Open Swim {n:02d}",
            slots=[
                (
                    ["sunday"],
                    "08:00",
                    "09:00",
                    dt.date(2027, 2, 7),
                    dt.date(2027, 2, 28),
                )
            ],
        )

    first = client.get(URL, {"sort": "title"})
    second = client.get(URL, {"sort": "title", "page": 2})
    big = client.get(URL, {"sort": "title", "per_page": 50})

    assert len(cards(first)) == 25
    assert "Showing 1-25 of 36 sessions" in first.content.decode()
    assert (
        '<a href="?sort=title&amp;page=2" data-finder-link rel="next">Next'
        in first.content.decode()
    )
    assert len(cards(second)) == 11
    assert "Showing 26-36 of 36 sessions" in second.content.decode()
    assert len(cards(big)) == 36


def test_it_shows_a_session_page_with_sanitised_description_and_event_data(
    client, finder
):
    response = client.get(finder.tot.get_absolute_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert "<p>Babies and parents in the <em>warm</em> pool.</p>" in html
    assert "<script>alert" not in html
    assert "<li>Mon, Wed, 9:00 AM - 12:00 PM (Jan 4 - Mar 1, 2027)</li>" in html
    assert "100 Main St<br>Springfield, IL 62701" in html
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html).group(1)
    )
    assert data["@type"] == "Event"
    assert data["name"] == "Parent & Tot Swim"
    assert data["startDate"] == "2027-01-04T09:00:00-06:00"
    assert data["endDate"] == "2027-03-01T12:00:00-06:00"
    assert data["location"]["address"]["postalCode"] == "62701"
    assert data["eventSchedule"] == [
        {
            "@type": "Schedule",
            "byDay": ["https://schema.org/Monday", "https://schema.org/Wednesday"],
            "startDate": "2027-01-04",
            "endDate": "2027-03-01",
            "startTime": "09:00",
            "endTime": "12:00",
            "repeatFrequency": "P1W",
            "scheduleTimezone": "America/Chicago",
        }
    ]
    assert data["offers"]["url"] == finder.tot.registration_link
    assert data["offers"]["availability"] == "https://schema.org/LimitedAvailability"
    assert data["typicalAgeRange"] == "0.5-3"


def test_it_offers_a_calendar_file_with_the_recurring_times(client, finder):
    response = client.get(
        reverse("activity_finder:session_calendar", args=[finder.camp.pk])
    )
    body = response.content.decode()
    lines = body.split("\r\n")

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="session-{finder.camp.pk}.ics"'
    )
    assert lines[0] == "BEGIN:VCALENDAR"
    assert "TZID:America/Chicago" in lines
    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU" in lines
    assert "DTSTART;TZID=America/Chicago:20270607T070000" in lines
    assert "DTEND;TZID=America/Chicago:20270607T090000" in lines
    assert "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270813T140000Z" in lines
    # The first Saturday on or after the start date.
    assert "DTSTART;TZID=America/Chicago:20270612T130000" in lines
    assert "RRULE:FREQ=WEEKLY;BYDAY=SA;UNTIL=20270813T200000Z" in lines
    assert "SUMMARY:Summer Day Camp" in lines
    assert "LOCATION:Camp Lakeview\\, Lake Forest\\, IL" in lines
    assert body.count("BEGIN:VEVENT") == 2


@pytest.mark.parametrize("name", ["past", "draft", "broken", "gone_branch", "old"])
def test_it_hides_sessions_a_visitor_may_not_see(client, finder, name):
    session = getattr(finder, name)

    assert client.get(session.get_absolute_url()).status_code == 404
    assert (
        client.get(
            reverse("activity_finder:session_calendar", args=[session.pk])
        ).status_code
        == 404
    )
