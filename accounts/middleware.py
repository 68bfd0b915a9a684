from .active import resolve_profile
from .devices import session_seen


class ActiveProfileMiddleware:
    """Puts `request.profile` on every request (see accounts.active), and after the view
    records the signed-in session as seen for "Sessions and devices" (accounts.devices: at
    most one write every few minutes per session, none for anonymous requests).

    Resolved eagerly: one indexed query, and only when the session names a profile.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.profile = resolve_profile(request)
        response = self.get_response(request)
        # After the view: a sign-in or password change rotated the key, a sign-out emptied it.
        session_seen(request)
        return response
