"""The personal-data registry covers every model; minimization of fields, IPs and logs."""

import logging

import pytest
from django.apps import apps
from django.conf import settings
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch, reverse

from accounts.models import Profile, User
from catalog import services as catalog_services
from privacy import registry
from privacy.ip import client_ip_truncated, truncate_ip
from tests.support import ROOT
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import TitleFactory


def _relates_to_person(model) -> list[str]:
    hits = []
    for f in model._meta.get_fields():
        if not f.is_relation or (f.auto_created and not f.concrete):
            continue  # reverse relations belong to the other side
        if f.related_model in (User, Profile):
            hits.append(f.name)
    return hits


def test_every_model_relating_to_a_person_is_registered_or_declared():
    registered = registry.registered_models()
    declared = registry.not_personal_models()
    missing = []
    for model in apps.get_models():
        label = model._meta.label
        personal = model in (User, Profile) or _relates_to_person(model)
        if personal and label not in registered and label not in declared:
            missing.append(label)
    assert missing == [], f"register these in <app>/personal_data.py or declare them not personal: {missing}"


def test_registry_introspection_would_catch_an_unregistered_model():
    from catalog.models import Rating

    assert _relates_to_person(Rating) == ["profile"]
    assert "catalog.Rating" in registry.registered_models()
    assert _relates_to_person(apps.get_model("catalog", "Title")) == []


def test_every_registered_model_exists_and_declarations_have_reasons():
    labels = {m._meta.label for m in apps.get_models()}
    assert registry.registered_models() <= labels
    assert all(len(reason) > 20 for reason in registry.not_personal_models().values())


def test_no_birth_date_gender_address_or_phone():
    forbidden = ("birth", "dob", "gender", "sex", "address", "street", "city", "postal", "zip", "phone", "mobile")
    for model in (User, Profile):
        for f in model._meta.get_fields():
            name = f.name.lower()
            if name == "email":
                continue
            assert not any(word in name for word in forbidden), f"{model.__name__}.{f.name}"


def test_no_model_of_ours_stores_an_ip_address():
    from django.db.models import GenericIPAddressField

    ours = [a for a in apps.get_app_configs() if a.name in ("accounts", "catalog", "recommendations", "privacy")]
    for app in ours:
        for model in app.get_models():
            for f in model._meta.fields:
                assert not isinstance(f, GenericIPAddressField), model._meta.label
                assert "ip" not in f.name.lower().split("_"), model._meta.label


def test_ip_addresses_are_truncated_before_axes_sees_them():
    assert truncate_ip("203.0.113.77") == "203.0.113.0"
    assert truncate_ip("2001:db8:1234:5678::1") == "2001:db8:1234::"
    assert truncate_ip("garbage") is None and truncate_ip(None) is None
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.23")
    assert client_ip_truncated(request) == "198.51.100.0"


@pytest.mark.django_db
def test_axes_stores_only_truncated_ips_when_wired():
    """With AXES_CLIENT_IP_CALLABLE set (asked of the settings owner), failed logins keep a /24."""
    from axes.handlers.proxy import AxesProxyHandler
    from axes.models import AccessAttempt

    with override_settings(AXES_CLIENT_IP_CALLABLE="privacy.ip.client_ip_truncated", AXES_ENABLED=True):
        request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="192.0.2.99")
        request.axes_attempt_time = None
        AxesProxyHandler.update_request(request)
        AxesProxyHandler.user_login_failed(sender=None, credentials={"username": "someone"}, request=request)
    ips = list(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert ips == ["192.0.2.0"]


@pytest.mark.django_db
def test_axes_records_are_purged_after_the_security_retention():
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    old = AccessAttempt.objects.create(
        username="x",
        ip_address="192.0.2.0",
        user_agent="",
        failures_since_start=1,
        get_data="",
        post_data="",
        http_accept="",
        path_info="",
    )
    AccessAttempt.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(hours=25))
    AccessAttempt.objects.create(
        username="y",
        ip_address="192.0.2.0",
        user_agent="",
        failures_since_start=1,
        get_data="",
        post_data="",
        http_accept="",
        path_info="",
    )
    purged = registry.retention_purge(timezone.now())
    assert purged["sign_in_attempts"] == 1
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["y"]


@pytest.mark.django_db
def test_logs_never_contain_search_terms_or_titles(caplog):
    """Capture every logger at DEBUG during searches and playback heartbeats (services and, where
    built, the views): neither the term nor the title name may appear."""
    user, profile = make_account("watcher")
    title = TitleFactory(name="Zebulon Quokka Mystery", slug="zebulon-quokka-mystery")
    term = "xylophonic-nightjar"
    client = signed_in_client(user, profile)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        catalog_services.search_record(profile=profile, query=term, result_count=0)
        for pos in (10, 20, 30):
            catalog_services.viewing_record(
                profile=profile, title=title, episode=None, position_seconds=pos, duration_seconds=600
            )
        try:
            client.get(reverse("search"), {"q": term})
            client.get(reverse("search-suggest"), {"q": term})
            client.post(
                reverse("watch-heartbeat", args=[title.slug]), {"position_seconds": 40, "duration_seconds": 600}
            )
            client.get(reverse("watch", args=[title.slug]))
        except NoReverseMatch:
            pass
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert term not in text
    assert "Zebulon" not in text and "zebulon-quokka-mystery" not in text
    assert profile.searches.count() >= 1  # the search itself was recorded: the test did exercise it


def test_dependency_contracts_hold_for_every_app():
    """The import-linter contracts of pyproject.toml (layers accounts <- catalog <- recommendations
    <- insights; privacy imports no other app; api and common below every app; no app imports
    config), checked here as well as in `make lint`."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


def test_retention_settings_exist():
    assert settings.SEARCH_RETENTION_DAYS == 90 and settings.VIEWING_RETENTION_DAYS == 730
    assert settings.EXPORT_EXPIRY_DAYS == 7
    beat = {v["task"] for v in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"privacy.tasks.retention_purge", "privacy.tasks.exports_expire"} <= beat
