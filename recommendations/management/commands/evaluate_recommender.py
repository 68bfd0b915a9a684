"""Benchmark: the product's model against popularity, vanilla LightFM and EASE on MovieLens.

Reads the CSVs directly (no database). Temporal per-user 80/20 split; relevant = held-out
ratings >= 4.0; titles the user rated in training are excluded from every ranking.

The product's model is built the way production training builds it (`recommendations.dataset`
/ `recommendations.training`): positives from ratings with the same star->thumb mapping as the
importer (>= 4.0 love, 3.0-3.5 up, <= 2.5 down = not a positive), the same strengths and
recency weighting, identity + genres + top tags + decade item features, the same
`HybridParams`.

Cold start, in the same run:
  * cold users: a fixed 20% of the evaluated users keep only their first 5 training ratings
    (every model is refitted on that reduced training set), scored on their held-out future;
  * cold items: titles whose every interaction was held out; each user's ranking is over the
    cold titles only (the "new arrivals" question: which new title first?).
"""

from __future__ import annotations

import csv
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from django.core.management.base import BaseCommand, CommandError

from recommendations import dataset, evaluation
from recommendations.training import HybridParams, fit_hybrid, item_representations

YEAR_RE = re.compile(r"\((\d{4})\)\s*$")


def _thumb_strength(stars: np.ndarray) -> np.ndarray:
    """The importer's star->thumb mapping, then training's strengths (0 = down, not a positive)."""
    return np.where(stars >= 4.0, dataset.STRENGTH["love"], np.where(stars >= 3.0, dataset.STRENGTH["up"], 0.0))


class MovieLens:
    def __init__(self, folder: Path):
        self.folder = folder
        try:
            rows = self._read("ratings.csv")
            self.user_raw = np.array([int(r["userId"]) for r in rows], dtype=np.int64)
            self.movie_raw = np.array([int(r["movieId"]) for r in rows], dtype=np.int64)
            self.stars = np.array([float(r["rating"]) for r in rows])
            self.ts = np.array([float(r["timestamp"]) for r in rows])
            self.movies = self._read("movies.csv")
            self.tags = self._read("tags.csv") if (folder / "tags.csv").exists() else []
        except (KeyError, ValueError) as exc:
            raise CommandError(f"{folder}: malformed MovieLens file ({exc})") from exc
        self.movie_ids = np.unique(np.r_[self.movie_raw, [int(m["movieId"]) for m in self.movies]])
        self.user_ids = np.unique(self.user_raw)
        self.users = np.searchsorted(self.user_ids, self.user_raw)
        self.items = np.searchsorted(self.movie_ids, self.movie_raw)

    def _read(self, name):
        path = self.folder / name
        if not path.exists():
            raise CommandError(f"{path} not found")
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    def item_features(self, meta_weight: float, top_tags: int, use_tags: bool = True, use_decade: bool = True):
        rows, names, weights = [], [], []
        for m in self.movies:
            i = int(np.searchsorted(self.movie_ids, int(m["movieId"])))
            for g in m["genres"].split("|"):
                if g and g != "(no genres listed)":
                    rows.append(i)
                    names.append(f"genre:{g.lower()}")
                    weights.append(1.0)
            year = YEAR_RE.search(m["title"].strip())
            if year and use_decade:
                rows.append(i)
                names.append(f"decade:{int(year.group(1)) // 10 * 10}")
                weights.append(1.0)
        if use_tags and self.tags:
            t_rows = np.searchsorted(self.movie_ids, np.array([int(t["movieId"]) for t in self.tags]))
            t_names = np.array([f"tag:{t['tag'].strip().lower()}" for t in self.tags])
            # Tag weight = how many times the title was given the tag; keep each title's top tags.
            pairs, counts = np.unique(np.char.add(np.char.add(t_rows.astype(str), "\t"), t_names), return_counts=True)
            pr = np.array([int(p.split("\t", 1)[0]) for p in pairs], dtype=np.int64)
            pn = np.array([p.split("\t", 1)[1] for p in pairs])
            keep = dataset.top_per_row(pr, counts.astype(float), top_tags)
            rows += list(pr[keep])
            names += list(pn[keep])
            weights += list(counts[keep].astype(float))
        return dataset.feature_matrix(
            len(self.movie_ids),
            [f"title:{m}" for m in self.movie_ids],
            np.asarray(rows, dtype=np.int64),
            np.asarray(names),
            np.asarray(weights),
            meta_weight=meta_weight,
        )


