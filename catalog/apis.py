"""REST endpoints for the catalog and a profile's ratings, My List and viewing.

Thin views over the same selectors and services as the HTML pages: every title comes from
`visible_titles(profile)` / `title_get_for_profile` (so a kids profile's limit holds), every
write from `catalog.services` (so the consent gates and the engagement stamp hold), and every
profile from `accounts.access.profile_for_api` (another account's profile is a 404; a profile the
caller may not act as, such as another profile than a bound token's, is a 403).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import bound_profile, private_profile_for_api, profile_for_api
from accounts.models import Profile
from accounts.selectors import profile_get_for_account
from api.errors import django_errors_to_drf, error_responses
from api.fields import AccountPasswordSerializer
from api.pagination import Pagination
from api.permissions import PASSWORD_HEADER_PARAMETER, require_account_password
from common.ids import MAX_ID, parse_id

from . import services
from .filters import TitleFilter
from .models import BlockedTitle, Credit, Episode, HiddenTitle, ListEntry, Rating, Season, ViewingActivity
from .search import normalize_query
from .selectors import (
    blocked_titles_for_profile,
    episode_for_viewing,
    hidden_titles_for_profile,
    list_entries_for_profile,
    ratings_for_profile,
    title_get_for_profile,
    title_get_for_restriction,
    visible_titles,
)
from .serializers import (
    BlockedTitleSerializer,
    ExcludeInputSerializer,
    HiddenTitleSerializer,
    ListEntrySerializer,
    RatingInputSerializer,
    RatingSerializer,
    TitleDetailSerializer,
    TitleSerializer,
    ViewingInputSerializer,
    ViewingRecordedSerializer,
    ViewingSerializer,
)

PROFILE_PARAMETER = OpenApiParameter(
    "profile",
    # What catalog_profile reads (common.ids.parse_id); anything else is a 400.
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    OpenApiParameter.QUERY,
    description=(
        "See the catalog as this profile of yours sees it (its maturity limit). Without it: the "
        "session's active profile, or else family titles only. Another account's profile is a 404."
    ),
)
_CATALOG_DESCRIPTION = (
    "Titles visible to the caller: published, within the profile's maturity limit, never unrated "
    "for kids profiles. Which profile: `?profile=<id>` (yours), else the browser session's active "
    "profile, else none and the strictest rule applies (family titles only). Open to anonymous callers."
)


def catalog_profile(request) -> Profile | None:
    """The profile whose eyes the catalog endpoints see through (see _CATALOG_DESCRIPTION)."""
    raw = request.query_params.get("profile")
    if raw is not None:
        profile_id = parse_id(raw)  # ASCII digits of a 64-bit id (common.ids)
        if profile_id is None:
            raise exceptions.ValidationError({"profile": ["A profile id is a whole number."]})
        if not request.user.is_authenticated:
            raise exceptions.NotFound()
        return profile_for_api(request, profile_id)
    if request.user.is_authenticated:
        bound = bound_profile(request)
        if bound is not None:  # a profile-bound token sees through its own profile's eyes
            return bound
    session_profile = getattr(request._request, "profile", None)
    # Only the session's own user: a token caller must never inherit a browser's other account.
    if session_profile is not None and request.user.is_authenticated and session_profile.account_id == request.user.pk:
        return session_profile
    return None


class _ProfileFilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["profile"] = view.profile
        return kwargs


@extend_schema(tags=["titles"])
class TitleListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = TitleSerializer
    filterset_class = TitleFilter
    filter_backends = [_ProfileFilterBackend]
    pagination_class = Pagination
    profile: Profile | None = None  # set per request in initial(); None also for schema generation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.profile = catalog_profile(request)

    def get_queryset(self):
        return visible_titles(self.profile).prefetch_related("genres")

    @extend_schema(
        operation_id="titles_list",
        summary="Browse and search titles",
        description=_CATALOG_DESCRIPTION + " With `search`, results come best match first; a "
        "search with a profile is kept in that profile's search history if the account allows it.",
        parameters=[PROFILE_PARAMETER],
        responses={200: TitleSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        response = self.list(request, *args, **kwargs)
        query = normalize_query(request.query_params.get("search"))
        if query and self.profile is not None and request.query_params.get("page", "1") == "1":
            # Like the search page: a real query on the first page is one search.
            services.search_record(profile=self.profile, query=query, result_count=response.data["count"])
        return response


@extend_schema(tags=["titles"])
class TitleDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="titles_retrieve",
        summary="One title, with seasons, episodes and credits",
        description=_CATALOG_DESCRIPTION + " A title the profile may not see is a 404.",
        parameters=[PROFILE_PARAMETER],
        responses={200: TitleDetailSerializer, **error_responses(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: int):
        profile = catalog_profile(request)
        queryset = visible_titles(profile).prefetch_related(
            "genres",
            Prefetch("seasons", queryset=Season.objects.prefetch_related("episodes")),
            Prefetch("credits", queryset=Credit.objects.select_related("person")),
        )
        title = generics.get_object_or_404(queryset, pk=pk)
        return Response(TitleDetailSerializer(title).data)


# --- A profile's engagement ----------------------------------------------------------------

_OWN_PROFILE = (
    "`pid` must be one of the caller's profiles (else 404) that the caller may act as (else 403): a "
    "profile-bound token's own, a browser session's active one (another needs the account password in "
    "`X-Marquee-Password`), any for an account token."
)
_VISIBLE_TITLE = "The title must be visible to that profile (else 404)."


def _profile_and_title(request, pid: int, title_id: int):
    """The caller's profile and a title it may see; 404 for another account's or a hidden one."""
    profile = profile_for_api(request, pid)
    return profile, title_get_for_profile(profile=profile, pk=title_id)


def _created_or_ok(created: bool) -> int:
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


class _TitleSetItemApi(APIView):
    """One of the profile's title sets (My List, "Not for me"): PUT adds the title, DELETE takes it out.

    Subclasses name the set's services and serializer and carry the schema of their `put`/`delete`.
    """

    permission_classes = [IsAuthenticated]
    http_method_names = ["put", "delete", "options"]
    serializer_class: type = None
    add = None  # service(*, profile, title) -> (row, created)
    remove = None  # service(*, profile, title) -> bool

    def _put(self, request, pid: int, title_id: int) -> Response:
        profile, title = _profile_and_title(request, pid, title_id)
        row, created = type(self).add(profile=profile, title=title)
        return Response(self.serializer_class(row).data, status=_created_or_ok(created))

    def _delete(self, request, pid: int, title_id: int) -> Response:
        profile, title = _profile_and_title(request, pid, title_id)
        type(self).remove(profile=profile, title=title)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ProfileListApi(generics.ListAPIView):
    """A paginated list of one of the caller's profiles' rows: the selector its page uses (so
    the API and the page agree, titles it may no longer see included or not alike)."""

    permission_classes = [IsAuthenticated]
    model: type = None  # Rating, ListEntry, HiddenTitle or ViewingActivity
    # The page's selector (profile -> queryset); None: the profile's rows of `model`, newest first.
    selector = None
    ordering: tuple[str, ...] = ()
    # True for what only the profile itself or the account owner in sudo mode may read.
    private = False

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no profile
            return self.model.objects.none()
        resolve = private_profile_for_api if self.private else profile_for_api
        profile = resolve(self.request, self.kwargs["pid"])
        if self.selector is not None:
            return type(self).selector(profile)
        return (
            self.model.objects.filter(profile=profile, title__in=visible_titles(profile))
            .select_related("title")
            .order_by(*self.ordering)
        )


@extend_schema(tags=["ratings"])
class RatingListApi(_ProfileListApi):
    serializer_class = RatingSerializer
    model = Rating
    selector = staticmethod(ratings_for_profile)

    @extend_schema(
        operation_id="profiles_ratings_list",
        summary="The profile's ratings, newest first",
        description=_OWN_PROFILE,
        responses={200: RatingSerializer(many=True), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=["ratings"])
class RatingDetailApi(APIView):
    permission_classes = [IsAuthenticated]
    http_method_names = ["put", "delete", "options"]

    @extend_schema(
        operation_id="profiles_ratings_set",
        summary="Rate a title (down / up / love)",
        description="201 when the rating is new, 200 when it changed. " + _OWN_PROFILE + " " + _VISIBLE_TITLE,
        request=RatingInputSerializer,
        responses={
            200: RatingSerializer,
            201: RatingSerializer,
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def put(self, request, pid: int, title_id: int):
        profile, title = _profile_and_title(request, pid, title_id)
        serializer = RatingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            rating, created = services.rating_set(profile=profile, title=title, value=data["value"])
            if "exclude_from_recommendations" in data:
                services.rating_exclude_set(profile=profile, title=title, exclude=data["exclude_from_recommendations"])
                rating.refresh_from_db()
        return Response(RatingSerializer(rating).data, status=_created_or_ok(created))

    @extend_schema(
        operation_id="profiles_ratings_delete",
        summary="Remove the profile's rating of a title",
        description="204 whether or not there was a rating. " + _OWN_PROFILE + " " + _VISIBLE_TITLE,
        responses={204: OpenApiResponse(description="No rating now."), **error_responses(401, 403, 404, 429)},
    )
    def delete(self, request, pid: int, title_id: int):
        profile, title = _profile_and_title(request, pid, title_id)
        services.rating_delete(profile=profile, title=title)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["hidden"])
class HiddenListApi(_ProfileListApi):
    serializer_class = HiddenTitleSerializer
    model = HiddenTitle
    selector = staticmethod(hidden_titles_for_profile)

    @extend_schema(
        operation_id="profiles_hidden_list",
        summary="Titles the profile marked \u201cNot for me\u201d, newest first",
        description=_OWN_PROFILE,
        responses={200: HiddenTitleSerializer(many=True), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=["hidden"])
class HiddenItemApi(_TitleSetItemApi):
    serializer_class = HiddenTitleSerializer
    add = staticmethod(services.title_hide)
    remove = staticmethod(services.title_unhide)

    @extend_schema(
        operation_id="profiles_hidden_add",
        summary="\u201cNot for me\u201d: keep a title out of the profile's rows and suggestions",
        description=(
            "The title leaves every home row, \u201cMore like this\u201d and search suggestions for the profile "
            "and counts as a negative, like a down rating. 201 when hidden now, 200 when it already was. "
            "No body. " + _OWN_PROFILE + " " + _VISIBLE_TITLE
        ),
        request=None,
        responses={200: HiddenTitleSerializer, 201: HiddenTitleSerializer, **error_responses(401, 403, 404, 429)},
    )
    def put(self, request, pid: int, title_id: int):
        return self._put(request, pid, title_id)

    @extend_schema(
        operation_id="profiles_hidden_remove",
        summary="Undo \u201cNot for me\u201d",
        description="204 whether or not it was hidden. " + _OWN_PROFILE + " " + _VISIBLE_TITLE,
        responses={204: OpenApiResponse(description="Not hidden now."), **error_responses(401, 403, 404, 429)},
    )
    def delete(self, request, pid: int, title_id: int):
        return self._delete(request, pid, title_id)


@extend_schema(tags=["my-list"])
class MyListApi(_ProfileListApi):
    serializer_class = ListEntrySerializer
    model = ListEntry
    selector = staticmethod(list_entries_for_profile)

    @extend_schema(
        operation_id="profiles_my_list_list",
        summary="The profile's My List, newest first",
        description=_OWN_PROFILE,
        responses={200: ListEntrySerializer(many=True), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=["my-list"])
class MyListItemApi(_TitleSetItemApi):
    serializer_class = ListEntrySerializer
    add = staticmethod(services.list_add)
    remove = staticmethod(services.list_remove)

    @extend_schema(
        operation_id="profiles_my_list_add",
        summary="Add a title to My List",
        description="201 when added, 200 when it was already there. No body. " + _OWN_PROFILE + " " + _VISIBLE_TITLE,
        request=None,
        responses={200: ListEntrySerializer, 201: ListEntrySerializer, **error_responses(401, 403, 404, 429)},
    )
    def put(self, request, pid: int, title_id: int):
        return self._put(request, pid, title_id)

    @extend_schema(
        operation_id="profiles_my_list_remove",
        summary="Remove a title from My List",
        description="204 whether or not it was there. " + _OWN_PROFILE + " " + _VISIBLE_TITLE,
        responses={204: OpenApiResponse(description="Not on the list now."), **error_responses(401, 403, 404, 429)},
    )
    def delete(self, request, pid: int, title_id: int):
        return self._delete(request, pid, title_id)


@extend_schema(tags=["viewing"])
class ViewingApi(_ProfileListApi):
    serializer_class = ViewingSerializer
    model = ViewingActivity
    ordering = ("-last_watched_at", "-id")
    # Another profile's viewing history is account-level: an account token sends the password.
    private = True

    @extend_schema(
        operation_id="profiles_viewing_list",
        summary="The profile's viewing activity, most recent first",
        description=_OWN_PROFILE + " Reading it with an account token is account-level: it needs the "
        "account password too (a profile sees only its own history; the account owner sees everyone's).",
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={200: ViewingSerializer(many=True), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="profiles_viewing_record",
        summary="Record a player heartbeat",
        description=(
            "One row per title (or episode), updated in place. Answers 202 with `recorded: false`, "
            "keeping nothing, when the account has not consented to viewing history. "
            + _OWN_PROFILE
            + " "
            + _VISIBLE_TITLE
        ),
        request=ViewingInputSerializer,
        responses={202: ViewingRecordedSerializer, **error_responses(400, 401, 403, 404, 429)},
    )
    def post(self, request, pid: int):
        profile = profile_for_api(request, pid)
        serializer = ViewingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        title = title_get_for_profile(profile=profile, pk=data["title"])
        # The player page's rule (one function for both): a series needs one of its episodes,
        # a film none. An unknown episode is bad input in a body, so a 400 here (a 404 on the page).
        try:
            episode = episode_for_viewing(title=title, episode_id=data["episode"], sent=data["episode"] is not None)
        except DjangoValidationError as error:
            raise django_errors_to_drf(error) from error
        except Episode.DoesNotExist:
            raise exceptions.ValidationError({"episode": ["Not an episode of this title."]}) from None
        try:
            activity = services.viewing_record(
                profile=profile,
                title=title,
                episode=episode,
                position_seconds=data["position_seconds"],
                duration_seconds=data["duration_seconds"],
            )
        except ValueError as error:
            raise exceptions.ValidationError({"non_field_errors": [str(error)]}) from error
        return Response({"recorded": activity is not None}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["viewing"])
class ViewingItemApi(APIView):
    permission_classes = [IsAuthenticated]
    http_method_names = ["patch", "options"]

    @extend_schema(
        operation_id="profiles_viewing_exclude",
        summary="\u201cDon't use this to recommend\u201d on a title's viewing (or undo it)",
        description=(
            "Sets the flag on every viewing row of the title (each episode of a series). 404 when the "
            "profile has no viewing of it. " + _OWN_PROFILE + " " + _VISIBLE_TITLE
        ),
        request=ExcludeInputSerializer,
        responses={200: ViewingSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
    )
    def patch(self, request, pid: int, title_id: int):
        profile, title = _profile_and_title(request, pid, title_id)
        serializer = ExcludeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exclude = serializer.validated_data["exclude_from_recommendations"]
        if not services.viewing_exclude_set(profile=profile, title=title, exclude=exclude):
            raise exceptions.NotFound("This profile has no viewing of that title.")
        rows = ViewingActivity.objects.filter(profile=profile, title=title).select_related("title").order_by("id")
        return Response(ViewingSerializer(rows, many=True).data)


# --- Viewing restrictions (account-level) ----------------------------------------------------

_RESTRICTIONS = (
    "Viewing restrictions: a title blocked for a profile is invisible to it everywhere (rows, search, "
    "browse, its page, the API), whatever its rating. Account-level: refused (403) to a profile-bound "
    "token and a kids session; needs the account password in the X-Marquee-Password header or a "
    "`password` field (a browser session that entered it in the last minutes needs neither). `pid` must "
    "be one of the caller's profiles (else 404)."
)


def _restricted_profile(request, pid: int) -> Profile:
    """The account's profile (another account's is a 404, looked up first), then the password:
    the account holder may manage any of its profiles, so no "acts as" check on top."""
    profile = profile_get_for_account(account=request.user, profile_id=pid)
    require_account_password(request)  # refuses a bound token and a kids session too
    return profile


@extend_schema(tags=["profiles"])
class RestrictionListApi(_ProfileListApi):
    permission_classes = [IsAuthenticated]
    serializer_class = BlockedTitleSerializer
    model = BlockedTitle

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no profile
            return BlockedTitle.objects.none()
        # Every blocked title, those the profile could not see anyway included: the account
        # holder manages the whole list.
        return blocked_titles_for_profile(_restricted_profile(self.request, self.kwargs["pid"]))

    @extend_schema(
        operation_id="profiles_restrictions_list",
        summary="The titles blocked for the profile, newest first",
        description=_RESTRICTIONS,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={200: BlockedTitleSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=["profiles"])
class RestrictionItemApi(APIView):
    # Not _TitleSetItemApi: that resolves the title through what the profile may see, and a
    # restriction must take a title above its limit (PUT) or one invisible because blocked (DELETE).
    permission_classes = [IsAuthenticated]
    http_method_names = ["put", "delete", "options"]

    @extend_schema(
        operation_id="profiles_restrictions_update",
        summary="Block a title for the profile",
        description=(
            "201 when blocked now, 200 when it already was. Any published title (else 404), even one "
            "above the profile's maturity limit. " + _RESTRICTIONS
        ),
        request=AccountPasswordSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={
            200: BlockedTitleSerializer,
            201: BlockedTitleSerializer,
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def put(self, request, pid: int, title_id: int):
        profile = _restricted_profile(request, pid)
        AccountPasswordSerializer(data=request.data).is_valid(raise_exception=True)
        title = title_get_for_restriction(profile=profile, pk=title_id, blocking=True)
        row, created = services.title_block(profile=profile, title=title)
        return Response(BlockedTitleSerializer(row).data, status=_created_or_ok(created))

    @extend_schema(
        operation_id="profiles_restrictions_destroy",
        summary="Unblock a title for the profile",
        description=(
            "204 whether or not it was blocked. Any published title, or one blocked for the profile "
            "(else 404). " + _RESTRICTIONS
        ),
        request=AccountPasswordSerializer,
        parameters=[PASSWORD_HEADER_PARAMETER],
        responses={
            204: OpenApiResponse(description="Not blocked now."),
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def delete(self, request, pid: int, title_id: int):
        profile = _restricted_profile(request, pid)
        AccountPasswordSerializer(data=request.data).is_valid(raise_exception=True)
        title = title_get_for_restriction(profile=profile, pk=title_id, blocking=False)
        services.title_unblock(profile=profile, title=title)
        return Response(status=status.HTTP_204_NO_CONTENT)
