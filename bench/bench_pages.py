"""Server time and query count of the main pages, signed in as the demo profile.

    .venv/bin/python bench/bench_pages.py [--requests 50] [--no-train]
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_pages.py   # also PostgreSQL

For each database (a fresh temporary SQLite file; a scratch PostgreSQL database when
DATABASE_URL is set): migrate, `seed_demo`, train the first model (as `make demo` does), then
with Django's test Client signed in as the demo account's first profile, warm up and time
N requests per page (time.perf_counter around client.get: the whole Django stack, no network)
and count the queries of one request (CaptureQueriesContext). Target: home p95 < 100 ms and
at most 15 queries.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import demo_client, run_children, seeded_demo

HOME_P95_MS = 100
HOME_MAX_QUERIES = 15


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def child(url: str, n: int, train: bool) -> None:
    seed_seconds = seeded_demo(url)
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from catalog.selectors import visible_titles

    trained = None
    if train:
        started = time.perf_counter()
        try:
            call_command("train_recommender", stdout=open(os.devnull, "w"))  # noqa: SIM115
            trained = round(time.perf_counter() - started, 1)
        except Exception as exc:  # a model is nice to have here; the pages must work without one
            print(f"training skipped: {exc}", file=sys.stderr)

    client, profile = demo_client()
    visible = visible_titles(profile).order_by("id")
    film = visible.filter(kind="film").first()
    series = visible.filter(kind="series").first()
    pages = [
        ("home", "/"),
        ("title (film)", film.get_absolute_url()),
        ("title (series)", series.get_absolute_url()),
        ("browse", "/browse/"),
        ("search", "/search/?q=river"),
    ]
    results = []
    for name, path in pages:
        response = client.get(path)
        if response.status_code != 200:
            results.append({"page": name, "path": path, "status": response.status_code})
            continue
        for _ in range(5):  # warm-up: caches, the serving model, template loading
            client.get(path)
        # The log may hold queries from before (seeding ran with DEBUG on); the capture slices from here.
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        # Read it now: the next request's request_started signal empties the query log it slices.
        query_count = len(queries)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
        results.append(
            {
                "page": name,
                "path": path,
                "status": 200,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "queries": query_count,
                "personalized": b'data-row="top-picks"' in response.content if name == "home" else None,
            }
        )
    print(json.dumps({"seed_seconds": round(seed_seconds, 1), "train_seconds": trained, "pages": results}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--no-train", action="store_true", help="measure without a trained model")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests, not args.no_train)
        return
    extra = ["--requests", str(args.requests)] + (["--no-train"] if args.no_train else [])
    with tempfile.TemporaryDirectory(prefix="marquee-bench-private-") as private:
        # Model artifacts and exports of the bench go to a scratch folder, not var/.
        os.environ["PRIVATE_ROOT"] = private
        results = run_children(__file__, "pages", extra)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\npages as the demo profile, {args.requests} requests each (load average {load:.1f})")
    print(f"{'database':<12}{'page':<16}{'status':>7}{'median ms':>11}{'p95 ms':>9}{'queries':>9}")
    failed = []
    for r in results:
        print(f"-- {r['database']}: seed_demo {r['seed_seconds']} s, train_recommender {r['train_seconds']} s")
        for p in r["pages"]:
            if p["status"] != 200:
                print(f"{r['database']:<12}{p['page']:<16}{p['status']:>7}{'-':>11}{'-':>9}{'-':>9}")
                continue
            note = ""
            if p["page"] == "home":
                note = "  personalized" if p["personalized"] else "  not personalized"
                if p["p95_ms"] >= HOME_P95_MS or p["queries"] > HOME_MAX_QUERIES:
                    failed.append(r["database"])
            print(
                f"{r['database']:<12}{p['page']:<16}{p['status']:>7}{p['median_ms']:>11.1f}"
                f"{p['p95_ms']:>9.1f}{p['queries']:>9}{note}"
            )
    if failed:
        print(f"\nhome missed its target (p95 < {HOME_P95_MS} ms, <= {HOME_MAX_QUERIES} queries) on {failed}")


if __name__ == "__main__":
    main()
