"""Schemathesis against the live schema (/api/schema/), in-process through the WSGI app.

Every operation is run anonymous, with a token, and with a token plus the account password
(account-level operations answer 403 without it), through every check schemathesis registers:
what the CLI's `--checks all` runs. No 5xx; every answer as the schema says (status, content
type, headers, body); data the schema calls valid accepted and data it calls invalid refused;
auth not ignored; undeclared methods refused. The only failures tolerated are in ACCEPTED, each
with its reason and a test of the answer that keeps it from hiding anything else; any other
failure fails the test.

Examples are few per operation (hypothesis derandomized, no example database) so the run stays
near a minute on SQLite; throttling is off (API_THROTTLE) so 429s don't mask the real answers.
`SCHEMATHESIS_EXAMPLES=<n>` / `SCHEMATHESIS_SCENARIOS=<n>` run more; `SCHEMATHESIS_RECORD=<file>`
writes every failure there as a JSON line instead of failing (to review what a change turns up).
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import CHECKS, is_check_class, load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation

from config.wsgi import application
from tests.support.accounts import PASSWORD, make_account
from tests.support.factories import EpisodeFactory, GenreFactory, TitleFactory

# The library's own registry: every check `--checks all` selects. Class-based checks (none is
# built in) hook into the engine's run, which a pytest-driven case never has.
load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not is_check_class(check)]

FUZZ = settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6")),
    deadline=None,
    derandomize=True,
    database=None,  # no .hypothesis/ example store in the checkout
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
RECORD = os.environ.get("SCHEMATHESIS_RECORD")


def _errors(response) -> dict:
    """The `errors` of a 400 in the API's error shape (api.errors), else {}."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if response.status_code != 400 or not isinstance(body, dict):
        return {}
    return body.get("errors") or {}


def _detail(response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _refused_only_for(*fields: str) -> Callable:
    """A 400 whose field errors are all on `fields` (and there is at least one)."""
    return lambda case, response: bool(_errors(response)) and set(_errors(response)) <= set(fields)


@dataclass(frozen=True)
class Accepted:
    reason: str
    # Does this failure's answer match the reason? Anything else under the same operation and
    # check still fails the test.
    applies: Callable


NUL_REFUSED = "Null characters are not allowed."


def _only_nul_refused(case, response) -> bool:
    messages = [message for field in _errors(response).values() for message in field]
    return bool(messages) and all(message == NUL_REFUSED for message in messages)


# (operation, check) -> the failure that is the right answer, and why. "*": any operation.
ACCEPTED: dict[tuple[str, str], Accepted] = {
    ("*", "positive_data_acceptance"): Accepted(
        "A NUL character in a text field is a 400 on that field (DRF's CharField refuses it, for "
        "every field alike: PostgreSQL cannot store it). JSON Schema's `string` allows it, and a "
        "`pattern` on every text field of every body would say little else.",
        _only_nul_refused,
    ),
    ("POST /api/v1/auth/signup/", "positive_data_acceptance"): Accepted(
        "Password strength is Django's validators' to judge (length, the common-password list, "
        "similarity to the username or e-mail, all digits), a username's characters Django's "
        "Unicode username validator's and its uniqueness the database's: a well-formed sign-up "
        "can be a 400 on `password` or `username` that no JSON Schema foresees. Django's email "
        "validator is stricter than JSON Schema's `email` format (`ndcg@10`: a domain needs a "
        "dot): a 400 on `email`.",
        _refused_only_for("password", "username", "email"),
    ),
    ("POST /api/v1/auth/token/", "positive_data_acceptance"): Accepted(
        "Wrong credentials: a well-formed username and password that match no account are a 400 "
        "(the token endpoint takes no auth, so not a 401); the schema cannot know the passwords.",
        lambda case, response: _errors(response) == {"non_field_errors": ["Invalid username or password."]},
    ),
    ("POST /api/v1/account/delete/", "positive_data_acceptance"): Accepted(
        "The account password, checked before anything is erased: a wrong one is a 400; the "
        "schema cannot know the password.",
        lambda case, response: response.status_code == 400 and _detail(response) == "The password is not correct.",
    ),
    ("POST /api/v1/profiles/", "positive_data_acceptance"): Accepted(
        "Profile names are unique within an account, and the fuzzer creates the same names again "
        "in one run: the repeat is a 400 on `name`, which no schema can foresee.",
        lambda case, response: _errors(response) == {"name": ["Another profile of this account has this name."]},
    ),
    ("GET /api/v1/profiles/{pid}/together/", "positive_data_acceptance"): Accepted(
        "`with` has a documented pattern (1 to 4 ids separated by commas), but what makes a group "
        "cannot be said in a schema: the ids must be other profiles of the same account, and the "
        "path's own profile or a repeat does not count, so `?with=<pid>` alone is a 400 on `with`.",
        _refused_only_for("with"),
    ),
    ("POST /api/v1/account/email/", "positive_data_acceptance"): Accepted(
        "Django's email validator is stricter than JSON Schema's `email` format (a domain needs a "
        "dot), and the account's own current address is refused as a change: a 400 on `email`.",
        _refused_only_for("email"),
    ),
    ("POST /api/v1/account/email/confirm/", "positive_data_acceptance"): Accepted(
        "The token is the secret of a link mailed to the new address: one the fuzzer makes up "
        "matches no pending change, a 400 on `token`; the schema cannot know the secrets.",
        _refused_only_for("token"),
    ),
    ("GET /api/v1/titles/", "unsupported_method"): Accepted(
        "An undeclared method (PUT, TRACE...) sent with `?profile=` by a caller that has no such "
        "profile answers 404, not 405: the list resolves the profile in `initial()`, before DRF "
        "looks the method up, and the 404 never says more than a 405 would.",
        lambda case, response: "profile" in (case.query or {}),
    ),
}


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


# Rows that exist, for _anchor: the fuzzer's profile (set per test) and a visible title.
ANCHORS: dict[str, int] = {}
ANCHOR_TITLE = 1  # "Fuzz 1", PG: visible to the fuzzer's profile


@pytest.fixture
def token(db):
    user, profile = make_account("fuzzer")
    ANCHORS.clear()
    ANCHORS["profile"] = profile.pk
    return Token.objects.create(user=user).key


def _anchor(case) -> None:
    """Point about half the valid cases' path ids at rows that exist (when every generated id is
    even: deterministic, as the run is). Random ids almost never name the caller's profile, so
    every /profiles/{pid}/... operation would be checked on its 404 alone; the other half still
    ask for ids that are not there. Cases whose path is the invalid part are left as generated."""
    params = case.path_parameters
    if not ANCHORS or not params or (case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)):
        return
    if not all(isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0 for value in params.values()):
        return
    on_profile = case.operation.path.startswith("/api/v1/profiles/")
    for name in params:
        if name == "pid" or (name == "id" and on_profile):
            params[name] = ANCHORS["profile"]
        elif name == "title_id" or (name == "id" and case.operation.path.startswith("/api/v1/titles/")):
            params[name] = ANCHOR_TITLE


