"""Demo home-row engagement: impressions and clicks for `manage.py seed_demo`.

The demo generator (catalog.importing.demo) writes viewing and ratings but no home pages were
ever shown, so the dashboard's home-row click-through table had nothing to show. This writes a
plausible, deterministic history of home visits for a sample of the seeded profiles:

- the rows are the profile's real home rows (`recommendations.home.build_home`), so the row
  keys are exactly those the home page records (and the title page's `?row=` clicks carry);
- a profile visited its home shortly before each recent viewing start of a title that is on it
  (so play-through has plays to match), and a few times more;
- each visit records every title shown (as `services.impressions_record` does), and some of
  them are opened (clicks), the title about to be played always from the first row showing it.

Like the catalog's demo writer, it bulk-inserts fictitious history instead of going through the
per-view services (which would take minutes); it still writes only for profiles whose account
allows analytics.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from catalog.importing.bulk import insert_rows
from catalog.models import ViewingActivity
from privacy import consent
from recommendations.home import build_home

from .models import Click, Impression
from .services import MAX_IMPRESSIONS_PER_CALL

# Enough profiles for every shared row to clear k-anonymity (aggregates.min_group(), 10 by
# default) several times over; each costs one home build (~80-150 ms without a model).
DEMO_PROFILES = 30
DAYS = 14
# Visits per profile: one before each of its latest viewing starts (at most this many), plus a few.
PLAY_VISITS = 6
EXTRA_VISITS = (1, 3)
# Chance that a shown row gets one more click in a visit (the rest of click-through).
ROW_CLICK_CHANCE = 0.12


def demo_engagement_write(*, seed: int, now=None, n_profiles: int = DEMO_PROFILES) -> dict[str, int]:
    """Write the demo's impressions and clicks. Returns {"impressions": n, "clicks": n}."""
    now = now or timezone.now()
    r = random.Random(seed)
    allowed = consent.accounts_allowing("analytics")
    candidates = list(
        Profile.objects.filter(account_id__in=allowed).select_related("account").order_by("pk").only("pk", "account")
    )
    sample = sorted(r.sample(candidates, min(n_profiles, len(candidates))), key=lambda p: p.pk)
    since = now - timedelta(days=DAYS)
    starts: dict[int, list[tuple[int, object]]] = {}
    for pid, tid, started in ViewingActivity.objects.filter(
        profile_id__in=[p.pk for p in sample], started_at__gte=since, started_at__lt=now
    ).values_list("profile_id", "title_id", "started_at"):
        starts.setdefault(pid, []).append((tid, started))

    impressions: list[tuple] = []
    clicks: list[tuple] = []
    for profile in sample:
        rows = build_home(profile=profile).rows
        pairs = [(str(row.key)[:80], item.title.pk) for row in rows for item in row.items][:MAX_IMPRESSIONS_PER_CALL]
        if not pairs:
            continue
        first_row = {}
        for key, tid in pairs:
            first_row.setdefault(tid, key)
        # (visit time, title about to be played from it or None)
        visits = [
            (started - timedelta(minutes=r.uniform(5, 180)), tid)
            for tid, started in sorted(starts.get(profile.pk, []), key=lambda s: s[1])
            if tid in first_row
        ][-PLAY_VISITS:]
        visits += [
            (since + timedelta(seconds=r.uniform(0, DAYS * 86400)), None) for _ in range(r.randint(*EXTRA_VISITS))
        ]
        by_row: dict[str, list[int]] = {}
        for key, tid in pairs:
            by_row.setdefault(key, []).append(tid)
        for shown_at, played in visits:
            impressions += [(profile.pk, tid, key, shown_at) for key, tid in pairs]
            opened = shown_at + timedelta(minutes=r.uniform(0.5, 4))
            if played is not None:
                clicks.append((profile.pk, played, first_row[played], opened))
            for key, tids in by_row.items():
                if r.random() < ROW_CLICK_CHANCE:
                    # Earlier cards are opened more often than later ones.
                    tid = tids[min(int(r.expovariate(0.5)), len(tids) - 1)]
                    clicks.append((profile.pk, tid, key, opened))
    # Plain tuples and multi-row INSERTs (COPY on PostgreSQL): the ORM's per-instance work is most
    # of the time at this size.
    with transaction.atomic():
        insert_rows(Impression, ["profile", "title", "row_key", "shown_at"], impressions)
        insert_rows(Click, ["profile", "title", "row_key", "clicked_at"], clicks)
    return {"impressions": len(impressions), "clicks": len(clicks)}
