"""`manage.py export_recommendations --k K --out FILE` (CONTRACTS.md)."""

import csv

import pytest
from django.core.management import CommandError, call_command

from catalog import services as catalog_services
from tests.support.accounts import make_account
from tests.support.recommender import Catalog, install_model

pytestmark = pytest.mark.usefixtures("rec_env")


def test_export_writes_top_k_per_consenting_profile_without_rated_titles(tmp_path, django_assert_max_num_queries):
    cat = Catalog()
    install_model(cat)
    _, fan_profile = make_account("fan")
    _, quiet = make_account("quiet", consents=False)
    _, kid = make_account("kiddo", is_kids=True, maturity_limit=2)
    loved = cat.by_genre["drama"][2:5]
    for p, titles in ((fan_profile, loved), (quiet, loved), (kid, cat.by_genre["animation"][:2])):
        for t in titles:
            catalog_services.rating_set(profile=p, title=t, value="love")
    out = tmp_path / "recs.csv"
    # profiles, consent subquery, titles' external ids, then per batch: the profiles and four
    # taste reads, and one visibility read per maturity setting.
    with django_assert_max_num_queries(12):
        call_command("export_recommendations", "--k", "5", "--out", str(out))
    with out.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["username", "profile", "title_external_id", "rank", "score"]
    body = rows[1:]
    users = {r[0] for r in body}
    assert users == {"fan", "kiddo"}, "the account without personalization consent is left out"
    fan_rows = [r for r in body if r[0] == "fan"]
    assert [int(r[3]) for r in fan_rows] == [1, 2, 3, 4, 5]
    scores = [float(r[4]) for r in fan_rows]
    assert scores == sorted(scores, reverse=True)
    by_ext = {t.external_id: t for t in cat.titles}
    assert not {t.external_id for t in loved} & {r[2] for r in fan_rows}
    assert {cat.genre_of(by_ext[r[2]].pk) for r in fan_rows[:3]} == {"drama"}
    kid_titles = [by_ext[r[2]] for r in body if r[0] == "kiddo"]
    assert kid_titles and all(t.maturity_level <= 2 and t.maturity_rating != "NR" for t in kid_titles)


def test_export_without_a_model_is_a_clear_error(tmp_path, db):
    with pytest.raises(CommandError, match="no serving model"):
        call_command("export_recommendations", "--k", "5", "--out", str(tmp_path / "x.csv"))


def test_export_rejects_a_bad_k(tmp_path, db):
    with pytest.raises(CommandError, match="--k"):
        call_command("export_recommendations", "--k", "0", "--out", str(tmp_path / "x.csv"))
