import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.test import Client
from django.urls import reverse

from privacy import consent
from recommendations import artwork
from recommendations.artwork_models import ArtworkStat
from tests.support.accounts import make_account, signed_in_client, PASSWORD
from tests.support.factories import GenreFactory, TitleFactory, PersonFactory, CreditFactory
from accounts.models import Device

pytestmark = pytest.mark.django_db


def test_poison_bandit():
    g = GenreFactory(name="Western")
    titles = [TitleFactory(genres=[g]) for _ in range(40)]
    user, profile = make_account("attacker")
    consent.consents_set(account_id=user.pk, choices={"analytics": True, "personalization": True}, method="settings")
    c = signed_in_client(user, profile)
    ArtworkStat.objects.bulk_create([ArtworkStat(title=titles[0], context="any", variant=v, impressions=300, takes=15) for v in ("genre","setting","cast")])
    ArtworkStat.objects.filter(variant="cast").update(takes=30)
    pol0 = artwork.bounded(artwork.thompson_probabilities(artwork.context_counts("any"), seed="any"))
    print("before", pol0)
    for t in titles:
        assert c.get(f"/title/{t.slug}/?row=trending&art=setting").status_code == 200
    print("counts", artwork.all_counts())
    victim_user, victim = make_account("victim")
    consent.consents_set(account_id=victim_user.pk, choices={"analytics": True}, method="settings")
    pol = artwork.policy_for(type(victim).objects.select_related("account").get(pk=victim.pk), token=artwork.page_token() + 1)
    print("victim", pol.context, pol.probabilities)
    print("direct", artwork.bounded(artwork.thompson_probabilities(artwork.context_counts("any"), seed="any")))


def _person_with(n):
    p = PersonFactory()
    for i in range(n):
        t = TitleFactory(genres=[GenreFactory()])
        CreditFactory(title=t, person=p, order=i)
    return p


def test_person_queries():
    user, profile = make_account("o")
    c = signed_in_client(user, profile)
    a, b = _person_with(2), _person_with(15)
    c.get(f"/people/{a.slug}/")
    for p in (a, b):
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(f"/people/{p.slug}/")
        print(p.slug, r.status_code, len(ctx.captured_queries))


def test_search_queries():
    user, profile = make_account("o")
    c = signed_in_client(user, profile)
    for n in (2, 8):
        for i in range(n):
            p = PersonFactory(name=f"Zed{n} Person{i}")
            CreditFactory(title=TitleFactory(genres=[GenreFactory()]), person=p)
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(f"/search/?q=Zed{n}")
        print(n, r.status_code, len(ctx.captured_queries), r.content.decode().count("/people/"))


def test_api_delete_own_session():
    user, profile = make_account("o")
    c = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="curl/8")
    assert c.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    dev = Device.objects.get(account=user, kind="session")
    r = c.delete(f"/api/v1/account/devices/{dev.pk}/", HTTP_X_MARQUEE_PASSWORD=PASSWORD)
    print("api delete own", r.status_code, r.content[:200])
    print("signed in after?", c.get(reverse("profile-picker")).status_code)


@pytest.mark.parametrize("path", [
    "/title/x/poster/%00.svg", "/people/%E2%82%AC/", "/title/zz/preview/?row=because-99999999999999999999999",
    "/search/?q=%00abc", "/account/email/confirm/%00/",
])
def test_bad_input(path):
    user, profile = make_account("o")
    c = signed_in_client(user, profile)
    TitleFactory(slug="zz")
    r = c.get(path)
    print(path, r.status_code)
    assert r.status_code < 500


@pytest.mark.parametrize("n", [4, 30])
def test_home_queries(n):
    from catalog.models import ViewingActivity
    from django.utils import timezone
    g = GenreFactory(name="Drama")
    ts = [TitleFactory(genres=[g]) for _ in range(n)]
    user, profile = make_account("o")
    consent.consents_set(account_id=user.pk, choices={"analytics": True, "personalization": True, "viewing_history": True}, method="settings")
    others = [make_account(f"x{i}") for i in range(3)]
    for u, p in others:
        for t in ts:
            ViewingActivity.objects.create(profile=p, title=t, position_seconds=10, duration_seconds=100, started_at=timezone.now(), last_watched_at=timezone.now())
    for t in ts[:n // 2]:
        ViewingActivity.objects.create(profile=profile, title=t, position_seconds=10, duration_seconds=100, started_at=timezone.now(), last_watched_at=timezone.now())
    c = signed_in_client(user, profile)
    c.get("/")
    with CaptureQueriesContext(connection) as ctx:
        r = c.get("/")
    html = r.content.decode()
    print("home", n, r.status_code, len(ctx.captured_queries), html.count("data-title-id"), "data-hero" in html, 'data-row="top-10"' in html)


def test_takeover_after_password_change(django_capture_on_commit_callbacks):
    import re as _re
    from django.core import mail
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient
    from accounts.models import User
    user, profile = make_account("victim2")
    token, _ = Token.objects.get_or_create(user=user)
    attacker = APIClient()
    attacker.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_X_MARQUEE_PASSWORD=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        r = attacker.post("/api/v1/account/email/", {"email": "evil@example.net", "password": PASSWORD}, format="json")
    print("request", r.status_code)
    link = [m for m in mail.outbox if "evil@example.net" in m.to][0].body
    tok = _re.search(r"/account/email/confirm/([^/\s]+)/", link).group(1)
    victim = signed_in_client(user, profile)
    r = victim.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": "N3w-pass-word-xyz!", "new_password2": "N3w-pass-word-xyz!"})
    print("pw change", r.status_code)
    r = attacker.post("/api/v1/account/email/confirm/", {"token": tok}, format="json")
    print("confirm after pw change", r.status_code, r.content[:100], User.objects.get(pk=user.pk).email)


def test_sign_out_all_decodes_everyone(monkeypatch):
    from importlib import import_module
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from accounts import services
    Store = import_module(settings.SESSION_ENGINE).SessionStore
    for i in range(200):
        s = Store(); s["cart"] = i; s.save()   # anonymous sessions (no device row ever)
    _, other_p = make_account("bystander")
    calls = {"n": 0}
    orig = Session.get_decoded
    def counting(self):
        calls["n"] += 1
        return orig(self)
    monkeypatch.setattr(Session, "get_decoded", counting)
    user, profile = make_account("o")
    services.devices_sign_out_everywhere(account=user, keep_session_key=None)
    print("decoded", calls["n"], "sessions total", Session.objects.count())
