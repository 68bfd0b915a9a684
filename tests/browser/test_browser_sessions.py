"""Browser: two browsers signed in to one account; one signs the other out from "Sessions and
devices", and the other is signed out. At 390 px the account pages fit the phone."""

import pytest

from accounts.models import Device
from tests.support.accounts import PASSWORD, make_account
from tests.support.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _open(page, url: str, path: str) -> None:
    """Open an account-level page, typing the password when sudo mode asks for it."""
    page.goto(f"{url}{path}")
    if "/accounts/confirm/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{url}{path}")


def _serious_axe_violations(page) -> list[str]:
    from axe_playwright_python import sync_playwright as axe_playwright

    results = axe_playwright.Axe().run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def _width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_signing_out_another_browser_from_the_sessions_page(page, live_server, screenshot):
    url = live_server.url
    user, profile = make_account("twobrowsers")
    page.set_viewport_size(PHONE)
    sign_in(page, url, user.username, profile)
    phone_context = page.context.browser.new_context(viewport=PHONE, user_agent=SAFARI_IPHONE)
    try:
        phone = phone_context.new_page()
        phone.set_default_timeout(15_000)
        sign_in(phone, url, user.username, profile)
        assert Device.objects.filter(account=user, kind="session").count() == 2

        _open(page, url, "/account/")
        assert page.locator("[data-devices-link]").is_visible()
        assert _width(page) <= PHONE["width"]
        screenshot("account-390.png", full_page=True)
        page.click("[data-devices-link]")
        page.wait_for_url(f"{url}/account/devices/")
        items = page.locator("[data-device]")
        assert items.count() == 2
        assert page.locator("[data-current-device]").count() == 1
        other = page.locator("[data-device-kind=session]:not([data-current-device])")
        assert "Safari on iOS" in other.inner_text() and "127.0.0.0/24" in other.inner_text()
        assert _width(page) <= PHONE["width"], "the sessions page is wider than the phone"
        screenshot("sessions-390.png", full_page=True)
        assert _serious_axe_violations(page) == []
        assert page.csp_errors == []

        other.locator("button").click()
        page.wait_for_url(f"{url}/account/devices/")
        assert page.locator("[data-device]").count() == 1
        assert "Signed out: Safari on iOS" in page.locator(".messages").inner_text()

        # The phone's next page asks it to sign in again.
        phone.goto(f"{url}/profiles/")
        assert "/accounts/login/" in phone.url
        # This browser is still signed in.
        page.goto(f"{url}/profiles/")
        assert page.url == f"{url}/profiles/"
    finally:
        phone_context.close()


def test_changing_the_email_address_through_the_link_fits_a_phone(page, live_server, screenshot):
    from django.core import mail

    url = live_server.url
    user, profile = make_account("mailchanger")
    page.set_viewport_size(PHONE)
    sign_in(page, url, user.username, profile)
    _open(page, url, "/account/")
    new = "a.rather.long.address.for.a.phone.screen@subdomain.example.net"
    page.fill("input[name=email]", new)
    page.click("[data-email-change-form] button[type=submit]")
    page.wait_for_url(f"{url}/account/")
    assert page.locator("[data-pending-email]").is_visible() and _width(page) <= PHONE["width"]
    link = next(m for m in mail.outbox if m.to == [new]).body.split(url, 1)[1].split()[0]
    page.goto(f"{url}{link}")
    assert page.locator("[data-email-change-confirm]").is_visible()
    assert _width(page) <= PHONE["width"], "the confirmation page is wider than the phone"
    screenshot("email-confirm-390.png", full_page=True)
    page.click("[data-email-change-confirm] button[type=submit]")
    page.wait_for_url(f"{url}/account/")
    assert new in page.locator("[data-current-email]").inner_text()
    user.refresh_from_db()
    assert user.email == new
    page.goto(f"{url}{link}")  # used: a clear refusal
    assert page.locator("[data-email-change-invalid]").is_visible() and _width(page) <= PHONE["width"]
