def active_profile(request):
    """The active profile for the header (switcher, avatar)."""
    return {"active_profile": getattr(request, "profile", None)}
