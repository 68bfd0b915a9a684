"""The demo data generator behind `manage.py seed_demo`: a synthetic catalog and subscribers.

Two steps, so determinism can be checked without a database:

- `generate(seed=..., now=...)` builds a `Plan` from `random.Random(seed)` and
  `numpy.random.default_rng(seed)` only: the same seed gives the same catalog, accounts and
  histories. Timestamps are offsets from `now`, so "added last week" stays true whenever
  the demo is seeded.
- `write(plan)` inserts it in one transaction with bulk_create (executemany for the big tables).

Subscribers' ratings, viewing and My List come from latent taste groups: each profile belongs
to a group (sometimes two) that prefers a few genres and tags, mostly picks titles that match,
and rates them love/up/down according to the match. A recommender therefore has real signal
to find, and the popularity rows have something to show.

Engagement rows are bulk-inserted here rather than through `catalog.services` (the rule
everywhere else): this is a generator of fictitious history, not a person acting, there is no
consent question to ask (every seeded account is recorded as consenting, method `seed`), and
per-row service calls would take minutes instead of seconds.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.maturity import KIDS_MAX_LEVEL, MaturityRating, level_of
from accounts.models import AVATAR_COLORS, Profile, User
from privacy import consent

from .models import (
    Collection,
    CollectionItem,
    Credit,
    CreditRole,
    Episode,
    Genre,
    ListEntry,
    Person,
    Rating,
    SearchQuery,
    Season,
    Tag,
    Title,
    TitleKind,
    TitleTag,
    ViewingActivity,
)
from .movielens import _unique_slug, insert_rows

DEFAULT_SEED = 2026
DEMO_PREFIX = "demo:"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "marquee-demo"
LOGIN_LINE = f"username {DEMO_USERNAME}, password {DEMO_PASSWORD}"


@dataclass(frozen=True)
class Sizes:
    films: int = 1440
    series: int = 180
    people: int = 1500
    subscribers: int = 320


FULL = Sizes()
BATCH = 2000

GENRES = [
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family", "Fantasy",
    "History", "Horror", "Kids", "Music", "Mystery", "Romance", "Sci-Fi", "Sport", "Thriller", "War",
    "Western", "Reality", "Stand-up",
]  # fmt: skip

TAGS = [
    "heist", "car chase", "revenge", "explosive", "time travel", "dystopia", "space", "artificial intelligence",
    "feel-good", "love triangle", "wedding", "second chances", "haunted house", "slow burn", "twist ending",
    "supernatural", "based on a true story", "world war ii", "biography", "period piece", "dark comedy",
    "satire", "ensemble cast", "workplace", "talking animals", "friendship", "coming of age", "musical numbers",
    "underdog", "training montage", "rock and roll", "behind the scenes", "courtroom", "family drama",
    "strong female lead", "corruption", "road trip", "survival", "outlaws", "frontier town", "small town",
    "big city", "award winner", "cult classic", "visually stunning", "quirky", "tearjerker", "cozy",
    "mind-bending", "globetrotting", "found footage", "anthology", "based on a novel", "true crime",
    "nature", "food", "fish out of water", "buddy comedy", "spies", "magic",
]  # fmt: skip

# (name, preferred genres, preferred tags): the latent structure the recommender should find.
TASTE_GROUPS = [
    ("thrill seekers", ["Action", "Thriller", "Crime"], ["heist", "car chase", "revenge", "explosive", "spies"]),
    (
        "space cadets",
        ["Sci-Fi", "Fantasy", "Adventure"],
        ["time travel", "dystopia", "space", "artificial intelligence", "mind-bending"],
    ),
    ("romantics", ["Romance", "Comedy", "Drama"], ["feel-good", "love triangle", "wedding", "second chances", "cozy"]),
    (
        "night owls",
        ["Horror", "Mystery", "Thriller"],
        ["haunted house", "slow burn", "twist ending", "supernatural", "found footage"],
    ),
    (
        "history buffs",
        ["History", "War", "Documentary"],
        ["based on a true story", "world war ii", "biography", "period piece"],
    ),
    (
        "laugh track",
        ["Comedy", "Stand-up", "Reality"],
        ["dark comedy", "satire", "ensemble cast", "workplace", "buddy comedy"],
    ),
    (
        "families",
        ["Family", "Animation", "Kids"],
        ["talking animals", "friendship", "coming of age", "musical numbers", "magic"],
    ),
    (
        "sports and music",
        ["Sport", "Music", "Documentary"],
        ["underdog", "training montage", "rock and roll", "behind the scenes"],
    ),
    (
        "prestige drama",
        ["Drama", "Crime", "Mystery"],
        ["courtroom", "family drama", "strong female lead", "corruption", "true crime"],
    ),
    ("frontier", ["Western", "Adventure", "Action"], ["road trip", "survival", "outlaws", "frontier town", "nature"]),
]
FAMILY_GROUP = 6  # "families": what kids profiles watch

ADJECTIVES = [
    "Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight", "Endless", "Burning", "Frozen",
    "Distant", "Wild", "Hollow", "Electric", "Savage", "Gentle", "Forgotten", "Secret", "Shattered", "Velvet",
    "Iron", "Paper", "Glass", "Neon", "Final", "Lonely", "Bright", "Dark", "Lost", "Restless", "Quiet",
    "Scarlet", "Northern", "Little", "Brave", "Stolen", "Sleeping", "Falling", "Rising", "Wandering",
]  # fmt: skip
NOUNS = [
    "River", "Kingdom", "Signal", "Harbor", "Empire", "Garden", "Horizon", "Machine", "Storm", "Echo",
    "Frontier", "Mirror", "Promise", "Lantern", "Witness", "Orchard", "Voyage", "Circuit", "Crown", "Tide",
    "Shadow", "Compass", "Letter", "Season", "Road", "Island", "Summit", "Code", "Dream", "Engine",
    "Station", "Canyon", "Orbit", "Carnival", "Bridge", "Winter", "Tower", "Forest", "Anthem", "Key",
]  # fmt: skip
PLACES = [
    "Avalon", "Brooklyn", "Marrakesh", "Oslo", "Kyoto", "the North", "Paris", "Lagos", "Lisbon", "the Valley",
    "Mars", "Neptune", "Havana", "Reykjavik", "Santa Fe", "Glasgow", "Mumbai", "the Moon", "Tangier", "Dublin",
]  # fmt: skip
FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Felix", "Grace", "Hugo", "Iris", "Jonah", "Kira", "Leo", "Maya",
    "Nico", "Olive", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wes", "Ximena", "Yusuf", "Zoe",
    "Amara", "Bruno", "Clara", "Dmitri", "Esme", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena",
    "Mateo", "Nadia", "Oscar", "Priya", "Rafael", "Sofia", "Theo", "Uma", "Viktor", "Wren", "Yara", "Zane",
    "Aiko", "Bea", "Cyrus", "Dara", "Emil", "Freya", "Gideon", "Hollis", "Ines", "Jasper",
]  # fmt: skip
LAST_NAMES = [
    "Abara", "Bennett", "Castillo", "Dubois", "Eriksen", "Fontaine", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quint", "Rossi", "Silva", "Tanaka",
    "Underwood", "Varga", "Whitfield", "Xu", "Yilmaz", "Zimmer", "Adeyemi", "Brandt", "Costa", "Delacroix",
    "Ekström", "Farrow", "Gallagher", "Holm", "Iqbal", "Jovanovic", "Kaur", "Lindqvist", "Mensah", "Novak",
    "O'Neill", "Park", "Quiroga", "Reyes", "Santos", "Thorne", "Ueda", "Vance", "Walsh", "Yamada",
    "Zhou", "Achebe", "Blackwood", "Carver", "Dalton", "Ellis", "Fischer", "Grant", "Hart", "Ivers",
]  # fmt: skip

PROTAGONISTS = [
    "a retired detective", "a young pilot", "an estranged sister", "a small-town baker", "an ambitious lawyer",
    "a reluctant heir", "a washed-up boxer", "a brilliant hacker", "a widowed rancher", "a night-shift nurse",
    "a disgraced chef", "a teenage inventor", "an aging rock star", "a rookie reporter", "a lighthouse keeper",
    "a grieving father", "a runaway bride", "a shy librarian", "a former spy", "a struggling comedian",
]  # fmt: skip
KIDS_PROTAGONISTS = [
    "a curious fox", "a brave little robot", "a clumsy dragon", "a pair of best friends", "a lost penguin",
    "a young wizard", "a talking bicycle", "a family of mice", "a cheerful snail", "a girl who can fly",
]  # fmt: skip
# Per taste group: (what happens, what they must do, what is at stake, what it is about).
STORY_PARTS = [
    (
        [
            "uncovers a plan to rob the central bank",
            "is framed for a crime she did not commit",
            "witnesses a deal gone wrong",
        ],
        ["outrun a ruthless crew", "clear their name", "pull off one last job"],
        ["the city wakes up", "the deadline runs out", "their partner talks"],
        "loyalty and betrayal",
    ),
    (
        ["finds a signal from a dying star", "wakes up a hundred years too late", "builds a machine that bends time"],
        ["lead a crew across the galaxy", "repair the timeline", "outwit a rogue intelligence"],
        ["the last colony falls", "the portal closes forever", "memory itself unravels"],
        "what makes us human",
    ),
    (
        ["falls for the one person she swore to avoid", "returns home for a wedding", "inherits a crumbling vineyard"],
        ["choose between two lives", "win back a first love", "save the family business"],
        ["the summer ends", "the last train leaves", "the vows are spoken"],
        "second chances",
    ),
    (
        ["moves into a house with a locked room", "hears whispers in the static", "finds a diary that writes itself"],
        ["survive the night", "solve a decades-old disappearance", "break an ancient curse"],
        ["the fog comes back", "the next full moon", "no one is left to warn"],
        "fear and grief",
    ),
    (
        [
            "is drafted into a war no one understands",
            "discovers letters hidden for eighty years",
            "crosses an ocean to start again",
        ],
        ["carry a message through enemy lines", "tell the truth history forgot", "keep a family together"],
        ["the front collapses", "the archive burns", "the empire falls"],
        "courage and memory",
    ),
    (
        ["accidentally becomes the office's union boss", "fakes being a celebrity chef", "runs for mayor on a dare"],
        ["keep the lie going", "survive a disastrous road trip", "win a talent show"],
        ["the boss finds out", "the cameras roll", "grandma's birthday party"],
        "friendship and embarrassment",
    ),
    (
        ["gets lost on the way to the big parade", "discovers a secret door in the garden", "finds a magic map"],
        ["find the way home", "save the enchanted forest", "throw the best party ever"],
        ["the sun goes down", "winter arrives", "the parade begins"],
        "friendship and being brave",
    ),
    (
        ["gets one last shot at the championship", "joins a garage band", "coaches a hopeless junior team"],
        ["train harder than ever", "play the biggest stage in the country", "prove everyone wrong"],
        ["the final whistle", "the record deal expires", "the season ends"],
        "never giving up",
    ),
    (
        [
            "defends a client everyone wants convicted",
            "returns to the town that exiled them",
            "uncovers corruption at the top",
        ],
        ["confront a painful past", "expose the truth", "hold a fractured family together"],
        ["the verdict is read", "the scandal breaks", "it destroys them"],
        "justice and family",
    ),
    (
        ["rides into a town run by outlaws", "is hired to guide settlers west", "loses everything in a flood"],
        ["bring the gang to justice", "cross the mountains before winter", "rebuild from nothing"],
        ["the railroad arrives", "the snow closes the pass", "the sheriff's last day"],
        "survival and honor",
    ),
]
EPISODE_WORDS = [
    "Pilot",
    "Homecoming",
    "The Deal",
    "Crossroads",
    "Old Friends",
    "Lockdown",
    "Aftermath",
    "The Visitor",
    "Fault Lines",
    "Reckoning",
    "Ghosts",
    "Open Water",
    "The Long Night",
    "Finale",
]
SERIES_DESCRIPTORS = ["a gripping series", "a sharp series", "an addictive series", "a sweeping saga"]
FILM_DESCRIPTORS = ["a gripping film", "a heartfelt film", "a stylish film", "an unforgettable film"]
# Searches that find nothing: the content-gap report needs some.
GAP_QUERIES = ["star wars", "the office", "dune", "friends", "succession", "bluey", "top gun", "barbie"]

FILM_RATINGS = {
    "kids": ([MaturityRating.G, MaturityRating.PG, MaturityRating.PG_13], [0.5, 0.4, 0.1]),
    "dark": ([MaturityRating.PG_13, MaturityRating.R, MaturityRating.NC_17], [0.25, 0.6, 0.15]),
    "other": (
        [MaturityRating.PG, MaturityRating.PG_13, MaturityRating.R, MaturityRating.NC_17],
        [0.2, 0.45, 0.32, 0.03],
    ),
}
SERIES_RATINGS = {
    "kids": (
        [MaturityRating.TV_Y, MaturityRating.TV_Y7, MaturityRating.TV_G, MaturityRating.TV_PG],
        [0.35, 0.3, 0.2, 0.15],
    ),
    "dark": ([MaturityRating.TV_14, MaturityRating.TV_MA], [0.4, 0.6]),
    "other": (
        [MaturityRating.TV_G, MaturityRating.TV_PG, MaturityRating.TV_14, MaturityRating.TV_MA],
        [0.1, 0.3, 0.4, 0.2],
    ),
}
KIDS_GENRES = {"Kids", "Family", "Animation"}
DARK_GENRES = {"Horror", "Thriller", "Crime", "War"}


# --- The plan: plain data, no database ------------------------------------------------------


@dataclass
class EpisodePlan:
    number: int
    name: str
    runtime: int


@dataclass
class SeasonPlan:
    number: int
    episodes: list[EpisodePlan]


@dataclass
class TitlePlan:
    key: str  # external id
    kind: str
    name: str
    synopsis: str
    year: int
    runtime: int
    rating: str
    genres: list[int]
    tags: list[tuple[int, float]]
    credits: list[tuple[int, str, int, str]]  # person index, role, order, character
    date_added: datetime
    is_published: bool
    seasons: list[SeasonPlan] = field(default_factory=list)


@dataclass
class ProfilePlan:
    name: str
    is_kids: bool
    limit: int
    color: str
    groups: list[int] = field(default_factory=list)  # its latent taste groups (for checks, not stored)
    ratings: list[tuple[int, str, datetime]] = field(default_factory=list)
    # title, (season, episode) or None, position, duration, completed, started, last watched
    viewing: list[tuple[int, tuple[int, int] | None, int, int, bool, datetime, datetime]] = field(default_factory=list)
    my_list: list[tuple[int, datetime]] = field(default_factory=list)
    searches: list[tuple[str, int, datetime]] = field(default_factory=list)


@dataclass
class AccountPlan:
    username: str
    password: str | None
    joined: datetime
    profiles: list[ProfilePlan]


@dataclass
class CollectionPlan:
    name: str
    description: str
    position: int
    is_active: bool
    starts_at: datetime | None
    ends_at: datetime | None
    titles: list[int]


@dataclass
class Plan:
    people: list[str]
    titles: list[TitlePlan]
    collections: list[CollectionPlan]
    accounts: list[AccountPlan]


class _Generator:
    def __init__(self, seed: int, now: datetime, sizes: Sizes):
        self.sizes = sizes
        self.r = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.now = now
        self.genre_ix = {g: i for i, g in enumerate(GENRES)}
        self.tag_ix = {t: i for i, t in enumerate(TAGS)}

    def ago(self, days_max: float, days_min: float = 0.0) -> datetime:
        return self.now - timedelta(seconds=self.r.uniform(days_min * 86400, days_max * 86400))

    def recent(self, horizon_days: float, last_week_share: float) -> datetime:
        """A moment in the last `horizon_days`, with a given share in the last 7 days."""
        if self.r.random() < last_week_share:
            return self.ago(7)
        return self.ago(horizon_days, 7)

    # Catalog ------------------------------------------------------------------------------

    def people(self) -> list[str]:
        combos = [f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES]
        return self.r.sample(combos, self.sizes.people)

    def title_name(self, group: int, taken: set[str]) -> str:
        r = self.r
        for _ in range(50):
            adj, noun, place, first = (
                r.choice(ADJECTIVES), r.choice(NOUNS), r.choice(PLACES), r.choice(FIRST_NAMES)
            )  # fmt: skip
            if group == FAMILY_GROUP:
                options = [
                    f"{first} and the {adj} {noun}", f"The Adventures of {first}", f"The {adj} {noun}",
                    f"{first}'s {adj} {noun}",
                ]  # fmt: skip
            else:
                options = [
                    f"The {adj} {noun}", f"{adj} {noun}", f"{noun} of {place}", f"{first}'s {noun}",
                    f"Beyond the {noun}", f"The {noun} of {place}", f"{adj} {noun}s", f"Return to {place}",
                    f"{noun} in {place}", f"A {adj} {noun}",
                ]  # fmt: skip
            name = r.choice(options)
            if name not in taken:
                taken.add(name)
                return name
        name = f"{name} {len(taken)}"
        taken.add(name)
        return name

    def synopsis(self, group: int, kind: str) -> str:
        r = self.r
        happens, must, stakes, theme = STORY_PARTS[group]
        who = r.choice(KIDS_PROTAGONISTS if group == FAMILY_GROUP else PROTAGONISTS)
        what = r.choice(FILM_DESCRIPTORS if kind == TitleKind.FILM else SERIES_DESCRIPTORS)
        return (
            f"{who[0].upper()}{who[1:]} {r.choice(happens)} and must {r.choice(must)} before "
            f"{r.choice(stakes)}. {what[0].upper()}{what[1:]} about {theme}."
        )

    def maturity(self, kind: str, genres: list[str]) -> str:
        if self.r.random() < 0.04:
            return MaturityRating.UNRATED
        mood = "kids" if KIDS_GENRES & set(genres) else "dark" if DARK_GENRES & set(genres) else "other"
        choices, weights = (FILM_RATINGS if kind == TitleKind.FILM else SERIES_RATINGS)[mood]
        return self.r.choices(choices, weights)[0]

    def titles(self, n_people: int) -> list[TitlePlan]:
        r = self.r
        taken: set[str] = set()
        # Billing favours a few stars: people are drawn with Zipf-like weights.
        person_cum = list(itertools.accumulate(1.0 / (i + 1) ** 0.6 for i in range(n_people)))
        everyone = range(n_people)
        directors = list(range(0, n_people, 5))  # every fifth person also directs
        titles = []
        kinds = [TitleKind.FILM] * self.sizes.films + [TitleKind.SERIES] * self.sizes.series
        r.shuffle(kinds)
        for i, kind in enumerate(kinds):
            group = r.randrange(len(TASTE_GROUPS))
            _, group_genres, group_tags = TASTE_GROUPS[group]
            genres = [r.choice(group_genres)]
            for _ in range(r.choice([0, 1, 1, 2])):
                extra = r.choice(group_genres) if r.random() < 0.7 else r.choice(GENRES)
                if extra not in genres:
                    genres.append(extra)
            tags: dict[int, float] = {}
            for t in r.sample(group_tags, r.randint(1, 3)):
                tags[self.tag_ix[t]] = round(r.uniform(0.5, 1.0), 2)
            for t in r.sample(TAGS, r.randint(0, 3)):
                tags.setdefault(self.tag_ix[t], round(r.uniform(0.1, 0.6), 2))
            year = max(1950, self.now.year - int(self.np.exponential(9)))
            credits: list[tuple[int, str, int, str]] = []
            lead_role = CreditRole.DIRECTOR if kind == TitleKind.FILM else CreditRole.CREATOR
            for order, person in enumerate(r.sample(directors, r.choice([1, 1, 1, 2]))):
                credits.append((person, lead_role, order, ""))
            if r.random() < 0.5:
                credits.append((r.randrange(n_people), CreditRole.WRITER, 0, ""))
            cast = []
            while len(cast) < r.randint(4, 8):
                person = r.choices(everyone, cum_weights=person_cum)[0]
                if person not in cast:
                    cast.append(person)
            for order, person in enumerate(cast):
                character = (
                    f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}" if r.random() < 0.6 else r.choice(FIRST_NAMES)
                )
                credits.append((person, CreditRole.ACTOR, order, character))
            if kind == TitleKind.FILM:
                runtime = r.randint(78, 165) if group != FAMILY_GROUP else r.randint(70, 105)
            else:
                runtime = r.choice([22, 25, 30, 45, 50, 55, 60])
            # Most of the catalog arrived over two years; a steady trickle in the last three weeks.
            added = self.ago(21) if r.random() < 0.12 else self.ago(730, 21)
            plan = TitlePlan(
                key=f"{DEMO_PREFIX}{i + 1:04d}",
                kind=kind,
                name=self.title_name(group, taken),
                synopsis=self.synopsis(group, kind),
                year=min(year, added.year),
                runtime=runtime,
                rating=self.maturity(kind, genres),
                genres=[self.genre_ix[g] for g in genres],
                tags=list(tags.items()),
                credits=credits,
                date_added=added,
                is_published=r.random() > 0.01,
            )
            if kind == TitleKind.SERIES:
                for season in range(1, r.choice([1, 1, 2, 2, 3, 3, 4, 5, 6]) + 1):
                    episodes = [
                        EpisodePlan(
                            number=e,
                            name=EPISODE_WORDS[0] if season == 1 and e == 1 else r.choice(EPISODE_WORDS[1:]),
                            runtime=max(15, runtime + r.randint(-5, 8)),
                        )
                        for e in range(1, r.randint(6, 10) + 1)
                    ]
                    plan.seasons.append(SeasonPlan(season, episodes))
            titles.append(plan)
        return titles

    def collections(self, titles: list[TitlePlan]) -> list[CollectionPlan]:
        r = self.r
        live = [i for i, t in enumerate(titles) if t.is_published]
        family = [i for i in live if level_of(titles[i].rating) <= KIDS_MAX_LEVEL]
        horror = [i for i in live if self.genre_ix["Horror"] in titles[i].genres]
        tagged_award = [i for i in live if any(tag == self.tag_ix["award winner"] for tag, _ in titles[i].tags)]
        awards = list(dict.fromkeys(tagged_award + r.sample(live, min(20, len(live)))))[:18]
        return [
            CollectionPlan("Staff picks", "What our editors are watching this week.", 1, True, None, None,
                           r.sample(live, min(20, len(live)))),
            CollectionPlan("Award winners", "Celebrated on the festival circuit.", 4, True, None, None, awards),
            CollectionPlan("Family movie night", "Something everyone can enjoy.", 6, True, None, None,
                           r.sample(family, min(16, len(family)))),
            # Not live: it ended. Kept to show that curated rows expire.
            CollectionPlan("Halloween frights", "Scares for the spooky season.", 8, True,
                           self.now - timedelta(days=60), self.now - timedelta(days=20), horror[:15]),
            # Not live: switched off by an editor.
            CollectionPlan("Summer blockbusters", "Big, loud and fun.", 10, False, None, None,
                           r.sample(live, min(12, len(live)))),
        ]  # fmt: skip

    # Subscribers --------------------------------------------------------------------------

    def _affinity(self, titles: list[TitlePlan]) -> np.ndarray:
        """groups x titles: how well each title matches each taste group (0 = not at all)."""
        aff = np.zeros((len(TASTE_GROUPS), len(titles)))
        for g, (_, genres, tags) in enumerate(TASTE_GROUPS):
            gset = {self.genre_ix[x] for x in genres}
            tset = {self.tag_ix[x] for x in tags}
            for t, title in enumerate(titles):
                score = (1.0 if title.genres[0] in gset else 0.0) + 0.4 * sum(x in gset for x in title.genres[1:])
                score += 0.4 * sum(w for tag, w in title.tags if tag in tset)
                aff[g, t] = score
        return aff / aff.max()

    def history(self, profile: ProfilePlan, groups: list[int], scale: float, visible: np.ndarray) -> None:
        """Fill a profile's ratings, viewing, My List and searches from its taste groups."""
        r, rng = self.r, self.np
        profile.groups = list(groups)
        titles = self.plan_titles
        weights = [1.0, 0.5]
        aff = sum(w * self.aff[g] for w, g in zip(weights, groups, strict=False))
        aff = aff / max(aff.max(), 1e-9)
        candidates = np.flatnonzero(visible)
        if len(candidates) == 0:
            return
        # Viewers mostly choose what matches their taste, nudged by what is popular.
        p = (0.03 + aff[candidates]) ** 2 * self.popularity[candidates]
        p = p / p.sum()
        n_rate = min(len(candidates) - 1, max(3, int(rng.integers(15, 70) * scale)))
        picks = rng.choice(candidates, size=n_rate, replace=False, p=p)
        rated: dict[int, str] = {}
        for t in picks.tolist():
            score = 1.6 * aff[t] + self.quality[t] + rng.normal(0, 0.3)
            value = "love" if score > 1.15 else "up" if score > 0.45 else "down"
            rated[t] = value
            profile.ratings.append((t, value, self.recent(180, 0.15)))

        # Viewing: much of what was liked was watched, plus a few things started and dropped.
        liked = [t for t, v in rated.items() if v != "down"]
        watched = r.sample(liked, min(len(liked), max(1, int(len(liked) * 0.5))))
        extra = rng.choice(candidates, size=min(len(candidates), max(2, int(rng.integers(2, 10) * scale))), p=p)
        for t in dict.fromkeys([*watched, *extra.tolist()]):
            title = titles[t]
            last = self.recent(120, 0.3)
            if title.kind == TitleKind.FILM:
                duration = title.runtime * 60
                done = t in rated and r.random() < 0.8
                position = duration if done else int(duration * r.uniform(0.05, 0.85))
                profile.viewing.append(
                    (t, None, position, duration, done, last - timedelta(minutes=title.runtime), last)
                )
                continue
            episodes = [(s.number, e) for s in title.seasons for e in s.episodes]
            seen = episodes[: r.randint(1, min(8, len(episodes)))]
            for k, (season_no, episode) in enumerate(seen):
                duration = episode.runtime * 60
                is_last = k == len(seen) - 1
                done = not is_last or r.random() < 0.4
                position = duration if done else int(duration * r.uniform(0.1, 0.8))
                when = last - timedelta(days=(len(seen) - 1 - k) * r.uniform(0.2, 2))
                profile.viewing.append(
                    (
                        t,
                        (season_no, episode.number),
                        position,
                        duration,
                        done,
                        when - timedelta(minutes=episode.runtime),
                        when,
                    )
                )

        seen_titles = set(rated) | {v[0] for v in profile.viewing}
        wanted = [t for t in np.argsort(-aff * self.popularity).tolist() if visible[t] and t not in seen_titles]
        for t in r.sample(wanted[:60], min(len(wanted[:60]), r.randint(0, 8))):
            profile.my_list.append((t, self.recent(60, 0.2)))

        if r.random() < 0.4:
            for _ in range(r.randint(1, 4)):
                if r.random() < 0.3:
                    profile.searches.append((r.choice(GAP_QUERIES), 0, self.ago(60)))
                else:
                    words = titles[int(r.choice(candidates))].name.split()
                    profile.searches.append(
                        (" ".join(words[: r.randint(1, 2)]).lower(), r.randint(1, 25), self.ago(60))
                    )

    def accounts(self, titles: list[TitlePlan]) -> list[AccountPlan]:
        r, rng = self.r, self.np
        self.plan_titles = titles
        self.aff = self._affinity(titles)
        self.popularity = rng.lognormal(0.0, 0.9, len(titles))
        self.quality = rng.normal(0.0, 0.25, len(titles))
        levels = np.array([level_of(t.rating) for t in titles])
        published = np.array([t.is_published for t in titles])
        unrated = np.array([t.rating == MaturityRating.UNRATED for t in titles])

        def visible(limit: int, is_kids: bool) -> np.ndarray:
            return published & (levels <= limit) & ~(unrated & is_kids)

        adult_groups = [g for g in range(len(TASTE_GROUPS)) if g != FAMILY_GROUP]
        accounts = []
        for n in range(1, self.sizes.subscribers + 1):
            n_profiles = r.choices([1, 2, 3, 4], [0.35, 0.3, 0.2, 0.15])[0]
            names = r.sample(FIRST_NAMES, n_profiles)
            profiles = []
            for k, name in enumerate(names):
                is_kids = k > 0 and k == n_profiles - 1 and r.random() < 0.4
                if is_kids:
                    limit = r.choices([0, 1, 2], [0.2, 0.3, 0.5])[0]
                    profile = ProfilePlan("Kids" if r.random() < 0.5 else name, True, limit, AVATAR_COLORS[k])
                    self.history(profile, [FAMILY_GROUP], 0.5, visible(limit, True))
                else:
                    limit = r.choices([5, 4, 3], [0.85, 0.1, 0.05])[0]
                    groups = [r.choice(adult_groups if r.random() < 0.9 else range(len(TASTE_GROUPS)))]
                    if r.random() < 0.3:
                        groups.append(r.choice([g for g in range(len(TASTE_GROUPS)) if g != groups[0]]))
                    profile = ProfilePlan(name, False, limit, AVATAR_COLORS[k])
                    self.history(profile, groups, 1.0, visible(limit, False))
                profiles.append(profile)
            accounts.append(AccountPlan(f"sub-{n:04d}", None, self.ago(720, 30), profiles))

        # The demo account: a little history, so its home page is personal from the first visit.
        alex = ProfilePlan("Alex", False, 5, AVATAR_COLORS[0])
        self.history(alex, [1, 0], 0.6, visible(5, False))
        jordan = ProfilePlan("Jordan", False, 5, AVATAR_COLORS[1])
        self.history(jordan, [2], 0.3, visible(5, False))
        kids = ProfilePlan("Kids", True, KIDS_MAX_LEVEL, AVATAR_COLORS[2])
        self.history(kids, [FAMILY_GROUP], 0.3, visible(KIDS_MAX_LEVEL, True))
        accounts.append(AccountPlan(DEMO_USERNAME, DEMO_PASSWORD, self.ago(400, 300), [alex, jordan, kids]))
        return accounts


