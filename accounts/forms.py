"""Forms for sign-up and profiles. They validate only; writes go through accounts.services."""

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError

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


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254, help_text="Only used to reset your password.")
