"""Lecture 1.5: the small-vs-large batch comparison over many seeds in one compiled call, on the setting where
the generalization gap shows here (``BATCH_GAP_SETTING``: the two moons), with the gap's spread.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from networks import hessian, landscape
from networks.datasets import load_split
from networks.models import MLP, accuracy, cross_entropy, dataset_loss, mlp_logits, mlp_loss
from networks.training import gradient_descent_step


class BatchGapSetting(NamedTuple):
    """Where the small-vs-large batch generalization gap shows on a bundled problem (searched, see below).

    Measured (10 seeds): on the two moons (400 training, 100 test examples,
    label noise from ``noise=0.2``) a 2-64-64-2 ReLU net trained by plain SGD,
    η = 0.3, for 1,000 updates with B = 8 and with the full batch B = 400:
    the full batch fits the training set better and the test set worse, and
    its solution is about ten times sharper. On the digits, iris, wine and
    breast cancer both batches reach the same test accuracy within the seeds'
    spread (digits, 64-64: 98.2 ± 0.6 % against 98.1 ± 0.6 %).
    """

    dataset: str = "moons"
    hidden: tuple = (64, 64)
    activation: str = "relu"
    lr: float = 0.3
    small: int = 8
    large: int = 0  # 0: the full training set (plain gradient descent)
    updates: int = 1000  # the same number of updates for both (Keskar et al. train both to convergence)
    seeds: int = 10


BATCH_GAP_SETTING = BatchGapSetting()
GAP_CHUNKS = 20  # the training runs in this many compiled chunks, so a progress bar can move


class BatchGapStudy(NamedTuple):
    """Small against large batch over seeds: row 0 is the small batch, row 1 the large one."""

    batch_sizes: np.ndarray  # (2,) the small and the large batch size
    train_accuracy: np.ndarray  # (2, seeds)
    test_accuracy: np.ndarray  # (2, seeds)
    train_loss: np.ndarray  # (2, seeds)
    test_loss: np.ndarray  # (2, seeds)
    sharpness: np.ndarray  # (2, seeds) the top Hessian eigenvalue λmax of the training loss at each solution
    line: np.ndarray  # α along θ_small + α (θ_large − θ_small), for seed 0
    line_train: np.ndarray
    line_test: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """(seeds,) test accuracy of the small batch minus the large batch's, same seed (same start)."""
        return self.test_accuracy[0] - self.test_accuracy[1]

    @property
    def gap_mean(self) -> float:
        return float(np.mean(self.gap))

    @property
    def gap_spread(self) -> float:
        """The sample standard deviation of the per-seed gaps."""
        return float(np.std(self.gap, ddof=1)) if self.gap.size > 1 else 0.0

    @property
    def gap_error(self) -> float:
        """The standard error of the mean gap, spread / √seeds."""
        return self.gap_spread / np.sqrt(self.gap.size)

    def line_at(self, alpha: float) -> tuple[float, float]:
        """(train, test) loss on the line at the sampled α nearest ``alpha``."""
        i = int(np.argmin(np.abs(self.line - alpha)))
        return float(self.line_train[i]), float(self.line_test[i])

    @property
    def sharpness_ratio(self) -> float:
        """Mean λmax of the large-batch solutions over the small-batch ones'."""
        return float(np.mean(self.sharpness[1]) / np.mean(self.sharpness[0]))

    @property
    def small_ahead(self) -> tuple[int, int, int]:
        """How many seeds the small batch is ahead in, tied in, behind in (test accuracy)."""
        g = np.round(self.gap, 6)
        return int(np.sum(g > 0)), int(np.sum(g == 0)), int(np.sum(g < 0))

    @property
    def mean(self) -> dict:
        """Per quantity, (small, large) means over the seeds."""
        return {name: tuple(float(v) for v in getattr(self, name).mean(axis=1))
                for name in ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "sharpness")}

    @property
    def spread(self) -> dict:
        """Per quantity, (small, large) sample standard deviations over the seeds."""
        return {name: tuple(float(v) for v in getattr(self, name).std(axis=1, ddof=1))
                for name in ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "sharpness")}


