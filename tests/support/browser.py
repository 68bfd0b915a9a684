"""Helpers for the Playwright browser tests (tests/browser/)."""

from tests.support.factories import PASSWORD


def sign_in(page, url: str, username: str, profile, *, password: str = PASSWORD) -> None:
    """Sign in through the login form and choose `profile` on the "Who's watching?" picker, as a
    person does; returns once the page the choice leads to has loaded."""
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{url}/profiles/")
    page.click(f"form[action='/profiles/{profile.pk}/select/'] button")
    page.wait_for_url(lambda current: not current.endswith("/profiles/"))
    page.wait_for_load_state()