def generate(*, seed: int = DEFAULT_SEED, now: datetime | None = None, sizes: Sizes = FULL) -> Plan:
    """The whole demo data set as plain data. Same seed and `now`, same plan."""
    gen = _Generator(seed, now or timezone.now(), sizes)
    people = gen.people()
    titles = gen.titles(len(people))
    collections = gen.collections(titles)
    accounts = gen.accounts(titles)
    return Plan(people=people, titles=titles, collections=collections, accounts=accounts)


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
    people = [Person(name=n, slug=_unique_slug(n, taken, "person", 220)) for n in plan.people]
    Person.objects.bulk_create(people, batch_size=BATCH)
    slug_to_id = dict(Person.objects.filter(slug__in=[p.slug for p in people]).values_list("slug", "id"))
    person_ids = [slug_to_id[p.slug] for p in people]

    taken = set(Title.objects.values_list("slug", flat=True))
    Title.objects.bulk_create(
        [
            Title(
                kind=t.kind,
                name=t.name,
                slug=_unique_slug(f"{t.name} {t.year}", taken, "title", 320),
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
        ["title", "season", "number", "name", "synopsis", "runtime_minutes"],
        [
            (title_ids[i], season_ids[(title_ids[i], s.number)], e.number, e.name, "", e.runtime)
            for i, t in enumerate(plan.titles)
            for s in t.seasons
            for e in s.episodes
        ],
    )
    taken = set(Collection.objects.values_list("slug", flat=True))
    for c in plan.collections:
        collection = Collection.objects.create(
            name=c.name,
            slug=_unique_slug(c.name, taken, "collection", 140),
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
