"""Personalized artwork (recommendations.artwork): a bounded Thompson-sampling bandit per taste
context, consent-gated, stable within a page view, learning from home impressions and opens."""

import random
import re

import pytest
from django.template import Context, Template

from catalog import services as catalog_services
from catalog.posters import DEFAULT_VARIANT, VARIANTS
from catalog.shelves import Row, RowItem
from privacy import consent
from recommendations import artwork
from recommendations.artwork_models import ArtworkStat
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import GenreFactory, TitleFactory

pytestmark = pytest.mark.django_db


def _set_consent(user, **choices):
    consent.consents_set(account_id=user.pk, choices=choices, method="settings")


def _fresh(profile):
    """The same profile as a new request would load it (no memoized consent or policy)."""
    return type(profile).objects.select_related("account").get(pk=profile.pk)


def _rows(titles, key="trending"):
    return [Row(key=key, title="Trending", reason="", items=[RowItem(title=t) for t in titles])]


@pytest.fixture
def titles(db):
    genre = GenreFactory(name="Western")
    return [TitleFactory(genres=[genre]) for _ in range(12)]


# --- The pure parts ------------------------------------------------------------------------------


def test_bounded_clips_into_floor_and_ceiling_and_sums_to_one():
    out = artwork.bounded({"genre": 0.999, "setting": 0.001, "cast": 0.0})
    assert out["genre"] == pytest.approx(artwork.CEILING)
    assert out["setting"] == pytest.approx(artwork.FLOOR) and out["cast"] == pytest.approx(artwork.FLOOR)
    assert sum(out.values()) == pytest.approx(1.0)
    even = artwork.bounded({"genre": 0.4, "setting": 0.35, "cast": 0.25})
    assert even == pytest.approx({"genre": 0.4, "setting": 0.35, "cast": 0.25})


def test_thompson_probabilities_follow_the_evidence_and_are_deterministic():
    flat = artwork.thompson_probabilities(dict.fromkeys(VARIANTS, (0, 0)))
    assert all(abs(p - 1 / 3) < 0.05 for p in flat.values())
    counts = {"genre": (1000, 50), "setting": (1000, 60), "cast": (1000, 200)}
    strong = artwork.thompson_probabilities(counts)
    assert strong["cast"] > 0.99
    assert artwork.thompson_probabilities(counts) == strong
    # More takes than impressions (a take whose impression was deduplicated) is clamped, not an error.
    assert sum(artwork.thompson_probabilities({"genre": (1, 5), "setting": (0, 0), "cast": (0, 0)}).values()) == 1


# --- Consent -------------------------------------------------------------------------------------


def test_without_analytics_consent_the_default_and_nothing_learned(titles):
    user, profile = make_account("noanalytics")
    _set_consent(user, analytics=False)
    profile = _fresh(profile)
    policy = artwork.policy_for(profile)
    assert not policy.learning
    assert {policy.choose(t.pk) for t in titles} == {DEFAULT_VARIANT}
    assert artwork.impressions_record(profile=profile, rows=_rows(titles)) == 0
    assert not artwork.take_record(profile=profile, title=titles[0], variant="cast")
    assert not ArtworkStat.objects.exists()


def test_no_profile_is_the_default():
    policy = artwork.policy_for(None)
    assert not policy.learning and policy.choose(1) == DEFAULT_VARIANT


def test_the_taste_context_needs_personalization_consent(titles):
    user, profile = make_account("taste")
    for title in titles[:3]:
        catalog_services.rating_set(profile=profile, title=title, value="love")
    assert artwork.taste_context(_fresh(profile)) == "western"
    _set_consent(user, personalization=False)
    profile = _fresh(profile)
    assert artwork.taste_context(profile) == artwork.ANY_CONTEXT
    # Still learning (analytics), but for everybody without a taste: no personal data read.
    assert artwork.policy_for(profile).learning


def test_a_new_profile_has_no_taste_yet(owner):
    _, profile = owner
    assert artwork.taste_context(_fresh(profile)) == artwork.ANY_CONTEXT


# --- Bounded exploration, stability --------------------------------------------------------------


def test_exploration_is_bounded_even_for_a_clear_winner(titles):
    for variant, takes in (("genre", 10), ("setting", 12), ("cast", 400)):
        ArtworkStat.objects.create(title=titles[0], context="any", variant=variant, impressions=2000, takes=takes)
    policy = artwork.ArtworkPolicy(
        profile_id=1,
        context="any",
        token=1,
        probabilities=artwork.bounded(artwork.thompson_probabilities(artwork.context_counts("any"))),
        learning=True,
    )
    assert policy.probabilities["cast"] == pytest.approx(artwork.CEILING)
    picks = [policy.choose(title_id) for title_id in range(4000)]
    for variant in ("genre", "setting"):
        share = picks.count(variant) / len(picks)
        assert 0.03 < share < 0.07  # the 5% floor: a loser keeps being shown a little
    assert 0.87 < picks.count("cast") / len(picks) < 0.93  # the 90% ceiling


