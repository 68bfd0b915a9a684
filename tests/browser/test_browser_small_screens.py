"""Every screen (issue 14, requirement 6): at 390 px the header is compact (a menu button, the
search behind an icon) and no main page is wider than the screen.

`document.documentElement.scrollWidth` is measured on every main page, signed in and not; a
page wider than its viewport scrolls sideways and hides what is past the edge (seen before:
/history/ 500 px with its remove buttons cut off, /privacy/data/ 463 px).
"""

import pytest

from accounts.maturity import MaturityRating
from catalog.models import TitleKind
from tests.support.accounts import make_account
from tests.support.browser import sign_in
from tests.support.factories import (
    CreditFactory,
    EpisodeFactory,
    GenreFactory,
    ListEntryFactory,
    RatingFactory,
    SeasonFactory,
    TitleFactory,
    ViewingFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

SIGNED_IN_PAGES = [
    "/",
    "/browse/",
    "/browse/drama/",
    "/search/?q=Harbor",
    "/title/{film}/",
    "/title/{series}/",
    "/watch/{film}/",
    "/my-list/",
    "/history/",
    "/ratings/",
    "/account/activity/",
    "/profiles/",
    "/profiles/new/",
    "/account/",
    "/accounts/password/change/",
    "/privacy/",
    "/privacy/data/",
    "/privacy/policy/",
    "/together/",
    "/onboarding/",
]
ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/privacy/policy/"]


@pytest.fixture
def catalog():
    drama = GenreFactory(name="Drama", slug="drama")
    film = TitleFactory(
        name="Harbor Lights and the Extraordinarily Long Title of a Film",
        maturity_rating=MaturityRating.PG,
        genres=[drama],
    )
    series = TitleFactory(
        name="Harbor Nights", kind=TitleKind.SERIES, maturity_rating=MaturityRating.PG, genres=[drama]
    )
    season = SeasonFactory(title=series, number=1)
    for n in range(1, 4):
        EpisodeFactory(season=season, title=series, number=n, name=f"The one where a long episode name wraps {n}")
    others = [TitleFactory(name=f"Harbor Story {i}", genres=[drama]) for i in range(8)]
    CreditFactory(title=film, person__name="Ada Longnamedperson-Hyphenated")
    return {"film": film, "series": series, "others": others}


def _too_wide(page, url: str, paths: list[str]) -> list[str]:
    wide = []
    for path in paths:
        response = page.goto(f"{url}{path}")
        assert response is not None and response.status < 400, f"{path}: {response and response.status}"
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            culprits = page.evaluate(
                """(limit) => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > limit + 1)
                    .slice(0, 4).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.'))""",
                PHONE["width"],
            )
            wide.append(f"{path}: {width} px ({', '.join(culprits)})")
    return wide


def test_no_main_page_is_wider_than_a_390_px_phone(page, live_server, catalog, screenshot):
    _user, profile = make_account("phone", onboarded_at=None)
    film, series = catalog["film"], catalog["series"]
    for title in catalog["others"][:4]:
        RatingFactory(profile=profile, title=title)
        ListEntryFactory(profile=profile, title=title)
    ViewingFactory(profile=profile, title=film, position_seconds=1200, duration_seconds=6000)
    ViewingFactory(profile=profile, title=series, episode=series.seasons.first().episodes.first())
    page.set_viewport_size(PHONE)

    wide = _too_wide(page, live_server.url, ANONYMOUS_PAGES)
    sign_in(page, live_server.url, "phone", profile)
    paths = [p.format(film=film.slug, series=series.slug) for p in SIGNED_IN_PAGES]
    wide += _too_wide(page, live_server.url, paths)
    page.goto(f"{live_server.url}/history/")
    screenshot("history-390.png", full_page=True)
    assert wide == [], "\n".join(wide)


def test_the_phone_header_has_a_menu_button_and_the_search_behind_an_icon(page, live_server, catalog, screenshot):
    _user, profile = make_account("phone")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "phone", profile)
    page.goto(f"{live_server.url}/")
    menu = page.locator("button.nav-toggle")
    search = page.locator("button.search-toggle")
    assert menu.is_visible() and search.is_visible()
    assert not page.locator(".main-nav").is_visible()
    assert not page.locator("#site-search").is_visible()
    assert page.evaluate("() => document.querySelector('.site-header').getBoundingClientRect().height") < 80
    screenshot("home-390-header.png")

    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    screenshot("home-390-menu.png")
    page.locator(".main-nav a[href='/my-list/']").click()
    page.wait_for_url(f"{live_server.url}/my-list/")

    page.locator("button.search-toggle").click()
    box = page.locator("#site-search")
    assert box.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "site-search"
    box.fill("Harbor")
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/search/?q=Harbor")
    # Escape closes the menu and gives focus back to its button.
    page.locator("button.nav-toggle").click()
    page.keyboard.press("Escape")
    assert page.locator("button.nav-toggle").get_attribute("aria-expanded") == "false"
    assert page.evaluate("() => document.activeElement.classList.contains('nav-toggle')")
    assert page.csp_errors == []


def test_at_desktop_width_the_header_shows_everything_without_toggles(page, live_server, catalog):
    _user, profile = make_account("desk")
    sign_in(page, live_server.url, "desk", profile)
    page.goto(f"{live_server.url}/")
    assert page.locator(".main-nav").is_visible()
    assert page.locator("#site-search").is_visible()
    assert not page.locator("button.nav-toggle").is_visible()
    assert not page.locator("button.search-toggle").is_visible()
