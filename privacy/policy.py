"""The privacy policy: its versions, the legal basis of each purpose, and what the page shows.

Versions. `settings.PRIVACY_POLICY_VERSION` names the policy in force; every consent event, policy
review and export header stores that string (the contract with the consent log stays as it was).
`VERSIONS` lists every version that was ever in force, oldest first, each with the date it took
effect and its text: a template under templates/privacy/policy_versions/. The newest one is the
current policy and renders with live values (settings, the registry); an earlier one is frozen
text that must not change when settings do (a test renders each with two different contexts and
asks for the same page). To publish a new version:

1. freeze the current file: replace its `{{ ... }}` values by what they render to today, and its
   loops by their output (the archive must say what the policy said);
2. add the new file and a `PolicyVersion` at the end of `VERSIONS`;
3. set `PRIVACY_POLICY_VERSION` to the new version (a test holds it equal to the newest entry).
   Accounts whose choices were reviewed under an older version are then asked to review them.

Purposes. Each consent purpose (privacy.consent) is processed on the basis of consent; the rest of
what the registry holds serves a purpose of its own with another basis (the contract, a legitimate
interest, a legal obligation). Every registered section is assigned to exactly one purpose here,
and a test fails when a section is added without one, so the page cannot drift from the data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from . import exports, registry
from .models import PURPOSE_EXPLANATIONS, Purpose


@dataclass(frozen=True)
class PolicyVersion:
    version: str  # as stored in ConsentEvent.policy_version and PolicyReview.version
    effective: date | None  # the day it took effect
    summary: str  # what changed, for the list of versions
    template: str  # its text (without the page around it)


VERSIONS: tuple[PolicyVersion, ...] = (
    PolicyVersion(
        version="2026-11-01",
        effective=date(2026, 11, 1),
        summary="First published policy: what is collected, consent per purpose, how long it is kept, "
        "exports and account deletion.",
        template="privacy/policy_versions/2026-11-01.html",
    ),
    PolicyVersion(
        version="2026-12-08",
        effective=date(2026, 12, 8),
        summary="Names the controller and a contact, gives the legal basis of each purpose, lists all your "
        "rights and how to use each one here, and how to complain to a supervisory authority. "
        "What is collected and how long it is kept did not change.",
        template="privacy/policy_versions/2026-12-08.html",
    ),
)


def by_version(version: str) -> PolicyVersion | None:
    return next((v for v in VERSIONS if v.version == version), None)


def current() -> PolicyVersion:
    """The version in force (settings.PRIVACY_POLICY_VERSION).

    A setting that names no archived version (a deployment ahead of its text, a test) still
    shows the newest text, under the name the consent log records, with no effective date.
    """
    found = by_version(settings.PRIVACY_POLICY_VERSION)
    if found is not None:
        return found
    return dataclasses.replace(VERSIONS[-1], version=settings.PRIVACY_POLICY_VERSION, effective=None)


def versions() -> list[dict]:
    """Every version, newest first, with the day it stopped being in force and whether it is current."""
    now = current().version
    rows = []
    following: date | None = None
    for v in reversed(VERSIONS):
        rows.append({"version": v, "is_current": v.version == now, "superseded_on": following})
        following = v.effective
    return rows


def superseded_on(version: PolicyVersion) -> date | None:
    return next((r["superseded_on"] for r in versions() if r["version"].version == version.version), None)


# --- legal bases and purposes ----------------------------------------------------------------


@dataclass(frozen=True)
class LegalBasis:
    key: str
    label: str
    article: str
    meaning: str


CONSENT = LegalBasis(
    "consent",
    "Consent",
    "GDPR Art. 6(1)(a)",
    "Only while you have switched it on; you can switch it off at any time, as easily as you switched it on. "
    "Switching off does not make what was done before unlawful.",
)
CONTRACT = LegalBasis(
    "contract",
    "Contract",
    "GDPR Art. 6(1)(b)",
    "Needed to give you the service you signed up for. Without it there is no account.",
)
LEGITIMATE_INTEREST = LegalBasis(
    "legitimate_interest",
    "Legitimate interest",
    "GDPR Art. 6(1)(f)",
    "Our interest, and yours, in keeping accounts safe. You may object; we then weigh your reasons.",
)
LEGAL_OBLIGATION = LegalBasis(
    "legal_obligation",
    "Legal obligation",
    "GDPR Art. 6(1)(c)",
    "The law requires us to answer privacy requests and to be able to show that we did (Art. 5(2), 12-22).",
)


@dataclass(frozen=True)
class OtherPurpose:
    key: str
    label: str
    explanation: str
    basis: LegalBasis


SERVICE = OtherPurpose(
    "service",
    "Your account and the service",
    "Signing you in, changing your email address, your profiles and their limits, and what you do on "
    "purpose: ratings, My List, Not for me, viewing restrictions and the genres you picked when you started.",
    CONTRACT,
)
SECURITY = OtherPurpose(
    "security",
    "Keeping accounts safe",
    "Recent sign-in attempts, to stop password guessing, and the sign-ins and API tokens that can act "
    "for your account, so you can see and end them.",
    LEGITIMATE_INTEREST,
)
PRIVACY_REQUESTS = OtherPurpose(
    "privacy_requests",
    "Answering your privacy requests",
    "Your consent choices and their history, your export and deletion requests, and a log of these "
    "requests that names no content.",
    LEGAL_OBLIGATION,
)
OTHER_PURPOSES = (SERVICE, SECURITY, PRIVACY_REQUESTS)

# Registered section -> the purpose it serves: a consent purpose's value or an OtherPurpose key.
# Sections a purpose's withdrawal erases (registry.register_purpose_eraser) must name that purpose
# (a test checks both this and that every registered section is listed).
SECTION_PURPOSES: dict[str, str] = {
    "account": SERVICE.key,
    "profiles": SERVICE.key,
    "ratings": SERVICE.key,
    "list": SERVICE.key,
    "hidden": SERVICE.key,
    "restrictions": SERVICE.key,
    "onboarding_genres": SERVICE.key,
    "email_changes": SERVICE.key,
    "recommendations": Purpose.PERSONALIZATION.value,
    "taste_summaries": Purpose.PERSONALIZATION.value,
    "viewing": Purpose.VIEWING_HISTORY.value,
    "searches": Purpose.SEARCH_HISTORY.value,
    "search_clicks": Purpose.SEARCH_HISTORY.value,
    "impressions": Purpose.ANALYTICS.value,
    "api_tokens": SECURITY.key,
    "sign_in_attempts": SECURITY.key,
    "sessions": SECURITY.key,
    "devices": SECURITY.key,
    "consents": PRIVACY_REQUESTS.key,
    "consent_history": PRIVACY_REQUESTS.key,
    "export_requests": PRIVACY_REQUESTS.key,
    "deletion_requests": PRIVACY_REQUESTS.key,
    "privacy_audit": PRIVACY_REQUESTS.key,
}


def unassigned_sections() -> list[str]:
    """Registered sections no purpose claims (a test keeps this empty)."""
    return [s.name for s in registry.sections() if s.name not in SECTION_PURPOSES]


def purposes() -> list[dict]:
    """Every purpose with its legal basis and the data (registry sections) it uses.

    Consent purposes come from privacy.models.Purpose, in order; then the others. A section no
    purpose claims is shown under the service (the safe reading: without it there is no service)
    until it is assigned.
    """
    sections_of: dict[str, list[str]] = {}
    for s in registry.sections():
        sections_of.setdefault(SECTION_PURPOSES.get(s.name, SERVICE.key), []).append(s.label)
    rows = [
        {
            "key": p.value,
            "label": p.label,
            "explanation": PURPOSE_EXPLANATIONS[p],
            "basis": CONSENT,
            "consent": True,
            "data": sections_of.get(p.value, []),
        }
        for p in Purpose
    ]
    rows += [
        {
            "key": o.key,
            "label": o.label,
            "explanation": o.explanation,
            "basis": o.basis,
            "consent": False,
            "data": sections_of.get(o.key, []),
        }
        for o in OTHER_PURPOSES
    ]
    return rows


def controller() -> dict:
    return {
        "name": settings.PRIVACY_CONTROLLER_NAME,
        "email": settings.PRIVACY_CONTACT_EMAIL,
        "address": settings.PRIVACY_CONTROLLER_ADDRESS,
        "authority": settings.PRIVACY_SUPERVISORY_AUTHORITY,
        "authority_url": settings.PRIVACY_SUPERVISORY_AUTHORITY_URL,
    }


def retention() -> dict:
    # Read from settings every time: the policy never holds a second copy of the numbers.
    return {
        "search_retention_days": settings.SEARCH_RETENTION_DAYS,
        "viewing_retention_days": settings.VIEWING_RETENTION_DAYS,
        "export_expiry_days": exports.expiry_days(),
        "export_interval_hours": int(exports.min_interval().total_seconds() // 3600),
    }


def live_context() -> dict:
    """What the current version's text reads (an archived version's text reads none of it)."""
    return {"controller": controller(), "purposes": purposes(), **retention()}
