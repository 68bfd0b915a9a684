"""Personalized artwork (issue 14, req 5): the take rate the artwork bandit reaches.

    DEBUG=true .venv/bin/python bench/bench_artwork.py [--profiles N] [--impressions N] [--seed S]
        [--pages-per-bucket K]

A simulated population through the product's own code and database (a scratch SQLite file, and
a scratch PostgreSQL database too when DATABASE_URL names one; yours is never touched):

1. `migrate`, then six genres with their titles, and N profiles (own accounts, every consent
   granted) that each loved three titles of one genre, so `recommendations.artwork.taste_context`
   reads that genre's family as their context.
2. Hidden preferences, correlated with the genre: every profile has a take probability per
   variant (genre, setting, cast). A base rate (cast a little ahead of the others everywhere:
   the best fixed variant), plus a lift for the variant its genre's audience favours (westerns
   and romances the lead's name, sci-fi and crime the setting, horror and family the genre
   scene); a quarter of each audience favours another variant instead, and every rate gets
   a little per-profile noise.
3. Page views: a random profile opens its home with CARDS cards (titles of its genre and others).
   The bandit's policy (`artwork.policy_for`, a new page token every `--pages-per-bucket` views,
   as the 15-minute bucket does in production), its impressions (`artwork.impressions_record`,
   the rows_shown receiver's code) and, for each card opened with the profile's hidden
   probability, a take (`artwork.take_record`, the title view's receiver's code), all in the
   database.
4. Take rates, as the expected take rate of what was shown (the mean of the hidden probability
   of each card's variant: the same numbers as counting simulated clicks, without their noise),
   over each window of impressions, for the bandit and, on the same page views, for: random
   variants, the best fixed variant (the one with the highest mean probability over the
   population, known only to the oracle), and the per-context oracle (each genre's best variant).

About 1-2 minutes on SQLite with the defaults.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np
from _common import run_children, setup_django

CARDS = 10
FAMILIES = [
    # (genre, the variant its audience favours)
    ("Western", "cast"),
    ("Romance", "cast"),
    ("Sci-Fi", "setting"),
    ("Crime", "setting"),
    ("Horror", "genre"),
    ("Family", "genre"),
]
BASE = {"genre": 0.05, "setting": 0.05, "cast": 0.07}
LIFT = 0.08
FOLLOWERS = 0.75  # share of an audience that favours its genre's variant
NOISE = 0.01
TITLES_PER_GENRE = 25
CHECKPOINTS = (500, 1000, 2000, 5000, 10000, 20000, 40000)


def child(url: str, profiles: int, impressions: int, seed: int, per_bucket: int) -> None:
    import json

    setup_django(url)
    from django.conf import settings

    settings.DEBUG = False  # no query log growing with every page view

    from accounts.models import Profile, User
    from catalog import services as catalog_services
    from catalog.models import Genre, Title
    from catalog.posters import VARIANTS
    from catalog.shelves import Row, RowItem
    from privacy import consent
    from recommendations import artwork

    rng = random.Random(seed)
    started = time.perf_counter()
    by_genre: dict[str, list] = {}
    for i, (name, _) in enumerate(FAMILIES):
        genre = Genre.objects.create(name=name, slug=name.lower().replace(" ", "-"))
        titles = [
            Title.objects.create(name=f"{name} {k}", slug=f"bench-{i}-{k}", external_id=f"bench:{i}:{k}", year=2000 + k)
            for k in range(TITLES_PER_GENRE)
        ]
        genre.titles.add(*titles)
        by_genre[name] = titles
    population = []
    for n in range(profiles):
        genre, favourite = FAMILIES[n % len(FAMILIES)]
        user = User.objects.create_user(username=f"bench{n}", email=f"bench{n}@example.com", password=None)
        profile = Profile.objects.create(account=user, name=f"P{n}")
        consent.consents_set(account_id=user.pk, choices=dict.fromkeys(consent.PURPOSES, True), method="settings")
        for title in rng.sample(by_genre[genre], 3):
            catalog_services.rating_set(profile=profile, title=title, value="love")
        if rng.random() >= FOLLOWERS:
            favourite = rng.choice([v for v in VARIANTS if v != favourite])
        truth = {v: max(0.005, BASE[v] + (LIFT if v == favourite else 0) + rng.gauss(0, NOISE)) for v in VARIANTS}
        population.append((Profile.objects.select_related("account").get(pk=profile.pk), genre, truth))
    setup_s = time.perf_counter() - started

    mean_truth = {v: float(np.mean([t[v] for _, _, t in population])) for v in VARIANTS}
    best_fixed = max(mean_truth, key=mean_truth.get)
    context_best = {}
    for genre, _ in FAMILIES:
        members = [t for _, g, t in population if g == genre]
        context_best[genre] = max(VARIANTS, key=lambda v, m=members: np.mean([t[v] for t in m]))
    all_titles = [t for titles in by_genre.values() for t in titles]

    sums = dict.fromkeys(("bandit", "random", "best fixed", "per-context oracle"), 0.0)
    window = dict.fromkeys(sums, 0.0)
    window_n = 0
    shown = 0
    clicks = 0
    table = []
    checkpoints = [c for c in CHECKPOINTS if c <= impressions]
    if not checkpoints or checkpoints[-1] != impressions:
        checkpoints.append(impressions)
    page = 0
    sim_started = time.perf_counter()
    while shown < impressions:
        profile, genre, truth = rng.choice(population)
        own = rng.sample(by_genre[genre], CARDS // 2)
        cards = own + rng.sample([t for t in all_titles if t not in own], CARDS - len(own))
        token = page // per_bucket
        page += 1
        policy = artwork.policy_for(profile, token=token)
        counted = artwork.impressions_record(
            profile=profile,
            rows=[Row(key="trending", title="", reason="", items=[RowItem(title=t) for t in cards])],
            token=token,
        )
        if not counted:
            continue  # the same profile again within the bucket: a reload, not new impressions
        for title in cards:
            variant = policy.choose(title.pk)
            p = truth[variant]
            others = {
                "bandit": p,
                "random": truth[rng.choice(VARIANTS)],
                "best fixed": truth[best_fixed],
                "per-context oracle": truth[context_best[genre]],
            }
            for k, v in others.items():
                sums[k] += v
                window[k] += v
            if rng.random() < p:
                clicks += artwork.take_record(profile=profile, title=title, variant=variant, token=token)
            shown += 1
            window_n += 1
            if shown == checkpoints[0]:
                checkpoints.pop(0)
                table.append(
                    {
                        "impressions": shown,
                        "window": {k: v / window_n for k, v in window.items()},
                        "cumulative": {k: v / shown for k, v in sums.items()},
                        "elapsed_s": round(time.perf_counter() - sim_started, 1),
                    }
                )
                window = dict.fromkeys(sums, 0.0)
                window_n = 0
            if shown >= impressions:
                break
    final = {}
    for genre, _ in FAMILIES:
        profile = next(p for p, g, _ in population if g == genre)
        policy = artwork.policy_for(profile, token=10**9)
        final[genre] = {"context": policy.context, **{v: round(policy.probabilities[v], 3) for v in VARIANTS}}
    print(
        json.dumps(
            {
                "profiles": profiles,
                "setup_s": round(setup_s, 1),
                "simulate_s": round(time.perf_counter() - sim_started, 1),
                "pages": page,
                "clicks": clicks,
                "best_fixed": best_fixed,
                "mean_truth": mean_truth,
                "context_best": context_best,
                "table": table,
                "final_policy": final,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=240)
    parser.add_argument("--impressions", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--pages-per-bucket", type=int, default=20)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profiles, args.impressions, args.seed, args.pages_per_bucket)
        return
    extra = ["--profiles", str(args.profiles), "--impressions", str(args.impressions), "--seed", str(args.seed)]
    results = run_children(__file__, "artwork", [*extra, "--pages-per-bucket", str(args.pages_per_bucket)])
    for r in results:
        print(
            f"\n== {r['database']}: {r['profiles']} profiles, {r['pages']} page views, {r['clicks']} takes; "
            f"setup {r['setup_s']} s, simulation {r['simulate_s']} s"
        )
        truth = ", ".join(f"{v} {p:.3f}" for v, p in r["mean_truth"].items())
        print(f"hidden mean take rates: {truth}; best fixed variant: {r['best_fixed']}")
        print("per-context best: " + ", ".join(f"{g}: {v}" for g, v in r["context_best"].items()))
        head = (
            f"{'impressions':>11}  {'bandit':>8}  {'random':>8}  {'best fixed':>10}  "
            f"{'oracle/ctx':>10}  {'bandit (cum.)':>13}"
        )
        print("take rate over the window ending at N impressions:")
        print(head)
        for row in r["table"]:
            w, c = row["window"], row["cumulative"]
            print(
                f"{row['impressions']:>11,}  {w['bandit']:>8.4f}  {w['random']:>8.4f}  {w['best fixed']:>10.4f}  "
                f"{w['per-context oracle']:>10.4f}  {c['bandit']:>13.4f}"
            )
        print("the bandit's probabilities at the end, per context:")
        for genre, pol in r["final_policy"].items():
            print(
                f"  {genre:<8} ({pol['context']}): "
                + ", ".join(f"{k} {v:.2f}" for k, v in pol.items() if k != "context")
            )


if __name__ == "__main__":
    sys.exit(main())
