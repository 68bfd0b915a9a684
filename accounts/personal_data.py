"""What the accounts app holds about a person, registered with the privacy registry.

Called from AccountsConfig.ready(). Credentials (password hash, token keys) are never
exported; sign-in attempts (django-axes) are security data keyed by username, exported
to their owner and purged after a short retention.
"""

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from rest_framework.authtoken.models import Token

from accounts.models import Device, EmailChange, Profile, ProfileToken, User
from accounts.services import EMAIL_CHANGE_LINK_HOURS, devices_purge, email_changes_purge
from privacy import registry

# Security data: long enough to enforce the login lockout, short enough not to become a log.
SECURITY_LOG_RETENTION = timedelta(hours=settings.SECURITY_LOG_RETENTION_HOURS)


def _account_export(account) -> dict:
    return {
        "id": account.pk,
        "username": account.username,
        "email": account.email,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "date_joined": account.date_joined.isoformat(),
        "last_login": account.last_login.isoformat() if account.last_login else None,
    }


def _account_erase(account) -> int:
    deleted, _ = User.objects.filter(pk=account.pk).delete()
    return 1 if deleted else 0


def _profiles_export(account) -> list[dict]:
    return [
        {
            "id": p.pk,
            "name": p.name,
            "is_kids": p.is_kids,
            "maturity_limit": p.maturity_limit,
            "avatar_color": p.avatar_color,
            # Whether a PIN locks it; the PIN (even hashed) is a credential and never exported.
            "locked_with_pin": p.has_pin,
            "created_at": p.created_at.isoformat(),
            "onboarded_at": p.onboarded_at.isoformat() if p.onboarded_at else None,
        }
        for p in Profile.objects.filter(account=account).order_by("created_at", "id")
    ]


def _profiles_erase(account) -> int:
    # Raw queryset delete: the "at least one profile" rule guards people, not erasure.
    return Profile.objects.filter(account=account).delete()[1].get("accounts.Profile", 0)


def _profiles_count(account) -> int:
    return Profile.objects.filter(account=account).count()


def _tokens_export(account) -> list[dict]:
    # The key itself is a credential: only that a token exists, since when, and for which profile.
    account_tokens = [{"created": t.created.isoformat(), "profile": None} for t in Token.objects.filter(user=account)]
    profile_tokens = [
        {"created": t.created_at.isoformat(), "profile": t.profile.name}
        for t in ProfileToken.objects.filter(profile__account=account).select_related("profile")
    ]
    return account_tokens + profile_tokens


def _tokens_erase(account) -> int:
    removed = ProfileToken.objects.filter(profile__account=account).delete()[0]
    return removed + Token.objects.filter(user=account).delete()[0]


def _devices_export(account) -> list[dict]:
    # What the "Sessions and devices" page shows; never the session key or the token.
    return [
        {
            "kind": d.kind,
            "created_at": d.created_at.isoformat(),
            "last_seen_at": d.last_seen_at.isoformat(),
            "network": d.network,
            "user_agent": d.user_agent,
            "profile": d.profile_token.profile.name if d.profile_token_id else None,
        }
        for d in Device.objects.filter(account=account).select_related("profile_token__profile").order_by("id")
    ]


def _devices_erase(account) -> int:
    return Device.objects.filter(account=account).delete()[0]


def _devices_count(account) -> int:
    return Device.objects.filter(account=account).count()


def _email_changes_export(account) -> list[dict]:
    # The link's secret is stored only as a hash, and the hash is a credential too: not exported.
    return [
        {
            "new_email": c.new_email,
            "requested_at": c.created_at.isoformat(),
            "expires_at": c.expires_at.isoformat(),
            "confirmed_at": c.used_at.isoformat() if c.used_at else None,
        }
        for c in EmailChange.objects.filter(account=account).order_by("created_at", "id")
    ]


def _email_changes_erase(account) -> int:
    return EmailChange.objects.filter(account=account).delete()[0]


