"""The insights dashboard in a real browser, on the embedded stack's path (a background thread of
the live server's process): the first visit to an empty dashboard starts the computation, the
page shows its step and percentage while it runs, and when it ends the polling stops and the
fresh figures are swapped in without a reload; axe finds no serious or critical violation in
either state.

Screenshot for a human: artifacts/insights-progress.png (the run waiting at its first step).
"""

import threading

import pytest

from insights import computation
from insights.models import InsightsSnapshot, SnapshotStatus
from ops import background
from tests.browser.conftest import ARTIFACTS, page, sync_api  # noqa: F401 - the browser fixtures
from tests.support.accounts import make_account
from tests.support.factories import PASSWORD, GenreFactory, TitleFactory, UserFactory, ViewingFactory

pytestmark = pytest.mark.django_db(transaction=True)

GATE = threading.Event()


def _axe(pg):
    from axe_playwright_python import sync_playwright as axe_playwright

    return axe_playwright.Axe().run(pg).response["violations"]


def _serious(violations) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def gated_run(settings, monkeypatch):
    settings.OUTBOX_EAGER_THREADS = True
    GATE.clear()

    def gate(run):
        if not GATE.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")

    monkeypatch.setattr(computation, "STEPS", [("gate", "Waiting at the gate", gate), *computation.STEPS])
    yield
    GATE.set()
    assert background.wait_idle(timeout=30)


def test_first_visit_computes_in_the_background_with_progress_then_swaps_the_figures_in(page, live_server, gated_run):  # noqa: F811
    drama = GenreFactory(name="Drama", slug="drama")
    title = TitleFactory(name="D1", genres=[drama])
    for i in range(3):
        ViewingFactory(profile=make_account(f"fan{i}")[1], title=title, completed=True)
    UserFactory(username="analyst", is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/insights/")
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/admin/insights/")

    # The first visit started one run, and the page answered while it waits at the gate.
    snap = InsightsSnapshot.objects.get()
    assert snap.trigger == "first-visit"
    page.wait_for_selector('#insights-status[data-state="running"]', timeout=15_000)
    page.wait_for_function(
        # A function, not an expression: Playwright evals a bare expression string while it polls,
        # which the page's CSP (no unsafe-eval) refuses.
        "() => document.querySelector('#insights-status .run-step')?.textContent === 'Waiting at the gate'"
    )
    assert page.locator("#insights-status progress").count() == 1
    assert page.locator("#insights-status button[type=submit]").is_disabled()
    assert "No figures yet" in page.locator("#insights-body").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "insights-progress.png"))
    running_report = _axe(page)

    # Mark this document: a reload would lose the mark.
    page.evaluate("window.__sameDocument = true")
    GATE.set()
    page.wait_for_selector('#insights-status[data-state="ready"]', timeout=30_000)
    page.wait_for_selector('#insights-body [data-section="demand-genre"]', timeout=10_000)
    assert page.evaluate("window.__sameDocument === true"), "the figures came by a swap, not a reload"
    assert "Aggregation finished" in page.locator("#insights-status").inner_text()
    assert page.locator("#insights-status[hx-get]").count() == 0  # the polling stopped
    assert not page.locator("#insights-status button[type=submit]").is_disabled()
    assert InsightsSnapshot.objects.get().status == SnapshotStatus.READY
    assert not page.csp_errors, page.csp_errors
    assert _serious(running_report) == [] and _serious(_axe(page)) == []
