"""The consent gates. Imports nothing of the other apps, so every app may ask it.

Consent is per purpose and off until given: no ConsentState row means "not granted".
"""

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction

from .models import PURPOSE_EXPLANATIONS, ConsentEvent, ConsentMethod, ConsentState, Purpose

# Other apps name purposes through this module (it is the one part of privacy they import).
__all__ = [
    "PURPOSES",
    "PURPOSE_EXPLANATIONS",
    "Purpose",
    "accounts_allowing",
    "allows",
    "allows_for",
    "consents_set",
    "current",
    "grant_all_bulk",
]

PURPOSES = [p.value for p in Purpose]


def allows(account_id: int, purpose: str) -> bool:
    """Whether the account has granted this purpose. The single question every gate asks."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown consent purpose {purpose!r}")
    return ConsentState.objects.filter(account_id=account_id, purpose=purpose, granted=True).exists()


_MEMO_ATTR = "_marquee_consents"


def allows_for(account, purpose: str) -> bool:
    """`allows`, memoized on the account object: one query answers every purpose.

    For a request's own user (request.user, profile.account), which lives for one request; a
    long-lived object would keep a stale answer, so use `allows` there.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown consent purpose {purpose!r}")
    memo = getattr(account, _MEMO_ATTR, None)
    if memo is None:
        memo = current(account.pk)
        setattr(account, _MEMO_ATTR, memo)
    return memo[purpose]


def accounts_allowing(purpose: str):
    """A queryset of account ids that granted `purpose` (for training sets and aggregates)."""
    return ConsentState.objects.filter(purpose=purpose, granted=True).values("account_id")


def current(account_id: int) -> dict[str, bool]:
    states = dict(ConsentState.objects.filter(account_id=account_id).values_list("purpose", "granted"))
    return {p: bool(states.get(p, False)) for p in PURPOSES}


@transaction.atomic
def consents_set(*, account_id: int, choices: Mapping[str, bool], method: str) -> dict[str, bool]:
    """Record the choices given; only real changes are logged. Returns the current state."""
    if method not in ConsentMethod.values:
        raise ValueError(f"unknown consent method {method!r}")
    before = current(account_id)
    for purpose, granted in choices.items():
        if purpose not in PURPOSES:
            raise ValueError(f"unknown consent purpose {purpose!r}")
        granted = bool(granted)
        first_time = not ConsentEvent.objects.filter(account_id=account_id, purpose=purpose).exists()
        if before[purpose] == granted and not first_time:
            continue
        ConsentState.objects.update_or_create(account_id=account_id, purpose=purpose, defaults={"granted": granted})
        ConsentEvent.objects.create(
            account_id=account_id,
            purpose=purpose,
            granted=granted,
            policy_version=settings.PRIVACY_POLICY_VERSION,
            method=method,
        )
    return current(account_id)


def grant_all_bulk(*, account_ids: Iterable[int], method: str) -> None:
    """Record every purpose as granted for many accounts at once (dataset import, demo seed)."""
    account_ids = list(account_ids)
    version = settings.PRIVACY_POLICY_VERSION
    ConsentState.objects.bulk_create(
        [ConsentState(account_id=a, purpose=p, granted=True) for a in account_ids for p in PURPOSES],
        batch_size=2000,
        ignore_conflicts=True,
    )
    ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(account_id=a, purpose=p, granted=True, policy_version=version, method=method)
            for a in account_ids
            for p in PURPOSES
        ],
        batch_size=2000,
    )
