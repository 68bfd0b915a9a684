"""Privacy REST endpoints (CONTRACTS.md): consents, exports, account deletion. Thin."""

from __future__ import annotations

from django.contrib.auth import logout
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import error_responses
from api.lockout import lockout_response
from api.permissions import PASSWORD_HEADER_PARAMETER, NotProfileBound, require_account_password
from common.sudo import PasswordLockedOut, password_matches

from . import consent, erasure, exports, selectors, services
from .models import ExportStatus
from .serializers import (
    AccountDeleteSerializer,
    ConsentsSerializer,
    DeletionAcceptedSerializer,
    ExportAcceptedSerializer,
    ExportSerializer,
)


@extend_schema(tags=["privacy"])
class ConsentsApi(APIView):
    # Refused to a profile-bound token and a kids session (api.permissions).
    permission_classes = [NotProfileBound]

    @extend_schema(
        operation_id="privacy_consents_retrieve",
        summary="The caller's current consent choices",
        responses={200: ConsentsSerializer, **error_responses(401, 403, 429)},
    )
    def get(self, request):
        return Response(consent.current(request.user.pk))

    @extend_schema(
        operation_id="privacy_consents_update",
        request=ConsentsSerializer,
        responses={200: ConsentsSerializer, **error_responses(400, 401, 403, 429)},
        summary="Change consent choices (omitted purposes stay as they are); logged with method 'api'",
    )
    def put(self, request):
        ser = ConsentsSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        state, _withdrawn = services.consents_update(
            account_id=request.user.pk, choices=ser.validated_data, method="api"
        )
        return Response(state)


@extend_schema(tags=["privacy"])
class ExportCreateApi(APIView):
    # Refused to a profile-bound token and a kids session (api.permissions).
    permission_classes = [NotProfileBound]

    @extend_schema(
        operation_id="privacy_exports_create",
        request=None,
        responses={202: ExportAcceptedSerializer, **error_responses(401, 403, 429)},
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


@extend_schema(tags=["privacy"])
class ExportDetailApi(APIView):
    # Refused to a profile-bound token and a kids session (api.permissions).
    permission_classes = [NotProfileBound]

    @extend_schema(
        operation_id="privacy_exports_retrieve",
        responses={200: ExportSerializer, **error_responses(401, 403, 404, 429)},
        summary="An export's status and download link",
    )
    def get(self, request, pk):
        export = selectors.export_get_for_account(account=request.user, export_id=pk)
        if export.status == ExportStatus.READY and exports.export_is_expired(export):
            export.status = ExportStatus.EXPIRED  # the beat purge may not have run yet
        return Response(ExportSerializer(export, context={"request": request}).data)


@extend_schema(tags=["privacy"])
class ExportDownloadApi(APIView):
    # The archive holds every profile's data: account-level, needs the password (checked once
    # the export is known to be the caller's, so another account's stays a 404).
    permission_classes = [NotProfileBound]

    @extend_schema(
        operation_id="privacy_exports_download",
        responses={
            (200, "application/zip"): OpenApiResponse(description="The ZIP (export.json, CSVs, README.txt)"),
            **error_responses(401, 403, 404, 409, 410, 429),
        },
        parameters=[PASSWORD_HEADER_PARAMETER],
        summary="Download a ready export (owner only; account-level: needs the account password)",
    )
    def get(self, request, pk):
        export = selectors.export_get_for_account(account=request.user, export_id=pk)
        require_account_password(request)
        if exports.export_is_expired(export):
            return Response({"detail": "This export has expired."}, status=status.HTTP_410_GONE)
        if export.status != ExportStatus.READY:
            return Response({"detail": f"This export is {export.status}."}, status=status.HTTP_409_CONFLICT)
        try:
            return exports.export_file_response(export, via="api")
        except FileNotFoundError:
            raise NotFound("This export is not available.") from None


@extend_schema(tags=["privacy"])
class AccountDeleteApi(APIView):
    # Refused to a profile-bound token and a kids session (api.permissions).
    permission_classes = [NotProfileBound]

    @extend_schema(
        operation_id="account_delete",
        request=AccountDeleteSerializer,
        responses={202: DeletionAcceptedSerializer, **error_responses(400, 401, 403, 429)},
        summary="Delete the caller's account: sessions and tokens stop working at once, data is erased",
    )
    def post(self, request):
        ser = AccountDeleteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            record = erasure.account_delete_request(
                account=request.user,
                password=ser.validated_data["password"],
                via="api",
                # Through authenticate(): wrong guesses count towards the login lockout.
                password_check=lambda password: password_matches(request, password),
            )
        except PasswordLockedOut:
            return lockout_response(request._request)  # 429 JSON with Retry-After
        except erasure.WrongPassword:
            return Response({"detail": "The password is not correct."}, status=status.HTTP_400_BAD_REQUEST)
        if request.user.is_authenticated and hasattr(request, "session"):
            logout(request._request)
        return Response({"status": "accepted", "reference": str(record.reference)}, status=status.HTTP_202_ACCEPTED)
