"""Browser: the privacy policy, its versions and the consent toggles (issue 15 req 7).

The policy page, the list of versions and an archived version pass axe-core with no serious or
critical violation; the toggles' labels read "<purpose>: on/off" for the box as it is ticked, and
what is saved. Screenshots: artifacts/policy.png, artifacts/policy-versions.png,
artifacts/privacy-toggles.png.
"""

import pytest
from django.conf import settings

from privacy import consent
from tests.support.accounts import PASSWORD, make_account

pytestmark = pytest.mark.browser


def _axe_serious(axe, page) -> list:
    results = axe.run(page)
    return [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")], results


def test_policy_pages_pass_axe(page, live_server, transactional_db, screenshot, sync_api):
    from axe_playwright_python import sync_playwright as axe_playwright

    expect = sync_api.expect
    url = live_server.url
    axe = axe_playwright.Axe()
    reports = []
    for label, path, shot in (
        ("policy", "/privacy/policy/", "policy.png"),
        ("versions", "/privacy/policy/versions/", "policy-versions.png"),
        ("archived version", "/privacy/policy/versions/2026-11-01/", None),
    ):
        page.goto(f"{url}{path}")
        expect(page.locator("h1")).to_be_visible()
        if shot:
            screenshot(shot, full_page=True)
        serious, results = _axe_serious(axe, page)
        if serious:
            reports.append(f"{label} ({page.url}): {len(serious)} serious/critical\n{results.generate_report()}")
    assert not reports, "\n\n".join(reports)

    # From the list to the current version and back to an earlier one.
    page.goto(f"{url}/privacy/policy/versions/")
    current = page.locator(f'tr[data-policy-version="{settings.PRIVACY_POLICY_VERSION}"]')
    expect(current).to_contain_text("current")
    page.click('a[href="/privacy/policy/versions/2026-11-01/"]')
    expect(page.locator("[data-policy-archived]")).to_be_visible()
    expect(page.locator("[data-policy-version]")).to_have_text("2026-11-01")
    assert page.csp_errors == []


def test_toggle_labels_say_what_they_do_and_follow_the_box(page, live_server, transactional_db, screenshot, sync_api):
    expect = sync_api.expect
    url = live_server.url
    user, _profile = make_account("toggler", consents=False)
    consent.consents_set(account_id=user.pk, choices={"viewing_history": True}, method="settings")
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "toggler")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{url}/profiles/")
    page.click(f"form[action='/profiles/{_profile.pk}/select/'] button")
    page.goto(f"{url}/privacy/")

    label = page.locator('[data-purpose="personalization"] [data-toggle-label]')
    # inner text: what is rendered (the other state is in the page, hidden by CSS).
    expect(label).to_have_text("Personalized recommendations: off", use_inner_text=True)
    expect(page.locator('[data-purpose="viewing_history"] [data-toggle-label]')).to_have_text(
        "Viewing history: on", use_inner_text=True
    )
    # The switch's accessible name is what it does and where it stands.
    expect(page.get_by_role("switch", name="Personalized recommendations: off")).not_to_be_checked()
    page.check("#consent-personalization")
    expect(label).to_have_text("Personalized recommendations: on", use_inner_text=True)  # as ticked, not saved
    screenshot("privacy-toggles.png", full_page=True)
    page.click("form.consent-form button[type=submit]")
    expect(page.locator('[data-purpose="personalization"] [data-toggle-label]')).to_have_text(
        "Personalized recommendations: on", use_inner_text=True
    )
    assert consent.current(user.pk)["personalization"] is True
    assert page.csp_errors == []
