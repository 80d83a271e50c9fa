"""Derivatives, Hessian eigen-analysis, grid maps and critical points of 2-D surfaces.

Everything here works on a surface record (or its registry name) and uses only
JAX and NumPy. The jitted functions take the record as a static argument, so
each built-in surface is compiled once per process, and all typed formulas
share one compile (``surfaces.interpreter.surface_jit``: their programs are
data); grid bounds are traced data, so a zoom or pan does not recompile.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from surfaces.catalog import get
from surfaces.compiled_sizes import power_of_two
from surfaces.interpreter import surface_jit
from surfaces.surface import Surface

KINDS = ("minimum", "maximum", "saddle", "degenerate")


# --------------------------------------------------------------------------- 2x2 eigen
def symmetric_eigenvalues_2x2(h):
    """(λ−, λ+) = (a + c)/2 ∓ sqrt(((a − c)/2)² + b²) of symmetric 2x2 matrices H = [[a, b], [b, c]]."""
    a, b, c = h[..., 0, 0], 0.5 * (h[..., 0, 1] + h[..., 1, 0]), h[..., 1, 1]
    mean = 0.5 * (a + c)
    radius = jnp.sqrt((0.5 * (a - c)) ** 2 + b**2)
    return mean - radius, mean + radius


def symmetric_eigen_2x2(h):
    """Eigenvalues and eigenvectors of symmetric 2x2 matrices in closed form.

    For H = [[a, b], [b, c]]:
        λ± = (a + c)/2 ± sqrt(((a − c)/2)² + b²),
    and the eigenvector of λ+ is (cos φ, sin φ) with φ = ½·atan2(2b, a − c)
    (the principal-axis angle); the eigenvector of λ− is (−sin φ, cos φ).
    A few elementwise operations instead of an iterative solver, so it is much faster than
    ``jnp.linalg.eigh`` vmapped over a grid; the measured ratio is in docs/performance.md
    (``bench/bench_hessian_map.py``).

    Args:
      h: array (..., 2, 2), symmetric.
    Returns:
      (eigenvalues (..., 2) ascending, eigenvectors (..., 2, 2) as columns).
    """
    a, b, c = h[..., 0, 0], 0.5 * (h[..., 0, 1] + h[..., 1, 0]), h[..., 1, 1]
    phi = 0.5 * jnp.arctan2(2.0 * b, a - c)
    cos, sin = jnp.cos(phi), jnp.sin(phi)
    values = jnp.stack(symmetric_eigenvalues_2x2(h), axis=-1)
    v_small = jnp.stack([-sin, cos], axis=-1)
    v_large = jnp.stack([cos, sin], axis=-1)
    vectors = jnp.stack([v_small, v_large], axis=-1)  # columns
    return values, vectors


# --------------------------------------------------------------------------- pointwise
@surface_jit
def _value_grad_hessian(surface: Surface, p):
    value, grad = jax.value_and_grad(surface.loss)(p)
    hess = jax.hessian(surface.loss)(p)
    return value, grad, hess


def gradient(surface, point) -> np.ndarray:
    """∇L at ``point`` (NumPy array of shape (2,))."""
    _, g, _ = _value_grad_hessian(get(surface), jnp.asarray(point, jnp.float32))
    return np.asarray(g)


@surface_jit
def _losses_and_gradients(surface: Surface, points):
    return jax.vmap(jax.value_and_grad(surface.loss))(points)


def _padded_rows(points) -> tuple[jnp.ndarray, int]:
    """``points`` as (m, 2) float32, padded with zeros to a power of two ≥ 16 rows, and m.

    Every count of points (a path of 301 steps, then 302, ...) would otherwise compile its own program:
    padded, a few shapes serve them all. The padding rows are evaluated and dropped.
    """
    p = np.asarray(points, np.float32).reshape(-1, 2)
    m = len(p)
    padded = np.zeros((power_of_two(m, 16), 2), np.float32)
    padded[:m] = p
    return jnp.asarray(padded), m


def losses(surface, points) -> np.ndarray:
    """L at every row of ``points`` (m, 2), in one vmapped call."""
    padded, m = _padded_rows(points)
    v, _ = _losses_and_gradients(get(surface), padded)
    return np.asarray(v)[:m]


def gradients(surface, points) -> np.ndarray:
    """∇L at every row of ``points`` (m, 2) → (m, 2), in one vmapped call."""
    padded, m = _padded_rows(points)
    _, g = _losses_and_gradients(get(surface), padded)
    return np.asarray(g)[:m]


def hessian(surface, point) -> np.ndarray:
    """The Hessian H = ∇²L at ``point`` (NumPy array of shape (2, 2))."""
    _, _, h = _value_grad_hessian(get(surface), jnp.asarray(point, jnp.float32))
    return np.asarray(h)


def hessian_eigen(surface, point) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors (columns) of the Hessian at ``point``.

    The second-order Taylor view L(θ) ≈ L(θ') + (θ−θ')ᵀg + ½(θ−θ')ᵀH(θ−θ'):
    at a critical point the signs of these eigenvalues decide its kind.
    """
    values, vectors = symmetric_eigen_2x2(jnp.asarray(hessian(surface, point)))
    return np.asarray(values), np.asarray(vectors)


