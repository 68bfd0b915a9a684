"""Shared set-up of the serving tests (helper module; the fixtures are in tests/recommendations/conftest.py).

A small catalog with four clear taste clusters and a hand-made model whose item vectors point
along one axis per genre, so what a profile should be recommended is obvious and the tests are
deterministic and fast. (One test fits a real LightFM: tests/recommendations/test_rec_serving_features.py.)
"""

from __future__ import annotations

import numpy as np

from accounts.maturity import MaturityRating
from catalog import services as catalog_services
from recommendations import artifacts
from recommendations.models import ModelStatus, ModelVersion
from tests.support.factories import GenreFactory, TitleFactory

GENRES = ["sci-fi", "drama", "comedy", "animation"]


class Catalog:
    def __init__(self, per_genre: int = 12):
        self.genres = {
            slug: GenreFactory(name=slug.replace("-", " ").title().replace("Sci Fi", "Sci-Fi"), slug=slug)
            for slug in GENRES
        }
        self.by_genre: dict[str, list] = {g: [] for g in GENRES}
        self.titles = []
        for g_i, slug in enumerate(GENRES):
            for i in range(per_genre):
                if slug == "animation":
                    rating = MaturityRating.G
                elif i % 4 == 0:
                    rating = MaturityRating.R
                elif i % 6 == 1:
                    rating = MaturityRating.UNRATED
                else:
                    rating = MaturityRating.PG_13 if i % 2 else MaturityRating.PG
                t = TitleFactory(
                    name=f"{slug} {i}", maturity_rating=rating, genres=[self.genres[slug]], year=2000 + g_i * 5 + i
                )
                self.by_genre[slug].append(t)
                self.titles.append(t)

    def genre_of(self, title_id: int) -> str:
        for slug, titles in self.by_genre.items():
            if any(t.pk == title_id for t in titles):
                return slug
        raise KeyError(title_id)


def make_artifacts(
    catalog: Catalog, version: str, *, seed: int = 0, skip=(), profile_ids=(), rotate=False, trained=None, cutoff=0.0
):
    """Items of genre k point along axis k (plus noise); genre user features along their axis.

    `trained` maps a profile id (of `profile_ids`) to the title ids its vector learned from;
    `cutoff` is the data cut-off (epoch seconds) the version records.
    """
    rng = np.random.default_rng(seed)
    d = len(GENRES)
    titles = [t for t in catalog.titles if t.pk not in set(skip)]
    vecs = np.zeros((len(titles), d), dtype=np.float32)
    bias = np.zeros(len(titles), dtype=np.float32)
    for i, t in enumerate(titles):
        k = GENRES.index(catalog.genre_of(t.pk))
        if rotate:
            k = (k + 1) % d
        vecs[i, k] = 1.0
        vecs[i] += rng.normal(scale=0.08, size=d)
        bias[i] = rng.uniform(0, 0.05)
    n_users = len(profile_ids)
    trained = trained or {}
    learned = [list(trained.get(p, ())) for p in profile_ids]
    indptr = np.r_[0, np.cumsum([len(x) for x in learned])].astype(np.int64)
    return artifacts.ModelArtifacts(
        version=version,
        title_ids=np.asarray([t.pk for t in titles], dtype=np.int64),
        item_vecs=vecs,
        item_bias=bias,
        profile_ids=np.asarray(profile_ids, dtype=np.int64),
        user_vecs=rng.normal(size=(n_users, d)).astype(np.float32),
        user_bias=np.zeros(n_users, dtype=np.float32),
        user_feature_names=np.asarray(["kids"] + [f"genre:{g}" for g in GENRES]),
        user_feature_vecs=np.vstack([np.eye(d)[GENRES.index("animation")] * 0.5, np.eye(d) * 0.8]).astype(np.float32),
        user_feature_bias=np.zeros(d + 1, dtype=np.float32),
        meta={"params": {"hand_made": True}, "data_cutoff": cutoff},
        trained_indptr=indptr,
        trained_title_ids=np.asarray([t for x in learned for t in x], dtype=np.int64),
    )


def install_model(catalog: Catalog, version: str = "v1", *, status=ModelStatus.SERVING, **kwargs) -> ModelVersion:
    artifacts.save(make_artifacts(catalog, version, **kwargs))
    return ModelVersion.objects.create(version=version, status=status)


def row_by_key(home, key):
    return next((r for r in home.rows if r.key == key), None)


def ids_of(row) -> list[int]:
    return [i.title.pk for i in row.items] if row else []


def recommendation_rows(home):
    # The profile's own shelves and the Top 10 chart (a ranking of what everyone watches today,
    # shown as it is) are not recommendations.
    return [r for r in home.rows if r.key not in ("continue-watching", "my-list", "top-10")]


def rate(profile, titles, value="love"):
    """Rate each title through the service the pages and the API use."""
    for t in titles:
        catalog_services.rating_set(profile=profile, title=t, value=value)


def fresh(profile):
    """The profile as stored now (its engagement stamp moved with every signal)."""
    profile.refresh_from_db()
    return profile


def install_axis_model(profiles, titles, *, axis=None, spread: float = 0.05, version: str = "vtest") -> None:
    """A serving two-dimensional model with clusters of known membership: profile i points along
    axis[i] (0 or 1; default alternating), titles alternate between the axes. For the insights
    cluster tests; the caller points MODEL_ROOT at a scratch folder."""
    axis = [i % 2 for i in range(len(profiles))] if axis is None else list(axis)
    user_vecs = np.array(
        [[1.0, spread * i] if a == 0 else [spread * i, 1.0] for i, a in enumerate(axis)], dtype=np.float32
    )
    item_vecs = np.array([[1.0, 0.0] if i % 2 == 0 else [0.0, 1.0] for i in range(len(titles))], dtype=np.float32)
    artifacts.save(
        artifacts.ModelArtifacts(
            version=version,
            title_ids=np.array([t.pk for t in titles], dtype=np.int64),
            item_vecs=item_vecs,
            item_bias=np.zeros(len(titles), dtype=np.float32),
            profile_ids=np.array([p.pk for p in profiles], dtype=np.int64),
            user_vecs=user_vecs,
            user_bias=np.zeros(len(profiles), dtype=np.float32),
            user_feature_names=np.array(["x"]),
            user_feature_vecs=np.zeros((1, 2), dtype=np.float32),
            user_feature_bias=np.zeros(1, dtype=np.float32),
        )
    )
    ModelVersion.objects.create(version=version, status=ModelStatus.SERVING)
