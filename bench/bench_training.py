"""Training scale: time and peak memory of data assembly and of the LightFM fit.

Two catalogs, each in a fresh temporary SQLite database (never your own database):

  ml        ml-latest-small imported with `manage.py import_movielens` (610 profiles,
            9,742 titles, 100,836 ratings).
  synthetic a generated catalog with --interactions rating rows (default 2,000,000): 20,000
            titles in 20 genres, 50,000 profiles of one account each (personalization granted),
            ratings drawn per profile from a genre-skewed Zipf popularity (Gumbel top-k, so no
            duplicates), love/up/down 35/50/15 %, timestamps spread over two years. Inserted
            with bulk_create (titles, accounts, profiles, consent) and raw executemany batches
            (ratings): the generator is not what is measured.

Measured for each: `recommendations.dataset.assemble()` (all queries + numpy aggregation +
feature matrices; wall clock, then a second, traced run for tracemalloc's peak) and the whole
retrain as the Celery task runs it, `training.train_and_register` with the production
HybridParams: assembly, the split fit and its evaluation, the final fit, artifacts, promotion.
Targets: a full retrain within 60 s on ml-latest-small and within 600 s at 2,000,000
interactions (2 cores); assembly <= half the final fit.

    .venv/bin/python bench/bench_training.py                       # both catalogs
    .venv/bin/python bench/bench_training.py --case ml --epochs 30
    .venv/bin/python bench/bench_training.py --case synthetic --interactions 500000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import run_children, setup_django

ML_DIR = "/work/shared/data/ml-latest-small"


def _measure(fn, *, traced: bool):
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak = None
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, seconds, peak


def generate_synthetic(n_interactions: int, *, n_titles=20_000, n_profiles=50_000, n_genres=20, seed=0):
    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Profile, User
    from catalog.models import Genre, Rating, Title
    from privacy.models import ConsentState

    rng = np.random.default_rng(seed)
    per_profile = max(1, n_interactions // n_profiles)
    with transaction.atomic():
        genres = Genre.objects.bulk_create([Genre(name=f"Genre {g}", slug=f"genre-{g}") for g in range(n_genres)])
        title_genre = rng.integers(0, n_genres, n_titles)
        titles = Title.objects.bulk_create(
            [
                Title(
                    name=f"Synthetic {i}",
                    slug=f"synthetic-{i}",
                    external_id=f"syn:{i}",
                    year=1950 + int(rng.integers(0, 75)),
                    maturity_rating="PG-13",
                    maturity_level=3,
                )
                for i in range(n_titles)
            ],
            batch_size=5000,
        )
        Title.genres.through.objects.bulk_create(
            [Title.genres.through(title_id=t.pk, genre_id=genres[title_genre[i]].pk) for i, t in enumerate(titles)],
            batch_size=5000,
        )
        users = User.objects.bulk_create(
            [User(username=f"syn-{u}", password="!") for u in range(n_profiles)], batch_size=5000
        )
        profiles = Profile.objects.bulk_create([Profile(account=u, name="Main") for u in users], batch_size=5000)
        ConsentState.objects.bulk_create(
            [ConsentState(account_id=u.pk, purpose="personalization", granted=True) for u in users], batch_size=5000
        )
    title_pk = np.array([t.pk for t in titles])
    profile_pk = np.array([p.pk for p in profiles])
    log_pop = -0.8 * np.log(rng.permutation(n_titles) + 10.0)
    user_genre = rng.integers(0, n_genres, n_profiles)
    values = np.array(["love", "up", "down"])
    start = timezone.now().timestamp() - 2 * 365 * 86400
    table = Rating._meta.db_table
    sql = f"INSERT INTO {table} (profile_id, title_id, value, created_at, updated_at) VALUES (%s, %s, %s, %s, %s)"
    batch = 1000
    with transaction.atomic(), connection.cursor() as cursor:
        for b in range(0, n_profiles, batch):
            ug = user_genre[b : b + batch]
            scores = log_pop[None, :] + 2.0 * (title_genre[None, :] == ug[:, None])
            scores = scores + rng.gumbel(size=scores.shape)
            chosen = np.argpartition(-scores, per_profile, axis=1)[:, :per_profile]
            n = chosen.size
            ts = start + rng.random(n) * 2 * 365 * 86400
            stamps = [time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) for t in ts]
            vals = values[rng.choice(3, size=n, p=[0.35, 0.5, 0.15])]
            rows = zip(
                np.repeat(profile_pk[b : b + batch], per_profile).tolist(),
                title_pk[chosen.ravel()].tolist(),
                vals.tolist(),
                stamps,
                stamps,
                strict=True,
            )
            cursor.executemany(sql, list(rows))
    return {"profiles": n_profiles, "titles": n_titles, "ratings": per_profile * n_profiles}


def child(url: str, args) -> None:
    os.environ.setdefault("MODEL_ROOT", str(Path(url.replace("sqlite:///", "")).parent / "models"))
    setup_django(url)
    from dataclasses import replace

    from django.core.management import call_command

    from recommendations import dataset, training

    t0 = time.perf_counter()
    if args.case == "ml":
        if not Path(args.data).is_dir():
            print(json.dumps({"skipped": f"{args.data} not found"}))
            return
        call_command("import_movielens", args.data, verbosity=0)
        loaded = {"source": args.data}
    else:
        loaded = generate_synthetic(args.interactions)
    load_seconds = time.perf_counter() - t0

    data, assembly_s, _ = _measure(dataset.assemble, traced=False)
    _, _, assembly_peak = _measure(dataset.assemble, traced=True)
    del data

    # The whole retrain as the Celery task runs it: assembly, split fit + evaluation, final fit,
    # artifacts, registry, promotion.
    overrides = {"epochs": args.epochs} if args.epochs else {}
    params = replace(training.current_params(), **overrides)
    mv, retrain_s, _ = _measure(lambda: training.train_and_register(trigger="bench", params=params), traced=False)
    c = mv.data_counts
    print(
        json.dumps(
            {
                "case": args.case,
                "loaded": loaded,
                "load_seconds": round(load_seconds, 1),
                "counts": c,
                "assembly_seconds": round(assembly_s, 2),
                "assembly_peak_mb": round(assembly_peak / 2**20, 1),
                "retrain_seconds": round(retrain_s, 1),
                "evaluation_seconds": c["evaluation_seconds"],
                "fit_seconds": c["fit_seconds"],
                "epochs": c["epochs"],
                "eval_epochs": c["eval_epochs"],
                "eval_train": c["train"],
                "status": mv.status,
                "ndcg": mv.metrics.get("ndcg@10"),
                "pop_ndcg": mv.baseline_metrics.get("ndcg@10"),
                "no_components": params.no_components,
                "threads": params.num_threads,
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "assembly_over_fit": round(assembly_s / c["fit_seconds"], 3),
                "load_average": os.getloadavg()[0],
            }
        )
    )


TARGET_SECONDS = {"ml": 60, "synthetic": 600}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--case", choices=["ml", "synthetic", "both"], default="both")
    parser.add_argument("--data", default=ML_DIR)
    parser.add_argument("--interactions", type=int, default=2_000_000)
    parser.add_argument("--epochs", type=int, default=0, help="override HybridParams.epochs")
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    # SQLite only: the synthetic generator writes raw SQLite-formatted timestamps.
    os.environ.pop("DATABASE_URL", None)
    failed = False
    for case in ["ml", "synthetic"] if args.case == "both" else [args.case]:
        extra = ["--case", case, "--data", args.data, "--interactions", str(args.interactions)]
        if args.epochs:
            extra += ["--epochs", str(args.epochs)]
        for r in run_children(__file__, f"training_{case}", extra):
            if "skipped" in r:
                print(f"{case}: skipped ({r['skipped']})")
                continue
            c = r["counts"]
            ok = r["assembly_seconds"] <= r["fit_seconds"] / 2
            in_time = r["retrain_seconds"] <= TARGET_SECONDS[case]
            failed |= not (ok and in_time)
            print(
                f"{case} [{r['database']}]: {c['interactions']:,} positives from {c['raw_interactions']:,} rows, "
                f"{c['profiles']:,} profiles, {c['titles']:,} titles, {c['item_features']:,} item features "
                f"(data loaded in {r['load_seconds']} s)\n"
                f"  full retrain (train_and_register) {r['retrain_seconds']:.1f} s "
                f"(target <= {TARGET_SECONDS[case]} s: {'met' if in_time else 'MISSED'}): "
                f"split fit + evaluation {r['evaluation_seconds']:.1f} s ({r['eval_train']:,} positives, "
                f"{r['eval_epochs']} epochs), final fit {r['fit_seconds']:.1f} s ({r['epochs']} epochs, "
                f"{r['no_components']} components, {r['threads']} threads); {r['status']}, nDCG@10 "
                f"{r['ndcg']:.4f} vs popularity {r['pop_ndcg']:.4f}\n"
                f"  assembly {r['assembly_seconds']:.2f} s, peak {r['assembly_peak_mb']} MB (tracemalloc); "
                f"assembly / final fit = {r['assembly_over_fit']:.3f} (target <= 0.5: {'met' if ok else 'MISSED'}); "
                f"process max RSS {r['max_rss_mb']} MB; load average {r['load_average']:.1f}"
            )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