def test_the_choice_is_stable_within_a_page_view(owner, titles):
    _, profile = owner
    profile = _fresh(profile)
    first = artwork.policy_for(profile)
    assert artwork.policy_for(profile) is first  # memoized on the request's profile object
    assert [first.choose(t.pk) for t in titles] == [first.choose(t.pk) for t in titles]
    # A new request in the same time bucket, with the same counts, shows the same variants.
    again = artwork.policy_for(_fresh(profile))
    assert [again.choose(t.pk) for t in titles] == [first.choose(t.pk) for t in titles]
    # Page views differ (another token): cards are explored independently.
    tokens = {tuple(artwork.policy_for(profile, token=k).choose(t.pk) for t in titles) for k in range(5)}
    assert len(tokens) > 1


def test_home_shows_the_same_variants_on_a_reload_and_marks_the_links(owner):
    user, profile = owner
    for _ in range(6):
        catalog_services.list_add(profile=profile, title=TitleFactory())
    client = signed_in_client(user, profile)
    pages = [client.get("/").content.decode() for _ in range(2)]
    srcs = [re.findall(r'src="(/title/[^"]+/poster[^"]*)"', html) for html in pages]
    assert srcs[0] and srcs[0] == srcs[1]
    marked = re.findall(r'href="/title/([^/"]+)/\?row=my-list&amp;art=(\w+)"', pages[0])
    assert len(marked) == 6
    for slug, variant in marked:
        expected = f"/title/{slug}/poster.svg" if variant == DEFAULT_VARIANT else f"/title/{slug}/poster/{variant}.svg"
        assert expected in srcs[0]
    # The reload counted nothing twice: one impression per title.
    assert sum(ArtworkStat.objects.values_list("impressions", flat=True)) == 6


def test_cards_outside_home_rows_show_the_default_poster(owner):
    user, profile = owner
    title = TitleFactory(name="Searchable Western")
    html = signed_in_client(user, profile).get("/search/?q=Searchable").content.decode()
    assert f'src="/title/{title.slug}/poster.svg"' in html
    assert "art=" not in html


# --- Learning ------------------------------------------------------------------------------------


def _simulate(profile, titles, take_rates, rounds, rng):
    for token in range(rounds):
        policy = artwork.policy_for(profile, token=token)
        artwork.impressions_record(profile=profile, rows=_rows(titles), token=token)
        for title in titles:
            variant = policy.choose(title.pk)
            if rng.random() < take_rates[variant]:
                artwork.take_record(profile=profile, title=title, variant=variant, token=token)


def test_learning_moves_the_choice_toward_what_a_context_clicks(titles):
    rng = random.Random(5)
    romance = GenreFactory(name="Romance")
    romances = [TitleFactory(genres=[romance]) for _ in range(12)]
    _, fan = make_account("westernfan")
    _, lover = make_account("romantic")
    for t in titles[:3]:
        catalog_services.rating_set(profile=fan, title=t, value="love")
    for t in romances[:3]:
        catalog_services.rating_set(profile=lover, title=t, value="love")
    fan, lover = _fresh(fan), _fresh(lover)
    before = artwork.policy_for(fan, token=-1).probabilities
    assert max(before.values()) < 0.5  # nothing learned yet: explore evenly
    _simulate(fan, titles, {"genre": 0.05, "setting": 0.05, "cast": 0.35}, 25, rng)
    _simulate(lover, romances, {"genre": 0.05, "setting": 0.35, "cast": 0.05}, 25, rng)
    fan_policy = artwork.policy_for(fan, token=999)
    lover_policy = artwork.policy_for(lover, token=999)
    assert fan_policy.context == "western" and lover_policy.context == "romance"
    assert fan_policy.probabilities["cast"] > 0.8
    assert lover_policy.probabilities["setting"] > 0.8  # contextual: each taste its own winner
    assert min(fan_policy.probabilities.values()) >= artwork.FLOOR - 1e-9


