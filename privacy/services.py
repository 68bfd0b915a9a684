"""Writes of the privacy app that are not exports or erasure: consent changes and reviews.

Consent itself is recorded by `privacy.consent.consents_set` (the append-only log); this
module adds what a person's change of mind sets in motion.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import consent, registry
from .models import AuditAction, AuditEvent, PolicyReview

log = logging.getLogger(__name__)


def audit(
    *,
    account_id: int | None,
    action: str,
    via: str,
    object_id: str = "",
    counts: Mapping[str, int] | None = None,
    **detail: object,
) -> AuditEvent:
    """Append to the privacy audit log. `detail` (and `counts`, merged into it) must hold numbers
    and codes, never content."""
    detail = {**detail, **(counts or {})}
    return AuditEvent.objects.create(account_id=account_id, action=action, via=via, object_id=object_id, detail=detail)


def policy_review_record(*, account_id: int) -> PolicyReview:
    review, _ = PolicyReview.objects.update_or_create(
        account_id=account_id,
        defaults={"version": settings.PRIVACY_POLICY_VERSION, "reviewed_at": timezone.now()},
    )
    return review


@transaction.atomic
def consents_update(*, account_id: int, choices: Mapping[str, bool], method: str) -> tuple[dict[str, bool], list[str]]:
    """Apply a person's choices; returns (current state, purposes just withdrawn).

    Gates read the state at once, so collection stops on commit. The apps' withdrawal
    hooks (e.g. purging cached recommendations) run after the commit: the purge must not
    happen for a change that was rolled back.
    """
    before = consent.current(account_id)
    state = consent.consents_set(account_id=account_id, choices=choices, method=method)
    withdrawn = [p for p in consent.PURPOSES if before[p] and not state[p]]
    policy_review_record(account_id=account_id)
    for purpose in withdrawn:
        transaction.on_commit(partial(registry.consent_withdrawn, purpose, account_id))
    return state, withdrawn


def collected_summary(*, account, purposes) -> dict[str, int]:
    """How much was collected for each purpose that has deletable data (for the offer)."""
    known = registry.purposes_with_collected_data()
    return {p: registry.collected_counts(account, p) for p in purposes if p in known}


@transaction.atomic
def collected_delete(*, account, purposes, via: str) -> dict[str, int]:
    """Delete what was already collected for purposes the person withdrew.

    Refuses a purpose that is still granted: the offer follows a withdrawal, it is not a
    second way to delete data (that is the history pages' job).
    """
    state = consent.current(account.pk)
    erased: dict[str, int] = {}
    for purpose in purposes:
        if purpose not in consent.PURPOSES:
            raise ValueError(f"unknown consent purpose {purpose!r}")
        if state[purpose]:
            raise ValueError(f"{purpose} is still allowed")
        for name, n in registry.collected_delete(account, purpose).items():
            erased[name] = erased.get(name, 0) + n
    audit(
        account_id=account.pk, action=AuditAction.COLLECTED_DELETED, via=via, purposes=sorted(purposes), counts=erased
    )
    return erased
