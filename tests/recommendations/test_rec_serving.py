"""Serving: fold-in (instant feedback), filtering, de-duplication, reasons, fallbacks, swaps, purge."""

import time
from collections import Counter

import numpy as np
import pytest
from django.core.cache import cache

from accounts.maturity import KIDS_MAX_LEVEL, MaturityLevel, MaturityRating
from catalog import services as catalog_services
from catalog.models import Title
from privacy import consent
from recommendations import artifacts, foldin, serving
from recommendations.home import build_home
from recommendations.model_registry import SERVING_CACHE_KEY
from recommendations.models import ModelStatus, ModelVersion
from recommendations.services import profile_personalization_purge
from tests.support.accounts import make_account
from tests.support.recommender import (
    fresh,
    ids_of,
    install_model,
    make_artifacts,
    rate,
    recommendation_rows,
    row_by_key,
)

pytestmark = pytest.mark.usefixtures("rec_env")


def _genres(cat, ids):
    return Counter(cat.genre_of(t) for t in ids)


# --- instant feedback ----------------------------------------------------------------------


def test_rating_changes_top_picks_on_the_next_load_without_retraining(owner, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["sci-fi"][2:4])
    before = build_home(profile=fresh(profile))
    assert before.personalized
    top_before = ids_of(row_by_key(before, "top-picks"))
    assert _genres(cat, top_before[:5]).most_common(1)[0][0] == "sci-fi"

    assert "comedy" not in _genres(cat, top_before[:5])

    # Four comedy loves: comedies reach the top of the very next page load.
    rate(profile, cat.by_genre["comedy"][2:6], value="love")
    after = build_home(profile=fresh(profile))
    top_after = ids_of(row_by_key(after, "top-picks"))
    assert top_after != top_before
    assert _genres(cat, top_after[:5])["comedy"] >= 2
    assert ModelVersion.objects.count() == 1, "no retraining happened"


def test_list_add_changes_top_picks(owner, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:3], value="up")
    before = ids_of(row_by_key(build_home(profile=fresh(profile)), "top-picks"))
    for t in cat.by_genre["comedy"][2:6]:
        catalog_services.list_add(profile=profile, title=t)
    home = build_home(profile=fresh(profile))
    after = ids_of(row_by_key(home, "top-picks"))
    assert after != before
    assert _genres(cat, after[:3]).most_common(1)[0][0] == "comedy"
    # The saved titles live in My List; recommending them back would be noise.
    saved = {t.pk for t in cat.by_genre["comedy"][2:6]}
    assert not saved & set(after)
    assert saved <= set(ids_of(row_by_key(home, "my-list")))


def test_finished_title_changes_top_picks_and_is_not_recommended_again(owner, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:3], value="up")
    before = ids_of(row_by_key(build_home(profile=fresh(profile)), "top-picks"))
    finished = cat.by_genre["sci-fi"][2:6]
    for t in finished:
        catalog_services.viewing_record(
            profile=profile, title=t, episode=None, position_seconds=95, duration_seconds=100
        )
    home = build_home(profile=fresh(profile))
    after = ids_of(row_by_key(home, "top-picks"))
    assert after != before
    assert _genres(cat, after[:3]).most_common(1)[0][0] == "sci-fi"
    for row in recommendation_rows(home):
        assert not {t.pk for t in finished} & set(ids_of(row)), row.key


def test_foldin_is_cached_per_engagement_stamp(owner, cat, django_assert_max_num_queries):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    model = serving.get_model().model
    profile = fresh(profile)
    _, vec = foldin.profile_state(model, profile)
    # Second call: served from the cache, no interaction query.
    with django_assert_max_num_queries(0):
        _, again = foldin.profile_state(model, profile)
    assert np.allclose(vec, again)


# --- what is never shown -------------------------------------------------------------------