# An eigenvalue counts as zero when |λ| ≤ ZERO_EIGENVALUE_TOL · max(1, max |λ|): relative to the
# largest curvature (float32 round-off is ~1e-7 of it) and to the loss's typical scale of 1 below that.
# 1e-5 sits between that round-off and the best-conditioned genuine minimum of the catalog
# (Rosenbrock's smaller eigenvalue, ~4e-4 of its largest). Used by ``classify``, ``minimum_ratio``
# and the networks' Hessian spectra alike.
ZERO_EIGENVALUE_TOL = 1e-5


def zero_eigenvalue_threshold(eigenvalues) -> float:
    """ZERO_EIGENVALUE_TOL · max(1, max |λ|): eigenvalues at most this large in size count as zero."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return ZERO_EIGENVALUE_TOL * max(float(np.max(np.abs(lam))) if lam.size else 0.0, 1.0)


class EigenvalueSigns(NamedTuple):
    negative: int
    zero: int  # |λ| ≤ zero_eigenvalue_threshold
    positive: int

    @property
    def nonzero_positive_share(self) -> float:
        """positive / (positive + negative): the minimum ratio of the eigenvalues that are not zero (NaN if none)."""
        counted = self.positive + self.negative
        return self.positive / counted if counted else float("nan")


def eigenvalue_signs(eigenvalues) -> EigenvalueSigns:
    """How many eigenvalues are negative, zero (within ZERO_EIGENVALUE_TOL) and positive."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    tol = zero_eigenvalue_threshold(lam)
    return EigenvalueSigns(int(np.sum(lam < -tol)), int(np.sum(np.abs(lam) <= tol)), int(np.sum(lam > tol)))


def classify(eigenvalues) -> str:
    """Kind of a critical point from its Hessian eigenvalues.

    All > 0: minimum; all < 0: maximum; mixed signs: saddle. If any
    eigenvalue counts as zero (``ZERO_EIGENVALUE_TOL``) the point is
    degenerate: second order cannot tell.
    """
    signs = eigenvalue_signs(eigenvalues)
    if signs.zero:
        return "degenerate"
    if not signs.negative:
        return "minimum"
    if not signs.positive:
        return "maximum"
    return "saddle"


# --------------------------------------------------------------------------- grid maps
class Grid(NamedTuple):
    """Maps of a surface on a regular grid (rows follow y, columns follow x)."""

    xs: np.ndarray  # (nx,)
    ys: np.ndarray  # (ny,)
    loss: np.ndarray  # (ny, nx)
    grad_norm: np.ndarray  # (ny, nx)
    eig_min: np.ndarray  # (ny, nx), smaller Hessian eigenvalue
    eig_max: np.ndarray  # (ny, nx), larger Hessian eigenvalue


