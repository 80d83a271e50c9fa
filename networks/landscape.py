"""Loss landscapes of real networks: slices through parameter space, evaluated as one compiled batch.

A slice is L(θ + Σ cᵢ dᵢ) over a grid of coordinates c for one or two
directions d (pytrees like θ). Directions:
* ``filter_normalized_direction`` — Li et al. 2018: a Gaussian direction
  whose every filter (a column of a dense layer's W: one output unit) is
  rescaled to the norm of the same filter of θ, so that slices of networks
  with different weight scales are comparable; biases and BN parameters get
  0 (their ``ignore='biasbn'``).
* ``pca_directions`` — the top two principal directions of the training
  path (the checkpoints minus the final point), with the path's coordinates.
* Hessian eigenvectors (``networks.hessian.hessian_extreme_eigenvectors``):
  random slices rarely show saddles (Böttcher & Wheeler 2022); the most
  negative eigenvector does.

Every grid is evaluated by one jitted function: ``lax.map`` over blocks of
points, ``vmap`` inside a block. With more than one JAX device the points are
sharded across all of them (``jax.sharding``).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from networks.models import cross_entropy, mlp_forward

BLOCK = 4  # points evaluated together (vmapped) inside the sequential map: a block's activations must stay in
# cache (16 points of a 1,797 × 64 batch no longer fit); timings: bench/bench_network.py, docs/performance_log.md


def filter_normalized_direction(params, seed: int = 0):
    """A random direction like ``params`` with each filter scaled to the norm of θ's filter (Li et al. 2018, §4).

    2-D leaves (dense weights, (in, out)): per output column j,
    d[:, j] ← d[:, j] · ‖θ[:, j]‖ / ‖d[:, j]‖. Leaves of other ranks (biases,
    γ, β): 0.
    """
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
    out = []
    for key, leaf in zip(keys, leaves):
        leaf = jnp.asarray(leaf)
        if leaf.ndim == 2:
            d = jax.random.normal(key, leaf.shape, leaf.dtype)
            d = d * jnp.linalg.norm(leaf, axis=0, keepdims=True) / jnp.maximum(
                jnp.linalg.norm(d, axis=0, keepdims=True), 1e-12)
            out.append(d)
        else:
            out.append(jnp.zeros_like(leaf))
    return jax.tree.unflatten(treedef, out)


def _grid_points(coords) -> tuple[np.ndarray, tuple[int, ...]]:
    """(P, k) coordinate rows and the output shape: 1-D for one axis, (len(ys), len(xs)) for two."""
    if len(coords) == 1:
        c = np.asarray(coords[0], np.float32)
        return c[:, None], (len(c),)
    xs, ys = (np.asarray(c, np.float32) for c in coords)
    X, Y = np.meshgrid(xs, ys)
    return np.stack([X.ravel(), Y.ravel()], axis=1), (len(ys), len(xs))


def _sharded(points: np.ndarray) -> tuple[jnp.ndarray, int]:
    """Points padded to (devices, per_device, k), sharded over the first axis when JAX has several devices."""
    devices = jax.devices()
    n_dev = len(devices)
    per = -(-len(points) // (n_dev * BLOCK)) * BLOCK
    padded = np.concatenate([points, np.repeat(points[-1:], n_dev * per - len(points), axis=0)])
    arr = padded.reshape(n_dev, per, points.shape[1])
    if n_dev > 1:
        mesh = Mesh(np.asarray(devices), ("points",))
        return jax.device_put(arr, NamedSharding(mesh, PartitionSpec("points"))), len(points)
    return jnp.asarray(arr), len(points)


def _moved(params, directions, c):
    """params + Σ cᵢ dᵢ."""
    return jax.tree.map(lambda p, *ds: p + sum(ci * d for ci, d in zip(c, ds)), params, *directions)


def _over_points(at, points):
    """``at`` at every point: vmap over devices (the sharded axis), map over blocks, vmap inside a block."""
    return jax.vmap(lambda chunk: jax.lax.map(at, chunk, batch_size=BLOCK))(points)


@partial(jax.jit, static_argnames=("loss_fn",))
def _surface(loss_fn, params, directions, points):
    return _over_points(lambda c: loss_fn(_moved(params, directions, c)), points)


def _on_grid(evaluate, directions, coords) -> np.ndarray:
    """Shared by both slices: check the arguments, lay out and shard the points, run ``evaluate(dirs, points)``."""
    if not isinstance(directions, (list, tuple)):
        directions = (directions,)
        coords = (coords,)
    if len(directions) not in (1, 2) or len(coords) != len(directions):
        raise ValueError("give one direction with a 1-D array of coordinates, or two with (xs, ys)")
    points, shape = _grid_points(coords)
    arr, n = _sharded(points)
    return np.asarray(evaluate(tuple(directions), arr)).reshape(-1)[:n].reshape(shape)


def loss_surface(loss_fn: Callable, params, directions, coords) -> np.ndarray:
    """L(params + Σ cᵢ·dᵢ) for every combination of coordinates, in one compiled batched call.

    ``directions``: one pytree (1-D slice) or a sequence of two (2-D slice).
    ``coords``: for one direction a 1-D array of c; for two, (xs, ys) — the
    result is then (len(ys), len(xs)), rows following ys like a contour's z.
    """
    return _on_grid(lambda dirs, points: _surface(loss_fn, params, dirs, points), directions, coords)


@partial(jax.jit, static_argnames=("activation",))
def _mlp_surface(params, directions, x, labels, points, activation):
    """The MLP's loss on a grid with the first layer's product with the data computed once.

    X(W₀ + Σ cᵢ Dᵢ) + (b₀ + Σ cᵢ eᵢ) = (XW₀ + b₀) + Σ cᵢ (XDᵢ + eᵢ): the
    (n × in) × (in × width) products are made once for the grid, and each point
    pays only for an axpy there, then the deeper layers.
    """
    w0, b0 = params["layers"][0]
    base = x @ w0 + b0
    slopes = [x @ d["layers"][0][0] + d["layers"][0][1] for d in directions]

    def at(c):
        moved = _moved(params, directions, c)
        z = base + sum(ci * s for ci, s in zip(c, slopes))
        return cross_entropy(mlp_forward(moved, x, activation, first_preactivation=z)[0], labels)

    return _over_points(at, points)


def mlp_loss_surface(params, x, labels, activation: str, directions, coords) -> np.ndarray:
    """``loss_surface`` for an MLP's full-batch cross-entropy, using the linear first layer (see ``_mlp_surface``)."""
    x, labels = jnp.asarray(x), jnp.asarray(labels)
    return _on_grid(lambda dirs, points: _mlp_surface(params, dirs, x, labels, points, activation), directions, coords)


def pca_directions(path: np.ndarray, params):
    """The top two principal directions of a training path (rows: flat checkpoints; the last is ``params``).

    Returns (d1, d2) as pytrees like ``params`` (unit vectors), the path's
    coordinates (T, 2) in them, and the share of the path's variance each explains
    (always two numbers). A path of one checkpoint (a run that diverged in its
    first epoch keeps only its start) has no second direction: it is a zero
    vector there, and explains 0.
    """
    _, unravel = ravel_pytree(params)
    centered = np.asarray(path, np.float64) - np.asarray(path[-1], np.float64)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    dirs = vt[:2] if len(vt) >= 2 else np.vstack([vt, np.zeros_like(vt)])
    coords = centered @ dirs.T
    explained = np.zeros(2)
    explained[: min(2, len(s))] = (s[:2] ** 2) / max(float(np.sum(s**2)), 1e-30)
    return (unravel(jnp.asarray(dirs[0], jnp.float32)), unravel(jnp.asarray(dirs[1], jnp.float32))), coords, explained


def difference(a, b):
    """a − b for two pytrees of the same structure (the direction from b to a)."""
    return jax.tree.map(lambda x, y: x - y, a, b)
