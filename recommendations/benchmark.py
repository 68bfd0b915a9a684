"""The offline benchmark, measured through the product's own path (`manage.py evaluate_recommender`).

What a person gets is what is measured, so nothing of the product is rebuilt here:

    a MovieLens directory
    -> split: each user's ratings by time, the last 20% held out (at least one); relevant =
       held-out ratings >= 4.0 stars; a seeded 10% of the users held out entirely ("cold users")
    -> the training part written as a MovieLens directory (tags only as known at each user's
       cut-off, no tag of a cold user)
    -> child process, scratch database (a SQLite file, or a throwaway PostgreSQL database):
       migrate, `catalog.importing.movielens.movielens_import`
    -> child process per seed, on a copy of that database:
         `training.train_and_register` (the pipeline behind the Celery task),
         each warm user's Top picks from `home.build_home` (serving, taste, exclusions,
         visibility: the home page's own code), and the trained vectors' own top 10 ("model"),
         each cold user: an account, its first 5 ratings through `catalog.services.rating_set`
         (what the API calls), then its Top picks from `build_home`,
         cold items: the served and the trained vectors ranked over the titles nobody had rated
    -> in this process, on the same split: popularity, vanilla LightFM (library defaults, WARP,
       30 epochs, positives = ratings >= 3.5, mean of 3 seeds) and EASE (lambda chosen on a
       validation split of the training part); peers see the cold users' 5 ratings in training
    -> P@10, R@10, nDCG@10 and catalog coverage, with every ratio to every peer.

The product's figures are the median over seeds (`random_state` of the model); the peers' are
the same in every seed's comparison.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
import scipy.sparse as sp
from django.core.management import call_command
from scipy.linalg import lapack

from accounts.models import Profile
from accounts.services import user_create
from catalog.importing.movielens import ImportRefused, movielens_import, parse_dataset, stars_to_value
from catalog.models import Rating, Title
from catalog.selectors import title_get_for_profile
from catalog.services import rating_set
from privacy import consent

from . import artifacts, evaluation, foldin, serving, training
from .home import build_home
from .serving import top_k

ROOT = Path(__file__).resolve().parent.parent
RELEVANT_STARS = 4.0
PEER_POSITIVE_STARS = 3.5
TEST_FRACTION = 0.2
COLD_USER_FRACTION = 0.10
COLD_USER_RATINGS = 5
VANILLA_EPOCHS = 30
VANILLA_SEEDS = (0, 1, 2)
EASE_LAMBDAS = (10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0)
K = evaluation.K
SERVED, MODEL = "Marquee as served", "Marquee model (trained vectors)"
POPULARITY, VANILLA, EASE = "popularity", "vanilla LightFM", "EASE"


class BenchmarkError(Exception):
    """The input cannot be benchmarked (the message says why; nothing was written outside a temp dir)."""


# --- the split -----------------------------------------------------------------------------


@dataclass
class Split:
    movie_ids: np.ndarray  # catalog order: the column of each movie in the peers' matrices
    users: np.ndarray  # per rating: MovieLens userId
    movies: np.ndarray  # per rating: movieId
    stars: np.ndarray
    ts: np.ndarray
    train: np.ndarray  # bool per rating: in the imported training part
    test: np.ndarray  # bool per rating: held out of a warm user
    cold_users: list[int]
    cold_first: np.ndarray  # bool per rating: one of a cold user's first 5 (given after training)
    cutoff: dict[int, int] = field(default_factory=dict)  # warm user -> last training timestamp

    @property
    def warm_users(self) -> list[int]:
        return sorted(set(self.users[self.train].tolist()))

    def relevant(self, mask: np.ndarray) -> dict[int, set[int]]:
        rel: dict[int, set[int]] = {}
        m = mask & (self.stars >= RELEVANT_STARS)
        for u, i in zip(self.users[m].tolist(), self.movies[m].tolist(), strict=True):
            rel.setdefault(u, set()).add(i)
        return rel

    def cold_first_ratings(self) -> dict[str, list[list]]:
        """Each cold user's first ratings, [[movieId, stars], ...] in time order (JSON-able)."""
        out: dict[str, list[list]] = {}
        for u, m, stars in zip(
            self.users[self.cold_first], self.movies[self.cold_first], self.stars[self.cold_first], strict=True
        ):
            out.setdefault(str(int(u)), []).append([int(m), float(stars)])
        return {str(u): out.get(str(u), []) for u in self.cold_users}

    def cold_items(self) -> np.ndarray:
        """Movies with a relevant held-out rating and no rating at all in the training part."""
        trained = set(self.movies[self.train].tolist())
        held = set(self.movies[self.test & (self.stars >= RELEVANT_STARS)].tolist())
        return np.asarray(sorted(held - trained), dtype=np.int64)


