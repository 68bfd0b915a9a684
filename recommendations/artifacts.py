"""Model artifacts on disk: plain `.npz` arrays and JSON, never pickle.

The contract between training (which writes them) and serving (which reads them):

    MODEL_ROOT/<version>/meta.json    version, params, counts, feature names, dims
    MODEL_ROOT/<version>/items.npz    title_ids [n_items] int64
                                      item_vecs [n_items, d] float32   (features folded in)
                                      item_bias [n_items] float32
    MODEL_ROOT/<version>/users.npz    profile_ids [n_users] int64
                                      user_vecs [n_users, d] float32
                                      user_bias [n_users] float32
                                      user_feature_names [n_uf] str
                                      user_feature_vecs [n_uf, d] float32
                                      user_feature_bias [n_uf] float32

Item representations already include each item's metadata features (LightFM's
`get_item_representations(item_features)`), so a title without interactions still has a
vector. A version directory is written under a temporary name and renamed into place, so a
reader never sees half a model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings


class ArtifactsMissing(Exception):
    """The version's files are absent or unreadable; serving falls back to non-personal rows."""


@dataclass
class ModelArtifacts:
    version: str
    title_ids: np.ndarray
    item_vecs: np.ndarray
    item_bias: np.ndarray
    profile_ids: np.ndarray
    user_vecs: np.ndarray
    user_bias: np.ndarray
    user_feature_names: np.ndarray
    user_feature_vecs: np.ndarray
    user_feature_bias: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.item_vecs.shape[1])


def version_dir(version: str) -> Path:
    return Path(settings.MODEL_ROOT) / version


def save(art: ModelArtifacts) -> Path:
    """Write the artifacts atomically: a temporary folder, then one rename."""
    root = Path(settings.MODEL_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    final = version_dir(art.version)
    tmp = Path(tempfile.mkdtemp(prefix=f".{art.version}.", dir=root))
    try:
        np.savez(
            tmp / "items.npz",
            title_ids=art.title_ids.astype(np.int64),
            item_vecs=art.item_vecs.astype(np.float32),
            item_bias=art.item_bias.astype(np.float32),
        )
        _save_users(tmp, art)
        meta = {**art.meta, "version": art.version, "dim": art.dim}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _save_users(folder: Path, art: ModelArtifacts) -> None:
    np.savez(
        folder / "users.npz",
        profile_ids=art.profile_ids.astype(np.int64),
        user_vecs=art.user_vecs.astype(np.float32),
        user_bias=art.user_bias.astype(np.float32),
        user_feature_names=np.asarray(art.user_feature_names, dtype=str),
        user_feature_vecs=art.user_feature_vecs.astype(np.float32),
        user_feature_bias=art.user_feature_bias.astype(np.float32),
    )


def rewrite_users(art: ModelArtifacts) -> None:
    """Atomically replace users.npz of an existing version (e.g. after erasing a profile)."""
    folder = version_dir(art.version)
    tmp = Path(tempfile.mkdtemp(prefix=".users.", dir=folder))
    try:
        _save_users(tmp, art)
        os.replace(tmp / "users.npz", folder / "users.npz")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load(version: str) -> ModelArtifacts:
    folder = version_dir(version)
    try:
        meta = json.loads((folder / "meta.json").read_text())
        with (
            np.load(folder / "items.npz", allow_pickle=False) as items,
            np.load(folder / "users.npz", allow_pickle=False) as users,
        ):
            return ModelArtifacts(
                version=version,
                title_ids=items["title_ids"],
                item_vecs=items["item_vecs"],
                item_bias=items["item_bias"],
                profile_ids=users["profile_ids"],
                user_vecs=users["user_vecs"],
                user_bias=users["user_bias"],
                user_feature_names=users["user_feature_names"],
                user_feature_vecs=users["user_feature_vecs"],
                user_feature_bias=users["user_feature_bias"],
                meta=meta,
            )
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactsMissing(f"model {version}: {exc}") from exc


def delete(version: str) -> None:
    shutil.rmtree(version_dir(version), ignore_errors=True)
