"""Production settings, security headers, open redirects, session rotation, Celery JSON, API docs."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client, override_settings

from tests.support import ROOT
from tests.support.accounts import PASSWORD


def _manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "marquee.example",
    "HTTPS": "true",
    "EMAIL_URL": "smtp://localhost:25",
}


def test_check_deploy_passes_with_production_environment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} is required when DEBUG is false" in result.stderr


def test_development_keeps_its_defaults():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ALLOWED_HOSTS, settings.SECURE_SSL_REDIRECT)",
        DEBUG="true",
        HTTPS="false",
    )
    assert result.returncode == 0, result.stderr
    assert "['127.0.0.1', 'localhost'] False" in result.stdout


def test_production_security_settings():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY, "
        "s.DEBUG)"
    )
    result = _manage("shell", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "True True True 31536000 True ('HTTP_X_FORWARDED_PROTO', 'https') DENY same-origin False"
    )


# --- Headers -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_security_headers_and_csp_without_inline_script(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # The page itself carries no inline script or style attribute.
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_ssl_redirect_and_hsts_behind_the_proxy_header():
    client = Client()
    plain = client.get("/accounts/login/")
    proxied = client.get("/accounts/login/", headers={"x-forwarded-proto": "https"})

    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- Login: open redirects and session rotation ------------------------------------------------

EVIL_NEXT = [
    "//evil.example",
    "http:\\\\evil.example",
    "https://evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:/evil.example",
    "///evil.example",
    " //evil.example",
    "javascript:alert(1)",
]


@pytest.mark.django_db
@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_next_never_leaves_this_host(owner, target):
    response = Client().post("/accounts/login/", {"username": "owner", "password": PASSWORD, "next": target})

    assert response.status_code == 302
    location = response["Location"]
    assert "evil.example" not in location and "javascript" not in location
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location


@pytest.mark.django_db
@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_next_in_query_string_and_for_signed_in_users(owner, target):
    client = Client()
    posted = client.post(f"/accounts/login/?next={target}", {"username": "owner", "password": PASSWORD})
    again = client.get("/accounts/login/", {"next": target})  # redirect_authenticated_user path

    for response in (posted, again):
        assert response.status_code == 302
        assert "evil.example" not in response["Location"]
        assert response["Location"].startswith("/") and not response["Location"].startswith("//")


@pytest.mark.django_db
def test_login_next_within_this_host_is_kept(owner):
    response = Client().post("/accounts/login/", {"username": "owner", "password": PASSWORD, "next": "/browse/"})
    assert response["Location"] == "/browse/"


@pytest.mark.django_db
def test_session_key_rotates_on_login(owner):
    client = Client()
    session = client.session
    session["before-login"] = "x"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    response = client.post("/accounts/login/", {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before
    from django.contrib.sessions.backends.db import SessionStore

    assert not SessionStore().exists(before)


# --- Celery --------------------------------------------------------------------------------------


def test_celery_accepts_json_only():
    from config.celery import app

    assert list(app.conf.accept_content) == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert "pickle" not in (app.conf.result_accept_content or ["json"])


# --- API docs and schema ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_docs_page_is_local_and_inline_free(client):
    page = client.get("/api/docs/")
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)

    assert page.status_code == 200
    assert scripts and all("src=" in attrs for attrs in scripts)
    assert "<style" not in html
    assert not re.search(r"(src|href)=\"https?://", html)  # nothing from a CDN
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    for asset in re.findall(r'(?:src|href)="/static/([^"?]+)', html):
        assert finders.find(asset), asset
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in init.content.decode()


@pytest.mark.django_db
def test_schema_documents_every_operation_with_errors(client):
    schema = client.get("/api/schema/", headers={"accept": "application/json"}).json()
    mine = {
        path: ops
        for path, ops in schema["paths"].items()
        if not path.startswith(("/api/v1/privacy/", "/api/v1/account/")) and not path.endswith("/home/")
    }
    # + viewing/{title_id}, hidden/, hidden/{title_id}; households: pin/, select/, together/,
    # restrictions/, restrictions/{title_id}
    assert len(mine) == 19
    for path, operations in mine.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            success = [code for code in responses if code.startswith("2")]
            assert success, (method, path)
            errors = [code for code in responses if code[0] in "45"]
            assert "429" in errors, (method, path)
            # Operations without credentials (sign-up, token) need no 401; all others document it.
            assert not operation.get("security") or "401" in errors, (method, path)
            for code in errors:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Error"), (method, path, code)
            if method in {"post", "put", "patch"} and "requestBody" in operation:
                assert "application/json" in operation["requestBody"]["content"]
