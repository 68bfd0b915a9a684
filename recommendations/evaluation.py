"""Offline evaluation: temporal per-user split, ranking metrics, and the peers a model must beat.

Pure numpy/scipy, no Django: used by training (the promotion gate), by
`manage.py evaluate_recommender` (the MovieLens benchmark) and by the tests.

Scores are "higher is better" matrices or callables; every metric excludes what the user
already had in training, so a model is never rewarded for recommending the past.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

K = 10


def temporal_split(users: np.ndarray, timestamps: np.ndarray, *, test_fraction: float = 0.2) -> np.ndarray:
    """Boolean mask of held-out interactions: the last `test_fraction` of each user's, by time.

    A user with n interactions keeps floor(n * fraction) in test (so a user with fewer than
    1/fraction interactions is evaluated on nothing and trains on all). Ties in time keep the
    input order (stable sort), which makes the split deterministic.
    """
    users = np.asarray(users)
    n = len(users)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((np.asarray(timestamps), users))  # by user, then time
    u_sorted = users[order]
    starts = np.r_[0, np.flatnonzero(np.diff(u_sorted)) + 1]
    counts = np.diff(np.r_[starts, n])
    pos_in_user = np.arange(n) - np.repeat(starts, counts)
    n_test = np.floor(counts * test_fraction).astype(np.int64)
    is_test_sorted = pos_in_user >= np.repeat(counts - n_test, counts)
    mask = np.zeros(n, dtype=bool)
    mask[order] = is_test_sorted
    return mask


def popularity_scores(train: sp.spmatrix) -> np.ndarray:
    """Item popularity in training: the number of users with an interaction (a row vector)."""
    return np.asarray((sp.csr_matrix(train) > 0).sum(axis=0), dtype=np.float64).ravel()


def ease_item_matrix(train: sp.spmatrix, *, lam: float = 250.0) -> np.ndarray:
    """EASE (Steck 2019): the closed-form item-item model B = I - P·diagMat(1/diag(P)).

    Dense in the number of items: fine for a benchmark catalog (10k items ≈ 0.4 GB float32).
    """
    x = sp.csr_matrix(train, dtype=np.float64)
    x.data[:] = 1.0
    g = (x.T @ x).toarray()
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    b[np.diag_indices_from(b)] = 0.0
    return b.astype(np.float32)


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """[b, k] column indices of each row's k best scores, best first (-inf scores may fill up)."""
    n = scores.shape[1]
    k = min(k, n)
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    top = np.argpartition(-scores, kth=k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, top, axis=1)
    return np.take_along_axis(top, np.argsort(-top_scores, axis=1, kind="stable"), axis=1)


def list_metrics(top: dict[int, list[int]], relevant: dict[int, set[int]], *, n_items: int, k: int = K) -> dict:
    """precision@k, recall@k, nDCG@k and catalog coverage of ranked lists, over the users of `relevant`.

    `top[user]` is what the user was shown, best first; a user missing from `top` (nothing was
    shown) counts with zero hits, so a system that shows nothing is never flattered.
    Coverage = distinct items in anybody's top k / `n_items`.
    """
    users = [u for u, rel in relevant.items() if rel]
    if not users:
        return {"users": 0, "p@10": 0.0, "r@10": 0.0, "ndcg@10": 0.0, "coverage": 0.0}
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    precisions, recalls, ndcgs = [], [], []
    shown: set[int] = set()
    for u in users:
        shown_u = list(top.get(u, []))[:k]
        shown.update(shown_u)
        rel = relevant[u]
        hits = np.array([item in rel for item in shown_u] + [False] * (k - len(shown_u)), dtype=float)
        precisions.append(hits.sum() / k)
        recalls.append(hits.sum() / len(rel))
        ndcgs.append((hits * discounts).sum() / discounts[: min(len(rel), k)].sum())
    return {
        "users": len(users),
        "p@10": float(np.mean(precisions)),
        "r@10": float(np.mean(recalls)),
        "ndcg@10": float(np.mean(ndcgs)),
        "coverage": len(shown) / n_items if n_items else 0.0,
    }


def _scored_batches(score_fn, exclude: sp.csr_matrix, users: np.ndarray, batch: int):
    """(user chunk, [len(chunk), n_items] float64 scores) with the `exclude` items at -inf."""
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        scores = np.array(score_fn(chunk), dtype=np.float64, copy=True)
        rows, cols = exclude[chunk].nonzero()
        scores[rows, cols] = -np.inf
        yield chunk, scores