@surface_jit(static_argnames=("resolution",))
def _grid_maps(surface: Surface, resolution: int, bounds):
    xs = jnp.linspace(bounds[0], bounds[1], resolution)
    ys = jnp.linspace(bounds[2], bounds[3], resolution)
    X, Y = jnp.meshgrid(xs, ys)
    pts = jnp.stack([X.ravel(), Y.ravel()], axis=-1)

    def at(p):
        v, g = jax.value_and_grad(surface.loss)(p)
        low, high = symmetric_eigenvalues_2x2(jax.hessian(surface.loss)(p))
        return v, jnp.sqrt(jnp.sum(g**2)), low, high

    v, gn, lo, hi = jax.vmap(at)(pts)
    shape = (resolution, resolution)
    return xs, ys, v.reshape(shape), gn.reshape(shape), lo.reshape(shape), hi.reshape(shape)


def grid(surface, resolution: int = 200, domain=None) -> Grid:
    """Loss, gradient norm and both Hessian eigenvalues on a resolution² grid.

    One jitted, vmapped call; the eigenvalues use the closed form of
    ``symmetric_eigen_2x2``. ``domain`` defaults to the surface's own.
    """
    s = get(surface)
    (x0, x1), (y0, y1) = domain or s.domain
    out = _grid_maps(s, int(resolution), jnp.asarray([x0, x1, y0, y1], jnp.float32))
    return Grid(*(np.asarray(a) for a in out))


# --------------------------------------------------------------------------- critical points
class CriticalPoint(NamedTuple):
    """A critical point (∇L = 0) with its second-order classification."""

    point: np.ndarray  # (2,)
    value: float
    eigenvalues: np.ndarray  # (2,) ascending
    eigenvectors: np.ndarray  # (2, 2) columns
    kind: str  # one of KINDS


NEWTON_ITERATIONS = 80
# Newton's pseudo-inverse drops curvatures below this share of the largest: a numerical-rank cutoff
# relative to the point's own curvature only, so that Newton keeps stepping on nearly flat ground
# (with ZERO_EIGENVALUE_TOL's floor of 1 it stops there, and the softmax plateaus fill with false points).
# Classifying the points it finds uses ZERO_EIGENVALUE_TOL.
NEWTON_RANK_RTOL = 1e-6


@surface_jit
def _newton_from_seeds(surface: Surface, seeds, max_step):
    """Newton's method on ∇L = 0 from every seed at once.

    The step solves H·Δ = −g with the pseudo-inverse of H built from its
    closed-form eigen-decomposition (near-zero curvature directions are left
    alone), so it converges to minima, maxima and saddles alike and does not
    blow up where H is singular. Steps are clipped to ``max_step``.

    Returns, per seed: the end point, ‖∇L‖ there and at the seed, and L and the
    Hessian at the end point (what classifying it needs: one batched call, not
    one call per point, each of which pays its own dispatch and host transfer).
    """
    grad = jax.grad(surface.loss)
    hess = jax.hessian(surface.loss)

    def newton_step(p, _):
        g, h = grad(p), hess(p)
        lam, vec = symmetric_eigen_2x2(h)
        coef = vec.T @ g
        safe = jnp.abs(lam) > NEWTON_RANK_RTOL * jnp.maximum(jnp.max(jnp.abs(lam)), 1e-12)
        step = -vec @ jnp.where(safe, coef / jnp.where(safe, lam, 1.0), 0.0)
        length = jnp.sqrt(jnp.sum(step**2))
        step = step * jnp.minimum(1.0, max_step / jnp.maximum(length, 1e-30))
        return p + step, None

    def solve(seed):
        p, _ = jax.lax.scan(newton_step, seed, None, length=NEWTON_ITERATIONS)
        return p, jnp.sqrt(jnp.sum(grad(p) ** 2)), jnp.sqrt(jnp.sum(grad(seed) ** 2)), surface.loss(p), hess(p)

    return jax.vmap(solve)(seeds)


