"""The model's settings: one place, read by training, serving, the benchmark and the export.

The defaults are what the product-path benchmark chose (`manage.py evaluate_recommender`; the
tuning run, its baselines and seeds are in bench/README.md). `settings.RECOMMENDER_PARAMS`
(a dict) overrides them for a deployment; a trained version keeps the values it was trained
with in its `params`, and serving reads the fold-in settings from there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from django.conf import settings

from . import signals


@dataclass(frozen=True)
class HybridParams:
    # --- the LightFM model
    no_components: int = 64
    loss: str = "warp"
    learning_rate: float = 0.03
    learning_schedule: str = "adagrad"
    item_alpha: float = 1e-6
    user_alpha: float = 1e-6
    max_sampled: int = 60
    epochs: int = 20
    # A fit visits at most this many positives (epochs x positives): big data gets fewer epochs.
    epoch_budget: int = 20_000_000
    # The evaluation (split) fit learns from a seeded sample of profiles holding at most this
    # many positives: it only measures, and the promotion gate compares like with like.
    eval_max_positives: int = 500_000
    # Log-popularity added to every item's bias after fitting (0 = off).
    popularity_prior: float = 0.0
    random_state: int = 42
    num_threads: int = 2

    # --- what the model is trained on (recommendations.dataset)
    # Item metadata (genres, tags, decade, kind, maturity, people) beside the identity feature.
    item_metadata: bool = True
    # Each item's metadata features sum to this, beside an identity weight of 1.
    meta_weight: float = 1.0
    # Tags per title (its heaviest); 0 = no tag features.
    top_tags: int = 3
    # Scale each item's feature row to sum 1 (lightfm.data.Dataset's default; dilutes identity).
    normalize_item_features: bool = False
    # Sample weights = strength x recency (signals); False = every positive weighs 1.
    weighted: bool = True
    half_life_days: float = signals.HALF_LIFE_DAYS
    recency_floor: float = signals.RECENCY_FLOOR
    # Age measured from the newest interaction in the data ("data"), or from each profile's own
    # newest ("profile": a returning viewer's latest taste weighs most, however long the pause).
    recency_reference: str = "data"
    # > 0: down ratings become weak positives of this strength (an experiment; 0 = negatives).
    down_strength: float = 0.0

    # --- serving: a profile the model has never seen, or one that changed since training, is
    # folded in by WARP steps on its vector against the fixed item vectors (recommendations.foldin)
    foldin_epochs: int = 10
    # Epochs applied to a trained vector for what changed since training.
    foldin_update_epochs: int = 10
    # The fold-in's learning rate; 0 = the model's own `learning_rate`.
    foldin_learning_rate: float = 0.0
    # > 0: a new profile starts from this times the weighted mean of its positives' item vectors
    # (plus its user features) before the WARP epochs; 0 = from its user features alone.
    foldin_init_scale: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> HybridParams:
        """The params a version was trained with (unknown keys ignored, missing ones default)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


def current_params() -> HybridParams:
    return HybridParams(**(settings.RECOMMENDER_PARAMS or {}))
