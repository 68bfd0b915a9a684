"""Schemathesis against the live schema (/api/schema/), in-process through the WSGI app.

Every operation, anonymous and with a token, must never answer 5xx and must answer what the
schema says (status documented, body matching). Examples are few per operation so the run stays
well under two minutes; throttling is off (API_THROTTLE) so 429s don't mask the real answers.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.support.accounts import make_account
from tests.support.factories import EpisodeFactory, GenreFactory, TitleFactory

CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,  # no .hypothesis/ example store in the checkout
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# Loaded at collection (pytest-django has set Django up by then; the schema needs no database).
# Not `schemathesis.pytest.from_fixture`: its lazy loader breaks on pytest 9 (Function._nodeid is gone).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Calling the raw WSGI app fires request_started/finished, which would close the test's
    database connection mid-transaction (Django's own test client unhooks this the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def catalog(db, settings):
    settings.API_THROTTLE = False
    # A little catalog, so list and detail answers carry real bodies to check.
    drama = GenreFactory(name="Drama", slug="drama")
    for n, rating in enumerate(["PG", "PG-13", "R", "G", "NR"], start=1):
        TitleFactory(pk=n, name=f"Fuzz {n}", maturity_rating=rating, genres=[drama])
    EpisodeFactory(season__title__name="Fuzz Series", season__title__maturity_rating="TV-G")


@pytest.fixture
def token(db):
    user, _profile = make_account("fuzzer")
    return Token.objects.create(user=user).key


@schema.parametrize()
@FUZZ
def test_anonymous(case):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_with_token(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