def critical_points(surface, domain=None, seeds_per_axis: int | None = None) -> list[CriticalPoint]:
    """All critical points of a surface inside its domain, classified.

    Method: Newton from a seeds_per_axis² grid of seeds (see
    ``_newton_from_seeds``), keep the points inside the domain whose gradient
    norm is below 1e-4 of the typical gradient norm on the seed grid, merge
    points closer than 1e-3 of the domain span, and classify each by its
    Hessian eigenvalues (``classify``). Degenerate points that lie on a curve
    (like the valley w1·w2 = 1 of the lecture example) are thinned to a few
    representatives an eighth of the domain apart, so a curve of minima does
    not flood the result.

    Returns:
      list of CriticalPoint sorted by kind (minimum, maximum, saddle,
      degenerate), then by value.
    """
    s = get(surface)
    (x0, x1), (y0, y1) = domain or s.domain
    n = int(seeds_per_axis or s.seeds_per_axis)
    span = max(x1 - x0, y1 - y0)
    # Seeds sit half a cell inside the border so none starts on the boundary.
    gx = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    gy = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    seeds = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2).astype(np.float32)
    pts, gnorm, seed_gnorm, loss_at, hessian_at = _newton_from_seeds(s, jnp.asarray(seeds), 0.1 * span)
    eigenvalues, eigenvectors = (np.asarray(a) for a in symmetric_eigen_2x2(hessian_at))
    pts, gnorm, seed_gnorm, loss_at = (np.asarray(a, np.float64) for a in (pts, gnorm, seed_gnorm, loss_at))
    typical = max(float(np.median(seed_gnorm)), 1.0)
    inside = (pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)
    ok = inside & np.isfinite(gnorm) & (gnorm < 1e-4 * typical)
    candidates = np.flatnonzero(ok)[np.argsort(gnorm[ok])]

    found: list[CriticalPoint] = []
    for i in candidates:
        p = pts[i]
        kind_radius = [span / 8 if c.kind == "degenerate" else 1e-3 * span for c in found]
        if any(np.hypot(*(p - c.point)) < r for c, r in zip(found, kind_radius)):
            continue
        values, vectors = eigenvalues[i], eigenvectors[i]
        kind = classify(values)
        if kind == "degenerate" and any(
            c.kind == "degenerate" and np.hypot(*(p - c.point)) < span / 8 for c in found
        ):
            continue
        found.append(CriticalPoint(p.astype(np.float64), float(loss_at[i]), values, vectors, kind))
    found.sort(key=lambda c: (KINDS.index(c.kind), c.value, c.point[0], c.point[1]))
    return found


def stability_edge(points: list[CriticalPoint]) -> float | None:
    """η = 2/λ_max at the lowest minimum among ``points`` (None without a minimum): gradient descent's stability edge.

    Near a minimum θ* with Hessian H, L ≈ L* + ½(θ − θ*)ᵀH(θ − θ*) and one step of
    gradient descent multiplies the component along the eigenvector of λ by (1 − ηλ):
    it shrinks for every λ iff η < 2/λ_max. At η = 2/λ_max the steepest component
    flips sign each step without shrinking; above it, it grows (on a quadratic) or,
    where the walls flatten out, settles on a bounce (a 2-cycle, or chaos).

    Reference: Y. Nesterov, *Introductory Lectures on Convex Optimization* (2004),
    §1.2.3; J. Cohen et al., "Gradient descent on neural networks typically occurs
    at the edge of stability", ICLR 2021.
    """
    minima = [c for c in points if c.kind == "minimum"]
    if not minima:
        return None
    curvature = float(np.max(min(minima, key=lambda c: c.value).eigenvalues))
    return 2.0 / curvature if curvature > 0 else None


