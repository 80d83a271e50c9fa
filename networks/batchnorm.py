"""Batch normalization on a small MLP, with and without, and how smooth the surface is (lecture 2.5).

For each hidden layer's pre-activations z over a batch B:
    μ_B = mean(z),  σ²_B = var(z),  z̃ = (z − μ_B) / sqrt(σ²_B + ε),  ẑ = γ ⊙ z̃ + β,
γ, β learned (start 1 and 0; Ioffe & Szegedy 2015). Training uses the batch's
statistics (train mode) and keeps moving averages μ̄ ← p·μ̄ + (1 − p)·μ_B
(p = 0.9 is PyTorch's momentum 0.1); at test time there is no batch, so eval
mode uses μ̄ and σ̄² instead.

Smoothness along training (Santurkar et al. 2018, §3.1): at step t, on the
step's own batch, move along the gradient by s·η for a range of s and record
  loss range   max_s L(θ − sηg) − min_s L(θ − sηg)
  gradient change   max_s ‖∇L(θ − sηg) − ∇L(θ)‖
— how far the loss, and the gradient, can change within the step.

Training is plain mini-batch SGD over several learning rates at once (vmap),
per-epoch shuffling, in compiled chunks so a caller can show progress.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from networks.datasets import Dataset, digits, standardized_split
from networks.models import accuracy, cross_entropy, init_mlp, initial_moving_averages, mlp_forward, normalization_of
from networks.training import gradient_descent_step
from optimizers.runner import first_bad_step
from optimizers.summary import mean_of_finite

STEP_MULTIPLIERS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)  # the s of the smoothness probes
SMOOTHNESS_MEASURES = ("loss_range", "grad_change", "beta_smoothness")  # BNRun's fields, in the page's order
# Two means of a smoothness measure closer than this (relative to the larger) are "about the same": the runs
# differ by seed-level noise that much (measured on the digits: 2 % between BN and none at η = 0.05).
SMOOTHER_MARGIN = 0.1
# A run whose final training loss is still above this share of ln K (the loss of a uniform guess over K
# classes) did not train: on the digits at η = 2 without BN the loss sits at 2.31 ≈ ln 10, 8.9 % accuracy.
UNTRAINED_SHARE = 0.9


class BNConfig(NamedTuple):
    """Everything that defines one experiment (hashable: it is the cache key)."""

    batch_norm: bool = True
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    lrs: tuple[float, ...] = (0.05, 0.5, 2.0)
    steps: int = 600
    batch_size: int = 64
    momentum_p: float = 0.9  # moving averages μ̄ ← p μ̄ + (1 − p) μ_B
    measure_every: int = 20
    seed: int = 0
    layer_norm: bool = False  # layer normalization instead (batch_norm False): per example, over its units


class BNRun(NamedTuple):
    """Results per learning rate (first axis) for one ``BNConfig``.

    batch_loss: (k, steps) training loss of each step's batch (train mode).
    measured_at: (m,) the steps where the curves below were measured.
    train_loss, test_loss_eval, test_loss_train, test_acc_eval, test_acc_train: (k, m);
      "eval": moving averages μ̄, σ̄² (the test set has no batch); "train": the
      statistics of the test set itself, taken as one batch. Without BN the two agree.
    loss_range, grad_change, beta_smoothness: (k, m) Santurkar's smoothness measures.
    diverged_at: (k,) first step whose batch loss is not finite, −1 if none.
    """

    config: BNConfig
    batch_loss: np.ndarray
    measured_at: np.ndarray
    train_loss: np.ndarray
    test_loss_eval: np.ndarray
    test_loss_train: np.ndarray
    test_acc_eval: np.ndarray
    test_acc_train: np.ndarray
    loss_range: np.ndarray
    grad_change: np.ndarray
    beta_smoothness: np.ndarray
    diverged_at: np.ndarray

    def last_accuracy(self, i: int) -> float:
        """Test accuracy (eval mode) of learning rate i at its last finite measurement; NaN if none."""
        finite = self.test_acc_eval[i][np.isfinite(self.test_acc_eval[i])]
        return float(finite[-1]) if finite.size else float("nan")

    def final_accuracy(self, i: int) -> str:
        """``last_accuracy`` as a percentage; "—" if none."""
        value = self.last_accuracy(i)
        return f"{value:.1%}" if np.isfinite(value) else "—"

    def did_not_train(self, i: int, classes: int) -> bool:
        """True when learning rate i diverged, or its last finite training loss is still above
        ``UNTRAINED_SHARE`` · ln K: cross-entropy starts near ln K (every class equally likely), so a loss
        left there means the network learned (almost) nothing, whatever it did not blow up."""
        finite = self.train_loss[i][np.isfinite(self.train_loss[i])]
        return bool(self.diverged_at[i] >= 0 or not finite.size or finite[-1] > UNTRAINED_SHARE * np.log(classes))

    @property
    def largest_mode_gap(self) -> float:
        """max |accuracy in eval mode − in train mode| over learning rates and measurements (0 without BN)."""
        gap = np.abs(self.test_acc_eval - self.test_acc_train)
        return float(np.nanmax(gap)) if np.isfinite(gap).any() else 0.0

    def mode_gap(self, i: int) -> ModeGap:
        """Train-mode minus eval-mode test accuracy of learning rate i: its mean over the measurements after
        step 0 (where both modes are the untrained network) and at the last finite one (NaN if none).

        Positive: the moving averages μ̄, σ̄² normalize the test images worse than the test set's own
        statistics do — they lag (``moving_average_memory``)."""
        gap = (self.test_acc_train[i] - self.test_acc_eval[i])[self.measured_at > 0]
        at = self.measured_at[self.measured_at > 0]
        finite = np.isfinite(gap)
        if not finite.any():
            return ModeGap(float("nan"), float("nan"), -1)
        return ModeGap(float(np.mean(gap[finite])), float(gap[finite][-1]), int(at[finite][-1]))


class ModeGap(NamedTuple):
    """Train-mode minus eval-mode test accuracy: mean over a run's measurements, and the last one (at ``final_step``)."""

    mean: float
    final: float
    final_step: int


