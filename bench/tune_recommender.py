"""The tuning loop behind `HybridParams`' defaults: many settings, several seeds, one split.

The same split and the same scratch database as `manage.py evaluate_recommender` (the product
path), then, for each setting and seed, in one process: `dataset.assemble(params)` ->
`training.fit_hybrid` on the training part -> `training.build_artifacts` ->
`serving.ServingModel` -> warm users' top 10 from their trained vectors (what the home serves a
trained profile: bench/README.md shows served = model) and cold users' top 10 from
`foldin.profile_vector` on their first 5 ratings. One fit per trial instead of the product
pipeline's two, and no home page, so a trial takes a third of the time; the chosen setting is
then confirmed through the product path (`evaluate_recommender`), which must agree within 2%.

    .venv/bin/python bench/tune_recommender.py --grid '{"no_components": [32, 64], "epochs": [20, 30]}'
    .venv/bin/python bench/tune_recommender.py --grid '...' --seeds 3 --data /path/to/ml
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ML_DIR = "/work/shared/data/ml-latest-small"


def child(workdir: str, trials: list[dict], seeds: list[int], foldins: list[dict] | None = None) -> list[dict]:
    from dataclasses import replace

    import numpy as np

    from accounts.models import Profile
    from catalog.models import Rating, Title
    from recommendations import dataset, evaluation, serving, signals, training
    from recommendations.params import HybridParams

    split = json.loads((Path(workdir) / "split.json").read_text())
    ext = dict(Title.objects.values_list("pk", "external_id"))
    movie_of = {pk: int(e[3:]) for pk, e in ext.items() if e.startswith("ml:")}
    title_of = {m: pk for pk, m in movie_of.items()}
    rated: dict[int, set[int]] = {}
    for pid, tid in Rating.objects.values_list("profile_id", "title_id"):
        rated.setdefault(pid, set()).add(tid)
    uid_of = {p.pk: int(p.account.username[3:]) for p in Profile.objects.select_related("account")}
    warm_rel = {int(u): set(r) for u, r in split["warm_relevant"].items()}
    cold_rel = {int(u): set(r) for u, r in split["cold_relevant"].items()}
    n_items = len(ext)
    now = time.time()
    out = []
    for overrides in trials:
        per_seed = []
        # "signals.STRENGTH.up": 0.5 tries another strength (recommendations.signals) for one trial.
        patched = {k: v for k, v in overrides.items() if k.startswith("signals.")}
        saved = {}
        for key, value in patched.items():
            _, name, *sub = key.split(".")
            saved[key] = getattr(signals, name) if not sub else getattr(signals, name)[sub[0]]
            if sub:
                getattr(signals, name)[sub[0]] = value
            else:
                setattr(signals, name, value)
        model_overrides = {k: v for k, v in overrides.items() if k not in patched}
        for seed in seeds:
            params = replace(HybridParams(), **model_overrides, random_state=seed)
            t0 = time.monotonic()
            data = dataset.assemble(params)
            inter, weight = data.interactions()
            model = training.fit_hybrid(
                params, inter, weight, user_features=data.user_features, item_features=data.item_features
            )
            fit_seconds = time.monotonic() - t0
            art = training.build_artifacts("tune", model, params, data, {"params": params.to_dict()})
            sm = serving.ServingModel.from_artifacts(art)
            cold_by_foldin = {}
            for f in foldins or []:
                sm.params = replace(params, **{k: v for k, v in f.items() if k in params.to_dict()})
                sm.memo.clear()
                scale = f.get("scale", 1.0)
                cold_by_foldin[json.dumps(f)] = evaluation.list_metrics(
                    _cold_lists(sm, split, title_of, movie_of, now, params, scale), cold_rel, n_items=n_items
                )["ndcg@10"]
            sm.params = params
            sm.memo.clear()
            movie_row = np.asarray([movie_of.get(int(t), -1) for t in sm.title_ids])
            warm = {}
            scores = sm.score_many(sm.user_vecs)
            for i, pid in enumerate(sm.profile_ids.tolist()):
                allowed = np.ones(sm.n_items, dtype=bool)
                allowed[sm.rows_of(rated.get(pid, ()))] = False
                warm[uid_of[pid]] = [int(movie_row[r]) for r in serving.top_k(scores[i], 10, allowed)]
            cold = _cold_lists(sm, split, title_of, movie_of, now, params, 1.0)
            per_seed.append(
                {
                    "seed": seed,
                    "fit_seconds": round(fit_seconds, 1),
                    "warm": evaluation.list_metrics(warm, warm_rel, n_items=n_items),
                    "cold": evaluation.list_metrics(cold, cold_rel, n_items=n_items),
                    "cold_by_foldin": cold_by_foldin,
                }
            )
        for key, value in saved.items():
            _, name, *sub = key.split(".")
            if sub:
                getattr(signals, name)[sub[0]] = value
            else:
                setattr(signals, name, value)
        out.append({"overrides": overrides, "seeds": per_seed})
        w = [s["warm"]["ndcg@10"] for s in per_seed]
        c = [s["cold"]["ndcg@10"] for s in per_seed]
        for f in foldins or []:
            key = json.dumps(f)
            vals = [sd["cold_by_foldin"][key] for sd in per_seed]
            print(f"#   fold-in {key}: cold {statistics.median(vals):.4f} {vals}", file=sys.stderr, flush=True)
        print(
            f"# {json.dumps(overrides)}: warm {statistics.median(w):.4f} {w}  cold {statistics.median(c):.4f}  "
            f"fit {per_seed[0]['fit_seconds']} s",
            file=sys.stderr,
            flush=True,
        )
    return out


def _cold_lists(sm, split, title_of, movie_of, now, params, scale) -> dict:
    """Each cold user's top 10 from `foldin.profile_vector` on its first 5 ratings (as the home)."""
    import numpy as np

    from catalog.importing.movielens import stars_to_value
    from recommendations import foldin, serving, signals

    movie_row = np.asarray([movie_of.get(int(t), -1) for t in sm.title_ids])
    cold = {}
    for uid, first in split["cold_first"].items():
        taste = foldin.Taste()
        for movie_id, stars in first:
            tid = title_of.get(movie_id)
            if tid is None:
                continue
            value = stars_to_value(stars)
            if value == "down":
                taste.negatives.append((tid, now))
            else:
                w = signals.weight(
                    value, now, now=now, half_life_days=params.half_life_days, floor=params.recency_floor
                )
                taste.positives.append(foldin.Positive(tid, "", value, w, now))
            taste.excluded.append(tid)
        vec = foldin.profile_vector(sm, -int(uid), taste, is_kids=False)
        if vec is None:
            continue
        allowed = np.ones(sm.n_items, dtype=bool)
        allowed[sm.rows_of(taste.excluded)] = False
        cold[int(uid)] = [int(movie_row[r]) for r in serving.top_k(sm.score(vec * scale), 10, allowed)]
    return cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=ML_DIR)
    parser.add_argument("--grid", default="{}", help="JSON: HybridParams field -> list of values (all combinations)")
    parser.add_argument("--trials", help="JSON list of override dicts (instead of --grid)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workdir", help="reuse this folder's split and imported database")
    parser.add_argument("--foldins", default="[]", help="JSON list of fold-in settings to try on each fit")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        trials, seeds, foldins = (json.loads(a) for a in args.child[1:])
        print(json.dumps(child(args.child[0], trials, seeds, foldins)))
        return

    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("HTTPS", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import numpy as np

    from catalog.importing.movielens import parse_dataset
    from recommendations import benchmark

    if args.trials:
        trials = json.loads(args.trials)
    else:
        grid = json.loads(args.grid)
        keys = sorted(grid)
        trials = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="marquee-tune-"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "base.sqlite3"
    if not base.exists():
        split = benchmark.make_split(parse_dataset(args.data))
        benchmark.write_training_directory(split, Path(args.data), work / "train")
        warm_rel = split.relevant(split.test)
        cold_rel = split.relevant(np.isin(split.users, split.cold_users) & ~split.cold_first)
        first = split.cold_first_ratings()
        (work / "split.json").write_text(
            json.dumps(
                {
                    "cold_first": first,
                    "warm_relevant": {str(u): sorted(r) for u, r in warm_rel.items()},
                    "cold_relevant": {str(u): sorted(r) for u, r in cold_rel.items()},
                }
            )
        )
        env = benchmark._child_env(f"sqlite:///{base}", work / "var")
        benchmark._run_child(["import", str(work / "train")], env, print)
    env = benchmark._child_env(f"sqlite:///{base}", work / "var")
    seeds = [42 + i for i in range(args.seeds)]
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(work), json.dumps(trials), json.dumps(seeds), args.foldins],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    results = json.loads([line for line in proc.stdout.splitlines() if line.startswith("[")][-1])
    print(f"workdir: {work}")
    for r in results:
        w = [s["warm"]["ndcg@10"] for s in r["seeds"]]
        c = [s["cold"]["ndcg@10"] for s in r["seeds"]]
        print(f"{json.dumps(r['overrides'])}: warm nDCG@10 {statistics.median(w):.4f}  cold {statistics.median(c):.4f}")
    (work / f"tune-{int(time.time())}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
