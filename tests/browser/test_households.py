"""Browser: issue 10's "tablet story", which must now end with the child refused at each step.

A parent signs in on a shared tablet and hands it over on the Kids profile. The child then
tries every door we know of: managing profiles, editing their own profile, an NC-17 title,
switching to the parent's profile, the privacy pages and the API from the same session. Each
one is refused and nothing in the database changes. Finally the parent takes the tablet back
through "Exit Kids" and the account password, which also opens sudo mode (common.sudo).

Screenshots for a human (1440x900): artifacts/kids-home.png, kids-sudo-prompt.png and
kids-exit.png (reviewed copies in docs/screenshots/). The axe-core check of the password
prompt and the Exit Kids page uses `axe-playwright-python` (requirements-dev.txt).
"""

import re
from contextlib import contextmanager
from importlib import import_module

import pytest
from django.conf import settings

from accounts.active import SESSION_KEY
from accounts.maturity import MaturityLevel, MaturityRating
from accounts.models import Profile
from privacy.models import ExportRequest
from tests.support import ROOT
from tests.support.accounts import PASSWORD, make_account
from tests.support.factories import ProfileFactory, TitleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Written under artifacts/ (not committed) on every run; copies of a reviewed run live in docs/screenshots/.
SCREENSHOTS = ROOT / "artifacts"
VIEWPORT = {"width": 1440, "height": 900}
WRONG_PASSWORD = "not-the-password-1"

# Links a kids session must never be offered: the account, privacy settings and data, password.
GROWN_UP_LINKS = ("/account/", "/privacy/", "/privacy/data/", "/accounts/password/change/")

# fetch() from the page, as the site's own JS does: the session cookie, and the CSRF token that
# base.html puts in <body hx-headers>.
API_FETCH = """
async ([method, url, body]) => {
  const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
  const init = {
    method,
    credentials: 'same-origin',
    headers: {'X-CSRFToken': token, 'Accept': 'application/json', 'Content-Type': 'application/json'},
  };
  if (body !== null) init.body = JSON.stringify(body);
  const response = await fetch(url, init);
  let data = null;
  try { data = await response.json(); } catch (e) {}
  return {status: response.status, data};
}
"""

# A form POST from the page (no browser form involved), following redirects like a form would.
FORM_POST = """
async ([url, fields]) => {
  const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {'X-CSRFToken': token},
    body: new URLSearchParams(fields),
  });
  return {status: response.status, url: response.url};
}
"""


def _has_word(word: str) -> re.Pattern:
    """A class-attribute pattern: `word` among the element's classes."""
    return re.compile(rf"(^|\s){re.escape(word)}(\s|$)")


@contextmanager
def step(label: str):
    """Name the story's step in a failure, so the report says where the child got through."""
    try:
        yield
    except BaseException as error:
        error.add_note(f"--- tablet story, step {label}")
        raise


@pytest.fixture
def household(transactional_db):
    user, parent = make_account("parent", maturity_limit=MaturityLevel.ALL)
    kids = ProfileFactory(account=user, name="Kids", is_kids=True, maturity_limit=MaturityLevel.FAMILY)
    adult_title = TitleFactory(name="Night Shift", slug="night-shift", maturity_rating=MaturityRating.NC_17)
    family_title = TitleFactory(name="Sunny Farm", slug="sunny-farm", maturity_rating=MaturityRating.PG)
    assert adult_title.is_published and family_title.is_published
    assert adult_title.maturity_level == 5 and family_title.maturity_level == 2
    assert parent.name == "Parent"
    return {"user": user, "parent": parent, "kids": kids, "adult_title": adult_title, "family_title": family_title}


