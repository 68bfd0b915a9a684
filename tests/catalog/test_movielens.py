"""The MovieLens importer: mapping, idempotency, and refusal of malformed files (nothing written)."""

import re
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Profile, User
from catalog.importing.movielens import split_title, stars_to_value
from catalog.models import Genre, Rating, Tag, Title, TitleTag
from privacy.models import ConsentEvent, ConsentState

MOVIES = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children
2,"Matrix, The (1999)",Action|Sci-Fi
3,Untitled Experiment,(no genres listed)
4,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Fantasy|Sci-Fi
"""
RATINGS = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,2,3.5,964981247
1,3,2.5,964982224
2,2,5.0,1445714994
2,4,0.5,1445714995
"""
TAGS = """userId,movieId,tag,timestamp
1,1,pixar,1445714994
2,1,Pixar,1445714996
2,1,fun,1445714997
1,2,sci-fi,1445714998
"""
LINKS = """movieId,imdbId,tmdbId
1,0114709,862
2,0133093,603
3,0000001,
4,0112682,902
"""


def write_dataset(directory, *, movies=MOVIES, ratings=RATINGS, tags=TAGS, links=LINKS):
    directory.mkdir(exist_ok=True)
    (directory / "movies.csv").write_text(movies, encoding="utf-8")
    (directory / "ratings.csv").write_text(ratings, encoding="utf-8")
    if tags is not None:
        (directory / "tags.csv").write_text(tags, encoding="utf-8")
    if links is not None:
        (directory / "links.csv").write_text(links, encoding="utf-8")
    return directory


def counts():
    return (
        Title.objects.count(),
        Genre.objects.count(),
        Tag.objects.count(),
        TitleTag.objects.count(),
        User.objects.count(),
        Profile.objects.count(),
        Rating.objects.count(),
        ConsentState.objects.count(),
        ConsentEvent.objects.count(),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Toy Story (1995)", ("Toy Story", 1995)),
        ("Matrix, The (1999)", ("The Matrix", 1999)),
        ("Babylon 5", ("Babylon 5", None)),
        ("Fawlty Towers (1975-1979)", ("Fawlty Towers", 1975)),
        ("Ready Player One", ("Ready Player One", None)),
        ("Pirates, A (2010) ", ("A Pirates", 2010)),
    ],
)
def test_split_title(raw, expected):
    assert split_title(raw) == expected


@pytest.mark.parametrize(
    ("stars", "value"), [(5.0, "love"), (4.0, "love"), (3.5, "up"), (3.0, "up"), (2.5, "down"), (0.5, "down")]
)
def test_stars_map_to_thumbs(stars, value):
    assert stars_to_value(stars) == value


@pytest.mark.django_db
def test_import_maps_titles_people_ratings_tags_and_links(tmp_path, capsys):
    call_command("import_movielens", str(write_dataset(tmp_path / "ml")))

    matrix = Title.objects.get(external_id="ml:2")
    assert (matrix.name, matrix.year, matrix.kind) == ("The Matrix", 1999, "film")
    # MovieLens has no maturity ratings: unrated, hence never shown to kids profiles.
    assert (matrix.maturity_rating, matrix.maturity_level) == ("NR", 5)
    assert sorted(matrix.genres.values_list("name", flat=True)) == ["Action", "Sci-Fi"]
    assert (matrix.imdb_id, matrix.tmdb_id) == ("tt0133093", "603")
    assert Title.objects.get(external_id="ml:3").genres.count() == 0
    assert Title.objects.get(external_id="ml:4").name == "The City of Lost Children (Cité des enfants perdus, La)"
    assert Title.objects.get(external_id="ml:3").tmdb_id == ""
    assert Title.objects.filter(slug="the-matrix-1999").exists()

    user = User.objects.get(username="ml-1")
    assert not user.has_usable_password()
    assert user.profiles.count() == 1
    profile = user.profiles.get()
    values = dict(Rating.objects.filter(profile=profile).values_list("title__external_id", "value"))
    assert values == {"ml:1": "love", "ml:2": "up", "ml:3": "down"}
    toy = Rating.objects.get(profile=profile, title__external_id="ml:1")
    assert toy.created_at == toy.updated_at == datetime.fromtimestamp(964982703, tz=UTC)
    assert Rating.objects.get(profile__account__username="ml-2", title__external_id="ml:4").value == "down"

    # Every purpose granted, recorded as a dataset import.
    assert set(ConsentState.objects.filter(account=user, granted=True).values_list("purpose", flat=True)) == {
        "personalization",
        "viewing_history",
        "search_history",
        "analytics",
    }
    assert set(ConsentEvent.objects.filter(account=user).values_list("method", flat=True)) == {"import"}

    # "pixar" (2 users, case folded) outweighs "fun" (1 user) on Toy Story.
    weights = dict(TitleTag.objects.filter(title__external_id="ml:1").values_list("tag__name", "weight"))
    assert weights == {"pixar": 1.0, "fun": 0.5}
    assert "5 ratings added" in capsys.readouterr().out


