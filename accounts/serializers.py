"""API shapes for accounts and profiles. Fields are listed explicitly; ids and ownership are read-only.

Serializers only validate and shape: every write goes through accounts.services.
"""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from api.fields import AccountPasswordSerializer, StrictBooleanField, StrictCharField
from privacy.consent import Purpose

from .maturity import MaturityLevel
from .models import Profile, User


class ConsentChoicesSerializer(serializers.Serializer):
    """One boolean per purpose; a purpose left out counts as not granted."""

    personalization = StrictBooleanField(required=False, default=False)
    viewing_history = StrictBooleanField(required=False, default=False)
    search_history = StrictBooleanField(required=False, default=False)
    analytics = StrictBooleanField(required=False, default=False)

    def validate(self, attrs):
        # Every purpose is recorded at sign-up, given or not (the consent log starts complete).
        return {purpose.value: bool(attrs.get(purpose.value, False)) for purpose in Purpose}


class SignupSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, style={"input_type": "password"})
    consents = ConsentChoicesSerializer(required=False)

    def validate_username(self, value: str) -> str:
        # The model's validator runs in the service too; checking here gives a field error up front.
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.")
        return value

    def validate(self, attrs):
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from error
        if "consents" not in attrs:
            attrs["consents"] = {purpose.value: False for purpose in Purpose}
        return attrs


class TokenRequestSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)
    profile = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="A profile of this account: the token answered is bound to it (for a TV or a tablet). "
        "It sees only that profile's data, within its limits, and can do no account-level action.",
    )


class PinSerializer(AccountPasswordSerializer):
    pin = serializers.RegexField(
        r"^[0-9]{4}$", max_length=4, help_text="Exactly 4 digits.", error_messages={"invalid": "A PIN is 4 digits."}
    )


# Removing a PIN takes nothing but the password.
PinRemoveSerializer = AccountPasswordSerializer


class ProfileSelectSerializer(AccountPasswordSerializer):
    """A PIN for a locked profile, or the account password instead (also to leave a kids profile)."""

    pin = StrictCharField(
        required=False, max_length=4, trim_whitespace=False, help_text="The profile's PIN, when it is locked."
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class ProfileSerializer(serializers.ModelSerializer):
    """What a client sees of a profile, and the only fields it may set."""

    maturity_limit = serializers.ChoiceField(
        choices=MaturityLevel.choices,
        required=False,
        help_text="0 little kids … 5 all titles. Kids profiles are capped at 2 (family): a higher "
        "limit on a kids profile is lowered to 2. Defaults to 2 for kids profiles, 5 otherwise.",
    )
    # A JSON boolean only (api.fields): DRF's own field would also take 0/1 and "yes".
    is_kids = StrictBooleanField(required=False)
    has_pin = serializers.BooleanField(read_only=True, help_text="Selecting this profile asks for a PIN.")
    name = StrictCharField(max_length=40)

    class Meta:
        model = Profile
        fields = ["id", "name", "is_kids", "maturity_limit", "avatar_color", "has_pin"]
        read_only_fields = ["id", "avatar_color", "has_pin"]
        extra_kwargs = {"name": {"max_length": 40}}
        # The account-wide unique name is checked by the service's full_clean (a 400 on `name`).
        validators: list = []

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("A profile needs a name.")
        taken = Profile.objects.filter(account=self.context["account"], name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("Another profile of this account has this name.")
        return value


class ProfileSelectedSerializer(ProfileSerializer):
    """The profile now active, and for a token caller a token bound to it."""

    token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="For a token caller: a token bound to this profile. Null for a browser session, "
        "whose active profile is now this one.",
    )

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "token"]
        read_only_fields = [*ProfileSerializer.Meta.fields, "token"]


class EmailChangeRequestSerializer(AccountPasswordSerializer):
    email = serializers.EmailField(max_length=254, help_text="The new address; a confirmation link is sent there.")


class EmailChangeAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="Until when the link sent to the new address works.")


class EmailChangeConfirmSerializer(serializers.Serializer):
    token = StrictCharField(max_length=200, help_text="The last part of the link sent to the new address.")


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text="The account's address now.")


class DeviceSerializer(serializers.Serializer):
    """A browser session or an API token signed in to the account; never its key."""

    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="`session` (a browser), `token` (an account token) or `profile_token`.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(source="last_seen_at")
    network = serializers.CharField(help_text='The network it was last used from, shortened: "203.0.113.0/24".')
    user_agent = serializers.CharField(help_text='Browser and system only: "Firefox on Linux".')
    profile = serializers.SerializerMethodField(help_text="For a profile token: the profile's name.")
    current = serializers.SerializerMethodField(help_text="True for the session or token making this call.")

    def get_profile(self, device) -> str | None:
        return device.profile_token.profile.name if device.profile_token_id else None

    def get_current(self, device) -> bool:
        return device.pk == self.context.get("current_id")


class SignedOutSerializer(serializers.Serializer):
    signed_out = serializers.IntegerField(help_text="How many sessions and tokens were signed out.")
