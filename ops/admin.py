"""The outbox and the leases, read-only: what is queued, running, stuck or held, for operators."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import Lease, OutboxTask


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    list_display = ("task", "status", "attempts", "created_at", "sent_at", "started_at", "heartbeat_at", "finished_at")
    list_filter = ("status", "task")
    search_fields = ("task", "key")
    readonly_fields = [f.name for f in OutboxTask._meta.fields]
    date_hierarchy = "created_at"


@admin.register(Lease)
class LeaseAdmin(ReadOnlyAdmin):
    list_display = ("name", "holder", "acquired_at", "renewed_at", "expires_at")
