"""Concurrent writers against the live server (issue 13, requirement 7).

SQLite, the embedded default, used to answer a burst of writes with 500 "database is locked":
a deferred transaction takes its read lock first and the write lock later, and when two of them
both want to upgrade, SQLite fails one at once, whatever the busy timeout. config/settings.py
therefore opens SQLite with WAL, a busy timeout and `transaction_mode: IMMEDIATE` (every
`atomic` block takes the write lock at BEGIN and waits for it). IMMEDIATE is also what keeps
the 5-profile cap and the one-export-a-day rule on SQLite, where `select_for_update()` is a
no-op: the count and the insert sit in one transaction no other writer can interleave with.

Real threads and real HTTP against pytest-django's live server (Django's ThreadedWSGIServer:
a thread per request, each with its own database connection). That needs the test database
to be a FILE: with the in-memory default every server thread would share the test thread's
one connection, and the race would not be a race. config/test_settings.py makes it a file.

The same tests run on PostgreSQL (CI), where row locks do the serializing.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from accounts.models import Profile
from catalog.models import Rating
from privacy.models import ExportRequest
from tests.support.accounts import PASSWORD, make_account
from tests.support.factories import ProfileFactory, TitleFactory

N = 20  # concurrent writers
TIMEOUT = 60  # seconds per request: the busy timeout is 20 s, a request must never hang on it

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_race():
    """A race on one shared connection is no race: refuse to pass vacuously."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail("these tests need a file-based SQLite test database (config/test_settings.py sets one)")


def _burst(live_server, calls: list[tuple[str, str, dict, dict | None]]) -> list[tuple[int, str]]:
    """Send every (method, path, headers, json) call at once, one thread each, all released
    together by a barrier; returns (status, body) in the order of `calls`."""
    barrier = threading.Barrier(len(calls))

    def one(call):
        method, path, headers, body = call
        with requests.Session() as session:
            barrier.wait(timeout=TIMEOUT)
            response = session.request(method, live_server.url + path, headers=headers, json=body, timeout=TIMEOUT)
            return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def _headers(user, *, password: bool = False) -> dict:
    token, _ = Token.objects.get_or_create(user=user)
    headers = {"Authorization": f"Token {token.key}"}
    if password:
        headers["X-Marquee-Password"] = PASSWORD
    return headers


def _no_5xx(results):
    errors = [(code, body[:200]) for code, body in results if code >= 500]
    assert not errors, f"{len(errors)} of {len(results)} answered 5xx: {errors[:3]}"


def _codes(results) -> list[int]:
    return sorted(code for code, _ in results)


def test_sqlite_is_opened_with_wal_and_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite connection options only; PostgreSQL has row locks")
    connection.ensure_connection()
    assert connection.transaction_mode == "IMMEDIATE"
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 20_000


def test_concurrent_patches_of_one_profile_all_succeed(live_server):
    user, profile = make_account("patcher")
    headers = _headers(user, password=True)
    calls = [("PATCH", f"/api/v1/profiles/{profile.pk}/", headers, {"name": f"N{i}"}) for i in range(N)]

    results = _burst(live_server, calls)

    _no_5xx(results)
    assert _codes(results) == [200] * N
    assert Profile.objects.get(pk=profile.pk).name in {f"N{i}" for i in range(N)}


def test_concurrent_profile_creates_keep_the_five_profile_cap(live_server, settings):
    assert settings.MAX_PROFILES_PER_ACCOUNT == 5
    user, _ = make_account("creator")  # one profile: room for four more
    headers = _headers(user, password=True)
    calls = [("POST", "/api/v1/profiles/", headers, {"name": f"P{i}"}) for i in range(N)]

    results = _burst(live_server, calls)

    _no_5xx(results)
    assert _codes(results) == [201] * 4 + [409] * (N - 4)
    assert Profile.objects.filter(account=user).count() == 5


def test_concurrent_export_requests_make_exactly_one(live_server):
    user, _ = make_account("exporter")
    headers = _headers(user)
    calls = [("POST", "/api/v1/privacy/exports/", headers, None) for _ in range(N)]

    results = _burst(live_server, calls)

    _no_5xx(results)
    assert _codes(results) == [202] + [429] * (N - 1)
    assert ExportRequest.objects.filter(account=user).count() == 1


def test_concurrent_ratings_of_one_title_by_one_profile(live_server):
    user, profile = make_account("rater")
    title = TitleFactory()
    headers = _headers(user)
    values = ["up", "love"]
    calls = [
        ("PUT", f"/api/v1/profiles/{profile.pk}/ratings/{title.pk}/", headers, {"value": values[i % 2]})
        for i in range(N)
    ]

    results = _burst(live_server, calls)

    _no_5xx(results)
    assert set(_codes(results)) <= {200, 201}
    assert _codes(results).count(201) == 1  # the first one created it, every other one changed it
    assert list(Rating.objects.filter(profile=profile).values_list("value", flat=True)) in (["up"], ["love"])


def test_concurrent_ratings_from_different_profiles(live_server):
    user, first = make_account("household")
    profiles = [first] + [ProfileFactory(account=user, name=f"R{i}") for i in range(4)]
    title = TitleFactory()
    headers = _headers(user)
    calls = [
        ("PUT", f"/api/v1/profiles/{profiles[i % 5].pk}/ratings/{title.pk}/", headers, {"value": ["up", "love"][i % 2]})
        for i in range(N)
    ]

    results = _burst(live_server, calls)

    _no_5xx(results)
    assert set(_codes(results)) <= {200, 201}
    assert Rating.objects.filter(title=title).count() == 5


def test_a_mixed_burst_of_account_writes(live_server):
    """What the fuzzer did: edits, creates, deletes and exports of one account, all at once."""
    user, first = make_account("mixed")
    doomed = [ProfileFactory(account=user, name=f"D{i}") for i in range(3)]  # 4 profiles now
    title = TitleFactory()
    account = _headers(user, password=True)
    calls = []
    for i in range(N):
        kind = i % 5
        if kind == 0:
            calls.append(("PATCH", f"/api/v1/profiles/{first.pk}/", account, {"name": f"M{i}"}))
        elif kind == 1:
            calls.append(("POST", "/api/v1/profiles/", account, {"name": f"C{i}"}))
        elif kind == 2:
            calls.append(("DELETE", f"/api/v1/profiles/{doomed[i % 3].pk}/", account, None))
        elif kind == 3:
            calls.append(("POST", "/api/v1/privacy/exports/", account, None))
        else:
            calls.append(("PUT", f"/api/v1/profiles/{first.pk}/ratings/{title.pk}/", account, {"value": "up"}))

    results = _burst(live_server, calls)

    _no_5xx(results)
    assert 1 <= Profile.objects.filter(account=user).count() <= 5
    assert ExportRequest.objects.filter(account=user).count() == 1
    # Each doomed profile is deleted once; a repeated DELETE finds nothing (404).
    assert not Profile.objects.filter(pk__in=[p.pk for p in doomed]).exists()


def test_concurrent_deletes_never_remove_the_last_profile(live_server):
    user, first = make_account("deleter")
    second = ProfileFactory(account=user, name="Second")
    headers = _headers(user, password=True)
    calls = [("DELETE", f"/api/v1/profiles/{(first, second)[i % 2].pk}/", headers, None) for i in range(N)]

    results = _burst(live_server, calls)

    _no_5xx(results)
    assert set(_codes(results)) <= {204, 404, 409}
    assert Profile.objects.filter(account=user).count() == 1