def make_split(data, *, seed: int = 0) -> Split:
    """Per-user temporal split of a parsed MovieLens dataset (`catalog.importing.movielens.Dataset`)."""
    keys = list(data.ratings)
    if not keys:
        raise BenchmarkError("ratings.csv holds no ratings")
    users = np.fromiter((u for u, _ in keys), dtype=np.int64, count=len(keys))
    movies = np.fromiter((m for _, m in keys), dtype=np.int64, count=len(keys))
    stars = np.fromiter((data.ratings[k][0] for k in keys), dtype=np.float64, count=len(keys))
    ts = np.fromiter((data.ratings[k][1] for k in keys), dtype=np.int64, count=len(keys))
    # By user, then time, then movie: ties in time (MovieLens has many) split deterministically.
    order = np.lexsort((movies, ts, users))
    users, movies, stars, ts = users[order], movies[order], stars[order], ts[order]
    starts = np.r_[0, np.flatnonzero(np.diff(users)) + 1]
    counts = np.diff(np.r_[starts, len(users)])
    pos = np.arange(len(users)) - np.repeat(starts, counts)
    uniq = users[starts]

    rng = np.random.default_rng(seed)
    eligible = uniq[counts > COLD_USER_RATINGS]
    n_cold = round(len(uniq) * COLD_USER_FRACTION)
    n_cold = min(len(eligible), max(1 if len(uniq) >= 10 else 0, n_cold))
    cold = np.sort(rng.choice(eligible, size=n_cold, replace=False)) if n_cold else np.zeros(0, np.int64)
    is_cold = np.isin(users, cold)

    n_test = np.minimum(counts - 1, np.maximum(1, np.floor(counts * TEST_FRACTION).astype(np.int64)))
    test = (pos >= np.repeat(counts - n_test, counts)) & ~is_cold
    train = ~test & ~is_cold
    cold_first = is_cold & (pos < COLD_USER_RATINGS)
    cutoff = {}
    for u, t in zip(users[train].tolist(), ts[train].tolist(), strict=True):
        cutoff[u] = t  # sorted by time within a user: the last one wins
    movie_ids = np.asarray(sorted(data.movies), dtype=np.int64)
    return Split(movie_ids, users, movies, stars, ts, train, test, cold.tolist(), cold_first, cutoff)


