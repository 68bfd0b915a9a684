"""Model artifacts on disk: every array survives a save/load round trip, with the stored dtypes."""

import numpy as np
import pytest

from recommendations import artifacts

# What save() stores each array as (recommendations/artifacts.py's contract with serving).
STORED_AS = {
    "title_ids": np.int64,
    "item_vecs": np.float32,
    "item_bias": np.float32,
    "profile_ids": np.int64,
    "user_vecs": np.float32,
    "user_bias": np.float32,
    "user_feature_names": np.str_,
    "user_feature_vecs": np.float32,
    "user_feature_bias": np.float32,
    "trained_indptr": np.int64,
    "trained_title_ids": np.int64,
}


def _art(version="v-test"):
    """Arrays in the dtypes training hands over (float64 vectors, platform ints), not the stored ones."""
    rng = np.random.default_rng(0)
    return artifacts.ModelArtifacts(
        version=version,
        title_ids=np.arange(10, 15),
        item_vecs=rng.normal(size=(5, 3)),
        item_bias=rng.normal(size=5),
        profile_ids=np.array([7, 9]),
        user_vecs=rng.normal(size=(2, 3)),
        user_bias=rng.normal(size=2),
        user_feature_names=np.array(["kids", "genre:drama"]),
        user_feature_vecs=rng.normal(size=(2, 3)),
        user_feature_bias=rng.normal(size=2),
        meta={"params": {"loss": "warp"}},
        # Profile 7 learned from titles 10 and 12, profile 9 from 14.
        trained_indptr=np.array([0, 2, 3]),
        trained_title_ids=np.array([10, 12, 14]),
    )


def test_round_trip_keeps_every_array_and_its_dtype(tmp_path, settings):
    settings.MODEL_ROOT = tmp_path
    original = _art()
    artifacts.save(original)
    loaded = artifacts.load("v-test")
    for name, dtype in STORED_AS.items():
        stored = getattr(loaded, name)
        assert stored.dtype.type is dtype, f"{name}: {stored.dtype}"
        np.testing.assert_array_equal(stored, getattr(original, name).astype(dtype), err_msg=name)
    assert loaded.version == "v-test"
    assert loaded.dim == 3
    assert loaded.meta == {"params": {"loss": "warp"}, "version": "v-test", "dim": 3}
    np.testing.assert_array_equal(loaded.trained_titles(0), [10, 12])
    np.testing.assert_array_equal(loaded.trained_titles(1), [14])


def test_round_trip_without_pickle(tmp_path, settings):
    settings.MODEL_ROOT = tmp_path
    artifacts.save(_art())
    for name in ("items.npz", "users.npz"):
        with np.load(tmp_path / "v-test" / name, allow_pickle=False) as stored:
            assert all(stored[key].dtype != object for key in stored.files)
    assert not list(tmp_path.glob(".*")), "no temporary folder left behind"


def test_missing_files_raise_a_clear_error(tmp_path, settings):
    settings.MODEL_ROOT = tmp_path
    with pytest.raises(artifacts.ArtifactsMissing):
        artifacts.load("nope")
