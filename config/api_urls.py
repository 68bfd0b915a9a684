"""/api/v1/: each app's REST endpoints live in its own apis.py and api_urls.py."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("recommendations.api_urls")),
    path("", include("privacy.api_urls")),
]
