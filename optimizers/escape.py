"""Leaving a critical point: saddle escape (lecture 1.3) and noise leaving sharp minima (1.5).

Both are experiments built from the runner; imports only JAX, NumPy and the
surface package.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import surfaces
from optimizers.runner import trajectories

ESCAPE_METHODS = (
    ("gd", "Gradient descent"),
    ("eigen_step", "Eigenvector step, then GD"),  # one step along the negative-curvature eigenvector
    ("noisy_gd", "Noisy gradient descent"),  # Gaussian noise added to every gradient
)


class SaddleEscape(NamedTuple):
    """Three runs from the same start next to a saddle, one per ``ESCAPE_METHODS`` entry."""

    labels: tuple[str, ...]
    path: np.ndarray  # (3, steps + 1, 2)
    loss: np.ndarray  # (3, steps + 1)
    direction: np.ndarray  # (2,) the unit eigenvector u of the most negative eigenvalue, signed downhill
    eigenvalue: float  # its eigenvalue λ (< 0 at a saddle)
    escaped_at: np.ndarray  # (3,) first step with L below the saddle's level − drop, −1 if never
    diverged_at: np.ndarray  # (3,) first non-finite or runaway step (the path is NaN from there), −1 if none


def negative_curvature_direction(surface, point) -> tuple[np.ndarray, float]:
    """The eigenvector u of H's smallest eigenvalue λ at ``point``, signed so that a step along it lowers L.

    If λ < 0 then uᵀHu = λ‖u‖² < 0, so L(θ' + αu) < L(θ') for a small α
    near a critical point θ' (lecture 1.3). The sign of u is free; we pick
    the one whose first-order term gᵀu is not positive.
    """
    a = surfaces.analyze_point(surface, point)
    u = a.eigenvectors[:, 0].astype(np.float64)
    if float(a.gradient @ u) > 0:
        u = -u
    return u / np.linalg.norm(u), float(a.eigenvalues[0])


def escape_window(span: float) -> tuple[float, float]:
    """(offset of the start from the saddle, half-width of the map around it) on a domain whose shorter side is ``span``.

    The start sits 0.15·span from the saddle, far enough that the lingering is visible, and the map shows 2.5× that.
    """
    offset = 0.15 * span
    return offset, 2.5 * offset


def start_near_saddle(saddle, offset: float, tilt: float) -> np.ndarray:
    """A start beside a saddle: ``offset`` along its rising eigenvector, ``tilt`` along its falling one.

    Gradient descent from here first slides towards the saddle (the rising
    direction is attracting) and leaves it only as fast as the tiny ``tilt``
    grows, by a factor (1 + η|λ|) per step: it lingers.
    """
    p = np.asarray(saddle.point, np.float64)
    v = np.asarray(saddle.eigenvectors, np.float64)
    return p + offset * v[:, 1] + tilt * v[:, 0]


def saddle_escape(surface, start, steps: int, lr: float, kick: float, noise: float, seed: int = 0,
                  drop: float = 0.05, level: float | None = None) -> SaddleEscape:
    """Plain GD, one eigenvector step then GD, and noisy GD, all from ``start``.

    Args:
      start: a point next to a saddle.
      kick: the length α of the single step θ' + αu along the negative-curvature eigenvector.
      noise: std of the Gaussian noise added to every gradient of the third run.
      drop, level: a run has escaped once its loss is below ``level`` − drop;
        ``level`` is the saddle's loss L(θ'), by default L(start).
    """
    start = np.asarray(start, np.float64)
    u, lam = negative_curvature_direction(surface, start)
    kicked = start + kick * u
    runs = trajectories(surface, "gd", np.stack([start, kicked, start]), steps, lr=lr,
                        noise=np.array([0.0, 0.0, noise], np.float32), seed=seed)
    path, loss = runs.path.copy(), runs.loss.copy()
    # The eigenvector step is step 1 of the second run: prepend the start, drop the last GD step.
    path[1] = np.concatenate([start[None], runs.path[1, :-1]])
    loss[1] = np.concatenate([runs.loss[0, :1], runs.loss[1, :-1]])
    diverged_at = runs.diverged_at.copy()
    if 0 <= diverged_at[1] < steps:  # the second run is one step later: the eigenvector step came first
        diverged_at[1] += 1
    elif diverged_at[1] == steps:  # its last GD step was dropped
        diverged_at[1] = -1
    below = loss < (loss[0, 0] if level is None else level) - drop
    escaped_at = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    return SaddleEscape(tuple(label for _, label in ESCAPE_METHODS), path, loss, u, lam, escaped_at, diverged_at)


class BasinEscape(NamedTuple):
    """Noisy gradient descent started at a minimum: how many runs leave its basin."""

    minimum: np.ndarray  # (2,)
    final_points: np.ndarray  # (n, 2) where the noisy runs ended
    left: np.ndarray  # (n,) bool: descent from the end point leads elsewhere
    rate: float  # share of runs that left


def basin_escape(surface, minimum, steps: int, lr: float, noise: float, n: int = 64, seed: int = 0,
                 settle_steps: int = 2000, tol: float = 0.05) -> BasinEscape:
    """Start n noisy GD runs at ``minimum`` (gradient noise std ``noise``, the small-batch stand-in).

    A run has left the basin when plain gradient descent from where it ended
    (``settle_steps`` noise-free steps) no longer comes back to ``minimum``.
    A sharp basin is narrow, so the same noise carries runs over its rim far
    more often than over a flat basin's (Keskar et al., ICLR 2017).
    """
    minimum = np.asarray(minimum, np.float32)
    runs = trajectories(surface, "gd", np.repeat(minimum[None], n, axis=0), steps, lr=lr, noise=noise,
                        seed=seed + np.arange(n))
    final = runs.path[:, -1]
    ok = np.isfinite(final).all(axis=1)
    settled = trajectories(surface, "gd", np.where(ok[:, None], final, minimum), settle_steps, lr=lr).path[:, -1]
    left = ~ok | ~(np.linalg.norm(settled - minimum, axis=1) < tol)
    return BasinEscape(minimum, final, left, float(left.mean()))
