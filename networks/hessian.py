"""The Hessian of any loss over any pytree of parameters, without forming it (and with, when small).

Every function takes ``loss_fn(params) -> scalar`` and ``params`` (a pytree).
The Hessian-vector product is forward-over-reverse,
    H v = d/dε ∇L(θ + εv) |_{ε=0}   (``jax.jvp`` of ``jax.grad``),
at about the cost of two gradients, so a network's Hessian is explored with
k products instead of n² entries (Pearlmutter 1994).

* ``hessian_top_eigenvalues``: Lanczos with full reorthogonalization; its
  extreme Ritz values converge first (Golub & Van Loan §10.1).
* ``hessian_trace``: Hutchinson's estimator tr H = E[vᵀHv], v Rademacher.
* ``hessian_density``: stochastic Lanczos quadrature (Ghorbani et al. 2019):
  the Ritz values of a Lanczos run from a random start, weighted by the
  squared first components of the tridiagonal's eigenvectors, approximate
  the spectral density; several runs are averaged and Gaussian-smoothed.
* ``hessian_spectrum``: the dense Hessian, built column block by column
  block from HVPs, and all its eigenvalues (networks up to MAX_DENSE_PARAMS).

Compiled code is cached per ``loss_fn`` object (a static argument): a second
call with the same function and parameter shapes reuses it.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

# A spectrum's signs are read with the surfaces' one rule (ZERO_EIGENVALUE_TOL): re-exported as networks.*.
from surfaces.analysis import eigenvalue_signs
from surfaces.local import minimum_ratio

MAX_DENSE_PARAMS = 16_000  # a 16k × 16k float32 Hessian is 1 GB


def _flat_hvp(loss_fn: Callable, params):
    """(θ flat, v ↦ Hv on flat vectors): forward-over-reverse on the loss of the flattened parameters."""
    flat, unravel = ravel_pytree(params)
    grad = jax.grad(lambda w: loss_fn(unravel(w)))
    return flat, lambda v: jax.jvp(grad, (flat,), (v,))[1]


def hvp(loss_fn: Callable, params, v):
    """H v for a pytree ``v`` shaped like ``params``."""
    return jax.jvp(jax.grad(loss_fn), (params,), (v,))[1]


@partial(jax.jit, static_argnames=("loss_fn", "iterations"))
def _lanczos(loss_fn, params, start, iterations):
    """Lanczos tridiagonalization of H from ``start`` (flat), fully reorthogonalized.

    Returns α (m,), β (m,) — T has α on the diagonal and β[:-1] beside it — and
    the Lanczos vectors V (m, n).
    """
    flat, matvec = _flat_hvp(loss_fn, params)
    m = iterations
    basis = jnp.zeros((m + 1, flat.size), flat.dtype).at[0].set(start / jnp.linalg.norm(start))
    rows = jnp.arange(m + 1)

    def body(i, carry):
        basis, alpha, beta = carry
        v = basis[i]
        w = matvec(v)
        a = jnp.vdot(w, v)
        for _ in range(2):  # twice is enough (Parlett's "twice is enough")
            coeffs = jnp.where(rows <= i, basis @ w, 0.0)
            w = w - coeffs @ basis
        b = jnp.linalg.norm(w)
        basis = basis.at[i + 1].set(w / jnp.maximum(b, 1e-30))
        return basis, alpha.at[i].set(a), beta.at[i].set(b)

    basis, alpha, beta = jax.lax.fori_loop(0, m, body, (basis, jnp.zeros(m, flat.dtype), jnp.zeros(m, flat.dtype)))
    return alpha, beta, basis[:m]


class Lanczos(NamedTuple):
    ritz_values: np.ndarray  # ascending
    ritz_vectors: np.ndarray  # (m, n) rows, unit vectors in the flat parameter space
    weights: np.ndarray  # squared first components: the quadrature weights of SLQ


def lanczos(loss_fn: Callable, params, iterations: int, seed: int = 0, vectors: bool = False) -> Lanczos:
    """``iterations`` steps of Lanczos on the Hessian at ``params`` from a random Gaussian start."""
    flat, _ = ravel_pytree(params)
    m = int(min(iterations, flat.size))
    start = jax.random.normal(jax.random.PRNGKey(seed), flat.shape, flat.dtype)
    alpha, beta, basis = _lanczos(loss_fn, params, start, m)
    alpha, beta = np.asarray(alpha, np.float64), np.asarray(beta, np.float64)
    # A breakdown (β ≈ 0) means an invariant subspace was found: keep the part before it.
    small = np.flatnonzero(beta[:-1] < 1e-10 * max(1.0, np.abs(alpha).max()))
    m = int(small[0]) + 1 if len(small) else m
    tri = np.diag(alpha[:m]) + np.diag(beta[: m - 1], 1) + np.diag(beta[: m - 1], -1)
    theta, s = np.linalg.eigh(tri)
    ritz = (s.T @ np.asarray(basis[:m], np.float64)) if vectors else np.zeros((0, 0))
    return Lanczos(theta, ritz, s[0] ** 2)


def hessian_top_eigenvalues(loss_fn: Callable, params, k: int, iterations: int | None = None, seed: int = 0
                            ) -> np.ndarray:
    """The k largest eigenvalues of ∇²L at ``params``, descending (Lanczos; default 2k + 30 iterations)."""
    flat, _ = ravel_pytree(params)
    k = int(min(k, flat.size))
    run = lanczos(loss_fn, params, iterations or 2 * k + 30, seed)
    return run.ritz_values[::-1][:k].copy()


def hessian_extreme_eigenvectors(loss_fn: Callable, params, iterations: int = 60, seed: int = 0):
    """(λmax, v_max, λmin, v_min): the top and the most negative eigenpairs, eigenvectors as pytrees like params."""
    _, unravel = ravel_pytree(params)
    run = lanczos(loss_fn, params, iterations, seed, vectors=True)
    top, bottom = run.ritz_vectors[-1], run.ritz_vectors[0]
    as_tree = lambda v: unravel(jnp.asarray(v / np.linalg.norm(v), jnp.float32))  # noqa: E731
    return float(run.ritz_values[-1]), as_tree(top), float(run.ritz_values[0]), as_tree(bottom)


@partial(jax.jit, static_argnames=("loss_fn",))
def _quadratic_forms(loss_fn, params, probes):
    _, matvec = _flat_hvp(loss_fn, params)
    return jax.lax.map(lambda v: jnp.vdot(v, matvec(v)), probes, batch_size=16)


def hessian_trace(loss_fn: Callable, params, num_probes: int = 100, seed: int = 0) -> float:
    """Hutchinson's estimate of tr ∇²L: the mean of vᵀHv over Rademacher vectors v (E[vvᵀ] = I)."""
    flat, _ = ravel_pytree(params)
    probes = jax.random.rademacher(jax.random.PRNGKey(seed), (int(num_probes), flat.size), flat.dtype)
    return float(np.mean(np.asarray(_quadratic_forms(loss_fn, params, probes), np.float64)))


