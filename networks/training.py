"""Train an MLP on a bundled dataset with any optimizer and schedule from ``optimizers``, recording the path.

Mini-batch training with a fresh shuffle every epoch (the last short batch is
dropped); one compiled function runs a whole epoch (``lax.scan`` over its
steps) and is reused for every epoch, seed and hyperparameter value — the
optimizer's numbers and the schedule's are traced data, as in the trajectory
runner. After every ``record_every`` epochs the flat parameters are kept
(the path the PCA slice is drawn along) and train / test loss and accuracy
are measured on the full sets; with ``record_steps`` = k the parameters are
also kept every k updates inside each epoch, with their training loss. Batch normalization uses the batch's
statistics in training and, for the measurements, the full set's (the same
function ``models.dataset_loss`` gives the landscape and the Hessian).
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
from networks.datasets import load_split
from networks.models import MLP, accuracy, cross_entropy, mlp_logits, mlp_loss


def gradient_descent_step(params, grads, lr):
    """θ ← θ − η g on any pytree: ``optimizers.gd``'s update, applied (the rule is written once, there)."""
    rule = optimizers.gd(lr)
    updates, _ = rule.update(grads, rule.init(params), params)
    return jax.tree.map(jnp.add, params, updates)


@partial(jax.jit, donate_argnums=0)
def sgd_step(params, x, labels, lr):
    """One update θ ← θ − η ∇L_batch(θ) of a ReLU MLP on (x, labels); compiled once per batch shape."""
    return gradient_descent_step(params, jax.grad(mlp_loss)(params, x, labels), lr)


class TrainConfig(NamedTuple):
    """Everything that defines a training run (hashable: it is the cache key)."""

    dataset: str = "digits"
    model: MLP = MLP()
    optimizer: str = "adam"
    hyperparams: tuple = (("lr", 0.01),)
    schedule: str = "constant"
    schedule_params: tuple = ()
    batch_size: int = 64
    epochs: int = 20
    seed: int = 0
    record_every: int = 1  # measure train / test loss and accuracy every this many epochs
    record_steps: int = 0  # > 0: also keep the parameters every this many updates within each epoch


class TrainResult(NamedTuple):
    config: TrainConfig
    initial: dict  # parameters (NumPy pytree) before training
    final: dict  # after training (last finite checkpoint)
    path: np.ndarray  # (checkpoints, n) flat parameters, the first at step 0, the last the final ones
    path_steps: np.ndarray  # (checkpoints,) the update count of each path row
    path_loss: np.ndarray  # (checkpoints,) full training loss at each path row
    epochs: np.ndarray  # (measurements,) the epoch of each measurement below
    train_loss: np.ndarray  # (measurements,)
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    diverged_at: int  # first epoch with a non-finite loss, −1 if none


@partial(jax.jit, static_argnames=("optimizer", "schedule", "activation", "batch_size", "record_steps"))
def _epoch(params, opt_state, x, labels, key, epoch, hp, sp, optimizer, schedule, activation, batch_size,
           record_steps=0):
    """One epoch; with ``record_steps`` = k > 0 also the flat parameters after updates k, 2k, … of the epoch.

    The k-step groups are an inner scan inside an outer one that keeps only
    their ends, so memory grows with the checkpoints, not with the updates.
    """
    spec = optimizers.get(optimizer)
    lr = optimizers.get_schedule(schedule).factory(hp["lr"], **sp)
    opt = spec.factory(**{**hp, "lr": lr})
    n = x.shape[0]
    order = jax.random.permutation(jax.random.fold_in(key, epoch), n)
    batches = order[: (n // batch_size) * batch_size].reshape(-1, batch_size)

    def step(carry, idx):
        params, state = carry
        loss, grads = jax.value_and_grad(mlp_loss)(params, x[idx], labels[idx], activation)
        updates, state = opt.update(grads, state, params)
        return (jax.tree.map(jnp.add, params, updates), state), loss

    k = record_steps
    if k <= 0 or k > batches.shape[0]:
        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), batches)
        return params, opt_state, losses, jnp.zeros((0, ravel_pytree(params)[0].size), jnp.float32)
    groups = batches.shape[0] // k

    def group(carry, idx):
        carry, losses = jax.lax.scan(step, carry, idx)
        return carry, (losses, ravel_pytree(carry[0])[0])

    carry, (losses, kept) = jax.lax.scan(group, (params, opt_state), batches[: groups * k].reshape(groups, k, -1))
    carry, rest = jax.lax.scan(step, carry, batches[groups * k:])
    return carry[0], carry[1], jnp.concatenate([losses.reshape(-1), rest]), kept


@partial(jax.jit, static_argnames=("optimizer",))
def _init_state(params, hp, optimizer):
    return optimizers.get(optimizer).factory(**hp).init(params)


@partial(jax.jit, static_argnames=("activation",))
def _measure(params, x, labels, activation):
    logits = mlp_logits(params, x, activation)
    return cross_entropy(logits, labels), accuracy(logits, labels)


