"""Writes for accounts and profiles. Keyword-only, atomic; views and APIs stay thin."""

import logging
import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from rest_framework.authtoken.models import Token

from privacy import consent

from . import selectors
from .maturity import ADULT_DEFAULT_LEVEL, KIDS_DEFAULT_LEVEL, KIDS_MAX_LEVEL
from .models import AVATAR_COLORS, Device, DeviceKind, EmailChange, Profile, ProfileToken, User

log = logging.getLogger(__name__)


class ProfileLimitReached(ValidationError):
    pass


class PinLockedOut(Exception):
    """Too many wrong PINs: this profile cannot be selected by PIN until `until`."""

    def __init__(self, until: datetime):
        super().__init__(f"Too many wrong PINs. Try again after {until:%H:%M} UTC.")
        self.until = until

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.until - timezone.now()).total_seconds()) + 1)


# ASCII digits only: str.isdigit() also accepts "²" and "①".
_PIN_PATTERN = re.compile(r"[0-9]{4}")
PIN_FORMAT_ERROR = "A PIN is exactly 4 digits (0-9)."


def is_pin_shaped(value) -> bool:
    return isinstance(value, str) and _PIN_PATTERN.fullmatch(value) is not None


@transaction.atomic
def user_create(*, username: str, email: str, password: str | None, first_profile_name: str | None = None) -> User:
    """Create an account with its first profile (every account has at least one)."""
    user = User(username=username, email=email)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    profile_create(account=user, name=first_profile_name or username[:40])
    return user


# Usernames that dataset imports and the demo generator own (`ml-<userId>`, `sub-0001`): a
# person signing up with one could otherwise receive an import's ratings.
RESERVED_USERNAME_PREFIXES = ("ml-", "sub-")


@transaction.atomic
def account_signup(*, username: str, email: str, password: str, consents: dict[str, bool], method: str) -> User:
    """Sign-up, from the form or the API: the account, its first profile and a recorded choice
    for every consent purpose (unticked ones as refusals). All of it or none of it."""
    if username.lower().startswith(RESERVED_USERNAME_PREFIXES):
        raise ValidationError({"username": "Usernames starting with ml- or sub- are reserved."})
    user = user_create(username=username, email=email, password=password)
    choices = {purpose: bool(consents.get(purpose, False)) for purpose in consent.PURPOSES}
    consent.consents_set(account_id=user.pk, choices=choices, method=method)
    return user


@transaction.atomic
def profile_create(*, account: User, name: str, is_kids: bool = False, maturity_limit: int | None = None) -> Profile:
    # Lock the account row so two concurrent requests cannot both create the sixth profile.
    User.objects.select_for_update().filter(pk=account.pk).first()
    count = Profile.objects.filter(account=account).count()
    if count >= settings.MAX_PROFILES_PER_ACCOUNT:
        raise ProfileLimitReached(f"An account can have at most {settings.MAX_PROFILES_PER_ACCOUNT} profiles.")
    if maturity_limit is None:
        maturity_limit = KIDS_DEFAULT_LEVEL if is_kids else ADULT_DEFAULT_LEVEL
    if is_kids:
        maturity_limit = min(maturity_limit, KIDS_MAX_LEVEL)
    profile = Profile(
        account=account,
        name=name.strip(),
        is_kids=is_kids,
        maturity_limit=maturity_limit,
        avatar_color=AVATAR_COLORS[count % len(AVATAR_COLORS)],
    )
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def profile_update(
    *, profile: Profile, name: str | None = None, is_kids: bool | None = None, maturity_limit: int | None = None
) -> Profile:
    if name is not None:
        profile.name = name.strip()
    if is_kids is not None:
        profile.is_kids = is_kids
    if maturity_limit is not None:
        profile.maturity_limit = maturity_limit
    if profile.is_kids and profile.maturity_limit > KIDS_MAX_LEVEL:
        # Ticking "Kids profile" lowers the limit to the family maximum rather than failing.
        profile.maturity_limit = KIDS_MAX_LEVEL
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def profile_delete(*, profile: Profile) -> None:
    # Lock the account row (as profile_create does) so that two concurrent deletes cannot both
    # see two profiles and leave the account with none.
    User.objects.select_for_update().filter(pk=profile.account_id).first()
    if Profile.objects.filter(account_id=profile.account_id).count() <= 1:
        raise ValidationError("An account needs at least one profile.")
    profile.delete()