def test_rated_finished_and_disliked_titles_are_never_recommended(owner, cat):
    _, profile = owner
    install_model(cat)
    loved = cat.by_genre["sci-fi"][2:5]
    rate(profile, loved)
    disliked = cat.by_genre["sci-fi"][5:7]
    rate(profile, disliked, value="down")
    finished = cat.by_genre["sci-fi"][9:11]
    for t in finished:
        catalog_services.viewing_record(
            profile=profile, title=t, episode=None, position_seconds=99, duration_seconds=100
        )
    home = build_home(profile=fresh(profile))
    banned = {t.pk for t in loved + disliked + finished}
    assert home.personalized
    for row in recommendation_rows(home):
        assert not banned & set(ids_of(row)), row.key


@pytest.mark.parametrize(
    ("kwargs", "max_level"),
    [
        ({"maturity_limit": MaturityLevel.TEENS}, MaturityLevel.TEENS),
        ({"is_kids": True, "maturity_limit": KIDS_MAX_LEVEL}, KIDS_MAX_LEVEL),
    ],
)
def test_maturity_limit_holds_in_every_personalized_row(cat, kwargs, max_level):
    _, profile = make_account("viewer", **kwargs)
    install_model(cat)
    # Taste for sci-fi, where R-rated and unrated titles score as high as any.
    rate(profile, [t for t in cat.by_genre["sci-fi"] if t.maturity_level <= max_level][:2])
    home = build_home(profile=fresh(profile))
    assert home.personalized
    shown = [i.title for r in home.rows for i in r.items]
    assert shown
    assert all(t.maturity_level <= max_level for t in shown)
    if kwargs.get("is_kids"):
        assert all(t.maturity_rating != MaturityRating.UNRATED for t in shown)
    # And the model really did want the restricted titles: an adult with the same taste sees them.
    _, adult = make_account("adult")
    rate(adult, [t for t in cat.by_genre["sci-fi"] if t.maturity_level <= max_level][:2])
    adult_shown = {i.title.maturity_level for r in build_home(profile=fresh(adult)).rows for i in r.items}
    assert max(adult_shown) > max_level


def test_a_title_appears_at_most_twice_in_the_first_five_rows(owner, cat):
    _, profile = owner
    install_model(cat)
    # Two sci-fi loves: top picks, two "because" rows and "sci-fi for you" all want the same titles.
    rate(profile, cat.by_genre["sci-fi"][2:4])
    home = build_home(profile=fresh(profile))
    keys = [r.key for r in home.rows]
    assert "top-picks" in keys and any(k.startswith("because-") for k in keys)
    counts = Counter(t for row in home.rows[:5] for t in ids_of(row))
    assert counts and max(counts.values()) <= 2


def test_every_row_and_title_has_a_reason(owner, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    catalog_services.list_add(profile=profile, title=cat.by_genre["comedy"][3])
    home = build_home(profile=fresh(profile))
    assert home.personalized
    keys = [r.key for r in home.rows]
    assert keys[0] == "top-picks"
    assert any(k.startswith("because-") for k in keys)
    assert "genre-for-you-drama" in keys
    for row in home.rows:
        assert row.reason, row.key
        assert all(i.reason for i in row.items), row.key
    because = next(r for r in home.rows if r.key.startswith("because-"))
    assert because.title.startswith("Because you loved drama")
    reasons = {i.reason for i in row_by_key(home, "top-picks").items}
    assert any(r.startswith("Because you loved drama") for r in reasons)


def test_continue_watching_comes_first(owner, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    catalog_services.viewing_record(
        profile=profile, title=cat.by_genre["comedy"][3], episode=None, position_seconds=10, duration_seconds=100
    )
    home = build_home(profile=fresh(profile))
    assert [r.key for r in home.rows][:2] == ["continue-watching", "top-picks"]


# --- fallbacks -----------------------------------------------------------------------------


def _assert_fallback(home, words):
    assert home.personalized is False
    assert home.model_version is None
    assert home.rows, "never an empty home"
    assert all(r.items for r in home.rows)
    assert words in home.notice


def test_no_model_yet_falls_back(owner, cat):
    _, profile = owner
    rate(profile, cat.by_genre["drama"][2:4])
    _assert_fallback(build_home(profile=fresh(profile)), "still being prepared")


def test_missing_model_files_fall_back(owner, cat):
    _, profile = owner
    rate(profile, cat.by_genre["drama"][2:4])
    ModelVersion.objects.create(version="ghost", status=ModelStatus.SERVING)
    _assert_fallback(build_home(profile=fresh(profile)), "unavailable")


def test_cache_errors_keep_the_model_serving(owner, cat, monkeypatch):
    """A cache that raises is a miss: the database names the serving version (issue 11)."""
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "get", down)
    home = build_home(profile=fresh(profile))
    assert home.personalized and home.model_version == "v1"


def test_unreachable_redis_keeps_the_model_serving(owner, cat, settings):
    """Even Django's plain Redis backend, which raises, only costs the cache (no fallback)."""
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    from django.core.cache import caches

    caches._settings = None
    try:
        from django.core.cache import cache as down_cache

        with pytest.raises(Exception):  # noqa: B017 - the point: the cache really is down
            down_cache.get("x")
        home = build_home(profile=fresh(profile))
        assert home.personalized and home.model_version == "v1"
    finally:
        del settings.CACHES


def test_personalization_off_falls_back(owner, cat):
    user, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4])
    consent.consents_set(account_id=user.pk, choices={"personalization": False}, method="settings")
    _assert_fallback(build_home(profile=fresh(profile)), "personalization is switched off")