@partial(jax.jit, static_argnames=("activation", "batch_size", "steps"))
def _sgd_chunk(params, keys, start, x, labels, lr, activation, batch_size, steps):
    """``steps`` mini-batch SGD updates from update ``start`` for a stack of networks (one per key), vmapped.

    Each network reshuffles the training set at every epoch with its own key
    (``jax.random.fold_in(key, epoch)``) and takes the epoch's batches in order.
    """
    n = x.shape[0]
    per_epoch = n // batch_size

    def one(params, key):
        def update(params, t):
            perm = jax.random.permutation(jax.random.fold_in(key, t // per_epoch), n)
            idx = jax.lax.dynamic_slice(perm, ((t % per_epoch) * batch_size,), (batch_size,))
            grads = jax.grad(mlp_loss)(params, x[idx], labels[idx], activation)
            return gradient_descent_step(params, grads, lr), None

        return jax.lax.scan(update, params, start + jnp.arange(steps))[0]

    return jax.vmap(one)(params, keys)


@partial(jax.jit, static_argnames=("activation",))
def _measure_stack(params, x, labels, activation):
    def one(p):
        logits = mlp_logits(p, x, activation)
        return cross_entropy(logits, labels), accuracy(logits, labels)

    return jax.vmap(one)(params)


def batch_gap_study(setting: BatchGapSetting = BATCH_GAP_SETTING,
                    progress: Callable[[float], None] | None = None) -> BatchGapStudy:
    """Keskar et al. (ICLR 2017) over ``setting.seeds`` seeds: plain SGD θ ← θ − η ∇L_B(θ) with a small and a large B.

    Seed k gives both runs the same start (He initialisation from key k) and
    the same number of updates; the measures are the final train / test
    accuracy and cross-entropy, the sharpness λmax(∇²L_train) (Lanczos,
    ``hessian.hessian_top_eigenvalues``) and, for seed 0, the train and test
    loss on θ(α) = (1 − α) θ_small + α θ_large, α ∈ [−0.5, 1.5] (their Fig. 3).

    Reference: N. S. Keskar, D. Mudigere, J. Nocedal, M. Smelyanskiy, P. T. P.
    Tang, "On Large-Batch Training for Deep Learning: Generalization Gap and
    Sharp Minima", ICLR 2017.
    """
    report = progress or (lambda f: None)
    split = load_split(setting.dataset)
    model = MLP(tuple(setting.hidden), setting.activation)
    x, y = jnp.asarray(split.x_train), jnp.asarray(split.y_train)
    xt, yt = jnp.asarray(split.x_test), jnp.asarray(split.y_test)
    n = len(split.y_train)
    sizes = [int(min(setting.small, n)), int(min(setting.large or n, n))]
    seeds = jnp.arange(setting.seeds)
    start = jax.vmap(lambda k: model.init(jax.random.PRNGKey(k), split.features, split.classes))(seeds)
    keys = jax.vmap(lambda k: jax.random.PRNGKey(k + 1))(seeds)
    chunk = -(-setting.updates // GAP_CHUNKS)
    finals = []
    for b, batch_size in enumerate(sizes):
        params, done = start, 0
        while done < setting.updates:
            steps = min(chunk, setting.updates - done)
            params = _sgd_chunk(params, keys, done, x, y, jnp.float32(setting.lr), setting.activation, batch_size,
                                steps)
            done += steps
            jax.block_until_ready(params)  # the bar follows the work, not JAX's asynchronous dispatch
            report(0.8 * (b * setting.updates + done) / (2 * setting.updates))
        finals.append(params)
    train = [_measure_stack(p, x, y, setting.activation) for p in finals]
    test = [_measure_stack(p, xt, yt, setting.activation) for p in finals]
    train_fn = dataset_loss(model, setting.dataset)
    test_fn = dataset_loss(model, setting.dataset, "test")
    sharpness = np.zeros((2, setting.seeds))
    for b, p in enumerate(finals):
        for k in range(setting.seeds):
            sharpness[b, k] = float(hessian.hessian_top_eigenvalues(train_fn, jax.tree.map(lambda a, k=k: a[k], p), 1)[0])
            report(0.8 + 0.15 * (b * setting.seeds + k + 1) / (2 * setting.seeds))
    small0, large0 = (jax.tree.map(lambda a: a[0], p) for p in finals)
    alpha = np.linspace(-0.5, 1.5, 41)
    direction = landscape.difference(large0, small0)
    line_train = landscape.loss_surface(train_fn, small0, direction, alpha)
    line_test = landscape.loss_surface(test_fn, small0, direction, alpha)
    report(1.0)
    as_rows = lambda pair, i: np.array([np.asarray(pair[0][i], np.float64), np.asarray(pair[1][i], np.float64)])  # noqa: E731
    return BatchGapStudy(np.array(sizes), as_rows(train, 1), as_rows(test, 1), as_rows(train, 0), as_rows(test, 0),
                         sharpness, alpha, np.asarray(line_train, np.float64), np.asarray(line_test, np.float64))
