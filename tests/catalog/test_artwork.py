"""Generated poster artwork (catalog.posters, catalog.artwork) and its per-variant URLs."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.maturity import MaturityRating
from catalog import artwork, posters
from catalog.importing.demo.vocabulary import GENRES, TAGS
from catalog.models import TitleTag
from tests.support.accounts import make_account, signed_in_client
from tests.support.factories import CreditFactory, GenreFactory, PersonFactory, TagFactory, TitleFactory

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]


def _svg(**kwargs):
    base = {"title_id": 7, "name": "The Crimson Frontier", "year": 1971, "genres": ["Western"], "tags": []}
    return posters.poster_svg(**{**base, **kwargs})


def _fills(svg: str) -> set[str]:
    return set(re.findall(r'(?:fill|stop-color|stroke)="(#[0-9a-f]{6})"', svg))


# --- Well-formed, safe, deterministic -------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(posters.PALETTES))
@pytest.mark.parametrize("variant", posters.VARIANTS)
def test_every_family_and_variant_is_well_formed_safe_svg(family, variant):
    genre = next(g for g, f in posters.GENRE_FAMILY.items() if f == family)
    svg = _svg(name='Fish & <Chips> "Deluxe"', genres=[genre], lead="Ada O'Neill", variant=variant)
    root = ET.fromstring(svg)  # raises on malformed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("data-family") == family and root.get("data-variant") == variant
    assert root.get("aria-label") == 'Fish & <Chips> "Deluxe"'
    lowered = svg.lower()
    assert "<script" not in lowered and "href" not in lowered and "<image" not in lowered
    assert "@import" not in lowered and "<foreignobject" not in lowered
    # The only url() is the in-document gradient; the only http is the namespace.
    assert re.findall(r"url\(([^)]*)\)", svg) == ["#sky"]
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]
    name = " ".join(next(e for e in root.iter(f"{SVG}text") if e.get("class") == "name").itertext())
    assert "FISH & <CHIPS>" in name.upper()


@pytest.mark.parametrize("setting", posters.SETTINGS)
def test_every_setting_scene_is_well_formed(setting):
    words = dict(posters.SETTING_WORDS)[setting]
    svg = _svg(tags=[words[0]], variant="setting")
    assert ET.fromstring(svg).get("data-setting") == setting


def test_deterministic_and_different_per_variant_and_per_title():
    a = {v: _svg(variant=v, lead="Wes Dalton") for v in posters.VARIANTS}
    assert a == {v: _svg(variant=v, lead="Wes Dalton") for v in posters.VARIANTS}
    assert len(set(a.values())) == len(posters.VARIANTS)
    other = _svg(title_id=8, lead="Wes Dalton")
    assert other != a["genre"]
    assert ET.fromstring(other).get("data-family") == "western"  # a sibling, not a twin


def test_seeded_by_a_stable_hash_not_pythons_salted_hash():
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); from catalog.posters import poster_svg; "
        "print(poster_svg(title_id=3, name='Neon Orbit', year=2031, "
        "genres=['Sci-Fi'], tags=['space'], variant='setting'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code], env={"PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == _svg(
        title_id=3, name="Neon Orbit", year=2031, genres=["Sci-Fi"], tags=["space"], variant="setting"
    )


# --- Genre decides the look ----------------------------------------------------------------------


def test_every_demo_genre_has_a_family():
    for genre in GENRES:
        assert genre.lower() in posters.GENRE_FAMILY, genre
    # The demo's families all differ from the fallback somewhere (not everything is "drama").
    assert len({posters.genre_family([g]) for g in GENRES}) >= 12


def test_families_have_their_own_palette_and_motif():
    western = _svg(genres=["Western"])
    romance = _svg(genres=["Romance"])
    scifi = _svg(genres=["Sci-Fi"])
    horror = _svg(genres=["Horror"])
    family = _svg(genres=["Animation", "Family"])
    looks = [western, romance, scifi, horror, family]
    assert len({ET.fromstring(s).get("data-family") for s in looks}) == 5
    # Palettes barely overlap (a couple of neutrals at most).
    for i, a in enumerate(looks):
        for b in looks[i + 1 :]:
            assert len(_fills(a) & _fills(b)) <= 2
    # Motifs: romance has hearts (cubic paths) and flowers (ellipses); sci-fi a ringed planet and
    # a grid; family a rainbow (arcs); westerns mesas (polygons) and a cactus.
    assert "<ellipse" in romance and " C" in romance
    assert "rotate(" in scifi and scifi.count("<circle") > 50  # the starfield
    assert " A" in family
    assert western.count("<polygon") >= 2
    # Sky brightness: a horror or sci-fi night is dark, a family or western day is light.
    sky = {name: posters._luminance(re.search(r'stop-color="(#[0-9a-f]{6})"', s).group(1)) for name, s in
           [("western", western), ("scifi", scifi), ("horror", horror), ("family", family)]}  # fmt: skip
    assert sky["horror"] < 0.05 and sky["scifi"] < 0.05
    assert sky["western"] > 0.4 and sky["family"] > 0.4


def test_a_sci_fi_action_reads_as_sci_fi_and_unknown_genres_as_drama():
    assert posters.genre_family(["Action", "Sci-Fi"]) == "scifi"
    assert posters.genre_family(["Comedy", "Romance"]) == "romance"
    assert posters.genre_family(["IMAX"]) == posters.genre_family([]) == "drama"


def test_setting_comes_from_tags_then_name_then_genre():
    assert posters.title_setting(name="Quiet Road", tags=["space", "road trip"], family="drama") == "space"
    assert posters.title_setting(name="The Harbor", tags=["slow burn"], family="drama") == "sea"
    assert posters.title_setting(name="Velvet Key", tags=[], family="western") == "frontier"
    # Whole words only: "stars" names space, "starling" does not.
    assert posters.title_setting(name="Starling", tags=[], family="crime") == "city"
    assert {posters.title_setting(name="", tags=[t], family="drama") for t in TAGS} >= {"space", "city", "frontier"}


def test_cast_variant_bills_the_lead_large_else_the_genre():
    billed = _svg(variant="cast", lead="Kira Nakamura", genres=["Sci-Fi"])
    assert "KIRA" in billed and "NAKAMURA" in billed and 'class="billing"' in billed
    anonymous = _svg(variant="cast", lead=None, genres=["Sci-Fi"])
    assert "SCI-FI" in anonymous


# --- Legible name --------------------------------------------------------------------------------


def _worst_contrast(svg: str, panel_class: str, text_class: str) -> float:
    root = ET.fromstring(svg)
    panel = next(e for e in root.iter(f"{SVG}rect") if e.get("class") == panel_class)
    text = next(e for e in root.iter(f"{SVG}text") if e.get("class") == text_class)
    colour, alpha, ink = panel.get("fill"), float(panel.get("fill-opacity", "1")), text.get("fill")
    return min(posters.contrast_ratio(ink, posters._over(colour, alpha, under)) for under in ("#000000", "#ffffff"))


@pytest.mark.parametrize("family", sorted(posters.PALETTES))
def test_the_name_passes_wcag_contrast_whatever_the_scene_shows(family):
    genre = next(g for g, f in posters.GENRE_FAMILY.items() if f == family)
    for title_id in range(1, 6):
        for variant in posters.VARIANTS:
            svg = _svg(title_id=title_id, genres=[genre], lead="Ada Castillo", variant=variant)
            assert _worst_contrast(svg, "name-panel", "name") >= posters.MIN_CONTRAST
            if variant == "cast":
                assert _worst_contrast(svg, "billing-panel", "billing") >= posters.MIN_CONTRAST


def test_contrast_ratio_matches_wcag_reference_values():
    assert posters.contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert posters.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    panel, alpha, ink = posters.legible_panel("#808080")  # mid-grey cannot pass half-transparent
    assert alpha == 1.0 or posters.contrast_ratio(ink, posters._over(panel, alpha, "#ffffff")) >= 4.5


def test_long_names_wrap_and_stay_inside():
    svg = _svg(name="The Extraordinarily Long Adventures of the Northern Lighthouse Keeper and Friends")
    spans = ET.fromstring(svg).findall(f".//{SVG}tspan")
    assert 1 < len(spans) <= posters.MAX_LINES
    assert all(len(s.text) <= posters.LINE_CHARS for s in spans)
    assert spans[-1].text.endswith("\u2026")


# --- Views ---------------------------------------------------------------------------------------


@pytest.fixture
def western(db):
    title = TitleFactory(name="The Last Frontier", year=1971, genres=[GenreFactory(name="Western")])
    TitleTag.objects.create(title=title, tag=TagFactory(name="frontier town"), weight=0.9)
    CreditFactory(title=title, person=PersonFactory(name="Wes Dalton"), order=0)
    return title


@pytest.mark.django_db
def test_each_variant_has_its_url_bytes_etag_and_long_cache(owner_client, western):
    etags, bodies = {}, {}
    for variant in posters.VARIANTS:
        response = owner_client.get(f"/title/{western.slug}/poster/{variant}.svg")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        assert "max-age=604800" in response["Cache-Control"] and "private" in response["Cache-Control"]
        bodies[variant] = response.content.decode()
        etags[variant] = response["ETag"]
        again = owner_client.get(f"/title/{western.slug}/poster/{variant}.svg", HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and again["ETag"] == response["ETag"]
    assert len(set(etags.values())) == len(set(bodies.values())) == 3
    assert ET.fromstring(bodies["setting"]).get("data-setting") == "frontier"
    assert "WES" in bodies["cast"] and "DALTON" in bodies["cast"]
    assert bodies["genre"] == artwork.title_artwork_svg(western, "genre")
    # Another variant's ETag is no match.
    stale = owner_client.get(f"/title/{western.slug}/poster/cast.svg", HTTP_IF_NONE_MATCH=etags["genre"])
    assert stale.status_code == 200


@pytest.mark.django_db
def test_the_bare_poster_url_is_the_default_variant(owner_client, western):
    bare = owner_client.get(f"/title/{western.slug}/poster.svg")
    named = owner_client.get(f"/title/{western.slug}/poster/{posters.DEFAULT_VARIANT}.svg")
    assert bare.status_code == 200 and bare.content == named.content and bare["ETag"] == named["ETag"]
    assert ET.fromstring(bare.content).get("data-family") == "western"


@pytest.mark.django_db
@pytest.mark.parametrize("variant", ["nope", "GENRE", "genre.svg", "x" * 40])
def test_unknown_variant_is_a_404_that_says_why(owner_client, western, variant):
    response = owner_client.get(f"/title/{western.slug}/poster/{variant}.svg")
    assert response.status_code == 404
    assert b"Unknown artwork variant" in response.content and b"genre, setting, cast" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [{"is_published": False}, {"maturity_rating": MaturityRating.R}, {"maturity_rating": MaturityRating.UNRATED}],
)
def test_a_title_the_profile_may_not_see_is_a_404_in_every_variant(kwargs, staff_client):
    user, kid = make_account("kid", is_kids=True, maturity_limit=2)
    client = signed_in_client(user, kid)
    title = TitleFactory(**kwargs)
    for variant in posters.VARIANTS:
        assert client.get(f"/title/{title.slug}/poster/{variant}.svg").status_code == 404
    # Staff see every title's poster (the admin and the preview pages), as the bare URL does.
    assert staff_client.get(f"/title/{title.slug}/poster/cast.svg").status_code == 200


@pytest.mark.django_db
def test_owner_other_and_anonymous_get_what_the_bare_poster_gives_them(owner_client, other_client, client, western):
    hidden = TitleFactory(is_published=False)
    for c in (owner_client, other_client, client):
        for slug in (western.slug, hidden.slug):
            bare = c.get(f"/title/{slug}/poster.svg").status_code
            assert c.get(f"/title/{slug}/poster/setting.svg").status_code == bare
        assert c.get(f"/title/{hidden.slug}/poster/setting.svg").status_code == 404


@pytest.mark.django_db
def test_uploaded_artwork_wins_in_every_variant(owner_client, settings, tmp_path):
    # Home rows load titles without the artwork field: a card may name a variant of a title
    # that has an upload, and must still show the upload.
    settings.MEDIA_ROOT = tmp_path
    title = TitleFactory()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    title.artwork = SimpleUploadedFile("art.png", png, content_type="image/png")
    title.save()
    for url in (f"/title/{title.slug}/poster.svg", f"/title/{title.slug}/poster/cast.svg"):
        response = owner_client.get(url)
        assert response["Content-Type"] == "image/png" and b"".join(response.streaming_content) == png


@pytest.mark.django_db
def test_variant_poster_is_a_get_only_view(owner_client, western):
    assert owner_client.post(f"/title/{western.slug}/poster/cast.svg").status_code == 405
