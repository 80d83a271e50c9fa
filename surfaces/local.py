"""The second-order view around one point: Taylor quadratic, curvature signature, minimum ratio.

Lecture 1.1–1.4. Around θ' the loss is approximated by
    L(θ) ≈ L(θ') + (θ − θ')ᵀ g + ½ (θ − θ')ᵀ H (θ − θ'),
g = ∇L(θ'), H = ∇²L(θ'). Where g = 0 the signs of H's eigenvalues decide
the kind of critical point; the share of positive eigenvalues is the
lecture's "minimum ratio" (1 for a minimum, 0.5 for a 2-D saddle).
Imports only JAX and NumPy.
"""
from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from surfaces.analysis import _value_grad_hessian, classify, eigenvalue_signs, grid, symmetric_eigen_2x2
from surfaces.catalog import get

# Below this gradient norm (relative to the surface's typical scale of 1) a
# picked point counts as critical, and its eigenvalues name its kind.
CRITICAL_GRADIENT = 1e-3


class PointAnalysis(NamedTuple):
    """Everything second order says about one point θ'."""

    point: np.ndarray  # (2,)
    value: float  # L(θ')
    gradient: np.ndarray  # (2,)
    hessian: np.ndarray  # (2, 2)
    eigenvalues: np.ndarray  # (2,) ascending
    eigenvectors: np.ndarray  # (2, 2) columns
    kind: str  # a critical point's kind, or "not critical" where ‖g‖ ≥ CRITICAL_GRADIENT
    minimum_ratio: float  # share of positive eigenvalues

    @property
    def gradient_norm(self) -> float:
        """‖g‖ = ‖∇L(θ')‖."""
        return float(np.linalg.norm(self.gradient))


def minimum_ratio(eigenvalues) -> float:
    """(number of positive eigenvalues) / (number of eigenvalues) — lecture 1.4.

    An eigenvalue within ``ZERO_EIGENVALUE_TOL`` of zero is round-off, not
    positive: the same rule ``classify`` uses for "degenerate". The one
    definition: ``networks.minimum_ratio`` is this function.
    """
    lam = np.asarray(eigenvalues, np.float64)
    return float(eigenvalue_signs(lam).positive / lam.size) if lam.size else 0.0


def positive_count(eig_min, eig_max) -> np.ndarray:
    """How many of the two Hessian eigenvalues are positive, elementwise: 2 convex, 1 mixed, 0 concave.

    Over a grid this is the Hessian's signature map; ``positive_count / 2``
    is the minimum ratio at every point.
    """
    return (np.asarray(eig_min) > 0).astype(np.int8) + (np.asarray(eig_max) > 0).astype(np.int8)


def analyze_point(surface, point) -> PointAnalysis:
    """Gradient, Hessian, eigen-decomposition and kind at ``point``."""
    p = jnp.asarray(point, jnp.float32)
    value, g, h = _value_grad_hessian(get(surface), p)
    values, vectors = symmetric_eigen_2x2(h)
    values, vectors = np.asarray(values), np.asarray(vectors)
    g = np.asarray(g)
    kind = classify(values) if np.linalg.norm(g) < CRITICAL_GRADIENT else "not critical"
    return PointAnalysis(np.asarray(point, np.float64), float(value), g, np.asarray(h), values, vectors, kind,
                         minimum_ratio(values))


class LocalQuadratic(NamedTuple):
    """The true loss and its second-order Taylor surface on a square window around θ'."""

    xs: np.ndarray  # (k,)
    ys: np.ndarray  # (k,)
    loss: np.ndarray  # (k, k), rows follow y
    quadratic: np.ndarray  # (k, k)
    max_abs_error: float  # max |L − Q| on the window
    center: PointAnalysis
    half_window_error: float = float("nan")  # max |L − Q| on the window of half the width
    error_order: float = float("nan")  # p in max |L − Q| ∝ radiusᵖ, measured: log₂(error / half-window error)

    @property
    def shrink_factor(self) -> float:
        """How many times smaller the gap is on the window of half the width: 2ᵖ (NaN without an order)."""
        return 2.0 ** self.error_order

    @property
    def largest_gap_at(self) -> tuple[float, float]:
        """The grid point of the window where |L − Q| is largest (``max_abs_error`` is the gap there)."""
        row, col = np.unravel_index(np.nanargmax(np.abs(self.loss - self.quadratic)), np.shape(self.loss))
        return float(self.xs[col]), float(self.ys[row])

    @property
    def is_exact(self) -> bool:
        """L is its own quadratic on this window (up to rounding): no Taylor term is left to shrink."""
        return bool(np.isnan(self.error_order))


def taylor_quadratic(analysis: PointAnalysis, xs, ys) -> np.ndarray:
    """Q(θ) = L(θ') + (θ − θ')ᵀg + ½(θ − θ')ᵀH(θ − θ') on the grid xs × ys (rows follow y)."""
    X, Y = np.meshgrid(np.asarray(xs, np.float64), np.asarray(ys, np.float64))
    dx, dy = X - analysis.point[0], Y - analysis.point[1]
    g, h = analysis.gradient.astype(np.float64), analysis.hessian.astype(np.float64)
    return (analysis.value + g[0] * dx + g[1] * dy
            + 0.5 * (h[0, 0] * dx**2 + (h[0, 1] + h[1, 0]) * dx * dy + h[1, 1] * dy**2))


def local_quadratic(surface, point, radius: float, resolution: int = 41) -> LocalQuadratic:
    """True surface and Taylor quadratic around ``point`` on [x ± radius] × [y ± radius].

    The error max |L − Q| shrinks like radiusᵖ with p ≥ 3 for a smooth L (the
    first neglected Taylor term is cubic), p = 4 where every third derivative
    vanishes (the lecture's saddle: L − Q = (w₁w₂)² at the origin). ``error_order``
    measures p from this window and the one of half its width,
    p = log₂(error(r) / error(r/2)); NaN where L is its own quadratic (no error
    to measure). The quadratic is the surface's own picture only close to θ'.
    """
    a = analyze_point(surface, point)

    def error_on(r: float) -> tuple:
        window = ((a.point[0] - r, a.point[0] + r), (a.point[1] - r, a.point[1] + r))
        g = grid(surface, int(resolution), window)
        q = taylor_quadratic(a, g.xs, g.ys)
        return g, q, float(np.nanmax(np.abs(g.loss - q)))

    g, q, error = error_on(radius)
    half = error_on(radius / 2)[2]
    # Below ~10 float32 ulps of L's own size the "error" is rounding, not a Taylor term: no order to read.
    floor = 1e-6 * max(1.0, float(np.nanmax(np.abs(g.loss))))
    order = float(np.log2(error / half)) if half > floor and error > floor else float("nan")
    return LocalQuadratic(g.xs, g.ys, g.loss, q, error, a, half, order)


def taylor_radius(span: float) -> tuple[float, float, float]:
    """Default, smallest and largest half-width of a Taylor window on a domain whose shorter side is ``span``."""
    return round(span / 8, 2), round(span / 100, 3), round(span / 2, 2)
