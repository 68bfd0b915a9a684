"""Serializer fields the API's input shapes share."""

from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """A JSON `true` or `false`, nothing else.

    DRF's BooleanField also takes 1/0, "true", "yes", "on" and their kin: lenient for HTML
    forms, but the API reads JSON only (api.parsers) and its schema says `boolean`. A `0` or a
    `"no"` there is a client bug, and on a consent or a kids flag guessing what it meant is
    worse than a 400 that names the field. drf-spectacular still documents it as a boolean (it
    maps BooleanField subclasses).
    """

    default_error_messages = {"invalid": "Must be true or false (a JSON boolean)."}

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid")


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else: DRF's CharField would turn a number (`"name": 5`) into "5",
    which the schema (`type: string`) calls invalid."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class AccountPasswordSerializer(serializers.Serializer):
    """The optional body of an account-level call: the account password, unless it comes in the
    X-Marquee-Password header (api.permissions.password_from_request reads either)."""

    password = StrictCharField(
        required=False,
        write_only=True,
        max_length=128,
        trim_whitespace=False,
        help_text="The account password, unless sent in the X-Marquee-Password header.",
    )
