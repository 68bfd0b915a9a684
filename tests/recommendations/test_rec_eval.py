"""Offline evaluation: split, metrics, peers, and the evaluate_recommender benchmark command."""

import csv
import json
from io import StringIO

import numpy as np
import pytest
import scipy.sparse as sp
from django.core.management import call_command
from django.core.management.base import CommandError

from recommendations import benchmark, evaluation
from tests.support.db import require_postgres


def test_temporal_split_holds_out_each_users_latest_fifth():
    users = np.array([0] * 10 + [1] * 4 + [2] * 5)
    ts = np.r_[np.arange(10)[::-1], np.arange(4), np.arange(5)].astype(float)
    mask = evaluation.temporal_split(users, ts)
    # user 0: timestamps descend, so its first two rows are the latest
    assert mask[:10].tolist() == [True, True] + [False] * 8
    # user 1 has 4 interactions: floor(0.8) = 0 held out
    assert not mask[10:14].any()
    # user 2: the last one
    assert mask[14:].tolist() == [False] * 4 + [True]


def test_metrics_of_a_perfect_and_a_reversed_ranker():
    n_items = 30
    train = sp.csr_matrix(([1.0, 1.0], ([0, 0], [0, 1])), shape=(1, n_items))
    test = sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 0, 0], [2, 3, 4])), shape=(1, n_items))
    perfect = np.zeros((1, n_items))
    perfect[0, [0, 1]] = 100.0  # training items score highest but must be excluded
    perfect[0, [2, 3, 4]] = [10.0, 9.0, 8.0]
    m = evaluation.evaluate(lambda u: perfect[u], train, test)
    assert m["users"] == 1
    assert m["p@10"] == pytest.approx(0.3)
    assert m["r@10"] == pytest.approx(1.0)
    assert m["ndcg@10"] == pytest.approx(1.0)
    assert m["auc"] == pytest.approx(1.0)
    assert m["coverage"] == pytest.approx(10 / n_items)

    reverse = -perfect
    m = evaluation.evaluate(lambda u: reverse[u], train, test)
    assert m["r@10"] == 0.0 and m["ndcg@10"] == 0.0
    assert m["auc"] == pytest.approx(0.0)


def test_ndcg_rewards_earlier_hits():
    n_items = 20
    train = sp.csr_matrix((1, n_items))
    test = sp.csr_matrix(([1.0], ([0], [5])), shape=(1, n_items))
    first = np.arange(n_items, 0, -1, dtype=float)[None, :]
    first[0, 5] = 1000
    late = np.arange(n_items, 0, -1, dtype=float)[None, :]  # item 5 ranked 6th
    assert evaluation.evaluate(lambda u: first[u], train, test)["ndcg@10"] == pytest.approx(1.0)
    assert evaluation.evaluate(lambda u: late[u], train, test)["ndcg@10"] == pytest.approx(1 / np.log2(7))


def test_popularity_and_ease():
    # Items 0 and 1 always go together; item 2 is popular but unrelated.
    x = sp.csr_matrix(
        np.array(
            [
                [1, 1, 0, 0],
                [1, 1, 1, 0],
                [1, 1, 1, 0],
                [0, 0, 1, 1],
                [0, 0, 1, 1],
                [0, 0, 1, 0],
            ],
            dtype=float,
        )
    )
    assert evaluation.popularity_scores(x).tolist() == [3, 3, 5, 2]
    b = evaluation.ease_item_matrix(x, lam=0.5)
    assert np.allclose(np.diag(b), 0)
    user = sp.csr_matrix(np.array([[1, 0, 0, 0]], dtype=float))
    scores = np.asarray(user @ b).ravel()
    assert scores[1] > scores[2] and scores[1] > scores[3]


def test_format_table():
    out = evaluation.format_table({"a": {"p@10": 0.5, "ndcg@10": 0.25}})
    assert "ndcg@10" in out.splitlines()[0]
    assert "0.2500" in out and "-" in out.splitlines()[1]


