"""Accounts admin: users (Django's UserAdmin, with their profiles inline) and profiles.

What "delete" means here, per model (also said on each page):
- a user: deleting is erasing. Delete (the change page's link and the bulk action) leads to
  "Erase this user", which takes a reason and runs the account's own erasure (privacy.staff ->
  privacy.erasure: locked out at once, every registered section erased by the idempotent task,
  a receipt, a pseudonymous record). A plain row delete would leave files, model rows and
  cached recommendations behind, and the read-only privacy logs refuse it anyway.
- a profile: deleted with everything it did (ratings, viewing, My List, searches), through
  accounts.services.profile_delete, the subscriber's own "Delete profile". An account's last
  profile cannot be deleted (every account has one): erase the account instead.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import model_ngettext, unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from privacy import staff as staff_privacy

from . import services
from .models import Profile, User

ERASE_HELP = (
    "Deleting a user erases the account: it is locked out at once, and the same erasure the "
    "subscriber's own “Delete my account” runs then removes its profiles, ratings, viewing and "
    "search history, My List, consents, exports, cached recommendations and its rows in every "
    "model version, and emails a receipt saying staff did it. Only a pseudonymous deletion record "
    "remains. It cannot be undone."
)
PROFILE_DELETE_HELP = (
    "Deleting a profile deletes everything it did (ratings, viewing history, My List, searches), "
    "as the subscriber's own “Delete profile” does; the account and its other profiles stay. "
    "An account's only profile cannot be deleted: erase the account instead."
)
REASON_HELP = (
    "Why (a support ticket, a court order, the terms broken). Kept in the privacy audit log after "
    "the account is gone: do not write the person's name or email address here."
)


class ProfileInline(admin.TabularInline):
    model = Profile
    fields = ["name", "is_kids", "maturity_limit", "avatar_color", "onboarded_at"]
    extra = 0
    # The same limit profile_create enforces for subscribers.
    max_num = settings.MAX_PROFILES_PER_ACCOUNT
    # A formset delete would skip profile_delete's "last profile" rule: profiles are deleted
    # from their own page (ProfileAdmin), which goes through the service.
    can_delete = False


class EraseForm(forms.Form):
    reason = forms.CharField(
        max_length=staff_privacy.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=REASON_HELP,
        error_messages={"required": "Give a reason: erasing an account is audit-logged with it."},
    )


class ExportForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=staff_privacy.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional: why staff need a copy (kept in the privacy audit log).",
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_staff", "is_active", "date_joined", "profile_count"]
    list_filter = ["is_staff", "is_superuser", "is_active", "date_joined"]
    inlines = [ProfileInline]
    actions = ["erase_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_profiles=Count("profiles"))

    @admin.display(description="profiles", ordering="_profiles")
    def profile_count(self, obj):
        return obj._profiles

    # --- delete = erase -------------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None):
        # Deleting a user is erasing it: whoever may erase sees "Delete", which leads there.
        return staff_privacy.can_erase(request.user)

    def has_erase_permission(self, request):
        return staff_privacy.can_erase(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The row delete would half-delete (files, model rows) or fail on the privacy logs.
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        # Every delete of a user goes through the erasure, with its reason and audit entry.
        if not self.has_delete_permission(request):
            raise PermissionDenied
        return redirect("admin:accounts_user_erase", object_id)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/erase/", view(self.erase_view), name="accounts_user_erase"),
            path("<path:object_id>/privacy-export/", view(self.export_view), name="accounts_user_export"),
            path(
                "<path:object_id>/privacy-export/<uuid:export_id>/download/",
                view(self.export_download_view),
                name="accounts_user_export_download",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_staff_erase": staff_privacy.can_erase(request.user),
            "can_staff_export": staff_privacy.can_export(request.user),
            "erase_help": ERASE_HELP,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _account_or_404(self, request, object_id) -> User:
        account = self.get_object(request, unquote(object_id))
        if account is None:
            raise Http404("No such user.")
        return account

    def _context(self, request, account, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": account,
            "account": account,
            "staff_actions": staff_privacy.staff_actions_of(account=account),
            **extra,
        }

    def erase_view(self, request, object_id):
        # The permission before the lookup: staff without it learn nothing about which ids exist.
        if not staff_privacy.can_erase(request.user):
            raise PermissionDenied
        account = self._account_or_404(request, object_id)
        refusal = staff_privacy.erase_refusal(staff=request.user, account=account)
        form = EraseForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            if refusal:
                status = 403
            elif form.is_valid():
                username = account.username
                record = staff_privacy.account_erase_by_staff(
                    staff=request.user, account=account, reason=form.cleaned_data["reason"]
                )
                self.message_user(
                    request,
                    f"The account “{username}” is being erased (deletion reference {record.reference}). "
                    "The deletion record shows when it is done.",
                    messages.SUCCESS,
                )
                return redirect("admin:accounts_user_changelist")
            else:
                status = 400
        context = self._context(
            request,
            account,
            title=f"Erase {account.username}",
            form=form,
            refusal=refusal,
            pending=staff_privacy.erasure_pending(account=account),
            erase_help=ERASE_HELP,
            profiles=account.profiles.order_by("created_at", "id"),
        )
        return TemplateResponse(request, "admin/accounts/user/erase.html", context, status=status)

    def export_view(self, request, object_id):
        if not staff_privacy.can_export(request.user):
            raise PermissionDenied
        account = self._account_or_404(request, object_id)
        form = ExportForm(request.POST if request.method == "POST" else None)
        refusal = staff_privacy.export_refusal(staff=request.user, account=account)
        if request.method == "POST" and refusal:
            self.message_user(request, refusal, messages.ERROR)
            status = 403
        elif request.method == "POST":
            if form.is_valid():
                _export, started = staff_privacy.account_export_by_staff(
                    staff=request.user, account=account, reason=form.cleaned_data["reason"]
                )
                if started:
                    self.message_user(request, "Export started; its state is shown below.", messages.SUCCESS)
                else:
                    self.message_user(
                        request,
                        "This account already has a recent export (one per account per "
                        f"{settings.EXPORT_MIN_INTERVAL_HOURS} hours, whoever asks): it is shown below.",
                        messages.WARNING,
                    )
                # Post/redirect/get: a reload must not ask for a second export.
                return redirect("admin:accounts_user_export", account.pk)
            status = 400
        else:
            status = 200
        exports = list(staff_privacy.exports_for_staff(account=account))
        context = self._context(
            request,
            account,
            title=f"Export the data of {account.username}",
            form=form,
            refusal=refusal,
            exports=exports,
            interval_hours=settings.EXPORT_MIN_INTERVAL_HOURS,
            # Refresh while one is being built, so the state changes without a click.
            refresh=any(e.is_active for e in exports),
        )
        return TemplateResponse(request, "admin/accounts/user/export.html", context, status=status)

    def export_download_view(self, request, object_id, export_id):
        # 404, not 403, for staff without the permission: a download link confirms nothing.
        if not staff_privacy.can_export(request.user):
            raise Http404("This export is not available.")
        account = self._account_or_404(request, object_id)
        export = staff_privacy.export_downloadable(account_id=account.pk, export_id=export_id)
        if export is None:
            raise Http404("This export is not available.")
        try:
            return staff_privacy.export_download_by_staff(staff=request.user, export=export)
        except (FileNotFoundError, staff_privacy.StaffRefused):
            raise Http404("This export is not available.") from None

    @admin.action(description="Erase selected users…", permissions=["erase"])
    def erase_selected(self, request, queryset):
        form = EraseForm(request.POST if request.POST.get("post") else None)
        accounts = list(queryset.order_by("username"))
        refusals = {a.pk: staff_privacy.erase_refusal(staff=request.user, account=a) for a in accounts}
        if request.POST.get("post") and form.is_valid():
            erased, refused = [], []
            for account in accounts:
                if refusals[account.pk]:
                    refused.append(f"{account.username}: {refusals[account.pk]}")
                    continue
                username = account.username
                staff_privacy.account_erase_by_staff(
                    staff=request.user, account=account, reason=form.cleaned_data["reason"]
                )
                erased.append(username)
            if erased:
                self.message_user(
                    request,
                    f"Erasing {len(erased)} {model_ngettext(self.opts, len(erased))}: {', '.join(erased)}.",
                    messages.SUCCESS,
                )
            for line in refused:
                self.message_user(request, f"Not erased: {line}", messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Erase users",
            "form": form,
            "rows": [(a, refusals[a.pk]) for a in accounts],
            "queryset": accounts,
            "erase_help": ERASE_HELP,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request,
            "admin/accounts/user/erase_selected.html",
            context,
            status=400 if request.POST.get("post") else 200,
        )


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "is_kids", "maturity_limit", "created_at", "onboarded_at"]
    list_select_related = ["account"]
    list_filter = ["is_kids", "maturity_limit"]
    search_fields = ["name", "account__username", "account__email"]
    autocomplete_fields = ["account"]
    readonly_fields = ["engagement_stamp", "created_at", "has_pin"]
    # The PIN's hash is a credential (10,000 PINs: a hash gives the PIN back offline): never shown.
    exclude = ["pin_hash", "pin_failures", "pin_locked_until"]
    actions = ["delete_selected"]

    def get_deleted_objects(self, objs, request):
        # What a profile takes with it is its own engagement, deleted by profile_delete whatever
        # admin the related models have (they are read-only there: one write point each). The
        # page lists it; the permission asked for is "delete profile".
        to_delete, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return to_delete, model_count, set(), protected

    def delete_model(self, request, obj):
        services.profile_delete(profile=obj)

    def log_deletions(self, request, queryset):
        # The admin log outlives the profile (it goes only with the staff account): it keeps the
        # profile's id and account id, not the name a person gave the profile.
        from django.contrib.admin.models import DELETION, LogEntry
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.get_for_model(Profile)
        return LogEntry.objects.bulk_create(
            [
                LogEntry(
                    user_id=request.user.pk,
                    content_type=content_type,
                    object_id=str(p.pk),
                    object_repr=f"profile #{p.pk} of account #{p.account_id}",
                    action_flag=DELETION,
                )
                for p in queryset
            ]
        )

    def delete_view(self, request, object_id, extra_context=None):
        profile = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "profile_delete_help": PROFILE_DELETE_HELP,
            "is_last_profile": profile is not None
            and not Profile.objects.filter(account_id=profile.account_id).exclude(pk=profile.pk).exists(),
        }
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            # The last profile (profile_delete's rule; the admin's transaction rolled back).
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect("admin:accounts_profile_change", object_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "profile_delete_help": PROFILE_DELETE_HELP}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Delete selected profiles and what they did", permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then profile_delete per profile (not a queryset delete,
        which would skip the last-profile rule); refusals are reported by name."""
        if not request.POST.get("post"):
            from django.contrib.admin.actions import delete_selected

            response = delete_selected(self, request, queryset)
            # A TemplateResponse renders late: the page's explanation can still be added.
            response.context_data["profile_delete_help"] = PROFILE_DELETE_HELP
            return response
        deleted, refused = [], []
        for profile in queryset.select_related("account").order_by("account_id", "-created_at"):
            label = f"{profile.name} ({profile.account.username})"
            try:
                # The admin log entry is written before the delete (Django's rule) and rolled back
                # with it when profile_delete refuses.
                with transaction.atomic():
                    self.log_deletions(request, [profile])
                    services.profile_delete(profile=profile)
            except ValidationError as error:
                refused.append(f"{label}: {' '.join(error.messages)}")
            else:
                deleted.append(label)
        if deleted:
            self.message_user(
                request,
                f"Deleted {len(deleted)} {model_ngettext(self.opts, len(deleted))}: {', '.join(deleted)}.",
                messages.SUCCESS,
            )
        for line in refused:
            self.message_user(request, f"Not deleted: {line}", messages.ERROR)
        return None
