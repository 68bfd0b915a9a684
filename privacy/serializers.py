"""Serializers of the privacy API (input and output shapes; no logic beyond validation)."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from . import exports
from .models import ExportRequest, ExportStatus


class ConsentsSerializer(serializers.Serializer):
    personalization = serializers.BooleanField(required=False)
    viewing_history = serializers.BooleanField(required=False)
    search_history = serializers.BooleanField(required=False)
    analytics = serializers.BooleanField(required=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(unknown), "Unknown consent purpose."))
        return attrs


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
    password = serializers.CharField(trim_whitespace=False, max_length=4096)


class DeletionAcceptedSerializer(serializers.Serializer):
    status = serializers.CharField()
    reference = serializers.UUIDField()
