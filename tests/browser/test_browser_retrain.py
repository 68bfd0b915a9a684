"""The model registry in a real browser: "Retrain now" on the embedded stack (a background thread
of the live server's process) shows a moving progress bar, then the outcome; the list fits 1400 px.

Screenshots for a human: docs/screenshots/admin-retrain-progress.png (the bar mid-way) and
docs/screenshots/admin-model-versions-1400.png.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from ops import background
from recommendations.models import ModelStatus, ModelVersion
from recommendations.params import HybridParams
from tests.support import ROOT
from tests.support.factories import PASSWORD, UserFactory
from tests.support.training_world import build_world

SHOTS = ROOT / "docs" / "screenshots"
CHANGELIST = "/admin/recommendations/modelversion/"
# Many cheap epochs: a training of several seconds on the small world, so the bar can be seen
# moving. An epoch takes well under a millisecond here; the reports are throttled to 1/s.
SLOW = HybridParams(no_components=8, epochs=8000, max_sampled=10, num_threads=1)


@pytest.fixture
def staff_page(page, live_server):
    UserFactory(username="curator", is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/?next={CHANGELIST}")
    page.fill("input[name=username]", "curator")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**{CHANGELIST}")
    return page


@pytest.fixture
def model_root(settings, tmp_path):
    settings.MODEL_ROOT = tmp_path / "models"


def test_retrain_now_shows_the_progress_bar_moving_then_the_outcome(staff_page, live_server, settings, model_root):
    page = staff_page
    settings.OUTBOX_EAGER_THREADS = True  # the embedded stack's default: a thread, not the request
    settings.RECOMMENDER_PARAMS = SLOW.to_dict()
    build_world()
    # Earlier versions, so the chart has a history (their files are gone: the new model only
    # has to beat popularity to be promoted).
    for i, (status, ndcg) in enumerate([(ModelStatus.RETIRED, 0.21), (ModelStatus.SERVING, 0.26)]):
        ModelVersion.objects.create(
            version=f"2026120{i + 1}-031500-b00{i}",
            status=status,
            trigger="nightly",
            created_at=timezone.now() - timedelta(days=2 - i),
            metrics={"p@10": 0.1, "r@10": 0.2, "ndcg@10": ndcg, "auc": 0.9, "coverage": 0.35 + i / 10},
            baseline_metrics={"ndcg@10": 0.12},
        )
    page.set_viewport_size({"width": 1400, "height": 900})
    page.reload()
    assert page.locator("#retrain-status").get_attribute("data-state") == "idle"

    started = time.monotonic()
    with page.expect_navigation():  # the POST, its redirect and the list it lands on
        page.click("button.retrain-button")
    answered = time.monotonic() - started
    assert page.url.endswith(CHANGELIST)
    assert "Training queued" in page.locator("ul.messagelist").inner_text()
    status = page.locator("#retrain-status")
    page.wait_for_selector('#retrain-status[data-state="training"]', timeout=30_000)
    # The request answered before the training got anywhere near its end.
    assert answered < 5, answered
    # A reload while it trains picks the polling up again (and the list shows the new row).
    page.reload()
    page.wait_for_selector('#retrain-status[data-state="training"]')

    seen: list[int] = []
    shot = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # One read of the panel as it is now (htmx swaps it every second).
        now = page.evaluate(
            """() => {
                const panel = document.querySelector('#retrain-status');
                const bar = panel.querySelector('progress.retrain-bar');
                return {state: panel.dataset.state, progress: panel.dataset.progress,
                        bar: bar && bar.value, text: panel.innerText};
            }"""
        )
        if now["state"] == "idle":
            break
        if now["state"] == "training":
            value = int(now["progress"])
            assert now["bar"] == value and f"{value}%" in now["text"]
            if not seen or seen[-1] != value:
                seen.append(value)
            if not shot and 25 <= value <= 80:
                assert "epoch" in now["text"]
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "admin-retrain-progress.png"), full_page=False)
                shot = True
        page.wait_for_timeout(200)
    else:
        pytest.fail(f"training did not finish in time; progress seen: {seen}")

    assert background.wait_idle(timeout=30)
    moving = sorted({v for v in seen if 0 < v < 100})
    assert len(moving) >= 2, seen  # the bar really moved, as seen by polling
    assert seen == sorted(seen)  # and only forwards
    assert shot, seen
    mv = ModelVersion.objects.get(trigger="admin")
    assert mv.status == ModelStatus.SERVING and (mv.progress, mv.step) == (100, "Done")
    final = status.inner_text()
    assert "Finished." in final and "promoted" in final and mv.version in final
    # Polling stopped: the finished panel has no trigger.
    assert status.get_attribute("hx-trigger") is None
    page.click("text=Show the new version in the list")
    page.wait_for_url(f"**{CHANGELIST}")
    assert page.locator("#result_list").inner_text().count(mv.version) == 1
    assert page.csp_errors == []


def test_the_model_version_list_fits_1400_px(staff_page, live_server, model_root):
    page = staff_page
    t0 = timezone.now() - timedelta(days=20)
    statuses = [ModelStatus.RETIRED] * 5 + [ModelStatus.REJECTED, ModelStatus.FAILED, ModelStatus.SERVING]
    for i, status in enumerate(statuses):
        evaluated = status != ModelStatus.FAILED
        ModelVersion.objects.create(
            version=f"2026110{i}-031500-a{i:03d}",
            status=status,
            trigger="new-interactions" if i % 2 else "nightly",
            created_at=t0 + timedelta(days=2 * i),
            duration_seconds=44.2 + i,
            metrics={"p@10": 0.1234, "r@10": 0.2345, "ndcg@10": 0.25 + i / 100, "auc": 0.9123, "coverage": 0.4 + i / 50}
            if evaluated
            else {},
            baseline_metrics={"ndcg@10": 0.1187} if evaluated else {},
            error="" if evaluated else "RuntimeError: fit exploded",
        )
    page.set_viewport_size({"width": 1400, "height": 900})
    page.reload()
    size = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const results = table.closest('.results') || table.parentElement;
            return {
                viewport: window.innerWidth,
                page: document.documentElement.scrollWidth,
                tableRight: table.getBoundingClientRect().right,
                resultsScroll: results.scrollWidth,
                resultsClient: results.clientWidth,
            };
        }"""
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-model-versions-1400.png"), full_page=True)
    assert size["page"] <= size["viewport"], size
    assert size["tableRight"] <= size["viewport"], size
    assert size["resultsScroll"] <= size["resultsClient"], size  # no horizontal scrollbar on the table
    # The chart is there, named for assistive technology; the panel, the chart, the button and
    # the list pass axe-core.
    chart = page.locator(".model-metrics svg[role=img]")
    assert "nDCG@10 vs the popularity baseline" in chart.locator("title").first.text_content()
    from axe_playwright_python import sync_playwright as axe_playwright

    for region in (".model-registry-top", ".object-tools", "#result_list"):
        results = axe_playwright.Axe().run(page, context=region)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, (region, results.generate_report())
    assert page.csp_errors == []