class NormalizationGain(NamedTuple):
    """A network with normalization against the same one without, per learning rate of their (shared) ``lrs``.

    with_norm, without: final test accuracy (eval mode; NaN if none); trained_with, trained_without: not
    ``BNRun.did_not_train``. Ioffe & Szegedy (2015) report that BN trains at far larger η; whether it also
    does better at the same η is what ``ahead`` says, η by η.
    """

    lrs: tuple[float, ...]
    with_norm: tuple[float, ...]
    without: tuple[float, ...]
    trained_with: tuple[bool, ...]
    trained_without: tuple[bool, ...]
    classes: int

    @property
    def chance_loss(self) -> float:
        """ln K: the cross-entropy of a uniform guess over the K classes."""
        return float(np.log(self.classes))

    @property
    def untrained_loss(self) -> float:
        """The final training loss above which a run ``did_not_train``."""
        return UNTRAINED_SHARE * self.chance_loss

    @property
    def chance_accuracy(self) -> float:
        return 1.0 / self.classes

    def _where(self, with_trained: bool, without_trained: bool) -> tuple[int, ...]:
        return tuple(i for i in range(len(self.lrs))
                     if self.trained_with[i] == with_trained and self.trained_without[i] == without_trained)

    @property
    def both_train(self) -> tuple[int, ...]:
        return self._where(True, True)

    @property
    def only_with(self) -> tuple[int, ...]:
        """Learning rates at which only the network with normalization trains: what it tolerates."""
        return self._where(True, False)

    @property
    def only_without(self) -> tuple[int, ...]:
        return self._where(False, True)

    @property
    def neither(self) -> tuple[int, ...]:
        return self._where(False, False)

    @property
    def ahead_where_both_train(self) -> bool:
        """Whether the network with normalization ends ahead at any learning rate where both train."""
        return any(self.ahead(i) == 1 for i in self.both_train)

    def ahead(self, i: int) -> int:
        """+1 if the network with normalization ends with the higher test accuracy at learning rate i, −1 if
        the one without does, 0 if they are level (the same number of test images right)."""
        difference = self.with_norm[i] - self.without[i]
        return 0 if not abs(difference) > 1e-9 else 1 if difference > 0 else -1


def normalization_gain(with_norm: BNRun, without: BNRun, classes: int) -> NormalizationGain:
    """Compare two runs over the same learning rates (``NormalizationGain``); K = ``classes``."""
    k = range(len(with_norm.config.lrs))
    return NormalizationGain(tuple(with_norm.config.lrs), tuple(with_norm.last_accuracy(i) for i in k),
                             tuple(without.last_accuracy(i) for i in k),
                             tuple(not with_norm.did_not_train(i, classes) for i in k),
                             tuple(not without.did_not_train(i, classes) for i in k), int(classes))


