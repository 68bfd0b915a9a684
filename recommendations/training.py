"""Training: fit the LightFM hybrid, evaluate it beside popularity, write artifacts, register.

`train_and_register(trigger=...)` is the one pipeline behind the Celery task, the admin's
"Retrain now" and `manage.py train_recommender`:

    assemble (dataset) -> temporal per-user split (last 20% of each profile's positives by time)
    -> fit on the past, score the future (model and popularity, same split, same run)
    -> refit on all data with the same parameters -> artifacts (npz/JSON, atomic)
    -> ModelVersion (ready) -> the promotion gate -> serving (model_registry.promote).

Why refit on everything: the held-out 20% is each profile's most recent taste, exactly what the
home page should reflect; the split model is only a measuring stick. It costs a second fit.

The same `fit_hybrid` / `HybridParams` drive the MovieLens benchmark
(`manage.py evaluate_recommender`), so the benchmark measures the production model.
"""

from __future__ import annotations

import logging
import secrets
import time
import traceback
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from . import artifacts, evaluation, model_registry
from .dataset import TrainingData, assemble, count_interactions
from .evaluation import evaluate, matrix_scorer, popularity_scorer, temporal_split
from .models import ModelStatus, ModelVersion
from .params import HybridParams, current_params
from .selectors import serving_version

__all__ = ["HybridParams", "Progress", "current_params", "train_and_register"]

log = logging.getLogger(__name__)

EVAL_MAX_USERS = 3000  # evaluation cost is bounded whatever the number of profiles
MIN_EPOCHS = 5


class TrainingError(Exception):
    """Training cannot produce a model (e.g. no interactions yet)."""


# Where each phase of `train_and_register` starts, in percent: the two fits share most of the
# bar, split by epochs (they visit about the same number of positives).
PHASES = {
    "load": 2,
    "features": 6,
    "eval_fit": 10,
    "evaluate": 46,
    "fit": 50,
    "artifacts": 90,
    "register": 96,
}
STEP_MAX = 80  # ModelVersion.step's length


