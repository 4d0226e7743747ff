"""The finder in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; never a downloaded browser) against the live server."""

import datetime as dt
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.activity_finder import factories as make

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (make browser-deps)",
    ),
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, which Django's
    # async-safety check mistakes for async code; the ORM calls here are
    # synchronous. Only for these tests, never at import (a module-level
    # setting would leak into every later subprocess, `check --deploy` too).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def outside():
    """Requests the page tried to send off this machine (answered here)."""
    return []


def open_page(browser, outside, **options):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, **options)

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.fulfill(
                status=200,
                content_type="text/html",
                body="<h1>Registration (stand-in)</h1>",
            )

    page.route("**/*", guard)
    return page


@pytest.fixture
def many(finder):
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
    return finder


def status(page):
    return page.locator("[data-finder-count]")


def test_it_filters_pages_and_goes_back_without_reloading(
    live_server, browser, outside, many
):
    from playwright.sync_api import expect

    page = open_page(browser, outside)
    page.goto(f"{live_server.url}/activities/?sort=title")
    expect(status(page)).to_have_text("Showing 1-25 of 36 sessions")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Monday").check()

    expect(status(page)).to_have_text("Showing 1-3 of 3 sessions")
    assert page.url == f"{live_server.url}/activities/?days=1&sort=title"
    expect(page.locator(".card h3")).to_have_text(
        ["Adult Lap Swim", "Parent & Tot Swim", "Summer Day Camp"]
    )
    # Westside has no Monday session: its option stays, disabled, with (0).
    westside = page.locator(f"#location-{many.locations.westside.pk}")
    expect(westside).to_be_disabled()
    expect(
        page.locator(f'label[for="location-{many.locations.westside.pk}"]')
    ).to_have_text("Westside YMCA (0)")
    expect(page.get_by_label("Tuesday")).to_be_enabled()  # days still count other days
    assert page.evaluate("window.notReloaded") is True

    page.go_back()

    expect(status(page)).to_have_text("Showing 1-25 of 36 sessions")
    expect(page.get_by_label("Monday")).not_to_be_checked()

    page.get_by_role("link", name="Next page").click()

    expect(status(page)).to_have_text("Showing 26-36 of 36 sessions")
    assert page.url == f"{live_server.url}/activities/?sort=title&page=2"
    expect(page.locator(".card")).to_have_count(11)
    expect(page.locator("#results-heading")).to_be_focused()
    assert page.evaluate("window.notReloaded") is True

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/activities/?sort=title")
    page.screenshot(path=str(ARTIFACTS / "finder-search.png"), full_page=False)
    assert (ARTIFACTS / "finder-search.png").stat().st_size > 10_000
    assert outside == []


def test_it_opens_a_session_and_follows_register_to_traction_rec(
    live_server, browser, outside, finder
):
    from playwright.sync_api import expect

    page = open_page(browser, outside)
    page.goto(f"{live_server.url}/activities/?sort=title")

    page.get_by_role("link", name="Parent & Tot Swim", exact=True).click()

    expect(page.locator("h1")).to_have_text("Parent & Tot Swim")
    register = page.get_by_role("link", name="Register")
    expect(register).to_have_attribute("href", finder.tot.registration_link)
    page.screenshot(path=str(ARTIFACTS / "finder-session.png"))

    register.click()

    expect(page.locator("h1")).to_have_text("Registration (stand-in)")
    assert outside == [finder.tot.registration_link]


def test_it_can_be_used_with_the_keyboard_only(live_server, browser, outside, finder):
    from playwright.sync_api import expect

    page = open_page(browser, outside)
    page.goto(f"{live_server.url}/activities/")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")  # the site name
    page.keyboard.press("Tab")
    expect(page.locator("#id_keywords")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring

    page.keyboard.type("camp")
    page.keyboard.press("Enter")

    expect(status(page)).to_have_text("Showing 1-1 of 1 session")
    assert page.url.endswith("/activities/?keywords=camp")

    # Ages with no camp session are disabled, so Tab skips to 6 years.
    page.keyboard.press("Tab")
    expect(page.locator("#age-72")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#age-72")).to_be_checked()
    page.wait_for_url("**/activities/?keywords=camp&ages=72")
    expect(status(page)).to_have_text("Showing 1-1 of 1 session")

    page.keyboard.press("Space")
    page.wait_for_url("**/activities/?keywords=camp")

    # Into the results: Tab reaches the session link; Enter opens it.
    link = page.get_by_role("link", name="Summer Day Camp", exact=True)
    for _ in range(200):
        if page.evaluate("document.activeElement.textContent") == "Summer Day Camp":
            break
        page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Summer Day Camp")
    assert outside == []


def test_it_works_without_javascript(live_server, browser, outside, finder):
    from playwright.sync_api import expect

    page = open_page(browser, outside, java_script_enabled=False)
    page.goto(f"{live_server.url}/activities/")

    page.get_by_label("Evening").check()
    page.get_by_role("button", name="Show results").click()

    expect(page.locator("[data-finder-count]")).to_have_text("Showing 1-1 of 1 session")
    assert (
        page.url == f"{live_server.url}/activities/?keywords=&times=3&sort=&per_page=25"
    )
    expect(page.locator(".card h3")).to_have_text(["Adult Lap Swim"])
