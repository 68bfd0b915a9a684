"""Probe routes, mounted at the site root (config/urls.py).

The contract's form is `/healthz` (no slash); the slash form answers too, so neither a probe
configured either way nor CommonMiddleware's APPEND_SLASH ever sees a redirect.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/", views.healthz),
    path("readyz", views.readyz, name="readyz"),
    path("readyz/", views.readyz),
    path("metrics", views.metrics_view, name="metrics"),
    path("metrics/", views.metrics_view),
]
