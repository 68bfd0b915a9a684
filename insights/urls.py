from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.refresh, name="refresh"),
    path("status/", views.status, name="status"),
    path("greenlight/", views.greenlight, name="greenlight"),
    path("preview/", views.preview, name="preview"),
    path("titles/", views.titles, name="titles"),
    path("titles/<int:pk>/", views.title_performance, name="title"),
    path("<slug:key>.csv", views.section_csv, name="section-csv"),
]
