"""Issue 13, requirement 1 ("no 500 from any input") and 8 ("GET does not write what a link can
forge"): one test per input that used to answer 500, and the `?row=` click vocabulary.

Each probe asserts the 4xx and that the answer says why (a reason in the body), because a bare
400 leaves the person (or the client developer) guessing what to change.
"""

import io
import json

import pytest
from django.test import Client
from rest_framework.exceptions import ParseError

from api.parsers import MAX_DEPTH, JSONParser, RequestTooLarge
from common.ids import MAX_ID, parse_id
from insights.models import Click
from tests.support.accounts import PASSWORD
from tests.support.api import token_client
from tests.support.factories import EpisodeFactory, TitleFactory

SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() says no
CIRCLED_ONE = "①"
HUGE = "99999999999999999999"  # past int64: OverflowError in SQLite, DataError in PostgreSQL


# --- The one id parser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", 1),
        ("42", 42),
        (" 7 ", None),  # callers strip when they mean to; the parser does not guess
        ("0", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("", None),
        (None, None),
        (SUPERSCRIPT_TWO, None),
        (CIRCLED_ONE, None),
        ("١٢", None),  # Arabic-Indic digits: int() accepts them, ids are ASCII
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (HUGE, None),
        ("9" * 5000, None),  # no int() of a 5000-digit string (Python limits those anyway)
    ],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


def test_parse_id_out_of_range_only_for_numbers():
    assert parse_id(HUGE, out_of_range=0) == 0
    assert parse_id("0", out_of_range=0) == 0
    assert parse_id("9" * 5000, out_of_range=0) == 0
    assert parse_id(SUPERSCRIPT_TWO, out_of_range=0) is None
    assert parse_id("-1", out_of_range=0) is None
    assert parse_id("12", out_of_range=0) == 12


def test_parse_id_accepts_ints():
    assert parse_id(5) == 5
    assert parse_id(0) is None
    assert parse_id(True) is None  # a bool is an int to Python, not an id
    assert parse_id(MAX_ID + 1) is None


# --- HTML pages and forms ---------------------------------------------------------------------


@pytest.fixture
def series(db):
    return EpisodeFactory(season__title__name="Probe Series", season__title__maturity_rating="TV-G").title


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, CIRCLED_ONE, "١٢"])
def test_watch_episode_param_is_400_with_reason(owner_client, series, value):
    resp = owner_client.get(f"/watch/{series.slug}/", {"episode": value})
    assert resp.status_code == 400
    assert b"episode" in resp.content


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, CIRCLED_ONE, "١٢"])
def test_heartbeat_episode_is_400_with_reason(owner_client, series, value):
    resp = owner_client.post(
        f"/watch/{series.slug}/heartbeat/",
        {"position_seconds": "10", "duration_seconds": "100", "episode": value},
    )
    assert resp.status_code == 400
    assert "episode" in resp.json()["detail"]


def test_episode_number_past_64_bits_is_no_such_episode(owner_client, series):
    # A number, just not one any episode has: 404, as for an unknown episode id.
    assert owner_client.get(f"/watch/{series.slug}/", {"episode": HUGE}).status_code == 404
    beat = {"position_seconds": "10", "duration_seconds": "100", "episode": HUGE}
    assert owner_client.post(f"/watch/{series.slug}/heartbeat/", beat).status_code == 404


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, CIRCLED_ONE, HUGE])
def test_onboarding_bad_title_id_is_400_with_reason(owner_client, value):
    resp = owner_client.post("/onboarding/", {"titles": [value]})
    assert resp.status_code == 400
    assert b"not a title" in resp.content


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE])
def test_account_activity_bad_profile_is_4xx(owner_client, value):
    assert owner_client.get("/account/activity/", {"profile": value}).status_code == 404


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, "home", "javascript:alert(1)", "//evil.example/"])
def test_button_next_that_is_no_path_falls_back_to_the_title(owner_client, value):
    # redirect() would take a bare word for a view name to reverse (NoReverseMatch: a 500).
    title = TitleFactory(maturity_rating="PG")
    resp = owner_client.post(f"/title/{title.slug}/rate/", {"value": "up", "next": value})
    assert resp.status_code == 302
    assert resp["Location"] == title.get_absolute_url()


