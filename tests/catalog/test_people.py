"""People (issue 14, requirement 3): cast and crew link to a person page (a generated avatar,
known-for titles and filmography, only of titles the active profile may see), and search finds
people, on the results page and in the suggestions, forgiving the same typos on both stacks."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from accounts.maturity import MaturityRating
from catalog import services
from catalog.models import CreditRole
from catalog.search import search_people
from catalog.selectors import person_initials
from tests.support.accounts import make_account, signed_in_client
from tests.support.db import require_postgres
from tests.support.factories import CreditFactory, PersonFactory, RatingFactory, TitleFactory

pytestmark = pytest.mark.django_db

TRIGRAMS = "needs PostgreSQL (pg_trgm)"


def person_url(person) -> str:
    return reverse("person-detail", args=[person.slug])


@pytest.fixture
def career():
    """Marisol Quintero: an actor in three films of different years, director of a series, and
    in one R-rated film (invisible to a kids profile)."""
    person = PersonFactory(name="Marisol Quintero")
    early = TitleFactory(name="Early Days", year=2001, maturity_rating=MaturityRating.PG)
    middle = TitleFactory(name="Middle Years", year=2010, maturity_rating=MaturityRating.PG)
    late = TitleFactory(name="Late Light", year=2022, maturity_rating=MaturityRating.PG)
    show = TitleFactory(name="Quiet Harbour", kind="series", year=2018, maturity_rating=MaturityRating.PG)
    grim = TitleFactory(name="Grim Night", year=2015, maturity_rating=MaturityRating.R)
    CreditFactory(person=person, title=early, role=CreditRole.ACTOR, character="Ana")
    CreditFactory(person=person, title=middle, role=CreditRole.ACTOR)
    CreditFactory(person=person, title=late, role=CreditRole.ACTOR)
    CreditFactory(person=person, title=show, role=CreditRole.DIRECTOR)
    CreditFactory(person=person, title=grim, role=CreditRole.ACTOR)
    return person, {"early": early, "middle": middle, "late": late, "show": show, "grim": grim}


# --- Links from the title page ------------------------------------------------------------------


def test_cast_and_crew_names_link_to_their_person_pages(owner_client):
    title = TitleFactory(name="Linked Film")
    actor = CreditFactory(title=title, person=PersonFactory(name="Ada Actor"), role=CreditRole.ACTOR)
    director = CreditFactory(title=title, person=PersonFactory(name="Dan Director"), role=CreditRole.DIRECTOR)
    writer = CreditFactory(title=title, person=PersonFactory(name="Wren Writer"), role=CreditRole.WRITER)
    html = owner_client.get(title.get_absolute_url()).content.decode()
    for credit in (actor, director, writer):
        assert f'href="/people/{credit.person.slug}/"' in html
        assert owner_client.get(f"/people/{credit.person.slug}/").status_code == 200


# --- The person page ----------------------------------------------------------------------------


def test_person_page_has_an_avatar_known_for_and_filmography(owner_client, career):
    person, titles = career
    RatingFactory(title=titles["middle"])  # the most rated leads "Known for"
    response = owner_client.get(person_url(person))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Marisol Quintero" in html
    # A generated avatar with the initials, nothing fetched from elsewhere.
    avatar = re.search(r'<svg class="person-avatar".*?</svg>', html, re.S).group(0)
    assert ">MQ</text>" in avatar and "http" not in avatar.replace("http://www.w3.org/2000/svg", "")
    known_for = re.search(r'data-row="known-for".*?</section>', html, re.S).group(0)
    known_ids = [int(i) for i in re.findall(r'data-title-id="(\d+)"', known_for)]
    assert known_ids[0] == titles["middle"].pk
    assert set(known_ids) == {t.pk for t in titles.values()}  # an adult profile sees all five
    filmography = re.search(r'<table class="table filmography">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr data-credit-title=\"(\d+)\">(.*?)</tr>", filmography, re.S)
    # Newest first, with the year and the role.
    assert [int(t) for t, _ in rows] == [titles[k].pk for k in ("late", "show", "grim", "middle", "early")]
    by_id = dict(rows)
    assert "2022" in by_id[str(titles["late"].pk)] and "Actor" in by_id[str(titles["late"].pk)]
    assert "Director" in by_id[str(titles["show"].pk)] and "(series)" in by_id[str(titles["show"].pk)]
    assert "as Ana" in by_id[str(titles["early"].pk)]


def test_person_page_shows_only_titles_the_profile_may_see(db, career):
    person, titles = career
    user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    html = signed_in_client(user, kid).get(person_url(person)).content.decode()
    assert "Grim Night" not in html and f'data-title-id="{titles["grim"].pk}"' not in html
    assert "Late Light" in html
    # Blocked for the profile, or unpublished: gone as well.
    adult_user, adult = make_account("adult")
    services.title_block(profile=adult, title=titles["late"])
    titles["early"].is_published = False
    titles["early"].save()
    html = signed_in_client(adult_user, adult).get(person_url(person)).content.decode()
    assert "Late Light" not in html and "Early Days" not in html and "Middle Years" in html


def test_a_person_with_no_visible_title_is_a_404(db):
    person = PersonFactory(name="Only Mature")
    CreditFactory(person=person, title=TitleFactory(maturity_rating=MaturityRating.R))
    user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    assert signed_in_client(user, kid).get(person_url(person)).status_code == 404
    adult_user, adult = make_account("adult")
    assert signed_in_client(adult_user, adult).get(person_url(person)).status_code == 200
    uncredited = PersonFactory(name="No Credits")
    assert signed_in_client(adult_user, adult).get(person_url(uncredited)).status_code == 404


def test_person_page_permissions_owner_other_account_anonymous(client, owner_client, other, career):
    person, titles = career
    assert owner_client.get(person_url(person)).status_code == 200
    # Another account blocked every one of the person's titles for its profile: a 404 to it,
    # and the owner's page is unchanged.
    other_user, other_profile = other
    for title in titles.values():
        services.title_block(profile=other_profile, title=title)
    assert signed_in_client(other_user, other_profile).get(person_url(person)).status_code == 404
    assert owner_client.get(person_url(person)).status_code == 200
    # Anonymous: the login page.
    response = client.get(person_url(person))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert owner_client.get("/people/no-such-person/").status_code == 404
    assert owner_client.post(person_url(person)).status_code == 405


def test_person_page_query_count_does_not_grow_with_the_filmography(owner_client, django_assert_max_num_queries):
    person = PersonFactory(name="Busy Actor")
    for i in range(30):
        CreditFactory(person=person, title=TitleFactory(name=f"Busy {i}", year=1990 + i))
    # session, user, profile; the person, the filmography, known-for; the layout's policy
    # banner (2).
    with django_assert_max_num_queries(8):
        response = owner_client.get(person_url(person))
    assert response.status_code == 200
    assert response.content.decode().count("data-credit-title=") == 30


@pytest.mark.parametrize(
    ("name", "initials"),
    [("Marisol Quintero", "MQ"), ("Cher", "C"), ("Ana María López", "AL"), ("Jean-Luc Picard", "JP"), ("42", "?")],
)
def test_person_initials(name, initials):
    assert person_initials(name) == initials


# --- Search finds people --------------------------------------------------------------------


# The same typo cases on both stacks: pg_trgm on PostgreSQL, rapidfuzz on SQLite.
PEOPLE_CASES = [
    ("Marisol Quintero", "Marisol Quintero"),
    ("quintero", "Marisol Quintero"),
    ("marisol quintro", "Marisol Quintero"),  # a letter missing
    ("marisol quintaro", "Marisol Quintero"),  # a letter wrong
    ("quinterro", "Marisol Quintero"),  # a letter too many
    ("scarlet johanson", "Scarlett Johansson"),
]


@pytest.mark.parametrize(("typed", "expected"), PEOPLE_CASES)
def test_search_finds_people_with_a_typo_on_either_database(owner, typed, expected):
    if connection.vendor == "postgresql":
        require_postgres(TRIGRAMS)
    _, profile = owner
    for name in ("Marisol Quintero", "Scarlett Johansson", "Martin Quayle", "Samuel Jackson"):
        CreditFactory(person=PersonFactory(name=name), title=TitleFactory(name=f"Film of {name.split()[0]}s"))
    assert [p.name for p in search_people(profile=profile, query=typed)][:1] == [expected]
    assert search_people(profile=profile, query="zzqqxx") == []


def test_search_people_only_with_a_visible_title(db, career):
    person, _ = career
    hidden = PersonFactory(name="Marisol Hidden")
    CreditFactory(person=hidden, title=TitleFactory(maturity_rating=MaturityRating.R))
    _, kid = make_account("kid", is_kids=True, maturity_limit=2)
    found = search_people(profile=kid, query="marisol")
    assert found == [person]
    # The count is of the titles the profile may see (the R-rated one is not).
    assert found[0].title_count == 4


def test_search_page_lists_matching_people_linking_to_their_pages(owner_client, career):
    person, _ = career
    response = owner_client.get(reverse("search"), {"q": "quintero"})
    html = response.content.decode()
    people = re.search(r'<section class="people-results".*?</section>', html, re.S).group(0)
    assert f'href="/people/{person.slug}/"' in people and "5 titles" in people
    # Her titles are results too (a credited person's name matches them).
    assert "Late Light" in html
    # Paging through the titles (more than a page of them) does not repeat the people.
    for i in range(25):
        CreditFactory(person=person, title=TitleFactory(name=f"Extra {i}"))
    assert "people-results" in owner_client.get(reverse("search"), {"q": "quintero"}).content.decode()
    assert "people-results" not in owner_client.get(reverse("search"), {"q": "quintero", "page": 2}).content.decode()


def test_search_page_with_only_people_matching_is_not_empty(owner_client):
    if connection.vendor == "postgresql":
        require_postgres(TRIGRAMS)
    person = PersonFactory(name="Zebulon Quartermaine")
    CreditFactory(person=person, title=TitleFactory(name="Unrelated"))
    html = owner_client.get(reverse("search"), {"q": "Zebulon Quartermane"}).content.decode()
    assert f'href="/people/{person.slug}/"' in html
    assert "Nothing matches" not in html


def test_suggestions_include_people(owner_client, career):
    person, _ = career
    response = owner_client.get(reverse("search-suggest"), {"q": "marisol"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert f'data-person="{person.slug}"' in html
    assert f'href="/people/{person.slug}/"' in html and "(person, 5 titles)" in html
    # People come first, then titles, then "all results".
    assert html.index("data-person") < html.index("data-title-id") < html.index("All results")


def test_suggestions_with_a_typo_in_a_name_on_either_database(owner_client):
    if connection.vendor == "postgresql":
        require_postgres(TRIGRAMS)
    person = PersonFactory(name="Scarlett Johansson")
    CreditFactory(person=person, title=TitleFactory(name="Plain Title"))
    html = owner_client.get(reverse("search-suggest"), {"q": "scarlet johanson"}).content.decode()
    assert f'href="/people/{person.slug}/"' in html


def test_suggestions_never_name_a_person_only_in_invisible_titles(db):
    hidden = PersonFactory(name="Marisol Hidden")
    CreditFactory(person=hidden, title=TitleFactory(maturity_rating=MaturityRating.R))
    user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    html = signed_in_client(user, kid).get(reverse("search-suggest"), {"q": "marisol"}).content.decode()
    assert "Marisol Hidden" not in html
