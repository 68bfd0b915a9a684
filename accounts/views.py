"""Sign-up, the "Who's watching?" picker, profile management and generated avatars.

Thin views: forms validate, accounts.services and privacy.consent write, selectors read
(and make another account's profile a 404). Log-in, log-out, password change and reset are
Django's own views (password change and reset subclassed for the lockout and the throttles),
routed in accounts/urls.py with templates under templates/registration/.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from api.lockout import lockout_response
from api.throttles import (
    PasswordResetAddressThrottle,
    PasswordResetNetworkThrottle,
    SignupThrottle,
    page_throttle_wait,
)
from common.http import svg_response
from common.sudo import (
    PasswordLockedOut,
    is_kids_session,
    kids_forbidden,
    kids_lock_set,
    password_matches,
    sudo_active,
    sudo_grant,
    sudo_required,
    sudo_url,
)

from . import selectors, services
from .active import SESSION_KEY, UNLOCK_PIN, activate_profile, deactivate_profile, unlock_needed
from .avatars import avatar_svg
from .devices import DEVICE_SEEN_INTERVAL
from .forms import (
    AccountPasswordChangeForm,
    EmailChangeForm,
    PasswordConfirmForm,
    PasswordResetRequestForm,
    PinForm,
    ProfileForm,
    SignupForm,
    UnlockForm,
)

# Sign-up logs the new account in directly; with axes in front, login() must be told which
# backend vouched for the user (the password was just set, so the model backend).
_SIGNUP_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _throttled_page(request, template, form, message, wait):
    """429 with the page's form (unbound: validating it would answer the question being
    throttled, e.g. whether a username is taken) and a message saying when to come back."""
    messages.error(request, message)
    response = render(request, template, {"form": form}, status=429)
    if wait:
        response["Retry-After"] = str(wait)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("profile-picker")
    if request.method == "POST":
        # The API's sign-up limit and count (api.throttles.SignupThrottle): every attempt counts,
        # so probing which usernames are taken is limited as much as creating accounts.
        wait = page_throttle_wait(request, SignupThrottle())
        if wait is not None:
            form = SignupForm(initial={"username": request.POST.get("username"), "email": request.POST.get("email")})
            return _throttled_page(
                request, "accounts/signup.html", form, "Too many sign-ups from this network. Try again later.", wait
            )
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                consents=form.consent_choices(),
                method="signup",
            )
        except ValidationError as error:
            form.add_service_error(error)
        except IntegrityError:
            # Only reachable when someone took the name between validation and the write.
            form.add_error("username", "A user with that username already exists.")
        else:
            login(request, user, backend=_SIGNUP_BACKEND)
            activate_profile(request, selectors.profiles_of(account=user).first())
            sudo_grant(request)  # the password was just chosen, for this profile
            messages.success(request, f"Welcome to Marquee, {user.username}.")
            return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's log-in; typing the password also opens sudo mode for SUDO_MODE_SECONDS."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        sudo_grant(self.request)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; a wrong old password counts towards the lockout (429 when locked)."""

    form_class = AccountPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session signed in, under a new key
        # The other sessions no longer sign anyone in (their password hash changed); end them
        # now rather than listing them under Sessions and devices until their next request.
        # API tokens are left alone, as before: "Sign out of all devices" revokes those.
        services.sessions_end_others(account=self.request.user, keep_session_key=self.request.session.session_key)
        return response

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except PasswordLockedOut:
            return lockout_response(request)