# What django-axes keeps about sign-in attempts, by username.
AXES_MODELS = (AccessAttempt, AccessLog, AccessFailureLog)


def _sign_ins_export(account) -> list[dict]:
    rows = []
    for model in AXES_MODELS:
        for a in model.objects.filter(username=account.username).order_by("attempt_time"):
            rows.append(
                {
                    "kind": model._meta.model_name,
                    "attempt_time": a.attempt_time.isoformat(),
                    "ip_address": a.ip_address,
                    "user_agent": a.user_agent,
                }
            )
    return rows


def _sign_ins_erase(account) -> int:
    return sum(m.objects.filter(username=account.username).delete()[0] for m in AXES_MODELS)


def _sign_ins_count(account) -> int:
    return sum(m.objects.filter(username=account.username).count() for m in AXES_MODELS)


def _sign_ins_purge(now) -> int:
    cutoff = now - SECURITY_LOG_RETENTION
    return sum(m.objects.filter(attempt_time__lt=cutoff).delete()[0] for m in AXES_MODELS)


def register() -> None:
    registry.register_section(
        registry.Section(
            name="account",
            label="Account",
            description="Your sign-in name, email address and when you joined. The password is stored only "
            "as a one-way hash and is never exported.",
            models=("accounts.User",),
            export=_account_export,
            erase=_account_erase,
            export_order=0,
            erase_order=1000,  # last: everything else hangs off it
        )
    )
    registry.register_section(
        registry.Section(
            name="profiles",
            label="Profiles",
            description="The viewers in your account: name, kids setting, maturity limit.",
            models=("accounts.Profile",),
            export=_profiles_export,
            erase=_profiles_erase,
            count=_profiles_count,
            export_order=10,
            erase_order=900,
        )
    )
    registry.register_section(
        registry.Section(
            name="api_tokens",
            label="API tokens",
            description="When an API token was created for your account or one of its profiles (the token "
            "itself is a secret and is not exported).",
            models=("authtoken.Token", "authtoken.TokenProxy", "accounts.ProfileToken"),
            export=_tokens_export,
            erase=_tokens_erase,
            export_order=90,
            erase_order=0,
        )
    )
    registry.register_section(
        registry.Section(
            name="devices",
            label="Sessions and devices",
            description="Each browser signed in to your account and each API token: when it was created and "
            "last used, the network it was last used from (shortened, e.g. 203.0.113.0/24) and its browser and "
            "system. Deleted when it signs out, or once the session has expired.",
            models=("accounts.Device",),
            export=_devices_export,
            erase=_devices_erase,
            count=_devices_count,
            export_order=92,
            erase_order=5,
        )
    )
    registry.register_section(
        registry.Section(
            name="email_changes",
            label="Email address changes",
            description="A change of email address you asked for and whether you confirmed it, kept until its "
            f"link expires ({EMAIL_CHANGE_LINK_HOURS} hours).",
            models=("accounts.EmailChange",),
            export=_email_changes_export,
            erase=_email_changes_erase,
            export_order=93,
            erase_order=6,
        )
    )
    registry.register_retention("email_changes", email_changes_purge)
    registry.register_retention("devices", devices_purge)
    registry.register_section(
        registry.Section(
            name="sign_in_attempts",
            label="Sign-in security records",
            description="Recent sign-in attempts under your username, kept to block password guessing and "
            f"deleted after {int(SECURITY_LOG_RETENTION.total_seconds() // 3600)} hours.",
            models=("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"),
            export=_sign_ins_export,
            erase=_sign_ins_erase,
            count=_sign_ins_count,
            export_order=95,
            erase_order=10,
        )
    )
    registry.declare_not_personal(
        "admin.LogEntry",
        "Staff audit trail of admin-site edits; it relates to staff accounts only, never to subscribers, "
        "and is deleted with the staff account (CASCADE).",
    )
    registry.register_retention("sign_in_attempts", _sign_ins_purge)
