"""Continue watching, the player and people (issue 14, requirements 2 and 3), in a real Chromium
on a small seeded demo catalog: a Continue watching card resumes at the saved position and can
be removed from the row in place, a series' episodes show watched / in-progress marks, "Skip
intro" jumps to the end of the intro, the end of an episode counts down to the next one
(cancellable with the button or Escape, none after the last), and a cast link opens a person
page. Screenshots: docs/screenshots/series-progress.png, person.png, player-countdown.png."""

import re

import pytest

from catalog import services
from catalog.importing import demo
from catalog.models import Credit, CreditRole, Episode, Title, ViewingActivity
from catalog.selectors import visible_titles
from tests.support import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = ROOT / "docs" / "screenshots"
SMALL = demo.Sizes(films=80, series=24, people=160, subscribers=4)


@pytest.fixture
def demo_site(page, live_server):
    """The small demo seeded, signed in as the demo login with its first profile (Alex) active."""
    demo.seed_demo(sizes=SMALL)
    from accounts.models import Profile

    profile = Profile.objects.get(account__username=demo.DEMO_USERNAME, name="Alex")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", demo.DEMO_USERNAME)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/profiles/")
    page.click(f"form[action='/profiles/{profile.pk}/select/'] button")
    page.wait_for_load_state()
    return live_server.url, profile


def _episode_with_intro(profile) -> Episode:
    """A seeded episode with an intro marker and a next episode, of a series the profile sees."""
    visible = visible_titles(profile).values("pk")
    for episode in (
        Episode.objects.filter(title__in=visible, intro_start_seconds__isnull=False)
        .select_related("season", "title")
        .order_by("title_id", "season__number", "number")
    ):
        later = Episode.objects.filter(title=episode.title).exclude(pk=episode.pk)
        if later.filter(season__number=episode.season.number, number__gt=episode.number).exists():
            return episode
    raise AssertionError("the demo seeded no intro marker on a visible series")


def _seek(page, seconds: int) -> None:
    """Drag the seek bar to `seconds` (as a person would: an input event on the range)."""
    page.eval_on_selector(
        "[data-role=seek]",
        "(el, s) => { el.value = String(s); el.dispatchEvent(new Event('input', {bubbles: true})); }",
        seconds,
    )


def _axe_serious(page) -> list:
    from axe_playwright_python import sync_playwright as axe_playwright

    results = axe_playwright.Axe().run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_a_continue_watching_card_resumes_at_the_position_and_leaves_the_row(page, demo_site, screenshot):
    url, profile = demo_site
    film = visible_titles(profile).filter(kind="film").order_by("pk").first()
    services.viewing_record(profile=profile, title=film, episode=None, position_seconds=1234, duration_seconds=6000)

    page.goto(f"{url}/")
    card = page.locator(f'[data-row="continue-watching"] [data-title-id="{film.pk}"]')
    page.locator('[data-row="continue-watching"]').scroll_into_view_if_needed()
    screenshot("continue-watching.png")  # artifacts/, for a human to look at
    card.locator("a.poster-link").click()
    page.wait_for_url(re.compile(rf"/watch/{film.slug}/"))
    player = page.locator("#player[data-ready=true]")
    player.wait_for()
    assert player.get_attribute("data-current") == "1234"
    assert "Ready to resume at 20:34" in page.locator("[data-role=status]").inner_text()

    # "Remove from row": the card becomes a note in place (no reload), the history stays.
    page.goto(f"{url}/")
    page.evaluate("() => { window.__sameDocument = true; }")
    card = page.locator(f'[data-row="continue-watching"] [data-title-id="{film.pk}"]')
    card.hover()
    card.locator(".continue-remove-button").click()
    note = page.locator(f'[data-removed-title-id="{film.pk}"]')
    note.wait_for()
    assert "removed from Continue watching" in note.inner_text()
    assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    # Focus is on the undo, not lost to <body>.
    page.wait_for_function("() => document.activeElement && document.activeElement.value === 'undo'")
    page.reload()
    assert page.locator(f'[data-row="continue-watching"] [data-title-id="{film.pk}"]').count() == 0
    assert ViewingActivity.objects.get(profile=profile, title=film).position_seconds == 1234


