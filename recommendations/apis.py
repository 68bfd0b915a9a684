"""REST: a profile's home rows (CONTRACTS.md `GET profiles/{pid}/home/`). Thin: build_home does it."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import profile_get_for_account
from api.errors import error_responses

from .home import build_home
from .serializers import HomeSerializer


class ProfileHomeApi(APIView):
    @extend_schema(
        operation_id="profile_home",
        summary="A profile's home rows",
        description="The rows the profile's home page shows, in order, each row and title with its reason. "
        "`personalized` is false (with a `notice`) when personalization is off, no model serves yet, or the "
        "recommender is unavailable; the rows are then the non-personalized ones.",
        responses={200: HomeSerializer, **error_responses(401, 404)},
        tags=["recommendations"],
    )
    def get(self, request, pid: int):
        profile = profile_get_for_account(account=request.user, profile_id=pid)
        return Response(HomeSerializer(build_home(profile=profile)).data)