def nearest_critical_point(points: list[CriticalPoint], p) -> tuple[CriticalPoint | None, float]:
    """The critical point nearest to ``p`` and its distance (None, inf if none)."""
    if not points or not np.all(np.isfinite(p)):
        return None, float("inf")
    d = [float(np.hypot(*(np.asarray(p) - c.point))) for c in points]
    i = int(np.argmin(d))
    return points[i], d[i]


# --------------------------------------------------------------------------- curves of critical points
CURVE_KINDS = {1: "valley of minima", -1: "ridge of maxima"}  # sign of the eigenvalue across the curve


class CriticalCurve(NamedTuple):
    """A continuum of critical points: every point is degenerate (zero eigenvalue along the curve).

    ``points`` is a polyline (n, 2) whose branches are separated by NaN rows;
    ``kind`` says what the points are, from the sign of the eigenvalue across
    the curve ("valley of minima": L rises on both sides, stays flat along it).
    """

    points: np.ndarray
    value: float  # L on the curve (its mean over the traced points)
    across: tuple[float, float]  # smallest and largest eigenvalue across the curve
    kind: str

    @property
    def branches(self) -> int:
        """How many separate pieces the curve has in view (the lecture's w₁w₂ = 1: two)."""
        return int(np.isnan(self.points[:, 0]).sum()) + 1


def _trace_branch(s: Surface, start, direction, step: float, bounds, max_points: int, tol: float) -> list:
    """Follow the zero-eigenvalue direction from ``start``, pulling each step back onto ∇L = 0.

    Predictor–corrector continuation: step ``step`` along the null eigenvector
    (kept pointing the same way), then Newton along the other eigenvector only,
    q ← q − (v·g / μ) v (H is singular along the curve). Stops at the domain's
    edge, when the curve closes, or when the correction fails (‖g‖ > tol). At the edge the step is halved
    until it is 1/256 of ``step``, so the traced curve ends at the edge, not up to a step short of it (the
    lecture's valley otherwise ended at |w₁| = 1.98, its largest eigenvalue across 8.32 for the edge's 8.5).
    """
    (x0, x1), (y0, y1) = bounds
    p, d, out = np.asarray(start, np.float64), np.asarray(direction, np.float64), []
    size = step
    for _ in range(max_points):
        q = p + size * d
        for _ in range(6):
            _, g, h = _value_grad_hessian(s, jnp.asarray(q, jnp.float32))
            lam, vec = np.linalg.eigh(np.asarray(h, np.float64))
            k = int(np.argmax(np.abs(lam)))
            if abs(lam[k]) < 1e-9:
                return out
            q = q - (vec[:, k] @ np.asarray(g, np.float64)) / lam[k] * vec[:, k]
        _, g, h = _value_grad_hessian(s, jnp.asarray(q, jnp.float32))
        if not (x0 <= q[0] <= x1 and y0 <= q[1] <= y1) or not np.all(np.isfinite(q)):
            if size > step / 256:  # the edge: come up to it in shorter steps
                size /= 2
                continue
            return out
        if float(np.linalg.norm(np.asarray(g))) > tol:
            return out
        lam, vec = np.linalg.eigh(np.asarray(h, np.float64))
        null = vec[:, int(np.argmin(np.abs(lam)))]
        d = null if null @ d >= 0 else -null
        out.append(q)
        if len(out) > 3 and np.hypot(*(q - start)) < step:  # closed curve
            return out
        p = q
    return out


