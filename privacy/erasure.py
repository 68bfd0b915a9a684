"""Account deletion (GDPR Art. 17).

`account_delete_request` (after the password is re-confirmed) shuts the door at once: the
account is deactivated, its password made unusable, every session and API token deleted,
and a DeletionRecord queued. The erasure job (`account_erase`, a Celery task) then runs every
registered erase callback - derived data first (cached recommendations, the serving model's
rows, export files), the account row last - emails a receipt to the address it is about to
erase, and leaves only the pseudonymous DeletionRecord: a random reference, timestamps and
numbers of rows erased. It is idempotent: a second run finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from ops import outbox
from ops.heartbeat import dead_before, job_heartbeat

from . import registry
from .models import AuditAction, DeletionRecord, DeletionStatus
from .services import audit

log = logging.getLogger(__name__)

# Sections erased at or after this order need the account row gone last (see accounts).
FINAL_ERASE_ORDER = 1000

# The record method of an erasure staff started from the admin (privacy.staff).
STAFF_METHOD = "staff"


class WrongPassword(Exception):
    pass


def sessions_invalidate(*, account_id: int) -> int:
    """Delete every live session of the account (database sessions: decoded one by one)."""
    removed = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(account_id):
            session.delete()
            removed += 1
    return removed


def tokens_invalidate(*, account_id: int) -> int:
    return Token.objects.filter(user_id=account_id).delete()[0]


def account_delete_request(
    *, account, password: str, via: str, password_check: Callable[[str], bool] | None = None
) -> DeletionRecord:
    """Re-confirm the password, lock the account out everywhere, and queue the erasure.

    `password_check` is the caller's lockout-aware check (common.sudo.password_matches bound to
    the request), asked first so that wrong guesses count towards the login lockout; it raises
    common.sudo.PasswordLockedOut when locked out. The account's own check stays as a second guard.
    """
    if (
        not password
        or (password_check is not None and not password_check(password))
        or not account.check_password(password)
    ):
        audit(account_id=account.pk, action=AuditAction.DELETION_REFUSED, via=via)
        raise WrongPassword("The password is not correct.")
    return account_erasure_queue(account=account, via=via)


def account_erasure_queue(*, account, via: str) -> DeletionRecord:
    """Lock the account out everywhere and queue its erasure: the one path every deletion takes
    once it is authorized (the owner re-confirmed the password, or a staff member with the
    permission gave a reason: privacy.staff). `via` becomes the record's method."""
    with transaction.atomic():
        record = DeletionRecord.objects.create(account=account, method=via)
        audit(account_id=account.pk, action=AuditAction.DELETION_REQUESTED, via=via, object_id=str(record.reference))
        # Even before the job runs, nothing can sign in as this account again: an inactive
        # user fails authentication and an unusable password changes the session auth hash.
        account.is_active = False
        account.set_unusable_password()
        account.save(update_fields=["is_active", "password"])
        tokens_invalidate(account_id=account.pk)
        sessions_invalidate(account_id=account.pk)
        # Recorded with the request (the outbox): a broker that is down delays the erasure,
        # it does not lose it.
        outbox.enqueue("privacy.tasks.account_erase", record.pk, key=f"erasure:{record.pk}")
    return record


def _receipt(record: DeletionRecord, counts: dict[str, int]) -> str:
    erased = "\n".join(f"  {registry.section(name).label}: {n}" for name, n in sorted(counts.items()) if n)
    # The person must learn that they did not ask for this themselves.
    who = (
        "Marquee staff deleted your account (this was not requested from your account's settings).\n\n"
        if record.method == STAFF_METHOD
        else ""
    )
    return (
        "Your Marquee account has been deleted.\n\n"
        f"{who}"
        f"Reference: {record.reference}\n"
        f"Requested: {record.requested_at:%Y-%m-%d %H:%M} UTC\n\n"
        "We erased your profiles, ratings, viewing and search history, My List, consent records, "
        "exports, cached recommendations and your rows in the recommendation model:\n"
        f"{erased or '  (nothing else was stored)'}\n\n"
        "What remains is a record of this deletion under the reference above, with its dates and "
        "these numbers: no name, username or email address. This email is the last one we send.\n"
    )


def account_erase(*, record_id: int) -> DeletionRecord | None:
    """Erase everything the registry knows for the record's account. Safe to run twice."""
    now = timezone.now()
    claimed = (
        DeletionRecord.objects.filter(pk=record_id)
        .filter(_claimable(now))
        .update(status=DeletionStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return DeletionRecord.objects.filter(pk=record_id).first()
    with job_heartbeat(DeletionRecord.objects.filter(pk=record_id)):
        return _erase(record_id)


def _claimable(now) -> Q:
    """Not started, failed (retried), or running under a worker that died (heartbeat stopped)."""
    return (
        Q(status__in=[DeletionStatus.REQUESTED, DeletionStatus.FAILED])
        | Q(status=DeletionStatus.RUNNING, heartbeat_at__lt=dead_before(now))
        | Q(status=DeletionStatus.RUNNING, heartbeat_at__isnull=True, started_at__lt=dead_before(now))
    )


def _erase(record_id: int) -> DeletionRecord:
    record = DeletionRecord.objects.select_related("account").get(pk=record_id)
    account = record.account
    counts: dict[str, int] = dict(record.erased_counts or {})
    try:
        if account is not None:
            sessions_invalidate(account_id=account.pk)
            tokens_invalidate(account_id=account.pk)
            final = []
            with transaction.atomic():
                for s in registry.sections(order="erase"):
                    if s.erase is None:
                        continue
                    if s.erase_order >= FINAL_ERASE_ORDER:
                        final.append(s)
                        continue
                    counts[s.name] = counts.get(s.name, 0) + int(s.erase(account) or 0)
            DeletionRecord.objects.filter(pk=record_id).update(erased_counts=counts)
            # The receipt goes out before the address itself is erased.
            if account.email and record.receipt_sent_at is None:
                send_mail(
                    "Your Marquee account has been deleted",
                    _receipt(record, counts),
                    settings.DEFAULT_FROM_EMAIL,
                    [account.email],
                )
                DeletionRecord.objects.filter(pk=record_id).update(receipt_sent_at=timezone.now())
            with transaction.atomic():
                for s in final:
                    counts[s.name] = counts.get(s.name, 0) + int(s.erase(account) or 0)
    except Exception:
        # The reference only: the log must not name the person being erased.
        log.exception("erasure %s failed", record.reference)
        DeletionRecord.objects.filter(pk=record_id).update(status=DeletionStatus.FAILED, erased_counts=counts)
        raise
    DeletionRecord.objects.filter(pk=record_id).update(
        status=DeletionStatus.DONE, completed_at=timezone.now(), erased_counts=counts, account=None
    )
    log.info("erasure %s done", record.reference)
    return DeletionRecord.objects.get(pk=record_id)


def erasures_retry(*, older_than_minutes: int = 30) -> int:
    """Queue again erasures that failed or never started (a lost task must not leave data)."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes)
    ids = list(DeletionRecord.objects.filter(_claimable(now), requested_at__lt=cutoff).values_list("pk", flat=True))
    with transaction.atomic():
        for pk in ids:
            outbox.enqueue("privacy.tasks.account_erase", pk, key=f"erasure:{pk}")
    return len(ids)