def scorer_top_lists(
    score_fn: Callable[[np.ndarray], np.ndarray],
    exclude: sp.spmatrix,
    users: np.ndarray,
    *,
    k: int = K,
    allowed: np.ndarray | None = None,
    batch: int = 512,
) -> dict[int, list[int]]:
    """Each user's top k by `score_fn`, without the items of `exclude` (and outside `allowed`)."""
    out: dict[int, list[int]] = {}
    users = np.asarray(users, dtype=np.int64)
    for chunk, scores in _scored_batches(score_fn, sp.csr_matrix(exclude), users, batch):
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        top = top_k_rows(scores, k)
        for r, u in enumerate(chunk):
            out[int(u)] = [int(i) for i in top[r] if np.isfinite(scores[r, i])]
    return out


def evaluate(
    score_fn: Callable[[np.ndarray], np.ndarray],
    train: sp.spmatrix,
    test: sp.spmatrix,
    *,
    k: int = K,
    users: np.ndarray | None = None,
    batch: int = 512,
    with_auc: bool = True,
) -> dict:
    """precision@k, recall@k, nDCG@k, AUC and catalog coverage, averaged over users with a test item.

    `score_fn(user_indices) -> [len(users), n_items]` scores. Items the user had in training are
    excluded from ranking (and from AUC's negatives). `test` holds the relevant items (>0).
    Coverage = distinct items in anybody's top k / items in the catalog.
    """
    train = sp.csr_matrix(train)
    test = sp.csr_matrix(test)
    n_items = train.shape[1]
    if users is None:
        users = np.flatnonzero(np.diff(test.indptr) > 0)
    users = np.asarray(users, dtype=np.int64)
    if len(users) == 0:
        return {"users": 0, "p@10": 0.0, "r@10": 0.0, "ndcg@10": 0.0, "auc": 0.0, "coverage": 0.0}
    top: dict[int, list[int]] = {}
    relevant: dict[int, set[int]] = {}
    aucs = []
    for chunk, scores in _scored_batches(score_fn, train, users, batch):
        ranked = top_k_rows(scores, k)
        te = test[chunk]
        for r, u in enumerate(chunk):
            rel = te.indices[te.indptr[r] : te.indptr[r + 1]]
            top[int(u)] = ranked[r].tolist()
            relevant[int(u)] = set(rel.tolist())
            if with_auc:
                rel_mask = np.zeros(n_items, dtype=bool)
                rel_mask[rel] = True
                aucs.append(_auc(scores[r], rel_mask))
    metrics = list_metrics(top, relevant, n_items=n_items, k=k)
    metrics["auc"] = float(np.nanmean(aucs)) if aucs else float("nan")
    return metrics


def _auc(scores: np.ndarray, rel_mask: np.ndarray) -> float:
    """Probability that a relevant item outranks a non-relevant candidate (train items excluded)."""
    candidates = np.isfinite(scores)
    s = scores[candidates]
    rel = rel_mask[candidates]
    n_pos = int(rel.sum())
    n_neg = len(s) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # Average ranks handle ties fairly (Mann-Whitney U).
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # ranks 1..n, ties averaged
    boundaries = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1, len(s)]
    avg = (boundaries[:-1] + boundaries[1:] + 1) / 2.0
    ranks[order] = np.repeat(avg, np.diff(boundaries))
    return float((ranks[rel].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def matrix_scorer(user_vecs: np.ndarray, item_vecs: np.ndarray, item_bias: np.ndarray | None = None):
    """Score function for factor models: u·v + item bias (the user's bias cannot change a ranking)."""

    def score(users: np.ndarray) -> np.ndarray:
        s = user_vecs[users] @ item_vecs.T
        if item_bias is not None:
            s = s + item_bias[None, :]
        return s

    return score


def popularity_scorer(pop: np.ndarray):
    def score(users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(pop[None, :], (len(users), len(pop)))

    return score


def ease_scorer(train: sp.spmatrix, b: np.ndarray):
    x = sp.csr_matrix(train, dtype=np.float32)
    x.data[:] = 1.0

    def score(users: np.ndarray) -> np.ndarray:
        return np.asarray(x[users] @ b)

    return score


def format_table(results: dict[str, dict], columns=("p@10", "r@10", "ndcg@10", "auc", "coverage")) -> str:
    """A plain-text table: one row per model."""
    name_w = max([len("model"), *(len(n) for n in results)])
    lines = [f"{'model':<{name_w}}  " + "  ".join(f"{c:>8}" for c in columns)]
    for name, m in results.items():
        cells = []
        for c in columns:
            v = m.get(c)
            cells.append(f"{v:>8.4f}" if isinstance(v, int | float) and v == v else f"{'-':>8}")
        lines.append(f"{name:<{name_w}}  " + "  ".join(cells))
    return "\n".join(lines)
