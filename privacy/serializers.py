"""Serializers of the privacy API (input and output shapes; no logic beyond validation)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from api.fields import StrictBooleanField, StrictCharField

from . import exports
from .models import ExportRequest, ExportStatus


class ConsentsSerializer(serializers.Serializer):
    """One JSON boolean per purpose; a purpose left out stays as it is. Any other key is refused
    (400): nothing else can be consented to."""

    # Refused, not ignored: `{"analytic": false}` (a typo) would otherwise answer 200 while
    # analytics stays on, and the caller would believe it withdrew. _ConsentsSchema says so.

    personalization = StrictBooleanField(required=False)
    viewing_history = StrictBooleanField(required=False)
    search_history = StrictBooleanField(required=False)
    analytics = StrictBooleanField(required=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(unknown), "Unknown consent purpose."))
        return attrs


class _ConsentsSchema(OpenApiSerializerExtension):
    """Documents ConsentsSerializer as a closed object: the purposes and nothing else."""

    target_class = ConsentsSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportRequest
        fields = ["id", "status", "progress", "created_at", "expires_at", "download_url"]

    def get_download_url(self, obj) -> str | None:
        if obj.status != ExportStatus.READY or exports.export_is_expired(obj):
            return None
        return self.context["request"].build_absolute_uri(reverse("api-privacy-export-download", args=[obj.pk]))


class ExportAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()


class AccountDeleteSerializer(serializers.Serializer):
    password = StrictCharField(trim_whitespace=False, max_length=4096)


class DeletionAcceptedSerializer(serializers.Serializer):
    status = serializers.CharField()
    reference = serializers.UUIDField()
