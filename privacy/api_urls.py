from django.urls import path

from . import apis

urlpatterns = [
    path("privacy/consents/", apis.ConsentsApi.as_view(), name="api-privacy-consents"),
    path("privacy/exports/", apis.ExportCreateApi.as_view(), name="api-privacy-exports"),
    path("privacy/exports/<uuid:pk>/", apis.ExportDetailApi.as_view(), name="api-privacy-export"),
    path("privacy/exports/<uuid:pk>/download/", apis.ExportDownloadApi.as_view(), name="api-privacy-export-download"),
    path("account/delete/", apis.AccountDeleteApi.as_view(), name="api-account-delete"),
]