@pytest.mark.django_db
def test_reimport_adds_nothing_twice_and_only_what_is_new(tmp_path):
    directory = write_dataset(tmp_path / "ml")
    call_command("import_movielens", str(directory))
    first = counts()
    call_command("import_movielens", str(directory))
    assert counts() == first

    stamp = Profile.objects.get(account__username="ml-1").engagement_stamp
    write_dataset(directory, ratings=RATINGS + "1,4,4.5,1500000000\n3,1,3.0,1500000001\n")
    call_command("import_movielens", str(directory))
    assert Rating.objects.count() == first[6] + 2
    assert User.objects.count() == first[4] + 1
    assert Title.objects.count() == first[0]
    # New feedback for an existing profile must refresh the recommender's cache key.
    assert Profile.objects.get(account__username="ml-1").engagement_stamp == stamp + 1


@pytest.mark.django_db
def test_optional_files_may_be_absent(tmp_path):
    call_command("import_movielens", str(write_dataset(tmp_path / "ml", tags=None, links=None)))
    assert Title.objects.count() == 4
    assert TitleTag.objects.count() == 0
    assert Title.objects.get(external_id="ml:1").imdb_id == ""


BAD_INPUTS = [
    ("ratings", "userId,movieId,rating\n1,1,4.0\n", "ratings.csv line 1: missing column 'timestamp'"),
    ("ratings", RATINGS + "x,1,4.0,964982703\n", "ratings.csv line 7: userId must be a whole number"),
    ("ratings", RATINGS + "1,1,5.5,964982703\n", "ratings.csv line 7: rating must be between"),
    ("ratings", RATINGS + "1,1,0.0,964982703\n", "ratings.csv line 7: rating must be between"),
    ("ratings", RATINGS + "1,1,nan,964982703\n", "ratings.csv line 7: rating must be between"),
    ("ratings", RATINGS + "1,1,four,964982703\n", "ratings.csv line 7: rating must be a number"),
    ("ratings", RATINGS + "1,1,4.0,yesterday\n", "ratings.csv line 7: timestamp must be epoch seconds"),
    ("ratings", RATINGS + "1,1,4.0,-5\n", "ratings.csv line 7: timestamp must be epoch seconds"),
    ("ratings", RATINGS + "1,1,4.0\n", "ratings.csv line 7: expected 4 fields, found 3"),
    ("ratings", RATINGS + "1,99,4.0,964982703\n", "ratings.csv line 7: unknown movieId 99"),
    ("movies", MOVIES + "5,Extra (2001),Drama,oops\n", "movies.csv line 6: expected 3 fields, found 4"),
    ("movies", MOVIES + "1,Toy Story again (1995),Drama\n", "movies.csv line 6: movieId 1 appears twice"),
    ("movies", "movieId,name,genres\n1,Toy Story (1995),Comedy\n", "movies.csv line 1: missing column 'title'"),
    ("tags", TAGS + "1,77,lost,1445714994\n", "tags.csv line 6: unknown movieId 77"),
    ("tags", TAGS + "1,1,,1445714994\n", "tags.csv line 6: the tag is empty"),
    ("links", LINKS + "1,tt123,5\n", "links.csv line 6: imdbId must be digits"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("which", "content", "message"), BAD_INPUTS)
def test_malformed_input_is_refused_with_file_and_line_and_nothing_written(tmp_path, which, content, message):
    directory = write_dataset(tmp_path / "ml", **{which: content})
    before = counts()
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("import_movielens", str(directory))
    assert counts() == before == (0, 0, 0, 0, 0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_a_late_error_rolls_back_a_reimport_too(tmp_path):
    directory = write_dataset(tmp_path / "ml")
    call_command("import_movielens", str(directory))
    before = counts()
    write_dataset(directory, movies=MOVIES + "9,New One (2020),Drama\n", ratings=RATINGS + "5,9,4.0,1\n1,1,9,1\n")
    with pytest.raises(CommandError, match=re.escape("ratings.csv line 8")):
        call_command("import_movielens", str(directory))
    assert counts() == before


@pytest.mark.django_db
def test_missing_directory_or_required_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("import_movielens", str(tmp_path / "nowhere"))
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "movies.csv").write_text(MOVIES)
    with pytest.raises(CommandError, match=re.escape("ratings.csv: missing")):
        call_command("import_movielens", str(tmp_path / "ml"))
    assert Title.objects.count() == 0


@pytest.mark.django_db
def test_invalid_utf8_is_refused(tmp_path):
    directory = write_dataset(tmp_path / "ml")
    (directory / "movies.csv").write_bytes(b"movieId,title,genres\n1,Caf\xe9 (1999),Drama\n")
    with pytest.raises(CommandError, match=re.escape("movies.csv line 2: not valid UTF-8")):
        call_command("import_movielens", str(directory))
    assert Title.objects.count() == 0


@pytest.mark.django_db
def test_existing_genres_are_reused_by_name_or_slug(tmp_path):
    sci_fi = Genre.objects.create(name="Sci-Fi", slug="science-fiction")
    action = Genre.objects.create(name="Action films", slug="action")
    call_command("import_movielens", str(write_dataset(tmp_path / "ml")))
    matrix = Title.objects.get(external_id="ml:2")
    assert set(matrix.genres.values_list("id", flat=True)) == {sci_fi.id, action.id}
    assert Genre.objects.filter(name__in=["Sci-Fi", "Action"]).count() == 1
