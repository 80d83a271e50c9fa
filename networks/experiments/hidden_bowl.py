"""Lecture 1.4: a refined critical point of a real network whose random 2-D slice looks like a bowl while its
Hessian says saddle (the slice along the escape direction shows it).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from networks import hessian, landscape
from networks.datasets import load_split
from networks.experiments.saddle import _all_to_critical, _critical_summaries
from networks.models import MLP, dataset_loss


class HiddenBowl(NamedTuple):
    """A refined critical point of a real network whose random 2-D slice is a bowl, while its Hessian says saddle."""

    coords: np.ndarray  # (k,) the slice coordinates c of θ' + c₁d₁ + c₂d₂ (both axes)
    random_slice: np.ndarray  # (k, k) along two filter-normalized random directions
    escape_slice: np.ndarray  # (k, k) along (u_min scaled like d₁, d₁): u_min the most negative eigenvector
    slice_curvatures: np.ndarray  # (2,) eigenvalues of the slice's 2×2 Hessian [dᵢᵀ H dⱼ]: both > 0, a bowl
    eigenvalues: np.ndarray  # (n,) the full Hessian's, ascending
    minimum_ratio: float
    negative: int  # how many of them are negative
    loss: float  # L(θ')
    gradient_norm: float  # ‖∇L(θ')‖: how critical the point is
    seed: int  # the network's initialization seed

    @property
    def center_loss(self) -> float:
        """L at the slices' centre θ' itself."""
        k = len(self.coords) // 2
        return float(self.random_slice[k, k])

    @property
    def lowest(self) -> tuple[float, float]:
        """The lowest loss on (the random slice, the eigenvector slice): the centre's for a bowl, below it on
        the way down."""
        return float(np.min(self.random_slice)), float(np.min(self.escape_slice))


def hidden_bowl(dataset: str = "moons", model: MLP = MLP((6,), "tanh"), span: float = 0.5, resolution: int = 31,
                candidates: int = 8, progress: Callable[[float], None] | None = None) -> HiddenBowl:
    """Lecture 1.4 on a real network: a slice that shows a minimum at a point that is a saddle.

    ``candidates`` networks are refined from their initialization to a nearby
    critical point (``saddle_study``'s walk, with no training first: the
    high-loss points, which are saddles); the first whose slice along two
    random filter-normalized directions (seeds 1, 2) has a positive definite
    2×2 Hessian while its full Hessian has a negative eigenvalue is kept.
    Refining is the same vmapped call as one of ``saddle_study``'s groups,
    so the two share their compiled code.
    """
    split = load_split(dataset)
    x, y = jnp.asarray(split.x_train), jnp.asarray(split.y_train)
    loss_fn = dataset_loss(model, dataset)
    starts = [model.init(jax.random.PRNGKey(i), split.features, split.classes) for i in range(candidates)]
    refined = _all_to_critical(jax.tree.map(lambda *a: jnp.stack(a), *starts), x, y, jnp.zeros(candidates, jnp.int32),
                               0.02, 0.003, model.activation, 400, 1500)
    losses, norms, hessians = (np.asarray(a, np.float64) for a in _critical_summaries(loss_fn, refined))
    if progress:
        progress(0.7)
    for i in range(candidates):
        params = jax.tree.map(lambda a, i=i: a[i], refined)
        h = 0.5 * (hessians[i] + hessians[i].T)
        lam, vectors = np.linalg.eigh(h)
        d1, d2 = (landscape.filter_normalized_direction(params, seed) for seed in (1, 2))
        flat = np.stack([np.asarray(ravel_pytree(d)[0], np.float64) for d in (d1, d2)], axis=1)
        curvatures = np.linalg.eigvalsh(flat.T @ h @ flat)
        signs = hessian.eigenvalue_signs(lam)
        if curvatures.min() > 0 and signs.negative > 0 or i == candidates - 1:
            break
    _, unravel = ravel_pytree(params)
    u = vectors[:, 0] * np.linalg.norm(flat[:, 0])  # as long as d₁, so the two slices share their scale
    escape = unravel(jnp.asarray(u, jnp.float32))
    coords = np.linspace(-span, span, int(resolution))
    random_slice = landscape.loss_surface(loss_fn, params, (d1, d2), (coords, coords))
    escape_slice = landscape.loss_surface(loss_fn, params, (escape, d1), (coords, coords))
    if progress:
        progress(1.0)
    return HiddenBowl(coords, np.asarray(random_slice, np.float64), np.asarray(escape_slice, np.float64), curvatures,
                      lam, hessian.minimum_ratio(lam), signs.negative, float(losses[i]), float(norms[i]), i)
