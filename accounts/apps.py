from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # Declare this app's personal data to the privacy registry (privacy never imports us).
        from . import personal_data

        personal_data.register()
        # Sessions and devices: a row per sign-in and per token (accounts.devices).
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save
        from rest_framework.authtoken.models import Token

        from . import devices
        from .models import ProfileToken

        user_logged_in.connect(devices.on_user_logged_in, dispatch_uid="accounts-device-login")
        post_save.connect(devices.on_token_created, sender=Token, dispatch_uid="accounts-device-token")
        post_save.connect(devices.on_token_created, sender=ProfileToken, dispatch_uid="accounts-device-ptoken")
        # Registers the deploy check on the mail backend (manage.py check --deploy).
        from . import checks  # noqa: F401
