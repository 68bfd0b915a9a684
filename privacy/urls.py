from django.urls import path

from config.placeholders import todo

urlpatterns = [
    path("", todo, name="privacy-settings"),
    path("policy/", todo, name="privacy-policy"),
]
