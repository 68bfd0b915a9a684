"""How long `import_movielens` takes on ml-latest-small (target: < 60 s on SQLite).

    .venv/bin/python bench/bench_import.py [--data DIR]
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_import.py   # also PostgreSQL

Each run imports into a fresh database (see bench/_common.py), then re-imports to time the
idempotent no-op path.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_children, setup_django

DEFAULT_DATA = "/work/shared/data/ml-latest-small"


def child(url: str, data: str) -> None:
    setup_django(url)
    from catalog.importing.movielens import movielens_import

    started = time.perf_counter()
    summary = movielens_import(directory=data)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = movielens_import(directory=data)
    second = time.perf_counter() - started
    rows = summary.titles + summary.accounts + summary.ratings + summary.title_tags
    print(
        json.dumps(
            {
                "seconds": round(first, 2),
                "ratings": summary.ratings,
                "titles": summary.titles,
                "accounts": summary.accounts,
                "title_tags": summary.title_tags,
                "rows_per_second": round(rows / first),
                "ratings_per_second": round(summary.ratings / first),
                "reimport_seconds": round(second, 2),
                "reimport_added": again.ratings + again.titles + again.accounts,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA, help=f"MovieLens directory (default {DEFAULT_DATA})")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data)
        return
    if not Path(args.data, "ratings.csv").is_file():
        print(f"skipped: no MovieLens data at {args.data} (pass --data DIR)")
        return
    results = run_children(__file__, "import", ["--data", args.data])
    print(f"\nimport_movielens {args.data}")
    print(f"{'database':<12}{'seconds':>9}{'ratings':>9}{'ratings/s':>11}{'rows/s':>9}{'re-run s':>10}{'re-added':>10}")
    for r in results:
        print(
            f"{r['database']:<12}{r['seconds']:>9.2f}{r['ratings']:>9}{r['ratings_per_second']:>11}"
            f"{r['rows_per_second']:>9}{r['reimport_seconds']:>10.2f}{r['reimport_added']:>10}"
        )
    slow = [r for r in results if r["database"] == "sqlite" and r["seconds"] >= 60]
    if slow:
        raise SystemExit("SQLite import took 60 s or more (target < 60 s)")


if __name__ == "__main__":
    main()