def _session(page) -> dict:
    """The server-side session of this browser (the active profile, sudo mode)."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    return dict(store.load())


def _active_profile_id(page):
    return _session(page).get(SESSION_KEY)


def _assert_kids_profile_untouched(kids: Profile) -> None:
    fresh = Profile.objects.get(pk=kids.pk)
    assert fresh.is_kids is True
    assert fresh.maturity_limit == MaturityLevel.FAMILY
    assert fresh.name == "Kids"
    assert not fresh.has_pin


def _sign_in_and_choose_kids(page, url: str, kids: Profile) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "parent")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{url}/profiles/")
    page.click(f"form[action='/profiles/{kids.pk}/select/'] button")
    page.wait_for_url(f"{url}/")


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_tablet_story_the_child_is_refused_at_each_step(page, live_server, household, sync_api):
    expect = sync_api.expect
    url = live_server.url
    parent, kids = household["parent"], household["kids"]
    page.set_viewport_size(VIEWPORT)

    with step("1: the parent signs in and hands over on the Kids profile"):
        _sign_in_and_choose_kids(page, url, kids)
        expect(page.locator("body")).to_have_class(_has_word("kids-mode"))
        assert _active_profile_id(page) == kids.pk
        # Choosing a kids profile drops the sudo mode the log-in opened.
        assert "sudo_until" not in _session(page)
        expect(page.locator("main")).to_contain_text("Sunny Farm")
        expect(page.locator("main")).not_to_contain_text("Night Shift")

    with step("2: the kids header has no account menu, only Exit Kids"):
        expect(page.locator("header details.profile-switcher")).to_have_count(0)
        for href in GROWN_UP_LINKS:
            expect(page.locator(f"a[href='{href}']")).to_have_count(0)
        expect(page.locator("a[href^='/accounts/password/change']")).to_have_count(0)
        expect(page.locator("header [data-exit-kids-link]")).to_be_visible()
        expect(page.locator("footer.site-footer")).not_to_contain_text("Your data")
        _screenshot(page, "kids-home.png")

    with step("3: Manage profiles asks for the account password; a wrong one is refused"):
        page.goto(f"{url}/profiles/")
        page.click("a[href='/profiles/?manage=1']")
        page.wait_for_url("**/accounts/confirm/?next=*")
        assert "manage%3D1" in page.url or "manage=1" in page.url
        expect(page.locator("[data-sudo-prompt]")).to_be_visible()
        expect(page.locator("[data-sudo-prompt] [data-kids-refused]")).to_be_visible()
        expect(page.locator("h1")).not_to_have_text("Manage profiles")
        expect(page.locator("a[href$='/edit/']")).to_have_count(0)
        _screenshot(page, "kids-sudo-prompt.png")

        page.fill("input[name=password]", WRONG_PASSWORD)
        with page.expect_response(lambda r: r.request.method == "POST" and "/accounts/confirm/" in r.url) as info:
            page.click("[data-sudo-prompt] form button[type=submit]")
        assert info.value.status == 403
        expect(page.locator("[data-sudo-prompt]")).to_be_visible()
        expect(page.locator("[data-sudo-prompt] .field-errors")).to_contain_text("not the account password")
        expect(page.locator("a[href$='/edit/']")).to_have_count(0)
        expect(page.locator("body")).to_have_class(_has_word("kids-mode"))
        assert _active_profile_id(page) == kids.pk
        assert "sudo_until" not in _session(page)

    with step("4: the Kids profile's edit page asks for the password; nothing changes"):
        page.goto(f"{url}/profiles/{kids.pk}/edit/")
        page.wait_for_url("**/accounts/confirm/?next=*")
        expect(page.locator("[data-sudo-prompt] [data-kids-refused]")).to_be_visible()
        expect(page.locator("input[name=is_kids]")).to_have_count(0)
        # Posting the edit form directly (as a script could) lands on the prompt too.
        posted = page.evaluate(
            FORM_POST, [f"/profiles/{kids.pk}/edit/", {"name": "Kids", "maturity_limit": "5", "is_kids": ""}]
        )
        assert "/accounts/confirm/" in posted["url"], posted
        _assert_kids_profile_untouched(kids)

    with step("5: the NC-17 title is a 404 (the PG one opens)"):
        response = page.goto(f"{url}/title/{household['family_title'].slug}/")
        assert response.status == 200
        expect(page.locator("h1.detail-name")).to_have_text("Sunny Farm")
        response = page.goto(f"{url}/title/{household['adult_title'].slug}/")
        assert response.status == 404
        expect(page.locator("main h1")).to_have_text("Page not found")
        expect(page.locator("h1.detail-name")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text("Night Shift")

    with step("6: choosing the Parent profile asks for the account password; a wrong one is refused"):
        page.goto(f"{url}/profiles/")
        page.click(f"form[action='/profiles/{parent.pk}/select/'] button")
        page.wait_for_url(f"{url}/profiles/{parent.pk}/select/")
        expect(page.locator(f'[data-profile-unlock="{parent.pk}"]')).to_be_visible()
        expect(page.locator("[data-profile-unlock]")).to_contain_text("account password")
        assert _active_profile_id(page) == kids.pk

        page.fill("#unlock-secret", WRONG_PASSWORD)
        with page.expect_response(lambda r: r.request.method == "POST" and "/select/" in r.url) as info:
            page.click("[data-profile-unlock] form button[type=submit]")
        assert info.value.status == 403
        expect(page.locator("[data-profile-unlock] [role=alert]")).to_contain_text("not the account password")
        assert _active_profile_id(page) == kids.pk
        assert "sudo_until" not in _session(page)
        page.goto(f"{url}/")
        expect(page.locator("body")).to_have_class(_has_word("kids-mode"))

    with step("7: the privacy pages are refused (403), with no consent form"):
        for path in ("/privacy/", "/privacy/data/"):
            response = page.goto(f"{url}{path}")
            assert response.status == 403, path
            expect(page.locator("main [data-kids-refused]")).to_be_visible()
            expect(page.locator("form.consent-form")).to_have_count(0)
            expect(page.locator("input[type=checkbox]")).to_have_count(0)
            expect(page.locator("button[data-request-export]")).to_have_count(0)

    with step("8: the API refuses the kids session (403 with a detail); the database is unchanged"):
        page.goto(f"{url}/")
        calls = [
            ("PATCH", f"/api/v1/profiles/{kids.pk}/", {"is_kids": False, "maturity_limit": 5}),
            ("GET", f"/api/v1/titles/?profile={parent.pk}", None),
            ("GET", f"/api/v1/profiles/{parent.pk}/viewing/", None),
            ("POST", "/api/v1/privacy/exports/", {}),
        ]
        for method, path, body in calls:
            result = page.evaluate(API_FETCH, [method, path, body])
            assert result["status"] == 403, (method, path, result)
            detail = (result["data"] or {}).get("detail")
            assert isinstance(detail, str) and detail, (method, path, result)
            assert "kids" in detail.lower(), (method, path, detail)
        _assert_kids_profile_untouched(kids)
        assert not ExportRequest.objects.exists()
        assert _active_profile_id(page) == kids.pk

    with step("9: the parent takes the tablet back: Exit Kids, Parent, the password"):
        page.goto(f"{url}/")
        page.click("[data-exit-kids-link]")
        page.wait_for_url(f"{url}/profiles/exit-kids/")
        expect(page.locator("[data-exit-kids]")).to_be_visible()
        # Only the grown-up profiles are offered.
        expect(page.locator(f"form[action='/profiles/{kids.pk}/select/']")).to_have_count(0)
        _screenshot(page, "kids-exit.png")
        page.click(f"form[action='/profiles/{parent.pk}/select/'] button")
        page.wait_for_url(f"{url}/profiles/{parent.pk}/select/")
        expect(page.locator(f'[data-profile-unlock="{parent.pk}"]')).to_be_visible()
        page.fill("#unlock-secret", PASSWORD)
        page.click("[data-profile-unlock] form button[type=submit]")
        page.wait_for_url(f"{url}/")
        expect(page.locator("body")).not_to_have_class(_has_word("kids-mode"))
        expect(page.locator("header details.profile-switcher")).to_have_count(1)
        assert _active_profile_id(page) == parent.pk
        expect(page.locator("main")).to_contain_text("Night Shift")
        # The password just typed opened sudo mode: the account page opens without a prompt.
        page.goto(f"{url}/account/")
        assert page.url == f"{url}/account/"
        expect(page.locator("[data-account-settings]")).to_be_visible()
        _assert_kids_profile_untouched(kids)

    assert page.csp_errors == []


def test_kids_password_prompt_and_exit_page_pass_axe(page, live_server, household):
    from axe_playwright_python import sync_playwright as axe_playwright

    url = live_server.url
    page.set_viewport_size(VIEWPORT)
    _sign_in_and_choose_kids(page, url, household["kids"])
    axe = axe_playwright.Axe()
    reports = []
    for label, path in (
        ("password prompt", "/accounts/confirm/?next=/profiles/%3Fmanage%3D1"),
        ("exit kids", "/profiles/exit-kids/"),
        ("profile unlock", None),
    ):
        if path is None:  # the unlock prompt is a POST's answer: get there through Exit Kids
            page.goto(f"{url}/profiles/exit-kids/")
            page.click(f"form[action='/profiles/{household['parent'].pk}/select/'] button")
            page.wait_for_selector("[data-profile-unlock]")
        else:
            page.goto(f"{url}{path}")
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        if serious:
            reports.append(f"{label} ({page.url}): {len(serious)} serious/critical\n{results.generate_report()}")
    assert not reports, "\n\n".join(reports)
    assert page.csp_errors == []
