"""The lecture's experiments on real networks (lecture 1.4, 1.5), each one function returning NumPy.

* ``saddle_study`` — Dauphin et al. 2014 / the lecture's "minimum ratio"
  figure: train many small networks from different seeds for different
  lengths, then walk each to a nearby critical point by minimizing the
  gradient norm ½‖∇L‖² (which also finds saddles and maxima), take its full
  Hessian spectrum and report training loss against the share of positive
  eigenvalues. Low-loss critical points are (nearly) minima; high-loss ones
  are saddles.
* ``batch_size_study`` — Keskar et al. 2017: the same network trained with a
  small and a large batch; accuracies, the sharpness (top Hessian eigenvalue)
  of each solution, and train / test loss along the line between them.
* ``batch_gap_study`` — the same comparison over many seeds in one compiled
  call, on the setting where the generalization gap shows here
  (``BATCH_GAP_SETTING``: the two moons), with the gap's spread.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

import optimizers
from networks import hessian, landscape
from networks.datasets import load_split
from networks.models import MLP, accuracy, cross_entropy, dataset_loss, mlp_logits, mlp_loss
from networks.training import TrainConfig, TrainResult, gradient_descent_step, train_network


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


MAX_EPOCHS = 3000


class BatchSizeStudy(NamedTuple):
    small: TrainResult
    large: TrainResult
    sharpness: tuple[float, float]  # top Hessian eigenvalue of the small- and the large-batch solution
    line: np.ndarray  # α along θ_small + α (θ_large − θ_small)
    line_train: np.ndarray
    line_test: np.ndarray


def batch_size_study(config: TrainConfig, small: int = 16, large: int = 1024,
                     progress: Callable[[float], None] | None = None) -> BatchSizeStudy:
    """``config`` trained with batch size ``small`` and ``large`` from the same start; see the module doc.

    Both get the same number of updates (the small batch ``config.epochs``
    epochs, the large one as many epochs as that takes, at most MAX_EPOCHS),
    so the large batch is not simply under-trained.
    """
    step = (lambda lo, hi: (lambda f: progress(lo + (hi - lo) * f))) if progress else (lambda lo, hi: None)
    n = len(load_split(config.dataset).y_train)
    small, large = int(min(small, n)), int(min(large, n))
    updates = config.epochs * (n // small)
    large_epochs = int(min(MAX_EPOCHS, max(config.epochs, np.ceil(updates / (n // large)))))
    a = train_network(config._replace(batch_size=small), progress=step(0.0, 0.45))
    b = train_network(config._replace(batch_size=large, epochs=large_epochs,
                                      record_every=max(1, large_epochs // 50)), progress=step(0.45, 0.9))
    train_fn = dataset_loss(config.model, config.dataset)
    test_fn = dataset_loss(config.model, config.dataset, "test")
    pa = jax.tree.map(jnp.asarray, a.final)
    pb = jax.tree.map(jnp.asarray, b.final)
    sharp = (float(hessian.hessian_top_eigenvalues(train_fn, pa, 1)[0]),
             float(hessian.hessian_top_eigenvalues(train_fn, pb, 1)[0]))
    alpha = np.linspace(-0.5, 1.5, 41)
    direction = landscape.difference(pb, pa)
    line_train = landscape.loss_surface(train_fn, pa, direction, alpha)
    line_test = landscape.loss_surface(test_fn, pa, direction, alpha)
    if progress:
        progress(1.0)
    return BatchSizeStudy(a, b, sharp, alpha, line_train, line_test)


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
            sharpness[b, k] = float(hessian.hessian_top_eigenvalues(train_fn, jax.tree.map(lambda a: a[k], p), 1)[0])
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
        params = jax.tree.map(lambda a: a[i], refined)
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


WARMUP_VARIANTS = (  # (label, optimizer, schedule, schedule parameters): Adam with and without warm-up, and RAdam
    ("Adam, constant η", "adam", "constant", ()),
    ("Adam, constant warm-up (ResNet: η/10 for 100 steps)", "adam", "constant_warmup",
     (("warmup_factor", 0.1), ("warmup_steps", 100.0))),
    ("Adam, linear warm-up over 100 steps", "adam", "warmup_cosine",
     (("decay_steps", 100_000.0), ("end_lr", 0.0), ("warmup_steps", 100.0))),
    ("RAdam (warm-up built in)", "radam", "constant", ()),
)


class WarmupStudy(NamedTuple):
    """Adam on a deep MLP with and without warm-up, and RAdam, over several seeds (``WARMUP_VARIANTS`` order)."""

    labels: tuple  # the variants' labels
    test_accuracy: np.ndarray  # (variants, seeds) at the end
    train_loss: np.ndarray  # (variants, epochs + 1) mean over seeds, per epoch
    first_epoch_move: np.ndarray  # (variants, seeds) ‖θ after the first epoch − θ⁰‖: how far the first steps went
    lr: float
    epochs: int

    @property
    def mean_accuracy(self) -> np.ndarray:
        """(variants,) mean test accuracy over the seeds."""
        return np.nanmean(self.test_accuracy, axis=1)

    def against_plain(self, k: int) -> WarmupGain:
        """Variant k against plain Adam (variant 0), seed by seed: the runs of one seed share their start and
        their batches, so a seed where k is ahead is a like-for-like win."""
        difference = self.test_accuracy[k] - self.test_accuracy[0]
        return WarmupGain(float(100 * (self.mean_accuracy[k] - self.mean_accuracy[0])), int(np.sum(difference > 0)),
                          int(np.sum(difference < 0)), int(difference.size),
                          float(np.nanmean(self.first_epoch_move[k]) / np.nanmean(self.first_epoch_move[0])))

    @property
    def best(self) -> int:
        """The variant with the highest mean test accuracy."""
        return int(np.nanargmax(self.mean_accuracy))

    @property
    def ahead_on_every_seed(self) -> tuple[int, ...]:
        """The variants (besides plain Adam) ahead of plain Adam on every seed."""
        return tuple(k for k in range(1, len(self.labels)) if (g := self.against_plain(k)).seeds_ahead == g.seeds)


class WarmupGain(NamedTuple):
    """One ``WarmupStudy`` variant against plain Adam: mean test accuracy difference in percentage points
    (+2.6: 91.3 % against 88.7 %), on how many seeds it is ahead / behind of how many, and its first-epoch
    move over Adam's."""

    points: float
    seeds_ahead: int
    seeds_behind: int
    seeds: int
    move_ratio: float