def write_training_directory(split: Split, source: Path, target: Path) -> None:
    """The training part as a MovieLens directory: all movies, training ratings, tags as known then."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "movies.csv", target / "movies.csv")
    if (source / "links.csv").is_file():
        shutil.copyfile(source / "links.csv", target / "links.csv")
    with (target / "ratings.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        m = split.train
        for row in zip(split.users[m], split.movies[m], split.stars[m], split.ts[m], strict=True):
            w.writerow([int(row[0]), int(row[1]), f"{row[2]:g}", int(row[3])])
    if (source / "tags.csv").is_file():
        cold = set(split.cold_users)
        with (
            (source / "tags.csv").open(newline="", encoding="utf-8-sig") as src,
            (target / "tags.csv").open("w", newline="", encoding="utf-8") as dst,
        ):
            reader = csv.DictReader(src)
            w = csv.writer(dst)
            w.writerow(["userId", "movieId", "tag", "timestamp"])
            for row in reader:
                user, stamp = int(row["userId"]), int(row["timestamp"])
                # A tag written after the user's cut-off would leak their held-out future.
                if user in cold or (user in split.cutoff and stamp > split.cutoff[user]):
                    continue
                w.writerow([row["userId"], row["movieId"], row["tag"], row["timestamp"]])


# --- peers (pure numpy; same split, same run) ----------------------------------------------


class Peers:
    """Popularity, vanilla LightFM and EASE on the training part plus the cold users' 5 ratings."""

    def __init__(self, split: Split, *, log=print):
        self.split = split
        self.log = log
        self.col = {int(m): i for i, m in enumerate(split.movie_ids)}
        self.user_ids = np.asarray(sorted(set(split.users.tolist())), dtype=np.int64)
        self.row = {int(u): i for i, u in enumerate(self.user_ids)}
        known = split.train | split.cold_first
        self.seen = self._matrix(known)  # every rating a peer knows (excluded from its ranking)
        self.positives = self._matrix(known & (split.stars >= PEER_POSITIVE_STARS))

    def _matrix(self, mask: np.ndarray) -> sp.csr_matrix:
        s = self.split
        rows = np.fromiter((self.row[int(u)] for u in s.users[mask]), dtype=np.int64)
        cols = np.fromiter((self.col[int(m)] for m in s.movies[mask]), dtype=np.int64)
        x = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(self.user_ids), len(self.col)))
        x.sum_duplicates()
        x.data[:] = 1.0
        return x

    def _lists(self, score_fn, users: list[int], allowed=None) -> dict[int, list[int]]:
        idx = np.asarray([self.row[u] for u in users], dtype=np.int64)
        top = evaluation.scorer_top_lists(score_fn, self.seen, idx, k=K, allowed=allowed)
        return {int(self.user_ids[r]): [int(self.split.movie_ids[c]) for c in cols] for r, cols in top.items()}

    def run(self, groups: dict[str, tuple[list[int], np.ndarray | None]]) -> dict[str, dict[str, dict]]:
        """{peer: {group: top lists}} for each group of (users, allowed movie mask or None)."""
        out: dict[str, dict[str, dict]] = {}
        t = time.monotonic()
        pop = evaluation.popularity_scores(self.positives)
        out[POPULARITY] = {
            g: self._lists(evaluation.popularity_scorer(pop), users, allowed) for g, (users, allowed) in groups.items()
        }
        self.log(f"  popularity: {time.monotonic() - t:.1f} s")

        t = time.monotonic()
        lam = self.choose_ease_lambda()
        b = ease_item_matrix(self.positives, lam=lam)
        ease = evaluation.ease_scorer(self.positives, b)
        out[f"{EASE} (lambda {lam:g})"] = {g: self._lists(ease, u, a) for g, (u, a) in groups.items()}
        self.ease_lambda = lam
        self.log(f"  EASE: lambda {lam:g} chosen on validation, {time.monotonic() - t:.1f} s")

        from lightfm import LightFM

        t = time.monotonic()
        per_seed = []
        for seed in VANILLA_SEEDS:
            vanilla = LightFM(loss="warp", random_state=seed)  # the library's defaults otherwise
            vanilla.fit(self.positives.tocoo(), epochs=VANILLA_EPOCHS, num_threads=2)
            vb, vv = vanilla.get_item_representations()
            _, vu = vanilla.get_user_representations()
            score = evaluation.matrix_scorer(vu, vv, vb)
            per_seed.append({g: self._lists(score, u, a) for g, (u, a) in groups.items()})
        out[VANILLA] = {"seeds": per_seed}
        self.log(f"  vanilla LightFM: {len(VANILLA_SEEDS)} seeds, {time.monotonic() - t:.1f} s")
        return out

    def choose_ease_lambda(self) -> float:
        """The lambda with the best nDCG@10 on the last 20% of each user's training positives."""
        s = self.split
        mask = s.train & (s.stars >= PEER_POSITIVE_STARS)
        users, ts = s.users[mask], s.ts[mask]
        val = np.zeros(len(s.users), dtype=bool)
        val[np.flatnonzero(mask)] = evaluation.temporal_split(users, ts.astype(np.float64))
        fit = self._matrix((s.train | s.cold_first) & ~val & (s.stars >= PEER_POSITIVE_STARS))
        seen = self._matrix((s.train | s.cold_first) & ~val)
        rel: dict[int, set[int]] = {}
        for u, m in zip(s.users[val].tolist(), s.movies[val].tolist(), strict=True):
            if m in self.col:
                rel.setdefault(self.row[u], set()).add(self.col[m])
        users = np.asarray(sorted(rel), dtype=np.int64)
        best, best_ndcg = EASE_LAMBDAS[0], -1.0
        for lam in EASE_LAMBDAS:
            b = ease_item_matrix(fit, lam=lam)
            top = evaluation.scorer_top_lists(evaluation.ease_scorer(fit, b), seen, users, k=K)
            ndcg = evaluation.list_metrics(top, rel, n_items=fit.shape[1])["ndcg@10"]
            self.log(f"    EASE lambda {lam:g}: validation nDCG@10 {ndcg:.4f}")
            if ndcg > best_ndcg:
                best, best_ndcg = lam, ndcg
        return best


