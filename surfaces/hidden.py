"""A minimum in a slice that is a saddle in full space (lecture 1.4): three parameters, one hidden way down.

    L(w₁, w₂, w₃) = (w₁ + w₃)² + w₂² − ½ w₃² + ¼ w₃⁴
                  = w₁² + w₂² + ½ w₃² + 2 w₁w₃ + ¼ w₃⁴.

At the origin g = 0. In the (w₁, w₂) slice (w₃ = 0) the loss is w₁² + w₂²:
a round bowl, Hessian diag(2, 2), a minimum. Each single parameter alone
curves upwards too (∂²L/∂w₃² = 1). But the full Hessian

    H = [[2, 0, 2], [0, 2, 0], [2, 0, 1]]

has eigenvalues (3 − √17)/2 ≈ −0.56, 2 and (3 + √17)/2 ≈ 3.56: a saddle. The
escaping eigenvector mixes w₁ and w₃ (≈ (−0.62, 0, 0.79)); along it the loss
falls to the true minima w₁ = −w₃, w₂ = 0, w₃ = ±1 with L = −¼. A student who
only looks at the (w₁, w₂) slice would call the origin a minimum.
Imports only JAX and NumPy.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from surfaces.analysis import classify

FORMULA = r"L(w_1, w_2, w_3) = (w_1 + w_3)^2 + w_2^2 - \tfrac12 w_3^2 + \tfrac14 w_3^4"
POINT = (0.0, 0.0, 0.0)  # the critical point
MINIMA = ((-1.0, 0.0, 1.0), (1.0, 0.0, -1.0))  # L = −¼ there


def hidden_saddle_loss(w):
    """L(w₁, w₂, w₃) of the module docstring, for one point w = (w₁, w₂, w₃)."""
    w1, w2, w3 = w[0], w[1], w[2]
    return (w1 + w3) ** 2 + w2**2 - 0.5 * w3**2 + 0.25 * w3**4


_hessian = jax.jit(jax.hessian(hidden_saddle_loss))
_gradient = jax.jit(jax.grad(hidden_saddle_loss))
_losses = jax.jit(jax.vmap(hidden_saddle_loss))


class HiddenSaddle(NamedTuple):
    """The critical point seen in the (w₁, w₂) slice and in full space."""

    point: np.ndarray  # (3,)
    gradient: np.ndarray  # (3,)
    slice_hessian: np.ndarray  # (2, 2): rows and columns w₁, w₂
    slice_eigenvalues: np.ndarray  # (2,) ascending
    slice_kind: str
    hessian: np.ndarray  # (3, 3)
    eigenvalues: np.ndarray  # (3,) ascending
    eigenvectors: np.ndarray  # (3, 3) columns
    escape_direction: np.ndarray  # (3,) unit eigenvector of the negative eigenvalue, w₃ component ≥ 0
    kind: str
    xs: np.ndarray  # (k,) w₁ of the slice grid
    ys: np.ndarray  # (k,) w₂
    slice_loss: np.ndarray  # (k, k) L(w₁, w₂, 0), rows follow w₂
    along: np.ndarray  # (m,) s
    loss_along_escape: np.ndarray  # (m,) L(θ' + s·u), u the eigenvector of the negative eigenvalue
    loss_along_w3: np.ndarray  # (m,) L(θ' + s·e₃): the third parameter alone curves up

    @property
    def lowest_along_escape(self) -> float:
        """The lowest loss on the escaping line: how far down the hidden way goes."""
        return float(np.min(self.loss_along_escape))


def hidden_saddle(extent: float = 1.5, resolution: int = 81) -> HiddenSaddle:
    """Gradient, slice and full Hessians with their eigen-decompositions, the slice's map, and two 1-D cuts."""
    p = jnp.asarray(POINT, jnp.float32)
    h = np.asarray(_hessian(p), np.float64)
    h = 0.5 * (h + h.T)
    values, vectors = np.linalg.eigh(h)
    slice_h = h[:2, :2]
    slice_values = np.linalg.eigvalsh(slice_h)
    u = vectors[:, 0] * np.sign(vectors[2, 0] or 1.0)  # the escaping direction, w₃ component positive
    xs = ys = np.linspace(-extent, extent, int(resolution))
    X, Y = np.meshgrid(xs, ys)
    plane = np.stack([X.ravel(), Y.ravel(), np.zeros(X.size)], axis=-1)
    s = np.linspace(-1.5, 1.5, 121)
    origin = np.asarray(POINT)
    grid_loss = np.asarray(_losses(jnp.asarray(plane, jnp.float32)), np.float64).reshape(X.shape)
    escape = np.asarray(_losses(jnp.asarray(origin + s[:, None] * u, jnp.float32)), np.float64)
    w3 = np.asarray(_losses(jnp.asarray(origin + s[:, None] * np.eye(3)[2], jnp.float32)), np.float64)
    return HiddenSaddle(origin, np.asarray(_gradient(p), np.float64), slice_h, slice_values, classify(slice_values),
                        h, values, vectors, u, classify(values), xs, ys, grid_loss, s, escape, w3)
