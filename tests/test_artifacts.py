import numpy as np
import pytest

from recommendations import artifacts


def _art(version="v-test"):
    rng = np.random.default_rng(0)
    return artifacts.ModelArtifacts(
        version=version,
        title_ids=np.arange(5),
        item_vecs=rng.normal(size=(5, 3)),
        item_bias=rng.normal(size=5),
        profile_ids=np.arange(2),
        user_vecs=rng.normal(size=(2, 3)),
        user_bias=np.zeros(2),
        user_feature_names=np.array(["kids", "genre:drama"]),
        user_feature_vecs=rng.normal(size=(2, 3)),
        user_feature_bias=np.zeros(2),
        meta={"params": {"loss": "warp"}},
    )


def test_round_trip_without_pickle(tmp_path, settings):
    settings.MODEL_ROOT = tmp_path
    artifacts.save(_art())
    loaded = artifacts.load("v-test")
    assert loaded.dim == 3
    assert list(loaded.user_feature_names) == ["kids", "genre:drama"]
    assert loaded.meta["params"] == {"loss": "warp"}
    assert not list(tmp_path.glob(".*")), "no temporary folder left behind"


def test_missing_files_raise_a_clear_error(tmp_path, settings):
    settings.MODEL_ROOT = tmp_path
    with pytest.raises(artifacts.ArtifactsMissing):
        artifacts.load("nope")