# --- Staff pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, CIRCLED_ONE, HUGE])
def test_staff_preview_bad_id_is_400(staff_client, value):
    resp = staff_client.get("/admin/insights/preview/", {"id": value})
    assert resp.status_code == 400
    assert b"Invalid profile id" in resp.content


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, CIRCLED_ONE, HUGE])
def test_staff_preview_profile_search_is_400(staff_client, value):
    resp = staff_client.get("/admin/insights/preview/", {"profile": value})
    assert resp.status_code == 400
    assert b"profile id" in resp.content


def test_staff_preview_profile_search_by_id_still_works(staff_client, owner):
    _user, profile = owner
    resp = staff_client.get("/admin/insights/preview/", {"profile": str(profile.pk)})
    assert resp.status_code == 200
    assert profile in resp.context["matches"]


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, CIRCLED_ONE, HUGE])
def test_staff_titles_search_is_400(staff_client, value):
    resp = staff_client.get("/admin/insights/titles/", {"q": value})
    assert resp.status_code == 400
    assert b"title id" in resp.content


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE])
def test_staff_greenlight_bad_cluster_is_400(staff_client, value):
    assert staff_client.get("/admin/insights/greenlight/", {"cluster": value}).status_code == 400


# --- API: query parameters ----------------------------------------------------------------------


@pytest.fixture
def api(owner):
    user, _profile = owner
    return token_client(user, password=PASSWORD)


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, CIRCLED_ONE, HUGE])
def test_api_titles_profile_param_is_400(api, value):
    title = TitleFactory(maturity_rating="PG")
    for path in ("/api/v1/titles/", f"/api/v1/titles/{title.pk}/"):
        resp = api.get(path, {"profile": value})
        assert resp.status_code == 400, path
        assert resp.json()["detail"]


def test_api_huge_path_id_is_404(api):
    resp = api.get(f"/api/v1/titles/{HUGE}/")
    assert resp.status_code == 404
    assert resp.json()["detail"]


# --- API: bodies that break the JSON parser -----------------------------------------------------


def _put_raw(client, method: str, path: str, body: str | bytes):
    return getattr(client, method)(path, data=body, content_type="application/json")


def _api_paths(owner, title) -> dict[str, tuple[str, str]]:
    _user, profile = owner
    return {
        "profiles": ("post", "/api/v1/profiles/"),
        "ratings": ("put", f"/api/v1/profiles/{profile.pk}/ratings/{title.pk}/"),
        "consents": ("put", "/api/v1/privacy/consents/"),
    }


@pytest.mark.parametrize("which", ["profiles", "consents", "ratings"])
def test_deeply_nested_json_is_400(api, owner, which):
    method, path = _api_paths(owner, TitleFactory(maturity_rating="PG"))[which]
    resp = _put_raw(api, method, path, "[" * 100_000 + "]" * 100_000)
    assert resp.status_code == 400
    assert "nested" in resp.json()["detail"]


def test_moderately_nested_json_is_refused_too(api, owner):
    # Under the interpreter's recursion limit but still far past anything the API accepts.
    resp = _put_raw(api, "put", "/api/v1/privacy/consents/", '{"a":' * 500 + "1" + "}" * 500)
    assert resp.status_code == 400
    assert "nested" in resp.json()["detail"]


@pytest.mark.parametrize("which", ["profiles", "consents", "ratings"])
def test_ten_megabyte_json_is_413_json(api, owner, which):
    method, path = _api_paths(owner, TitleFactory(maturity_rating="PG"))[which]
    body = json.dumps({"name": "x" * (10 * 1024 * 1024)})
    resp = _put_raw(api, method, path, body)
    assert resp.status_code == 413
    assert resp["Content-Type"].startswith("application/json")
    assert "large" in resp.json()["detail"]


def test_rating_lone_surrogate_is_400(api, owner):
    _user, profile = owner
    title = TitleFactory(maturity_rating="PG")
    resp = _put_raw(api, "put", f"/api/v1/profiles/{profile.pk}/ratings/{title.pk}/", '{"value": "\\ud800"}')
    assert resp.status_code == 400
    assert "surrogate" in resp.json()["detail"]


def test_consents_lone_surrogate_key_is_400(api):
    resp = _put_raw(api, "put", "/api/v1/privacy/consents/", '{"\\ud800": true}')
    assert resp.status_code == 400
    assert "surrogate" in resp.json()["detail"]


def test_paired_surrogates_are_fine(api):
    # An escaped emoji is a surrogate *pair*: valid JSON text that decodes to one character.
    resp = _put_raw(api, "post", "/api/v1/profiles/", '{"name": "Kid \\ud83d\\ude00"}')
    assert resp.status_code < 500
    assert resp.status_code != 400 or "surrogate" not in resp.json()["detail"]


