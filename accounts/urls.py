from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    # Django's LoginView: AuthenticationForm passes `request` to authenticate() (axes needs it),
    # the session key rotates on login, and `next` is honoured only for this host.
    # LoginView also opens sudo mode (common.sudo): the password was just typed.
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/password/change/", views.password_change, name="password_change"),
    path("accounts/confirm/", views.sudo, name="sudo"),
    path("account/", views.account_settings, name="account-settings"),
    path("account/email/confirm/<str:token>/", views.email_change_confirm, name="email-change-confirm"),
    path("account/devices/", views.account_devices, name="account-devices"),
    path("account/devices/sign-out-all/", views.account_devices_sign_out_all, name="account-devices-sign-out-all"),
    path("account/devices/<int:pk>/sign-out/", views.account_device_sign_out, name="account-device-sign-out"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("profiles/", views.profile_picker, name="profile-picker"),
    path("profiles/new/", views.profile_create, name="profile-create"),
    path("profiles/exit-kids/", views.exit_kids, name="exit-kids"),
    path("profiles/<int:pk>/pin/", views.profile_pin, name="profile-pin"),
    path("profiles/<int:pk>/select/", views.profile_select, name="profile-select"),
    path("profiles/<int:pk>/edit/", views.profile_edit, name="profile-edit"),
    path("profiles/<int:pk>/delete/", views.profile_delete, name="profile-delete"),
    path("profiles/<int:pk>/avatar.svg", views.profile_avatar, name="profile-avatar"),
]
