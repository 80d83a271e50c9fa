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
              critical: list, grad_tol: float, curves: list = ()) -> TrajectorySummary:
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
    kind, nearest, dist = surfaces.nearest_critical(critical, list(curves), point)
    return TrajectorySummary(
        start=(float(path[0, 0]), float(path[0, 1])),
        final_point=(float(point[0]), float(point[1])),
        final_loss=float(loss[last]),
        nearest_kind=kind,
        nearest_point=(float(nearest[0]), float(nearest[1])) if nearest is not None else None,
        nearest_distance=float(dist),
        steps_to_tolerance=int(below[0]) if len(below) else -1,
        diverged_at=int(diverged_at),
    )


def step_lengths(path: np.ndarray) -> np.ndarray:
    """‖θ^{t+1} − θ^t‖ for t = 0 … steps − 1 (NaN after a divergence)."""
    return np.linalg.norm(np.diff(np.asarray(path, np.float64), axis=0), axis=-1)


class Bursts(NamedTuple):
    """Adagrad's bursts in a run: where each begins and where its step length peaks."""

    starts: np.ndarray  # (k,) int
    peaks: np.ndarray  # (k,) int


def bursts(path: np.ndarray, factor: float = 100.0) -> Bursts:
    """Every burst of a run: a hump of the step length that rises ``factor`` times above the quiet before it.

    Between bursts the step length ‖θ^{t+1} − θ^t‖ settles to a floor (its
    lowest value since the last burst ended). A burst begins at the first step
    more than ``factor`` × that floor, peaks at its longest step, and ends once
    the step is back below peak / ``factor``; the floor then starts afresh.
    This is what a student sees as one hump on the log step-length chart (a
    rise of ``log10 factor`` decades), as lecture-form Adagrad makes on an
    elongated valley once σ in the steep direction has shrunk (LECTURES 2.3).
    A non-finite step (divergence) ends the scan.
    """
    d = step_lengths(path)
    starts, peaks = [], []
    floor, start, peak = np.inf, -1, -1
    for t, v in enumerate(d):
        if not np.isfinite(v):
            break
        if peak < 0:
            floor = min(floor, v)
            if v > factor * floor:
                start = peak = t
        else:
            if v > d[peak]:
                peak = t
            if v < d[peak] / factor:
                starts.append(start)
                peaks.append(peak)
                floor, peak = v, -1
    if peak >= 0:
        starts.append(start)
        peaks.append(peak)
    return Bursts(np.asarray(starts, int), np.asarray(peaks, int))


def burst_starts(path: np.ndarray, factor: float = 100.0) -> np.ndarray:
    """The steps where the bursts of :func:`bursts` begin."""
    return bursts(path, factor).starts
