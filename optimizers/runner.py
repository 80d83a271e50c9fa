"""The trajectory runner: ``lax.scan`` over steps, ``vmap`` over trajectories.

One compiled function per (surface, optimizer, schedule, step bucket, batch
bucket, noise on/off). Everything a slider sets — learning rate, momentum,
betas, schedule parameters, start points, noise level, seeds — is traced
data, so changing it never recompiles. Step counts and batch sizes are
rounded up to a few fixed buckets (run the bucket, slice the result).

A trajectory stops at the first step whose parameters or loss are not finite
(or leave |θ| ≤ DIVERGENCE_BOUND): from there its path is NaN and
``diverged_at`` holds that step. The others keep running.
"""
from __future__ import annotations

import os
import warnings
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import surfaces
from optimizers.registry import get as get_optimizer
from optimizers.registry import get_schedule

STEP_BUCKETS = (50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
MAX_STEPS = STEP_BUCKETS[-1]
MAX_TRAJECTORIES = 4096
DIVERGENCE_BOUND = 1e6


class Trajectories(NamedTuple):
    """Everything recorded along n trajectories of ``steps`` steps.

    path: (n, steps + 1, 2), θ^0 … θ^steps, NaN from ``diverged_at`` on.
    loss: (n, steps + 1), L(θ^t).
    grad_norm: (n, steps + 1), ‖∇L(θ^t)‖ (the true gradient, without noise).
    lr: (n, steps), η^t used at step t (NaN for foreign optimizers).
    sigma: (n, steps, 2), σ^t per parameter for adaptive rules, else NaN.
    diverged_at: (n,), first step with a non-finite or runaway value, −1 if none.
    """

    path: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    sigma: np.ndarray
    diverged_at: np.ndarray


def step_bucket(steps: int) -> int:
    """The smallest compiled step count ≥ ``steps``."""
    for b in STEP_BUCKETS:
        if steps <= b:
            return b
    raise ValueError(f"steps must be at most {MAX_STEPS:,}, got {steps:,}")


def batch_bucket(n: int) -> int:
    """Trajectory counts are padded to a power of two (at least 4)."""
    return max(4, 1 << (int(n) - 1).bit_length())


def _is_registry_name(optimizer) -> bool:
    return isinstance(optimizer, str)


@partial(jax.jit, static_argnames=("surface", "optimizer", "schedule", "steps", "noisy"))
def _scan_trajectories(surface, optimizer, schedule, steps, noisy, starts, hparams, sparams, noise, keys):
    value_and_grad = jax.value_and_grad(surface.loss)
    spec = get_optimizer(optimizer) if _is_registry_name(optimizer) else None

    def one(start, hp, sp, noise_std, key):
        if spec is not None:
            lr_at = get_schedule(schedule).factory(hp["lr"], **sp)
            opt = spec.factory(**{**hp, "lr": lr_at})
        else:  # an optax GradientTransformation or our own Optimizer object
            lr_at, opt = (lambda t: jnp.nan), optimizer

        def step(carry, t):
            p, state, alive = carry
            value, g = value_and_grad(p)
            gnorm = jnp.sqrt(jnp.sum(g**2))
            if noisy:
                g = g + noise_std * jax.random.normal(jax.random.fold_in(key, t), g.shape)
            updates, new_state = opt.update(g, state, p)
            new_p = p + updates
            ok = alive & jnp.isfinite(value) & jnp.all(jnp.isfinite(new_p)) & jnp.all(jnp.abs(new_p) < DIVERGENCE_BOUND)
            keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731 - freeze a diverged path
            carry = (keep(new_p, p), jax.tree.map(keep, new_state, state), ok)
            sigma = spec.sigma(new_state, hp) if (spec is not None and spec.sigma) else jnp.full(2, jnp.nan)
            return carry, (p, value, gnorm, lr_at(t), sigma, alive)

        init = (start, opt.init(start), jnp.array(True))
        (p_last, _, alive_last), (ps, vs, gns, lrs, sigmas, alives) = jax.lax.scan(step, init, jnp.arange(steps))
        v_last, g_last = value_and_grad(p_last)
        path = jnp.concatenate([ps, p_last[None]])
        loss = jnp.concatenate([vs, v_last[None]])
        gnorm = jnp.concatenate([gns, jnp.sqrt(jnp.sum(g_last**2))[None]])
        alive = jnp.concatenate([alives, alive_last[None]])
        return path, loss, gnorm, lrs, sigmas, alive

    return jax.vmap(one)(starts, hparams, sparams, noise, keys)


def _per_trajectory(values: dict, spec_params, n: int, what: str) -> dict[str, np.ndarray]:
    """Defaults filled in, every value broadcast to shape (n,) float32."""
    known = {p.name: p.default for p in spec_params}
    unknown = set(values) - set(known)
    if unknown:
        raise TypeError(f"unknown {what} {sorted(unknown)}; valid: {sorted(known)}")
    out = {}
    for name, default in known.items():
        v = np.asarray(values.get(name, default), dtype=np.float32)
        if v.ndim > 1 or (v.ndim == 1 and len(v) not in (1, n)):
            raise ValueError(f"{what} {name!r} must be a scalar or have length {n}, got shape {v.shape}")
        out[name] = np.broadcast_to(v.reshape(-1) if v.ndim else v, (n,)).astype(np.float32)
    return out


def trajectories(
    surface,
    optimizer,
    starts,
    steps: int,
    *,
    schedule: str = "constant",
    schedule_params: dict | None = None,
    noise: float | Any = 0.0,
    seed: int | Any = 0,
    **hyperparams,
) -> Trajectories:
    """Run n trajectories in one compiled call and record everything.

    Args:
      surface: registry name or ``surfaces.Surface`` record.
      optimizer: registry name (``optimizers.names()``), or any object with
        optax's ``init``/``update`` (an optax GradientTransformation or one of
        our factories' results); such objects are compiled per object.
      starts: (n, 2) start points.
      steps: number of steps, 1 … MAX_STEPS.
      schedule: schedule registry name; ``hyperparams['lr']`` is its η.
      schedule_params: the schedule's parameters (scalars or length-n arrays).
      noise: std of Gaussian noise added to every gradient (scalar or (n,)).
      seed: noise seed (scalar or (n,)).
      **hyperparams: the optimizer's hyperparameters (``lr``, ``momentum``,
        ``alpha``, ``beta1``, ``beta2``, ``eps``, ...), scalars or length n.
    """
    starts = np.asarray(starts, dtype=np.float32)
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(f"starts must have shape (n, 2), got {starts.shape}")
    n = len(starts)
    if not 1 <= n <= MAX_TRAJECTORIES:
        raise ValueError(f"between 1 and {MAX_TRAJECTORIES} trajectories, got {n}")
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    bucket = step_bucket(steps)
    s = surfaces.get(surface)

    if _is_registry_name(optimizer):
        spec = get_optimizer(optimizer)
        hp = _per_trajectory(hyperparams, spec.params, n, "hyperparameter")
        sp = _per_trajectory(schedule_params or {}, get_schedule(schedule).params, n, "schedule parameter")
    else:
        if hyperparams or schedule_params:
            raise TypeError("hyperparameters and schedules belong inside a foreign optimizer object")
        hp, sp, schedule = {}, {}, "constant"

    noise_arr = np.broadcast_to(np.asarray(noise, np.float32), (n,))
    if not np.all(np.isfinite(noise_arr)) or np.any(noise_arr < 0):
        raise ValueError("noise must be finite and ≥ 0")
    seeds = np.broadcast_to(np.asarray(seed, np.uint32), (n,))
    keys = np.asarray(jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds)))

    m = batch_bucket(n)
    pad = lambda a: np.concatenate([a, np.repeat(a[:1], m - n, axis=0)]) if m > n else a  # noqa: E731
    out = _scan_trajectories(
        s, optimizer, schedule, bucket, bool(np.any(noise_arr > 0)),
        jnp.asarray(pad(starts)),
        {k: jnp.asarray(pad(v)) for k, v in hp.items()},
        {k: jnp.asarray(pad(v)) for k, v in sp.items()},
        jnp.asarray(pad(noise_arr)), jnp.asarray(pad(keys)),
    )
    path, loss, gnorm, lrs, sigma, alive = (np.array(a[:n]) for a in out)
    path, loss, gnorm, alive = path[:, : steps + 1], loss[:, : steps + 1], gnorm[:, : steps + 1], alive[:, : steps + 1]
    lrs, sigma = lrs[:, :steps], sigma[:, :steps]
    valid = alive & np.isfinite(loss) & np.all(np.isfinite(path), axis=-1)
    valid = np.logical_and.accumulate(valid, axis=1)
    diverged_at = np.where(valid.all(axis=1), -1, np.argmin(valid, axis=1))
    path[~valid] = np.nan
    loss[~valid] = np.nan
    gnorm[~valid] = np.nan
    return Trajectories(path, loss, gnorm, lrs, sigma, diverged_at)


