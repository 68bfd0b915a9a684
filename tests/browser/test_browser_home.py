"""A home that invites (issue 14, requirement 1), in a real Chromium: the hero, row arrows for a
mouse, the Top 10 row with its numerals, and card previews on hover and on keyboard focus."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.maturity import MaturityRating
from catalog.models import ListEntry, Rating, ViewingActivity
from tests.support.accounts import make_account
from tests.support.browser import sign_in
from tests.support.factories import GenreFactory, ProfileFactory, TitleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def home_data():
    drama = GenreFactory(name="Drama", slug="drama")
    titles = [
        TitleFactory(
            name=f"Northern Harbor {i}", maturity_rating=MaturityRating.PG, genres=[drama], synopsis=f"Story {i}."
        )
        for i in range(24)
    ]
    now = timezone.now()
    # Activity today for the first twelve, most for the first: Top 10 and Trending fill.
    for rank, title in enumerate(titles[:12]):
        for _ in range(12 - rank):
            ViewingActivity.objects.create(
                profile=ProfileFactory(), title=title, last_watched_at=now - timedelta(hours=1)
            )
    return titles


def test_hero_top_ten_arrows_and_previews(page, live_server, home_data, screenshot):
    _user, profile = make_account("viewer")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "viewer", profile)

    hero = page.locator("[data-hero]")
    assert hero.is_visible()
    assert hero.locator(".hero-title").inner_text() == home_data[0].name
    assert "No. 1 on Marquee today" in hero.locator(".hero-reason").inner_text()
    assert hero.locator("[data-hero-play]").is_visible()
    # My List from the hero, in place.
    hero.locator('.list-button button[value="add"]').click()
    hero.locator('.list-button button[value="remove"]').wait_for()
    assert ListEntry.objects.filter(profile=profile, title=home_data[0]).exists()

    top = page.locator('section[data-row="top-10"]')
    assert top.locator(".rank-numeral").count() == 10
    assert top.locator(".rank-numeral").first.inner_text() == "1"
    top.scroll_into_view_if_needed()
    screenshot("home-top-10.png")

    # The mouse arrows scroll the strip; "back" is disabled at the start and appears after.
    strip = page.locator("#strip-trending")
    row = page.locator('section[data-row="trending"]')
    row.locator(".row-body").hover()
    assert row.locator(".row-arrow-prev").is_disabled()
    row.locator(".row-arrow-next").click()
    page.wait_for_function("() => document.getElementById('strip-trending').scrollLeft > 100")
    page.wait_for_function("() => !document.querySelector('section[data-row=trending] .row-arrow-prev').disabled")
    assert strip.evaluate("s => s.scrollLeft") > 100

    # Hover opens the preview (Play, My List, thumbs) over the poster, not over the name label.
    card = page.locator(f'section[data-row="new-arrivals"] [data-title-id="{home_data[-1].pk}"]')
    card.scroll_into_view_if_needed()
    card.hover()
    preview = card.locator("[data-card-preview]")
    preview.wait_for()
    assert preview.locator(".card-preview-play").is_visible()
    assert preview.locator(".list-button button").is_visible()
    assert preview.locator(".rate-buttons .rate-up").is_visible()
    assert card.locator(".card-hide-button").is_visible()  # "Not for me" stays on the card
    label, panel = card.locator(".poster-name").bounding_box(), preview.bounding_box()
    assert panel["y"] + panel["height"] <= label["y"] + 1, (panel, label)
    screenshot("home-preview-card.png")
    preview.locator(".rate-buttons .rate-up").click()
    card.locator('[data-card-preview] .rate-buttons[data-rating="up"]').wait_for()
    assert Rating.objects.filter(profile=profile, title=home_data[-1], value="up").exists()

    # Keyboard: focusing a card's link opens its preview, and Tab walks into it.
    other = page.locator(f'section[data-row="new-arrivals"] [data-title-id="{home_data[-2].pk}"]')
    page.mouse.move(0, 0)
    other.locator(".poster-link").focus()
    other.locator("[data-card-preview]").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('card-preview-play')")
    assert page.csp_errors == []
    page.mouse.move(0, 0)
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot("home-hero-rows.png")
