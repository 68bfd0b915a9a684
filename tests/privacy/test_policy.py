"""The privacy policy (issue 15 req 7): controller and contact from settings, the legal basis of
each purpose (derived from the consent purposes and the registry), retention, the rights and how
to use each here, complaints; every version archived with the day it took effect; toggle labels
that read as what they do."""

import re
from datetime import date

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse

from privacy import consent, registry
from privacy import policy as policies
from privacy.models import ConsentEvent

RIGHTS = ("access", "portability", "rectification", "erasure", "restriction", "objection", "withdraw")


def _html(client, name="privacy-policy", *args) -> str:
    resp = client.get(reverse(name, args=args))
    assert resp.status_code == 200
    return resp.content.decode()


def _row(html: str, key: str) -> str:
    match = re.search(rf'<tr data-purpose="{key}"[^>]*>.*?</tr>', html, re.S)
    assert match, f"no purpose row {key}"
    return match.group(0)


@pytest.mark.django_db
def test_policy_names_the_controller_contact_and_authority_from_settings(client):
    with override_settings(
        PRIVACY_CONTROLLER_NAME="Example Streaming GmbH",
        PRIVACY_CONTACT_EMAIL="dpo@example.org",
        PRIVACY_CONTROLLER_ADDRESS="Hauptstrasse 1, 10115 Berlin",
        PRIVACY_SUPERVISORY_AUTHORITY="the Berlin Commissioner for Data Protection",
        PRIVACY_SUPERVISORY_AUTHORITY_URL="https://www.datenschutz-berlin.de/",
    ):
        html = _html(client)
    assert "Example Streaming GmbH" in html and "Hauptstrasse 1, 10115 Berlin" in html
    assert 'href="mailto:dpo@example.org"' in html
    assert "the Berlin Commissioner for Data Protection" in html and 'href="https://www.datenschutz-berlin.de/"' in html

    # The address is optional: without one, no dangling separator.
    with override_settings(PRIVACY_CONTROLLER_ADDRESS=""):
        html = _html(client)
    controller = re.search(r"<p data-controller>.*?</p>", html, re.S).group(0)
    assert f"<strong>{settings.PRIVACY_CONTROLLER_NAME}</strong>." in controller


@pytest.mark.django_db
def test_every_purpose_has_its_legal_basis(client):
    html = _html(client)
    for purpose in consent.PURPOSES:
        row = _row(html, purpose)
        assert 'data-basis="consent"' in row and "Art. 6(1)(a)" in row
    assert 'data-basis="contract"' in _row(html, "service")
    assert 'data-basis="legitimate_interest"' in _row(html, "security")
    assert 'data-basis="legal_obligation"' in _row(html, "privacy_requests")
    # What each consent purpose uses comes from the registry: withdrawing search history erases searches.
    assert registry.section("searches").label in _row(html, "search_history")
    assert registry.section("viewing").label in _row(html, "viewing_history")


@pytest.mark.django_db
def test_every_registered_section_is_assigned_to_one_purpose_and_agrees_with_the_erasers(client):
    # A section added without a purpose fails here (and the page would show it under the service).
    assert policies.unassigned_sections() == []
    known = set(consent.PURPOSES) | {o.key for o in policies.OTHER_PURPOSES}
    assert set(policies.SECTION_PURPOSES.values()) <= known
    for purpose, erasers in registry._registry.purpose_erasers.items():
        for name, _erase, _count in erasers:
            assert policies.SECTION_PURPOSES[name] == purpose, name
    html = _html(client)
    for s in registry.sections():
        assert s.label.replace("“", "&ldquo;") in html or s.label in html, s.name


@pytest.mark.django_db
def test_rights_and_how_to_exercise_each_here(client):
    html = _html(client)
    rights = re.search(r'<dl class="policy-rights">.*?</dl>', html, re.S).group(0)
    for right in RIGHTS:
        assert f'data-right="{right}"' in rights, right
    for name in ("privacy-data", "privacy-delete", "privacy-settings", "account-settings"):
        assert f'href="{reverse(name)}"' in rights, name
    assert "data-supervisory-authority" in html
    # Retention is still read from settings (tests/privacy/test_privacy_consent.py checks the numbers).
    assert f"{settings.SEARCH_RETENTION_DAYS} days" in html


@pytest.mark.django_db
def test_current_version_is_the_setting_and_the_newest_archived_one():
    assert policies.VERSIONS[-1].version == settings.PRIVACY_POLICY_VERSION
    assert policies.current() == policies.VERSIONS[-1]
    effective = [v.effective for v in policies.VERSIONS]
    assert effective == sorted(effective) and len(set(effective)) == len(effective)
    assert len({v.version for v in policies.VERSIONS}) == len(policies.VERSIONS)
    assert policies.by_version("2026-11-01").effective == date(2026, 11, 1)