password_change = sudo_required(kids_forbidden(PasswordChangeView.as_view()))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, limited per address and per network (429 either way, counted
    whether or not an account has the address), and as slow for an unknown address as for a
    known one (accounts.forms.PasswordResetRequestForm): the answer tells nothing about it."""

    form_class = PasswordResetRequestForm

    def post(self, request, *args, **kwargs):
        wait = page_throttle_wait(request, PasswordResetNetworkThrottle(), PasswordResetAddressThrottle())
        if wait is not None:
            form = self.form_class(initial={"email": request.POST.get("email")})
            message = "Too many password reset requests for this address or from this network. Try again later."
            return _throttled_page(request, self.template_name, form, message, wait)
        return super().post(request, *args, **kwargs)


@login_required
@require_safe
def profile_picker(request):
    # Queries: the session, the user, the active profile (middleware, only when one is set),
    # and this list.
    profiles = list(selectors.profiles_of(account=request.user))
    manage = request.GET.get("manage") == "1"
    if manage and not sudo_active(request):
        return redirect(sudo_url(request.get_full_path()))
    return render(
        request,
        "accounts/picker.html",
        {
            "profiles": profiles,
            "manage": manage,
            "can_add": len(profiles) < settings.MAX_PROFILES_PER_ACCOUNT,
            "max_profiles": settings.MAX_PROFILES_PER_ACCOUNT,
            "active_id": request.session.get(SESSION_KEY),
            "kids_session": is_kids_session(request),
        },
    )


def _unlock_page(request, profile, need, *, form=None, error=None, status=200):
    return render(
        request,
        "accounts/profile_unlock.html",
        {"profile": profile, "need": need, "form": form or UnlockForm(), "error": error},
        status=status,
    )


@sensitive_post_parameters("secret", "pin", "password")
@sensitive_variables("secret")
@login_required
@require_POST
def profile_select(request, pk: int):
    """Make a profile active. A locked profile asks for its PIN (or the account password);
    leaving a kids session for a grown-up profile without a PIN asks for the account password."""
    profile = selectors.profile_get_for_account(account=request.user, profile_id=pk)
    need = unlock_needed(request, profile)
    if need is not None:
        form = UnlockForm(request.POST)
        if not form.is_valid():
            # First arrival from the picker: no secret yet, just the prompt.
            return _unlock_page(request, profile, need)
        secret = form.cleaned_data["secret"]
        try:
            if need == UNLOCK_PIN and services.is_pin_shaped(secret):
                unlocked = services.profile_pin_verify(profile=profile, pin=secret)
                by_password = False
            else:
                unlocked = by_password = password_matches(request, secret)
        except services.PinLockedOut as locked:
            return _unlock_page(request, profile, need, error=str(locked), status=429)
        except PasswordLockedOut:
            return render(request, "accounts/lockout.html", status=429)
        if not unlocked:
            wrong = "That PIN is not right." if need == UNLOCK_PIN else "That is not the account password."
            return _unlock_page(request, profile, need, error=wrong, status=403)
        activate_profile(request, profile)
        if by_password and not profile.is_kids:
            sudo_grant(request)
        return redirect("home")
    activate_profile(request, profile)
    return redirect("home")


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sudo(request):
    """The account password prompt in front of account-level pages. From a kids session it
    says so, and entering the password leaves the kids profile (a grown-up has taken over)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # A path of this site only: a bare word would be taken for a view name by redirect().
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = PasswordConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            ok = password_matches(request, form.cleaned_data["password"])
        except PasswordLockedOut:
            return render(request, "accounts/lockout.html", status=429)
        if ok:
            if is_kids_session(request):
                # A grown-up has taken over: out of Kids mode, to choose a profile.
                deactivate_profile(request)
                kids_lock_set(request, False)
            sudo_grant(request)
            return HttpResponseRedirect(next_url or reverse("profile-picker"))
        form.add_error("password", "That is not the account password.")
        status = 403
    return render(
        request,
        "accounts/sudo.html",
        {"form": form, "next": next_url, "kids_session": is_kids_session(request)},
        status=status,
    )


@login_required
@require_safe
def exit_kids(request):
    """Kids mode's one way out: pick a grown-up profile, then its PIN or the account password."""
    profiles = [p for p in selectors.profiles_of(account=request.user) if not p.is_kids]
    return render(request, "accounts/exit_kids.html", {"profiles": profiles})


