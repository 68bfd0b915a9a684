from django.urls import path

from . import apis

urlpatterns = [
    path("auth/signup/", apis.SignupApi.as_view(), name="api-signup"),
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("profiles/", apis.ProfileListApi.as_view(), name="api-profiles"),
    path("profiles/<int:pk>/", apis.ProfileDetailApi.as_view(), name="api-profile"),
    path("profiles/<int:pid>/pin/", apis.ProfilePinApi.as_view(), name="api-profile-pin"),
    path("profiles/<int:pid>/select/", apis.ProfileSelectApi.as_view(), name="api-profile-select"),
    path("account/email/", apis.EmailChangeApi.as_view(), name="api-account-email"),
    path("account/email/confirm/", apis.EmailChangeConfirmApi.as_view(), name="api-account-email-confirm"),
    path("account/devices/", apis.DeviceListApi.as_view(), name="api-account-devices"),
    path("account/devices/sign-out-all/", apis.DeviceSignOutAllApi.as_view(), name="api-account-devices-sign-out-all"),
    path("account/devices/<int:pk>/", apis.DeviceDetailApi.as_view(), name="api-account-device"),
]
