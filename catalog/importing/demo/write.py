"""Writing a demo `Plan`: one transaction, bulk inserts (`catalog.importing.bulk.insert_rows`: multi-row
INSERTs, COPY on PostgreSQL) for the big tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.maturity import level_of
from accounts.models import Profile, User
from privacy import consent

from ...models import (
    Collection,
    CollectionItem,
    Credit,
    Episode,
    Genre,
    ListEntry,
    Person,
    Rating,
    SearchQuery,
    Season,
    Tag,
    Title,
    TitleTag,
    ViewingActivity,
)
from ..bulk import insert_rows, unique_slug
from .plan import AccountPlan, Plan, generate
from .vocabulary import (
    BATCH,
    DEFAULT_SEED,
    DEMO_PREFIX,
    DEMO_USERNAME,
    FULL,
    GENRES,
    TAGS,
    Sizes,
)

# --- Writing --------------------------------------------------------------------------------


@dataclass
class SeedResult:
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


def demo_catalog_exists() -> bool:
    return Title.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


def _ids_by(model, key: str, values) -> dict:
    return dict(model.objects.filter(**{f"{key}__in": list(values)}).values_list(key, "id"))


def _genre_and_tag_ids() -> tuple[list[int], list[int]]:
    """Reuse genres and tags that exist (a MovieLens import has 'Sci-Fi' too), create the rest."""
    result = []
    for model, names in ((Genre, GENRES), (Tag, TAGS)):
        by_slug = {slugify(n): n for n in names}
        have = _ids_by(model, "slug", by_slug)
        have_names = _ids_by(model, "name", names)
        model.objects.bulk_create(
            [model(name=n, slug=s) for s, n in by_slug.items() if s not in have and n not in have_names]
        )
        have = _ids_by(model, "slug", by_slug)
        have_names = _ids_by(model, "name", names)
        result.append([have.get(slugify(n)) or have_names[n] for n in names])
    return result[0], result[1]


def _write_catalog(plan: Plan, counts: dict[str, int]) -> list[int]:
    genre_ids, tag_ids = _genre_and_tag_ids()

    taken = set(Person.objects.values_list("slug", flat=True))
    people = [Person(name=n, slug=unique_slug(n, taken, "person", 220)) for n in plan.people]
    Person.objects.bulk_create(people, batch_size=BATCH)
    slug_to_id = dict(Person.objects.filter(slug__in=[p.slug for p in people]).values_list("slug", "id"))
    person_ids = [slug_to_id[p.slug] for p in people]

    taken = set(Title.objects.values_list("slug", flat=True))
    Title.objects.bulk_create(
        [
            Title(
                kind=t.kind,
                name=t.name,
                slug=unique_slug(f"{t.name} {t.year}", taken, "title", 320),
                synopsis=t.synopsis,
                year=t.year,
                runtime_minutes=t.runtime,
                maturity_rating=t.rating,
                # bulk_create bypasses Title.save(), which normally derives this.
                maturity_level=level_of(t.rating),
                external_id=t.key,
                date_added=t.date_added,
                is_published=t.is_published,
            )
            for t in plan.titles
        ],
        batch_size=BATCH,
    )
    by_key = _ids_by(Title, "external_id", [t.key for t in plan.titles])
    title_ids = [by_key[t.key] for t in plan.titles]

    through = Title.genres.through
    insert_rows(
        through,
        ["title", "genre"],
        [(title_ids[i], genre_ids[g]) for i, t in enumerate(plan.titles) for g in t.genres],
    )
    insert_rows(
        TitleTag,
        ["title", "tag", "weight"],
        [(title_ids[i], tag_ids[tag], w) for i, t in enumerate(plan.titles) for tag, w in t.tags],
    )
    credits = {}
    for i, t in enumerate(plan.titles):
        for person, role, order, character in t.credits:
            # One credit per person and role on a title (a writer may also be cast).
            credits.setdefault((title_ids[i], person_ids[person], role), (order, character))
    insert_rows(
        Credit,
        ["title", "person", "role", "order", "character"],
        [(t, p, role, o, c) for (t, p, role), (o, c) in credits.items()],
    )
    Season.objects.bulk_create(
        [
            Season(title_id=title_ids[i], number=s.number, name=f"Season {s.number}")
            for i, t in enumerate(plan.titles)
            for s in t.seasons
        ],
        batch_size=BATCH,
    )
    series_ids = [title_ids[i] for i, t in enumerate(plan.titles) if t.seasons]
    season_ids = {
        (t, n): sid
        for sid, t, n in Season.objects.filter(title_id__in=series_ids).values_list("id", "title_id", "number")
    }
    insert_rows(
        Episode,
        [
            "title",
            "season",
            "number",
            "name",
            "synopsis",
            "runtime_minutes",
            "intro_start_seconds",
            "intro_end_seconds",
        ],
        [
            (
                title_ids[i],
                season_ids[(title_ids[i], s.number)],
                e.number,
                e.name,
                "",
                e.runtime,
                *(e.intro or (None, None)),
            )
            for i, t in enumerate(plan.titles)
            for s in t.seasons
            for e in s.episodes
        ],
    )
    taken = set(Collection.objects.values_list("slug", flat=True))
    for c in plan.collections:
        collection = Collection.objects.create(
            name=c.name,
            slug=unique_slug(c.name, taken, "collection", 140),
            description=c.description,
            position=c.position,
            is_active=c.is_active,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
        )
        CollectionItem.objects.bulk_create(
            [CollectionItem(collection=collection, title_id=title_ids[t], position=k) for k, t in enumerate(c.titles)]
        )
    counts.update(
        titles=len(title_ids),
        series=len(series_ids),
        people=len(person_ids),
        credits=len(credits),
        episodes=Episode.objects.filter(title_id__in=series_ids).count(),
        collections=len(plan.collections),
    )
    return title_ids


def _write_accounts(plan: Plan, accounts: list[AccountPlan], title_ids: list[int], counts: dict[str, int]) -> None:
    now = timezone.now()
    User.objects.bulk_create(
        [
            User(
                username=a.username,
                email=f"{a.username}@marquee.local",
                password=make_password(a.password),
                date_joined=a.joined,
            )
            for a in accounts
        ],
        batch_size=BATCH,
    )
    account_ids = _ids_by(User, "username", [a.username for a in accounts])
    Profile.objects.bulk_create(
        [
            Profile(
                account_id=account_ids[a.username],
                name=p.name,
                is_kids=p.is_kids,
                maturity_limit=p.limit,
                avatar_color=p.color,
                onboarded_at=now,
            )
            for a in accounts
            for p in a.profiles
        ],
        batch_size=BATCH,
    )
    profile_ids = {
        (account, name): pid
        for pid, account, name in Profile.objects.filter(account_id__in=account_ids.values()).values_list(
            "id", "account_id", "name"
        )
    }
    consent.grant_all_bulk(account_ids=list(account_ids.values()), method="seed")

    plan_series = [i for i, t in enumerate(plan.titles) if t.seasons]
    episode_ids = {
        (t, s, n): eid
        for eid, t, s, n in Episode.objects.filter(title_id__in=[title_ids[i] for i in plan_series]).values_list(
            "id", "title_id", "season__number", "number"
        )
    }
    ratings, viewing, entries, searches = [], [], [], []
    for a in accounts:
        for p in a.profiles:
            pid = profile_ids[(account_ids[a.username], p.name)]
            ratings += [(pid, title_ids[t], value, when, when) for t, value, when in p.ratings]
            viewing += [
                (pid, title_ids[t], episode_ids[(title_ids[t], *ep)] if ep else None, position, duration, done, s, last)
                for t, ep, position, duration, done, s, last in p.viewing
            ]
            entries += [(pid, title_ids[t], when) for t, when in p.my_list]
            searches += [(pid, q, n, when) for q, n, when in p.searches]
    # Plain tuples and executemany: the ORM's per-instance work is most of the time at this size.
    insert_rows(Rating, ["profile", "title", "value", "created_at", "updated_at"], ratings)
    insert_rows(
        ViewingActivity,
        [
            "profile",
            "title",
            "episode",
            "position_seconds",
            "duration_seconds",
            "completed",
            "started_at",
            "last_watched_at",
        ],
        viewing,
    )
    insert_rows(ListEntry, ["profile", "title", "added_at"], entries)
    insert_rows(SearchQuery, ["profile", "query", "result_count", "created_at"], searches)
    counts.update(
        accounts=len(account_ids),
        profiles=len(profile_ids),
        ratings=len(ratings),
        viewing=len(viewing),
        list_entries=len(entries),
        searches=len(searches),
    )


@transaction.atomic
def write(plan: Plan) -> dict[str, int]:
    counts: dict[str, int] = {}
    title_ids = _write_catalog(plan, counts)
    known = set(
        User.objects.filter(username__in=[a.username for a in plan.accounts]).values_list("username", flat=True)
    )
    _write_accounts(plan, [a for a in plan.accounts if a.username not in known], title_ids, counts)
    return counts


@transaction.atomic
def _restore_demo_account(plan: Plan) -> dict[str, int]:
    """The catalog is there but the demo account was deleted: bring it back on that catalog."""
    by_key = _ids_by(Title, "external_id", [t.key for t in plan.titles])
    if len(by_key) != len(plan.titles):
        return {}  # a catalog from another version of the generator: leave it alone
    title_ids = [by_key[t.key] for t in plan.titles]
    counts: dict[str, int] = {}
    demo = [a for a in plan.accounts if a.username == DEMO_USERNAME]
    _write_accounts(plan, demo, title_ids, counts)
    return counts


def seed_demo(*, seed: int = DEFAULT_SEED, sizes: Sizes = FULL) -> SeedResult:
    """Seed the demo catalog and subscribers unless the demo catalog is already there."""
    if demo_catalog_exists():
        if User.objects.filter(username=DEMO_USERNAME).exists():
            return SeedResult(created=False)
        return SeedResult(created=False, counts=_restore_demo_account(generate(seed=seed, sizes=sizes)))
    return SeedResult(created=True, counts=write(generate(seed=seed, sizes=sizes)))
