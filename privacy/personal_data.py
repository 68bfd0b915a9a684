"""What the privacy app itself holds about a person: consents, requests and their audit trail."""

from . import registry
from .consent import current
from .exports import export_files_delete
from .models import AuditEvent, ConsentEvent, ConsentState, DeletionRecord, ExportRequest, PolicyReview


def _iso(value):
    return value.isoformat() if value else None


def _consents_export(account) -> dict:
    return current(account.pk)


def _history_export(account) -> list[dict]:
    return [
        {
            "purpose": e.purpose,
            "granted": e.granted,
            "policy_version": e.policy_version,
            "method": e.method,
            "created_at": _iso(e.created_at),
        }
        for e in ConsentEvent.objects.filter(account=account).order_by("created_at", "id")
    ]


def _consents_erase(account) -> int:
    return sum(m.objects.filter(account=account).delete()[0] for m in (ConsentEvent, ConsentState, PolicyReview))


def _history_count(account) -> int:
    return ConsentEvent.objects.filter(account=account).count()


def _exports_export(account) -> list[dict]:
    return [
        {
            "id": str(x.id),
            "status": x.status,
            "created_at": _iso(x.created_at),
            "finished_at": _iso(x.finished_at),
            "expires_at": _iso(x.expires_at),
            "download_count": x.download_count,
        }
        for x in ExportRequest.objects.filter(account=account).order_by("created_at")
    ]


def _exports_erase(account) -> int:
    qs = ExportRequest.objects.filter(account=account)
    export_files_delete(qs)
    return qs.delete()[0]


def _exports_count(account) -> int:
    return ExportRequest.objects.filter(account=account).count()


def _deletions_export(account) -> list[dict]:
    return [
        {"reference": str(d.reference), "status": d.status, "requested_at": _iso(d.requested_at)}
        for d in DeletionRecord.objects.filter(account=account).order_by("requested_at")
    ]


def _deletions_erase(account) -> int:
    # Kept on purpose: it is the pseudonymous audit record. The account link is cleared by
    # SET_NULL when the account row goes, so nothing here names the person.
    return 0


def _audit_export(account) -> list[dict]:
    return [
        {"action": a.action, "object_id": a.object_id, "via": a.via, "created_at": _iso(a.created_at)}
        for a in AuditEvent.objects.filter(account=account).order_by("created_at", "id")
    ]


def _audit_erase(account) -> int:
    record = DeletionRecord.objects.filter(account=account).order_by("-requested_at").first()
    subject = record.reference if record else None
    # Pseudonymize instead of deleting: the trail of requests stays, linked only to the
    # random reference of the deletion record.
    return AuditEvent.objects.filter(account=account).update(account=None, subject=subject)


def register() -> None:
    S = registry.Section
    registry.register_section(
        S(
            name="consents",
            label="Consent choices",
            description="What you currently allow, per purpose.",
            models=("privacy.ConsentState", "privacy.PolicyReview"),
            export=_consents_export,
            erase=_consents_erase,
            export_order=1,
            erase_order=800,
        )
    )
    registry.register_section(
        S(
            name="consent_history",
            label="Consent history",
            description="Every change of your consent choices: purpose, choice, policy version, when and how.",
            models=("privacy.ConsentEvent",),
            export=_history_export,
            count=_history_count,
            export_order=2,
        )
    )
    registry.register_section(
        S(
            name="export_requests",
            label="Data exports",
            description="Copies of your data you asked for, and their status.",
            models=("privacy.ExportRequest",),
            export=_exports_export,
            erase=_exports_erase,
            count=_exports_count,
            export_order=100,
            erase_order=100,
        )
    )
    registry.register_section(
        S(
            name="deletion_requests",
            label="Deletion requests",
            description="Requests to delete your account. After erasure only a random reference, the dates "
            "and the numbers of rows erased remain.",
            models=("privacy.DeletionRecord",),
            export=_deletions_export,
            erase=_deletions_erase,
            export_order=101,
        )
    )
    registry.register_section(
        S(
            name="privacy_audit",
            label="Privacy request log",
            description="When you requested, downloaded or were refused an export, and similar events.",
            models=("privacy.AuditEvent",),
            export=_audit_export,
            erase=_audit_erase,
            export_order=102,
            erase_order=850,
        )
    )
