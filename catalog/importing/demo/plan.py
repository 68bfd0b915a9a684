"""The demo plan: a deterministic catalog and subscribers as plain data (no database).

`generate(seed=..., now=...)` builds a `Plan` from `random.Random(seed)` and
`numpy.random.default_rng(seed)` only: the same seed gives the same catalog, accounts and
histories. Timestamps are offsets from `now`, so "added last week" stays true whenever the demo
is seeded. Subscribers' ratings, viewing and My List come from latent taste groups (see the
package docstring).
"""

from __future__ import annotations

import itertools
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.utils import timezone

from accounts.maturity import KIDS_MAX_LEVEL, MaturityRating, level_of
from accounts.models import AVATAR_COLORS

from ...models import (
    CreditRole,
    TitleKind,
)
from .vocabulary import (
    ADJECTIVES,
    DARK_GENRES,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_PREFIX,
    DEMO_USERNAME,
    EPISODE_WORDS,
    FAMILY_GROUP,
    FILM_DESCRIPTORS,
    FILM_RATINGS,
    FIRST_NAMES,
    FULL,
    GAP_QUERIES,
    GENRES,
    KIDS_GENRES,
    KIDS_PROTAGONISTS,
    LAST_NAMES,
    NOUNS,
    PLACES,
    PROTAGONISTS,
    SERIES_DESCRIPTORS,
    SERIES_RATINGS,
    STORY_PARTS,
    TAGS,
    TASTE_GROUPS,
    Sizes,
)

# --- The plan: plain data, no database ------------------------------------------------------


@dataclass
class EpisodePlan:
    number: int
    name: str
    runtime: int
    # The intro marker in seconds ("Skip intro"), or None for an episode without one.
    intro: tuple[int, int] | None = None


# Share of series whose episodes have an intro marker (after the pilot).
INTRO_SHARE = 0.6


def intro_marker(key: str, season: int, episode: int) -> tuple[int, int] | None:
    """A deterministic intro (start, end) for a demo episode, or None.

    From a hash of the ids rather than the plan's random stream, so adding markers left every
    other part of a seed's plan as it was. A series has intros or not; its pilot never does
    (a cold open), the others start in the first 1.5 min and last 30-75 s.
    """
    if zlib.crc32(key.encode()) % 100 >= INTRO_SHARE * 100 or (season, episode) == (1, 1):
        return None
    h = zlib.crc32(f"{key}:{season}:{episode}".encode())
    start = h % 91
    return start, start + 30 + (h >> 8) % 46


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


def plural(noun: str) -> str:
    """English plural of the vocabulary's nouns ("Witness" -> "Witnesses", "Echo" -> "Echoes")."""
    if noun.endswith(("s", "x", "z", "ch", "sh", "o")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1].lower() not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def indefinite(word: str) -> str:
    """The indefinite article for `word`, by its first letter (the vocabulary has no silent h or "uni-")."""
    return "An" if word[:1].lower() in "aeiou" else "A"


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
                    f"Beyond the {noun}", f"The {noun} of {place}", f"{adj} {plural(noun)}",
                    f"Return to {place}", f"{noun} in {place}", f"{indefinite(adj)} {adj} {noun}",
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
                            intro=intro_marker(plan.key, season, e),
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

    def _binge_to_the_end(self, profile: ProfilePlan, t: int, episodes, watched: int, last: datetime) -> None:
        """Half of the loved series are watched through to their last episode, one after another
        from where the viewer was (so series completion is not 0% on the demo). Decided and
        timed without the seeded random stream, so the rest of the plan is unchanged."""
        if watched >= len(episodes):
            return
        # The episode the viewer was in is finished too.
        t0, ep, _position, duration, _done, started, ended = profile.viewing[-1]
        profile.viewing[-1] = (t0, ep, duration, duration, True, started, ended)
        latest = self.now - timedelta(minutes=5)
        for i, (season_no, episode) in enumerate(episodes[watched:], start=1):
            duration = episode.runtime * 60
            when = min(last + timedelta(minutes=i * (episode.runtime + 10)), latest)
            started = when - timedelta(minutes=episode.runtime)
            profile.viewing.append((t, (season_no, episode.number), duration, duration, True, started, when))

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
            if rated.get(t) == "love" and (t + len(profile.ratings)) % 2 == 0:
                self._binge_to_the_end(profile, t, episodes, len(seen), last)

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
