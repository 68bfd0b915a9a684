from django.urls import path

from . import apis

urlpatterns = [
    path("profiles/<int:pid>/home/", apis.ProfileHomeApi.as_view(), name="api-profile-home"),
    path("profiles/<int:pid>/together/", apis.ProfileTogetherApi.as_view(), name="api-profile-together"),
]