def _write_movielens(folder, n_users=40, n_movies=40, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    genres = ["Action", "Drama"]
    with (folder / "movies.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "title", "genres"])
        for m in range(1, n_movies + 1):
            w.writerow([m, f"Movie {m} ({1980 + m % 30})", genres[m % 2] + "|Comedy"])
    with (folder / "ratings.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        for u in range(1, n_users + 1):
            liked = [m for m in range(1, n_movies + 1) if m % 2 == u % 2]
            for k, m in enumerate(rng.choice(liked, size=12, replace=False)):
                w.writerow([u, m, rng.choice([3.0, 4.0, 4.5, 5.0]), 1_000_000 + u * 1000 + k])
            w.writerow([u, 1 if u % 2 == 0 else 2, 1.0, 1_000_000 + u * 1000 + 50])
    with (folder / "tags.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "tag", "timestamp"])
        for m in range(1, n_movies + 1):
            w.writerow([1, m, "fun" if m % 2 else "sad", 1])


def _parsed(folder):
    from catalog.importing.movielens import parse_dataset

    return parse_dataset(folder)


def test_split_is_temporal_per_user_with_seeded_cold_users(tmp_path):
    data = tmp_path / "ml"
    _write_movielens(data)
    split = benchmark.make_split(_parsed(data))
    assert len(split.cold_users) == 4  # 10% of 40 users
    assert split.cold_users == benchmark.make_split(_parsed(data)).cold_users  # seeded
    assert split.cold_users != benchmark.make_split(_parsed(data), seed=1).cold_users
    for user in set(split.users.tolist()):
        mine = split.users == user
        if user in split.cold_users:
            # A cold user is never trained on: its first 5 ratings come after training.
            assert not split.train[mine].any() and not split.test[mine].any()
            assert split.cold_first[mine].sum() == 5
            continue
        n = int(mine.sum())
        held = split.test & mine
        assert held.sum() == max(1, int(n * 0.2))
        # Everything held out is at or after everything trained on.
        assert split.ts[held].min() >= split.ts[split.train & mine].max()


def test_training_directory_keeps_only_what_was_known_then(tmp_path):
    data = tmp_path / "ml"
    _write_movielens(data)
    with (data / "tags.csv").open("a", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([3, 1, "later", 4_000_000_000])  # after user 3's cut-off: leaks the future
    split = benchmark.make_split(_parsed(data))
    out = tmp_path / "train"
    benchmark.write_training_directory(split, data, out)
    with (out / "ratings.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == int(split.train.sum())
    assert not {int(r["userId"]) for r in rows} & set(split.cold_users)
    tags = (out / "tags.csv").read_text()
    assert "later" not in tags and "fun" in tags


def test_list_metrics_count_a_user_shown_nothing_as_a_miss():
    rel = {1: {10, 11}, 2: {12}}
    full = evaluation.list_metrics({1: [10, 11], 2: [12]}, rel, n_items=100)
    half = evaluation.list_metrics({1: [10, 11]}, rel, n_items=100)
    assert full["ndcg@10"] == pytest.approx(1.0)
    assert half["ndcg@10"] == pytest.approx(0.5)
    assert half["coverage"] == pytest.approx(0.02)


def test_ease_through_cholesky_matches_the_closed_form():
    x = sp.random(30, 12, density=0.3, random_state=np.random.RandomState(0), format="csr")
    x.data[:] = 1.0
    assert np.allclose(benchmark.ease_item_matrix(x, lam=5.0), evaluation.ease_item_matrix(x, lam=5.0), atol=1e-5)


def _run_command(tmp_path, *extra):
    data = tmp_path / "ml"
    _write_movielens(data)
    out_json = tmp_path / "results.json"
    out = StringIO()
    call_command(
        "evaluate_recommender",
        "--data",
        str(data),
        "--params",
        '{"epochs": 5}',
        "--seeds",
        "1",
        "--json",
        str(out_json),
        *extra,
        stdout=out,
    )
    return out.getvalue(), json.loads(out_json.read_text())


def test_evaluate_recommender_runs_the_product_path_and_every_peer(tmp_path):
    out, result = _run_command(tmp_path)
    for name in (
        "Marquee as served",
        "Marquee model (trained vectors)",
        "popularity",
        "vanilla LightFM (mean of 3 seeds)",
        "EASE (lambda",
        "Cold users",
        "Cold items",
        "scratch database (SQLite)",
    ):
        assert name in out, name
    warm = result["results"]["warm"]
    assert warm["Marquee as served"]["users"] == result["counts"]["warm_users_evaluated"] > 0
    # Every ratio to every peer is printed.
    assert "Marquee as served ndcg@10 vs Marquee model (trained vectors)" in out
    assert "popularity:" in out and "vanilla LightFM (mean of 3 seeds):" in out
    # The product was trained through train_and_register, and served through the home page.
    (product,) = result["product"]
    assert product["status"] == "serving" and product["served_personalized"] > 0
    # Served is the trained vectors (nothing changed since training for these profiles).
    assert warm["Marquee as served"]["ndcg@10"] == pytest.approx(warm["Marquee model (trained vectors)"]["ndcg@10"])
    assert result["results"]["cold_users"]["Marquee as served"]["users"] == 4


@pytest.mark.postgres
def test_evaluate_recommender_on_a_throwaway_postgres_database(tmp_path, settings):
    require_postgres()
    import psycopg

    out, result = _run_command(tmp_path, "--postgres", "--skip-peers")
    assert "scratch database (PostgreSQL)" in out
    url = settings.DATABASES["default"]
    with psycopg.connect(
        host=url["HOST"] or "127.0.0.1", port=url["PORT"] or 5432, user=url["USER"], dbname="postgres"
    ) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'marquee_eval_%'").fetchall()
    assert left == [], "the scratch databases are dropped"
    assert result["product"][0]["status"] == "serving"


def test_evaluate_recommender_refuses_bad_input(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("evaluate_recommender", "--data", str(tmp_path / "missing"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,x,4.0,5\n")
    (bad / "movies.csv").write_text("movieId,title,genres\n1,A (1999),Drama\n")
    with pytest.raises(CommandError, match=r"ratings\.csv line 2"):
        call_command("evaluate_recommender", "--data", str(bad))
    good = tmp_path / "good"
    _write_movielens(good)
    with pytest.raises(CommandError, match="--params"):
        call_command("evaluate_recommender", "--data", str(good), "--params", '{"nope": 1}')
    with pytest.raises(CommandError, match="--params"):
        call_command("evaluate_recommender", "--data", str(good), "--params", "[1]")
