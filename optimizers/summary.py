"""What a finished trajectory did, in numbers a results table can show."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import surfaces


class TrajectorySummary(NamedTuple):
    start: tuple[float, float]
    final_point: tuple[float, float]  # last finite point
    final_loss: float
    nearest_kind: str  # kind of the nearest critical point, "" if none
    nearest_point: tuple[float, float] | None
    nearest_distance: float
    steps_to_tolerance: int  # first t with ‖∇L(θ^t)‖ < tol, −1 if never
    diverged_at: int  # −1 if it never diverged


def summarize(path: np.ndarray, loss: np.ndarray, grad_norm: np.ndarray, diverged_at: int,
              critical: list, grad_tol: float) -> TrajectorySummary:
    """Summary of one trajectory (arrays as in ``optimizers.Trajectories``, one row).

    ``steps_to_tolerance`` uses the gradient norm on purpose: a run that stops
    at a saddle also "converges" by that test, and the nearest critical
    point's kind says what it converged to — the lecture's point that a small
    gradient is not yet a minimum.
    """
    finite = np.flatnonzero(np.isfinite(loss))
    last = int(finite[-1]) if len(finite) else 0
    below = np.flatnonzero(np.nan_to_num(grad_norm, nan=np.inf) < grad_tol)
    point = path[last]
    nearest, dist = surfaces.nearest_critical_point(critical, point)
    return TrajectorySummary(
        start=(float(path[0, 0]), float(path[0, 1])),
        final_point=(float(point[0]), float(point[1])),
        final_loss=float(loss[last]),
        nearest_kind=nearest.kind if nearest is not None else "",
        nearest_point=(float(nearest.point[0]), float(nearest.point[1])) if nearest is not None else None,
        nearest_distance=float(dist),
        steps_to_tolerance=int(below[0]) if len(below) else -1,
        diverged_at=int(diverged_at),
    )


def step_lengths(path: np.ndarray) -> np.ndarray:
    """‖θ^{t+1} − θ^t‖ for t = 0 … steps − 1 (NaN after a divergence)."""
    return np.linalg.norm(np.diff(np.asarray(path, np.float64), axis=0), axis=-1)


def burst_starts(path: np.ndarray, factor: float = 100.0, window: int = 50) -> np.ndarray:
    """Steps where a burst begins: a step ``factor`` times longer than the typical step before it.

    Step t is in a burst when ‖θ^{t+1} − θ^t‖ exceeds ``factor`` × the median
    step length of the ``window`` steps before it — a jump after a stretch of
    small steps, as lecture-form Adagrad makes on an elongated valley once σ
    in the steep direction has shrunk (LECTURES 2.3). Returns the first step
    of each run of such steps.
    """
    d = step_lengths(path)
    if len(d) <= window:
        return np.zeros(0, int)
    typical = np.median(np.lib.stride_tricks.sliding_window_view(d[:-1], window), axis=1)  # before steps window …
    with np.errstate(invalid="ignore", divide="ignore"):
        flagged = d[window:] > factor * typical
    flagged = np.nan_to_num(flagged, nan=False).astype(bool)
    begins = flagged & ~np.concatenate([[False], flagged[:-1]])
    return np.flatnonzero(begins) + window
