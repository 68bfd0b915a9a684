"""Watching together (issue 10, req 6): which group rule should rank the "For all of you" row.

    .venv/bin/python bench/bench_together.py [--data DIR] [--households N] [--seed S] [--model-seed S] [--json FILE]

Synthetic households built from real MovieLens users, measured through the product's path, as
`recommendations/benchmark.py` does for Top picks:

1. The same per-user temporal split (`benchmark.make_split`: each user's last 20% held out;
   relevant = held-out ratings >= 4 stars). Households are drawn (seeded) from the warm users
   with at least one relevant held-out rating: N of 2, of 3 and of 4 random users, and N "mixed"
   pairs of dissimilar users (the second drawn from the first's least similar tenth, by cosine of
   their training positives).
2. A child process on a scratch SQLite database: `migrate`, `movielens_import` of the training
   part, `training.train_and_register` (the Celery task's pipeline), then for each household:
   an account of its own holding the members' profiles (moved there: a group is one account's
   profiles), and the group's row from `recommendations.together.build_together` under every
   rule and normalization (and `popular_together`, the row the product shows without a model),
   plus each member's own Top picks from `home.build_home` for reference.
3. Per household and rule: the row's top 10 scored against each member's held-out positives
   (hits and nDCG@10), reported as the group mean (how good for the household) and the group
   minimum (fairness: how good for the worst-served member); medians and means over households,
   with a paired bootstrap interval of each rule's difference to `average`.

About 3-5 minutes on ml-latest-small (2 cores); never touches your own database.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import run_json_child, setup_django

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path("/work/shared/data/ml-latest-small")
K = 10
KINDS = ("random-2", "random-3", "random-4", "mixed-2")
# Rule configurations: (name, keyword arguments of together.build_together).
CONFIGS = [
    ("average (percentile)", {"rule": "average", "normalization": "percentile"}),
    ("average (z-score)", {"rule": "average", "normalization": "zscore"}),
    ("average (reciprocal rank)", {"rule": "average", "normalization": "reciprocal_rank"}),
    # Least misery orders by the worst rank whatever the rank transform: one rank row suffices.
    ("least misery (rank)", {"rule": "least_misery", "normalization": "percentile"}),
    ("least misery (z-score)", {"rule": "least_misery", "normalization": "zscore"}),
    ("blend 0.5 (percentile)", {"rule": "blend", "normalization": "percentile", "blend_weight": 0.5}),
    ("blend 0.5 (reciprocal rank)", {"rule": "blend", "normalization": "reciprocal_rank", "blend_weight": 0.5}),
    ("blend 0.25 (z-score)", {"rule": "blend", "normalization": "zscore", "blend_weight": 0.25}),
    ("blend 0.5 (z-score)", {"rule": "blend", "normalization": "zscore", "blend_weight": 0.5}),
    ("blend 0.75 (z-score)", {"rule": "blend", "normalization": "zscore", "blend_weight": 0.75}),
]
BASELINE = CONFIGS[0][0]  # the intervals are differences to this rule
POPULARITY = "popularity (the row without a model)"
OWN = "each member's own Top picks (reference)"
MIXED_QUANTILE = 0.10
BOOTSTRAP = 2000


# --- the households (parent) ----------------------------------------------------------------


def _positives_matrix(split, users: list[int]):
    """Users x movies, 1 where the user rated the movie >= 4 stars in the training part."""
    import scipy.sparse as sp

    row = {u: i for i, u in enumerate(users)}
    col = {int(m): j for j, m in enumerate(split.movie_ids)}
    m = split.train & (split.stars >= 4.0) & np.isin(split.users, users)
    r = [row[int(u)] for u in split.users[m]]
    c = [col[int(x)] for x in split.movies[m]]
    x = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(users), len(col)))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return sp.diags(1.0 / np.maximum(norms, 1e-9)) @ x


def make_households(split, relevant: dict[int, set[int]], *, per_kind: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    users = sorted(relevant)
    unit = _positives_matrix(split, users)
    sim = (unit @ unit.T).toarray()
    households = []

    def add(kind: str, idx: list[int]) -> None:
        pairs = [sim[a, b] for n, a in enumerate(idx) for b in idx[n + 1 :]]
        households.append({"kind": kind, "users": [users[i] for i in idx], "similarity": float(np.mean(pairs))})

    for size in (2, 3, 4):
        for _ in range(per_kind):
            add(f"random-{size}", rng.choice(len(users), size=size, replace=False).tolist())
    for _ in range(per_kind):
        a = int(rng.integers(len(users)))
        others = np.delete(np.arange(len(users)), a)
        cut = np.quantile(sim[a, others], MIXED_QUANTILE)
        far = others[sim[a, others] <= cut]
        add("mixed-2", [a, int(rng.choice(far))])
    return households


# --- the product path (child) ---------------------------------------------------------------


def child(workdir: Path, model_seed: int) -> dict:
    setup_django(os.environ["DATABASE_URL"], migrate=False)
    from dataclasses import replace

    from django.core.management import call_command

    from accounts.models import Profile
    from accounts.services import user_create
    from catalog.importing.movielens import movielens_import
    from catalog.models import Title
    from privacy import consent
    from recommendations import serving, training
    from recommendations.home import build_home
    from recommendations.together import build_together, popular_together

    spec = json.loads((workdir / "households.json").read_text())
    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    movielens_import(directory=workdir / "train")
    import_seconds = time.monotonic() - t0
    t0 = time.monotonic()
    mv = training.train_and_register(
        trigger="benchmark", params=replace(training.current_params(), random_state=model_seed)
    )
    train_seconds = time.monotonic() - t0
    serving.reset()
    if serving.get_model().model is None:
        raise SystemExit(f"no serving model after training ({mv.status}: {mv.gate})")

    movie_of = {
        pk: int(ext[3:]) for pk, ext in Title.objects.values_list("pk", "external_id") if ext and ext.startswith("ml:")
    }
    pid_of = {
        int(name[3:]): pk for pk, name in Profile.objects.filter(name__startswith="ml-").values_list("pk", "name")
    }

    def movies(row) -> list[int]:
        return [movie_of[i.title.pk] for i in row.items[:K] if i.title.pk in movie_of]

    lists: list[dict] = []
    ms: dict[str, list[float]] = {}
    for n, house in enumerate(spec["households"]):
        account = user_create(username=f"household-{n}", email="", password=None)
        consent.consents_set(account_id=account.pk, choices=dict.fromkeys(consent.PURPOSES, True), method="signup")
        pids = [pid_of[u] for u in house["users"]]
        # A group is profiles of one account: the members move into the household's account.
        Profile.objects.filter(pk__in=pids).update(account=account)
        by_pk = {p.pk: p for p in Profile.objects.select_related("account").filter(pk__in=pids)}
        members = [by_pk[pid] for pid in pids]
        for p in members:
            p.account = account
        out = {}
        for name, kwargs in CONFIGS:
            t = time.perf_counter()
            result = build_together(profiles=members, **kwargs)
            ms.setdefault(name, []).append((time.perf_counter() - t) * 1000)
            if not result.personalized:
                raise SystemExit(f"household {n}: the row was not personalized ({result.fallback})")
            out[name] = movies(result.row)
        t = time.perf_counter()
        out[POPULARITY] = movies(popular_together(profiles=members, reason=serving.NO_MODEL).row)
        ms.setdefault(POPULARITY, []).append((time.perf_counter() - t) * 1000)
        lists.append(out)

    own = {}
    for uid in sorted({u for h in spec["households"] for u in h["users"]}):
        profile = Profile.objects.select_related("account").get(pk=pid_of[uid])
        home = build_home(profile=profile)
        picks = next((r for r in home.rows if r.key == "top-picks"), None)
        own[str(uid)] = movies(picks) if picks else []
    return {
        "version": mv.version,
        "import_seconds": round(import_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "lists": lists,
        "own": own,
        "ms_median": {k: float(np.median(v)) for k, v in ms.items()},
    }


# --- the metrics (parent) ----------------------------------------------------------------------


def _member_metrics(shown: list[int], rel: set[int]) -> tuple[float, float]:
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    hits = np.array([m in rel for m in shown[:K]] + [False] * (K - len(shown[:K])), dtype=float)
    ndcg = float((hits * discounts).sum() / discounts[: min(len(rel), K)].sum())
    return float(hits.sum()), ndcg


def household_metrics(shown_by_member: list[list[int]], rels: list[set[int]]) -> dict:
    per = [_member_metrics(s, r) for s, r in zip(shown_by_member, rels, strict=True)]
    hits = [h for h, _ in per]
    ndcg = [d for _, d in per]
    return {
        "ndcg_mean": float(np.mean(ndcg)),
        "ndcg_min": float(np.min(ndcg)),
        "hits_mean": float(np.mean(hits)),
        "hits_min": float(np.min(hits)),
        "all_hit": float(min(hits) > 0),
    }


def _bootstrap(diff: np.ndarray, rng) -> tuple[float, float]:
    idx = rng.integers(0, len(diff), size=(BOOTSTRAP, len(diff)))
    means = diff[idx].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def summarize(households: list[dict], result: dict, relevant: dict[int, set[int]], seed: int) -> dict:
    names = [n for n, _ in CONFIGS] + [POPULARITY, OWN]
    per: dict[str, list[dict]] = {n: [] for n in names}
    for house, lists in zip(households, result["lists"], strict=True):
        rels = [relevant[u] for u in house["users"]]
        for name in names[:-1]:
            per[name].append(household_metrics([lists[name]] * len(rels), rels))
        per[OWN].append(household_metrics([result["own"][str(u)] for u in house["users"]], rels))
    rng = np.random.default_rng(seed)
    tables = {}
    for kind in ("all", *KINDS):
        sel = [i for i, h in enumerate(households) if kind == "all" or h["kind"] == kind]
        table = {}
        for name in names:
            rows = [per[name][i] for i in sel]
            col = {k: np.asarray([r[k] for r in rows]) for k in rows[0]}
            base = {k: np.asarray([per[BASELINE][i][k] for i in sel]) for k in ("ndcg_mean", "ndcg_min")}
            table[name] = {
                "households": len(rows),
                **{f"{k} median": float(np.median(v)) for k, v in col.items() if k != "all_hit"},
                **{f"{k} mean": float(np.mean(v)) for k, v in col.items()},
                "ndcg_mean vs baseline (95% CI)": _bootstrap(col["ndcg_mean"] - base["ndcg_mean"], rng),
                "ndcg_min vs baseline (95% CI)": _bootstrap(col["ndcg_min"] - base["ndcg_min"], rng),
            }
        tables[kind] = table
    return tables


def format_tables(tables: dict, households: list[dict]) -> str:
    lines = []
    for kind, table in tables.items():
        sel = [h for h in households if kind == "all" or h["kind"] == kind]
        sim = np.mean([h["similarity"] for h in sel])
        lines += [
            "",
            f"{kind}: {len(sel)} households, mean pairwise taste similarity {sim:.3f}",
            "| rule | nDCG@10 group mean: median / mean | nDCG@10 group min: median / mean | hits mean | hits min "
            f"| every member hit | mean vs {BASELINE} (95% CI) | min vs {BASELINE} (95% CI) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, m in table.items():
            mean_ci = "{:+.4f} .. {:+.4f}".format(*m["ndcg_mean vs baseline (95% CI)"])
            min_ci = "{:+.4f} .. {:+.4f}".format(*m["ndcg_min vs baseline (95% CI)"])
            lines.append(
                f"| {name} | {m['ndcg_mean median']:.4f} / {m['ndcg_mean mean']:.4f} "
                f"| {m['ndcg_min median']:.4f} / {m['ndcg_min mean']:.4f} | {m['hits_mean mean']:.2f} "
                f"| {m['hits_min mean']:.2f} | {100 * m['all_hit mean']:.0f}% | {mean_ci} | {min_ci} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--households", type=int, default=50, help="households of each kind (4 kinds)")
    parser.add_argument("--seed", type=int, default=0, help="the households' seed")
    parser.add_argument("--split-seed", type=int, default=0, help="the split's seed (as evaluate_recommender)")
    parser.add_argument("--model-seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="write everything to this file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model_seed)))
        return
    if not (args.data / "ratings.csv").is_file():
        print(f"skipped: no MovieLens data at {args.data}")
        return

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="marquee-bench-together-") as tmp:
        work = Path(tmp)
        # The parent only parses and splits: Django set up on a database nobody opens.
        setup_django(f"sqlite:///{work / 'unused.sqlite3'}", migrate=False)
        from catalog.importing.movielens import parse_dataset
        from recommendations import benchmark

        split = benchmark.make_split(parse_dataset(args.data), seed=args.split_seed)
        relevant = split.relevant(split.test)
        households = make_households(split, relevant, per_kind=args.households, seed=args.seed)
        (work / "households.json").write_text(json.dumps({"households": households}))
        benchmark.write_training_directory(split, args.data, work / "train")
        env = benchmark._child_env(f"sqlite:///{work / 'bench.sqlite3'}", work / "var")
        print(
            f"{args.data}: {len(relevant)} warm users with a relevant held-out rating; "
            f"{len(households)} households; training and scoring in a child process ...",
            flush=True,
        )
        result = run_json_child([__file__, "--child", str(work), "--model-seed", str(args.model_seed)], env=env)

    tables = summarize(households, result, relevant, args.seed)
    print(
        f"model {result['version']} (seed {args.model_seed}): import {result['import_seconds']} s, "
        f"training {result['train_seconds']} s; row time per household (median ms): "
        + ", ".join(f"{k} {v:.0f}" for k, v in result["ms_median"].items())
    )
    print(format_tables(tables, households))
    print(f"\n{time.monotonic() - started:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps({"households": households, "result": result, "tables": tables}, indent=1))


if __name__ == "__main__":
    main()
