"""A title nobody has interacted with is recommended through its features (a real LightFM fit)."""

import numpy as np
import pytest
import scipy.sparse as sp
from lightfm import LightFM

from catalog import services as catalog_services
from recommendations import artifacts
from recommendations.home import build_home
from recommendations.models import ModelVersion
from tests.support.recommender import GENRES, Catalog, ids_of, row_by_key

pytestmark = pytest.mark.usefixtures("rec_env")


def test_new_title_without_interactions_is_recommended_through_its_features(owner):
    _, profile = owner
    cat = Catalog(per_genre=10)
    titles = cat.titles
    # The new comedy: in the catalog (and the model's item features), but nobody touched it.
    new = cat.by_genre["comedy"][6]
    warm = [t for t in titles if t.pk != new.pk]
    n_warm = len(warm)
    col = {t.pk: i for i, t in enumerate(warm)}
    n_cols = n_warm + len(GENRES)

    def features(items, *, identity: bool):
        # LightFM's hybrid set-up: identity + genre. A title added after training has no
        # trained identity, so its representation is its genre feature alone.
        r, c = [], []
        for i, t in enumerate(items):
            if identity:
                r.append(i)
                c.append(col[t.pk])
            r.append(i)
            c.append(n_warm + GENRES.index(cat.genre_of(t.pk)))
        return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(items), n_cols))

    # 40 synthetic users, each liking most titles of one genre; the new title is not there yet.
    rng = np.random.default_rng(0)
    u, i = [], []
    for user in range(40):
        genre = GENRES[user % len(GENRES)]
        for t in cat.by_genre[genre]:
            if t.pk != new.pk and rng.random() < 0.8:
                u.append(user)
                i.append(col[t.pk])
    inter = sp.coo_matrix((np.ones(len(u), np.float32), (u, i)), shape=(40, n_warm))
    model = LightFM(no_components=8, loss="warp", random_state=0)
    model.fit(inter, item_features=features(warm, identity=True), epochs=30, num_threads=1)
    warm_bias, warm_vecs = model.get_item_representations(features(warm, identity=True))
    new_bias, new_vecs = model.get_item_representations(features([new], identity=False))
    item_bias = np.concatenate([warm_bias, new_bias])
    item_vecs = np.vstack([warm_vecs, new_vecs])
    titles = [*warm, new]
    user_bias, user_vecs = model.get_user_representations()
    artifacts.save(
        artifacts.ModelArtifacts(
            version="lfm",
            title_ids=np.asarray([t.pk for t in titles]),
            item_vecs=item_vecs,
            item_bias=item_bias,
            profile_ids=np.arange(40) + 10_000,
            user_vecs=user_vecs,
            user_bias=user_bias,
            user_feature_names=np.asarray([], dtype=str),
            user_feature_vecs=np.zeros((0, 8), np.float32),
            user_feature_bias=np.zeros(0, np.float32),
        )
    )
    ModelVersion.objects.create(version="lfm", status="serving")
    for t in cat.by_genre["comedy"][2:5]:
        catalog_services.rating_set(profile=profile, title=t, value="love")
    profile.refresh_from_db()
    home = build_home(profile=profile)
    assert home.personalized
    top = ids_of(row_by_key(home, "top-picks"))
    comedies = {t.pk for t in cat.by_genre["comedy"]}
    assert new.pk in top[:8], "the untouched comedy is recommended through its genre feature"
    assert len(comedies & set(top[:5])) >= 4
