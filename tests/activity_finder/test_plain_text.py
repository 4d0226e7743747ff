"""Descriptions outside HTML (the JSON API, JSON-LD, calendars) as text."""

import json

import pytest
from django.test import Client

from activity_finder.display import plain_text


def test_block_ends_become_spaces_and_entities_are_decoded_once():
    html = (
        "<p><strong>Parent &amp; Child Swim</strong> for every level.</p>"
        "<p>Questions?<br>Ask at the front desk.</p><ul><li>Small</li><li>groups</li></ul>"
    )

    assert plain_text(html) == (
        "Parent & Child Swim for every level. Questions? Ask at the front desk. "
        "Small groups"
    )


def test_escaped_markup_stays_text_decoded_only_once():
    assert plain_text("&amp;lt;script&amp;gt; 5 &lt; 6") == "&lt;script&gt; 5 < 6"


def test_nothing_gives_an_empty_string():
    assert plain_text(None) == ""
    assert plain_text("<p> </p>") == ""


@pytest.mark.django_db
def test_a_post_to_the_api_gets_its_json_405():
    response = Client(enforce_csrf_checks=True).post("/af/get-data")

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    body = json.loads(response.content)
    assert "Only GET is allowed here." in json.dumps(body)
