"""Privacy pages: settings (consent toggles), policy and its versions, "Your data", export,
account deletion. Thin."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api.lockout import lockout_response
from common.decorators import profile_required
from common.sudo import PasswordLockedOut, kids_forbidden, password_matches, sudo_required

from . import consent, erasure, exports, selectors, services
from . import policy as policies
from .models import ExportStatus, Purpose


def _policy_page(request, version: policies.PolicyVersion):
    is_current = version.version == policies.current().version
    return render(
        request,
        "privacy/policy.html",
        {
            "version": version,
            "policy_version": version.version,
            "is_current": is_current,
            "superseded_on": None if is_current else policies.superseded_on(version),
            # Only the current text reads live values; an archived one is frozen (privacy.policy).
            **(policies.live_context() if is_current else {}),
        },
    )


@require_GET
def policy(request):
    return _policy_page(request, policies.current())


@require_GET
def policy_versions(request):
    return render(request, "privacy/policy_versions.html", {"versions": policies.versions()})


@require_GET
def policy_version(request, version: str):
    found = policies.current() if version == policies.current().version else policies.by_version(version)
    if found is None:
        raise Http404("No such version of the privacy policy.")
    return _policy_page(request, found)


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
            **policies.retention(),
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
    told = " and we will email you when it is ready" if request.user.email else ""
    messages.success(request, f"We are preparing your export. This page shows its progress{told}.")
    return redirect("privacy-data")


@login_required
@kids_forbidden
@require_GET
def export_status(request, pk):
    """The export's page (the "your data is ready" email links here); for htmx, which polls it
    while the export is being prepared, only the status fragment.

    Account-level, so no profile needs choosing: the email's link, followed by a sign-in,
    lands here and not on the profile picker (a kids session is still refused)."""
    export = selectors.export_get_for_account(account=request.user, export_id=pk)
    template = "privacy/_export_status.html" if request.htmx else "privacy/export.html"
    return render(request, template, {"export": export, "export_expiry_days": exports.expiry_days()})


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
