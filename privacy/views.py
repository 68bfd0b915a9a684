"""Privacy pages: settings (consent toggles), policy, "Your data", export, account deletion. Thin."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api.lockout import lockout_response
from common.decorators import profile_required
from common.sudo import PasswordLockedOut, kids_forbidden, password_matches, sudo_required

from . import consent, erasure, exports, selectors, services
from .models import PURPOSE_EXPLANATIONS, ExportStatus, Purpose


def _retention_context() -> dict:
    # Read from settings every time: the policy never holds a second copy of the numbers.
    return {
        "search_retention_days": settings.SEARCH_RETENTION_DAYS,
        "viewing_retention_days": settings.VIEWING_RETENTION_DAYS,
        "export_expiry_days": exports.expiry_days(),
        "export_interval_hours": int(exports.min_interval().total_seconds() // 3600),
    }


@require_GET
def policy(request):
    purposes = [{"key": p.value, "label": p.label, "explanation": PURPOSE_EXPLANATIONS[p]} for p in Purpose]
    return render(
        request,
        "privacy/policy.html",
        {"policy_version": settings.PRIVACY_POLICY_VERSION, "purposes": purposes, **_retention_context()},
    )


@profile_required
@kids_forbidden
@require_http_methods(["GET", "POST"])
def privacy_settings(request):
    account = request.user
    if request.method == "POST":
        choices = {p: request.POST.get(p) == "on" for p in consent.PURPOSES}
        _state, withdrawn = services.consents_update(account_id=account.pk, choices=choices, method="settings")
        offer = {p: n for p, n in services.collected_summary(account=account, purposes=withdrawn).items() if n}
        if offer:
            query = "&".join(f"p={p}" for p in offer)
            return redirect(f"{reverse('privacy-withdrawn')}?{query}")
        messages.success(request, "Your privacy choices are saved.")
        return redirect("privacy-settings")
    return render(
        request,
        "privacy/settings.html",
        {
            "purposes": selectors.purposes_with_state(account.pk),
            "policy_version": settings.PRIVACY_POLICY_VERSION,
            "review_needed": selectors.policy_review_needed(account.pk),
        },
    )


@profile_required
@kids_forbidden
@require_POST
def policy_review(request):
    """The banner's "keep my choices" button: the account reviewed them under this version."""
    services.policy_review_record(account_id=request.user.pk)
    messages.success(request, "Thanks, your choices stay as they are.")
    return redirect("privacy-settings")


@profile_required
@kids_forbidden
@require_http_methods(["GET", "POST"])
def withdrawn(request):
    """After withdrawing a purpose: offer to delete what was already collected for it."""
    account = request.user
    source = request.POST if request.method == "POST" else request.GET
    purposes = source.getlist("p")
    if any(p not in consent.PURPOSES for p in purposes):
        return HttpResponseBadRequest("Unknown purpose.")
    state = consent.current(account.pk)
    purposes = [p for p in dict.fromkeys(purposes) if not state[p]]
    if request.method == "POST":
        chosen = [p for p in purposes if request.POST.get(f"delete_{p}") == "on"]
        if chosen:
            erased = services.collected_delete(account=account, purposes=chosen, via="web")
            messages.success(request, f"Deleted {sum(erased.values())} records collected before you opted out.")
        else:
            messages.info(request, "Your choices are saved; what was collected before is kept.")
        return redirect("privacy-settings")
    summary = services.collected_summary(account=account, purposes=purposes)
    offers = [{"key": p, "label": Purpose(p).label, "count": n} for p, n in summary.items() if n]
    if not offers:
        messages.success(request, "Your privacy choices are saved.")
        return redirect("privacy-settings")
    return render(request, "privacy/withdrawn.html", {"offers": offers})


@profile_required
@kids_forbidden
@require_GET
def data_dashboard(request):
    account = request.user
    return render(
        request,
        "privacy/data.html",
        {
            **selectors.dashboard(account=account),
            "history": selectors.consent_history(account=account),
            "exports": selectors.exports_of(account=account),
            "consents": selectors.purposes_with_state(account.pk),
            **_retention_context(),
        },
    )


@profile_required
@kids_forbidden
@require_POST
def export_create(request):
    try:
        exports.export_request_create(account=request.user, via="web")
    except exports.ExportThrottled as exc:
        messages.error(
            request,
            f"You can ask for one export every {int(exports.min_interval().total_seconds() // 3600)} hours. "
            f"Your last one was requested {exc.existing.created_at:%Y-%m-%d %H:%M} UTC; "
            f"you can ask again after {exc.retry_at:%Y-%m-%d %H:%M} UTC.",
        )
        return redirect("privacy-data")
    messages.success(request, "We are preparing your export. This page shows its progress.")
    return redirect("privacy-data")


@profile_required
@kids_forbidden
@require_GET
def export_status(request, pk):
    """The status fragment (htmx polls it while the export is being prepared)."""
    export = selectors.export_get_for_account(account=request.user, export_id=pk)
    return render(request, "privacy/_export_status.html", {"export": export})


@sudo_required
@kids_forbidden
@require_GET
def export_download(request, pk):
    export = selectors.export_get_for_account(account=request.user, export_id=pk)
    if export.status != ExportStatus.READY or exports.export_is_expired(export):
        raise Http404("This export is not available.")
    try:
        return exports.export_file_response(export, via="web")
    except FileNotFoundError:
        raise Http404("This export is not available.") from None


@profile_required
@kids_forbidden
@require_http_methods(["GET", "POST"])
def account_delete(request):
    error = None
    if request.method == "POST":
        if request.POST.get("confirm") != "on":
            error = "Tick the box to confirm that you want to delete your account."
        else:
            try:
                record = erasure.account_delete_request(
                    account=request.user,
                    password=request.POST.get("password", ""),
                    via="web",
                    # Through authenticate(): wrong guesses count towards the login lockout.
                    password_check=lambda password: password_matches(request, password),
                )
            except PasswordLockedOut:
                return lockout_response(request)
            except erasure.WrongPassword:
                error = "That password is not correct."
            else:
                logout(request)
                request.session["deletion_reference"] = str(record.reference)
                return redirect("privacy-deleted")
    return render(request, "privacy/delete.html", {"error": error, "now": timezone.now()}, status=400 if error else 200)


@require_GET
def account_deleted(request):
    return render(request, "privacy/deleted.html", {"reference": request.session.get("deletion_reference")})
