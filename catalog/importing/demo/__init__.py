"""The demo data generator behind `manage.py seed_demo`: a synthetic catalog and subscribers.

Two steps, so determinism can be checked without a database:

- `generate(seed=..., now=...)` builds a `Plan` from `random.Random(seed)` and
  `numpy.random.default_rng(seed)` only: the same seed gives the same catalog, accounts and
  histories. Timestamps are offsets from `now`, so "added last week" stays true whenever
  the demo is seeded.
- `write(plan)` inserts it in one transaction: bulk_create for the catalog, multi-row INSERTs
  (COPY on PostgreSQL, `catalog.importing.bulk.insert_rows`) for the big tables.

Subscribers' ratings, viewing and My List come from latent taste groups: each profile belongs
to a group (sometimes two) that prefers a few genres and tags, mostly picks titles that match,
and rates them love/up/down according to the match. A recommender therefore has real signal
to find, and the popularity rows have something to show.

Engagement rows are bulk-inserted here rather than through `catalog.services` (the rule
everywhere else): this is a generator of fictitious history, not a person acting, there is no
consent question to ask (every seeded account is recorded as consenting, method `seed`), and
per-row service calls would take minutes instead of seconds.
"""

from .plan import Plan, generate
from .vocabulary import DEFAULT_SEED, DEMO_PASSWORD, DEMO_USERNAME, FULL, LOGIN_LINE, Sizes
from .write import SeedResult, demo_catalog_exists, seed_demo, write

__all__ = [
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "FULL",
    "LOGIN_LINE",
    "Plan",
    "SeedResult",
    "Sizes",
    "demo_catalog_exists",
    "generate",
    "seed_demo",
    "write",
]
