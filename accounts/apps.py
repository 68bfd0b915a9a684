from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # Declare this app's personal data to the privacy registry (privacy never imports us).
        from . import personal_data

        personal_data.register()
        # Registers the deploy check on the mail backend (manage.py check --deploy).
        from . import checks  # noqa: F401
