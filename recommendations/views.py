"""Home, onboarding and "Why am I seeing this?". Thin: selectors/home read, services write."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import Profile
from catalog.models import Genre
from catalog.signals import rows_shown
from common.decorators import profile_required

from . import services
from .home import build_home
from .selectors import onboarding_choices


@profile_required
def home(request):
    home = build_home(profile=request.profile)
    if home.needs_onboarding:
        return redirect("onboarding")
    rows_shown.send(sender=Profile, profile=request.profile, rows=home.rows)
    return render(request, "home.html", {"home": home})


@profile_required
@require_http_methods(["GET", "POST"])
def onboarding(request):
    profile = request.profile
    error = None
    picked: set[int] = set()
    picked_genres: set[str] = set()
    if request.method == "POST":
        if request.POST.get("action") == "skip":
            services.onboarding_skip(profile=profile)
            messages.info(request, "No problem: rate titles whenever you like and your home will follow.")
            return redirect("home")
        picked = {int(v) for v in request.POST.getlist("titles") if v.isdigit()}
        picked_genres = {g for g in request.POST.getlist("genres") if g}
        try:
            count = services.onboarding_complete(
                profile=profile, title_ids=sorted(picked), genre_slugs=sorted(picked_genres)
            )
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, f"Thanks! Your home is now picked from the {count} titles you like.")
            return redirect("home")
    context = {
        "titles": onboarding_choices(profile),
        "genres": Genre.objects.order_by("name"),
        "picked": picked,
        "picked_genres": picked_genres,
        "error": error,
        "min_titles": services.ONBOARDING_MIN_TITLES,
    }
    return render(request, "recommendations/onboarding.html", context, status=400 if error else 200)


@profile_required
def why(request, key: str):
    home = build_home(profile=request.profile)
    row = next((r for r in home.rows if r.key == key and r.why_url), None)
    if row is None:
        raise Http404("No such recommendation row on your home page.")
    summary = home.extra.get("summary", {})
    return render(request, "recommendations/why.html", {"row": row, "summary": summary, "home": home})
