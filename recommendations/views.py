from django.shortcuts import render

from accounts.active import profile_required

from .home import build_home


@profile_required
def home(request):
    return render(request, "home.html", {"home": build_home(profile=request.profile)})
