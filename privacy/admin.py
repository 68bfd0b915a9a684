"""Read-only admin views of the privacy logs: the consent log is append-only, audits are evidence."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import AuditEvent, ConsentEvent, ConsentState, DeletionRecord, ExportRequest, PolicyReview


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["account_id", "purpose", "granted", "method", "policy_version", "created_at"]
    list_filter = ["purpose", "granted", "method", "policy_version"]


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["account_id", "purpose", "granted", "updated_at"]
    list_filter = ["purpose", "granted"]


@admin.register(PolicyReview)
class PolicyReviewAdmin(ReadOnlyAdmin):
    list_display = ["account_id", "version", "reviewed_at"]


@admin.register(ExportRequest)
class ExportRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "account_id", "status", "progress", "created_at", "expires_at", "download_count"]
    list_filter = ["status"]


@admin.register(DeletionRecord)
class DeletionRecordAdmin(ReadOnlyAdmin):
    # method "staff": erased from the admin ("Erase this user"); the audit log says by whom and why.
    list_display = ["reference", "status", "method", "requested_at", "completed_at", "attempts"]
    list_filter = ["status", "method"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    # Staff actions from the admin (privacy.staff: erase, export, download) name the staff member
    # and the reason they gave; the subscriber's own requests leave both empty.
    list_display = ["action", "account_id", "subject", "object_id", "via", "staff", "reason", "created_at"]
    list_filter = ["action", "via"]
    list_select_related = ["staff"]