@pytest.mark.django_db
def test_versions_page_lists_every_version_with_its_date_and_marks_the_current(client, django_assert_max_num_queries):
    # Anonymous: no session row, no banner query.
    with django_assert_max_num_queries(2):
        html = _html(client, "privacy-policy-versions")
    rows = re.findall(r"<tr data-policy-version=\"([^\"]+)\"([^>]*)>(.*?)</tr>", html, re.S)
    assert [r[0] for r in rows] == [v.version for v in reversed(policies.VERSIONS)]
    for version, attrs, body in rows:
        v = policies.by_version(version)
        assert f'datetime="{v.effective:%Y-%m-%d}"' in body
        assert reverse("privacy-policy-version", args=[version]) in body
        assert ("data-current" in attrs) == (version == settings.PRIVACY_POLICY_VERSION)
    # The older one says until when it was in force: the day its successor took effect.
    older = {r[0]: r[2] for r in rows}["2026-11-01"]
    assert f'datetime="{policies.by_version("2026-12-08").effective:%Y-%m-%d}"' in older


@pytest.mark.django_db
def test_each_version_has_its_page_and_an_unknown_one_is_a_404(client):
    archived = _html(client, "privacy-policy-version", "2026-11-01")
    assert "data-policy-archived" in archived and 'data-policy="2026-11-01"' in archived
    assert "data-policy-current" not in archived
    assert 'datetime="2026-11-01"' in archived and 'datetime="2026-12-08"' in archived  # from, until
    assert "90 days" in archived and "Who is responsible" not in archived  # what it said then
    assert f'href="{reverse("privacy-policy")}"' in archived

    current = _html(client, "privacy-policy-version", settings.PRIVACY_POLICY_VERSION)
    assert "data-policy-current" in current and "data-policy-archived" not in current
    assert "This is the current version." in _html(client)

    for unknown in ("2026-11-02", "latest", "..", "2026-11-01x"):
        assert client.get(reverse("privacy-policy-version", args=[unknown])).status_code == 404, unknown
    assert client.get("/privacy/policy/versions/%2e%2e%2fsettings/").status_code == 404


def test_archived_versions_are_frozen_text():
    # An archived version must say what it said: its text reads no live value, so two different
    # contexts render it the same (the current one reads settings and the registry).
    weird = {
        "controller": {"name": "ZZZ", "email": "zzz@zzz"},
        "purposes": [{"key": "zzz", "label": "ZZZ"}],
        "search_retention_days": 9999,
        "viewing_retention_days": 9999,
        "export_expiry_days": 9999,
        "export_interval_hours": 9999,
    }
    for v in policies.VERSIONS:
        if v.version == settings.PRIVACY_POLICY_VERSION:
            continue
        assert render_to_string(v.template, {}) == render_to_string(v.template, weird), v.version


@pytest.mark.django_db
def test_consent_records_keep_storing_the_version_and_it_has_a_page(owner, owner_client):
    user, _ = owner
    versions = set(ConsentEvent.objects.filter(account=user).values_list("policy_version", flat=True))
    assert versions == {settings.PRIVACY_POLICY_VERSION}
    html = _html(owner_client, "privacy-data")
    # The consent history links each choice to the text it was made under.
    assert f'href="{reverse("privacy-policy-version", args=[settings.PRIVACY_POLICY_VERSION])}"' in html
    assert owner_client.get(reverse("privacy-policy-version", args=[versions.pop()])).status_code == 200


@pytest.mark.django_db
def test_policy_page_queries(client, owner_client, django_assert_max_num_queries):
    # Anonymous: none (no session yet). Signed in: session, user, profile (middleware) and the
    # review banner's one query.
    with django_assert_max_num_queries(1):
        _html(client)
    with django_assert_max_num_queries(6):
        _html(owner_client)


@pytest.mark.django_db
def test_toggle_labels_read_as_what_they_do(owner, owner_client):
    user, _ = owner
    consent.consents_set(account_id=user.pk, choices={"analytics": False}, method="settings")
    html = _html(owner_client, "privacy-settings")
    assert "allow " not in html.lower().replace("allowed", "")
    for purpose in consent.PURPOSES:
        fieldset = re.search(rf'<fieldset class="consent-toggle" data-purpose="{purpose}">.*?</fieldset>', html, re.S)
        label = re.search(r'<span class="switch-label" data-toggle-label>(.*?)</span>', fieldset.group(0), re.S)
        # "<Purpose>: on|off": both states are in the page; CSS shows the one matching the box.
        text = re.sub(r"<[^>]+>", "|", label.group(1))
        assert text.startswith(f"{consent.Purpose(purpose).label}: ") and "|on|" in text and "|off|" in text
        checked = re.search(rf'id="consent-{purpose}"[^>]*checked', fieldset.group(0)) is not None
        assert checked == (purpose != "analytics")
