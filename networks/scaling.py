"""Feature scaling changes the error surface (lecture 2.5): y = w1·x1 + w2·x2 + b.

With the bias at its optimum for every (w1, w2) — b*(w) = mean(y − Xw) — the
mean square error is an exact quadratic in w:

    L(w) = mean((y_c − X_c w)²) = L* + (w − w*)ᵀ C (w − w*),   C = X_cᵀX_c / n,

X_c, y_c centred, so its Hessian is H = 2C (twice the features' covariance).
If x1 takes values near 1 and x2 near 100, H's eigenvalues differ by ~10⁴:
an elongated valley. Standardizing each feature, x̃_i = (x_i − m_i)/σ_i,
turns C into the correlation matrix: for uncorrelated features H ≈ 2I, a
round bowl. Gradient descent on a quadratic has a closed form,
w^t − w* = (I − ηH)^t (w^0 − w*), evaluated here exactly (NumPy, float64).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from networks.datasets import Dataset
from networks.regression import LossGrid
from optimizers.runner import first_bad_step, mask_after


def two_feature_data(scale1: float = 1.0, scale2: float = 100.0, n: int = 200, correlation: float = 0.0,
                     noise: float = 0.3, seed: int = 0) -> Dataset:
    """x_i = scale_i · u_i with u uniform on [1, 5] (correlated by ``correlation``); y = 2u1 − u2 + 1 + noise.

    The lecture's case: x1 ∈ 1, 2, … and x2 ∈ 100, 200, …. The target is fixed
    in terms of u, so only the features' scales change with the sliders.
    """
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1.0, 1.0, (2, n))
    rho = float(np.clip(correlation, -0.99, 0.99))
    u = 3.0 + 2.0 * np.stack([a, rho * a + np.sqrt(1 - rho**2) * b], axis=1)
    u = np.clip(u, 1.0, 5.0)
    y = 2.0 * u[:, 0] - u[:, 1] + 1.0 + noise * rng.standard_normal(n)
    x = u * np.asarray([scale1, scale2], np.float64)
    return Dataset(x, y, f"x1 ≈ {scale1:g}·[1, 5], x2 ≈ {scale2:g}·[1, 5]")


def standardize(x: np.ndarray) -> np.ndarray:
    r"""Feature normalization: x̃^r_i = (x^r_i − m_i) / σ_i over the examples r (mean 0, variance 1 per column)."""
    x = np.asarray(x, np.float64)
    return (x - x.mean(axis=0)) / x.std(axis=0)


class Quadratic(NamedTuple):
    """L(w) = L* + (w − w*)ᵀ C (w − w*) with the bias profiled out."""

    w_star: np.ndarray  # (2,)
    loss_star: float
    hessian: np.ndarray  # (2, 2) = 2C
    eigenvalues: np.ndarray  # ascending
    eigenvectors: np.ndarray  # columns

    @property
    def condition_number(self) -> float:
        """λmax / λmin of the Hessian (∞ if λmin ≤ 0)."""
        lo, hi = self.eigenvalues
        return float(hi / lo) if lo > 0 else float("inf")

    @property
    def best_lr(self) -> float:
        """η = 2 / (λmax + λmin): the constant step that contracts slowest and fastest directions equally."""
        return float(2.0 / self.eigenvalues.sum())

    @property
    def largest_stable_lr(self) -> float:
        """Gradient descent diverges for η ≥ 2 / λmax."""
        return float(2.0 / self.eigenvalues[-1])

    def loss(self, w) -> np.ndarray:
        e = np.asarray(w, np.float64) - self.w_star
        return self.loss_star + 0.5 * np.einsum("...i,ij,...j->...", e, self.hessian, e)


def profiled_quadratic(x: np.ndarray, y: np.ndarray) -> Quadratic:
    """The exact quadratic of L(w) = min_b mean((y − Xw − b)²)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    xc, yc = x - x.mean(axis=0), y - y.mean()
    c = xc.T @ xc / len(x)
    w_star = np.linalg.solve(c, xc.T @ yc / len(x))
    loss_star = float(np.mean((yc - xc @ w_star) ** 2))
    lam, vec = np.linalg.eigh(2.0 * c)
    return Quadratic(w_star, loss_star, 2.0 * c, lam, vec)


