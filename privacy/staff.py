"""Staff requests on someone else's account, from the admin: erase it, export its data.

As Discourse and Mastodon give their staff: a support request by email, a court order, an
abusive account. Each goes through the same path the person's own request takes (the erasure
in privacy.erasure, the export in privacy.exports), so there is one way to erase and one way
to export; this module only adds who may, the refusals, and the audit entry naming the staff
member, the reason and the time.

Permissions are their own (`privacy.erase_account`, `privacy.export_account`), not
superuser-only and not "can delete user": erasure is irreversible and an export hands a
person's data to someone else, so a privacy officer can be given exactly these two while
other staff who edit accounts cannot. Superusers have every permission.

accounts/admin.py imports this module (import-linter allows it: accounts must not import
privacy's models, services or tasks directly).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import FileResponse

from . import erasure, exports, selectors
from .models import AuditAction, AuditEvent, DeletionRecord, DeletionStatus, ExportRequest, ExportStatus

ERASE_PERMISSION = "privacy.erase_account"
EXPORT_PERMISSION = "privacy.export_account"
VIA = erasure.STAFF_METHOD  # "staff": the record's method and every audit entry's `via`
REASON_MAX_LENGTH = AuditEvent._meta.get_field("reason").max_length


class StaffRefused(Exception):
    """This staff member may not do this to this account; the message says why."""


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def can_erase(user) -> bool:
    return _is_staff(user) and user.has_perm(ERASE_PERMISSION)


def can_export(user) -> bool:
    return _is_staff(user) and user.has_perm(EXPORT_PERMISSION)


def erase_refusal(*, staff, account) -> str | None:
    """Why `staff` may not erase `account` from the admin, or None when they may.

    Not oneself: that is the account's own deletion (password re-confirmed, in its settings), and
    a staff member erasing their own account would lock themselves out mid-request. Not a
    superuser unless one is a superuser oneself: otherwise a staff member with the permission
    could remove the people who oversee them.
    """
    if account.pk == staff.pk:
        return "You cannot erase your own account here; delete it from your account's privacy settings."
    if account.is_superuser and not staff.is_superuser:
        return "Only a superuser can erase a superuser's account."
    return None


def _audit(*, action: str, staff, account_id: int, reason: str = "", object_id: str = "", **detail) -> AuditEvent:
    # `account` is the subject (pseudonymized with the rest of its trail when it is erased);
    # `staff` who acted. The reason is free text written for the record, capped.
    return AuditEvent.objects.create(
        account_id=account_id,
        staff_id=staff.pk,
        action=action,
        via=VIA,
        object_id=object_id,
        reason=reason[:REASON_MAX_LENGTH],
        detail=detail,
    )


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Give a reason: it is kept in the privacy audit log.")
    return reason[:REASON_MAX_LENGTH]


def erasure_pending(*, account) -> DeletionRecord | None:
    """The account's erasure already asked for and not finished (by the person or by staff)."""
    return (
        DeletionRecord.objects.filter(account=account)
        .exclude(status=DeletionStatus.DONE)
        .order_by("-requested_at")
        .first()
    )


def account_erase_by_staff(*, staff, account, reason: str) -> DeletionRecord:
    """Erase `account` through the account-deletion path (privacy.erasure.account_erasure_queue:
    locked out at once, the idempotent `privacy.tasks.account_erase` queued through the outbox,
    a receipt saying staff did it), audit-logged with `staff` and `reason`.

    Safe to press twice: an erasure already queued or running for the account is that erasure
    (audited again, nothing queued twice). Raises ValueError without a reason and StaffRefused
    when `erase_refusal` says no; either way nothing changes.
    """
    reason = _clean_reason(reason)
    refusal = erase_refusal(staff=staff, account=account)
    if refusal:
        raise StaffRefused(refusal)
    with transaction.atomic():
        # Two staff members pressing at once: the second waits here and finds the first's record.
        get_user_model().objects.select_for_update().filter(pk=account.pk).first()
        existing = erasure_pending(account=account)
        record = existing or erasure.account_erasure_queue(account=account, via=VIA)
        _audit(
            action=AuditAction.STAFF_ERASURE,
            staff=staff,
            account_id=account.pk,
            reason=reason,
            object_id=str(record.reference),
            already_requested=existing is not None,
        )
    return record


def export_refusal(*, staff, account) -> str | None:
    """Why `staff` may not export (or download) `account`'s data from the admin, or None.

    Not while its erasure is asked for or running: the person chose to be forgotten, and a copy
    made now would outlive the erasure in someone's downloads. Not a superuser's unless one is
    a superuser oneself (the same rule as erasure: a copy of an overseer's data is theirs to give).
    """
    if erasure_pending(account=account) is not None:
        return "This account's erasure is under way: its data can no longer be exported."
    if account.is_superuser and not staff.is_superuser:
        return "Only a superuser can export a superuser's data."
    return None


def account_export_by_staff(*, staff, account, reason: str = "") -> tuple[ExportRequest, bool]:
    """Start the account's export through privacy.exports (the same build, the same ZIP, the
    same "ready" notice to the owner); returns (export, started).

    The per-account limit of privacy.exports holds for staff too: within it the recent export
    (the person's own or an earlier staff one: the same data) is returned instead, started=False.
    StaffRefused when `export_refusal` says no. The export and its audit entry commit together
    (the build is queued through the outbox, after that commit).
    """
    reason = (reason or "").strip()
    refusal = export_refusal(staff=staff, account=account)
    if refusal:
        raise StaffRefused(refusal)
    with transaction.atomic():
        try:
            export, started = exports.export_request_create(account=account, via=VIA), True
        except exports.ExportThrottled as throttled:
            export, started = throttled.existing, False
        _audit(
            action=AuditAction.STAFF_EXPORT,
            staff=staff,
            account_id=account.pk,
            reason=reason,
            object_id=str(export.pk),
            started=started,
        )
    return export, started


def exports_for_staff(*, account, limit: int = 10):
    """The account's recent exports, newest first, for the admin's export page."""
    return selectors.exports_of(account=account, limit=limit)


def export_downloadable(*, account_id: int, export_id) -> ExportRequest | None:
    """The ready, unexpired export `export_id` of account `account_id`, else None."""
    export = ExportRequest.objects.filter(pk=export_id, account_id=account_id).first()
    if export is None or export.status != ExportStatus.READY or exports.export_is_expired(export):
        return None
    return export


def export_download_by_staff(*, staff, export: ExportRequest) -> FileResponse:
    """The export's ZIP for a staff member: counted and logged as a download (privacy.exports,
    via "staff"), and audit-logged with who downloaded it. A missing file raises FileNotFoundError
    before anything is logged."""
    refusal = export_refusal(staff=staff, account=export.account)
    if refusal:
        raise StaffRefused(refusal)
    with transaction.atomic():
        response = exports.export_file_response(export, via=VIA)
        _audit(
            action=AuditAction.STAFF_EXPORT_DOWNLOADED,
            staff=staff,
            account_id=export.account_id,
            object_id=str(export.pk),
        )
    return response


def staff_actions_of(*, account, limit: int = 20):
    """Staff actions on this account (newest first), for the admin pages."""
    return (
        AuditEvent.objects.filter(account=account, via=VIA, staff__isnull=False)
        .select_related("staff")
        .order_by("-created_at", "-id")[:limit]
    )
