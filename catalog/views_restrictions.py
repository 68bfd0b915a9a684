"""Viewing restrictions: the account holder blocks titles for one profile (a thin page).

Account-level (common.sudo): it needs the account password entered in the last few minutes and
is never reachable from a kids session, so a child cannot lift its own restrictions. The
profile comes from `accounts.selectors.profile_get_for_account` (another account's is a 404);
titles from `catalog.selectors.title_get_for_restriction`, not the visibility rule: blocking a
title above the profile's limit, or unblocking one now invisible because blocked, is the point.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.selectors import profile_get_for_account
from common.sudo import sudo_required

from . import services
from .search import normalize_query
from .selectors import blocked_titles_for_profile, restriction_candidates, title_get_for_restriction

# The page lists the whole restriction list; a household blocks a handful of titles, not thousands.
BLOCKED_SHOWN = 200


@require_http_methods(["GET", "HEAD", "POST"])
@sudo_required
def profile_restrictions(request, pk: int):
    profile = profile_get_for_account(account=request.user, profile_id=pk)
    if request.method == "POST":
        return _change(request, profile)
    # Not a search of the profile's: nothing here is recorded in anyone's search history.
    query = normalize_query(request.GET.get("q"))
    blocked = list(blocked_titles_for_profile(profile)[:BLOCKED_SHOWN])
    context = {
        "profile": profile,
        "blocked": blocked,
        "query": query,
        "candidates": restriction_candidates(profile=profile, query=query) if query else [],
    }
    return render(request, "catalog/restrictions.html", context)


def _change(request, profile):
    action = request.POST.get("action")
    raw = request.POST.get("title", "")
    if action not in ("block", "unblock") or not (raw.isascii() and raw.isdigit()):
        return HttpResponseBadRequest("Say which title to block or unblock.")
    blocking = action == "block"
    title = title_get_for_restriction(profile=profile, pk=int(raw), blocking=blocking)
    if blocking:
        services.title_block(profile=profile, title=title)
        messages.success(request, f"“{title.name}” is now blocked for {profile.name}.")
    else:
        services.title_unblock(profile=profile, title=title)
        messages.success(request, f"“{title.name}” is no longer blocked for {profile.name}.")
    # Back to the page (PRG), keeping the search the title was picked from.
    url = reverse("profile-restrictions", args=[profile.pk])
    query = normalize_query(request.POST.get("q"))
    return redirect(f"{url}?{urlencode({'q': query})}" if query else url)
