"""The demo generator: deterministic, meets the size and shape the demo needs, carries taste signal."""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import F, Q
from django.utils import timezone

from accounts.maturity import KIDS_MAX_LEVEL, MaturityRating, level_of
from accounts.models import Profile, User
from catalog.importing import demo
from catalog.importing.demo import vocabulary
from catalog.models import Collection, Episode, Genre, Rating, Title, TitleTag, ViewingActivity
from privacy.models import ConsentEvent, ConsentState

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan():
    return demo.generate(seed=11, now=NOW)


def test_same_seed_same_plan_and_another_seed_another():
    small = demo.Sizes(films=150, series=20, people=200, subscribers=30)
    plan = demo.generate(seed=11, now=NOW, sizes=small)
    assert demo.generate(seed=11, now=NOW, sizes=small) == plan
    other = demo.generate(seed=12, now=NOW, sizes=small)
    assert [t.name for t in other.titles] != [t.name for t in plan.titles]
    assert [r for a in other.accounts for p in a.profiles for r in p.ratings] != [
        r for a in plan.accounts for p in a.profiles for r in p.ratings
    ]


def test_plan_has_the_catalog_the_demo_needs(plan):
    titles = plan.titles
    assert len(titles) >= 1500
    series = [t for t in titles if t.kind == "series"]
    assert len(series) >= 150
    assert all(t.seasons and all(s.episodes for s in t.seasons) for t in series)
    assert all(e.runtime > 0 for t in series for s in t.seasons for e in s.episodes)
    assert len(vocabulary.GENRES) >= 20
    assert len({g for t in titles for g in t.genres}) >= 20
    # Every rating on the scale, including unrated.
    assert {t.rating for t in titles} == set(MaturityRating.values)
    assert all(t.tags and all(0 < w <= 1 for _, w in t.tags) for t in titles)
    for t in titles[:200]:
        roles = Counter(role for _, role, _, _ in t.credits)
        assert roles["actor"] >= 4
        assert roles["director" if t.kind == "film" else "creator"] >= 1
        assert t.synopsis and t.name
    assert len({t.name for t in titles}) == len(titles)
    added = [NOW - t.date_added for t in titles]
    assert max(added) <= timedelta(days=730)
    assert sum(a <= timedelta(days=21) for a in added) >= 50
    assert max(a for a in added) >= timedelta(days=600)


def test_plan_has_subscribers_with_recent_history(plan):
    subscribers = [a for a in plan.accounts if a.username.startswith("sub-")]
    assert len(subscribers) >= 300
    assert subscribers[0].username == "sub-0001"
    assert all(1 <= len(a.profiles) <= 4 for a in subscribers)
    kids = [p for a in subscribers for p in a.profiles if p.is_kids]
    assert kids and all(p.limit <= KIDS_MAX_LEVEL for p in kids)
    ratings = [r for a in plan.accounts for p in a.profiles for r in p.ratings]
    assert {v for _, v, _ in ratings} == {"down", "up", "love"}
    assert sum(NOW - when <= timedelta(days=7) for _, _, when in ratings) > 500
    viewing = [v for a in plan.accounts for p in a.profiles for v in p.viewing]
    assert any(v[4] for v in viewing) and any(not v[4] for v in viewing)
    assert any(v[1] is not None for v in viewing)  # episodes of series
    # Kids never rate what they may not see.
    for p in kids:
        for t, _, _ in p.ratings:
            title = plan.titles[t]
            assert title.rating != MaturityRating.UNRATED
    login = [a for a in plan.accounts if a.username == "demo"]
    assert len(login) == 1 and login[0].password == "marquee-demo"
    assert any(p.is_kids for p in login[0].profiles) and len(login[0].profiles) >= 2


