from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("personalize/", views.personalize, name="personalize"),
    path("why/<slug:key>/", views.why, name="recommendation-why"),
    path("together/", views.together_page, name="together"),
]
