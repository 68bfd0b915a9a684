"""Artwork that is art, chosen per viewer (issue 14, requirements 4 and 5), in a real Chromium:
home cards load the variant the bandit picked (generated SVG, allowed by the CSP), and opening
a card counts a take for that variant."""

import re

import pytest

from accounts.maturity import MaturityRating
from catalog import services as catalog_services
from recommendations.artwork_models import ArtworkStat
from tests.support.accounts import make_account
from tests.support.browser import sign_in
from tests.support.factories import GenreFactory, TitleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_cards_show_the_chosen_variant_and_an_open_counts_for_it(page, live_server):
    western = GenreFactory(name="Western", slug="western")
    titles = [
        TitleFactory(name=f"Dust Road {i}", maturity_rating=MaturityRating.PG, genres=[western]) for i in range(9)
    ]
    _user, profile = make_account("viewer")
    for title in titles:
        catalog_services.list_add(profile=profile, title=title)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "viewer", profile)

    row = page.locator('[data-row="my-list"]')
    cards = row.locator(".poster-card")
    assert cards.count() == len(titles)
    row.scroll_into_view_if_needed()
    images = row.locator("img.poster")
    # Every card's artwork loaded (an SVG the CSP blocked or a 404 would have no natural size).
    page.wait_for_function(
        "els => els.every(e => e.complete && e.naturalWidth > 0)",
        arg=images.element_handles(),
    )
    srcs = images.evaluate_all("els => els.map(e => e.getAttribute('src'))")
    hrefs = row.locator("a.poster-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    for src, href in zip(srcs, hrefs, strict=True):
        variant = re.search(r"&art=(\w+)$", href).group(1)
        assert src.endswith("/poster.svg" if variant == "genre" else f"/poster/{variant}.svg")
    assert page.csp_errors == []

    first = row.locator("a.poster-link").first
    chosen = re.search(r"&art=(\w+)$", hrefs[0]).group(1)
    first.click()
    page.wait_for_url(re.compile(r".*/title/dust-road-\d+/\?row=my-list&art=\w+$"))
    stat = ArtworkStat.objects.get(takes=1)
    # No ratings or viewing yet (a list is not a taste here): the shared "any" context.
    assert (stat.variant, stat.context) == (chosen, "any")
    assert sum(ArtworkStat.objects.values_list("impressions", flat=True)) == len(titles)
