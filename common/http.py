"""HTTP helpers shared by the apps' views."""

import hashlib

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control


def svg_response(request, svg: str, *, max_age: int) -> HttpResponse:
    """A generated SVG (poster, avatar) with a content ETag: a matching If-None-Match is a 304.

    Always private: what it shows depends on who asks (a profile's avatar, a title only some
    profiles may see), so no shared cache may keep it.
    """
    etag = '"' + hashlib.sha256(svg.encode()).hexdigest()[:32] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(svg, content_type="image/svg+xml")
    response["ETag"] = etag
    patch_cache_control(response, private=True, max_age=max_age)
    return response
