"""A small synthetic world for the recommender's training tests (no tests in this module).

Two taste groups: half the profiles like action, half like drama; each rates titles of its
genre (love/up) over time, a few downs on the other genre. Popularity cannot tell the groups
apart, so a working model beats it clearly.
"""

from datetime import timedelta

import numpy as np
from django.utils import timezone

from accounts.models import Profile, User
from catalog.models import Genre, Rating, Title
from privacy import consent


def build_world(*, n_profiles: int = 40, n_titles: int = 30, per_profile: int = 10, seed: int = 0, prefix="w"):
    rng = np.random.default_rng(seed)
    action, _ = Genre.objects.get_or_create(slug="action", defaults={"name": "Action"})
    drama, _ = Genre.objects.get_or_create(slug="drama", defaults={"name": "Drama"})
    titles = Title.objects.bulk_create(
        [
            Title(
                name=f"{prefix} title {i}", slug=f"{prefix}-title-{i}", external_id=f"{prefix}:{i}", year=1990 + i % 30
            )
            for i in range(n_titles)
        ]
    )
    half = n_titles // 2
    Title.genres.through.objects.bulk_create(
        [Title.genres.through(title_id=t.pk, genre_id=(action if i < half else drama).pk) for i, t in enumerate(titles)]
    )
    users = User.objects.bulk_create([User(username=f"{prefix}-user-{i}") for i in range(n_profiles)])
    profiles = Profile.objects.bulk_create([Profile(account=u, name="Main") for u in users])
    consent.grant_all_bulk(account_ids=[u.pk for u in users], method="import")
    now = timezone.now()
    ratings = []
    for j, p in enumerate(profiles):
        liked = titles[:half] if j % 2 == 0 else titles[half:]
        other = titles[half:] if j % 2 == 0 else titles[:half]
        # Skewed popularity inside each group: low indices are liked more often.
        probs = np.linspace(2.0, 1.0, len(liked))
        chosen = rng.choice(len(liked), size=min(per_profile, len(liked)), replace=False, p=probs / probs.sum())
        for k, idx in enumerate(chosen):
            when = now - timedelta(days=int(per_profile - k))
            value = "love" if k % 3 == 0 else "up"
            ratings.append(Rating(profile=p, title=liked[idx], value=value, created_at=when, updated_at=when))
        ratings.append(
            Rating(profile=p, title=other[j % len(other)], value="down", updated_at=now - timedelta(days=30))
        )
    Rating.objects.bulk_create(ratings)
    return profiles, titles
