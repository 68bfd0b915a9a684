"""Privacy REST endpoints (CONTRACTS.md): consents, exports, account deletion. Thin."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from . import consent, erasure, exports, selectors, services
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


ERROR = inline_serializer("PrivacyError", {"detail": serializers.CharField()})


class ConsentsApi(APIView):
    @extend_schema(responses=ConsentsSerializer, summary="The caller's current consent choices")
    def get(self, request):
        return Response(consent.current(request.user.pk))

    @extend_schema(
        request=ConsentsSerializer,
        responses={200: ConsentsSerializer, 400: ERROR},
        summary="Change consent choices (omitted purposes stay as they are); logged with method 'api'",
    )
    def put(self, request):
        ser = ConsentsSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        state, _withdrawn = services.consents_update(
            account_id=request.user.pk, choices=ser.validated_data, method="api"
        )
        return Response(state)


class ExportCreateApi(APIView):
    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "ExportAccepted", {"id": serializers.UUIDField(), "status": serializers.CharField()}
            ),
            429: ERROR,
        },
        summary="Request a ZIP export of the caller's data (one per 24 hours)",
    )
    def post(self, request):
        try:
            export = exports.export_request_create(account=request.user, via="api")
        except exports.ExportThrottled as exc:
            seconds = max(1, int((exc.retry_at - timezone.now()).total_seconds()))
            return Response(
                {
                    "detail": f"One export per 24 hours: you can ask again after {exc.retry_at:%Y-%m-%d %H:%M} UTC.",
                    "existing_export": str(exc.existing.id),
                    "retry_at": exc.retry_at.isoformat(),
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(seconds)},
            )
        return Response({"id": str(export.id), "status": export.status}, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses={200: ExportSerializer, 404: ERROR}, summary="An export's status and download link")
    def get(self, request, pk):
        export = selectors.export_get_for_account(account=request.user, export_id=pk)
        if export.status == ExportStatus.READY and exports.export_is_expired(export):
            export.status = ExportStatus.EXPIRED  # the beat purge may not have run yet
        return Response(ExportSerializer(export, context={"request": request}).data)


class ExportDownloadApi(APIView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(description="The ZIP (export.json, CSVs, README.txt)"),
            404: ERROR,
            409: ERROR,
            410: ERROR,
        },
        summary="Download a ready export (owner only)",
    )
    def get(self, request, pk):
        export = selectors.export_get_for_account(account=request.user, export_id=pk)
        if exports.export_is_expired(export):
            return Response({"detail": "This export has expired."}, status=status.HTTP_410_GONE)
        if export.status != ExportStatus.READY:
            return Response({"detail": f"This export is {export.status}."}, status=status.HTTP_409_CONFLICT)
        path = exports.export_path(export)
        if not path.is_file():
            raise NotFound("This export is not available.")
        exports.export_downloaded(export=export, via="api")
        name = f"marquee-data-{export.created_at:%Y%m%d}.zip"
        return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/zip")


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(trim_whitespace=False, max_length=4096)


class AccountDeleteApi(APIView):
    @extend_schema(
        request=AccountDeleteSerializer,
        responses={
            202: inline_serializer(
                "DeletionAccepted", {"status": serializers.CharField(), "reference": serializers.UUIDField()}
            ),
            400: ERROR,
        },
        summary="Delete the caller's account: sessions and tokens stop working at once, data is erased",
    )
    def post(self, request):
        ser = AccountDeleteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            record = erasure.account_delete_request(
                account=request.user, password=ser.validated_data["password"], via="api"
            )
        except erasure.WrongPassword:
            return Response({"detail": "The password is not correct."}, status=status.HTTP_400_BAD_REQUEST)
        if request.user.is_authenticated and hasattr(request, "session"):
            logout(request._request)
        return Response({"status": "accepted", "reference": str(record.reference)}, status=status.HTTP_202_ACCEPTED)