def ease_item_matrix(train: sp.spmatrix, *, lam: float) -> np.ndarray:
    """EASE's B over the items with any interaction (the others score 0 either way), via Cholesky.

    Same model as `evaluation.ease_item_matrix`; the Cholesky inverse of the Gram matrix is about
    three times faster than a general inverse, which matters for a 10k-title catalog.
    """

    x = sp.csr_matrix(train, dtype=np.float64)
    x.data[:] = 1.0
    active = np.flatnonzero(np.diff(sp.csc_matrix(x).indptr) > 0)
    xa = x[:, active]
    g = (xa.T @ xa).toarray()
    g[np.diag_indices_from(g)] += lam
    c, info = lapack.dpotrf(g, lower=False, overwrite_a=True)
    if info != 0:
        raise BenchmarkError(f"EASE: Cholesky failed ({info})")
    p, info = lapack.dpotri(c, lower=False, overwrite_c=True)
    if info != 0:
        raise BenchmarkError(f"EASE: inverse failed ({info})")
    p = np.triu(p) + np.triu(p, 1).T
    b_active = p / (-np.diag(p))
    b_active[np.diag_indices_from(b_active)] = 0.0
    n = x.shape[1]
    b = np.zeros((n, n), dtype=np.float32)
    b[np.ix_(active, active)] = b_active.astype(np.float32)
    return b


# --- the product path, in child processes ---------------------------------------------------


# The child sets Django up before anything imports a model.
_CHILD = (
    "import sys, django; django.setup(); from recommendations.benchmark import child_main; child_main(sys.argv[1:])"
)


def _child_env(database_url: str, private_root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=database_url,
        PRIVATE_ROOT=str(private_root),
        MODEL_ROOT=str(private_root / "models"),
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        HTTPS="false",
        LOG_LEVEL=os.environ.get("MARQUEE_BENCH_LOG_LEVEL", "WARNING"),
    )
    return env


def _run_child(args: list[str], env: dict, log) -> dict:
    # Our own interpreter running our own module; the arguments are paths and JSON we wrote.
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _CHILD, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        log(proc.stdout[-4000:])
        log(proc.stderr[-4000:])
        raise BenchmarkError(f"the product-path step {args[0]} failed (exit {proc.returncode})")
    return json.loads(lines[-1])


