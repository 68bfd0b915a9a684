"""Audience taste clusters from the serving model's user representations (numpy k-means).

Only consenting profiles are clustered. A cluster smaller than k is suppressed; inside a
cluster, a favourite title or a search term is shown only when k members stand behind it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from catalog.models import SearchQuery, Tag, Title, TitleTag
from recommendations import artifacts
from recommendations.selectors import serving_version

from .aggregates import FEW_RESULTS, consented, engagement_sets, group_gap_searches, min_group

MAX_CLUSTERS = 8
TOP_SCORED = 50
# A top-scored title engaged by fewer than this share of the cluster is a strong candidate left.
CANDIDATE_SHARE = 0.1


def kmeans(X: np.ndarray, k: int, *, seed: int = 0, iters: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Plain Lloyd's k-means with k-means++ seeding; deterministic for a seed. Returns (labels, centroids)."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    centroids = [X[rng.integers(n)]]
    d2 = ((X - centroids[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = d2.sum()
        idx = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centroids.append(X[idx])
        d2 = np.minimum(d2, ((X - X[idx]) ** 2).sum(1))
    C = np.array(centroids, dtype=np.float64)
    labels = np.zeros(n, dtype=np.int64)
    for it in range(iters):
        dist = (X**2).sum(1)[:, None] - 2 * X @ C.T + (C**2).sum(1)[None, :]
        new = dist.argmin(1)
        if it and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = X[labels == j]
            if len(members):
                C[j] = members.mean(0)
    return labels, C


def compute(engaged: dict[int, set[int]] | None = None) -> dict:
    """Clusters of the serving model's consenting profiles, described and k-anonymous."""
    k_min = min_group()
    version = serving_version()
    if version is None:
        return {"available": False, "reason": "No recommendation model serves yet.", "clusters": [], "suppressed": 0}
    try:
        art = artifacts.load(version.version)
    except artifacts.ArtifactsMissing:
        return {"available": False, "reason": "The serving model's files are missing.", "clusters": [], "suppressed": 0}
    allowed = set(consented().values_list("pk", flat=True))
    mask = np.isin(art.profile_ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
    pids = art.profile_ids[mask]
    X = art.user_vecs[mask].astype(np.float64)
    if len(pids) < k_min:
        return {
            "available": False,
            "reason": f"Fewer than {k_min} consenting profiles in the serving model.",
            "clusters": [],
            "suppressed": 0,
            "version": version.version,
        }
    # Cluster directions of taste, not magnitudes (heavy and light users alike).
    Xn = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-9)
    n_clusters = int(max(1, min(MAX_CLUSTERS, len(pids) // (2 * k_min))))
    labels, _ = kmeans(Xn, n_clusters)

    # What each member engaged with (positive ratings or viewing), one pass over each table.
    if engaged is None:
        engaged = engagement_sets()
    member_set = {int(p) for p in pids}
    gap_searches: dict[int, list] = defaultdict(list)
    for pid, query, results in SearchQuery.objects.filter(
        profile_id__in=consented(), result_count__lte=FEW_RESULTS
    ).values_list("profile_id", "query", "result_count"):
        if pid in member_set:
            gap_searches[pid].append((pid, query, results))

    published = dict(Title.objects.filter(is_published=True).values_list("pk", "name"))
    title_genres: dict[int, list[str]] = defaultdict(list)
    for tid, name in Title.genres.through.objects.values_list("title_id", "genre__name"):
        title_genres[tid].append(name)
    tag_names = dict(Tag.objects.values_list("pk", "name"))
    title_tags: dict[int, list[str]] = defaultdict(list)
    for tid, tag_id in TitleTag.objects.filter(weight__gt=0).values_list("title_id", "tag_id"):
        title_tags[tid].append(tag_names.get(tag_id, "?"))

    # Each title's audience over all consenting profiles, same definition as the members' counts
    # (watched or liked, from the same sets): a cluster's count can never exceed it.
    audience: Counter = Counter()
    for titles in engaged.values():
        audience.update(titles)

    item_ok = np.array([int(t) in published for t in art.title_ids], dtype=bool)
    clusters, suppressed = [], 0
    for j in range(n_clusters):
        members = [int(p) for p in pids[labels == j]]
        if len(members) < k_min:
            suppressed += 1
            continue
        title_members: Counter = Counter()
        for pid in members:
            title_members.update(engaged.get(pid, ()))
        genre_counts: Counter = Counter()
        tag_counts: Counter = Counter()
        for tid, n in title_members.items():
            for g in title_genres.get(tid, ()):
                genre_counts[g] += n
            for t in title_tags.get(tid, ()):
                tag_counts[t] += n
        total_g = sum(genre_counts.values()) or 1
        total_t = sum(tag_counts.values()) or 1
        favourites = [
            {"title_id": tid, "name": published.get(tid, "?"), "members": n, "share": round(n / len(members), 3)}
            for tid, n in title_members.most_common()
            if n >= k_min and tid in published
        ][:10]
        # How well served: score the catalog with the cluster's mean taste (biases folded in).
        centroid = X[labels == j].mean(0)
        scores = art.item_vecs.astype(np.float64) @ centroid + art.item_bias
        scores[~item_ok] = -np.inf
        top = [int(art.title_ids[i]) for i in np.argsort(-scores)[:TOP_SCORED] if np.isfinite(scores[i])]
        watched_shares = [len(engaged.get(pid, set()).intersection(top)) / max(len(top), 1) for pid in members]
        candidates = [tid for tid in top if title_members.get(tid, 0) < CANDIDATE_SHARE * len(members)]
        searches, _ = group_gap_searches(s for pid in members for s in gap_searches.get(pid, ()))
        shown = {f["title_id"] for f in favourites} | set(top[:10])
        clusters.append(
            {
                "size": len(members),
                "top_genres": [{"name": g, "share": round(n / total_g, 3)} for g, n in genre_counts.most_common(5)],
                "top_tags": [{"name": t, "share": round(n / total_t, 3)} for t, n in tag_counts.most_common(5)],
                "favourites": favourites,
                "top_scored_watched_share": round(float(np.mean(watched_shares)), 3) if watched_shares else 0.0,
                "strong_candidates_left": len(candidates),
                "candidate_titles": [{"title_id": t, "name": published.get(t, "?")} for t in candidates[:10]],
                "top_scored": top[:10],
                "searches_not_found": searches[:10],
                # JSON keys are strings: the snapshot stores this as it is.
                "audience": {str(tid): audience.get(tid, 0) for tid in sorted(shown)},
            }
        )
    # Largest first, numbered in that order: the page and the greenlight selector list them
    # 1, 2, 3... by size (k-means' own labels are arbitrary).
    clusters.sort(key=lambda c: (-c["size"], c["top_scored"]))
    for number, c in enumerate(clusters, start=1):
        c["id"] = number
    return {
        "available": True,
        "version": version.version,
        "profiles": len(pids),
        "clusters": clusters,
        "suppressed": suppressed,
    }


CLUSTER_COLUMNS = [
    ["id", "Cluster"],
    ["size", "Profiles"],
    ["top_genres", "Top genres (% of the cluster's engagement)"],
    ["top_tags", "Top tags (% of the cluster's engagement)"],
    ["favourites", "Favourite titles"],
    ["top_scored_watched_share", f"Top-scored titles already watched (% of its {TOP_SCORED})"],
    ["strong_candidates_left", "Strong candidates left (titles)"],
]


def as_rows(result: dict) -> list[dict]:
    """Flat rows for the table and the CSV."""
    return [
        {
            "id": c["id"],
            "size": c["size"],
            "top_genres": ", ".join(f"{g['name']} ({g['share']:.0%})" for g in c["top_genres"]),
            "top_tags": ", ".join(f"{t['name']} ({t['share']:.0%})" for t in c["top_tags"]),
            "favourites": "; ".join(f["name"] for f in c["favourites"][:5]),
            "top_scored_watched_share": c["top_scored_watched_share"],
            "strong_candidates_left": c["strong_candidates_left"],
        }
        for c in result.get("clusters", [])
    ]
