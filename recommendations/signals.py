"""What each thing a profile does says about its taste: the one table that training, serving,
the export and the benchmark read.

A positive is one (profile, title) pair with the strongest of its signals; its weight is
strength x recency. A title the profile rated down or marked "Not for me" is never a positive,
whatever else happened to it: both are negatives. A signal the profile marked "Don't use this
to recommend" is not a signal at all (it stays in the history and the export).

    recency = floor + (1 - floor) * 0.5 ** (age / half-life)

Training measures age from the newest interaction in its data (a quiet week does not fade
everybody); serving measures it from the same reference, the model's data cut-off, so a
profile's weights mean the same thing to both.
"""

from __future__ import annotations

import numpy as np

STRENGTH: dict[str, float] = {
    "love": 2.0,
    "up": 1.0,
    # A finished film or episode, or one watched at least MOSTLY_WATCHED of the way.
    "finished": 1.0,
    "watched": 1.0,
    "list": 0.5,
    # A title opened or played from search results (only with search-history consent).
    "search": 0.3,
}
# A viewing counts as a positive from this share of its duration on.
MOSTLY_WATCHED = 0.5
HALF_LIFE_DAYS = 180.0
# Old interactions still say something about taste; without a floor a year-old history would
# be almost weightless and the profile's vector would barely train.
RECENCY_FLOOR = 0.3
# Where a signed taste is summed (the export's liked genres): a down rating counts against.
DOWN = -1.0
# How long a search keeps feeding the "Because you searched for ..." row.
SEARCH_ROW_DAYS = 14


def recency(
    timestamps: np.ndarray,
    *,
    now: float | np.ndarray | None = None,
    half_life_days: float = HALF_LIFE_DAYS,
    floor: float = RECENCY_FLOOR,
) -> np.ndarray:
    """Weights in [floor, 1] for epoch-second timestamps; `now` (a scalar, or one reference per
    timestamp) defaults to the newest one."""
    timestamps = np.asarray(timestamps, dtype=np.float64)
    if len(timestamps) == 0:
        return np.zeros(0, dtype=np.float64)
    now = float(timestamps.max()) if now is None else now
    age_days = np.maximum(0.0, now - timestamps) / 86400.0
    return floor + (1.0 - floor) * np.power(0.5, age_days / half_life_days)


def weight(kind: str, at: float, *, now: float, half_life_days: float, floor: float) -> float:
    """One positive's weight (the scalar form of `recency` times its strength)."""
    age_days = max(0.0, now - at) / 86400.0
    return STRENGTH[kind] * (floor + (1.0 - floor) * 0.5 ** (age_days / half_life_days))