def test_raw_invalid_utf8_is_400(api):
    resp = _put_raw(api, "put", "/api/v1/privacy/consents/", b'{"analytics": "\xff"}')
    assert resp.status_code == 400


def test_large_html_form_post_is_4xx_not_500(owner_client):
    # Outside /api/ a body past DATA_UPLOAD_MAX_MEMORY_SIZE is Django's own 400 page.
    body = "titles=" + "1" * (10 * 1024 * 1024)
    resp = owner_client.post("/onboarding/", data=body, content_type="application/x-www-form-urlencoded")
    assert 400 <= resp.status_code < 500


# --- The parser on its own: what a real server hands it (the unread request stream) ----------


def test_parser_reads_no_more_than_the_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    class Stream(io.BytesIO):
        def read(self, size=-1):
            assert 0 < size <= 1001, "the parser must not read an unbounded body"
            return super().read(size)

    with pytest.raises(RequestTooLarge):
        JSONParser().parse(Stream(b'{"a": "' + b"x" * 5000 + b'"}'))
    assert JSONParser().parse(Stream(b'{"a": [1, {"b": "\\ud83d\\ude00"}]}')) == {"a": [1, {"b": "\U0001f600"}]}


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested"),
        (b'{"a":' * 2000 + b"1" + b"}" * 2000, "nested"),
        (b'["ok", {"k": ["\\udfff"]}]', "surrogate"),
        (b'{"\\ud800x": 1}', "surrogate"),
        (b"NaN", "JSON parse error"),
        (b"\xff\xfe", "JSON parse error"),
    ],
)
def test_parser_refusals(body, reason):
    with pytest.raises(ParseError, match=reason):
        JSONParser().parse(io.BytesIO(body))


def test_parser_accepts_the_deepest_allowed():
    body = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert JSONParser().parse(io.BytesIO(body)) is not None


# --- Requirement 8: ?row= is counted only for a row the site could have shown ------------------


@pytest.fixture
def film(db):
    return TitleFactory(name="Row Probe", maturity_rating="PG")


def _open(client: Client, title, row: str):
    resp = client.get(f"/title/{title.slug}/", {"row": row})
    assert resp.status_code == 200
    return Click.objects.filter(title=title)


@pytest.mark.parametrize("row", ["top-picks", "continue-watching", "my-list", "new-arrivals", "trending", "together"])
def test_fixed_row_keys_are_counted(owner_client, film, row):
    assert list(_open(owner_client, film, row).values_list("row_key", flat=True)) == [row]


@pytest.mark.parametrize(
    "row",
    [
        "x" * 80,
        "<script>alert(1)</script>",
        "top-picks-but-not-really",
        "genre-no-such-genre",
        "collection-no-such-collection",
        "because-" + SUPERSCRIPT_TWO,
        "because-" + HUGE,
        "searched-genre-nope",
        "searched-shoes-noir",  # no such kind of search interest
        "Top-Picks",
    ],
)
def test_forged_row_keys_are_not_counted(owner_client, film, row):
    assert not _open(owner_client, film, row).exists()


def test_dynamic_row_keys_of_real_things_are_counted(owner_client, film):
    from tests.support.factories import GenreFactory

    genre = GenreFactory(name="Noir", slug="noir")
    for row in ("genre-noir", "genre-for-you-noir", "searched-genre-noir", f"because-{film.pk}"):
        _open(owner_client, film, row)
    assert sorted(Click.objects.values_list("row_key", flat=True)) == sorted(
        ["genre-noir", "genre-for-you-noir", "searched-genre-noir", f"because-{film.pk}"]
    )
    assert genre.slug == "noir"


def test_handler400_answers_json_under_api(rf):
    """api.errors.handler400 (Django's own 400s, outside DRF): JSON with a reason under /api/."""
    from django.core.exceptions import RequestDataTooBig, SuspiciousOperation

    from api.errors import handler400

    too_big = handler400(rf.post("/api/v1/profiles/"), RequestDataTooBig("too big"))
    assert too_big.status_code == 413
    assert "large" in json.loads(too_big.content)["detail"]
    other = handler400(rf.get("/api/v1/titles/"), SuspiciousOperation("odd"))
    assert other.status_code == 400 and json.loads(other.content)["detail"]
    assert handler400(rf.get("/browse/"), SuspiciousOperation("odd")).status_code == 400
