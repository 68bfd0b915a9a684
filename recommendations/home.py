"""Composes a profile's home page: which rows, in which order, and whether it is personal.

Catalog supplies the non-personalized rows (`catalog.shelves`); this module adds the personalized
ones when it can. Nobody sees an empty home: whenever personalization is impossible (not
allowed, no model yet, model files missing, cache down, no taste signal yet) the home is the
non-personalized rows with a `notice` saying why in plain words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from accounts.models import Profile
from catalog.models import ListEntry, Title, ViewingActivity
from catalog.selectors import search_interests, visible_titles
from catalog.shelves import Row, non_personalized_rows, row_specs, rows_from_specs
from ops.metrics import RECOMMENDER_FALLBACKS
from privacy import consent

from . import foldin, personal_rows, serving, signals

log = logging.getLogger(__name__)

NOTICES = {
    "consent": (
        "Your home is not personalized because personalization is switched off for this account. "
        "You can switch it on in your privacy settings."
    ),
    serving.NO_MODEL: "Personal recommendations are still being prepared, so for now you see what is popular and new.",
    serving.FILES_MISSING: (
        "Personal recommendations are unavailable for a moment, so you see what is popular and new instead."
    ),
    serving.CACHE_DOWN: (
        "Personal recommendations are unavailable for a moment, so you see what is popular and new instead."
    ),
    "no-signal": "Rate a few titles you like and this page will be picked for you.",
    "error": "Personal recommendations are unavailable for a moment, so you see what is popular and new instead.",
}


@dataclass
class Home:
    personalized: bool
    rows: list[Row]
    model_version: str | None = None
    # Why the home is not personalized, in words a person can read (None when it is).
    notice: str | None = None
    # summary: the seeds and genres behind the personal rows (for "why" pages and exports).
    extra: dict = field(default_factory=dict)
    # The profile should be offered onboarding first (no taste yet, not onboarded, a model serves).
    needs_onboarding: bool = False


def _fallback(profile: Profile, reason: str, *, needs_onboarding: bool = False, rows=None, now=None) -> Home:
    RECOMMENDER_FALLBACKS.labels(reason=reason).inc()  # /metrics: why homes are not personal
    return Home(
        personalized=False,
        rows=rows if rows is not None else non_personalized_rows(profile=profile, now=now),
        notice=NOTICES[reason],
        extra={"reason": reason},
        needs_onboarding=needs_onboarding,
    )


# Where the hero's title comes from, in order: the profile's Top picks, else what is popular.
HERO_ROWS = ("top-picks", "top-10", "trending", "new-arrivals")


@dataclass
class Hero:
    """The title at the top of the home: large artwork, synopsis, Play or Resume, My List."""

    title: Title
    reason: str
    row_key: str
    in_list: bool
    # Seconds into the title (or its current episode) where Resume starts; None: Play.
    resume_seconds: int | None


def hero_for(*, profile: Profile, home: Home) -> Hero | None:
    """One title for the top of `home`, with its reason; one query (its synopsis, whether it
    is on My List, and where the profile stopped)."""
    by_key = {row.key: row for row in home.rows}
    row = next((by_key[k] for k in HERO_ROWS if k in by_key), None)
    if row is None:  # kids homes lead with collections; any row with titles will do
        row = next((r for r in home.rows if r.key not in ("continue-watching", "my-list")), None)
    if row is None or not row.items:
        return None
    item = row.items[0]
    unfinished = ViewingActivity.objects.filter(profile=profile, title=OuterRef("pk"), completed=False).order_by(
        "-last_watched_at"
    )
    title = (
        visible_titles(profile)
        .filter(pk=item.title.pk)
        .annotate(
            in_list=Exists(ListEntry.objects.filter(profile=profile, title=OuterRef("pk"))),
            resume_at=Subquery(unfinished.values("position_seconds")[:1]),
        )
        .first()
    )
    if title is None:
        return None
    return Hero(
        title=title,
        reason=item.reason or row.reason,
        row_key=row.key,
        in_list=bool(title.in_list),
        resume_seconds=title.resume_at or None,
    )


def build_home(*, profile: Profile, now=None) -> Home:
    """The profile's home. `now` (default: the present) is the moment whose scheduled
    collections are live; staff preview sets it to check a row before it goes live."""
    home = _build_home(profile=profile, now=now)
    if profile.is_kids:
        # Kids mode: the curated family collections lead, then the rest in their usual order.
        home.rows = sorted(home.rows, key=lambda row: not row.key.startswith("collection-"))
    return home


def _build_home(*, profile: Profile, now=None) -> Home:
    if not consent.allows_for(profile.account, "personalization"):
        return _fallback(profile, "consent", now=now)
    lookup = serving.get_model()
    if lookup.model is None:
        return _fallback(profile, lookup.problem or serving.NO_MODEL, now=now)
    model = lookup.model
    # The catalog's shelves as ids only: re-ranked for the profile, then loaded in one query.
    specs = row_specs(profile, now=now)
    try:
        taste, vector = foldin.profile_state(model, profile)
        if vector is None:
            return _fallback(
                profile,
                "no-signal",
                needs_onboarding=profile.onboarded_at is None and not taste.has_positives,
                rows=rows_from_specs(specs, profile=profile),
            )
        interests = []
        if consent.allows_for(profile.account, "search_history"):
            since = timezone.now() - timedelta(days=signals.SEARCH_ROW_DAYS)
            interests = search_interests(profile, since=since)
        personal, summary = personal_rows.personalized_rows(
            profile=profile, model=model, taste=taste, vector=vector, catalog_specs=specs, search_interests=interests
        )
    except Exception:  # a recommender fault must never cost the viewer the page
        log.exception("personalized home failed for profile %s; falling back", profile.pk)
        return _fallback(profile, "error", rows=rows_from_specs(specs, profile=profile))
    return Home(
        personalized=True,
        rows=personal,
        model_version=model.version,
        notice=None,
        extra={"summary": summary},
    )