def _email_change_link(request):
    return lambda token: request.build_absolute_uri(reverse("email-change-confirm", args=[token]))


def _devices_url(request) -> str:
    return request.build_absolute_uri(reverse("account-devices"))


@sudo_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_settings(request):
    """The account page: email (changed through a link to the new address), password, sessions
    and devices, profiles and their PINs, everyone's viewing activity."""
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and "cancel_email_change" in request.POST:
        services.email_change_cancel(account=request.user)
        messages.success(request, "The email change was cancelled; the link sent for it no longer works.")
        return redirect("account-settings")
    if request.method == "POST" and form.is_valid():
        try:
            change = services.email_change_request(
                account=request.user,
                new_email=form.cleaned_data["email"],
                link=_email_change_link(request),
                help_url=_devices_url(request),
            )
        except ValidationError as error:
            form.add_error("email", error.messages)
        else:
            messages.success(
                request,
                f"We sent a confirmation link to {change.new_email}. Open it while signed in to this "
                f"account within {services.EMAIL_CHANGE_LINK_HOURS} hours; until then your address stays "
                f"{request.user.email or 'unset'}.",
            )
            return redirect("account-settings")
    return render(
        request,
        "accounts/account.html",
        {
            "form": form,
            "profiles": list(selectors.profiles_of(account=request.user)),
            "pending_email": selectors.email_change_pending(account=request.user),
        },
    )


@sensitive_variables("token")
@login_required
@kids_forbidden
@require_http_methods(["GET", "HEAD", "POST"])
def email_change_confirm(request, token: str):
    """The link sent to the new address. GET shows what will change (so a link preview or a mail
    scanner changes nothing); the button (POST) applies it. Only for the signed-in owner:
    another account's link is a 404; an unknown, used or expired one a 400."""
    try:
        change = selectors.email_change_check(account=request.user, token=token)
        if request.method == "POST":
            change = services.email_change_confirm(account=request.user, token=token, help_url=_devices_url(request))
            messages.success(request, f"Your email address is now {change.new_email}.")
            return redirect("account-settings")
    except selectors.EmailChangeNotYours as error:
        raise Http404("No such email change.") from error
    except selectors.EmailChangeInvalid as error:
        return render(request, "accounts/email_change_invalid.html", {"reason": str(error)}, status=400)
    return render(request, "accounts/email_change_confirm.html", {"change": change})


