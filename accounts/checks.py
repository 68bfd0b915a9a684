"""Deployment checks of the accounts' promises (`manage.py check --deploy`).

- A password reset or a deletion receipt that only prints to a console is a promise silently
  broken. Settings refuse to start without EMAIL_URL when DEBUG is false; this catches an
  EMAIL_URL that still points at a backend that sends nothing.
- Sign-up and password-reset limits count in the cache: a per-process cache multiplies them by
  the number of workers. Settings choose Redis or the database cache; this catches an override.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register

NON_DELIVERING_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security, deploy=True)
def email_backend_delivers(app_configs, **kwargs):
    if settings.DEBUG or settings.EMAIL_BACKEND not in NON_DELIVERING_BACKENDS:
        return []
    return [
        Warning(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}, which delivers no mail: password resets and "
            "deletion receipts would never reach anyone.",
            hint="Set EMAIL_URL to your SMTP server, e.g. smtp://user:password@mail.example:587.",
            id="accounts.W001",
        )
    ]


@register(Tags.security, deploy=True)
def throttle_cache_is_shared(app_configs, **kwargs):
    backend = settings.CACHES.get("default", {}).get("BACKEND")
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"The default cache is {backend}: every worker process counts the sign-up, password-reset "
            "and API limits on its own.",
            hint="Set REDIS_URL, or leave CACHES to the settings (the database cache without Redis).",
            id="accounts.W002",
        )
    ]
