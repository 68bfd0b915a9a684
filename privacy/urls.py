from django.urls import path

from . import views

urlpatterns = [
    path("", views.privacy_settings, name="privacy-settings"),
    path("policy/", views.policy, name="privacy-policy"),
    path("policy/review/", views.policy_review, name="privacy-policy-review"),
    path("policy/versions/", views.policy_versions, name="privacy-policy-versions"),
    path("policy/versions/<str:version>/", views.policy_version, name="privacy-policy-version"),
    path("withdrawn/", views.withdrawn, name="privacy-withdrawn"),
    path("data/", views.data_dashboard, name="privacy-data"),
    path("exports/", views.export_create, name="privacy-export-create"),
    path("exports/<uuid:pk>/", views.export_status, name="privacy-export-status"),
    path("exports/<uuid:pk>/download/", views.export_download, name="privacy-export-download"),
    path("delete/", views.account_delete, name="privacy-delete"),
    path("deleted/", views.account_deleted, name="privacy-deleted"),
]
