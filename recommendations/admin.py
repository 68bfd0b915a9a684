"""Admin: the model registry with its metrics, "Retrain now" and "Roll back to this version"."""

from django.contrib import admin, messages

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
    actions = ("retrain_now", "roll_back_to_this_version")
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
