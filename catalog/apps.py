from django.apps import AppConfig


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self):
        # Declare this app's personal data to the privacy registry (privacy never imports us).
        from . import personal_data

        personal_data.register()