def warmup_study(dataset: str = "digits", model: MLP = MLP((64,) * 6, "relu"), lr: float = 0.03, epochs: int = 8,
                 seeds: int = 3, progress: Callable[[float], None] | None = None) -> WarmupStudy:
    """Lecture 2.3: does warm-up help Adam here? Every variant from the same starts, same batches, same η.

    Adam's first step is η·sign(g) in every coordinate (m̂/√v̂ = g/|g| at t = 0),
    so ‖Δθ‖ = η√n however small the gradient: its σ is estimated from one
    gradient. A warm-up keeps those first steps small; RAdam drops σ until
    its estimate's variance is bounded (Liu et al. 2020).
    """
    runs = len(WARMUP_VARIANTS) * seeds
    done = 0
    accuracy, losses, moves = [], [], []
    for label, optimizer, schedule, params in WARMUP_VARIANTS:
        base = TrainConfig(dataset=dataset, model=model, optimizer=optimizer, hyperparams=(("lr", lr),),
                           schedule=schedule, schedule_params=params, batch_size=64, epochs=epochs)
        results = []
        for seed in range(seeds):
            results.append(train_network(base._replace(seed=seed)))
            done += 1
            if progress:
                progress(done / runs)
        accuracy.append([r.test_accuracy[-1] for r in results])
        losses.append(np.mean([r.train_loss for r in results], axis=0))
        moves.append([float(np.linalg.norm(r.path[1] - r.path[0])) if len(r.path) > 1 else np.nan for r in results])
    return WarmupStudy(tuple(v[0] for v in WARMUP_VARIANTS), np.asarray(accuracy, np.float64),
                       np.asarray(losses, np.float64), np.asarray(moves, np.float64), lr, epochs)
