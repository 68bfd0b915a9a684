"""Reads of the privacy app. Ownership is part of every lookup: another account's export is a 404."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from . import consent, registry
from .models import PURPOSE_EXPLANATIONS, ConsentEvent, ExportRequest, PolicyReview, Purpose


def purposes_with_state(account_id: int) -> list[dict]:
    state = consent.current(account_id)
    return [
        {"key": p.value, "label": p.label, "explanation": PURPOSE_EXPLANATIONS[p], "granted": state[p.value]}
        for p in Purpose
    ]


def viewing_history_enabled(account_id: int) -> bool:
    """Whether viewing is recorded (the player and "Continue watching" say so when it is not)."""
    return consent.allows(account_id, "viewing_history")


def search_history_enabled(account_id: int) -> bool:
    return consent.allows(account_id, "search_history")


def consent_history(*, account, limit: int = 50):
    return ConsentEvent.objects.filter(account=account).order_by("-created_at", "-id")[:limit]


def exports_of(*, account, limit: int = 10):
    return ExportRequest.objects.filter(account=account).order_by("-created_at")[:limit]


def export_get_for_account(*, account, export_id) -> ExportRequest:
    """The account's export with this id, else Http404 (never a 403 that confirms it exists)."""
    return get_object_or_404(ExportRequest, pk=export_id, account=account)


def policy_version_reviewed(account_id: int) -> str | None:
    """The policy version the account last reviewed its choices under.

    An explicit review (settings page, API, the banner's button) wins; otherwise the version
    of its latest consent event (sign-up records one per purpose).
    """
    # One query (it runs on every signed-in page, via the banner): both candidates as subqueries.
    review = PolicyReview.objects.filter(account_id=OuterRef("pk")).values("version")[:1]
    latest_event = (
        ConsentEvent.objects.filter(account_id=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("policy_version")[:1]
    )
    return (
        get_user_model()
        .objects.filter(pk=account_id)
        .annotate(reviewed=Coalesce(Subquery(review), Subquery(latest_event)))
        .values_list("reviewed", flat=True)
        .first()
    )


def policy_review_needed(account_id: int) -> bool:
    return policy_version_reviewed(account_id) != settings.PRIVACY_POLICY_VERSION


def dashboard(*, account) -> dict:
    """Everything the "Your data" page shows, from the registry (no app is imported here)."""
    counts = registry.counts(account)
    rows = [
        {"name": s.name, "label": s.label, "description": s.description, "count": counts[s.name]}
        for s in registry.sections()
        if s.name in counts
    ]
    facts = registry.facts(account)
    training = facts.get("training") or {}
    if training.get("trained_at"):
        when = datetime.fromisoformat(training["trained_at"])
        training["trained_at_display"] = f"{when:%Y-%m-%d %H:%M} UTC"
    return {"counts": rows, "facts": facts}