def test_series_marks_and_a_person_page_from_a_cast_link(page, demo_site):
    url, profile = demo_site
    episode = _episode_with_intro(profile)
    series = episode.title
    first, second = list(Episode.objects.filter(title=series).order_by("season__number", "number"))[:2]
    services.viewing_record(profile=profile, title=series, episode=first, position_seconds=1800, duration_seconds=1800)
    services.viewing_record(profile=profile, title=series, episode=second, position_seconds=600, duration_seconds=1500)

    page.goto(f"{url}/title/{series.slug}/")
    marks = page.locator(".episode-list")
    assert "Watched" in page.locator(f'[data-episode-id="{first.pk}"]').inner_text()
    assert "In progress 40%" in page.locator(f'[data-episode-id="{second.pk}"]').inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Tall enough for the title, its Resume button and the first season's episodes at once.
    page.set_viewport_size({"width": 1280, "height": 1200})
    marks.first.wait_for()
    page.screenshot(path=str(SHOTS / "series-progress.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    actor = (
        Credit.objects.filter(title=series, role=CreditRole.ACTOR).select_related("person").order_by("order").first()
    )
    page.click(f'.cast-list [data-person="{actor.person.slug}"] a')
    page.wait_for_url(f"{url}/people/{actor.person.slug}/")
    assert page.locator("h1").inner_text() == actor.person.name
    assert page.locator("svg.person-avatar").is_visible()
    assert page.locator(f'[data-row="known-for"] [data-title-id="{series.pk}"]').count() == 1
    assert page.locator(f'.filmography [data-credit-title="{series.pk}"]').count() == 1
    assert not _axe_serious(page)
    page.screenshot(path=str(SHOTS / "person.png"), full_page=True)
    # On a phone the page fits its width (the filmography table wraps).
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert not page.csp_errors, page.csp_errors


def test_skip_intro_jumps_to_the_end_of_the_intro(page, demo_site):
    url, profile = demo_site
    episode = _episode_with_intro(profile)
    page.goto(f"{url}/watch/{episode.title.slug}/?episode={episode.pk}")
    page.locator("#player[data-ready=true]").wait_for()
    skip = page.locator("[data-role=skip-intro]")
    _seek(page, episode.intro_end_seconds + 5)
    assert not skip.is_visible()
    _seek(page, episode.intro_start_seconds + 1)
    skip.wait_for(state="visible")
    skip.click()
    page.wait_for_function(
        "end => document.getElementById('player').dataset.current === String(end)", arg=episode.intro_end_seconds
    )
    skip.wait_for(state="hidden")
    assert not page.csp_errors, page.csp_errors


def test_the_end_of_an_episode_counts_down_to_the_next_one(page, demo_site):
    url, profile = demo_site
    episode = _episode_with_intro(profile)
    series = episode.title
    episodes = list(Episode.objects.filter(title=series).order_by("season__number", "number"))
    following = episodes[episodes.index(episode) + 1]
    page.goto(f"{url}/watch/{series.slug}/?episode={episode.pk}")
    player = page.locator("#player[data-ready=true]")
    player.wait_for()
    duration = int(player.get_attribute("data-duration"))

    # The end: a visible, announced countdown; Escape stops it and the page stays.
    _seek(page, duration)
    countdown = page.locator("[data-role=countdown]")
    countdown.wait_for(state="visible")
    text = page.locator("[data-role=countdown-text]")
    assert re.fullmatch(r"Next episode in (10|9) s", text.inner_text())
    assert text.get_attribute("aria-live") == "polite"
    page.wait_for_function("() => /in [1-8] s/.test(document.querySelector('[data-role=countdown-text]').textContent)")
    assert not _axe_serious(page)
    page.screenshot(path=str(SHOTS / "player-countdown.png"))
    page.keyboard.press("Escape")
    countdown.wait_for(state="hidden")
    assert player.get_attribute("data-countdown-state") == "cancelled"
    page.wait_for_timeout(1500)
    assert f"episode={episode.pk}" in page.url

    # Again, cancelled with the button.
    _seek(page, duration - 30)
    _seek(page, duration)
    countdown.wait_for(state="visible")
    page.click("[data-role=countdown-cancel]")
    countdown.wait_for(state="hidden")

    # Left alone, it plays the next episode.
    _seek(page, duration - 30)
    _seek(page, duration)
    page.wait_for_url(re.compile(rf"episode={following.pk}"), timeout=15_000)
    page.locator("#player[data-ready=true]").wait_for()

    # The last episode has nothing to count down to.
    last = episodes[-1]
    page.goto(f"{url}/watch/{series.slug}/?episode={last.pk}")
    player = page.locator("#player[data-ready=true]")
    player.wait_for()
    _seek(page, int(player.get_attribute("data-duration")))
    page.locator("[data-role=end]").wait_for(state="visible")
    assert page.locator("[data-role=countdown]").count() == 0
    assert not page.csp_errors, page.csp_errors
    assert Title.objects.filter(pk=series.pk).exists()


def test_search_finds_a_person_despite_a_typo_in_the_box_and_on_the_results_page(page, demo_site, screenshot):
    url, profile = demo_site
    visible = visible_titles(profile).values("pk")
    credit = (
        Credit.objects.filter(title__in=visible, person__name__regex=r"^\w+ \w{6,}$")
        .select_related("person")
        .order_by("person__name")
        .first()
    )
    person = credit.person
    first, last = person.name.split()
    typo = f"{first} {last[:3]}{last[4:]}"  # one letter of the surname missing
    page.fill("#site-search", typo)
    suggestion = page.locator(f'#search-suggestions [data-person="{person.slug}"] a')
    suggestion.wait_for()
    assert "(person," in suggestion.inner_text()
    screenshot("search-suggest-person.png")
    page.press("#site-search", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    chip = page.locator(f'.people-results [data-person="{person.slug}"] a')
    chip.wait_for()
    screenshot("search-people.png")
    chip.click()
    page.wait_for_url(f"{url}/people/{person.slug}/")
    assert page.locator("h1").inner_text() == person.name