def gd_path(q: Quadratic, start, lr: float, steps: int) -> np.ndarray:
    """Gradient descent w^{t+1} = w^t − η ∇L(w^t) on the quadratic, in closed form: (steps + 1, 2).

    w^t = w* + V diag((1 − ηλ)^t) Vᵀ (w^0 − w*). NaN from the first step that
    leaves |w| < DIVERGENCE_BOUND (as the trajectory runner does).
    """
    t = np.arange(steps + 1, dtype=np.float64)[:, None]
    e0 = q.eigenvectors.T @ (np.asarray(start, np.float64) - q.w_star)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.sign(1.0 - lr * q.eigenvalues) ** t * np.abs(1.0 - lr * q.eigenvalues) ** t * e0
        path = q.w_star + e @ q.eigenvectors.T
    return mask_after(first_bad_step(path[None]), path[None])[0][0]


def steps_to_converge(q: Quadratic, path: np.ndarray, rel_tol: float = 1e-6) -> int:
    """First t with L(w^t) − L* ≤ rel_tol · (L(w^0) − L*); −1 if never within the path."""
    excess = q.loss(path) - q.loss_star
    below = np.flatnonzero(np.nan_to_num(excess, nan=np.inf) <= rel_tol * excess[0])
    return int(below[0]) if len(below) else -1


def steps_at_best_lr(q: Quadratic, rel_tol: float = 1e-6) -> float:
    """Steps gradient descent needs at η = 2/(λmax + λmin) in the worst case: ln(rel_tol) / (2 ln((κ−1)/(κ+1))).

    The excess loss contracts by ((κ − 1)/(κ + 1))² per step (κ the condition number).
    """
    kappa = q.condition_number
    if kappa <= 1.0 + 1e-12:
        return 1.0
    return float(np.ceil(np.log(rel_tol) / (2.0 * np.log((kappa - 1.0) / (kappa + 1.0)))))


def loss_window(q: Quadratic, start, pad: float = 1.3) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square window (equal half-widths, so an elongated bowl looks elongated) around w* that holds the start."""
    h = pad * max(float(np.max(np.abs(np.asarray(start) - q.w_star))), 1e-6)
    (cx, cy) = q.w_star
    return (cx - h, cx + h), (cy - h, cy + h)



def scaling_problems(scale1: float, scale2: float, correlation: float, start=(0.0, 0.0), resolution: int = 121
                     ) -> list[tuple[Quadratic, LossGrid]]:
    """The lecture's feature-scaling comparison (lecture 2.5): the profiled quadratic and its loss grid over
    (w₁, w₂), for the raw and for the standardized features (in that order), each on a window holding ``start``.
    """
    data = two_feature_data(scale1, scale2, correlation=correlation)
    out = []
    for x in (data.x, standardize(data.x)):
        q = profiled_quadratic(x, data.y)
        (x0, x1), (y0, y1) = loss_window(q, start)
        xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
        W1, W2 = np.meshgrid(xs, ys)
        out.append((q, LossGrid(xs, ys, q.loss(np.stack([W1, W2], axis=-1)))))
    return out


def scaling_paths(problems: list[tuple[Quadratic, LossGrid]], lr: float, best_lr: bool, steps: int,
                  start=(0.0, 0.0)) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Gradient descent on each of ``scaling_problems``' quadratics: (η used, path, loss along it) for each.

    ``best_lr``: each at its own η = 2/(λmax + λmin) instead of the shared ``lr`` (the rate that makes the
    slowest and fastest directions contract equally fast).
    """
    out = []
    for q, _ in problems:
        eta = q.best_lr if best_lr else lr
        path = gd_path(q, start, eta, steps)
        out.append((eta, path, q.loss(path)))
    return out
