from django.urls import path

from . import apis

urlpatterns = [
    path("auth/signup/", apis.SignupApi.as_view(), name="api-signup"),
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("profiles/", apis.ProfileListApi.as_view(), name="api-profiles"),
    path("profiles/<int:pk>/", apis.ProfileDetailApi.as_view(), name="api-profile"),
]