def critical_curves(surface, points: list[CriticalPoint], domain=None
                    ) -> tuple[list[CriticalCurve], list[CriticalPoint]]:
    """The curves that the degenerate critical points lie on, and the points that are not on one.

    A critical point with one zero eigenvalue may be a sample of a whole curve
    of critical points (the lecture's w₁w₂ = 1). From each degenerate point not
    yet covered the curve is traced both ways (``_trace_branch``); if it runs
    longer than a twentieth of the domain it is a curve, and every degenerate
    point within two steps of it is dropped from the points. Curves of the same
    kind are joined into one (branches separated by NaN), so a surface has at
    most one valley of minima and one ridge of maxima.

    Returns (curves, remaining points).
    """
    s = get(surface)
    bounds = domain or s.domain
    (x0, x1), (y0, y1) = bounds
    span = max(x1 - x0, y1 - y0)
    step = span / 150
    branches: dict[str, list[np.ndarray]] = {}
    across: dict[str, list[float]] = {}
    covered: list[np.ndarray] = []
    remaining = []
    for c in points:
        on_curve = any(np.min(np.hypot(*(branch - c.point).T)) < 2 * step for branch in covered)
        if c.kind != "degenerate" or on_curve:
            if not on_curve:
                remaining.append(c)
            continue
        lam, vec = c.eigenvalues, c.eigenvectors
        k_null = int(np.argmin(np.abs(lam)))
        other = float(lam[1 - k_null])
        tol = 1e-4 * max(1.0, abs(other)) * step
        forward = _trace_branch(s, c.point, vec[:, k_null], step, bounds, 2000, tol)
        backward = _trace_branch(s, c.point, -vec[:, k_null], step, bounds, 2000, tol)
        branch = np.array(backward[::-1] + [c.point] + forward)
        length = float(np.sum(np.hypot(*np.diff(branch, axis=0).T))) if len(branch) > 1 else 0.0
        if length < span / 20 or abs(other) < 1e-6:
            remaining.append(c)
            continue
        covered.append(branch)
        kind = CURVE_KINDS[1 if other > 0 else -1]
        branches.setdefault(kind, []).append(branch)
        _, _, hs = jax.vmap(lambda p: _value_grad_hessian(s, p))(jnp.asarray(branch, jnp.float32))
        eig = np.linalg.eigvalsh(np.asarray(hs, np.float64))
        big = eig[np.arange(len(eig)), np.argmax(np.abs(eig), axis=1)]
        across.setdefault(kind, []).extend([float(big.min()), float(big.max())])
    curves = []
    for kind, parts in branches.items():
        joined = np.concatenate([p for part in parts for p in (part, np.full((1, 2), np.nan))][:-1])
        values = np.asarray(losses(s, joined[np.isfinite(joined[:, 0])]), np.float64)
        curves.append(CriticalCurve(joined, float(values.mean()), (min(across[kind]), max(across[kind])), kind))
    return curves, remaining


def distance_to_curve(curve: CriticalCurve, p) -> tuple[np.ndarray, float]:
    """The point of the polyline ``curve.points`` nearest to ``p`` and its distance (segments, not only vertices)."""
    pts = np.asarray(curve.points, np.float64)
    a, b = pts[:-1], pts[1:]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    a, b = a[ok], b[ok]
    p = np.asarray(p, np.float64)
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300), 0.0, 1.0)
    closest = a + t[:, None] * ab
    d = np.hypot(*(closest - p).T)
    i = int(np.argmin(d))
    return closest[i], float(d[i])


def nearest_critical(points: list[CriticalPoint], curves: list[CriticalCurve], p) -> tuple[str, np.ndarray | None, float]:
    """What is nearest to ``p``: a critical point or a point on a curve of them. Returns (kind, point, distance)."""
    best = ("", None, float("inf"))
    if not np.all(np.isfinite(p)):
        return best
    c, d = nearest_critical_point(points, p)
    if c is not None:
        best = (c.kind, c.point, d)
    for curve in curves:
        q, d = distance_to_curve(curve, p)
        if d < best[2]:
            best = (curve.kind, q, d)
    return best