def _record(case, check: str, response, failures: list[Failure]) -> None:
    with open(RECORD, "a") as out:
        for failure in failures:
            line = {
                "op": case.operation.label,
                "check": check,
                "title": failure.title,
                "status": response.status_code,
                "case": repr(case)[:600],
                "body": response.text[:400],
            }
            out.write(json.dumps(line) + "\n")


def check_all(case, response, headers: dict[str, str] | None, recorder=None) -> None:
    """Run every check on the answer, one at a time so each failure is known by its check;
    raise the failures that ACCEPTED does not tolerate. `recorder`: a stateful run's, which
    use_after_free and ensure_resource_availability read (without one they have nothing to
    compare and pass)."""
    transport_kwargs = {"headers": dict(headers)} if headers else {}
    unexpected: list[Failure] = []
    for check in ALL_CHECKS:
        try:
            case.validate_response(
                response, checks=[check], headers=headers, transport_kwargs=transport_kwargs, recorder=recorder
            )
            continue
        except FailureGroup as group:
            failures = list(group.exceptions)
        except Failure as failure:
            failures = [failure]
        if RECORD:
            _record(case, check.__name__, response, failures)
            continue
        candidates = (ACCEPTED.get((case.operation.label, check.__name__)), ACCEPTED.get(("*", check.__name__)))
        if not any(accepted is not None and accepted.applies(case, response) for accepted in candidates):
            unexpected.extend(failures)
    if unexpected:
        raise FailureGroup(unexpected)


def call_and_check(case, headers: dict[str, str] | None = None) -> None:
    _anchor(case)
    check_all(case, case.call(headers=headers), headers)


@schema.parametrize()
@FUZZ
def test_anonymous(case):
    call_and_check(case)


@schema.parametrize()
@FUZZ
def test_with_token(case, token):
    call_and_check(case, {"Authorization": f"Token {token}"})


@schema.parametrize()
@FUZZ
def test_with_token_and_password(case, token):
    # The password in the header (it wins over a generated `password` field): account-level
    # operations (profiles, PINs, restrictions, exports, deletion) reach their real answers.
    call_and_check(case, {"Authorization": f"Token {token}", "X-Marquee-Password": PASSWORD})


class Scenarios(schema.as_state_machine()):
    """Chains of calls along the links schemathesis infers (create a profile, then read, change
    and delete it; list titles, then rate, list, hide them...): the only runs where the checks
    about resources over time (use_after_free, ensure_resource_availability) have something to
    compare."""

    headers: dict[str, str] = {}

    def setup(self):
        # Each scenario starts from the same rows (a savepoint inside the test's transaction):
        # hypothesis replays scenarios and must find what it found the first time.
        self._scenario = transaction.atomic()
        self._scenario.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self._scenario.__exit__(None, None, None)

    def get_call_kwargs(self, case):
        return {"headers": self.headers}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        check_all(case, response, self.headers, recorder=self.recorder)


def test_stateful_scenarios(token):
    Scenarios.headers = {"Authorization": f"Token {token}", "X-Marquee-Password": PASSWORD}
    Scenarios.run(
        settings=settings(
            max_examples=int(os.environ.get("SCHEMATHESIS_SCENARIOS", "8")),
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )


def test_every_check_runs():
    """`--checks all` means all: a schemathesis upgrade that adds a check runs it here too, and
    ACCEPTED names only checks and operations that exist (a stale entry would hide nothing)."""
    names = {check.__name__ for check in ALL_CHECKS}
    assert {"negative_data_rejection", "positive_data_acceptance", "unsupported_method", "ignored_auth"} <= names
    assert {check for _operation, check in ACCEPTED} <= names
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert {operation for operation, _check in ACCEPTED} - {"*"} <= labels
