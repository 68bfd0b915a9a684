from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"

    def ready(self):
        # Declare the impressions (personal data) to the privacy registry; privacy never imports us.
        from . import personal_data

        personal_data.register()