def profile_engagement_touch(*, profile_ids) -> int:
    """Move the engagement stamp of these profiles (ids, or a values() subquery): whatever taste
    was derived from their signals (the recommender's cached taste and vector) is stale now.

    The one way to say "this profile's signals changed": every write of a signal calls it.
    """
    return Profile.objects.filter(pk__in=profile_ids).update(engagement_stamp=F("engagement_stamp") + 1)


# --- Profile lock (PIN) ----------------------------------------------------------------------


@transaction.atomic
def profile_pin_set(*, profile: Profile, pin: str) -> None:
    """Set or change the profile's PIN (hashed with the password hashers; never kept in clear).
    The caller has checked the account password."""
    if not is_pin_shaped(pin):
        raise ValidationError({"pin": PIN_FORMAT_ERROR})
    profile.set_pin(pin)
    profile.pin_failures = 0
    profile.pin_locked_until = None
    profile.save(update_fields=["pin_hash", "pin_failures", "pin_locked_until"])
    # A device that held the profile before it was locked (or with the old PIN) must ask again.
    ProfileToken.objects.filter(profile=profile).delete()


@transaction.atomic
def profile_pin_remove(*, profile: Profile) -> None:
    profile.set_pin(None)
    profile.pin_failures = 0
    profile.pin_locked_until = None
    profile.save(update_fields=["pin_hash", "pin_failures", "pin_locked_until"])


@sensitive_variables("pin")
def profile_pin_verify(*, profile: Profile, pin: str) -> bool:
    """Check a PIN for selecting the profile, counting wrong ones.

    After PROFILE_PIN_FAILURE_LIMIT wrong PINs in a row selection is locked for
    PROFILE_PIN_LOCKOUT_SECONDS (raises PinLockedOut, even for the right PIN, until then).
    The row is locked while counting, so parallel guesses cannot slip past the limit.
    Commits on a wrong PIN too (the count must survive the refusal).
    """
    with transaction.atomic():
        row = Profile.objects.select_for_update().get(pk=profile.pk)
        now = timezone.now()
        if row.pin_locked_until is not None and row.pin_locked_until > now:
            raise PinLockedOut(row.pin_locked_until)
        if is_pin_shaped(pin) and row.pin_matches(pin):
            if row.pin_failures or row.pin_locked_until:
                Profile.objects.filter(pk=row.pk).update(pin_failures=0, pin_locked_until=None)
            return True
        failures = row.pin_failures + 1
        locked_until = None
        if failures >= settings.PROFILE_PIN_FAILURE_LIMIT:
            failures = 0
            locked_until = now + timedelta(seconds=settings.PROFILE_PIN_LOCKOUT_SECONDS)
        Profile.objects.filter(pk=row.pk).update(pin_failures=failures, pin_locked_until=locked_until)
    if locked_until is not None:
        raise PinLockedOut(locked_until)
    return False


def profile_token_for(*, profile: Profile) -> ProfileToken:
    """The API token bound to this profile (created on first use)."""
    token = ProfileToken.objects.filter(profile=profile).first()
    return token or ProfileToken.objects.create(profile=profile)


# --- Email address change ---------------------------------------------------------------------

EMAIL_CHANGE_MAIL_THREAD = "email-change-mail"
# How long the confirmation link sent to the new address works.
EMAIL_CHANGE_LINK_HOURS = getattr(settings, "EMAIL_CHANGE_LINK_HOURS", 24)


# Raised by email_change_confirm (defined with the check, in selectors).
EmailChangeInvalid = selectors.EmailChangeInvalid
EmailChangeNotYours = selectors.EmailChangeNotYours


def _send_quietly(messages: list[EmailMessage]) -> None:
    for message in messages:
        try:
            message.send()
        except Exception:
            # The change is recorded; the person can ask again. The operator gets the log.
            log.exception("Failed to send an email-change message")


