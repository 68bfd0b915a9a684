"""What the recommender holds or derives about a person, registered with the privacy registry.

Called from RecommendationsConfig.ready(). Besides its own rows (onboarding genres) the
recommender holds derived data: cached recommendations and profile vectors, and the profile's
rows (trained vector and trained positives) in every stored model version. Withdrawing
personalization and erasing the account both go through
`recommendations.services.profile_personalization_purge`, which walks every version folder on
disk, so a deleted person vanishes from every model without waiting for the next retrain and a
rollback cannot bring them back.
"""

import logging
from collections import Counter, defaultdict

import numpy as np

from accounts.models import Profile
from catalog.models import Rating
from privacy import registry
from recommendations import artifacts, services, signals
from recommendations.home import build_home
from recommendations.models import OnboardingGenre
from recommendations.selectors import serving_version

log = logging.getLogger(__name__)


def _profiles(account):
    return list(Profile.objects.filter(account=account).order_by("created_at", "id"))


def _purge(profile_ids: list[int]) -> int:
    """Drop everything derived for these profiles; returns the model rows removed."""
    return sum(services.profile_personalization_purge(profile_id=pid) for pid in profile_ids)


def _serving_profile_ids(version: str) -> np.ndarray:
    try:
        return artifacts.load(version).profile_ids
    except artifacts.ArtifactsMissing:
        return np.zeros(0, dtype=np.int64)


def _recommendations_export(account) -> list[dict]:
    out = []
    for profile in _profiles(account):
        profile.account = account
        home = build_home(profile=profile)
        for position, row in enumerate(home.rows):
            for rank, item in enumerate(row.items, start=1):
                out.append(
                    {
                        "profile_id": profile.pk,
                        "personalized": bool(home.personalized),
                        "model_version": home.model_version,
                        "row_key": row.key,
                        "row_title": row.title,
                        "row_reason": row.reason,
                        "row_position": position,
                        "rank": rank,
                        "title_id": item.title.pk,
                        "title": item.title.name,
                        "reason": item.reason,
                    }
                )
    return out


def _recommendations_erase(account) -> int:
    return _purge([p.pk for p in _profiles(account)])


def _taste_export(account) -> list[dict]:
    """Each profile's derived taste: genres weighted by its ratings, and onboarding picks."""

    weight = {"love": signals.STRENGTH["love"], "up": signals.STRENGTH["up"], "down": signals.DOWN}

    profiles = _profiles(account)
    scores: dict[int, Counter] = defaultdict(Counter)
    rated: Counter = Counter()
    for pid, value, genre in Rating.objects.filter(profile__account=account).values_list(
        "profile_id", "value", "title__genres__name"
    ):
        if genre:
            scores[pid][genre] += weight.get(value, 0)
    for pid in Rating.objects.filter(profile__account=account).values_list("profile_id", flat=True):
        rated[pid] += 1
    picked = defaultdict(list)
    for pid, name in OnboardingGenre.objects.filter(profile__account=account).values_list("profile_id", "genre__name"):
        picked[pid].append(name)
    mv = serving_version()
    version = mv.version if mv else None
    in_model = set(_serving_profile_ids(version).tolist()) if version else set()
    return [
        {
            "profile_id": p.pk,
            "ratings_count": rated[p.pk],
            "liked_genres": [g for g, s in scores[p.pk].most_common() if s > 0][:5],
            "disliked_genres": [g for g, s in sorted(scores[p.pk].items(), key=lambda kv: kv[1]) if s < 0][:5],
            "onboarding_genres": sorted(picked[p.pk]),
            "in_serving_model": p.pk in in_model,
            "serving_model_version": version,
        }
        for p in profiles
    ]


def _onboarding_export(account) -> list[dict]:
    qs = OnboardingGenre.objects.filter(profile__account=account).select_related("genre").order_by("profile_id", "id")
    return [{"profile_id": o.profile_id, "genre": o.genre.name, "created_at": o.created_at.isoformat()} for o in qs]


def _onboarding_erase(account) -> int:
    return OnboardingGenre.objects.filter(profile__account=account).delete()[0]


def _onboarding_count(account) -> int:
    return OnboardingGenre.objects.filter(profile__account=account).count()


def _on_withdrawn(purpose: str, account_id: int) -> None:
    if purpose != "personalization":
        return

    _purge(list(Profile.objects.filter(account_id=account_id).values_list("pk", flat=True)))


def _personalization_collected_delete(account) -> int:
    # What personalization derived: cached recommendations and the folded-in vectors.
    _purge([p.pk for p in _profiles(account)])
    return 0


def _training_facts(account) -> dict:
    """When the account's data was last used for training: the serving version, if it contributed."""

    mv = serving_version()
    if mv is None:
        return {"available": True, "serving_version": None, "contributed": False, "trained_at": None}
    profile_ids = [p.pk for p in _profiles(account)]
    contributed = bool(np.isin(_serving_profile_ids(mv.version), profile_ids).any()) if profile_ids else False
    return {
        "available": True,
        "serving_version": mv.version,
        "contributed": contributed,
        "trained_at": (mv.trained_at or mv.created_at).isoformat() if contributed else None,
    }


def register() -> None:
    registry.register_section(
        registry.Section(
            name="onboarding_genres",
            label="Onboarding genres",
            description="Genres each profile picked when it started, used as a taste hint.",
            models=("recommendations.OnboardingGenre",),
            export=_onboarding_export,
            erase=_onboarding_erase,
            count=_onboarding_count,
            export_order=60,
            erase_order=400,
        )
    )
    registry.register_section(
        registry.Section(
            name="recommendations",
            label="Current recommendations",
            description="The rows each profile's home page shows now, each title with the reason it is there.",
            export=_recommendations_export,
            erase=_recommendations_erase,
            export_order=70,
            erase_order=5,  # first: it needs the profiles, which later sections delete
        )
    )
    registry.register_section(
        registry.Section(
            name="taste_summaries",
            label="Taste summary",
            description="What the recommender derives from each profile: liked and disliked genres, "
            "and whether the serving model holds a vector for it.",
            export=_taste_export,
            export_order=80,
        )
    )
    registry.register_withdrawal_hook(_on_withdrawn)
    registry.register_purpose_eraser("personalization", "recommendations", _personalization_collected_delete)
    registry.register_facts("training", _training_facts)