class ScratchDatabases:
    """One imported base database and a copy per seed: SQLite files, or throwaway PostgreSQL ones."""

    def __init__(self, workdir: Path, postgres_url: str | None):
        self.workdir = workdir
        self.postgres_url = postgres_url
        self.created: list[str] = []

    def _pg(self, sql: str) -> None:
        parts = urlsplit(self.postgres_url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(sql)

    def _pg_url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.postgres_url)._replace(path=f"/{name}"))

    def _fresh_pg(self, name: str, *, template: str | None = None) -> str:
        self._pg(f'DROP DATABASE IF EXISTS "{name}"')
        self._pg(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return self._pg_url(name)

    def base(self) -> str:
        if self.postgres_url is None:
            return f"sqlite:///{self.workdir / 'base.sqlite3'}"
        return self._fresh_pg(f"marquee_eval_{os.getpid()}_base")

    def copy_for(self, seed: int) -> str:
        if self.postgres_url is None:
            target = self.workdir / f"seed-{seed}.sqlite3"
            shutil.copyfile(self.workdir / "base.sqlite3", target)
            return f"sqlite:///{target}"
        return self._fresh_pg(f"marquee_eval_{os.getpid()}_seed{seed}", template=f"marquee_eval_{os.getpid()}_base")

    def drop(self, url: str) -> None:
        if self.postgres_url is None:
            Path(urlsplit(url).path).unlink(missing_ok=True)
            return
        name = urlsplit(url).path.lstrip("/")
        self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self.postgres_url is not None:
            for name in reversed(self.created):
                self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_import(train_dir: str) -> dict:
    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    t1 = time.monotonic()
    summary = movielens_import(directory=train_dir)
    return {"migrate_seconds": t1 - t0, "import_seconds": time.monotonic() - t1, "summary": str(summary)}


def _movie(external_id: str | None) -> int | None:
    return int(external_id[3:]) if external_id and external_id.startswith("ml:") else None


def child_seed(workdir: str, seed: int, overrides: dict) -> dict:
    """Train through the product's pipeline, then read what each person is served."""

    split = json.loads((Path(workdir) / "split.json").read_text())
    params = replace(training.current_params(), **overrides, random_state=seed)
    t0 = time.monotonic()
    mv = training.train_and_register(trigger="benchmark", params=params)
    train_seconds = time.monotonic() - t0
    result: dict = {
        "seed": seed,
        "version": mv.version,
        "status": mv.status,
        "gate": mv.gate,
        "train_seconds": round(train_seconds, 2),
        "training_counts": mv.data_counts,
        "training_metrics": mv.metrics,
    }
    serving.reset()
    lookup = serving.get_model()
    model = lookup.model
    ext = dict(Title.objects.values_list("pk", "external_id"))
    movie_of_row = np.asarray([_movie(ext.get(int(t))) or -1 for t in (model.title_ids if model else [])])
    cold_items = set(split["cold_items"])
    cold_rows = np.asarray([m in cold_items for m in movie_of_row.tolist()], dtype=bool)

    def top_picks(profile) -> tuple[list[int], bool]:
        home = build_home(profile=profile)
        rows = [r for r in home.rows if r.key == "top-picks"]
        if not rows:
            # No Top picks: what the person sees first instead (the first catalog row).
            rows = [r for r in home.rows if r.key not in ("continue-watching", "my-list")]
        items = rows[0].items[:K] if rows else []
        return [m for m in (_movie(i.title.external_id) for i in items) if m is not None], bool(home.personalized)

    # Warm users: what the home page serves, and what the model's own trained vectors would.
    warm = {f"ml-{u}" for u in split["warm_users"]}
    profiles = list(Profile.objects.filter(account__username__in=warm).select_related("account").order_by("id"))
    served, personalized, served_ms = {}, 0, []
    cold_item_served, cold_item_model = {}, {}
    for p in profiles:
        uid = int(p.account.username[3:])
        t = time.perf_counter()
        served[uid], is_personal = top_picks(p)
        served_ms.append((time.perf_counter() - t) * 1000)
        personalized += is_personal
        if model is not None and cold_rows.any():
            _, vec = foldin.profile_state(model, p)
            if vec is not None:
                cold_item_served[uid] = _rank_rows(model.score(vec), cold_rows, movie_of_row)
    result["served"] = served
    result["served_personalized"] = personalized
    result["served_ms_median"] = statistics.median(served_ms) if served_ms else None

    model_lists = {}
    if model is not None:
        art = artifacts.load(model.version)
        rated: dict[int, set[int]] = {}
        for pid, tid in Rating.objects.values_list("profile_id", "title_id"):
            rated.setdefault(pid, set()).add(tid)
        uid_of = {p.pk: int(p.account.username[3:]) for p in profiles}
        for row, pid in enumerate(art.profile_ids.tolist()):
            if pid not in uid_of:
                continue
            scores = model.score(art.user_vecs[row])
            allowed = np.ones(model.n_items, dtype=bool)
            allowed[model.rows_of(rated.get(pid, ()))] = False
            model_lists[uid_of[pid]] = _rank_rows(scores, allowed & (movie_of_row >= 0), movie_of_row)
            if cold_rows.any():
                cold_item_model[uid_of[pid]] = _rank_rows(scores, cold_rows, movie_of_row)
    result["model"] = model_lists
    result["cold_items_served"] = cold_item_served
    result["cold_items_model"] = cold_item_model

    # Cold users: an account, five ratings through the service the API uses, then the home.
    title_of_movie = {m: pk for pk, m in ((pk, _movie(e)) for pk, e in ext.items()) if m is not None}
    cold_served, cold_ms = {}, []
    for uid, first in split["cold_first"].items():
        user = user_create(username=f"cold-{uid}", email="", password=None)
        consent.consents_set(account_id=user.pk, choices=dict.fromkeys(consent.PURPOSES, True), method="signup")
        profile = Profile.objects.select_related("account").get(account=user)
        for movie_id, stars in first:
            if movie_id in title_of_movie:
                title = title_get_for_profile(profile=profile, pk=title_of_movie[movie_id])
                rating_set(profile=profile, title=title, value=stars_to_value(stars))
        profile.refresh_from_db()
        t = time.perf_counter()
        cold_served[int(uid)], _ = top_picks(profile)
        cold_ms.append((time.perf_counter() - t) * 1000)
    result["cold_served"] = cold_served
    result["cold_ms_median"] = statistics.median(cold_ms) if cold_ms else None
    return result


def _rank_rows(scores: np.ndarray, allowed: np.ndarray, movie_of_row: np.ndarray) -> list[int]:
    return [int(movie_of_row[r]) for r in top_k(scores, K, allowed)]


# --- the whole run ----------------------------------------------------------------------------


def _int_keys(d: dict) -> dict[int, list[int]]:
    return {int(k): v for k, v in d.items()}


def run(
    data_dir: Path,
    *,
    seeds: tuple[int, ...] = (42, 43, 44),
    overrides: dict | None = None,
    postgres_url: str | None = None,
    split_seed: int = 0,
    skip_peers: bool = False,
    skip_cold: bool = False,
    workdir: Path | None = None,
    log=print,
) -> dict:
    t_start = time.monotonic()
    try:
        data = parse_dataset(data_dir)
    except ImportRefused as exc:
        raise BenchmarkError(f"{data_dir}: malformed MovieLens file: {exc}") from exc
    split = make_split(data, seed=split_seed)
    n_ratings = len(split.users)
    log(
        f"{data_dir}: {len(set(split.users.tolist()))} users, {len(split.movie_ids)} titles, {n_ratings} ratings; "
        f"training part {int(split.train.sum())}, held out {int(split.test.sum())} of "
        f"{len(split.warm_users)} warm users, {len(split.cold_users)} cold users"
    )
    own_tmp = workdir is None
    work = Path(tempfile.mkdtemp(prefix="marquee-eval-")) if own_tmp else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    cold_items = split.cold_items()
    cold_first = split.cold_first_ratings()
    if skip_cold:
        cold_first = {}
    (work / "split.json").write_text(
        json.dumps({"warm_users": split.warm_users, "cold_first": cold_first, "cold_items": cold_items.tolist()})
    )
    write_training_directory(split, Path(data_dir), work / "train")
    dbs = ScratchDatabases(work, postgres_url)
    product: list[dict] = []
    try:
        base = dbs.base()
        info = _run_child(["import", str(work / "train")], _child_env(base, work / "var-base"), log)
        log(
            f"scratch database ({'PostgreSQL' if postgres_url else 'SQLite'}): {info['summary']} "
            f"in {info['import_seconds']:.1f} s"
        )
        for seed in seeds:
            url = dbs.copy_for(seed)
            t = time.monotonic()
            res = _run_child(
                ["seed", str(work), str(seed), json.dumps(overrides or {})], _child_env(url, work / f"var-{seed}"), log
            )
            if own_tmp:
                dbs.drop(url)
            log(
                f"seed {seed}: model {res['version']} ({res['status']}), training {res['train_seconds']:.1f} s, "
                f"{res['served_personalized']} personalized homes, home {res['served_ms_median'] or 0:.0f} ms median; "
                f"{time.monotonic() - t:.0f} s in all"
            )
            product.append(res)
        if own_tmp:
            dbs.drop(base)
    finally:
        if own_tmp:
            dbs.close()
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)

    n_items = len(split.movie_ids)
    warm_rel = split.relevant(split.test)
    cold_rel = split.relevant(np.isin(split.users, split.cold_users) & ~split.cold_first)
    cold_items_set = set(cold_items.tolist())
    item_rel = {u: {m for m in rel if m in cold_items_set} for u, rel in warm_rel.items()}
    item_rel = {u: r for u, r in item_rel.items() if r}

    def seed_metrics(res: dict) -> dict:
        return {
            "warm": {
                SERVED: evaluation.list_metrics(_int_keys(res["served"]), warm_rel, n_items=n_items),
                MODEL: evaluation.list_metrics(_int_keys(res["model"]), warm_rel, n_items=n_items),
            },
            "cold_users": {SERVED: evaluation.list_metrics(_int_keys(res["cold_served"]), cold_rel, n_items=n_items)},
            "cold_items": {
                SERVED: evaluation.list_metrics(_int_keys(res["cold_items_served"]), item_rel, n_items=n_items),
                MODEL: evaluation.list_metrics(_int_keys(res["cold_items_model"]), item_rel, n_items=n_items),
            },
        }

    per_seed = [seed_metrics(r) for r in product]
    groups: dict[str, dict] = {"warm": {}, "cold_users": {}, "cold_items": {}}
    for group in groups:
        for name in per_seed[0][group]:
            groups[group][name] = _median_metrics([s[group][name] for s in per_seed])

    peers_info = {}
    if not skip_peers:
        log("peers on the same split:")
        peers = Peers(split, log=log)
        allowed_cold = np.isin(split.movie_ids, cold_items)
        lists = peers.run(
            {
                "warm": (sorted(warm_rel), None),
                "cold_users": (sorted(cold_rel), None),
                "cold_items": (sorted(item_rel), allowed_cold),
            }
        )
        rels = {"warm": warm_rel, "cold_users": cold_rel, "cold_items": item_rel}
        for peer, by_group in lists.items():
            for group, rel in rels.items():
                if peer == VANILLA:
                    runs = [evaluation.list_metrics(s[group], rel, n_items=n_items) for s in by_group["seeds"]]
                    groups[group][f"{VANILLA} (mean of {len(runs)} seeds)"] = _mean_metrics(runs)
                else:
                    groups[group][peer] = evaluation.list_metrics(by_group[group], rel, n_items=n_items)
        peers_info["ease_lambda"] = peers.ease_lambda

    return {
        "data": str(data_dir),
        "counts": {
            "users": len(set(split.users.tolist())),
            "titles": n_items,
            "ratings": n_ratings,
            "training_ratings": int(split.train.sum()),
            "held_out": int(split.test.sum()),
            "warm_users_evaluated": len(warm_rel),
            "cold_users": len(split.cold_users),
            "cold_users_evaluated": len(cold_rel),
            "cold_items": len(cold_items),
            "cold_item_users": len(item_rel),
        },
        "seeds": list(seeds),
        "overrides": overrides or {},
        "product": [{k: v for k, v in r.items() if k not in _LISTS} for r in product],
        "per_seed": per_seed,
        "results": groups,
        "peers": peers_info,
        "seconds": round(time.monotonic() - t_start, 1),
    }