class SmoothnessComparison(NamedTuple):
    """One of Santurkar's measures (``SMOOTHNESS_MEASURES``), averaged over training, with and without normalization."""

    measure: str
    with_norm: float
    without: float
    margin: float = SMOOTHER_MARGIN

    @property
    def verdict(self) -> str:
        """"smaller" (smoother with normalization), "larger", or "similar" when the two means differ by less
        than ``margin`` of the larger one (or either is not finite)."""
        a, b = self.with_norm, self.without
        if not (np.isfinite(a) and np.isfinite(b)) or abs(a - b) < self.margin * max(abs(a), abs(b)):
            return "similar"
        return "smaller" if a < b else "larger"

    @property
    def share(self) -> float:
        """|with / without − 1|: how much smaller or larger the measure is with normalization (0.6 = 60 %)."""
        return abs(self.with_norm / self.without - 1.0) if self.without else float("inf")


def compare_smoothness(with_norm: BNRun, without: BNRun, i: int,
                       margin: float = SMOOTHER_MARGIN) -> tuple[SmoothnessComparison, ...]:
    """Santurkar's three measures at learning rate i, each averaged over the measurements that are finite."""
    return tuple(SmoothnessComparison(field, mean_of_finite(getattr(with_norm, field)[i]),
                                      mean_of_finite(getattr(without, field)[i]), margin)
                 for field in SMOOTHNESS_MEASURES)


def moving_average_memory(p: float, steps: int) -> float:
    """The share of its starting value a moving average still holds after ``steps`` updates: p^steps.

    Unrolling μ̄ ← p·μ̄ + (1 − p)·μ_t from μ̄₀ gives
        μ̄_T = p^T μ̄₀ + (1 − p) Σ_{t<T} p^{T−1−t} μ_t,
    a weighted mean of the start (weight p^T) and the batches' statistics (weights summing to 1 − p^T),
    the recent ones weighted most: μ̄ remembers about 1/(1 − p) steps. With μ̄₀ = 0, σ̄²₀ = 1 (PyTorch's
    start) and p = 0.9 the start is gone within ~50 steps (0.9⁵⁰ = 0.5 %); with p = 0.999 it still holds
    0.999⁶⁰⁰ = 55 % after 600 steps, so eval mode normalizes with statistics far from the ones the network
    was trained with (Ioffe & Szegedy 2015, §3.1; PyTorch ``BatchNorm1d``, momentum = 1 − p).
    """
    return float(p) ** int(steps)


