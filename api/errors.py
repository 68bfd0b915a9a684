"""The API's error shape, its exception handler and the JSON 404/500 pages for /api/ paths.

Every app's `apis.py` gets these through the REST_FRAMEWORK defaults in settings, so an endpoint
written with plain DRF answers errors in the one documented shape:

    {"detail": "<one sentence>", "errors": {"<field>": ["<message>", ...]}}

`errors` appears only on 400 answers about the request's fields. No answer under /api/ is ever
an HTML page or a stack trace, whatever the DEBUG setting.

This module holds no throttle or pagination class: `rest_framework.views` resolves those from
settings when it is first imported, so it may be imported here at the top.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.defaults import bad_request
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from .parsers import too_large

logger = logging.getLogger("django.request")

API_PREFIX = "/api/"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


# --- The error shape ------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages (400 only); `non_field_errors` for the request as a whole.",
    )


_ERROR_DESCRIPTIONS = {
    400: "Bad input: the request's fields are listed in `errors`.",
    401: "No or invalid credentials (send `Authorization: Token <token>`).",
    403: "Not allowed.",
    404: "Not found, or not yours.",
    409: "Conflicts with the current state.",
    410: "Gone.",
    413: "The request body is larger than the API accepts.",
    429: "Throttled or locked out; see the Retry-After header.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`extend_schema(responses=...)` entries for the given error statuses."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in codes}


def _flatten(data) -> dict[str, list[str]]:
    """DRF's nested error data -> {field: [messages]} (nested paths joined with dots)."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                if prefix and key == api_settings.NON_FIELD_ERRORS_KEY:
                    walk(prefix, sub)  # a nested object's own errors belong to its field
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, sub in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            messages = value if isinstance(value, list) else [value]
            out.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).extend(str(m) for m in messages)

    walk("", data)
    return out


def django_errors_to_drf(error: DjangoValidationError) -> exceptions.ValidationError:
    """A model's full_clean() error -> DRF's, keeping the field names ('__all__' -> non_field_errors)."""
    if hasattr(error, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    """DRF's handler, reshaped to {"detail", "errors"}; unexpected exceptions become a JSON 500."""
    if isinstance(exc, DjangoValidationError):
        exc = django_errors_to_drf(exc)
    if isinstance(exc, Http404):
        # DRF would echo "No Profile matches the given query."; say no more than necessary.
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Raised by `request.body` when something read the body before the parser did.
        exc = too_large()

    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.error(
            "Internal Server Error: %s",
            getattr(request, "path", "?"),
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"status_code": 500, "request": getattr(request, "_request", None)},
        )
        return Response({"detail": "Server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "errors": _flatten(exc.detail)}
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        response.data = {"detail": str(detail or exc)}
    return response


# --- handler404 / handler500 ----------------------------------------------------------------


def handler400(request, exception=None):
    """Django's own 400s (a SuspiciousOperation outside DRF: a form body past
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields): JSON under /api/, Django's page elsewhere."""
    if is_api_path(request.path):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": str(too_large().detail)}, status=413)
        return JsonResponse({"detail": "Bad request."}, status=400)
    return bad_request(request, exception)


def handler404(request, exception=None):
    if is_api_path(request.path):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def handler500(request):
    if is_api_path(request.path):
        return JsonResponse({"detail": "Server error."}, status=500)
    # No request context: the page must render even when the failure was in a context processor.
    return HttpResponseServerError(loader.get_template("500.html").render())
