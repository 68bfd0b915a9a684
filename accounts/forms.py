"""Forms for sign-up and profiles. They validate only; writes go through accounts.services."""

import logging
import threading

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template import loader

from common.sudo import password_matches
from privacy.consent import PURPOSE_EXPLANATIONS, Purpose

from .maturity import ADULT_DEFAULT_LEVEL, KIDS_MAX_LEVEL, MaturityLevel
from .models import Profile, User
from .services import PIN_FORMAT_ERROR, is_pin_shaped


def consent_field_name(purpose: str) -> str:
    return f"consent_{purpose}"


class ServiceErrorsMixin:
    def add_service_error(self, error: ValidationError) -> None:
        """Attach a service's ValidationError to the matching field, or to the form as a whole."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class SignupForm(ServiceErrorsMixin, UserCreationForm):
    """Username, email, password twice (Django's validators), and one unticked box per purpose.

    UserCreationForm brings the case-insensitive duplicate-username check and runs the
    password validators against the would-be user (so "similar to username" is caught).
    """

    email = forms.EmailField(
        label="Email", max_length=254, help_text="Only used to reset your password.", required=True
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Consent is off until given: every box starts unticked and none is required.
        for purpose in Purpose:
            self.fields[consent_field_name(purpose.value)] = forms.BooleanField(
                label=purpose.label,
                help_text=PURPOSE_EXPLANATIONS[purpose],
                required=False,
                initial=False,
            )

    def account_fields(self):
        return [self[name] for name in ("username", "email", "password1", "password2")]

    def consent_fields(self):
        return [self[consent_field_name(p.value)] for p in Purpose]

    def consent_choices(self) -> dict[str, bool]:
        """Every purpose, ticked or not: the log records the refusals too."""
        return {p.value: bool(self.cleaned_data.get(consent_field_name(p.value))) for p in Purpose}


class ProfileForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=40, strip=True)
    is_kids = forms.BooleanField(
        label="Kids profile",
        required=False,
        help_text="A simpler experience, only titles rated up to family (PG, TV-PG) and never unrated ones. "
        "Ticking it lowers the maturity limit to family.",
    )
    maturity_limit = forms.TypedChoiceField(
        label="Maturity limit",
        choices=MaturityLevel.choices,
        coerce=int,
        initial=ADULT_DEFAULT_LEVEL,
        help_text="Titles rated above this level are hidden from this profile.",
    )

    def __init__(self, *args, account: User, instance: Profile | None = None, **kwargs):
        self.account = account
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "is_kids": instance.is_kids,
                "maturity_limit": instance.maturity_limit,
            }
        super().__init__(*args, **kwargs)

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not name:
            raise ValidationError("Give the profile a name.")
        taken = Profile.objects.filter(account=self.account, name__iexact=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("You already have a profile with this name.")
        return name

    def clean(self):
        cleaned = super().clean()
        # Ticking "Kids profile" lowers the limit to the family maximum (the service does the
        # same) rather than failing: the box says what it does.
        if cleaned.get("is_kids") and cleaned.get("maturity_limit", 0) > KIDS_MAX_LEVEL:
            cleaned["maturity_limit"] = KIDS_MAX_LEVEL
        return cleaned


class PasswordConfirmForm(forms.Form):
    """The account password, for sudo mode (account-level pages) and for leaving Kids mode."""

    password = forms.CharField(
        label="Account password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class UnlockForm(forms.Form):
    """Selecting a locked profile: its 4-digit PIN, or the account password instead."""

    secret = forms.CharField(
        label="PIN or account password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )


class PinForm(forms.Form):
    pin = forms.CharField(
        label="New PIN",
        min_length=4,
        max_length=4,
        strip=True,
        help_text="4 digits. Asked whenever someone selects this profile.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
    )

    def clean_pin(self):
        pin = self.cleaned_data["pin"]
        if not is_pin_shaped(pin):
            raise ValidationError(PIN_FORMAT_ERROR)
        return pin


class EmailChangeForm(forms.Form):
    """A new address for the account; the change waits for the link sent to it."""

    email = forms.EmailField(
        label="New email address",
        max_length=254,
        help_text="We send a confirmation link there, and tell your current address. Your address changes "
        "only when you open that link while signed in to this account.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class AccountPasswordChangeForm(PasswordChangeForm):
    """Django's password change, whose old password is checked through authenticate()
    (common.sudo.password_matches), so wrong guesses count towards the login lockout.

    `clean_old_password` raises common.sudo.PasswordLockedOut when locked out; the view answers 429.
    """

    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if not password_matches(self.request, old_password):
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


log = logging.getLogger(__name__)
RESET_MAIL_THREAD = "password-reset-mail"


def _send_quietly(message: EmailMultiAlternatives | None) -> None:
    if message is None:
        return  # the stand-in's: nobody to write to
    try:
        message.send()
    except Exception:
        # As Django's own form does: the requester already has their answer; the operator gets the log.
        log.exception("Failed to send a password reset email")


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset request, made to take the same work whether or not an account has the address.

    With no matching account a stand-in user (never saved) goes through the same token and
    templates and its message is dropped instead of sent. With EMAIL_SEND_IN_BACKGROUND (the
    default when DEBUG is false) messages leave from a thread, so the SMTP round trip is not in
    the response time either. (A daemon thread: a worker killed mid-send loses that one email,
    which the requester can ask for again.)
    """

    def get_users(self, email):
        users = list(super().get_users(email))
        return users or [User(username=email, email=email)]

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            message.attach_alternative(loader.render_to_string(html_email_template_name, context), "text/html")
        to_send = None if context["user"].pk is None else message
        if settings.EMAIL_SEND_IN_BACKGROUND:
            # A thread for the stand-in too (it sends nothing), so both answers cost the same.
            threading.Thread(target=_send_quietly, args=(to_send,), name=RESET_MAIL_THREAD, daemon=True).start()
        else:
            _send_quietly(to_send)
