"""`manage.py evaluate_recommender --data DIR`: the offline benchmark through the product's path.

See `recommendations.benchmark` for what is measured and how; `bench/README.md` for the figures.
The flags that shape the model are shorthands for `HybridParams` fields (`--params` takes any).
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recommendations import benchmark
from recommendations.training import HybridParams

# Shorthands for HybridParams fields (`--params` takes any field).
VALUE_FLAGS = {
    "--meta-weight": ("meta_weight", float),
    "--half-life": ("half_life_days", float),
    "--recency-floor": ("recency_floor", float),
}
SWITCHES = {
    "--no-features": ("item_metadata", False, "no item metadata features"),
    "--no-tags": ("top_tags", 0, "no tag features"),
    "--normalize-rows": ("normalize_item_features", True, "each feature row scaled to sum 1 (dilutes identity)"),
    "--include-downs": ("down_strength", 0.25, "down ratings as weak positives"),
    "--unweighted": ("weighted", False, "no sample weights"),
}


class Command(BaseCommand):
    help = (
        "Benchmark the recommender through the product's own path (import, training, the home page's Top picks) "
        "against popularity, vanilla LightFM and EASE on a temporal split of a MovieLens directory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, help="MovieLens directory (ratings.csv, movies.csv, tags.csv)")
        parser.add_argument("--params", default="{}", help="JSON overrides of HybridParams (tuning)")
        parser.add_argument("--seeds", type=int, default=3, help="model seeds; the product's figures are the median")
        parser.add_argument("--seed-override", type=int, help="one model seed only (random_state)")
        for flag, (field, _) in VALUE_FLAGS.items():
            parser.add_argument(flag, type=float, help=f"HybridParams.{field}")
        for flag, (field, value, text) in SWITCHES.items():
            parser.add_argument(flag, action="store_true", help=f"{text} (HybridParams.{field}={value!r})")
        parser.add_argument("--skip-cold", action="store_true", help="no cold users")
        parser.add_argument("--skip-peers", action="store_true", help="only the product (tuning)")
        parser.add_argument(
            "--postgres",
            action="store_true",
            help="scratch databases on the PostgreSQL server of DATABASE_URL instead of SQLite files",
        )
        parser.add_argument("--workdir", help="keep the split, the training directory and the databases here")
        parser.add_argument("--json", help="also write the results as JSON to this file")

    def handle(self, *args, **opts):
        folder = Path(opts["data"])
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a directory")
        try:
            overrides = json.loads(opts["params"])
            if not isinstance(overrides, dict):
                raise TypeError("a JSON object is required")
        except (ValueError, TypeError) as exc:
            raise CommandError(f"--params: {exc}") from exc
        for flag, (field, _) in VALUE_FLAGS.items():
            if opts[flag.lstrip("-").replace("-", "_")] is not None:
                overrides[field] = opts[flag.lstrip("-").replace("-", "_")]
        for flag, (field, value, _) in SWITCHES.items():
            if opts[flag.lstrip("-").replace("-", "_")]:
                overrides[field] = value
        known = {f.name for f in fields(HybridParams)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise CommandError(f"--params: unknown HybridParams field(s) {', '.join(unknown)}")
        try:
            HybridParams(**overrides)
        except (TypeError, ValueError) as exc:
            raise CommandError(f"--params: {exc}") from exc
        if opts["seed_override"] is not None:
            seeds = (opts["seed_override"],)
        else:
            if opts["seeds"] < 1:
                raise CommandError("--seeds must be at least 1")
            seeds = tuple(HybridParams().random_state + i for i in range(opts["seeds"]))
        postgres_url = None
        if opts["postgres"]:
            url = settings.DATABASES["default"]
            if url["ENGINE"] != "django.db.backends.postgresql":
                raise CommandError("--postgres needs DATABASE_URL to point at a PostgreSQL server")
            postgres_url = (
                f"postgres://{url['USER']}:{url['PASSWORD']}@{url['HOST'] or '127.0.0.1'}:{url['PORT'] or 5432}/"
                f"{url['NAME']}"
            )
        try:
            result = benchmark.run(
                folder,
                seeds=seeds,
                overrides=overrides,
                postgres_url=postgres_url,
                skip_peers=opts["skip_peers"],
                skip_cold=opts["skip_cold"],
                workdir=Path(opts["workdir"]) if opts["workdir"] else None,
                log=lambda line: self.stdout.write(line),
            )
        except benchmark.BenchmarkError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(benchmark.report(result))
        self.stdout.write(f"\n(total {result['seconds']:.0f} s)")
        if opts["json"]:
            Path(opts["json"]).write_text(json.dumps(result, indent=2))