@sudo_required
@require_safe
def account_devices(request):
    """Sessions and devices: every browser and API token signed in to the account."""
    current = selectors.current_device_id(request=request)
    devices = list(selectors.devices_of(account=request.user))
    # "Last used" is written at most every DEVICE_SEEN_INTERVAL: within it, say so.
    recent = timezone.now() - timedelta(seconds=DEVICE_SEEN_INTERVAL)
    for device in devices:
        device.is_current = device.pk == current
        device.seen_recently = device.last_seen_at >= recent
    has_others = any(not d.is_current for d in devices)
    return render(
        request,
        "accounts/devices.html",
        {"devices": devices, "has_others": has_others, "seen_minutes": DEVICE_SEEN_INTERVAL // 60},
    )


@sudo_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_device_sign_out(request, pk: int):
    """Sign one device out. This browser's own row signs this browser out (to the login page)."""
    device = selectors.device_get_for_account(account=request.user, device_id=pk)
    if request.method != "POST":
        return redirect("account-devices")  # where the password prompt returns after sudo expired
    is_current = device.pk == selectors.current_device_id(request=request)
    services.device_sign_out(device=device)
    if is_current:
        logout(request)
        return redirect("login")
    label = device.user_agent or device.get_kind_display()
    messages.success(request, f"Signed out: {label}.")
    return redirect("account-devices")


@sudo_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_devices_sign_out_all(request):
    """Sign out every other browser and revoke every API token; this browser stays signed in."""
    if request.method != "POST":
        return redirect("account-devices")
    removed = services.devices_sign_out_everywhere(account=request.user, keep_session_key=request.session.session_key)
    # The account's session epoch moved (every other session's auth hash is void): this one stays.
    update_session_auth_hash(request, request.user)
    messages.success(
        request,
        f"Signed out of {removed} other device{'s' if removed != 1 else ''}. Every API token was revoked; "
        "apps and TVs need to sign in again. This browser is still signed in.",
    )
    return redirect("account-devices")


@sensitive_post_parameters("pin")
@sudo_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_pin(request, pk: int):
    """Set, change (`pin`) or remove (`remove`) a profile's PIN; sudo mode is the password check.

    A GET (where the password prompt returns after an expired sudo mode) shows the edit page."""
    profile = selectors.profile_get_for_account(account=request.user, profile_id=pk)
    if request.method != "POST":
        return redirect("profile-edit", pk=profile.pk)
    if "remove" in request.POST:
        services.profile_pin_remove(profile=profile)
        messages.success(request, f"“{profile.name}” no longer needs a PIN.")
        return redirect("profile-edit", pk=profile.pk)
    form = PinForm(request.POST)
    if not form.is_valid():
        return _profile_form_page(request, profile, ProfileForm(account=request.user, instance=profile), form, 400)
    services.profile_pin_set(profile=profile, pin=form.cleaned_data["pin"])
    messages.success(request, f"“{profile.name}” is locked with a PIN.")
    return redirect("profile-edit", pk=profile.pk)


def _profile_form_page(request, profile, form, pin_form=None, status=200):
    return render(
        request,
        "accounts/profile_form.html",
        {"form": form, "profile": profile, "at_limit": False, "pin_form": pin_form or PinForm()},
        status=status,
    )


@sudo_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_create(request):
    form = ProfileForm(request.POST or None, account=request.user)
    at_limit = selectors.profiles_of(account=request.user).count() >= settings.MAX_PROFILES_PER_ACCOUNT
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.profile_create(
                account=request.user,
                name=form.cleaned_data["name"],
                is_kids=form.cleaned_data["is_kids"],
                maturity_limit=form.cleaned_data["maturity_limit"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Profile “{profile.name}” added.")
            return redirect("profile-picker")
    return render(
        request,
        "accounts/profile_form.html",
        {"form": form, "profile": None, "at_limit": at_limit, "max_profiles": settings.MAX_PROFILES_PER_ACCOUNT},
    )


@sudo_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_edit(request, pk: int):
    profile = selectors.profile_get_for_account(account=request.user, profile_id=pk)
    form = ProfileForm(request.POST or None, account=request.user, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(
                profile=profile,
                name=form.cleaned_data["name"],
                is_kids=form.cleaned_data["is_kids"],
                maturity_limit=form.cleaned_data["maturity_limit"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Profile “{profile.name}” saved.")
            return redirect(f"{reverse('profile-picker')}?manage=1")
    return _profile_form_page(request, profile, form)


@sudo_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_delete(request, pk: int):
    profile = selectors.profile_get_for_account(account=request.user, profile_id=pk)
    error = None
    if request.method == "POST":
        was_active = request.session.get(SESSION_KEY) == profile.pk
        name = profile.name
        try:
            services.profile_delete(profile=profile)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if was_active:
                deactivate_profile(request)
                sudo_grant(request)  # the same person, whose password sudo_required just vouched for
            messages.success(request, f"Profile “{name}” deleted.")
            return redirect("profile-picker")
    return render(
        request,
        "accounts/profile_confirm_delete.html",
        {"profile": profile, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_safe
def profile_avatar(request, pk: int):
    profile = selectors.profile_get_for_account(account=request.user, profile_id=pk)
    # Short max-age because a rename keeps the same URL; after that the ETag makes revalidation cheap.
    return svg_response(request, avatar_svg(initial=profile.initial, color=profile.avatar_color), max_age=600)
