"""Rows that respect the person and the curator (issue 9, requirement 6)."""

import pytest

from accounts.maturity import MaturityLevel, MaturityRating
from catalog import services as catalog_services
from catalog.models import Collection, CollectionItem
from catalog.selectors import more_like_this
from recommendations import personal_rows
from recommendations.home import build_home
from tests.support.factories import GenreFactory, TitleFactory
from tests.support.recommender import fresh, install_model, rate

pytestmark = pytest.mark.usefixtures("rec_env")


def test_more_like_this_never_offers_what_the_profile_rejected(owner):
    _, profile = owner
    noir = GenreFactory(name="Noir", slug="noir")
    seed = TitleFactory(name="Seed", genres=[noir])
    similar = [TitleFactory(name=f"Similar {i}", genres=[noir]) for i in range(6)]
    shown = {t.pk for t in more_like_this(profile=profile, title=seed)}
    assert {t.pk for t in similar} <= shown
    catalog_services.rating_set(profile=profile, title=similar[0], value="down")
    catalog_services.title_hide(profile=profile, title=similar[1])
    catalog_services.rating_set(profile=profile, title=similar[2], value="love")
    shown = {t.pk for t in more_like_this(profile=profile, title=seed)}
    assert similar[0].pk not in shown and similar[1].pk not in shown
    assert similar[2].pk in shown  # a loved one is fine to see again here


def test_continue_watching_and_my_list_are_never_cut_by_the_row_limit(owner, cat, monkeypatch):
    _, profile = owner
    install_model(cat)
    monkeypatch.setattr(personal_rows, "MAX_ROWS", 1)
    monkeypatch.setattr(personal_rows, "MIN_SCORED_ROWS", 1)
    rate(profile, cat.by_genre["drama"][2:4] + cat.by_genre["comedy"][2:4])
    catalog_services.list_add(profile=profile, title=cat.by_genre["sci-fi"][3])
    catalog_services.viewing_record(
        profile=profile, title=cat.by_genre["animation"][3], episode=None, position_seconds=10, duration_seconds=100
    )
    keys = [r.key for r in build_home(profile=fresh(profile)).rows]
    assert keys[:3] == ["continue-watching", "top-picks", "my-list"], keys
    # The pinned rows (Top 10 today too, when there is activity) and one scored row.
    pinned = 4 if "top-10" in keys else 3
    assert keys[3:pinned] == ["top-10"][: pinned - 3]
    assert len(keys) == pinned + 1


def _collection(name, position, titles, **kwargs):
    c = Collection.objects.create(name=name, slug=name.lower().replace(" ", "-"), position=position, **kwargs)
    CollectionItem.objects.bulk_create(
        [CollectionItem(collection=c, title=t, position=i) for i, t in enumerate(titles)]
    )
    return c


def test_live_collections_sit_at_the_curators_position_in_the_curators_order(owner, cat):
    _, profile = owner
    install_model(cat)
    rate(profile, cat.by_genre["drama"][2:4] + cat.by_genre["comedy"][2:4] + cat.by_genre["sci-fi"][2:4])
    visible = [t for t in cat.by_genre["animation"] + cat.by_genre["comedy"] if t.maturity_level <= 4]
    _collection("Second pick", 2, visible[6:12])
    _collection("First pick", 0, visible[0:6])
    _collection("Switched off", 1, visible[12:16], is_active=False)
    _collection("Kids only", 1, visible[16:20], audience="kids")
    keys = [r.key for r in build_home(profile=fresh(profile)).rows]
    assert "collection-switched-off" not in keys and "collection-kids-only" not in keys
    pinned = len([k for k in keys if k in ("continue-watching", "top-picks", "my-list", "top-10")])
    assert keys[pinned + 0] == "collection-first-pick", keys
    assert keys[pinned + 2] == "collection-second-pick", keys


def test_no_reason_names_a_title_the_profile_may_not_see_now(owner, cat):
    _, profile = owner
    install_model(cat)
    restricted = [t for t in cat.by_genre["sci-fi"] if t.maturity_rating == MaturityRating.R][:2]
    rate(profile, restricted)
    rate(profile, [t for t in cat.by_genre["drama"] if t.maturity_level <= 3][:1])
    home = build_home(profile=fresh(profile))
    texts = [r.title for r in home.rows] + [i.reason for r in home.rows for i in r.items]
    assert any(restricted[0].name in t or restricted[1].name in t for t in texts)  # it does name them now
    profile.maturity_limit = MaturityLevel.TEENS
    profile.save()
    home = build_home(profile=fresh(profile))
    texts = [r.title for r in home.rows] + [r.reason for r in home.rows]
    texts += [i.reason for r in home.rows for i in r.items]
    for t in restricted:
        assert not [x for x in texts if t.name in x], t.name


def test_reasons_read_as_sentences(owner, cat):
    _, profile = owner
    install_model(cat)
    _collection("Family night", 0, cat.by_genre["animation"][:6], description="Something everyone can enjoy.")
    rate(profile, cat.by_genre["animation"][6:8])
    home = build_home(profile=fresh(profile))
    row = next(r for r in home.rows if r.key == "collection-family-night")
    assert row.reason == "Something everyone can enjoy. Ordered for your taste."
    for r in home.rows:
        assert ".," not in r.reason and ".." not in r.reason, r.reason
        assert r.reason[-1] in ".!?", r.reason
