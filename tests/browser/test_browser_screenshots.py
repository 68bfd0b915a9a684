"""The screenshots in docs/screenshots/ (issue 14, requirement 10), taken from the demo data
(a small seed of the same generator `make demo` runs) with a trained model serving: the home
with its hero and rows, a card's preview, a title page, the kids home, the 390 px home.

(The series with progress, person and player countdown shots are taken by
test_browser_player_people.py; the admin's by test_browser_retrain.py.)
"""

import pytest
from django.core.cache import cache

from accounts.models import Profile
from catalog.importing import demo
from recommendations import catalog_index, serving, training
from recommendations.models import ModelStatus
from tests.support import ROOT
from tests.support.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = ROOT / "docs" / "screenshots"
SMALL = demo.Sizes(films=120, series=30, people=200, subscribers=30)


@pytest.fixture
def demo_site(live_server, settings, tmp_path):
    settings.MODEL_ROOT = tmp_path / "models"
    settings.RECOMMENDER_PARAMS = {"epochs": 8}
    serving.reset()
    catalog_index.reset_index()
    cache.clear()
    demo.seed_demo(sizes=SMALL)
    version = training.train_and_register(trigger="test")
    assert version.status == ModelStatus.SERVING, version.status
    yield live_server.url
    serving.reset()
    catalog_index.reset_index()


def _shot(page, name: str, **kwargs) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), **kwargs)


def test_screenshots_from_the_demo_data(page, demo_site):
    url = demo_site
    adult = Profile.objects.filter(account__username=demo.DEMO_USERNAME, is_kids=False).order_by("pk").first()
    kids = Profile.objects.filter(account__username=demo.DEMO_USERNAME, is_kids=True).first()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, url, demo.DEMO_USERNAME, adult, password=demo.DEMO_PASSWORD)
    if "/onboarding/" in page.url:
        page.goto(f"{url}/")
    hero = page.locator("[data-hero]")
    hero.wait_for()
    assert page.locator('section[data-row="top-picks"]').count() == 1, "the demo home is not personalized"
    assert page.locator('section[data-row="top-10"] .rank-numeral').count() >= 3
    _shot(page, "home.png")

    # A card's preview, opened by keyboard focus (a mouse rest opens it the same way).
    card = page.locator('section[data-row="top-picks"] .poster-card').nth(1)
    card.locator(".poster-link").focus()
    card.locator("[data-card-preview]").wait_for()
    card.scroll_into_view_if_needed()
    _shot(page, "preview-card.png")

    page.goto(f"{url}{hero.get_attribute('data-hero-title-id') and ''}/")
    slug = page.locator("[data-hero] .hero-more").get_attribute("href").split("?")[0]
    page.goto(f"{url}{slug}")
    page.locator("h1.detail-name").wait_for()
    _shot(page, "title.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    _shot(page, "home-390.png")

    if kids is not None:
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{url}/profiles/")
        page.click(f"form[action='/profiles/{kids.pk}/select/'] button")
        page.wait_for_url(f"{url}/")
        assert page.locator("body.kids-mode").count() == 1
        _shot(page, "kids-home.png")
    assert page.csp_errors == []