def _send_after_commit(messages: list[EmailMessage]) -> None:
    """After the commit (a rolled-back request sends nothing); with EMAIL_SEND_IN_BACKGROUND
    (the default when DEBUG is false) from a daemon thread, as the password reset does, so the
    SMTP round trip is not in the response time. A worker killed mid-send loses that email;
    the person can ask again."""

    def send():
        if settings.EMAIL_SEND_IN_BACKGROUND:
            threading.Thread(target=_send_quietly, args=(messages,), name=EMAIL_CHANGE_MAIL_THREAD, daemon=True).start()
        else:
            _send_quietly(messages)

    transaction.on_commit(send)


def _mail(template: str, context: dict, to: str) -> EmailMessage:
    subject = "".join(render_to_string(f"accounts/email/{template}_subject.txt", context).splitlines())
    return EmailMessage(subject, render_to_string(f"accounts/email/{template}.txt", context), to=[to])


@sensitive_variables("token")
def email_change_request(*, account: User, new_email: str, link: Callable[[str], str], help_url: str) -> EmailChange:
    """Ask to change the account's address to `new_email`: a single-use link (valid
    EMAIL_CHANGE_LINK_HOURS) goes to the new address, a notice to the old one; nothing changes
    until the link is opened by the signed-in owner (email_change_confirm). A new request
    replaces a pending one.

    An address that belongs to another account gets a note saying so instead of the link. The
    requester sees the same answer either way: sign-up does not tell whether an address is in
    use, so changing the address must not either. `link(token)` builds the absolute URL.
    """
    new_email = User.objects.normalize_email(new_email.strip())
    if new_email.lower() == (account.email or "").lower():
        raise ValidationError({"email": "That is already the address of this account."})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=account.pk).first()
        EmailChange.objects.filter(account=account, used_at__isnull=True).delete()
        change = EmailChange(
            account=account,
            new_email=new_email,
            token_hash=selectors.email_change_token_hash(token),
            account_fingerprint=account.get_session_auth_hash(),
            expires_at=now + timedelta(hours=EMAIL_CHANGE_LINK_HOURS),
        )
        change.full_clean(exclude=["account"])
        change.save()
        context = {
            "username": account.username,
            "new_email": new_email,
            "old_email": account.email,
            "hours": EMAIL_CHANGE_LINK_HOURS,
            "help_url": help_url,
        }
        if selectors.email_taken(email=new_email, except_account_id=account.pk):
            messages = [_mail("email_change_taken", context, new_email)]
        else:
            messages = [_mail("email_change_confirm", {**context, "link": link(token)}, new_email)]
        if account.email:
            messages.append(_mail("email_change_notice", context, account.email))
        _send_after_commit(messages)
    return change


def email_change_cancel(*, account: User) -> int:
    return EmailChange.objects.filter(account=account, used_at__isnull=True).delete()[0]


@sensitive_variables("token")
def email_change_confirm(*, account: User, token: str, help_url: str) -> EmailChange:
    """Apply the change the link names, for its own account only. Raises EmailChangeNotYours
    (another account's link) or EmailChangeInvalid; either way nothing changes."""
    with transaction.atomic():
        change = selectors.email_change_check(
            account=account, token=token, queryset=EmailChange.objects.select_for_update()
        )
        old_email = account.email
        account.email = change.new_email
        account.full_clean(exclude=["password"])
        account.save(update_fields=["email"])
        change.used_at = timezone.now()
        change.save(update_fields=["used_at"])
        if old_email:
            message = _mail(
                "email_changed",
                {"username": account.username, "new_email": change.new_email, "help_url": help_url},
                old_email,
            )
            _send_after_commit([message])
    return change


def email_changes_purge(now) -> int:
    """Retention: a link that can no longer be used has nothing left to do."""
    return EmailChange.objects.filter(expires_at__lt=now).delete()[0]


# --- Sessions and devices -----------------------------------------------------------------------


