from .active import resolve_profile


class ActiveProfileMiddleware:
    """Puts `request.profile` on every request (see accounts.active).

    Resolved eagerly: one indexed query, and only when the session names a profile.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.profile = resolve_profile(request)
        return self.get_response(request)
