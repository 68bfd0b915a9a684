"""REST: a profile's home rows (CONTRACTS.md `GET profiles/{pid}/home/`) and its "For all of you"
row with other profiles of the household (`GET profiles/{pid}/together/`). Thin: build_home and
together.build_together do it."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import private_profile_for_api, profile_for_api, require_unlocked_members
from api.errors import error_responses
from common.sudo import bound_profile_id, is_kids_session

from . import together
from .home import build_home
from .serializers import HomeRowSerializer, HomeSerializer

BOUND_TOKEN_TOGETHER = (
    "This token is bound to one profile, so it cannot choose other profiles to watch with; "
    "use the account's own token or the web app."
)
KIDS_SESSION_TOGETHER = (
    "A kids profile cannot choose other profiles to watch with: start Watching together from a grown-up's profile."
)
WITH_PARAMETER = OpenApiParameter(
    "with",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    # The shape together.parse_with accepts: 1 to 4 ASCII ids (at most 18 digits) separated by commas.
    pattern=r"^[0-9]{1,18}(,[0-9]{1,18}){0,3}$",
    description=(
        f"The other profiles watching: {together.MIN_MEMBERS - 1} to {together.MAX_MEMBERS - 1} ids of this "
        "account's profiles, separated by commas (`?with=12,13`). Duplicates and the path's own profile are "
        "ignored. Another account's profile is a 404."
    ),
)


class ProfileHomeApi(APIView):
    @extend_schema(
        operation_id="profile_home",
        summary="A profile's home rows",
        description="The rows the profile's home page shows, in order, each row and title with its reason. "
        "`personalized` is false (with a `notice`) when personalization is off, no model serves yet, or the "
        "recommender is unavailable; the rows are then the non-personalized ones.",
        responses={200: HomeSerializer, **error_responses(401, 403, 404, 429)},
        tags=["recommendations"],
    )
    def get(self, request, pid: int):
        # Its Continue watching row is the profile's viewing: private to the profile (else the password).
        profile = private_profile_for_api(request, pid)
        return Response(HomeSerializer(build_home(profile=profile)).data)


class ProfileTogetherApi(APIView):
    @extend_schema(
        operation_id="profile_together",
        summary="Watching together: a row for several profiles",
        description=(
            'One row, `together` ("For all of you"), the shape of a home row: titles every chosen profile may '
            "see (the strictest maturity limit and every profile's blocks apply) and none of them has rated, "
            "watched or hidden, ranked for the whole group, each with a reason naming whose taste it balances. "
            "Without a model or without personalization consent, the popular titles all may see (the row's "
            "reason says so). A profile-bound token or a kids profile's session cannot choose other profiles (403)."
        ),
        parameters=[WITH_PARAMETER],
        responses={200: HomeRowSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=["recommendations"],
    )
    def get(self, request, pid: int):
        profile = profile_for_api(request, pid)
        try:
            other_ids = together.parse_with(request.query_params.getlist("with"), self_id=profile.pk)
        except together.GroupInvalid as error:
            raise exceptions.ValidationError({"with": [str(error)]}) from error
        # Choosing others means writing their viewing history later: only a caller that may act for
        # the household (not a bound token, not a kids session). Checked before the others are
        # looked up, so a refused caller learns nothing about which ids exist.
        if bound_profile_id(request) is not None:
            raise exceptions.PermissionDenied(BOUND_TOKEN_TOGETHER)
        if is_kids_session(request):
            raise exceptions.PermissionDenied(KIDS_SESSION_TOGETHER)
        members = together.group_members(profile=profile, other_ids=other_ids)
        require_unlocked_members(request, [m for m in members if m.pk != profile.pk])
        return Response(HomeRowSerializer(together.build_together(profiles=members).row).data)
