"""A 2-parameter model with an exact error surface: ŷ = w·x + b, MSE loss (LECTURES 1.5).

    L(w, b) = (1/N) Σ_i (w x_i + b − y_i)²

The loss of a mini-batch is the same sum over the batch only, so each batch
has its own surface L_1, L_2, ... with its own minimum: the point where one
batch's gradient vanishes is not where another's does, and a small-batch run
keeps moving.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from networks.datasets import Dataset
from networks.training import gradient_descent_step
from optimizers.runner import first_bad_step, mask_after


def loss_at(data: Dataset, points) -> np.ndarray:
    """L(w, b) at every row (w, b) of ``points`` (..., 2)."""
    p = np.asarray(points, np.float64)
    residual = p[..., :1] * data.x + p[..., 1:2] - data.y
    return np.mean(residual**2, axis=-1)


def loss_grid(x, y, ws, bs) -> np.ndarray:
    """L on the grid ws × bs (rows follow b), from the data's moments: exact and O(grid)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    W, B = np.meshgrid(np.asarray(ws, np.float64), np.asarray(bs, np.float64))
    xx, x1, xy, y1, yy = np.mean(x * x), np.mean(x), np.mean(x * y), np.mean(y), np.mean(y * y)
    return xx * W**2 + 2 * x1 * W * B + B**2 - 2 * xy * W - 2 * y1 * B + yy


class LossGrid(NamedTuple):
    """The full-batch loss on a grid, in the shape the figure builders read (xs, ys, loss)."""

    xs: np.ndarray  # (k,) values of w
    ys: np.ndarray  # (m,) values of b
    loss: np.ndarray  # (m, k)


def loss_surface(data: Dataset, ws, bs) -> LossGrid:
    return LossGrid(np.asarray(ws, np.float64), np.asarray(bs, np.float64), loss_grid(data.x, data.y, ws, bs))


def least_squares(x, y) -> np.ndarray | None:
    """The minimum (w, b) of the batch's MSE, or None when it is a whole line (all x equal, e.g. one example).

    Normal equations [[Σx², Σx], [Σx, n]] (w, b)ᵀ = (Σxy, Σy)ᵀ.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or np.ptp(x) < 1e-9:
        return None
    a = np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), len(x)]])
    return np.linalg.solve(a, np.array([np.sum(x * y), np.sum(y)]))


def batch_partition(n: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """One epoch's mini-batches: a shuffle of 0 … n−1 cut into pieces of ``batch_size`` (the last may be smaller)."""
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


class BatchSurface(NamedTuple):
    label: str  # "full batch", "L1", ...
    loss: np.ndarray  # (len(bs), len(ws))
    minimum: np.ndarray | None  # (w, b), or None for a line of minima
    x: np.ndarray  # the batch's examples, for drawing a line of minima
    y: np.ndarray


def batch_surfaces(data: Dataset, batch_size: int, ws, bs, count: int = 3, seed: int = 0) -> list[BatchSurface]:
    """The full-batch surface and the first ``count`` mini-batch surfaces of one shuffle."""
    out = [BatchSurface("full batch L", loss_grid(data.x, data.y, ws, bs), least_squares(data.x, data.y),
                        data.x, data.y)]
    for k, idx in enumerate(batch_partition(len(data.x), batch_size, seed)[:count], 1):
        x, y = data.x[idx], data.y[idx]
        out.append(BatchSurface(f"mini-batch L{k}", loss_grid(x, y, ws, bs), least_squares(x, y), x, y))
    return out


class SGDRun(NamedTuple):
    """Mini-batch SGD from one start for several shuffling seeds."""

    path: np.ndarray  # (seeds, updates + 1, 2) parameters (w, b) after every update
    loss: np.ndarray  # (seeds, updates + 1) full-batch loss after every update
    updates_per_epoch: int
    batch_size: int
    diverged_at: np.ndarray  # (seeds,) first update with a non-finite or runaway value, −1 if none


@partial(jax.jit, static_argnames=("batch_size", "epochs"))
def _sgd_scan(x, y, batch_size, epochs, lr, start, seeds):
    n = x.shape[0]
    per_epoch = -(-n // batch_size)
    padded = per_epoch * batch_size
    # The last batch of an epoch may be short: pad it and give the padding weight 0.
    weights = (jnp.arange(padded) < n).astype(x.dtype).reshape(per_epoch, batch_size)

    def batch_gradient(theta, idx, w):
        residual = theta[0] * x[idx] + theta[1] - y[idx]
        scale = 2.0 * w / jnp.sum(w)
        return jnp.stack([jnp.sum(scale * residual * x[idx]), jnp.sum(scale * residual)])

    def one_seed(seed):
        key = jax.random.PRNGKey(seed)

        def epoch(theta, e):
            perm = jax.random.permutation(jax.random.fold_in(key, e), n)  # shuffle between epochs
            idx = jnp.concatenate([perm, perm[: padded - n]]).reshape(per_epoch, batch_size)

            def update(theta, batch):
                theta = gradient_descent_step(theta, batch_gradient(theta, *batch), lr)
                return theta, theta

            return jax.lax.scan(update, theta, (idx, weights))

        _, thetas = jax.lax.scan(epoch, start, jnp.arange(epochs))
        return jnp.concatenate([start[None], thetas.reshape(-1, 2)])

    return jax.vmap(one_seed)(seeds)


def sgd_paths(data: Dataset, batch_size: int, epochs: int, lr: float, start, seeds=(0,)) -> SGDRun:
    """Mini-batch SGD θ ← θ − η ∇L_batch(θ), reshuffled every epoch, one run per seed, in one compiled call.

    Batch size and epochs are sizes (compiled once per pair); learning rate,
    start and seeds are traced data.
    """
    n = len(data.x)
    batch_size = int(np.clip(batch_size, 1, n))
    seeds = np.asarray(list(seeds), np.uint32)
    path = np.asarray(_sgd_scan(jnp.asarray(data.x, jnp.float32), jnp.asarray(data.y, jnp.float32), batch_size,
                                int(epochs), jnp.float32(lr), jnp.asarray(start, jnp.float32), seeds), np.float64)
    diverged_at = first_bad_step(path)
    (path,) = mask_after(diverged_at, path)
    return SGDRun(path, loss_at(data, path), -(-n // batch_size), batch_size, diverged_at)
