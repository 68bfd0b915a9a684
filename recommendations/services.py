"""Writes of the serving side: onboarding choices and the personalization purge."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from accounts.services import profile_engagement_touch
from catalog import services as catalog_services
from catalog.models import Genre, Rating
from catalog.selectors import visible_titles
from privacy import consent

from . import artifacts, serving
from .foldin import profile_cache_key
from .models import OnboardingGenre

log = logging.getLogger(__name__)

ONBOARDING_MIN_TITLES = 3
ONBOARDING_MAX_TITLES = 50


@transaction.atomic
def onboarding_complete(*, profile: Profile, title_ids: list[int], genre_slugs: list[str]) -> int:
    """Record the titles (as "up" ratings) and genres a new profile picked; returns titles rated.

    Only titles the profile may see count; fewer than ONBOARDING_MIN_TITLES is refused with
    nothing written. A title the profile already rated keeps its rating.
    """
    wanted = {int(t) for t in title_ids[:ONBOARDING_MAX_TITLES]}
    titles = list(visible_titles(profile).filter(pk__in=wanted))
    if len(titles) < ONBOARDING_MIN_TITLES:
        raise ValidationError(f"Pick at least {ONBOARDING_MIN_TITLES} titles you like.")
    already = set(Rating.objects.filter(profile=profile, title__in=titles).values_list("title_id", flat=True))
    for title in titles:
        if title.pk not in already:
            catalog_services.rating_set(profile=profile, title=title, value="up")
    genres = list(Genre.objects.filter(slug__in=set(genre_slugs)))
    OnboardingGenre.objects.bulk_create(
        [OnboardingGenre(profile=profile, genre=g) for g in genres], ignore_conflicts=True
    )
    _mark_onboarded(profile)
    return len(titles)


@transaction.atomic
def onboarding_skip(*, profile: Profile) -> None:
    _mark_onboarded(profile)


def _mark_onboarded(profile: Profile) -> None:
    now = timezone.now()
    # The genres are taste too: move the stamp so the next home folds the profile in afresh.
    Profile.objects.filter(pk=profile.pk).update(onboarded_at=now)
    profile_engagement_touch(profile_ids=[profile.pk])
    profile.onboarded_at = now
    profile.refresh_from_db(fields=["engagement_stamp"])


def profile_personalization_purge(*, profile_id: int) -> int:
    """Forget everything derived for the profile: its cached taste and vector, and its rows in
    every model version on disk (whether or not the registry still has a row for it, so a
    rollback cannot bring it back). Returns how many version files held it.

    Called by privacy when personalization is withdrawn and on erasure; safe to call twice, and
    after the profile itself is gone.
    """
    try:
        cache.delete(profile_cache_key(profile_id))
    except Exception:  # a dead cache holds nothing to purge; the files still must be
        log.warning("could not purge cached recommendations of profile %s", profile_id, exc_info=True)
    removed = 0
    for version in artifacts.stored_versions():
        if serving.drop_profile(version=version, profile_id=profile_id):
            removed += 1
            log.info("profile %s removed from model %s", profile_id, version)
    return removed


def personalization_turn_on(*, profile: Profile) -> bool:
    """The home's offer to someone who signed up with personalization off: switch it on for the
    account (the same recorded choice the privacy settings make). True when it changed."""
    if consent.allows_for(profile.account, "personalization"):
        return False
    consent.consents_set(account_id=profile.account_id, choices={"personalization": True}, method="settings")
    return True
