"""Accessibility (issue 14, requirement 7), in a real Chromium with axe-core
(`axe-playwright-python`): no serious or critical violation on the main pages, focus stays on
the control after an htmx swap, and rows and cards are operable by keyboard."""

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

PAGES = [
    ("home", "/"),
    ("title", "/title/{film}/"),
    ("series", "/title/{series}/"),
    ("player", "/watch/{film}/"),
    ("search", "/search/?q=Harbor"),
    ("browse", "/browse/"),
    ("my list", "/my-list/"),
    ("history", "/history/"),
    ("ratings", "/ratings/"),
    ("profiles", "/profiles/"),
    ("account", "/account/"),
    ("privacy", "/privacy/"),
    ("privacy data", "/privacy/data/"),
    ("privacy policy", "/privacy/policy/"),
]
ANONYMOUS = [("sign in", "/accounts/login/"), ("sign up", "/accounts/signup/")]


@pytest.fixture
def catalog():
    drama = GenreFactory(name="Drama", slug="drama")
    film = TitleFactory(name="Harbor Lights", maturity_rating=MaturityRating.PG, genres=[drama])
    series = TitleFactory(
        name="Harbor Nights", kind=TitleKind.SERIES, maturity_rating=MaturityRating.PG, genres=[drama]
    )
    season = SeasonFactory(title=series, number=1)
    episodes = [EpisodeFactory(season=season, title=series, number=n) for n in range(1, 4)]
    others = [TitleFactory(name=f"Harbor Story {i}", genres=[drama]) for i in range(8)]
    CreditFactory(title=film, person__name="Ada Lovelace")
    return {"film": film, "series": series, "episodes": episodes, "others": others}


def _serious(axe, page) -> list[str]:
    results = axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3]) for v in bad
    ]


def test_main_pages_have_no_serious_or_critical_axe_violation(page, live_server, catalog):
    from axe_playwright_python import sync_playwright as axe_playwright

    _user, profile = make_account("axe")
    for title in catalog["others"][:3]:
        RatingFactory(profile=profile, title=title)
        ListEntryFactory(profile=profile, title=title)
    ViewingFactory(profile=profile, title=catalog["film"])
    ViewingFactory(profile=profile, title=catalog["series"], episode=catalog["episodes"][0])
    axe = axe_playwright.Axe()
    reports = []
    for label, path in ANONYMOUS:
        page.goto(f"{live_server.url}{path}")
        reports += [f"{label} {path}: {r}" for r in _serious(axe, page)]
    sign_in(page, live_server.url, "axe", profile)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for label, path in PAGES:
            path = path.format(film=catalog["film"].slug, series=catalog["series"].slug)
            page.goto(f"{live_server.url}{path}")
            reports += [f"{label} {path} @{width}: {r}" for r in _serious(axe, page)]
    assert reports == [], "\n".join(reports)
    assert page.csp_errors == []


def test_focus_stays_on_the_control_after_an_htmx_swap(page, live_server, catalog):
    _user, profile = make_account("keys")
    film = catalog["film"]
    sign_in(page, live_server.url, "keys", profile)
    page.goto(f"{live_server.url}/title/{film.slug}/")
    up = page.locator("form.rate-buttons button.rate-up")
    up.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('form.rate-buttons[data-rating="up"]')
    page.wait_for_function("() => document.activeElement.matches('form.rate-buttons button.rate-up')")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-pressed')") == "true"
    # The same for My List: the toggle keeps focus while it flips.
    page.locator('form.list-button button[value="add"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('form.list-button button[value="remove"]')
    page.wait_for_function("() => document.activeElement.matches('form.list-button button')")


def test_rows_and_cards_are_reachable_and_operable_by_keyboard(page, live_server, catalog):
    _user, profile = make_account("tabber")
    sign_in(page, live_server.url, "tabber", profile)
    page.goto(f"{live_server.url}/")
    strip = page.locator('section[data-row="new-arrivals"] .row-strip')
    strip.focus()
    page.keyboard.press("Tab")  # into the first card's link
    first = page.evaluate("() => document.activeElement.closest('[data-title-id]')?.dataset.titleId")
    assert first
    page.keyboard.press("ArrowRight")
    second = page.evaluate("() => document.activeElement.closest('[data-title-id]')?.dataset.titleId")
    assert second and second != first
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/title/**")