def train_network(config: TrainConfig, progress: Callable[[float], None] | None = None) -> TrainResult:
    """Train ``config.model`` on ``config.dataset``; ``progress(fraction)`` after every epoch."""
    c = config
    split = load_split(c.dataset)
    x, y = jnp.asarray(split.x_train), jnp.asarray(split.y_train)
    xt, yt = jnp.asarray(split.x_test), jnp.asarray(split.y_test)
    batch = int(min(max(1, c.batch_size), len(split.y_train)))
    spec = optimizers.get(c.optimizer)
    hp = {p.name: jnp.float32(dict(c.hyperparams).get(p.name, p.default)) for p in spec.params}
    sp = {p.name: jnp.float32(dict(c.schedule_params).get(p.name, p.default))
          for p in optimizers.get_schedule(c.schedule).params}
    params = c.model.init(jax.random.PRNGKey(c.seed), split.features, split.classes)
    initial = jax.tree.map(np.asarray, params)
    state = _init_state(params, hp, c.optimizer)
    key = jax.random.PRNGKey(c.seed + 1)

    rows, row_steps, measured, at_epoch = [], [], [], []
    per_epoch = len(split.y_train) // batch
    _, unravel = ravel_pytree(params)

    def record(epoch, params):
        rows.append(np.asarray(ravel_pytree(params)[0]))
        row_steps.append(epoch * per_epoch)
        tr = _measure(params, x, y, c.model.activation)
        te = _measure(params, xt, yt, c.model.activation)
        measured.append([float(tr[0]), float(te[0]), float(tr[1]), float(te[1])])
        at_epoch.append(epoch)

    record(0, params)
    diverged = -1
    last_good = params
    for epoch in range(1, c.epochs + 1):
        params, state, losses, kept = _epoch(params, state, x, y, key, epoch, hp, sp, c.optimizer, c.schedule,
                                             c.model.activation, batch, int(c.record_steps))
        if not np.all(np.isfinite(np.asarray(losses))):
            diverged = epoch
            break
        last_good = params
        for j, row in enumerate(np.asarray(kept)):
            if (j + 1) * c.record_steps < per_epoch:  # the epoch's end is recorded below, when measured
                rows.append(row)
                row_steps.append((epoch - 1) * per_epoch + (j + 1) * c.record_steps)
        if epoch % max(1, c.record_every) == 0 or epoch == c.epochs:
            record(epoch, params)
        elif c.record_steps > 0:
            rows.append(np.asarray(ravel_pytree(params)[0]))
            row_steps.append(epoch * per_epoch)
        if progress:
            progress(epoch / c.epochs)
    m = np.asarray(measured, np.float64)
    path = np.stack(rows)
    path_loss = np.asarray(_path_losses(jnp.asarray(path), unravel, x, y, c.model.activation), np.float64)
    return TrainResult(c, initial, jax.tree.map(np.asarray, last_good), path, np.asarray(row_steps), path_loss,
                       np.asarray(at_epoch), m[:, 0], m[:, 1], m[:, 2], m[:, 3], diverged)


@partial(jax.jit, static_argnames=("unravel", "activation"))
def _path_losses(path, unravel, x, labels, activation):
    return jax.lax.map(lambda row: mlp_loss(unravel(row), x, labels, activation), path, batch_size=8)


def lab_config(dataset: str, model: MLP, optimizer: str, hyperparams: dict, schedule: str, schedule_params: dict,
               batch_size: int, epochs: int, seed: int, path_points: int = 150, curve_points: int = 50) -> TrainConfig:
    """The Network lab's training run: about ``curve_points`` train/test measurements and ``path_points`` kept
    parameter checkpoints (the PCA slice's path) over the whole run, whatever its length.
    """
    n_train = len(load_split(dataset).y_train)
    updates_per_epoch = max(1, n_train // min(batch_size, n_train))
    record_steps = -(-epochs * updates_per_epoch // path_points)  # ceil: at most path_points checkpoints
    return TrainConfig(dataset, model, optimizer, tuple(sorted(hyperparams.items())), schedule,
                       tuple(sorted(schedule_params.items())), batch_size, epochs, seed,
                       max(1, epochs // curve_points), record_steps if record_steps < updates_per_epoch else 0)


# The rate behind ``training_estimate``, from the Network lab's largest configuration (a 4 × 256 MLP on the digits
# at batch 1 for 200 epochs) trained on the project's 2-core machine (docs/deployment.md, "The 30-second rule").
# Small runs pay a few seconds of compiling first.
PARAMETER_UPDATES_PER_SECOND = 4e8
COMPILE_SECONDS = 3.0


def training_estimate(config: TrainConfig) -> tuple[int, int, float]:
    """(updates, parameters, estimated seconds) of training ``config``: compile + updates × parameters / rate."""
    split = load_split(config.dataset)
    n_train = len(split.y_train)
    updates = config.epochs * max(1, -(-n_train // min(config.batch_size, n_train)))
    parameters = config.model.parameter_count(split.features, split.classes)
    return updates, parameters, COMPILE_SECONDS + updates * parameters / PARAMETER_UPDATES_PER_SECOND


def as_jax_params(tree):
    """A parameter pytree stored as NumPy (a cached result) as JAX arrays again."""
    return jax.tree.map(jnp.asarray, tree)