def device_session_seen(*, account: User, session_key: str, network: str, user_agent: str) -> bool:
    """Record that this signed-in session was just seen (accounts.devices throttles the calls).
    False when the session is gone (signed out from another device meanwhile)."""
    now = timezone.now()
    facts = {"last_seen_at": now, "network": network, "user_agent": user_agent}
    try:
        with transaction.atomic():
            if not Device.objects.filter(session_id=session_key, account=account).update(**facts):
                Device.objects.create(
                    account=account, kind=DeviceKind.SESSION, session_id=session_key, created_at=now, **facts
                )
    except IntegrityError:
        return False  # the session row is gone, or a parallel request recorded it first
    return True


def device_token_seen(*, token, device: Device | None, network: str, user_agent: str) -> None:
    """Record an API token's use (or its issue). Blank facts keep what was recorded."""
    now = timezone.now()
    facts = {"last_seen_at": now, **{k: v for k, v in {"network": network, "user_agent": user_agent}.items() if v}}
    if device is not None:
        Device.objects.filter(pk=device.pk).update(**facts)
        return
    if isinstance(token, ProfileToken):
        lookup = {"profile_token": token}
        account_id, kind, created = token.profile.account_id, DeviceKind.PROFILE_TOKEN, token.created_at
    else:
        lookup = {"token": token}
        account_id, kind, created = token.user_id, DeviceKind.TOKEN, token.created
    try:
        with transaction.atomic():
            if not Device.objects.filter(**lookup).update(**facts):
                Device.objects.create(**lookup, account_id=account_id, kind=kind, created_at=created, **facts)
    except IntegrityError:
        pass  # a parallel request recorded it first


def devices_purge(now) -> int:
    """Retention: the rows of sessions that have expired (they sign nobody in any more)."""
    return Device.objects.filter(kind=DeviceKind.SESSION, session__expire_date__lt=now).delete()[0]


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore()


def device_sign_out(*, device: Device) -> None:
    """Sign this device out: its session leaves the session store (through the engine, so a
    cached_db cache forgets it too) or its token is deleted; the row goes with it."""
    if device.kind == DeviceKind.SESSION and device.session_id:
        _session_store().delete(device.session_id)
    elif device.kind == DeviceKind.TOKEN and device.token_id:
        Token.objects.filter(pk=device.token_id).delete()
    elif device.profile_token_id:
        ProfileToken.objects.filter(pk=device.profile_token_id).delete()
    Device.objects.filter(pk=device.pk).delete()


def sessions_end_others(*, account: User, keep_session_key: str | None) -> int:
    """Delete the account's other recorded sessions (after a password change they no longer
    sign anybody in, but would stay listed until their next request)."""
    devices = Device.objects.filter(account=account, kind=DeviceKind.SESSION)
    if keep_session_key:
        devices = devices.exclude(session_id=keep_session_key)
    store = _session_store()
    removed = 0
    for key in list(devices.values_list("session_id", flat=True)):
        store.delete(key)
        removed += 1
    return removed


def devices_sign_out_everywhere(*, account: User, keep_session_key: str | None) -> int:
    """Sign out every other browser of the account and revoke every API token (account and
    profile-bound); the session `keep_session_key` (the one asking) stays. Returns how many."""
    devices = Device.objects.filter(account=account)
    if keep_session_key:
        devices = devices.exclude(session_id=keep_session_key)
    removed = 0
    for device in list(devices):
        device_sign_out(device=device)
        removed += 1
    # Sessions no Device row knows (signed in before devices were recorded, and idle since):
    # moving the epoch voids their auth hash, so each ends at its next request; nobody's session
    # data is read. The caller keeps the asking session with update_session_auth_hash.
    User.objects.filter(pk=account.pk).update(session_epoch=F("session_epoch") + 1)
    account.refresh_from_db(fields=["session_epoch"])
    # A pending email change asked for by whoever is being signed out goes too.
    EmailChange.objects.filter(account=account, used_at__isnull=True).delete()
    removed += Token.objects.filter(user=account).delete()[0]
    removed += ProfileToken.objects.filter(profile__account=account).delete()[1].get("accounts.ProfileToken", 0)
    return removed
