"""Offline evaluation: split, metrics, peers, and the evaluate_recommender benchmark command."""

import csv

import numpy as np
import pytest
import scipy.sparse as sp
from django.core.management import call_command
from django.core.management.base import CommandError

from recommendations import evaluation


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


def test_evaluate_recommender_command_prints_all_models(tmp_path, capsys):
    data = tmp_path / "ml"
    _write_movielens(data)
    out_json = tmp_path / "results.json"
    call_command("evaluate_recommender", "--data", str(data), "--params", '{"epochs": 5}', "--json", str(out_json))
    out = capsys.readouterr().out
    for name in ("Marquee hybrid", "popularity", "vanilla LightFM", "EASE (l=250)", "Cold users", "Cold items"):
        assert name in out, name
    assert "target >= 1.15" in out
    assert out_json.exists()


def test_evaluate_recommender_refuses_bad_input(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("evaluate_recommender", "--data", str(tmp_path / "missing"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,x,4.0,5\n")
    (bad / "movies.csv").write_text("movieId,title,genres\n1,A (1999),Drama\n")
    with pytest.raises(CommandError, match="malformed"):
        call_command("evaluate_recommender", "--data", str(bad))
    good = tmp_path / "good"
    _write_movielens(good)
    with pytest.raises(CommandError, match="--params"):
        call_command("evaluate_recommender", "--data", str(good), "--params", '{"nope": 1}')