def split(data: Dataset, test_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """A fixed shuffled train/test split; features standardized with the training set's mean and std."""
    x_train, y_train, x_test, y_test = standardized_split(data.x, data.y, test_fraction, seed)
    return Dataset(x_train, y_train, data.name + " (train)"), Dataset(x_test, y_test, data.name + " (test)")


def _batch_loss(params, averages, x, labels, activation, momentum_p):
    logits, new_averages = mlp_forward(params, x, activation, averages, True, momentum_p)
    return cross_entropy(logits, labels), new_averages


def _smoothness(params, stats, x, labels, lr, activation, momentum_p):
    """Santurkar's loss range, gradient change and effective β-smoothness along the gradient step, on one batch.

    β = max_s ‖∇L(θ − sηg) − ∇L(θ)‖ / ‖sηg‖: the gradient's Lipschitz constant seen along the step
    (Santurkar et al. 2018, §3.1, fig. 4c).
    """
    loss_of = lambda p: _batch_loss(p, stats, x, labels, activation, momentum_p)[0]  # noqa: E731
    g = jax.grad(loss_of)(params)

    def probe(s):
        moved = jax.tree.map(lambda p, d: p - s * lr * d, params, g)
        value, g2 = jax.value_and_grad(loss_of)(moved)
        change = jnp.sqrt(sum(jnp.sum((a - b) ** 2) for a, b in zip(jax.tree.leaves(g2), jax.tree.leaves(g))))
        return value, change

    multipliers = jnp.asarray(STEP_MULTIPLIERS)
    values, changes = jax.vmap(probe)(multipliers)
    g_norm = jnp.sqrt(sum(jnp.sum(d**2) for d in jax.tree.leaves(g)))
    beta = jnp.max(changes / jnp.maximum(multipliers * lr * g_norm, 1e-30))
    return jnp.max(values) - jnp.min(values), jnp.max(changes), beta


@partial(jax.jit, static_argnames=("activation", "chunk", "every", "batch_size"))
def _train_chunk(params, stats, lrs, x, labels, x_test, y_test, key, first_step, momentum_p,
                 activation, chunk, every, batch_size):
    """``chunk`` SGD steps for every learning rate (vmapped), measuring every ``every`` steps.

    Batches: a fresh permutation of the training set each epoch, the same for
    every learning rate (so the runs differ only by η).
    """
    n = x.shape[0]
    per_epoch = n // batch_size

    def batch_at(t):
        perm = jax.random.permutation(jax.random.fold_in(key, t // per_epoch), n)
        idx = jax.lax.dynamic_slice(perm, ((t % per_epoch) * batch_size,), (batch_size,))
        return x[idx], labels[idx]

    def one_lr(params, stats, lr):
        def step(carry, t):
            params, stats = carry
            bx, by = batch_at(t)
            (loss, new_stats), g = jax.value_and_grad(_batch_loss, has_aux=True)(
                params, stats, bx, by, activation, momentum_p)
            return (gradient_descent_step(params, g, lr), new_stats), loss

        def interval(carry, start):
            params, stats = carry
            bx, by = batch_at(start)
            rng, change, beta = _smoothness(params, stats, bx, by, lr, activation, momentum_p)
            train_logits, _ = mlp_forward(params, x, activation, stats, False)
            eval_logits, _ = mlp_forward(params, x_test, activation, stats, False)
            batch_logits, _ = mlp_forward(params, x_test, activation, stats, True, momentum_p)
            measured = (cross_entropy(train_logits, labels), cross_entropy(eval_logits, y_test),
                        cross_entropy(batch_logits, y_test), accuracy(eval_logits, y_test),
                        accuracy(batch_logits, y_test), rng, change, beta)
            carry, losses = jax.lax.scan(step, (params, stats), start + jnp.arange(every))
            return carry, (losses, measured)

        starts = first_step + every * jnp.arange(chunk // every)
        (params, stats), (losses, measured) = jax.lax.scan(interval, (params, stats), starts)
        return params, stats, losses.reshape(-1), measured

    return jax.vmap(one_lr)(params, stats, lrs)


def train_bn_experiment(data: Dataset, config: BNConfig, progress: Callable[[float], None] | None = None,
                        chunk: int = 100) -> BNRun:
    """Train the MLP (with or without BN) at each learning rate of ``config``; measure along the way.

    Every run starts from the same initial weights and sees the same batches.
    ``progress(fraction)`` is called after each compiled chunk of ``chunk`` steps.
    """
    c = config
    every = int(c.measure_every)
    chunk = max(every, (chunk // every) * every)
    steps = int(np.ceil(c.steps / chunk)) * chunk
    train, test = split(data, seed=c.seed)
    sizes = (train.x.shape[1], *c.hidden, int(data.y.max()) + 1)
    params = init_mlp(jax.random.PRNGKey(c.seed), sizes, normalization_of(c.batch_norm, c.layer_norm))
    stats = initial_moving_averages(params)
    k = len(c.lrs)
    params, stats = jax.tree.map(lambda a: jnp.broadcast_to(a, (k, *a.shape)), (params, stats))
    lrs = jnp.asarray(c.lrs, jnp.float32)
    key = jax.random.PRNGKey(c.seed + 1)
    losses, measured = [], []
    for first in range(0, steps, chunk):
        params, stats, chunk_losses, chunk_measured = _train_chunk(
            params, stats, lrs, train.x, train.y, test.x, test.y, key, first, jnp.float32(c.momentum_p),
            c.activation, chunk, every, c.batch_size)
        losses.append(np.asarray(chunk_losses))
        measured.append([np.asarray(m) for m in chunk_measured])
        if progress:
            progress(min(1.0, (first + chunk) / steps))
    batch_loss = np.concatenate(losses, axis=1)[:, : c.steps]
    columns = [np.concatenate([m[i] for m in measured], axis=1) for i in range(8)]
    at = np.arange(0, steps, every)
    keep = at < c.steps
    diverged = first_bad_step(batch_loss)
    columns = [np.where(at[None, :] >= np.where(diverged >= 0, diverged, c.steps + 1)[:, None], np.nan, col)
               for col in columns]
    return BNRun(c, batch_loss, at[keep], *[col[:, keep] for col in columns], diverged)


def digits_bn_experiment(config: BNConfig, progress: Callable[[float], None] | None = None) -> BNRun:
    """``train_bn_experiment`` on the bundled digits: the Normalization page's run as one module-level
    function of its configuration, so that a worker process can be sent it (``heavy_runs``)."""
    return train_bn_experiment(digits(), config, progress=progress)
