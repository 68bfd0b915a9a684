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
                                      trained_indptr [n_users + 1] int64  (CSR: the positives
                                      trained_title_ids [nnz] int64        each profile learned)

Item representations already include each item's metadata features (LightFM's
`get_item_representations(item_features)`), so a title without interactions still has a
vector. The trained positives let serving tell what changed for a profile since training (a
trained vector is served as it is until then). A version directory is written under a
temporary name and renamed into place, so a reader never sees half a model.
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
    # CSR rows of profile_ids: the title ids each profile's vector was trained on (absent in
    # versions written before they were kept: then every current positive counts as new).
    trained_indptr: np.ndarray | None = None
    trained_title_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.trained_indptr is None or len(self.trained_indptr) != len(self.profile_ids) + 1:
            self.trained_indptr = np.zeros(len(self.profile_ids) + 1, dtype=np.int64)
            self.trained_title_ids = np.zeros(0, dtype=np.int64)

    def trained_titles(self, row: int) -> np.ndarray:
        return self.trained_title_ids[self.trained_indptr[row] : self.trained_indptr[row + 1]]

    def without_profiles(self, profile_ids) -> int:
        """Drop these profiles' rows (vectors and trained positives). Returns how many went."""
        keep = ~np.isin(self.profile_ids, np.asarray(list(profile_ids), dtype=np.int64))
        dropped = int((~keep).sum())
        if not dropped:
            return 0
        lengths = np.diff(self.trained_indptr)
        rows = np.repeat(keep, lengths)
        self.trained_title_ids = self.trained_title_ids[rows]
        self.trained_indptr = np.r_[0, np.cumsum(lengths[keep])].astype(np.int64)
        self.profile_ids = self.profile_ids[keep]
        self.user_vecs = self.user_vecs[keep]
        self.user_bias = self.user_bias[keep]
        return dropped

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
        trained_indptr=art.trained_indptr.astype(np.int64),
        trained_title_ids=art.trained_title_ids.astype(np.int64),
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
                trained_indptr=users["trained_indptr"] if "trained_indptr" in users.files else None,
                trained_title_ids=users["trained_title_ids"] if "trained_title_ids" in users.files else None,
            )
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactsMissing(f"model {version}: {exc}") from exc


def stored_versions() -> list[str]:
    """Every version folder under MODEL_ROOT, with or without a registry row (erasure walks these)."""
    root = Path(settings.MODEL_ROOT)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def delete(version: str) -> None:
    shutil.rmtree(version_dir(version), ignore_errors=True)