def test_no_taste_yet_is_not_personalized(owner, cat):
    _, profile = owner
    install_model(cat)
    home = build_home(profile=profile)
    _assert_fallback(home, "Rate a few titles")
    assert home.needs_onboarding


# --- swapping versions, purge ----------------------------------------------------------------


def test_new_version_is_swapped_in_without_restart(owner, cat):
    _, profile = owner
    v1 = install_model(cat, "v1")
    rate(profile, cat.by_genre["drama"][2:4])
    assert build_home(profile=fresh(profile)).model_version == "v1"
    # v2 maps every genre onto the next axis: the same taste now leads to other titles.
    artifacts.save(make_artifacts(cat, "v2", rotate=True))
    ModelVersion.objects.filter(pk=v1.pk).update(status=ModelStatus.RETIRED)
    ModelVersion.objects.create(version="v2", status=ModelStatus.SERVING)
    cache.set(SERVING_CACHE_KEY, "v2")  # what model_registry.promote publishes after its commit
    home = build_home(profile=fresh(profile))
    assert home.model_version == "v2"
    assert serving.get_model().model.version == "v2"


def test_without_cache_key_the_db_is_rechecked_every_few_seconds(owner, cat, monkeypatch):
    v1 = install_model(cat, "v1")
    assert serving.get_model().model.version == "v1"
    artifacts.save(make_artifacts(cat, "v2"))
    ModelVersion.objects.filter(pk=v1.pk).update(status=ModelStatus.RETIRED)
    ModelVersion.objects.create(version="v2", status=ModelStatus.SERVING)
    assert serving.get_model().model.version == "v1", "within the re-check interval: no DB query"
    monkeypatch.setattr(serving, "RECHECK_SECONDS", 0.0)
    assert serving.get_model().model.version == "v2"


def test_purge_drops_cached_state_and_the_profile_row_in_the_model(owner, other, cat):
    _, profile = owner
    _, other_profile = other
    install_model(cat, "v1", profile_ids=[profile.pk, other_profile.pk])
    rate(profile, cat.by_genre["drama"][2:4])
    assert build_home(profile=fresh(profile)).personalized
    key = foldin.profile_cache_key(profile.pk)
    assert cache.get(key) is not None

    profile_personalization_purge(profile_id=profile.pk)

    assert cache.get(key) is None
    art = artifacts.load("v1")
    assert profile.pk not in art.profile_ids.tolist()
    assert other_profile.pk in art.profile_ids.tolist()
    assert len(art.user_vecs) == 1
    # Still serving, and calling it twice is harmless.
    profile_personalization_purge(profile_id=profile.pk)
    assert serving.get_model().model is not None


# --- scoring -------------------------------------------------------------------------------


def test_top_k_matches_a_full_sort():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=500).astype(np.float32)
    allowed = rng.random(500) > 0.3
    got = serving.top_k(scores, 25, allowed)
    expected = np.argsort(-np.where(allowed, scores, -np.inf))[:25]
    assert got.tolist() == expected.tolist()


