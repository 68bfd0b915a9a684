"""Import a MovieLens-format directory (movies.csv, ratings.csv, optional tags.csv, links.csv).

Two phases, so that a malformed file never leaves half an import behind:

1. `parse_dataset(directory)` reads and validates every file completely, in memory. The first
   problem raises `ImportRefused("ratings.csv line 17: ...")` naming the file and line.
2. `movielens_import(directory=...)` then writes everything in ONE transaction with
   bulk_create, skipping what an earlier run already wrote (by natural keys: `ml:<movieId>`
   titles, `ml-<userId>` accounts, one rating per profile and title), so re-running adds
   nothing twice.

Why the rules are what they are:
- MovieLens has no maturity classification, so titles are imported as unrated (`NR`): adult
  profiles without a limit see them, kids profiles never do. Guessing a rating from the
  genres would put wrongly rated films in front of children.
- Star ratings become thumbs (>= 4.0 love, 3.0-3.5 up, <= 2.5 down) and keep their
  timestamps (UTC), which the recommender's temporal evaluation split depends on.
- The dataset's people agreed to research use, so imported accounts are recorded as having
  granted every consent purpose (method `import`); they get an unusable password.
- Engagement rows are bulk-inserted here instead of going through `catalog.services`: this is
  a dataset load, not a person acting, and per-row service calls would take minutes.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.maturity import MaturityRating, level_of
from accounts.models import AVATAR_COLORS, Profile, User
from accounts.services import profile_engagement_touch
from privacy import consent

from ..models import Genre, Rating, RatingValue, Tag, Title, TitleKind, TitleTag
from .bulk import insert_rows, unique_slug

NO_GENRES = "(no genres listed)"
MIN_STARS, MAX_STARS = 0.5, 5.0
# Year at the end of the title: "(1995)", or a series' run "(2006-2007)", "(2016- )", also with an en dash.
YEAR_RE = re.compile(r"\s*\((\d{4})(?:\s*[-–]\s*(?:\d{4})?\s*)?\)\s*$")
# "Matrix, The" -> "The Matrix" (also before an alternative title in parentheses).
ARTICLE_RE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An)(?P<alt> \(.*\))?$")
# Epoch seconds beyond this are not a real rating time (and overflow some platforms).
MAX_TIMESTAMP = 4_102_444_800  # 2100-01-01
BATCH = 2000

REQUIRED_COLUMNS = {
    "movies.csv": ("movieId", "title", "genres"),
    "ratings.csv": ("userId", "movieId", "rating", "timestamp"),
    "tags.csv": ("userId", "movieId", "tag", "timestamp"),
    "links.csv": ("movieId", "imdbId", "tmdbId"),
}


class ImportRefused(Exception):
    """The input is malformed; the message names the file and line. Nothing was written."""


@dataclass
class MovieRow:
    movie_id: int
    name: str
    year: int | None
    genres: list[str]


@dataclass
class Dataset:
    movies: dict[int, MovieRow] = field(default_factory=dict)
    # (userId, movieId) -> (stars, epoch seconds); the latest rating wins if a pair repeats.
    ratings: dict[tuple[int, int], tuple[float, int]] = field(default_factory=dict)
    # movieId -> tag name -> set of userIds who applied it.
    tags: dict[int, dict[str, set[int]]] = field(default_factory=dict)
    links: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass
class ImportSummary:
    titles: int = 0
    genres: int = 0
    tags: int = 0
    title_tags: int = 0
    accounts: int = 0
    ratings: int = 0
    links_updated: int = 0

    def __str__(self) -> str:
        return (
            f"{self.titles} titles, {self.genres} genres, {self.tags} tags ({self.title_tags} title tags), "
            f"{self.accounts} accounts, {self.ratings} ratings added"
        )


# --- Parsing and validation (no database writes) -----------------------------------------


def stars_to_value(stars: float) -> str:
    if stars >= 4.0:
        return RatingValue.LOVE
    if stars >= 3.0:
        return RatingValue.UP
    return RatingValue.DOWN


def split_title(raw: str) -> tuple[str, int | None]:
    """'Matrix, The (1999)' -> ('The Matrix', 1999). Titles without a year keep year None."""
    name = raw.strip()
    year = None
    match = YEAR_RE.search(name)
    if match:
        year = int(match.group(1))
        name = name[: match.start()].strip()
    article = ARTICLE_RE.match(name)
    if article:
        name = f"{article['article']} {article['rest']}{article['alt'] or ''}"
    return name, year


def _rows(path: Path, filename: str):
    """Yield (line number, dict) for each data row, after checking the header and field count."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"{filename}: cannot be read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportRefused(f"{filename} line {line}: not valid UTF-8") from exc
    del raw
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRefused(f"{filename} line 1: the file is empty (a header row is required)")
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED_COLUMNS[filename] if c not in header]
        if missing:
            raise ImportRefused(f"{filename} line 1: missing column {', '.join(repr(c) for c in missing)}")
        width = len(header)
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue  # a blank line
            if len(fields) != width:
                raise ImportRefused(f"{filename} line {line}: expected {width} fields, found {len(fields)}")
            yield line, dict(zip(header, fields, strict=True))
    except csv.Error as exc:
        raise ImportRefused(f"{filename} line {reader.line_num}: {exc}") from exc