def hessian_density(loss_fn: Callable, params, num_runs: int = 4, iterations: int = 60, seed: int = 0,
                    points: int = 400, width: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic Lanczos quadrature: (grid, density) of the eigenvalues, integrating to ≈ 1.

    Each run's Ritz values θ_j with weights τ_j (Σ τ_j = 1) give the
    quadrature Σ_j τ_j δ(λ − θ_j); the runs are averaged and each δ widened
    to a Gaussian of std ``width`` (default 1 % of the spectrum's span).
    """
    runs = [lanczos(loss_fn, params, iterations, seed + r) for r in range(num_runs)]
    values = np.concatenate([r.ritz_values for r in runs])
    weights = np.concatenate([r.weights for r in runs]) / num_runs
    low, high = values.min(), values.max()
    span = max(high - low, 1e-12)
    sigma = width or 0.01 * span
    grid = np.linspace(low - 5 * sigma, high + 5 * sigma, points)
    density = (weights[None, :] * np.exp(-0.5 * ((grid[:, None] - values[None, :]) / sigma) ** 2)).sum(axis=1)
    return grid, density / (sigma * np.sqrt(2 * np.pi))


@partial(jax.jit, static_argnames=("loss_fn",))
def _hessian_columns(loss_fn, params, basis):
    _, matvec = _flat_hvp(loss_fn, params)
    return jax.lax.map(matvec, basis, batch_size=128)


def dense_hessian(loss_fn: Callable, params) -> np.ndarray:
    """∇²L as an n × n array (n ≤ MAX_DENSE_PARAMS), from n HVPs with the unit vectors, symmetrized."""
    flat, _ = ravel_pytree(params)
    n = flat.size
    if n > MAX_DENSE_PARAMS:
        raise ValueError(f"{n:,} parameters: the dense Hessian is limited to {MAX_DENSE_PARAMS:,}; "
                         "use hessian_top_eigenvalues or hessian_density")
    h = np.asarray(_hessian_columns(loss_fn, params, jnp.eye(n, dtype=flat.dtype)), np.float64)
    return 0.5 * (h + h.T)


def hessian_spectrum(loss_fn: Callable, params) -> np.ndarray:
    """All eigenvalues of ∇²L at ``params``, ascending (dense; n ≤ MAX_DENSE_PARAMS)."""
    return np.linalg.eigvalsh(dense_hessian(loss_fn, params))


class SpectrumSummary(NamedTuple):
    """A full Hessian spectrum and the numbers a reader is shown of it (lecture 1.4)."""

    eigenvalues: np.ndarray  # (n,) all of them, ascending
    largest: np.ndarray  # the ``top`` largest, descending
    minimum_ratio: float  # share of positive eigenvalues: 1 at a strict local minimum
    negative: int  # how many are negative (beyond ZERO_EIGENVALUE_TOL)
    lowest: float  # λ_min
    trace: float  # Σᵢ λᵢ = tr ∇²L


def spectrum_summary(eigenvalues, top: int = 5) -> SpectrumSummary:
    """``SpectrumSummary`` of an ascending spectrum (``hessian_spectrum``'s): what the Network lab prints."""
    lam = np.asarray(eigenvalues, np.float64)
    return SpectrumSummary(lam, lam[::-1][:top], minimum_ratio(lam), eigenvalue_signs(lam).negative,
                           float(lam[0]), float(np.sum(lam)))
