"""Two-parameter models ŷ = f(w, x) + b with an exact error surface, MSE loss (lecture 1.5).

    L(w, b) = (1/N) Σ_i (f(w, x_i) + b − y_i)²

Two models (``MODELS``): the line f = w·x, whose surface is a convex bowl,
and the frequency fit f = sin(w·x), whose surface is not convex: full-batch
gradient descent can settle in a poor local minimum there.

The loss of a mini-batch is the same sum over the batch only, so each batch
has its own surface L_1, L_2, ... with its own critical points: the point where
the full batch's gradient vanishes is not where a batch's does, and a
small-batch run keeps moving — out of the full batch's poor minimum, too
(the lecture's "noisy gradients help optimization"; Bottou, Curtis & Nocedal,
"Optimization Methods for Large-Scale Machine Learning", SIAM Review 2018, §3).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from networks.datasets import Dataset, line_data, sine_data
from networks.training import gradient_descent_step
from optimizers.runner import first_bad_step, mask_after


class RegressionModel(NamedTuple):
    """One two-parameter model ŷ = f(w, x) + b with the data, window and start the Batch size page shows it on."""

    name: str
    formula: str  # LaTeX of ŷ
    feature: Callable  # f(w, x, xp): xp is numpy or jax.numpy
    convex: bool  # is L(w, b) convex for every data set?
    data: Callable[..., Dataset]
    data_args: dict  # how ``data`` is called (the page states these numbers)
    weights: tuple[float, float, int]  # (low, high, count) of the w window
    biases: tuple[float, float, int]
    start: tuple[float, float]


MODELS = {
    "sine": RegressionModel("sine", r"\hat y = \sin(w\,x) + b", lambda w, x, xp=np: xp.sin(w * x), False, sine_data,
                            {"frequency": 2.5, "offset": 0.5, "noise": 0.1},
                            (-1.5, 4.0, 111), (-0.5, 2.0, 101), (0.5, 0.0)),
    "line": RegressionModel("line", r"\hat y = w\,x + b", lambda w, x, xp=np: w * x, True, line_data,
                            {"slope": 1.5, "intercept": -0.5, "noise": 0.8},
                            (-1.5, 4.5, 121), (-3.0, 2.5, 111), (-1.0, 2.0)),
}


def loss_at(data: Dataset, points, model: str = "line") -> np.ndarray:
    """L(w, b) at every row (w, b) of ``points`` (..., 2)."""
    p = np.asarray(points, np.float64)
    residual = MODELS[model].feature(p[..., :1], data.x) + p[..., 1:2] - data.y
    return np.mean(residual**2, axis=-1)


def loss_grid(x, y, ws, bs, model: str = "line") -> np.ndarray:
    """L on the grid ws × bs (rows follow b); for the line from the data's moments (exact and O(grid))."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    W, B = np.meshgrid(np.asarray(ws, np.float64), np.asarray(bs, np.float64))
    if model != "line":
        f = MODELS[model].feature(W[..., None], x)
        return np.mean((f + B[..., None] - y) ** 2, axis=-1)
    xx, x1, xy, y1, yy = np.mean(x * x), np.mean(x), np.mean(x * y), np.mean(y), np.mean(y * y)
    return xx * W**2 + 2 * x1 * W * B + B**2 - 2 * xy * W - 2 * y1 * B + yy


class LossGrid(NamedTuple):
    """The full-batch loss on a grid, in the shape the figure builders read (xs, ys, loss)."""

    xs: np.ndarray  # (k,) values of w
    ys: np.ndarray  # (m,) values of b
    loss: np.ndarray  # (m, k)


def loss_surface(data: Dataset, ws, bs, model: str = "line") -> LossGrid:
    return LossGrid(np.asarray(ws, np.float64), np.asarray(bs, np.float64), loss_grid(data.x, data.y, ws, bs, model))


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
    minimum: np.ndarray | None  # (w, b): the line's least squares, the sine's lowest grid point; None for a curve
    x: np.ndarray  # the batch's examples
    y: np.ndarray
    curve: np.ndarray | None = None  # (len(ws),) b = y − f(w, x) of a single example: its curve of minima (L = 0)


def lowest_point(model: str, x, y, ws, bs, loss: np.ndarray) -> np.ndarray | None:
    """The minimum of one batch's surface: exact least squares for the line, the lowest grid point otherwise.

    None where the minima form a curve (one example, or all x equal).
    """
    if len(x) < 2 or np.ptp(x) < 1e-9:
        return None
    if model == "line":
        return least_squares(x, y)
    i, j = np.unravel_index(np.argmin(loss), loss.shape)
    return np.array([ws[j], bs[i]], np.float64)


