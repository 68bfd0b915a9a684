"""Polish found while trying the product (issue 14, requirement 9), in a real Chromium:
My List removes a card in place, history's progress bars wear the product's colour, and an
account that signed up with every box unticked is offered personalization on its home."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from accounts.maturity import MaturityRating
from catalog.models import ListEntry, ViewingActivity
from privacy import consent
from tests.support.accounts import make_account
from tests.support.browser import sign_in
from tests.support.factories import GenreFactory, TitleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCENT = (0xE5, 0x09, 0x14)  # --accent in static/css/marquee.css


def _titles(n: int):
    drama = GenreFactory(name="Drama")
    return [TitleFactory(name=f"Harbor Story {i}", maturity_rating=MaturityRating.PG, genres=[drama]) for i in range(n)]


def test_removing_a_title_on_my_list_takes_its_card_away_and_updates_the_count(page, live_server):
    _user, profile = make_account("lister")
    titles = _titles(3)
    now = timezone.now()
    for i, title in enumerate(titles):
        ListEntry.objects.create(profile=profile, title=title, added_at=now - timedelta(minutes=i))
    sign_in(page, live_server.url, "lister", profile)
    page.goto(f"{live_server.url}/my-list/")
    assert page.locator("#my-list-count").inner_text() == "3 titles, newest first"
    page.evaluate("() => { window.__sameDocument = true; }")

    page.click(f'.poster-grid-item:has([data-title-id="{titles[0].pk}"]) .list-button button')
    page.locator(f'.poster-grid-item [data-title-id="{titles[0].pk}"]').wait_for(state="detached")
    assert page.locator("#my-list-count").inner_text() == "2 titles, newest first"
    assert page.locator(".poster-grid-item").count() == 2
    assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    # Focus went to the next card's button, not to <body>.
    page.wait_for_function(
        "id => document.activeElement.closest('.poster-grid-item')"
        "?.querySelector('[data-title-id]')?.dataset.titleId === id",
        arg=str(titles[1].pk),
    )
    assert not ListEntry.objects.filter(profile=profile, title=titles[0]).exists()

    for title in titles[1:]:
        page.click(f'.poster-grid-item:has([data-title-id="{title.pk}"]) .list-button button')
        page.locator(f'.poster-grid-item [data-title-id="{title.pk}"]').wait_for(state="detached")
    assert page.locator("#my-list-count").inner_text() == "Your list is empty."
    page.wait_for_function("() => document.activeElement.id === 'my-list-count'")
    assert page.csp_errors == []


def test_history_progress_bars_are_in_the_product_colour(page, live_server):
    _user, profile = make_account("watcher")
    (title,) = _titles(1)
    ViewingActivity.objects.create(profile=profile, title=title, position_seconds=3000, duration_seconds=6000)
    sign_in(page, live_server.url, "watcher", profile)
    page.goto(f"{live_server.url}/history/")
    bar = page.locator(".history-table progress")
    box = bar.bounding_box()
    assert box and box["width"] > 20
    image = Image.open(io.BytesIO(bar.screenshot())).convert("RGB")
    filled = image.getpixel((int(image.width * 0.25), image.height // 2))
    assert all(abs(a - b) <= 24 for a, b in zip(filled, ACCENT, strict=True)), filled


def test_an_account_without_personalization_is_offered_it_and_switches_it_on(page, live_server, screenshot):
    from axe_playwright_python import sync_playwright as axe_playwright

    user, profile = make_account("nobox", consents=False)
    _titles(6)
    sign_in(page, live_server.url, "nobox", profile)
    page.goto(f"{live_server.url}/")
    offer = page.locator("[data-personalize-offer]")
    offer.wait_for()
    assert "Make this home yours" in offer.inner_text()
    results = axe_playwright.Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, results.generate_report()
    screenshot("home-personalize-offer.png", full_page=True)
    assert page.is_checked("#personalize-toggle")
    page.click(".personalize-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-personalize-offer]").count() == 0
    assert consent.allows_for(user, "personalization")
    assert not consent.allows_for(user, "analytics")
    assert page.csp_errors == []