_LISTS = ("served", "model", "cold_served", "cold_items_served", "cold_items_model")
METRICS = ("p@10", "r@10", "ndcg@10", "coverage")


def _median_metrics(runs: list[dict]) -> dict:
    out = {m: float(statistics.median([r[m] for r in runs])) for m in METRICS}
    out["users"] = runs[0]["users"]
    out["ndcg@10 per seed"] = [round(r["ndcg@10"], 4) for r in runs]
    return out


def _mean_metrics(runs: list[dict]) -> dict:
    out = {m: float(np.mean([r[m] for r in runs])) for m in METRICS}
    out["users"] = runs[0]["users"]
    out["ndcg@10 per seed"] = [round(r["ndcg@10"], 4) for r in runs]
    return out


def report(result: dict) -> str:
    """The tables and every ratio of the product to every peer, as plain text."""
    c = result["counts"]
    titles = {
        "warm": f"Warm users ({c['warm_users_evaluated']} users; relevant = held-out ratings >= 4.0)",
        "cold_users": (
            f"Cold users ({c['cold_users_evaluated']} users never trained on; their first "
            f"{COLD_USER_RATINGS} ratings given through the rating service, then the home page)"
        ),
        "cold_items": (
            f"Cold items ({c['cold_items']} titles nobody had rated in training; {c['cold_item_users']} users "
            "with a relevant one; ranking among those titles only)"
        ),
    }
    lines = []
    for group, table in result["results"].items():
        if not table:
            continue
        lines += ["", titles[group], evaluation.format_table(table, columns=METRICS)]
        ours = [n for n in (SERVED, MODEL) if n in table]
        for name in ours:
            others = [n for n in table if n != name]
            for metric in ("ndcg@10", "p@10", "r@10"):
                cells = []
                for other in others:
                    base = table[other][metric]
                    cells.append(f"{other}: {table[name][metric] / base:.3f}x" if base else f"{other}: -")
                lines.append(f"  {name} {metric} vs " + "; ".join(cells))
        for name in ours:
            per = table[name].get("ndcg@10 per seed")
            if per and len(per) > 1:
                lines.append(f"  {name} nDCG@10 per seed: {per}")
    return "\n".join(lines)


def child_main(argv: list[str]) -> None:
    step = argv[0]
    if step == "import":
        out = child_import(argv[1])
    elif step == "seed":
        out = child_seed(argv[1], int(argv[2]), json.loads(argv[3]))
    else:
        raise SystemExit(f"unknown step {step}")
    print(json.dumps(out))
