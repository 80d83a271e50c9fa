"""Learning-rate schedules: functions step -> η^t, written with jnp.

Each factory returns ``schedule(t)`` with t the step index starting at 0, so
it can run inside ``lax.scan`` and every parameter may be traced data (moving
a slider never recompiles). Any optimizer's ``lr`` accepts a float or one of
these. References: Loshchilov & Hutter 2017 (SGDR, warm restarts), Vaswani et
al. 2017 §5.3 (the Transformer / Noam warm-up), Goyal et al. 2017 (linear
warm-up), optax's ``schedules`` module.
"""
from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

Schedule = Callable[[jnp.ndarray], jnp.ndarray]


def learning_rate_at(lr, step):
    """η^t for ``lr`` given as a number or a schedule."""
    return lr(step) if callable(lr) else lr


def constant(lr=0.01) -> Schedule:
    r"""η^t = η."""
    return lambda t: lr * jnp.ones_like(jnp.asarray(t, jnp.float32))


def step_decay(lr=0.01, step_size=100, gamma=0.5) -> Schedule:
    r"""η^t = η · γ^{⌊t / step\_size⌋}: multiply by γ every step_size steps."""
    return lambda t: lr * gamma ** jnp.floor(t / step_size)


def exponential_decay(lr=0.01, gamma=0.99) -> Schedule:
    r"""η^t = η · γ^t."""
    return lambda t: lr * gamma ** jnp.asarray(t, jnp.float32)


def inverse_sqrt(lr=0.01) -> Schedule:
    r"""η^t = η / √(t + 1): the decay that turns mean-form Adagrad into sum-form Adagrad."""
    return lambda t: lr / jnp.sqrt(t + 1.0)


def cosine(lr=0.01, decay_steps=500, end_lr=0.0) -> Schedule:
    r"""η^t = η_end + (η − η_end) · ½(1 + cos(π · min(t, T) / T)), T = decay_steps."""

    def schedule(t):
        frac = jnp.minimum(t, decay_steps) / decay_steps
        return end_lr + (lr - end_lr) * 0.5 * (1.0 + jnp.cos(jnp.pi * frac))

    return schedule


def constant_warmup(lr=0.1, warmup_steps=50, warmup_factor=0.1) -> Schedule:
    r"""The ResNet warm-up: a small constant η first, then the full one (He et al. 2016, §4.2).

    η^t = f · η for t < W, then η (W = warmup_steps, f = warmup_factor).
    He et al. trained their 110-layer CIFAR network at 0.01 until the training
    error fell below 80 % (about 400 iterations), then at 0.1: f = 0.1, η = 0.1.
    """
    return lambda t: lr * jnp.where(jnp.asarray(t, jnp.float32) < warmup_steps, warmup_factor, 1.0)


def warmup_cosine(lr=0.01, warmup_steps=50, decay_steps=500, end_lr=0.0) -> Schedule:
    r"""Linear warm-up to η over ``warmup_steps``, then cosine decay to η_end.

    η^t = η · (t + 1) / W for t < W, then the cosine of ``cosine`` over the
    remaining decay_steps − W steps (W = warmup_steps). Small steps first,
    while the statistics of adaptive optimizers settle (RAdam, Liu et al. 2020).
    """

    def schedule(t):
        warm = lr * (t + 1.0) / jnp.maximum(warmup_steps, 1.0)
        length = jnp.maximum(decay_steps - warmup_steps, 1.0)
        frac = jnp.clip((t - warmup_steps) / length, 0.0, 1.0)
        decay = end_lr + (lr - end_lr) * 0.5 * (1.0 + jnp.cos(jnp.pi * frac))
        return jnp.where(t < warmup_steps, warm, decay)

    return schedule


def noam(lr=1.0, d_model=512, warmup_steps=4000) -> Schedule:
    r"""The Transformer's warm-up (Vaswani et al. 2017, eq. 3), times a factor η.

    η^t = η · d_model^{−0.5} · min(s^{−0.5}, s · warmup^{−1.5}), s = t + 1
    (the paper counts steps from 1). η = 1 gives the paper's schedule.
    """

    def schedule(t):
        s = t + 1.0
        return lr * d_model**-0.5 * jnp.minimum(s**-0.5, s * warmup_steps**-1.5)

    return schedule


def warm_restarts(lr=0.01, period=200, mult=1.0, end_lr=0.0) -> Schedule:
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    Cycle i lasts T_i = period · mult^i steps; inside a cycle, with t_cur steps
    done, η^t = η_end + (η − η_end) · ½(1 + cos(π t_cur / T_i)).
    """

    def schedule(t):
        t = jnp.asarray(t, jnp.float32)
        # Cycle index from the geometric series period·(mult^i − 1)/(mult − 1) ≤ t.
        geometric = jnp.abs(mult - 1.0) > 1e-6
        safe_mult = jnp.where(geometric, mult, 2.0)
        i_geo = jnp.floor(jnp.log1p(t * (safe_mult - 1.0) / period) / jnp.log(safe_mult))
        start_geo = period * (safe_mult**i_geo - 1.0) / (safe_mult - 1.0)
        t_cur = jnp.where(geometric, t - start_geo, jnp.mod(t, period))
        length = jnp.where(geometric, period * safe_mult**i_geo, period)
        return end_lr + (lr - end_lr) * 0.5 * (1.0 + jnp.cos(jnp.pi * t_cur / length))

    return schedule
