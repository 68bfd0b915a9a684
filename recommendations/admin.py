"""Admin: the model registry with its metrics, "Retrain now" and "Roll back to this version"."""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected

from . import model_registry
from .models import ModelVersion
from .tasks import train_request


def _metric(name: str, label: str):
    def column(self, obj: ModelVersion):
        value = obj.metric(name)
        return "—" if value is None else f"{value:.4f}"

    column.short_description = label
    return column


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "status",
        "trigger",
        "created_at",
        "ndcg",
        "popularity_ndcg",
        "precision",
        "recall",
        "auc",
        "coverage",
        "duration_seconds",
    )
    list_filter = ("status", "trigger")
    search_fields = ("version",)
    ordering = ("-created_at", "-id")
    actions = ("retrain_now", "roll_back_to_this_version", "delete_selected")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    ndcg = _metric("ndcg@10", "nDCG@10")
    precision = _metric("p@10", "P@10")
    recall = _metric("r@10", "R@10")
    auc = _metric("auc", "AUC")
    coverage = _metric("coverage", "coverage")

    @admin.display(description="popularity nDCG@10")
    def popularity_ndcg(self, obj: ModelVersion):
        value = (obj.baseline_metrics or {}).get("ndcg@10")
        return "—" if value is None else f"{value:.4f}"

    def has_add_permission(self, request):
        # Versions are made by training only.
        return False

    def has_delete_permission(self, request, obj=None):
        # The serving version and one in training have no delete button (and a bulk delete
        # skips them: delete_queryset).
        if obj is not None and model_registry.is_protected(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        model_registry.version_delete(obj)

    def delete_queryset(self, request, queryset):
        for mv in queryset:
            model_registry.version_delete(mv)

    @admin.action(description="Delete selected model versions", permissions=["delete"])
    def delete_selected(self, request, queryset):
        # Django's own bulk delete, minus the versions that must stay (it would refuse the
        # whole selection with a 403 otherwise), with a word about those.
        protected = [mv for mv in queryset if model_registry.is_protected(mv)]
        if protected:
            names = ", ".join(f"{mv.version} ({mv.status})" for mv in protected)
            self.message_user(
                request,
                f"Not deleted: {names}. The serving version and one in training are kept; "
                "roll back to another version first to delete the serving one.",
                level=messages.WARNING,
            )
        rest = queryset.exclude(status__in=model_registry.PROTECTED_STATUSES)
        if not rest.exists():
            return None
        return django_delete_selected(self, request, rest)

    @admin.action(description="Retrain now")
    def retrain_now(self, request, queryset):
        # Through the outbox: dispatched after commit, and kept if the broker is down.
        train_request(trigger="admin")
        self.message_user(request, "Training has been queued; the new version appears here when it finishes.")

    @admin.action(description="Roll back to this version")
    def roll_back_to_this_version(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version to roll back to.", level=messages.ERROR)
            return
        mv = queryset.get()
        if not model_registry.can_roll_back_to(mv):
            self.message_user(
                request,
                f"{mv.version} cannot serve: only ready or retired versions whose files exist can.",
                level=messages.ERROR,
            )
            return
        try:
            model_registry.rollback_to(mv.version)
        except model_registry.PromotionError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        self.message_user(request, f"{mv.version} serves now.")
