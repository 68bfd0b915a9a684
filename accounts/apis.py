"""REST endpoints for sign-up, tokens and profiles. Thin: validate, call a service, shape the answer.

Ownership: every profile is fetched through `accounts.selectors.profile_get_for_account`, so
another account's profile is a 404, never a 403 that would confirm it exists.
"""

from django.contrib.auth import authenticate, update_session_auth_hash, user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import django_errors_to_drf, error_responses
from api.fields import AccountPasswordSerializer
from api.lockout import LOCKOUT_STATUS, cooloff_seconds, lockout_message
from api.permissions import PASSWORD_HEADER_PARAMETER, refuse_bound_or_kids, require_account_password
from api.permissions import LockedOut as PasswordLockedOutError
from api.throttles import SignupThrottle, TokenThrottle
from common.sudo import PasswordLockedOut, bound_profile_id, password_from_request, password_matches, sudo_grant

from . import selectors, services
from .access import OTHER_PROFILE_BOUND
from .active import UNLOCK_PIN, activate_profile, unlock_needed
from .devices import token_issued
from .models import Device, Profile
from .serializers import (
    DeviceSerializer,
    EmailChangeAcceptedSerializer,
    EmailChangeConfirmSerializer,
    EmailChangeRequestSerializer,
    EmailSerializer,
    PinRemoveSerializer,
    PinSerializer,
    ProfileSelectedSerializer,
    ProfileSelectSerializer,
    ProfileSerializer,
    SignedOutSerializer,
    SignupSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state."
    default_code = "conflict"


class LockedOut(exceptions.APIException):
    status_code = LOCKOUT_STATUS
    default_code = "locked_out"


def profile_for_request(request, profile_id) -> Profile:
    """The caller's own profile with this id, or 404 (anything of another account is a 404);
    a profile-bound token sees its own profile only (403 for the others)."""
    profile = selectors.profile_get_for_account(account=request.user, profile_id=profile_id)
    bound = bound_profile_id(request)
    if bound is not None and bound != profile.pk:
        raise exceptions.PermissionDenied(OTHER_PROFILE_BOUND)
    return profile


_ACCOUNT_LEVEL = (
    " Account-level: needs the account password (`X-Marquee-Password` header or a `password` field); "
    "refused (403) to a profile-bound token and a kids session."
)


# --- Sign-up and tokens ----------------------------------------------------------------------


class SignupApi(APIView):
    permission_classes = [AllowAny]
    # Signing up is anonymous by nature: no session, so no CSRF dance for API clients.
    authentication_classes: list = []
    throttle_classes = [SignupThrottle]

    @extend_schema(
        operation_id="auth_signup",
        summary="Create an account",
        description="Creates the account and its first profile, records the four consent choices "
        "(each defaults to false) and answers a token for `Authorization: Token <token>`.",
        request=SignupSerializer,
        responses={201: TokenSerializer, **error_responses(400, 409, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            with transaction.atomic():
                user = services.account_signup(
                    username=data["username"],
                    email=data["email"],
                    password=data["password"],
                    consents=data["consents"],
                    method="api",
                )
                token = Token.objects.create(user=user)
                token_issued(request._request, token)
        except DjangoValidationError as error:
            raise django_errors_to_drf(error) from error
        except IntegrityError as error:
            # Two sign-ups raced for the same username; the loser learns it here.
            raise Conflict("This username is taken.") from error
        return Response({"token": token.key}, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        operation_id="auth_token",
        summary="Trade a username and password for a token",
        description=(
            "Answers the account's token (the same one until the account is deleted). With "
            "`profile`, a token bound to that profile instead (for a TV or a tablet): it sees only "
            "that profile's data, within its limits, and can do no account-level action. After "
            "repeated failures for a username, or from one network, sign-in is locked for a "
            "cool-off period: 429 with `Retry-After` and a `detail` saying when to try again "
            "(the same lockout as the login form)."
        ),
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        http_request = request._request  # axes records and checks attempts on the Django request
        user = authenticate(
            request=http_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(http_request, "axes_locked_out", False):
            raise LockedOut(lockout_message(cooloff_seconds(http_request)))
        if user is None:
            raise exceptions.ValidationError({"non_field_errors": ["Invalid username or password."]})
        profile_id = serializer.validated_data.get("profile")
        if profile_id is not None:
            profile = selectors.profiles_of(account=user).filter(pk=profile_id).first()
            if profile is None:
                raise exceptions.ValidationError({"profile": ["This account has no profile with this id."]})
            user_logged_in.send(sender=user.__class__, request=http_request, user=user)
            token = services.profile_token_for(profile=profile)
            token_issued(http_request, token)
            return Response({"token": token.key})
        token, _ = Token.objects.get_or_create(user=user)
        # A token sign-in is a sign-in: resets axes' failure count and stamps last_login.
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        token_issued(http_request, token)
        return Response({"token": token.key})


# --- Profiles --------------------------------------------------------------------------------

_PROFILE_DESCRIPTION = "Profiles of the caller's account only; another account's profile id is a 404."


class ProfileListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ProfileSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Profile.objects.none()
        profiles = selectors.profiles_of(account=self.request.user)
        bound = bound_profile_id(self.request)
        return profiles.filter(pk=bound) if bound is not None else profiles

    @extend_schema(
        operation_id="profiles_list",
        summary="The caller's profiles",
        description=_PROFILE_DESCRIPTION + " A profile-bound token sees its own profile only.",
        responses={200: ProfileSerializer(many=True), **error_responses(401, 404, 429)},
        tags=["profiles"],
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="profiles_create",
        summary="Add a profile",
        description="At most 5 profiles per account (a sixth is a 409). A kids profile's maturity limit "
        "is capped at 2 (family)." + _ACCOUNT_LEVEL,
        request=ProfileSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={201: ProfileSerializer, **error_responses(400, 401, 403, 409, 429)},
        tags=["profiles"],
    )
    def post(self, request):
        require_account_password(request)
        serializer = ProfileSerializer(data=request.data, context={"account": request.user})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            profile = services.profile_create(
                account=request.user,
                name=data["name"],
                is_kids=data.get("is_kids", False),
                maturity_limit=data.get("maturity_limit"),
            )
        except services.ProfileLimitReached as error:
            raise Conflict(error.messages[0]) from error
        except DjangoValidationError as error:
            raise django_errors_to_drf(error) from error
        return Response(ProfileSerializer(profile).data, status=status.HTTP_201_CREATED)


class ProfileDetailApi(APIView):
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "patch", "delete", "options"]

    @extend_schema(
        operation_id="profiles_retrieve",
        summary="One of the caller's profiles",
        description=_PROFILE_DESCRIPTION,
        responses={200: ProfileSerializer, **error_responses(401, 403, 404, 429)},
        tags=["profiles"],
    )
    def get(self, request, pk: int):
        return Response(ProfileSerializer(profile_for_request(request, pk)).data)

    @extend_schema(
        operation_id="profiles_partial_update",
        summary="Change a profile's name, kids flag or maturity limit",
        description="Only `name`, `is_kids` and `maturity_limit` can change; anything else sent "
        "(id, account, …) is ignored. " + _PROFILE_DESCRIPTION + _ACCOUNT_LEVEL,
        request=ProfileSerializer(partial=True),
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={200: ProfileSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=["profiles"],
    )
    def patch(self, request, pk: int):
        profile = profile_for_request(request, pk)
        require_account_password(request)
        serializer = ProfileSerializer(profile, data=request.data, partial=True, context={"account": request.user})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            profile = services.profile_update(
                profile=profile,
                name=data.get("name"),
                is_kids=data.get("is_kids"),
                maturity_limit=data.get("maturity_limit"),
            )
        except DjangoValidationError as error:
            raise django_errors_to_drf(error) from error
        return Response(ProfileSerializer(profile).data)

    @extend_schema(
        operation_id="profiles_destroy",
        summary="Delete a profile and everything it did",
        description="The last profile of an account cannot be deleted (409). " + _PROFILE_DESCRIPTION + _ACCOUNT_LEVEL,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 403, 404, 409, 429)},
        tags=["profiles"],
    )
    def delete(self, request, pk: int):
        profile = profile_for_request(request, pk)
        require_account_password(request)
        try:
            services.profile_delete(profile=profile)
        except DjangoValidationError as error:
            raise Conflict(error.messages[0]) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Profile lock and selection ----------------------------------------------------------------


class ProfilePinApi(APIView):
    permission_classes = [IsAuthenticated]
    http_method_names = ["put", "delete", "options"]

    @extend_schema(
        operation_id="profiles_pin_update",
        summary="Set or change a profile's PIN",
        description="4 digits, stored hashed; selecting the profile then asks for it. Five wrong PINs lock "
        "the profile's selection for 15 minutes." + _ACCOUNT_LEVEL,
        request=PinSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={204: OpenApiResponse(description="PIN set."), **error_responses(400, 401, 403, 404, 429)},
        tags=["profiles"],
    )
    def put(self, request, pid: int):
        profile = profile_for_request(request, pid)
        require_account_password(request)
        serializer = PinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.profile_pin_set(profile=profile, pin=serializer.validated_data["pin"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="profiles_pin_destroy",
        summary="Remove a profile's PIN",
        description="The password may come as a `password` field or the `X-Marquee-Password` header." + _ACCOUNT_LEVEL,
        request=PinRemoveSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={204: OpenApiResponse(description="PIN removed."), **error_responses(401, 403, 404, 429)},
        tags=["profiles"],
    )
    def delete(self, request, pid: int):
        profile = profile_for_request(request, pid)
        require_account_password(request)
        services.profile_pin_remove(profile=profile)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileSelectApi(APIView):
    @extend_schema(
        operation_id="profiles_select",
        summary="Make a profile the active one",
        description=(
            "For a browser session, the profile becomes the session's active profile; a token caller gets "
            "a token bound to it in `token`. A profile with a PIN needs `pin` (403 when missing or wrong; "
            "after five wrong PINs, 429 with `Retry-After` for 15 minutes). From a kids session, a grown-up "
            "profile without a PIN needs the account password (`X-Marquee-Password`). A profile-bound "
            "token can select only its own profile."
        ),
        request=ProfileSelectSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={200: ProfileSelectedSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=["profiles"],
    )
    def post(self, request, pid: int):
        profile = profile_for_request(request, pid)
        serializer = ProfileSelectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        by_password = False
        if bound_profile_id(request) is None:
            by_password = self._unlock(request, profile, serializer.validated_data.get("pin"))
        token = None
        if request.auth is None:
            activate_profile(request._request, profile)
            if by_password and not profile.is_kids:
                sudo_grant(request)  # after choosing it: sudo mode belongs to the profile chosen
        elif bound_profile_id(request) is not None:
            token = request.auth.key
        else:
            token = services.profile_token_for(profile=profile).key
        return Response({**ProfileSerializer(profile).data, "token": token})

    def _unlock(self, request, profile, pin) -> bool:
        """The same rule as the picker (accounts.active.unlock_needed): a PIN, or the password.
        True when the account password unlocked it."""
        need = unlock_needed(request._request, profile)
        if need is None:
            return False
        if need == UNLOCK_PIN and pin:
            try:
                ok = services.profile_pin_verify(profile=profile, pin=pin)
            except services.PinLockedOut as locked:
                raise exceptions.Throttled(wait=locked.retry_after_seconds, detail=str(locked)) from locked
            if not ok:
                raise exceptions.PermissionDenied("That PIN is not right.")
            return False
        password = password_from_request(request)
        if not password:
            raise exceptions.PermissionDenied(
                "This profile is locked: send its `pin` (or the account password as `password` or "
                "in X-Marquee-Password)."
                if need == UNLOCK_PIN
                else "Leaving a kids profile needs the account password (`password` or X-Marquee-Password)."
            )
        try:
            ok = password_matches(request, password)
        except PasswordLockedOut as error:
            raise PasswordLockedOutError(request) from error
        if not ok:
            raise exceptions.PermissionDenied("The account password is not correct.")
        return True


# --- Email address and sessions & devices ----------------------------------------------------------


def _site_links(request):
    def link(token: str) -> str:
        return request.build_absolute_uri(reverse("email-change-confirm", args=[token]))

    return link, request.build_absolute_uri(reverse("account-devices"))


class EmailChangeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="account_email_change",
        summary="Ask to change the account's email address",
        description=(
            "Sends a single-use confirmation link (valid 24 hours) to the new address and a notice to the "
            "current one; the address changes only when the link is confirmed by the signed-in owner "
            "(`POST account/email/confirm/`, or opening the link in the browser). The answer is the same "
            "whether or not another account uses the address (that account's owner is told instead)." + _ACCOUNT_LEVEL
        ),
        request=EmailChangeRequestSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={202: EmailChangeAcceptedSerializer, **error_responses(400, 401, 403, 429)},
        tags=["account"],
    )
    def post(self, request):
        require_account_password(request)
        serializer = EmailChangeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link, help_url = _site_links(request)
        try:
            change = services.email_change_request(
                account=request.user, new_email=serializer.validated_data["email"], link=link, help_url=help_url
            )
        except DjangoValidationError as error:
            raise django_errors_to_drf(error) from error
        return Response(
            {"detail": f"A confirmation link was sent to {change.new_email}.", "expires_at": change.expires_at},
            status=status.HTTP_202_ACCEPTED,
        )


class EmailChangeConfirmApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="account_email_confirm",
        summary="Confirm a change of email address with the link's token",
        description="For the account that asked only: another account's token is a 404; an unknown, used "
        "or expired one a 400. Refused to a profile-bound token and a kids session.",
        request=EmailChangeConfirmSerializer,
        responses={200: EmailSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=["account"],
    )
    def post(self, request):
        refuse_bound_or_kids(request)
        serializer = EmailChangeConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _, help_url = _site_links(request)
        try:
            change = services.email_change_confirm(
                account=request.user, token=serializer.validated_data["token"], help_url=help_url
            )
        except services.EmailChangeNotYours as error:
            raise exceptions.NotFound("No such email change.") from error
        except services.EmailChangeInvalid as error:
            raise exceptions.ValidationError({"token": [str(error)]}) from error
        return Response({"email": change.new_email})


class DeviceListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = DeviceSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Device.objects.none()
        require_account_password(self.request)
        return selectors.devices_of(account=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["current_id"] = selectors.current_device_id(request=self.request)
        return context

    @extend_schema(
        operation_id="account_devices_list",
        summary="Sessions and devices: every browser session and API token of the account",
        description="Created, last used, the network last used from (truncated) and browser + system; "
        "`current` marks the caller's own session or token." + _ACCOUNT_LEVEL,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={200: DeviceSerializer(many=True), **error_responses(401, 403, 404, 429)},
        tags=["account"],
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class DeviceDetailApi(APIView):
    permission_classes = [IsAuthenticated]
    http_method_names = ["delete", "options"]

    @extend_schema(
        operation_id="account_devices_destroy",
        summary="Sign one session out, or revoke one token",
        description="The session leaves the session store, the token is deleted. Another account's id is "
        "a 404." + _ACCOUNT_LEVEL,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={204: OpenApiResponse(description="Signed out."), **error_responses(401, 403, 404, 429)},
        tags=["account"],
    )
    def delete(self, request, pk: int):
        device = selectors.device_get_for_account(account=request.user, device_id=pk)
        require_account_password(request)
        services.device_sign_out(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceSignOutAllApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="account_devices_sign_out_all",
        summary="Sign out of all devices",
        description="Signs out every browser session except the caller's own and revokes every API token "
        "of the account, the caller's included when it is one." + _ACCOUNT_LEVEL,
        request=AccountPasswordSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={200: SignedOutSerializer, **error_responses(401, 403, 429)},
        tags=["account"],
    )
    def post(self, request):
        require_account_password(request)
        keep = request._request.session.session_key if request.auth is None else None
        removed = services.devices_sign_out_everywhere(account=request.user, keep_session_key=keep)
        if keep:
            # The session epoch moved: the calling browser session stays signed in.
            update_session_auth_hash(request._request, request.user)
        return Response({"signed_out": removed})