class Progress:
    """Reports a training's step and percentage to its `ModelVersion` row.

    Throttled: at most one UPDATE per `every` seconds (RECOMMENDER_PROGRESS_SECONDS, default 1),
    however often it is called (a LightFM epoch on a small catalog takes milliseconds); `force`
    writes regardless (the last report). The row is only touched while it is `training`, so a
    late report never overwrites the outcome. A failed write is logged, not raised: progress is
    a courtesy and must not fail a training.
    """

    def __init__(self, pk, *, every: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.pk = pk
        self.every = float(getattr(settings, "RECOMMENDER_PROGRESS_SECONDS", 1.0) if every is None else every)
        self.clock = clock
        self.step = ""
        self.percent = 0
        self.writes = 0
        self._written_at: float | None = None

    def __call__(self, step: str, percent: float, *, force: bool = False) -> None:
        self.step = step[:STEP_MAX]
        self.percent = int(max(0, min(100, percent)))
        now = self.clock()
        if not force and self._written_at is not None and now - self._written_at < self.every:
            return
        self._written_at = now
        try:
            ModelVersion.objects.filter(pk=self.pk, status=ModelStatus.TRAINING).update(
                progress=self.percent, step=self.step
            )
            self.writes += 1
        except DatabaseError:
            log.warning("training progress of %s could not be written", self.pk, exc_info=True)

    def epochs(self, label: str, start: int, end: int) -> Callable[[int, int], None]:
        """An `on_epoch(done, total)` callback for a fit that fills the bar from start to end."""

        def on_epoch(done: int, total: int) -> None:
            self(f"{label}: epoch {done} of {total}", start + (end - start) * done / max(1, total))

        return on_epoch


def fit_hybrid(
    params: HybridParams,
    interactions: sp.coo_matrix,
    sample_weight: sp.coo_matrix | None,
    *,
    user_features: sp.csr_matrix | None,
    item_features: sp.csr_matrix | None,
    on_epoch: Callable[[int, int], None] | None = None,
):
    """A LightFM model fitted with `params`. `on_epoch(done, total)` is called after each epoch.

    With `on_epoch` the epochs run one `fit_partial` call each, from the same fresh state:
    LightFM's `fit(epochs=N)` is exactly `fit_partial(epochs=N)` on a fresh model, which loops
    over the same per-epoch routine with the model's own RandomState, so the result is the same
    model (tests/recommendations/test_rec_admin_retrain.py checks it bit for bit).
    """
    from lightfm import LightFM  # lazily: a web process loads it only when it first folds a profile in

    model = LightFM(
        no_components=params.no_components,
        loss=params.loss,
        learning_rate=params.learning_rate,
        learning_schedule=params.learning_schedule,
        item_alpha=params.item_alpha,
        user_alpha=params.user_alpha,
        max_sampled=params.max_sampled,
        random_state=params.random_state,
    )
    weights = sample_weight if params.loss in ("warp", "bpr", "logistic") else None
    epochs = epochs_for(params, interactions.nnz)
    if on_epoch is None:
        model.fit(
            interactions,
            user_features=user_features,
            item_features=item_features,
            sample_weight=weights,
            epochs=epochs,
            num_threads=params.num_threads,
        )
        return model
    # The conversions fit_partial makes on every call (COO/CSR, float32), made once here, so
    # running epoch by epoch costs no copies of the data per epoch.
    interactions, weights, user_features, item_features = _fit_inputs(
        interactions, weights, user_features, item_features
    )
    for done in range(1, epochs + 1):
        model.fit_partial(
            interactions,
            user_features=user_features,
            item_features=item_features,
            sample_weight=weights,
            epochs=1,
            num_threads=params.num_threads,
        )
        on_epoch(done, epochs)
    return model


def _fit_inputs(interactions, weights, user_features, item_features):
    """The inputs in the form LightFM converts them to (same values, so the same fit)."""
    interactions = interactions.tocoo()
    if interactions.dtype != np.float32:
        interactions = sp.coo_matrix(
            (interactions.data.astype(np.float32), (interactions.row, interactions.col)), shape=interactions.shape
        )
    if weights is not None and weights.dtype != np.float32:
        weights = sp.coo_matrix((weights.data.astype(np.float32), (weights.row, weights.col)), shape=weights.shape)

    def features(matrix):
        if matrix is None:
            return None
        matrix = matrix.tocsr()
        return matrix if matrix.dtype == np.float32 else matrix.astype(np.float32)

    return interactions, weights, features(user_features), features(item_features)


def epochs_for(params: HybridParams, n_positives: int) -> int:
    """`params.epochs`, fewer when the data is big: a fit visits at most `epoch_budget` positives.

    Each epoch over a large catalog already updates every item many times, and the fit is
    linear in positives x epochs: this keeps a retrain within the task's time limit as the
    audience grows (bench/README.md has the figures).
    """
    if n_positives <= 0:
        return params.epochs
    return int(max(min(params.epochs, MIN_EPOCHS), min(params.epochs, params.epoch_budget // n_positives)))


def _evaluation_profiles(data: TrainingData, test_mask: np.ndarray, cap: int) -> np.ndarray:
    """Bool mask over positives: those of a seeded random set of profiles holding at most `cap`
    positives (all of them below it). The split model only measures: it need not see everybody."""
    if len(data.users) <= cap:
        return np.ones(len(data.users), dtype=bool)
    per_user = np.bincount(data.users, minlength=len(data.profile_ids))
    order = np.random.default_rng(0).permutation(len(data.profile_ids))
    keep = order[np.cumsum(per_user[order]) <= cap]
    return np.isin(data.users, keep)


def item_representations(model, item_features, params: HybridParams, train: sp.spmatrix):
    """(item_vecs, item_bias) with the popularity prior folded into the bias."""
    bias, vecs = model.get_item_representations(item_features)
    bias = bias.astype(np.float64)
    if params.popularity_prior:
        pop = evaluation.popularity_scores(train)
        bias = bias + params.popularity_prior * np.log1p(pop)
    return vecs.astype(np.float32), bias.astype(np.float32)


def score_split(params: HybridParams, data: TrainingData, progress: Progress | None = None) -> tuple[dict, dict, dict]:
    """Fit on each profile's past, evaluate model and popularity on its future (same users)."""

    test_mask = temporal_split(data.users, data.timestamps)
    sample = _evaluation_profiles(data, test_mask, params.eval_max_positives)
    train_i, train_w = data.interactions(~test_mask & sample)
    test_i, _ = data.interactions(test_mask & sample)
    users = np.unique(data.users[test_mask & sample])
    if len(users) > EVAL_MAX_USERS:
        users = np.sort(np.random.default_rng(0).choice(users, EVAL_MAX_USERS, replace=False))
    model = fit_hybrid(
        params,
        train_i,
        train_w,
        user_features=data.user_features,
        item_features=data.item_features,
        on_epoch=progress.epochs("Evaluation fit", PHASES["eval_fit"], PHASES["evaluate"]) if progress else None,
    )
    if progress:
        progress("Evaluating", PHASES["evaluate"])
    item_vecs, item_bias = item_representations(model, data.item_features, params, train_i)
    _, user_vecs = model.get_user_representations(data.user_features)
    metrics = evaluate(matrix_scorer(user_vecs, item_vecs, item_bias), train_i, test_i, users=users)
    baseline = evaluate(popularity_scorer(evaluation.popularity_scores(train_i)), train_i, test_i, users=users)
    split = {
        "train": int((~test_mask & sample).sum()),
        "test": int((test_mask & sample).sum()),
        "eval_users": len(users),
        "eval_epochs": epochs_for(params, train_i.nnz),
    }
    return metrics, baseline, split


def build_artifacts(version: str, model, params: HybridParams, data: TrainingData, meta: dict):
    inter, _ = data.interactions()
    item_vecs, item_bias = item_representations(model, data.item_features, params, inter)
    user_bias, user_vecs = model.get_user_representations(data.user_features)
    n_users = len(data.profile_ids)
    # Rows past the identity block are the shared user features ("kids", "genre:<slug>"): the
    # serving side folds a new profile in through them.
    uf_names = np.asarray(data.user_feature_names[n_users:], dtype=str)
    trained_indptr, trained_title_ids = data.positives_of()
    return artifacts.ModelArtifacts(
        version=version,
        title_ids=data.title_ids,
        item_vecs=item_vecs,
        item_bias=item_bias,
        profile_ids=data.profile_ids,
        user_vecs=user_vecs.astype(np.float32),
        user_bias=user_bias.astype(np.float32),
        user_feature_names=uf_names,
        user_feature_vecs=model.user_embeddings[n_users:].astype(np.float32),
        user_feature_bias=model.user_biases[n_users:].astype(np.float32),
        meta={**meta, "data_cutoff": data.cutoff},
        trained_indptr=trained_indptr,
        trained_title_ids=trained_title_ids,
    )


def promotion_gate(metrics: dict, baseline: dict, serving: ModelVersion | None) -> tuple[bool, str]:
    """Promote only if it beats popularity (nDCG@10) and is not worse than the serving version
    by more than RECOMMENDER_PROMOTION_TOLERANCE (absolute nDCG@10, default 0.02)."""
    tolerance = settings.RECOMMENDER_PROMOTION_TOLERANCE
    ndcg, pop = metrics.get("ndcg@10", 0.0), baseline.get("ndcg@10", 0.0)
    if not ndcg > pop:
        return False, f"nDCG@10 {ndcg:.4f} does not beat popularity's {pop:.4f}"
    # A serving version whose files are gone serves nobody: any model that beats popularity is better.
    usable = serving is not None and model_registry.artifacts_exist(serving.version)
    current = serving.metric("ndcg@10") if usable else None
    if current is not None and ndcg < current - tolerance:
        return (
            False,
            f"nDCG@10 {ndcg:.4f} is worse than serving {serving.version}'s {current:.4f} by more than {tolerance}",
        )
    return True, f"nDCG@10 {ndcg:.4f} beats popularity's {pop:.4f}" + (
        f" and is within {tolerance} of serving's {current:.4f}" if current is not None else ""
    )


def mark_interrupted() -> int:
    """Mark versions left in `training` as failed. Call only while holding the training lock:
    then no training is running, so such a row is an orphan of a killed worker."""
    return ModelVersion.objects.filter(status=ModelStatus.TRAINING).update(
        status=ModelStatus.FAILED, error="interrupted: the training process ended before finishing"
    )


def new_version_string() -> str:
    return f"{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def train_and_register(
    *, trigger: str, params: HybridParams | None = None, still_ours: Callable[[], bool] | None = None
) -> ModelVersion:
    """The whole pipeline (module docstring). Returns the version (serving, ready or rejected).

    A failure marks the version `failed` with the error and re-raises; the serving version is
    untouched (promotion is the last step and is atomic). `still_ours()` is asked before the
    version is recorded: False (the training lease was lost, so another training may have
    taken over and marked this one interrupted) fails the run instead of promoting beside it.
    """
    params = params or current_params()
    mv = ModelVersion.objects.create(
        version=new_version_string(), status=ModelStatus.TRAINING, trigger=trigger[:40], params=params.to_dict()
    )
    started = time.monotonic()
    progress = Progress(mv.pk)
    try:
        progress("Loading interactions", PHASES["load"])
        total = count_interactions()
        t0 = time.monotonic()
        data = assemble(params, on_step=lambda step: progress(step, PHASES["features"]))
        assembly_seconds = time.monotonic() - t0
        if data.counts["interactions"] == 0:
            raise TrainingError("no interactions from profiles that allow personalization")
        t0 = time.monotonic()
        metrics, baseline, split = score_split(params, data, progress)
        eval_seconds = time.monotonic() - t0
        t0 = time.monotonic()
        all_i, all_w = data.interactions()
        model = fit_hybrid(
            params,
            all_i,
            all_w,
            user_features=data.user_features,
            item_features=data.item_features,
            on_epoch=progress.epochs("Fitting", PHASES["fit"], PHASES["artifacts"]),
        )
        fit_seconds = time.monotonic() - t0
        counts = {
            **data.counts,
            **split,
            "features": data.counts["item_features"] + data.counts["user_features"],
            "assembly_seconds": round(assembly_seconds, 3),
            "evaluation_seconds": round(eval_seconds, 3),
            "fit_seconds": round(fit_seconds, 3),
            "epochs": epochs_for(params, all_i.nnz),
        }
        meta = {"params": params.to_dict(), "counts": counts, "metrics": metrics, "baseline_metrics": baseline}
        if still_ours is not None and not still_ours():
            raise TrainingError("lost the training lease: another training took over")
        progress("Writing the model files", PHASES["artifacts"])
        artifacts.save(build_artifacts(mv.version, model, params, data, meta))
        progress("Registering", PHASES["register"])
        mv.status = ModelStatus.READY
        mv.trained_at = timezone.now()
        mv.duration_seconds = round(time.monotonic() - started, 3)
        mv.data_counts = counts
        mv.metrics = metrics
        mv.baseline_metrics = baseline
        mv.interactions_at_training = total
        promote, reason = promotion_gate(metrics, baseline, serving_version())
        mv.gate = reason[:300]
        if not promote:
            mv.status = ModelStatus.REJECTED
        # The whole row is saved: carry the last step (it may not have been written, throttled).
        mv.progress, mv.step = 100, "Done"
        mv.save()
    except BaseException as exc:
        # The step it failed in stays (the status panel says where), even if throttled away.
        ModelVersion.objects.filter(pk=mv.pk).update(
            status=ModelStatus.FAILED,
            progress=progress.percent,
            step=progress.step,
            duration_seconds=round(time.monotonic() - started, 3),
            error="".join(traceback.format_exception(exc))[-5000:],
        )
        artifacts.delete(mv.version)
        log.exception("training %s failed", mv.version)
        raise
    if promote:
        mv = model_registry.promote(mv.version)
    log.info("trained %s (%s): %s", mv.version, mv.status, reason)
    return mv