def batch_surfaces(data: Dataset, batch_size: int, ws, bs, count: int = 3, seed: int = 0,
                   model: str = "line") -> list[BatchSurface]:
    """The full-batch surface and the first ``count`` mini-batch surfaces of one shuffle."""
    ws, bs = np.asarray(ws, np.float64), np.asarray(bs, np.float64)
    out = []
    for k, idx in enumerate([np.arange(len(data.x))] + batch_partition(len(data.x), batch_size, seed)[:count]):
        x, y = data.x[idx], data.y[idx]
        loss = loss_grid(x, y, ws, bs, model)
        curve = y[0] - MODELS[model].feature(ws, x[0]) if len(x) == 1 else None
        out.append(BatchSurface("full batch L" if k == 0 else f"mini-batch L{k}", loss,
                                lowest_point(model, x, y, ws, bs, loss), x, y, curve))
    return out


class SGDRun(NamedTuple):
    """Mini-batch SGD from one start for several shuffling seeds."""

    path: np.ndarray  # (seeds, updates + 1, 2) parameters (w, b) after every update
    loss: np.ndarray  # (seeds, updates + 1) full-batch loss after every update
    updates_per_epoch: int
    batch_size: int
    diverged_at: np.ndarray  # (seeds,) first update with a non-finite or runaway value, −1 if none


