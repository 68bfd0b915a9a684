from django.urls import path

from config.placeholders import todo

urlpatterns = [
    path("accounts/login/", todo, name="login"),
    path("accounts/logout/", todo, name="logout"),
    path("accounts/signup/", todo, name="signup"),
    path("accounts/password/change/", todo, name="password_change"),
    path("accounts/password/reset/", todo, name="password_reset"),
    path("profiles/", todo, name="profile-picker"),
    path("profiles/new/", todo, name="profile-create"),
    path("profiles/<int:pk>/select/", todo, name="profile-select"),
    path("profiles/<int:pk>/edit/", todo, name="profile-edit"),
    path("profiles/<int:pk>/delete/", todo, name="profile-delete"),
    path("profiles/<int:pk>/avatar.svg", todo, name="profile-avatar"),
]
