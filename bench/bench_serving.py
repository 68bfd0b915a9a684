"""Serving speed (issue 3, req 7): personalized home vs non-personalized home, and catalog scoring.

    .venv/bin/python bench/bench_serving.py [--requests N] [--seed N]

In a fresh temporary SQLite database: `seed_demo`, then `train_recommender` (or, if that
command is missing or promotes nothing, a small LightFM fitted here on the same data), then:

1. the home page of one demo profile through Django's test client (middleware, view, template:
   the whole request), N times each:
   - personalized, steady state (the profile's fold-in is cached until its next engagement);
   - personalized, cold (the profile's cache entry dropped before every request, so every
     request re-reads its interactions and folds it in afresh: the page load after a rating);
   - non-personalized: the same profile and code path with the serving model switched off.
   Target: personalized p95 <= 2x non-personalized p95.
2. scoring the whole catalog for one profile (`ServingModel.score`: bias folded into one
   matrix-vector product), and with the masked top-K a request does, vs a bare numpy
   matrix-vector product of the same size. Target: <= 3x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def setup(tmp: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["PRIVATE_ROOT"] = f"{tmp}/var"
    os.environ["MODEL_ROOT"] = f"{tmp}/var/models"
    os.environ.pop("REDIS_URL", None)  # the embedded stack: local-memory cache, in-process tasks
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("HTTPS", "false")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("API_THROTTLE", "off")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def train_fallback() -> str:
    """A small LightFM on the seeded ratings (only when train_recommender is unavailable)."""
    import numpy as np
    import scipy.sparse as sp
    from lightfm import LightFM

    from catalog.models import Rating, Title
    from recommendations import artifacts
    from recommendations.models import ModelVersion

    title_ids = np.asarray(Title.objects.order_by("id").values_list("id", flat=True))
    col = {int(t): i for i, t in enumerate(title_ids)}
    pairs = list(Rating.objects.exclude(value="down").values_list("profile_id", "title_id"))
    profile_ids = np.asarray(sorted({p for p, _ in pairs}))
    row = {int(p): i for i, p in enumerate(profile_ids)}
    u = [row[p] for p, _ in pairs]
    i = [col[t] for _, t in pairs]
    inter = sp.coo_matrix((np.ones(len(u), np.float32), (u, i)), shape=(len(profile_ids), len(title_ids)))
    model = LightFM(no_components=32, loss="warp", random_state=0)
    model.fit(inter, epochs=20, num_threads=2)
    ib, iv = model.get_item_representations()
    ub, uv = model.get_user_representations()
    artifacts.save(
        artifacts.ModelArtifacts(
            version="bench",
            title_ids=title_ids,
            item_vecs=iv,
            item_bias=ib,
            profile_ids=profile_ids,
            user_vecs=uv,
            user_bias=ub,
            user_feature_names=np.asarray([], dtype=str),
            user_feature_vecs=np.zeros((0, 32), np.float32),
            user_feature_bias=np.zeros(0, np.float32),
        )
    )
    ModelVersion.objects.create(version="bench", status="serving")
    return "bench (fitted by this script)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", help="keep the database and model here (reused when present)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="marquee-bench-serving-") as tmp:
        if args.workdir:
            tmp = args.workdir
            Path(tmp).mkdir(parents=True, exist_ok=True)
        setup(tmp)
        from django.test.utils import setup_test_environment

        setup_test_environment()  # the test client then records each response's context
        from django.core.cache import cache
        from django.core.management import call_command
        from django.test import Client

        from accounts.active import SESSION_KEY
        from accounts.models import Profile
        from recommendations import foldin, serving
        from recommendations.selectors import serving_version

        t0 = time.perf_counter()
        call_command("seed_demo", "--seed", str(args.seed))
        print(f"seed_demo: {time.perf_counter() - t0:.1f}s")
        t0 = time.perf_counter()
        if serving_version() is None:
            try:
                call_command("train_recommender")
            except Exception as exc:  # fall back to a local fit, and say so
                print(f"train_recommender unavailable or failed ({exc}); fitting a small model here")
        mv = serving_version()
        source = f"{mv.version} (train_recommender)" if mv else train_fallback()
        print(f"model: {source}, {time.perf_counter() - t0:.1f}s")

        profile = (
            Profile.objects.filter(account__username="demo", is_kids=False).order_by("id").first()
            or Profile.objects.filter(is_kids=False).order_by("id").first()
        )
        client = Client()
        client.force_login(profile.account)
        session = client.session
        session[SESSION_KEY] = profile.pk
        session.save()

        real_get_model = serving.get_model

        def off():
            return serving.Lookup(None, serving.NO_MODEL)

        def drop_foldin():
            cache.delete(foldin.profile_cache_key(profile.pk))

        # (label, serving on?, before each request)
        variants = [
            ("personalized, steady (cached fold-in)", True, None),
            ("personalized, cold (fold-in each time)", True, drop_foldin),
            ("non-personalized (same profile)", False, None),
        ]
        times: dict[str, list[float]] = {label: [] for label, _, _ in variants}

        def one(label, on, before, record=True):
            serving.get_model = real_get_model if on else off
            try:
                if before:
                    before()
                started = time.perf_counter()
                response = client.get("/")
                elapsed = (time.perf_counter() - started) * 1000
            finally:
                serving.get_model = real_get_model
            assert response.status_code == 200, response.status_code
            assert response.context["home"].personalized is on, label
            if record:
                times[label].append(elapsed)

        for _ in range(10):  # warm up: model load, genre index, shared rows
            for variant in variants:
                one(*variant, record=False)
        # Interleaved, so that load from other processes on the machine hits every variant alike.
        for _ in range(args.requests):
            for variant in variants:
                one(*variant)
        steady, cold, plain = (times[label] for label, _, _ in variants)

        n_rows = len(client.get("/").context["home"].rows)
        serving.get_model = off
        n_plain = len(client.get("/").context["home"].rows)
        serving.get_model = real_get_model
        print(f"\nHome page of profile {profile.pk} ({profile.account.username}), {args.requests} requests each")
        print(f"{'variant':38} {'median ms':>10} {'p95 ms':>10}")
        for label, values in (
            ("personalized, steady (cached fold-in)", steady),
            ("personalized, cold (fold-in each time)", cold),
            ("non-personalized (same profile)", plain),
        ):
            print(f"{label:38} {statistics.median(values):10.2f} {pct(values, 0.95):10.2f}")
        print(f"rows on the page: personalized {n_rows}, non-personalized {n_plain}")
        for label, values in (("steady", steady), ("cold  ", cold)):
            ratio = pct(values, 0.95) / pct(plain, 0.95)
            print(f"ratio p95 personalized {label} / non-personalized: {ratio:.2f}x (target <= 2x)")

        # --- scoring the whole catalog ---------------------------------------------------------
        import numpy as np

        model = serving.get_model().model
        profile.refresh_from_db()
        taste, vec = foldin.profile_state(model, profile)
        allowed = np.ones(model.n_items, dtype=bool)
        allowed[model.rows_of(taste.excluded)] = False
        bare_m = np.ascontiguousarray(model.item_vecs)
        number = 2000

        def best(stmt) -> float:
            return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6

        t_bare = best(lambda: bare_m @ vec)
        t_score = best(lambda: model.score(vec))
        t_topk = best(lambda: serving.top_k(model.score(vec), 40, allowed))
        print(f"\nScoring the whole catalog: {model.n_items} titles x {model.dim} dims (best of 5, microseconds)")
        print(f"{'bare numpy item_vecs @ u':38} {t_bare:10.1f}")
        print(f"{'ServingModel.score (bias folded in)':38} {t_score:10.1f}   {t_score / t_bare:.2f}x (target <= 3x)")
        print(f"{'score + masked top-40 (argpartition)':38} {t_topk:10.1f}   {t_topk / t_bare:.2f}x")
        # The demo profile was trained on: its vector is served as is. The cost that matters is a
        # profile the model never saw (a new sign-up), folded in by WARP epochs (foldin.py).
        t_trained = best(lambda: foldin.profile_vector(model, profile.pk, taste, is_kids=profile.is_kids))
        print(f"{'vector of a trained profile':38} {t_trained:10.1f}")
        number = 50
        t_fold = best(lambda: foldin.profile_vector(model, -1, taste, is_kids=profile.is_kids))
        print(f"{'fold-in of a new profile (WARP epochs)':38} {t_fold:10.1f}   ({len(taste.positives)} positives)")


if __name__ == "__main__":
    main()