@partial(jax.jit, static_argnames=("batch_size", "epochs", "model"))
def _sgd_scan(x, y, batch_size, epochs, lr, start, seeds, model="line"):
    n = x.shape[0]
    per_epoch = -(-n // batch_size)
    padded = per_epoch * batch_size
    # The last batch of an epoch may be short: pad it and give the padding weight 0.
    weights = (jnp.arange(padded) < n).astype(x.dtype).reshape(per_epoch, batch_size)

    feature = MODELS[model].feature

    def batch_loss(theta, idx, w):
        residual = feature(theta[0], x[idx], jnp) + theta[1] - y[idx]
        return jnp.sum(w * residual**2) / jnp.sum(w)

    batch_gradient = jax.grad(batch_loss)

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


def sgd_paths(data: Dataset, batch_size: int, epochs: int, lr: float, start, seeds=(0,),
              model: str = "line") -> SGDRun:
    """Mini-batch SGD θ ← θ − η ∇L_batch(θ), reshuffled every epoch, one run per seed, in one compiled call.

    Batch size, epochs and the model are static (compiled once per triple);
    learning rate, start and seeds are traced data.
    """
    n = len(data.x)
    batch_size = int(np.clip(batch_size, 1, n))
    seeds = np.asarray(list(seeds), np.uint32)
    path = np.asarray(_sgd_scan(jnp.asarray(data.x, jnp.float32), jnp.asarray(data.y, jnp.float32), batch_size,
                                int(epochs), jnp.float32(lr), jnp.asarray(start, jnp.float32), seeds, model), np.float64)
    diverged_at = first_bad_step(path)
    (path,) = mask_after(diverged_at, path)
    return SGDRun(path, loss_at(data, path, model), -(-n // batch_size), batch_size, diverged_at)


def updates_done(examples, n: int, batch_size: int) -> np.ndarray:
    """How many updates a run with this batch size has made once it has taken ``examples`` examples.

    An epoch is ⌈n/B⌉ updates over a shuffle of the n examples; an update counts once its whole batch is in
    (the epoch's last batch, maybe short, when the epoch's n-th example is):
    updates(e) = ⌊e/n⌋·⌈n/B⌉ + ⌊(e mod n)/B⌋.
    """
    batch_size = int(np.clip(batch_size, 1, n))
    e = np.asarray(examples, np.int64)
    return (e // n) * -(-n // batch_size) + (e % n) // batch_size


class BatchRace(NamedTuple):
    """Several batch sizes' runs on one clock: frame k of every run is after the same number of examples."""

    epoch: np.ndarray  # (frames,) examples seen / n: 0, 1/f, 2/f, … epochs
    examples: np.ndarray  # (frames,) examples every run has taken at the frame
    updates: np.ndarray  # (runs, frames) updates each run has made by then (``updates_done``)
    paths: list[np.ndarray]  # one (seeds, frames, 2) per run: (w, b) at the frame
    losses: list[np.ndarray]  # one (seeds, frames) per run
    frames_per_epoch: int  # f


def batch_race(runs, n: int, epochs: int, max_frames: int) -> BatchRace:
    """The runs of ``sgd_paths`` (one per batch size, same epochs) sampled on a shared clock of examples seen.

    Played update by update, B = 1 takes ⌈n/B⌉ times as many frames as the full batch, and two animations of
    different lengths never show "many noisy updates against few stable ones per epoch" at the same moment.
    Here frames fall every 1/f of an epoch, with f the largest count that keeps epochs·f + 1 ≤ ``max_frames``
    (at least one frame per epoch, never finer than the smallest batch's updates), so at every frame both runs
    have taken the same number of examples.
    """
    finest = max(r.updates_per_epoch for r in runs)
    per_epoch = int(np.clip((max_frames - 1) // max(epochs, 1), 1, finest))
    examples = np.arange(epochs * per_epoch + 1, dtype=np.int64) * n // per_epoch
    updates = np.stack([updates_done(examples, n, r.batch_size) for r in runs])
    return BatchRace(examples / n, examples, updates, [r.path[:, u] for r, u in zip(runs, updates)],
                     [r.loss[:, u] for r, u in zip(runs, updates)], per_epoch)


LEAVE_DISTANCE = 0.5  # a run "has left" the full batch's stall point: this far from it in (w, b) ...
LEAVE_LOSS_RATIO = 0.5  # ... with a full-batch loss below this share of the loss there


class StallReport(NamedTuple):
    """Where full-batch gradient descent ended, and where mini-batch SGD from the same start with the same η ended."""

    point: np.ndarray  # (2,) (w, b) after the full-batch run
    loss: float  # L there
    gradient_norm: float  # ‖∇L‖ there: ≈ 0 means it stalled at a critical point
    hessian_eigenvalues: np.ndarray  # (2,) ascending, of L there: both > 0 a minimum, mixed signs a saddle
    final_loss: np.ndarray  # (seeds,) the full-batch loss L where each mini-batch run ended
    distance: np.ndarray  # (seeds,) ‖θ_end − point‖ of each mini-batch run
    left: np.ndarray  # (seeds,) bool: distance > LEAVE_DISTANCE and final_loss < LEAVE_LOSS_RATIO · loss

    leave_distance = LEAVE_DISTANCE  # the rule behind ``left``, for the text that states it
    leave_loss_ratio = LEAVE_LOSS_RATIO

    @property
    def left_count(self) -> int:
        return int(np.sum(self.left))

    @property
    def final_range(self) -> tuple[float, float]:
        """(lowest, highest) full-batch loss at the ends of the mini-batch runs."""
        return float(np.nanmin(self.final_loss)), float(np.nanmax(self.final_loss))

    @property
    def distance_range(self) -> tuple[float, float]:
        return float(np.nanmin(self.distance)), float(np.nanmax(self.distance))

    @property
    def kind(self) -> str:
        """'minimum', 'saddle' or 'maximum' by the Hessian's eigenvalue signs (after a stall)."""
        low, high = self.hessian_eigenvalues
        return "minimum" if low > 0 else "maximum" if high < 0 else "saddle"


def _full_loss(theta, x, y, model):
    return jnp.mean((MODELS[model].feature(theta[0], x, jnp) + theta[1] - y) ** 2)


_full_gradient = jax.jit(jax.grad(_full_loss), static_argnames="model")
_full_hessian = jax.jit(jax.hessian(_full_loss), static_argnames="model")


def stall_report(data: Dataset, full: SGDRun, small: SGDRun, model: str = "line") -> StallReport:
    """Compare the end of a full-batch run (B = N: plain gradient descent) with the ends of mini-batch runs.

    The full-batch run has stalled when ‖∇L(θ_end)‖ ≈ 0; the Hessian
    ∇²L(θ_end) says at what (minimum, saddle). A mini-batch run has left when
    it ends more than LEAVE_DISTANCE away with less than LEAVE_LOSS_RATIO of
    the stall point's loss. Gradient and Hessian by JAX autodiff of
    L(w, b) = (1/N) Σ (f(w, x_i) + b − y_i)².
    """
    point = full.path[0, -1]
    x, y = jnp.asarray(data.x, jnp.float32), jnp.asarray(data.y, jnp.float32)
    theta = jnp.asarray(point, jnp.float32)
    grad = np.asarray(_full_gradient(theta, x, y, model), np.float64)
    hess = np.asarray(_full_hessian(theta, x, y, model), np.float64)
    loss = float(loss_at(data, point, model))
    ends = small.path[:, -1]
    final_loss = loss_at(data, ends, model)
    distance = np.linalg.norm(ends - point, axis=-1)
    left = (distance > LEAVE_DISTANCE) & (final_loss < LEAVE_LOSS_RATIO * loss)
    return StallReport(point, loss, float(np.linalg.norm(grad)), np.linalg.eigvalsh(0.5 * (hess + hess.T)),
                       final_loss, distance, left)


def batch_gradient_norms(data: Dataset, batches, point, model: str = "line") -> np.ndarray:
    """‖∇L_k(point)‖ for each mini-batch k (index arrays ``batches``): how hard each batch pulls away from ``point``."""
    theta = jnp.asarray(point, jnp.float32)
    return np.array([float(jnp.linalg.norm(_full_gradient(theta, jnp.asarray(data.x[idx], jnp.float32),
                                                          jnp.asarray(data.y[idx], jnp.float32), model)))
                     for idx in batches])