def test_score_folds_the_bias_in(cat):
    model = serving.ServingModel.from_artifacts(make_artifacts(cat, "v1"))
    u = np.array([1.0, 0.5, 0.0, -0.5], dtype=np.float32)
    assert np.allclose(model.score(u), model.item_vecs @ u + model.item_bias, atol=1e-5)


def test_titles_missing_from_the_model_are_simply_not_scored(owner, cat):
    _, profile = owner
    newest = Title.objects.order_by("-id").first()
    install_model(cat, skip=[newest.pk])
    rate(profile, cat.by_genre["animation"][:2])
    home = build_home(profile=fresh(profile))
    assert home.personalized
    assert newest.pk not in ids_of(row_by_key(home, "top-picks"))


# --- served = model: trained vectors --------------------------------------------------------------


def _trained_setup(owner, cat):
    _, profile = owner
    loved = cat.by_genre["drama"][2:5]
    rate(profile, loved)
    cutoff = time.time() + 1  # the ratings above are older than the model's data
    install_model(cat, profile_ids=[profile.pk], trained={profile.pk: [t.pk for t in loved]}, cutoff=cutoff)
    model = serving.get_model().model
    trained_vec, _ = model.trained(profile.pk)
    return profile, model, trained_vec.copy()


def test_a_trained_profile_is_served_its_trained_vector_exactly(owner, cat):
    profile, model, trained_vec = _trained_setup(owner, cat)
    _, vec = foldin.profile_state(model, fresh(profile))
    assert np.array_equal(vec, trained_vec)
    home = build_home(profile=fresh(profile))
    picks = ids_of(row_by_key(home, "top-picks"))
    allowed = serving.visible_mask(model, profile).copy()
    allowed[model.rows_of([t.pk for t in cat.by_genre["drama"][2:5]])] = False
    expected = [int(model.title_ids[r]) for r in serving.top_k(model.score(trained_vec), 5, allowed)]
    assert picks[:5] == expected


def test_a_new_rating_after_training_moves_the_trained_vector(owner, cat):
    profile, model, trained_vec = _trained_setup(owner, cat)
    before = ids_of(row_by_key(build_home(profile=fresh(profile)), "top-picks"))
    rate(profile, cat.by_genre["comedy"][2:6])
    _, vec = foldin.profile_state(model, fresh(profile))
    assert not np.array_equal(vec, trained_vec)
    comedy = model.rows_of([t.pk for t in cat.by_genre["comedy"][6:]])
    others = model.rows_of([t.pk for t in cat.titles if t not in cat.by_genre["comedy"]])

    def comedy_lift(v):
        # Relative to the rest of the catalog: WARP's sampled negatives may include other
        # comedies (their absolute score can dip), but the profile leans towards comedy now.
        scores = model.score(v)
        return scores[comedy].mean() - scores[others].mean()

    assert comedy_lift(vec) > comedy_lift(trained_vec)
    after = ids_of(row_by_key(build_home(profile=fresh(profile)), "top-picks"))
    assert after != before
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize("withdraw", ["delete", "down", "exclude", "hide"])
def test_withdrawing_a_trained_on_signal_folds_the_profile_in_afresh(owner, cat, withdraw):
    profile, model, trained_vec = _trained_setup(owner, cat)
    first = cat.by_genre["drama"][2]
    if withdraw == "delete":
        catalog_services.rating_delete(profile=profile, title=first)
    elif withdraw == "down":
        catalog_services.rating_set(profile=profile, title=first, value="down")
    elif withdraw == "exclude":
        catalog_services.rating_exclude_set(profile=profile, title=first, exclude=True)
    else:
        catalog_services.title_hide(profile=profile, title=first)
    taste, vec = foldin.profile_state(model, fresh(profile))
    # The trained vector remembers the withdrawn signal, so it is not served; the fresh fold-in
    # is what a profile with the remaining signals gets.
    assert not np.array_equal(vec, trained_vec)
    art = artifacts.load(model.version)
    art.without_profiles([profile.pk])
    untrained = serving.ServingModel.from_artifacts(art)
    assert np.array_equal(vec, foldin.profile_vector(untrained, profile.pk, taste, is_kids=False))
    assert first.pk not in {p.title_id for p in taste.positives}
