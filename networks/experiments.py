"""The lecture's experiments on real networks (LECTURES 1.4, 1.5), each one function returning NumPy.

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
"""
from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import optimizers
from networks import hessian, landscape
from networks.datasets import load_split
from networks.models import MLP, dataset_loss, mlp_loss
from networks.training import TrainConfig, TrainResult, train_network


class SaddleStudy(NamedTuple):
    train_loss: np.ndarray  # (seeds,) at the refined critical point
    gradient_norm: np.ndarray  # (seeds,) ‖∇L‖ there (how critical it is)
    minimum_ratio: np.ndarray  # (seeds,) share of positive Hessian eigenvalues
    negative: np.ndarray  # (seeds,) number of negative eigenvalues
    parameters: int


@partial(jax.jit, static_argnames=("activation", "train_steps", "refine_steps"))
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


def saddle_study(dataset: str = "moons", model: MLP = MLP((6,), "tanh"), seeds: int = 24, train_steps: int = 400,
                 refine_steps: int = 1500, lr: float = 0.02, refine_lr: float = 0.003,
                 progress: Callable[[float], None] | None = None) -> SaddleStudy:
    """Critical points of a small network from ``seeds`` starts, trained for 0 … ``train_steps`` steps each."""
    split = load_split(dataset)
    x, y = jnp.asarray(split.x_train), jnp.asarray(split.y_train)
    loss_fn = dataset_loss(model, dataset)
    stops = np.linspace(0, train_steps, seeds).astype(int)
    losses, norms, ratios, negatives = [], [], [], []
    n = model.parameter_count(split.features, split.classes)
    for i in range(seeds):
        params = model.init(jax.random.PRNGKey(i), split.features, split.classes)
        params = _to_critical(params, x, y, int(stops[i]), lr, refine_lr, model.activation, train_steps, refine_steps)
        lam = hessian.hessian_spectrum(loss_fn, params)
        g = jax.grad(loss_fn)(params)
        losses.append(float(loss_fn(params)))
        norms.append(float(np.sqrt(sum(float(jnp.sum(v**2)) for v in jax.tree.leaves(g)))))
        ratios.append(hessian.minimum_ratio(lam))
        negatives.append(hessian.eigenvalue_signs(lam).negative)
        if progress:
            progress((i + 1) / seeds)
    return SaddleStudy(np.array(losses), np.array(norms), np.array(ratios), np.array(negatives), n)


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
