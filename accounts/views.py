"""Sign-up, the "Who's watching?" picker, profile management and generated avatars.

Thin views: forms validate, accounts.services and privacy.consent write, selectors read
(and make another account's profile a 404). Log-in, log-out, password change and reset are
Django's own views, routed in accounts/urls.py with templates under templates/registration/.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from common.http import svg_response

from . import selectors, services
from .active import SESSION_KEY, activate_profile, deactivate_profile
from .avatars import avatar_svg
from .forms import ProfileForm, SignupForm

# Sign-up logs the new account in directly; with axes in front, login() must be told which
# backend vouched for the user (the password was just set, so the model backend).
_SIGNUP_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("profile-picker")
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
            messages.success(request, f"Welcome to Marquee, {user.username}.")
            return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_safe
def profile_picker(request):
    # Queries: the session, the user, the active profile (middleware, only when one is set),
    # and this list.
    profiles = list(selectors.profiles_of(account=request.user))
    manage = request.GET.get("manage") == "1"
    return render(
        request,
        "accounts/picker.html",
        {
            "profiles": profiles,
            "manage": manage,
            "can_add": len(profiles) < settings.MAX_PROFILES_PER_ACCOUNT,
            "max_profiles": settings.MAX_PROFILES_PER_ACCOUNT,
            "active_id": request.session.get(SESSION_KEY),
        },
    )


@login_required
@require_POST
def profile_select(request, pk: int):
    profile = selectors.profile_get_for_account(account=request.user, profile_id=pk)
    activate_profile(request, profile)
    return redirect("home")


@login_required
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


@login_required
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
            return redirect("profile-picker")
    return render(request, "accounts/profile_form.html", {"form": form, "profile": profile, "at_limit": False})


@login_required
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
