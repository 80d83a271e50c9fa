"""Lecture 1.4, the minimum-ratio figure (Dauphin et al. 2014): train many small networks from different seeds
for different lengths, walk each to a nearby critical point by minimizing ½‖∇L‖² (which also finds saddles and
maxima), take its full Hessian spectrum and report training loss against the share of positive eigenvalues.
Low-loss critical points are (nearly) minima; high-loss ones are saddles.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

import optimizers
from networks import hessian
from networks.datasets import load_split
from networks.models import MLP, dataset_loss, mlp_loss


class SaddleStudy(NamedTuple):
    train_loss: np.ndarray  # (seeds,) at the refined critical point
    gradient_norm: np.ndarray  # (seeds,) ‖∇L‖ there (how critical it is)
    minimum_ratio: np.ndarray  # (seeds,) share of positive Hessian eigenvalues
    negative: np.ndarray  # (seeds,) number of negative eigenvalues
    parameters: int

    @property
    def true_minima(self) -> int:
        """How many refined points have minimum ratio 1 (every eigenvalue positive)."""
        return int(np.sum(self.minimum_ratio == 1.0))

    @property
    def highest_ratio(self) -> float:
        """The largest minimum ratio among the refined points (1: at least one true minimum)."""
        return float(np.max(self.minimum_ratio))

    @property
    def largest_gradient_norm(self) -> float:
        """max ‖∇L‖ over the refined points: how close to critical the least refined one is."""
        return float(np.max(self.gradient_norm))

    def critical_count(self, tolerance: float) -> int:
        """How many refined points have ‖∇L‖ < ``tolerance``: critical points at that tolerance (the refinement
        stops after a fixed number of steps, so the rest are only near-critical)."""
        return int(np.sum(self.gradient_norm < tolerance))


def _to_critical(params, x, labels, stop, lr, refine_lr, activation, train_steps, refine_steps):
    """Adam on L for ``stop`` steps (of ``train_steps``), then Adam on ½‖∇L‖² for ``refine_steps``."""
    loss = lambda p: mlp_loss(p, x, labels, activation)  # noqa: E731
    grad_norm_sq = lambda p: 0.5 * sum(jnp.sum(g**2) for g in jax.tree.leaves(jax.grad(loss)(p)))  # noqa: E731

    def adam_steps(objective, params, steps, lr, active):
        opt = optimizers.adam(lr)

        def step(carry, t):
            p, state = carry
            updates, state = opt.update(jax.grad(objective)(p), state, p)
            return (jax.tree.map(lambda p, u: p + jnp.where(active(t), u, 0.0), p, updates), state), None

        (p, _), _ = jax.lax.scan(step, (params, opt.init(params)), jnp.arange(steps))
        return p

    params = adam_steps(loss, params, train_steps, lr, lambda t: t < stop)
    return adam_steps(grad_norm_sq, params, refine_steps, refine_lr, lambda t: True)


@partial(jax.jit, static_argnames=("activation", "train_steps", "refine_steps"))
def _all_to_critical(params, x, labels, stops, lr, refine_lr, activation, train_steps, refine_steps):
    """``_to_critical`` for every seed at once (vmapped over the first axis of ``params`` and ``stops``)."""
    return jax.vmap(lambda p, stop: _to_critical(p, x, labels, stop, lr, refine_lr, activation, train_steps,
                                                 refine_steps))(params, stops)


PROGRESS_GROUPS = 3  # fewer, larger vmapped groups run faster (the scan's per-step overhead is shared)


@partial(jax.jit, static_argnames=("loss_fn",))
def _critical_summaries(loss_fn, params):
    """L, ‖∇L‖ and the dense Hessian ∇²L of every seed's parameters (stacked on the first axis), in one call.

    ``jax.hessian`` of the flattened loss: the study's networks are small (n ≲ 100 parameters).
    """
    def one(p):
        flat, unravel = ravel_pytree(p)
        loss = lambda w: loss_fn(unravel(w))  # noqa: E731
        return loss(flat), jnp.linalg.norm(jax.grad(loss)(flat)), jax.hessian(loss)(flat)

    return jax.vmap(one)(params)


def saddle_study(dataset: str = "moons", model: MLP = MLP((6,), "tanh"), seeds: int = 24, train_steps: int = 400,
                 refine_steps: int = 1500, lr: float = 0.02, refine_lr: float = 0.003,
                 progress: Callable[[float], None] | None = None) -> SaddleStudy:
    """Critical points of a small network from ``seeds`` starts, trained for 0 … ``train_steps`` steps each."""
    split = load_split(dataset)
    x, y = jnp.asarray(split.x_train), jnp.asarray(split.y_train)
    loss_fn = dataset_loss(model, dataset)
    stops = np.linspace(0, train_steps, seeds).astype(int)
    n = model.parameter_count(split.features, split.classes)
    starts = [model.init(jax.random.PRNGKey(i), split.features, split.classes) for i in range(seeds)]
    # The seeds train and refine vmapped, in PROGRESS_GROUPS equal groups (one compile; a progress step after each).
    size = -(-seeds // PROGRESS_GROUPS)
    order = [min(i, seeds - 1) for i in range(size * PROGRESS_GROUPS)]  # the last group padded with the last seed
    groups = []
    for k in range(PROGRESS_GROUPS):
        take = order[k * size:(k + 1) * size]
        groups.append(jax.block_until_ready(_all_to_critical(
            jax.tree.map(lambda *a: jnp.stack(a), *[starts[i] for i in take]), x, y, jnp.asarray(stops[take]), lr,
            refine_lr, model.activation, train_steps, refine_steps)))
        if progress:
            progress(0.8 * (k + 1) / PROGRESS_GROUPS)
    refined = jax.tree.map(lambda *a: jnp.concatenate(a)[:seeds], *groups)
    losses, norms, hessians = (np.asarray(a, np.float64) for a in _critical_summaries(loss_fn, refined))
    spectra = np.linalg.eigvalsh(0.5 * (hessians + np.swapaxes(hessians, 1, 2)))
    ratios = [hessian.minimum_ratio(lam) for lam in spectra]
    negatives = [hessian.eigenvalue_signs(lam).negative for lam in spectra]
    if progress:
        progress(1.0)
    return SaddleStudy(losses, norms, np.array(ratios), np.array(negatives), n)