def test_taste_groups_drive_choices_and_verdicts(plan):
    """A profile rates mostly titles of its group's genres, and loves them more often."""
    matching = Counter()
    other = Counter()
    for account in plan.accounts:
        for profile in account.profiles:
            group_genres = {vocabulary.GENRES.index(g) for g in vocabulary.TASTE_GROUPS[profile.groups[0]][1]}
            for t, value, _ in profile.ratings:
                bucket = matching if plan.titles[t].genres[0] in group_genres else other
                bucket[value] += 1
    share_matching = sum(matching.values()) / (sum(matching.values()) + sum(other.values()))
    # A group prefers 3 of 22 genres; by chance about 30% of titles would match.
    assert share_matching > 0.6
    love_rate = lambda c: c["love"] / sum(c.values())  # noqa: E731
    assert love_rate(matching) > 2 * love_rate(other)
    down_rate = lambda c: c["down"] / sum(c.values())  # noqa: E731
    assert down_rate(other) > 2 * down_rate(matching)


@pytest.mark.django_db(transaction=False)
def test_seed_demo_command_writes_everything_fast_and_reruns_as_a_no_op(capsys):
    started = time.perf_counter()
    call_command("seed_demo", "--seed", "5")
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "username demo, password marquee-demo" in out
    assert elapsed < 60

    assert Title.objects.filter(external_id__startswith="demo:").count() >= 1500
    assert Title.objects.filter(kind="series", seasons__isnull=False).distinct().count() >= 150
    assert Episode.objects.count() > 150 * 6
    assert Genre.objects.count() >= 20
    assert TitleTag.objects.count() > 1500
    # maturity_level is derived in save(), which bulk_create skips: the generator sets it itself.
    for rating, level in Title.objects.values_list("maturity_rating", "maturity_level").distinct():
        assert level == level_of(rating)
    assert Title.objects.filter(date_added__gte=timezone.now() - timedelta(days=21)).exists()
    live = set(Collection.objects.filter(Collection.live_q()).values_list("name", flat=True))
    assert {"Staff picks", "Award winners"} <= live
    assert Collection.objects.exclude(Collection.live_q()).count() >= 1

    assert User.objects.filter(username__startswith="sub-").count() >= 300
    demo_user = User.objects.get(username="demo")
    assert demo_user.check_password("marquee-demo")
    assert not User.objects.get(username="sub-0001").has_usable_password()
    assert demo_user.profiles.filter(is_kids=True).exists()
    assert Rating.objects.filter(profile__account=demo_user).exists()
    assert Profile.objects.filter(is_kids=True, maturity_limit__gt=KIDS_MAX_LEVEL).count() == 0
    # Kids profiles' histories respect their limits (and never hold unrated titles).
    assert (
        not Rating.objects.filter(profile__is_kids=True)
        .filter(Q(title__maturity_rating="NR") | Q(title__maturity_level__gt=F("profile__maturity_limit")))
        .exists()
    )
    assert Rating.objects.filter(updated_at__gte=timezone.now() - timedelta(days=7)).count() > 300
    assert ViewingActivity.objects.filter(episode__isnull=False).exists()
    # Every seeded account consented to every purpose, logged as demo data.
    accounts = User.objects.count()
    assert ConsentState.objects.filter(granted=True).count() == accounts * 4
    assert set(ConsentEvent.objects.values_list("method", flat=True)) == {"seed"}

    before = (Title.objects.count(), User.objects.count(), Rating.objects.count(), ConsentEvent.objects.count())
    call_command("seed_demo")
    assert (Title.objects.count(), User.objects.count(), Rating.objects.count(), ConsentEvent.objects.count()) == before
    assert "username demo, password marquee-demo" in capsys.readouterr().out


@pytest.mark.django_db
def test_small_seed_restores_a_deleted_demo_account():
    small = demo.Sizes(films=60, series=10, people=80, subscribers=5)
    assert demo.seed_demo(seed=3, sizes=small).created
    assert Title.objects.count() == 70
    User.objects.filter(username="demo").delete()
    result = demo.seed_demo(seed=3, sizes=small)
    assert not result.created
    assert User.objects.get(username="demo").profiles.count() == 3
    assert Title.objects.count() == 70