def test_impressions_count_each_title_once_per_page_and_skip_uploaded_artwork(owner, titles, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    _, profile = owner
    uploaded = TitleFactory()
    uploaded.artwork = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    uploaded.save()
    rows = _rows(titles[:4]) + _rows([titles[0], uploaded], key="my-list")
    profile = _fresh(profile)
    assert artwork.impressions_record(profile=profile, rows=rows, token=1) == 4
    assert artwork.impressions_record(profile=profile, rows=rows, token=1) == 0  # a reload
    assert not ArtworkStat.objects.filter(title=uploaded).exists()


# --- The title view passes the card's variant on ------------------------------------------------


def test_opening_a_card_counts_a_take_for_its_variant(owner, titles):
    user, profile = owner
    client = signed_in_client(user, profile)
    title = titles[0]
    shown = artwork.policy_for(_fresh(profile)).choose(title.pk)
    assert client.get(f"/title/{title.slug}/?row=trending&art={shown}").status_code == 200
    stat = ArtworkStat.objects.get()
    assert (stat.title_id, stat.variant, stat.takes, stat.impressions) == (title.pk, shown, 1, 0)
    client.get(f"/title/{title.slug}/?row=trending&art={shown}")  # the same open again: counted once
    client.get(f"/title/{title.slug}/?row=trending&art=bogus")  # not a variant
    client.get(f"/title/{title.slug}/?row=no-such-row&art={shown}")  # not a home row
    client.get(f"/title/{title.slug}/?art={shown}")  # no row
    assert list(ArtworkStat.objects.values_list("variant", "takes")) == [(shown, 1)]


def test_a_hand_made_art_link_naming_another_variant_teaches_nothing(owner, titles):
    # One account opening many titles with `art=` set to a variant its cards did not show must
    # not steer what everyone in its context is shown.
    user, profile = owner
    client = signed_in_client(user, profile)
    policy = artwork.policy_for(_fresh(profile))
    forged = 0
    for title in titles:
        shown = policy.choose(title.pk)
        previous = artwork.ArtworkPolicy(
            profile_id=profile.pk,
            context=policy.context,
            token=policy.token - 1,
            probabilities=artwork.context_probabilities(policy.context, policy.token - 1),
            learning=True,
        ).choose(title.pk)
        other = next((v for v in VARIANTS if v not in (shown, previous)), None)
        if other is None:
            continue
        client.get(f"/title/{title.slug}/?row=trending&art={other}")
        forged += 1
    assert forged >= 3
    assert not ArtworkStat.objects.filter(takes__gt=0).exists()


def test_other_accounts_and_anonymous_visitors(other, titles, client):
    user, profile = other
    _set_consent(user, analytics=False)
    title = titles[0]
    assert signed_in_client(user, profile).get(f"/title/{title.slug}/?row=trending&art=cast").status_code == 200
    response = client.get(f"/title/{title.slug}/?row=trending&art=cast")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ArtworkStat.objects.exists()


def test_a_title_the_profile_may_not_see_counts_nothing(titles):
    user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    hidden = TitleFactory(is_published=False)
    response = signed_in_client(user, kid).get(f"/title/{hidden.slug}/?row=trending&art=cast")
    assert response.status_code == 404
    assert not ArtworkStat.objects.exists()


# --- Staff rates and privacy ---------------------------------------------------------------------


def test_title_rates_for_staff_hide_small_counts(titles):
    title = titles[0]
    ArtworkStat.objects.create(title=title, context="western", variant="cast", impressions=30, takes=9)
    ArtworkStat.objects.create(title=title, context="any", variant="cast", impressions=10, takes=1)
    ArtworkStat.objects.create(title=title, context="any", variant="setting", impressions=5, takes=4)
    rates = {r["variant"]: r for r in artwork.title_rates(title)}
    assert rates["cast"]["impressions"] == 40 and rates["cast"]["takes"] == 10
    assert rates["cast"]["rate"] == pytest.approx(0.25)
    assert rates["setting"]["rate"] is None and rates["setting"]["impressions"] is None
    assert rates["genre"]["is_default"] and rates["genre"]["rate"] is None
    html = Template("{% load artwork %}{% artwork_rates title %}").render(Context({"title": title}))
    assert "data-artwork-rates" in html and "25%" in html and "Too few impressions" in html
    assert f"/title/{title.slug}/poster/cast.svg" in html and f'href="/title/{title.slug}/poster.svg"' in html


def test_the_counters_hold_no_personal_data():
    names = {f.name for f in ArtworkStat._meta.get_fields()}
    assert names == {"id", "title", "context", "variant", "impressions", "takes", "updated_at"}


# --- Demo ----------------------------------------------------------------------------------------


def test_demo_counters_are_deterministic_and_only_for_analytics_consent(titles):
    _, fan = make_account("demofan")
    for t in titles[:3]:
        catalog_services.rating_set(profile=fan, title=t, value="love")
    user, _ = make_account("demonoanalytics")
    _set_consent(user, analytics=False)
    first = artwork.demo_artwork_write(seed=3)
    rows = sorted(ArtworkStat.objects.values_list("title_id", "context", "variant", "impressions", "takes"))
    assert first["artwork_impressions"] == artwork.DEMO_VISITS * len(titles)  # only the consenting profile
    assert {r[1] for r in rows} == {"western"} and {r[2] for r in rows} == set(VARIANTS)
    ArtworkStat.objects.all().delete()
    assert artwork.demo_artwork_write(seed=3) == first
    assert sorted(ArtworkStat.objects.values_list("title_id", "context", "variant", "impressions", "takes")) == rows