def _warn_divergence(diverged_at: np.ndarray) -> None:
    bad = [(i, int(k)) for i, k in enumerate(diverged_at) if k >= 0]
    if bad:
        listed = ", ".join(f"trajectory {i} at step {k}" for i, k in bad[:5])
        warnings.warn(f"diverged: {listed}{' …' if len(bad) > 5 else ''}", RuntimeWarning, stacklevel=3)


def run(surface, optimizer, start, steps: int, **kwargs) -> np.ndarray:
    """One trajectory: NumPy path of shape (steps + 1, 2).

    Keyword arguments as in ``trajectories`` (hyperparameters, ``schedule``,
    ``schedule_params``, ``noise``, ``seed``). A diverging run warns
    "diverged: trajectory 0 at step k" and its path is NaN from step k on.
    """
    t = trajectories(surface, optimizer, np.asarray(start, np.float32)[None], steps, **kwargs)
    _warn_divergence(t.diverged_at)
    return t.path[0]


def run_batch(surface, optimizer, starts, steps: int, **kwargs) -> np.ndarray:
    """n trajectories in one compiled call: paths of shape (n, steps + 1, 2).

    Each hyperparameter may be a scalar or an array of length n (one value per
    trajectory), e.g. a sweep over learning rates from one start.
    """
    t = trajectories(surface, optimizer, starts, steps, **kwargs)
    _warn_divergence(t.diverged_at)
    return t.path


def enable_persistent_cache(directory: str | None = None) -> str:
    """Keep compiled XLA code on disk so a restarted process skips compiles.

    The directory defaults to $ERROR_SURFACE_LAB_CACHE or ~/.cache/error-surface-lab/jax.
    Every compile is kept, however quick: the runner's are ~0.3 s each, which
    is exactly what a restarted server should not pay again.
    """
    directory = directory or os.environ.get(
        "ERROR_SURFACE_LAB_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "error-surface-lab", "jax")
    )
    os.makedirs(directory, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory
