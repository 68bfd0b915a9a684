"""Training side of the recommender: assembly, the pipeline, the gate, failures, registry, lock."""

import time
from datetime import timedelta

import numpy as np
import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from accounts.maturity import MaturityRating
from catalog.models import CreditRole, TitleTag
from ops import leases
from ops.models import OutboxTask
from recommendations import artifacts, dataset, model_registry, serving, signals, tasks, training
from recommendations.models import ModelStatus, ModelVersion, OnboardingGenre
from recommendations.params import HybridParams
from recommendations.selectors import serving_version
from tests.support.accounts import make_account
from tests.support.factories import (
    CreditFactory,
    GenreFactory,
    ListEntryFactory,
    PersonFactory,
    RatingFactory,
    TagFactory,
    TitleFactory,
    ViewingFactory,
)
from tests.support.training_world import build_world

# One thread: LightFM's parallel SGD is not deterministic, a single thread with a seed is.
FAST = HybridParams(no_components=8, epochs=8, max_sampled=10, num_threads=1)


@pytest.fixture(autouse=True)
def _fast_params(settings, tmp_path):
    settings.RECOMMENDER_PARAMS = FAST.to_dict()
    settings.MODEL_ROOT = tmp_path / "models"


# --- assembly ---------------------------------------------------------------------------------


def _pair(data, profile, title):
    u = int(np.searchsorted(data.profile_ids, profile.pk))
    i = int(np.searchsorted(data.title_ids, title.pk))
    hit = np.flatnonzero((data.users == u) & (data.items == i))
    return hit[0] if len(hit) else None


@pytest.mark.django_db
def test_assembly_positives_strengths_and_downs():
    _, p = make_account("viewer")
    loved, upped, downed, half, barely, listed = TitleFactory.create_batch(6)
    now = timezone.now()
    RatingFactory(profile=p, title=loved, value="love", updated_at=now)
    RatingFactory(profile=p, title=upped, value="up", updated_at=now)
    RatingFactory(profile=p, title=downed, value="down", updated_at=now)
    # Watched to the end AND rated down: the down wins, it is not a positive.
    ViewingFactory(profile=p, title=downed, completed=True, position_seconds=6000, duration_seconds=6000)
    ViewingFactory(profile=p, title=half, position_seconds=3000, duration_seconds=6000, last_watched_at=now)
    ViewingFactory(profile=p, title=barely, position_seconds=600, duration_seconds=6000)
    ListEntryFactory(profile=p, title=listed, added_at=now)

    data = dataset.assemble()

    assert _pair(data, p, downed) is None
    assert _pair(data, p, barely) is None
    w = {t: data.weights[_pair(data, p, t)] for t in (loved, upped, half, listed)}
    assert w[loved] > w[upped] > w[listed] > 0
    assert w[half] == pytest.approx(w[upped])
    assert data.counts["interactions"] == 4


@pytest.mark.django_db
def test_assembly_recency_weighting():
    _, p = make_account("viewer")
    new, old = TitleFactory.create_batch(2)
    now = timezone.now()
    RatingFactory(profile=p, title=new, value="love", updated_at=now)
    RatingFactory(profile=p, title=old, value="love", updated_at=now - timedelta(days=signals.HALF_LIFE_DAYS))
    data = dataset.assemble()
    w_new, w_old = data.weights[_pair(data, p, new)], data.weights[_pair(data, p, old)]
    # One half-life older: floor + (1 - floor) / 2 of the fresh weight.
    assert w_old / w_new == pytest.approx(signals.RECENCY_FLOOR + (1 - signals.RECENCY_FLOOR) / 2, rel=1e-3)


@pytest.mark.django_db
def test_assembly_only_profiles_allowing_personalization():
    _, yes = make_account("consenting")
    _, no = make_account("withholding", consents=False)
    title = TitleFactory()
    RatingFactory(profile=yes, title=title, value="love")
    RatingFactory(profile=no, title=title, value="love")

    data = dataset.assemble()

    assert yes.pk in data.profile_ids
    assert no.pk not in data.profile_ids
    assert data.counts["interactions"] == 1
    assert list(dataset.contributing_profiles().values_list("pk", flat=True)) == [yes.pk]


@pytest.mark.django_db
def test_assembly_unpublished_titles_are_left_out():
    _, p = make_account("viewer")
    hidden = TitleFactory(is_published=False)
    RatingFactory(profile=p, title=hidden, value="love")
    data = dataset.assemble()
    assert hidden.pk not in data.title_ids
    assert data.counts["interactions"] == 0


@pytest.mark.django_db
def test_item_features_identity_beside_metadata():
    scifi = GenreFactory(name="Sci-Fi", slug="sci-fi")
    t1 = TitleFactory(genres=[scifi], year=1984, maturity_rating=MaturityRating.R)
    t2 = TitleFactory(genres=[scifi], year=1986, maturity_rating=MaturityRating.R)
    t3 = TitleFactory(year=None)
    star, extra, director = PersonFactory(), PersonFactory(), PersonFactory()
    for t in (t1, t2):
        CreditFactory(title=t, person=star, order=0)
        CreditFactory(title=t, person=extra, order=5)  # not top-billed
        CreditFactory(title=t, person=director, role=CreditRole.DIRECTOR, order=0)
    tag = TagFactory(name="cyberpunk")
    TitleTag.objects.create(title=t1, tag=tag, weight=0.9)
    TitleTag.objects.create(title=t2, tag=tag, weight=0.5)

    data = dataset.assemble()
    names = data.item_feature_names
    for expected in (
        f"title:{t1.pk}",
        f"title:{t3.pk}",
        "genre:sci-fi",
        "decade:1980",
        "kind:film",
        "maturity:R",
        f"person:{star.pk}",
        f"director:{director.pk}",
        "tag:cyberpunk",
    ):
        assert expected in names, expected
    assert f"person:{extra.pk}" not in names

    row = data.item_features[int(np.searchsorted(data.title_ids, t1.pk))].toarray().ravel()
    n_items = len(data.title_ids)
    # Identity keeps weight 1, the metadata of the row sums to META_WEIGHT (not diluting identity).
    assert row[names.index(f"title:{t1.pk}")] == pytest.approx(1.0)
    assert row[n_items:].sum() == pytest.approx(HybridParams().meta_weight, rel=1e-5)
    assert row[names.index("genre:sci-fi")] > 0


@pytest.mark.django_db
def test_user_features_kids_and_onboarding_genres():
    _, kid = make_account("kiddo", is_kids=True, maturity_limit=2)
    _, adult = make_account("adult")
    comedy = GenreFactory(name="Comedy", slug="comedy")
    OnboardingGenre.objects.create(profile=adult, genre=comedy)
    data = dataset.assemble()
    names = data.user_feature_names
    assert {"kids", "genre:comedy", f"profile:{kid.pk}", f"profile:{adult.pk}"} <= set(names)
    kid_row = data.user_features[int(np.searchsorted(data.profile_ids, kid.pk))].toarray().ravel()
    adult_row = data.user_features[int(np.searchsorted(data.profile_ids, adult.pk))].toarray().ravel()
    assert kid_row[names.index("kids")] > 0 and adult_row[names.index("kids")] == 0
    assert adult_row[names.index("genre:comedy")] > 0


@pytest.mark.django_db
def test_assembly_reads_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    build_world(n_profiles=20, n_titles=20)
    # profiles, titles, ratings, viewing, list, search clicks, hidden, title rows, genres, tags,
    # credits, kids, onboarding
    with django_assert_max_num_queries(13):
        data = dataset.assemble()
    assert data.counts["interactions"] == 20 * 10


# --- the pipeline -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_train_and_register_promotes_and_writes_loadable_artifacts(django_capture_on_commit_callbacks):
    profiles, titles = build_world()
    with django_capture_on_commit_callbacks(execute=True):
        mv = training.train_and_register(trigger="test")
    # Published after commit, for the serving side's per-process cache.
    assert cache.get(model_registry.SERVING_CACHE_KEY) == mv.version

    assert mv.status == ModelStatus.SERVING
    assert serving_version() == mv
    assert mv.metrics["ndcg@10"] > mv.baseline_metrics["ndcg@10"]
    assert set(mv.metrics) >= {"p@10", "r@10", "ndcg@10", "auc", "coverage"}
    assert mv.data_counts["profiles"] == len(profiles) and mv.data_counts["titles"] == len(titles)
    assert mv.interactions_at_training == 440  # 10 positives + 1 down per profile
    assert mv.params["no_components"] == FAST.no_components
    assert serving.get_model().model.version == mv.version

    art = artifacts.load(mv.version)
    assert art.item_vecs.shape == (len(titles), FAST.no_components)
    assert art.user_vecs.shape == (len(profiles), FAST.no_components)
    assert sorted(art.profile_ids) == sorted(p.pk for p in profiles)
    assert np.isfinite(art.item_bias).all()


@pytest.mark.django_db
def test_second_model_retires_the_first(settings):
    settings.RECOMMENDER_PROMOTION_TOLERANCE = 1.0  # this test is about retirement, not the gate
    build_world()
    first = training.train_and_register(trigger="test")
    second = training.train_and_register(trigger="test")
    first.refresh_from_db()
    assert second.status == ModelStatus.SERVING
    assert first.status == ModelStatus.RETIRED
    assert ModelVersion.objects.filter(status=ModelStatus.SERVING).count() == 1


@pytest.mark.django_db
def test_worse_model_is_not_promoted(monkeypatch, django_capture_on_commit_callbacks):
    build_world()
    with django_capture_on_commit_callbacks(execute=True):
        first = training.train_and_register(trigger="test")
    good = first.metrics["ndcg@10"]

    def worse_split(params, data, progress=None):
        metrics = {"users": 1, "p@10": 0.1, "r@10": 0.1, "ndcg@10": good - 0.1, "auc": 0.6, "coverage": 0.5}
        return metrics, {**metrics, "ndcg@10": 0.01}, {"train": 1, "test": 1, "eval_users": 1}

    monkeypatch.setattr(training, "score_split", worse_split)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = training.train_and_register(trigger="test")
    assert callbacks == []  # nothing published

    assert second.status == ModelStatus.REJECTED
    assert "worse than serving" in second.gate
    assert serving_version() == first
    serving.reset()
    assert serving.get_model().model.version == first.version


@pytest.mark.django_db
def test_model_that_does_not_beat_popularity_is_not_promoted(monkeypatch):
    build_world()

    def flat_split(params, data, progress=None):
        metrics = {"users": 1, "p@10": 0.1, "r@10": 0.1, "ndcg@10": 0.2, "auc": 0.6, "coverage": 0.5}
        return metrics, {**metrics, "ndcg@10": 0.25}, {"train": 1, "test": 1, "eval_users": 1}

    monkeypatch.setattr(training, "score_split", flat_split)
    mv = training.train_and_register(trigger="test")
    assert mv.status == ModelStatus.REJECTED
    assert "popularity" in mv.gate
    assert serving_version() is None


@pytest.mark.django_db
def test_failing_training_leaves_serving_version_serving(monkeypatch):
    build_world()
    first = training.train_and_register(trigger="test")

    def boom(*args, **kwargs):
        raise RuntimeError("fit exploded")

    monkeypatch.setattr(training, "fit_hybrid", boom)
    with pytest.raises(RuntimeError):
        training.train_and_register(trigger="test")

    failed = ModelVersion.objects.exclude(pk=first.pk).get()
    assert failed.status == ModelStatus.FAILED
    assert "fit exploded" in failed.error
    assert not artifacts.version_dir(failed.version).exists()
    assert serving_version() == first
    serving.reset()
    assert serving.get_model().model.version == first.version


@pytest.mark.django_db
def test_training_without_data_fails_cleanly():
    with pytest.raises(training.TrainingError):
        training.train_and_register(trigger="test")
    assert ModelVersion.objects.get().status == ModelStatus.FAILED
    assert serving_version() is None


# --- registry ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rollback_to_a_retired_version(django_capture_on_commit_callbacks):
    build_world()
    first = training.train_and_register(trigger="test")
    second = training.train_and_register(trigger="test")
    with django_capture_on_commit_callbacks(execute=True):
        model_registry.rollback_to(first.version)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ModelStatus.SERVING and second.status == ModelStatus.RETIRED
    assert cache.get(model_registry.SERVING_CACHE_KEY) == first.version


@pytest.mark.django_db
def test_rollback_refuses_missing_artifacts_and_failed_versions():
    build_world()
    first = training.train_and_register(trigger="test")
    training.train_and_register(trigger="test")
    artifacts.delete(first.version)
    with pytest.raises(model_registry.PromotionError):
        model_registry.rollback_to(first.version)
    failed = ModelVersion.objects.create(version="20260101-000000-dead", status=ModelStatus.FAILED)
    with pytest.raises(model_registry.PromotionError):
        model_registry.rollback_to(failed.version)
    with pytest.raises(model_registry.PromotionError):
        model_registry.rollback_to("no-such-version")


@pytest.mark.django_db
def test_serving_finds_the_serving_version_in_the_database_without_the_cache_key():
    build_world()
    mv = training.train_and_register(trigger="test")
    cache.clear()
    serving.reset()
    assert serving.get_model().model.version == mv.version


# --- task, lock, schedule ---------------------------------------------------------------------


@pytest.mark.django_db
def test_task_trains_and_releases_the_lock():
    build_world()
    result = tasks.model_train.delay(trigger="test").get()
    assert result["skipped"] is False
    assert serving_version().version == result["version"]
    assert leases.current(tasks.LEASE) is None


@pytest.mark.django_db
def test_task_marks_an_orphaned_training_failed():
    build_world(n_profiles=10, n_titles=20)
    orphan = ModelVersion.objects.create(version="20260101-000000-dead", status=ModelStatus.TRAINING)
    tasks.model_train.delay(trigger="test").get()
    orphan.refresh_from_db()
    assert orphan.status == ModelStatus.FAILED and "interrupted" in orphan.error


@pytest.mark.django_db
def test_lock_keeps_two_trainings_apart():
    build_world()
    assert leases.acquire(tasks.LEASE, "someone-else", ttl=60)
    result = tasks.model_train.delay(trigger="test").get()
    assert result == {"skipped": True, "reason": "another training is running"}
    assert not ModelVersion.objects.exists()
    # The holder's lease is untouched by the skipped run.
    assert leases.current(tasks.LEASE).holder == "someone-else"


@pytest.mark.django_db
def test_a_lapsed_lease_is_taken_over_and_its_orphan_marked_failed():
    """A holder that stopped renewing (killed worker) blocks nothing once its lease lapses."""
    build_world(n_profiles=10, n_titles=20)
    assert leases.acquire(tasks.LEASE, "dead-worker/0000", ttl=60)
    orphan = ModelVersion.objects.create(version="20260101-000000-dead", status=ModelStatus.TRAINING)
    assert tasks.model_train.delay(trigger="test").get()["skipped"] is True
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert not tasks.training_running()
        result = tasks.model_train.delay(trigger="test").get()
    assert result["skipped"] is False
    orphan.refresh_from_db()
    assert orphan.status == ModelStatus.FAILED and "interrupted" in orphan.error


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_training_runs(monkeypatch, settings):
    """The heartbeat keeps a live training's lease from lapsing, however long the fit."""
    settings.JOB_LEASE_SECONDS = 0.6
    seen = []

    def slow_training(**kw):
        first = leases.current(tasks.LEASE).expires_at
        time.sleep(1.5)  # longer than the lease: only renewals keep it
        lease = leases.current(tasks.LEASE)
        seen.append((first, lease.expires_at if lease else None))
        raise RuntimeError("stop here")

    monkeypatch.setattr(training, "train_and_register", slow_training)
    with pytest.raises(RuntimeError):
        tasks.train_single_flight(trigger="test", holder="me/1")
    first, later = seen[0]
    assert later is not None and later > first
    assert leases.current(tasks.LEASE) is None


@pytest.mark.django_db
def test_lock_is_released_when_training_fails(monkeypatch):
    monkeypatch.setattr(training, "train_and_register", lambda **kw: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        tasks.model_train.delay(trigger="test").get()
    assert leases.current(tasks.LEASE) is None


def test_task_options():
    t = tasks.model_train
    assert t.acks_late is True
    assert t.soft_time_limit < t.time_limit
    assert 0 < t.max_retries <= 5
    from django.db import OperationalError

    assert OperationalError in t.autoretry_for and Exception not in t.autoretry_for


def test_beat_schedule_has_nightly_and_threshold_check(settings):
    tasks_scheduled = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    wanted = {"recommendations.tasks.model_train_scheduled", "recommendations.tasks.interactions_check"}
    assert wanted <= tasks_scheduled


@pytest.mark.django_db
def test_the_nightly_retrain_goes_through_the_outbox():
    tasks.model_train_scheduled(trigger="nightly")
    assert _queued_trainings() == [{"trigger": "nightly"}]


def _queued_trainings() -> list[dict]:
    return [row.kwargs for row in OutboxTask.objects.filter(task=tasks.TASK_NAME)]


@pytest.mark.django_db
def test_check_new_interactions_enqueues_past_threshold(settings, monkeypatch):
    settings.RECOMMENDER_RETRAIN_THRESHOLD = 5
    build_world(n_profiles=10, n_titles=20)
    mv = training.train_and_register(trigger="test")
    assert tasks.interactions_check()["enqueued"] is False
    assert _queued_trainings() == []
    _, p = make_account("newcomer")
    for t in TitleFactory.create_batch(5):
        RatingFactory(profile=p, title=t, value="up")
    result = tasks.interactions_check()
    assert result["new_interactions"] == 5 and result["enqueued"] is True
    # Recorded in the outbox (dispatched after commit; a test transaction never commits).
    assert _queued_trainings() == [{"trigger": "new-interactions"}]
    # A second check while that one waits queues nothing more.
    tasks.interactions_check()
    assert len(_queued_trainings()) == 1
    assert mv.interactions_at_training == 10 * 11


@pytest.mark.django_db
def test_check_new_interactions_does_not_retry_a_rejected_model_on_same_data():
    build_world(n_profiles=10, n_titles=20)
    assert tasks.interactions_check()["enqueued"] is True  # nothing trained yet
    ModelVersion.objects.create(version="v-rejected", status=ModelStatus.REJECTED, interactions_at_training=110)
    assert tasks.interactions_check()["enqueued"] is False
    assert len(_queued_trainings()) == 1


# --- command ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_train_recommender_command_prints_metrics_and_serving_version(capsys):
    build_world()
    call_command("train_recommender")
    out = capsys.readouterr().out
    mv = serving_version()
    assert mv is not None
    assert "ndcg@10" in out and "popularity" in out
    assert f"Serving version: {mv.version}" in out

    call_command("train_recommender", "--if-missing")
    assert "already serves" in capsys.readouterr().out
    assert ModelVersion.objects.count() == 1

    artifacts.delete(mv.version)
    call_command("train_recommender", "--if-missing")
    assert ModelVersion.objects.count() == 2
    assert serving_version() != mv


@pytest.mark.django_db
def test_train_recommender_command_without_data_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no interactions"):
        call_command("train_recommender")


@pytest.mark.django_db
def test_a_training_that_lost_its_lease_fails_instead_of_promoting(monkeypatch):
    """A live run whose lease lapsed (renewals failed) and was taken over must not record a
    model beside the one that took over."""
    build_world(n_profiles=10, n_titles=20)
    real_fit = training.fit_hybrid

    def fit_then_lose_the_lease(*args, **kwargs):
        model = real_fit(*args, **kwargs)
        if leases.current(tasks.LEASE).holder == "me/1":
            leases.release(tasks.LEASE, "me/1")
            assert leases.acquire(tasks.LEASE, "thief/1", ttl=60)
        return model

    monkeypatch.setattr(training, "fit_hybrid", fit_then_lose_the_lease)
    with pytest.raises(training.TrainingError, match="lost the training lease"):
        tasks.train_single_flight(trigger="test", holder="me/1")
    mv = ModelVersion.objects.get()
    assert mv.status == ModelStatus.FAILED and serving_version() is None
    assert leases.current(tasks.LEASE).holder == "thief/1"  # the run that lost it leaves it be