def _int(value: str, column: str, where: str, *, minimum: int = 1) -> int:
    value = value.strip()
    if not value.isdigit():
        raise ImportRefused(f"{where}: {column} must be a whole number, got {value!r}")
    number = int(value)
    if number < minimum:
        raise ImportRefused(f"{where}: {column} must be at least {minimum}, got {number}")
    return number


def _timestamp(value: str, where: str) -> int:
    value = value.strip()
    if not value.isdigit() or int(value) > MAX_TIMESTAMP:
        raise ImportRefused(f"{where}: timestamp must be epoch seconds, got {value!r}")
    return int(value)


def _known_movie(movie_id: int, data: Dataset, existing_ids: set[int], where: str) -> None:
    if movie_id not in data.movies and movie_id not in existing_ids:
        raise ImportRefused(f"{where}: unknown movieId {movie_id} (not in movies.csv)")


def parse_dataset(directory: str | Path, *, existing_movie_ids: set[int] | None = None) -> Dataset:
    """Read and validate every file. Raises ImportRefused at the first problem.

    `existing_movie_ids` are movies an earlier import already created: ratings of them are
    valid even when this movies.csv no longer lists them.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportRefused(f"{directory}: not a directory")
    for required in ("movies.csv", "ratings.csv"):
        if not (directory / required).is_file():
            raise ImportRefused(f"{required}: missing from {directory}")
    existing = existing_movie_ids or set()
    data = Dataset()

    for line, row in _rows(directory / "movies.csv", "movies.csv"):
        where = f"movies.csv line {line}"
        movie_id = _int(row["movieId"], "movieId", where)
        if movie_id in data.movies:
            raise ImportRefused(f"{where}: movieId {movie_id} appears twice")
        name, year = split_title(row["title"])
        if not name:
            raise ImportRefused(f"{where}: the title is empty")
        if year is not None and not 1870 <= year <= 2100:
            raise ImportRefused(f"{where}: implausible year {year}")
        raw_genres = row["genres"].strip()
        genres = [] if raw_genres in ("", NO_GENRES) else [g.strip()[:60] for g in raw_genres.split("|") if g.strip()]
        data.movies[movie_id] = MovieRow(movie_id, name[:300], year, list(dict.fromkeys(genres)))

    for line, row in _rows(directory / "ratings.csv", "ratings.csv"):
        where = f"ratings.csv line {line}"
        user_id = _int(row["userId"], "userId", where)
        movie_id = _int(row["movieId"], "movieId", where)
        try:
            stars = float(row["rating"])
        except ValueError:
            raise ImportRefused(f"{where}: rating must be a number, got {row['rating']!r}") from None
        if not math.isfinite(stars) or not MIN_STARS <= stars <= MAX_STARS:
            raise ImportRefused(f"{where}: rating must be between {MIN_STARS} and {MAX_STARS}, got {row['rating']!r}")
        ts = _timestamp(row["timestamp"], where)
        _known_movie(movie_id, data, existing, where)
        previous = data.ratings.get((user_id, movie_id))
        if previous is None or ts >= previous[1]:
            data.ratings[(user_id, movie_id)] = (stars, ts)

    if (directory / "tags.csv").is_file():
        for line, row in _rows(directory / "tags.csv", "tags.csv"):
            where = f"tags.csv line {line}"
            user_id = _int(row["userId"], "userId", where)
            movie_id = _int(row["movieId"], "movieId", where)
            _timestamp(row["timestamp"], where)
            # Case and spacing variants of one tag are the same tag ("Funny", "funny ").
            name = " ".join(row["tag"].split()).lower()[:100]
            if not name:
                raise ImportRefused(f"{where}: the tag is empty")
            _known_movie(movie_id, data, existing, where)
            data.tags.setdefault(movie_id, {}).setdefault(name, set()).add(user_id)

    if (directory / "links.csv").is_file():
        for line, row in _rows(directory / "links.csv", "links.csv"):
            where = f"links.csv line {line}"
            movie_id = _int(row["movieId"], "movieId", where)
            imdb = row["imdbId"].strip()
            tmdb = row["tmdbId"].strip()
            if imdb and not imdb.isdigit():
                raise ImportRefused(f"{where}: imdbId must be digits, got {imdb!r}")
            if tmdb and not tmdb.isdigit():
                raise ImportRefused(f"{where}: tmdbId must be digits, got {tmdb!r}")
            _known_movie(movie_id, data, existing, where)
            data.links[movie_id] = (f"tt{int(imdb):07d}" if imdb else "", tmdb[:16])
    return data


# --- Writing --------------------------------------------------------------------------------


def _ensure_genres(names: list[str], summary: ImportSummary) -> dict[str, int]:
    """Genre id per name, creating the missing ones; an existing genre of that name or slug is reused."""
    by_name = dict(Genre.objects.filter(name__in=names).values_list("name", "id"))
    slug_ids = dict(Genre.objects.values_list("slug", "id"))
    result: dict[str, int] = {}
    pending: dict[str, str] = {}
    for name in names:
        if name in by_name:
            result[name] = by_name[name]
        elif slugify(name) and slugify(name) in slug_ids:
            result[name] = slug_ids[slugify(name)]
        else:
            pending[name] = unique_slug(name, set(slug_ids) | set(pending.values()), "genre", 60)
    if pending:
        Genre.objects.bulk_create([Genre(name=name, slug=slug) for name, slug in pending.items()])
        summary.genres = len(pending)
        created = dict(Genre.objects.filter(slug__in=pending.values()).values_list("slug", "id"))
        result.update({name: created[slug] for name, slug in pending.items()})
    return result


def _ensure_tags(names: list[str], summary: ImportSummary) -> dict[str, int]:
    """Tag id per name; an existing tag with the same name or slug is reused."""
    by_name = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    slugs_taken = set(Tag.objects.values_list("slug", flat=True))
    slug_ids = dict(Tag.objects.values_list("slug", "id"))
    result: dict[str, int] = {}
    new: list[Tag] = []
    pending: dict[str, str] = {}  # name -> slug, for the tags created now
    for name in names:
        if name in by_name:
            result[name] = by_name[name]
            continue
        slug = slugify(name)
        if slug and slug in slug_ids:
            # "sci fi" and "sci-fi" are one tag to a viewer.
            result[name] = slug_ids[slug]
            continue
        if slug and slug in pending.values():
            pending[name] = slug
            continue
        slug = unique_slug(name, slugs_taken, "tag", 120)
        pending[name] = slug
        new.append(Tag(name=name, slug=slug))
    if new:
        Tag.objects.bulk_create(new, batch_size=BATCH)
        summary.tags = len(new)
        created = dict(Tag.objects.filter(slug__in=set(pending.values())).values_list("slug", "id"))
        for name, slug in pending.items():
            result[name] = created[slug]
    return result


@transaction.atomic
def _write(data: Dataset) -> ImportSummary:
    summary = ImportSummary()
    now = timezone.now()

    # Titles: create the ones missing, by external id.
    existing_titles = dict(Title.objects.filter(external_id__startswith="ml:").values_list("external_id", "id"))
    new_movies = [m for m in data.movies.values() if f"ml:{m.movie_id}" not in existing_titles]
    slugs_taken = set(Title.objects.values_list("slug", flat=True))
    level = level_of(MaturityRating.UNRATED)
    new_titles = []
    for movie in new_movies:
        imdb, tmdb = data.links.get(movie.movie_id, ("", ""))
        base = f"{movie.name} {movie.year}" if movie.year else movie.name
        new_titles.append(
            Title(
                kind=TitleKind.FILM,
                name=movie.name,
                slug=unique_slug(base, slugs_taken, f"title-{movie.movie_id}", 320),
                year=movie.year,
                maturity_rating=MaturityRating.UNRATED,
                # bulk_create bypasses Title.save(), which normally derives this.
                maturity_level=level,
                external_id=f"ml:{movie.movie_id}",
                imdb_id=imdb,
                tmdb_id=tmdb,
                date_added=now,
            )
        )
    Title.objects.bulk_create(new_titles, batch_size=BATCH)
    summary.titles = len(new_titles)
    title_ids = dict(Title.objects.filter(external_id__startswith="ml:").values_list("external_id", "id"))

    def title_id(movie_id: int) -> int:
        return title_ids[f"ml:{movie_id}"]

    # Links for titles an earlier run created without them.
    if data.links:
        stale = []
        for title in Title.objects.filter(external_id__in=[f"ml:{m}" for m in data.links], imdb_id="", tmdb_id="").only(
            "id", "external_id", "imdb_id", "tmdb_id"
        ):
            imdb, tmdb = data.links[int(title.external_id[3:])]
            if imdb or tmdb:
                title.imdb_id, title.tmdb_id = imdb, tmdb
                stale.append(title)
        Title.objects.bulk_update(stale, ["imdb_id", "tmdb_id"], batch_size=BATCH)
        summary.links_updated = len(stale)

    # Genres of the new titles.
    genre_names = sorted({g for m in new_movies for g in m.genres})
    genre_ids = _ensure_genres(genre_names, summary) if genre_names else {}
    through = Title.genres.through
    through.objects.bulk_create(
        [through(title_id=title_id(m.movie_id), genre_id=genre_ids[g]) for m in new_movies for g in m.genres],
        batch_size=BATCH,
        ignore_conflicts=True,
    )

    # Tags: weight = share of the title's most-applied tag's users who applied this one.
    if data.tags:
        tag_ids = _ensure_tags(sorted({t for per_movie in data.tags.values() for t in per_movie}), summary)
        have = set(
            TitleTag.objects.filter(title_id__in=[title_id(m) for m in data.tags]).values_list("title_id", "tag_id")
        )
        new_links = []
        for movie_id, per_movie in data.tags.items():
            top = max(len(users) for users in per_movie.values())
            seen: set[int] = set()
            for name, users in sorted(per_movie.items()):
                key = (title_id(movie_id), tag_ids[name])
                if key in have or key[1] in seen:
                    continue
                seen.add(key[1])
                new_links.append(TitleTag(title_id=key[0], tag_id=key[1], weight=round(len(users) / top, 4)))
        TitleTag.objects.bulk_create(new_links, batch_size=BATCH, ignore_conflicts=True)
        summary.title_tags = len(new_links)

    # Accounts: one per MovieLens user, with one profile.
    user_ids = sorted({u for u, _ in data.ratings})
    usernames = [f"ml-{u}" for u in user_ids]
    known = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    new_users = [
        User(username=name, password=make_password(None), date_joined=now) for name in usernames if name not in known
    ]
    User.objects.bulk_create(new_users, batch_size=BATCH)
    account_ids = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
    new_account_ids = [account_ids[u.username] for u in new_users]
    # Every account has a profile; also repair one an earlier, interrupted tool left without.
    with_profile = set(Profile.objects.filter(account_id__in=account_ids.values()).values_list("account_id", flat=True))
    Profile.objects.bulk_create(
        [
            Profile(account_id=account_id, name=username, avatar_color=AVATAR_COLORS[account_id % len(AVATAR_COLORS)])
            for username, account_id in account_ids.items()
            if account_id not in with_profile
        ],
        batch_size=BATCH,
    )
    consent.grant_all_bulk(account_ids=new_account_ids, method="import")
    summary.accounts = len(new_users)

    # Ratings go to the account's first profile (an imported account has just the one).
    profile_ids: dict[int, int] = {}
    for account_id, profile_id in (
        Profile.objects.filter(account_id__in=account_ids.values()).order_by("-id").values_list("account_id", "id")
    ):
        profile_ids[account_id] = profile_id

    def profile_id(user_id: int) -> int:
        return profile_ids[account_ids[f"ml-{user_id}"]]

    rated = set(Rating.objects.filter(profile_id__in=profile_ids.values()).values_list("profile_id", "title_id"))
    touched: set[int] = set()
    rows = []
    for (user_id, movie_id), (stars, ts) in data.ratings.items():
        key = (profile_id(user_id), title_id(movie_id))
        if key in rated:
            continue
        when = datetime.fromtimestamp(ts, tz=UTC)
        rows.append((key[0], key[1], stars_to_value(stars), when, when))
        touched.add(key[0])
    insert_rows(Rating, ["profile", "title", "value", "created_at", "updated_at"], rows, ignore_conflicts=True)
    summary.ratings = len(rows)
    # The recommender keys its per-profile cache on the stamp; new ratings must refresh it.
    existing_touched = touched - {profile_ids[a] for a in new_account_ids}
    if existing_touched:
        profile_engagement_touch(profile_ids=existing_touched)
    return summary


def movielens_import(*, directory: str | Path) -> ImportSummary:
    """Validate the whole directory, then write it in one transaction. Raises ImportRefused."""
    existing = {
        int(ext[3:])
        for ext in Title.objects.filter(external_id__startswith="ml:").values_list("external_id", flat=True)
        if ext[3:].isdigit()
    }
    data = parse_dataset(directory, existing_movie_ids=existing)
    return _write(data)
