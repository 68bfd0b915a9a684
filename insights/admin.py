from django.contrib import admin

from .models import InsightsSnapshot, PreviewAudit


@admin.register(InsightsSnapshot)
class InsightsSnapshotAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "trigger", "progress", "created_at", "finished_at", "duration_seconds")
    list_filter = ("status", "trigger")
    exclude = ("data",)  # large JSON: the dashboard is the way to read it
    readonly_fields = ("status", "trigger", "progress", "step", "created_at", "started_at", "finished_at", "error")

    def has_add_permission(self, request):
        return False


@admin.register(PreviewAudit)
class PreviewAuditAdmin(admin.ModelAdmin):
    # An audit log: readable, never edited.
    list_display = ("viewed_at", "staff_username", "profile_label")
    readonly_fields = ("viewed_at", "staff", "staff_username", "profile", "profile_label")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