class Command(BaseCommand):
    help = "Benchmark the recommender against popularity, vanilla LightFM and EASE on MovieLens CSVs."

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, help="MovieLens directory (ratings.csv, movies.csv, tags.csv)")
        parser.add_argument("--params", default="{}", help="JSON overrides of HybridParams (for tuning)")
        parser.add_argument("--meta-weight", type=float, default=dataset.META_WEIGHT)
        parser.add_argument("--half-life", type=float, default=dataset.HALF_LIFE_DAYS)
        parser.add_argument("--recency-floor", type=float, default=dataset.RECENCY_FLOOR)
        parser.add_argument("--no-features", action="store_true", help="project model without item features")
        parser.add_argument("--no-tags", action="store_true")
        parser.add_argument(
            "--normalize-rows",
            action="store_true",
            help="scale each feature row to sum 1 (lightfm.data.Dataset's default; dilutes identity)",
        )
        parser.add_argument("--include-downs", action="store_true", help="low ratings as weak positives")
        parser.add_argument("--unweighted", action="store_true", help="no sample weights")
        parser.add_argument("--skip-cold", action="store_true")
        parser.add_argument("--skip-peers", action="store_true", help="only the project model (tuning)")
        parser.add_argument("--seed-override", type=int, help="random_state of the project model (noise checks)")
        parser.add_argument("--json", help="also write the results as JSON to this file")

    def handle(self, *args, **opts):
        folder = Path(opts["data"])
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a directory")
        try:
            overrides = json.loads(opts["params"])
            params = replace(HybridParams(), **overrides)
            if opts["seed_override"] is not None:
                params = replace(params, random_state=opts["seed_override"])
        except (ValueError, TypeError) as exc:
            raise CommandError(f"--params: {exc}") from exc
        t0 = time.monotonic()
        ml = MovieLens(folder)
        self.opts = opts
        self.ml = ml
        self.params = params
        n_users, n_items = len(ml.user_ids), len(ml.movie_ids)
        test_mask = evaluation.temporal_split(ml.users, ml.ts)
        self.stdout.write(
            f"{folder}: {n_users} users, {n_items} titles, {len(ml.users)} ratings; "
            f"train {(~test_mask).sum()}, held out {test_mask.sum()}"
        )
        if opts["no_features"]:
            self.item_feat = None
        else:
            self.item_feat, names = ml.item_features(
                opts["meta_weight"], dataset.TOP_TAGS, use_tags=not opts["no_tags"]
            )
            self.stdout.write(f"item features: {len(names) - n_items} metadata + {n_items} identity")
            if opts["normalize_rows"]:
                sums = np.asarray(self.item_feat.sum(axis=1)).ravel()
                self.item_feat = sp.csr_matrix(sp.diags(1.0 / np.maximum(sums, 1e-12)) @ self.item_feat)
        shape = (n_users, n_items)
        rel = test_mask & (ml.stars >= 4.0)
        test = sp.csr_matrix((np.ones(rel.sum()), (ml.users[rel], ml.items[rel])), shape=shape)
        results = self.run_all(~test_mask, test)
        self.stdout.write("\nAll users (temporal 80/20, relevant = held-out >= 4.0)")
        self.stdout.write(evaluation.format_table(results))
        out = {"all": results, "params": params.to_dict()}
        if not opts["skip_peers"]:
            van, ease = results["vanilla LightFM"]["ndcg@10"], results["EASE (l=250)"]["ndcg@10"]
            proj = results["Marquee hybrid"]["ndcg@10"]
            self.stdout.write(
                f"\nMarquee / vanilla LightFM nDCG@10 = {proj / van:.3f} (target >= 1.15); "
                f"Marquee / EASE = {proj / ease:.3f} (target >= 1.00)"
            )
        if not opts["skip_cold"]:
            out["cold_users"] = self.cold_users(test_mask, test)
            out["cold_items"] = self.cold_items(test_mask, test)
        self.stdout.write(f"\n(total {time.monotonic() - t0:.1f} s)")
        if opts["json"]:
            Path(opts["json"]).write_text(json.dumps(out, indent=2))

    # --- models -------------------------------------------------------------------------------

    def run_all(self, train_mask: np.ndarray, test: sp.csr_matrix, *, users=None, score_wrap=None) -> dict:
        ml, opts = self.ml, self.opts
        shape = (len(ml.user_ids), len(ml.movie_ids))
        u, i = ml.users[train_mask], ml.items[train_mask]
        train_all = sp.csr_matrix((np.ones(len(u)), (u, i)), shape=shape)
        train_all.sum_duplicates()
        train_all.data[:] = 1.0
        wrap = score_wrap or (lambda f: f)
        results, timings = {}, {}

        t = time.monotonic()
        strength = _thumb_strength(ml.stars[train_mask])
        if opts["include_downs"]:
            strength = np.maximum(strength, 0.25)
        pos = strength > 0
        w = strength * dataset.recency(
            ml.ts[train_mask], now=float(ml.ts.max()), half_life_days=opts["half_life"], floor=opts["recency_floor"]
        )
        inter = sp.coo_matrix((np.ones(pos.sum(), np.float32), (u[pos], i[pos])), shape=shape)
        weight = (
            None if opts["unweighted"] else sp.coo_matrix((w[pos].astype(np.float32), (u[pos], i[pos])), shape=shape)
        )
        model = fit_hybrid(self.params, inter, weight, user_features=None, item_features=self.item_feat)
        item_vecs, item_bias = item_representations(model, self.item_feat, self.params, train_all)
        _, user_vecs = model.get_user_representations()
        results["Marquee hybrid"] = evaluation.evaluate(
            wrap(evaluation.matrix_scorer(user_vecs, item_vecs, item_bias)), train_all, test, users=users
        )
        timings["Marquee hybrid"] = time.monotonic() - t
        if opts["skip_peers"]:
            return self._with_times(results, timings)

        t = time.monotonic()
        pop = evaluation.popularity_scores(train_all)
        results["popularity"] = evaluation.evaluate(
            wrap(evaluation.popularity_scorer(pop)), train_all, test, users=users
        )
        timings["popularity"] = time.monotonic() - t

        t = time.monotonic()
        from lightfm import LightFM

        vanilla = LightFM(loss="warp", random_state=42)  # library defaults otherwise
        vanilla.fit(train_all.tocoo().astype(np.float32), epochs=30, num_threads=2)
        vb, vv = vanilla.get_item_representations()
        _, vu = vanilla.get_user_representations()
        results["vanilla LightFM"] = evaluation.evaluate(
            wrap(evaluation.matrix_scorer(vu, vv, vb)), train_all, test, users=users
        )
        timings["vanilla LightFM"] = time.monotonic() - t

        t = time.monotonic()
        b = evaluation.ease_item_matrix(train_all, lam=250.0)
        results["EASE (l=250)"] = evaluation.evaluate(
            wrap(evaluation.ease_scorer(train_all, b)), train_all, test, users=users
        )
        timings["EASE (l=250)"] = time.monotonic() - t
        return self._with_times(results, timings)

    @staticmethod
    def _with_times(results, timings):
        for name, sec in timings.items():
            results[name]["seconds"] = round(sec, 2)
        return results

    def cold_users(self, test_mask, test) -> dict:
        ml = self.ml
        evaluated = np.flatnonzero(np.diff(test.indptr) > 0)
        rng = np.random.default_rng(0)
        cold = np.sort(rng.choice(evaluated, size=max(1, len(evaluated) // 5), replace=False))
        train_mask = ~test_mask
        # Keep each cold user's first 5 training ratings (by time), drop the rest of their past.
        is_cold = np.isin(ml.users, cold) & train_mask
        idx = np.flatnonzero(is_cold)
        order = idx[np.lexsort((ml.ts[idx], ml.users[idx]))]
        u_sorted = ml.users[order]
        starts = np.r_[0, np.flatnonzero(np.diff(u_sorted)) + 1]
        pos = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        reduced = train_mask.copy()
        reduced[order[pos >= 5]] = False
        results = self.run_all(reduced, test, users=cold)
        self.stdout.write(f"\nCold users ({len(cold)} held-out users with only their first 5 training ratings)")
        self.stdout.write(evaluation.format_table(results))
        return results

    def cold_items(self, test_mask, test) -> dict:
        ml = self.ml
        n_items = len(ml.movie_ids)
        in_train = np.zeros(n_items, dtype=bool)
        in_train[ml.items[~test_mask]] = True
        in_test = np.zeros(n_items, dtype=bool)
        in_test[ml.items[test_mask]] = True
        cold = in_test & ~in_train
        cold_test = sp.csr_matrix(test.multiply(cold[None, :].astype(float)))
        cold_test.eliminate_zeros()
        users = np.flatnonzero(np.diff(cold_test.indptr) > 0)

        def only_cold(score_fn):
            def score(u):
                s = np.array(score_fn(u), dtype=np.float64, copy=True)
                s[:, ~cold] = -np.inf
                return s

            return score

        results = self.run_all(~test_mask, cold_test, users=users, score_wrap=only_cold)
        self.stdout.write(
            f"\nCold items ({int(cold.sum())} titles whose every rating was held out; {len(users)} users "
            "with a relevant one; ranking among cold titles only)"
        )
        self.stdout.write(evaluation.format_table(results))
        return results
