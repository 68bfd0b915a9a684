from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"

    def ready(self):
        # Declare the impressions (personal data) to the privacy registry; privacy never imports us.
        from . import personal_data

        personal_data.register()

        from catalog import signals

        from . import receivers

        signals.rows_shown.connect(receivers.on_rows_shown, dispatch_uid="insights-impressions")
        signals.title_opened_from_row.connect(receivers.on_title_opened_from_row, dispatch_uid="insights-clicks")
        signals.demo_seeded.connect(receivers.on_demo_seeded, dispatch_uid="insights-demo")
