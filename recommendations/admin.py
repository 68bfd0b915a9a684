"""Admin: the model registry with its metrics over time, "Retrain now" (a button that queues a
training and shows its progress) and "Roll back to this version".

"Retrain now" posts to `retrain/` (change permission): it only queues the training through the
outbox (`tasks.train_request`) and returns; a worker (full stack) or a background thread of
the web process (embedded stack) trains. The changelist's status panel polls `retrain/status/`
with htmx while a training is queued or running.
"""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from common.charts import Series, line_chart

from . import model_registry, selectors
from .models import ModelVersion
from .tasks import train_request, training_running

STATUS_TEMPLATE = "admin/recommendations/modelversion/retrain_status.html"
DASH = "—"


def _num(value, digits: int = 4) -> str:
    return DASH if value is None else f"{float(value):.{digits}f}"


def _last_line(text: str) -> str:
    """A traceback's last line ("TrainingError: no interactions ..."): what the panel shows."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def metrics_chart(points: list[selectors.MetricsPoint]):
    """nDCG@10 against popularity's, and coverage, per version in time order."""
    labels = [timezone.localtime(p.created_at).strftime("%m-%d %H:%M") for p in points]
    return line_chart(
        title="Model versions: nDCG@10 vs the popularity baseline, and catalog coverage",
        labels=labels,
        point_titles=[f"{p.version} ({p.status})" for p in points],
        series=[
            Series("nDCG@10 (model)", [p.ndcg for p in points]),
            Series("nDCG@10 (popularity)", [p.popularity_ndcg for p in points], dashed=True),
            Series("Coverage", [p.coverage for p in points]),
        ],
        y_label="Score (0 to 1)",
        x_label="Version trained at (month-day hour:minute)",
    )


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    # Short headers and merged figures, so the list fits 1400 px beside the navigation and the
    # filters (tests/browser/test_browser_retrain.py measures it). No "created" column: a
    # version's name is its creation time (UTC), and the chart above plots them in time.
    list_display = (
        "version",
        "state",
        "ndcg",
        "precision_recall",
        "auc",
        "coverage",
        "duration",
    )
    list_filter = ("status", "trigger")
    search_fields = ("version",)
    ordering = ("-created_at", "-id")
    actions = ("roll_back_to_this_version", "delete_selected")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    @admin.display(description="status / trigger", ordering="status")
    def state(self, obj: ModelVersion):
        # The raw value ("rejected"), not the long label ("Rejected by the promotion gate"),
        # with what started the training beneath it.
        return format_html('{}<span class="mv-trigger">{}</span>', obj.status, obj.trigger or DASH)

    @admin.display(description="nDCG@10 (pop.)")
    def ndcg(self, obj: ModelVersion):
        model = obj.metric("ndcg@10")
        pop = (obj.baseline_metrics or {}).get("ndcg@10")
        if model is None and pop is None:
            return DASH
        return f"{_num(model)} ({_num(pop)})"

    @admin.display(description="P / R@10")
    def precision_recall(self, obj: ModelVersion):
        p, r = obj.metric("p@10"), obj.metric("r@10")
        return DASH if p is None and r is None else f"{_num(p, 3)} / {_num(r, 3)}"

    @admin.display(description="AUC")
    def auc(self, obj: ModelVersion):
        return _num(obj.metric("auc"), 3)

    @admin.display(description="coverage")
    def coverage(self, obj: ModelVersion):
        value = obj.metric("coverage")
        return DASH if value is None else f"{value * 100:.1f}%"

    @admin.display(description="time", ordering="duration_seconds")
    def duration(self, obj: ModelVersion):
        return DASH if obj.duration_seconds is None else f"{obj.duration_seconds:.0f} s"

    # --- "Retrain now" and its status panel ---------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        custom = [
            path("retrain/", self.admin_site.admin_view(self.retrain_view), name=f"{prefix}_retrain"),
            path(
                "retrain/status/",
                self.admin_site.admin_view(self.retrain_status_view),
                name=f"{prefix}_retrain_status",
            ),
        ]
        # Before the defaults: their "<path:object_id>/" would take "retrain/" for an id.
        return custom + super().get_urls()

    def _url(self, name: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", current_app=self.admin_site.name)

    def _status_context(self, request) -> dict:
        activity = selectors.training_activity()
        version = activity.version
        return {
            "activity": activity,
            "version": version,
            "error_summary": _last_line(version.error) if version is not None else "",
            "status_url": self._url("retrain_status"),
            "changelist_url": self._url("changelist"),
            "poll": request.GET.get("poll") == "1",
        }

    def changelist_view(self, request, extra_context=None):
        context = {
            **self._status_context(request),
            "can_retrain": self.has_change_permission(request),
            "retrain_url": self._url("retrain"),
            "metrics_chart": metrics_chart(selectors.metrics_history()),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def retrain_view(self, request):
        """Queue one training (single flight) and go back to the list; never trains here."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        activity = selectors.training_activity()
        if activity.state == "queued":
            self.message_user(request, "A training is already queued, waiting for a worker.", messages.WARNING)
        elif activity.active or training_running():
            self.message_user(request, "A training is already running; its progress is shown below.", messages.WARNING)
        else:
            # Through the outbox: dispatched after commit (to Celery, or to a background thread
            # of this process on the embedded stack), and kept if the broker is down.
            train_request(trigger="admin")
            self.message_user(request, "Training queued. It runs in the background; its progress is shown below.")
        return redirect(self._url("changelist"))

    def retrain_status_view(self, request):
        """The status panel alone (htmx polls it every second while a training is active)."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        return TemplateResponse(request, STATUS_TEMPLATE, self._status_context(request))

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
