"""Browse, search, suggestions, and the profile's own pages: My List, history, ratings.

Thin views: visibility comes from `catalog.selectors`, matching from `catalog.search`, every
write from `catalog.services`. Search terms are personal data: never log them here.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts.selectors import profiles_of
from common.decorators import profile_required
from common.ids import parse_id
from common.sudo import sudo_required
from privacy import consent

from . import services
from .filters import BrowseFilter, RatingFilterForm
from .models import Genre, Title
from .search import SUGGEST_MIN_LENGTH, normalize_query, query_truncated, search_people, search_titles
from .selectors import (
    genres_for_nav,
    hidden_title_ids,
    hidden_titles_for_profile,
    list_entries_for_profile,
    ratings_for_profile,
    recent_searches,
    title_get_for_history,
    viewing_history_details,
    viewing_history_for_profile,
    visible_titles,
)

PAGE_SIZE = 24
SUGGESTIONS = 8
# People among the suggestions (above the titles).
PEOPLE_SUGGESTIONS = 3


# --- Browse ----------------------------------------------------------------------------------


def _page(request, queryset: QuerySet, per_page: int = PAGE_SIZE):
    # get_page() turns a garbage or out-of-range ?page= into the first or last page, never a 404/500.
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


@require_safe
@profile_required
def browse(request, genre: str | None = None):
    profile = request.profile
    current_genre = get_object_or_404(Genre, slug=genre) if genre is not None else None
    titles = visible_titles(profile)
    if current_genre is not None:
        titles = titles.filter(genres=current_genre)
    filterset = BrowseFilter(request.GET, queryset=titles, profile=profile)
    page = _page(request, filterset.qs)
    return render(
        request,
        "catalog/browse.html",
        {
            "filterset": filterset,
            "form": filterset.form,
            "page_obj": page,
            "genres": list(genres_for_nav(profile)),
            "current_genre": current_genre,
        },
    )


# --- Search ----------------------------------------------------------------------------------


@require_safe
@profile_required
def search(request):
    profile = request.profile
    raw = request.GET.get("q", "")
    query = normalize_query(raw)
    # Say so when the query was cut (not merely tidied of spaces).
    context = {"query": query, "truncated": query_truncated(raw)}
    if not query:
        context["recent_searches"] = recent_searches(profile)
        return render(request, "catalog/search.html", context)
    page = _page(request, search_titles(profile=profile, query=query))
    # A fresh search (from the search box: no ?page=) is recorded once; paging through its
    # results (every pagination link carries ?page=) is the same search, not a new one.
    if "page" not in request.GET:
        services.search_record(profile=profile, query=query, result_count=page.paginator.count)
    context.update({"page_obj": page, "result_count": page.paginator.count})
    if page.number == 1:
        # People whose names match lead the first page (their pages list their titles).
        context["people"] = search_people(profile=profile, query=query)
    return render(request, "catalog/search.html", context)


@require_safe
def search_suggest(request):
    """Up to 3 people and 8 titles for the search box (an htmx fragment). Never recorded as a search."""
    profile = getattr(request, "profile", None)
    query = normalize_query(request.GET.get("q"))
    titles: list[Title] = []
    people = []
    # No profile (signed out, or none picked): nothing, rather than a login page in the box.
    if profile is not None and len(query) >= SUGGEST_MIN_LENGTH:
        # A title the profile marked "Not for me" is not suggested (a full search still finds it).
        titles = list(
            search_titles(profile=profile, query=query).exclude(pk__in=hidden_title_ids(profile))[:SUGGESTIONS]
        )
        people = search_people(profile=profile, query=query, limit=PEOPLE_SUGGESTIONS)
    if titles or people:
        context = {"titles": titles, "people": people, "query": query}
        response = render(request, "catalog/_suggestions.html", context)
    else:
        # Truly empty (no whitespace either), so the box's `:empty` style hides it.
        response = HttpResponse("")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@profile_required
def search_history_clear(request):
    deleted = services.search_history_delete(profile=request.profile)
    messages.success(request, "Search history cleared." if deleted else "There was no search history to clear.")
    return redirect("search")


# --- The profile's own pages -----------------------------------------------------------------


@require_safe
@profile_required
def my_list(request):
    page = _page(request, list_entries_for_profile(request.profile))
    return render(request, "catalog/my_list.html", {"page_obj": page})


@require_safe
@profile_required
def history(request):
    profile = request.profile
    page = _page(request, viewing_history_for_profile(profile))
    return render(
        request,
        "catalog/history.html",
        {
            "page_obj": page,
            "items": viewing_history_details(profile, list(page.object_list)),
            "history_allowed": consent.allows(profile.account_id, "viewing_history"),
        },
    )


@require_safe
@sudo_required
def account_activity(request):
    """Every profile's viewing activity, for the account owner in sudo mode (as Netflix's
    account page has it); a profile's own History page shows only its own."""
    profiles = list(profiles_of(account=request.user))
    raw = request.GET.get("profile", "")
    profile_id = parse_id(raw)
    chosen = next((p for p in profiles if p.pk == profile_id), None)
    if raw and chosen is None:
        raise Http404("No such profile in this account.")
    chosen = chosen or profiles[0]
    page = _page(request, viewing_history_for_profile(chosen))
    return render(
        request,
        "catalog/account_activity.html",
        {
            "profiles": profiles,
            "chosen": chosen,
            "page_obj": page,
            "items": viewing_history_details(chosen, list(page.object_list)),
        },
    )


@require_POST
@profile_required
def history_remove(request, slug: str):
    title = title_get_for_history(profile=request.profile, slug=slug)
    if services.viewing_delete(profile=request.profile, title=title):
        messages.success(request, f"“{title.name}” was removed from your viewing history.")
    return redirect("history")


@require_POST
@profile_required
def history_clear(request):
    # The page asks for confirmation with this field; a bare POST deletes nothing.
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Nothing was removed: please confirm clearing all of your viewing history.")
        return redirect("history")
    deleted = services.viewing_delete(profile=request.profile)
    messages.success(request, "Your viewing history was cleared." if deleted else "Your viewing history was empty.")
    return redirect("history")


HIDDEN_SHOWN = 100


@require_safe
@profile_required
def my_ratings(request):
    form = RatingFilterForm(request.GET)
    value = form.cleaned_data["value"] if form.is_valid() else ""
    page = _page(request, ratings_for_profile(request.profile, value=value or None))
    hidden_qs = hidden_titles_for_profile(request.profile)
    hidden = list(hidden_qs[:HIDDEN_SHOWN])
    # Counted only when the list is cut: one query for everybody else.
    hidden_count = hidden_qs.count() if len(hidden) == HIDDEN_SHOWN else len(hidden)
    return render(
        request,
        "catalog/ratings.html",
        {"form": form, "page_obj": page, "value": value, "hidden": hidden, "hidden_count": hidden_count},
    )
