"""The trajectory runner: ``lax.scan`` over steps, ``vmap`` over trajectories.

One compiled function per (surface, optimizer, schedule, step bucket, batch
bucket, noise on/off), where every typed formula of one program length counts
as one surface (its program is traced data: ``surfaces.interpreter``). Everything a slider sets — learning rate, momentum,
betas, schedule parameters, start points, noise level, seeds — is traced
data, so changing it never recompiles. Step counts and batch sizes are
rounded up to a few fixed buckets (run the bucket, slice the result).

A trajectory stops at the first step whose parameters or loss are not finite
(or leave |θ| < DIVERGENCE_BOUND): from there its path is NaN and
``diverged_at`` holds that step. The others keep running.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import surfaces
from optimizers.registry import get as get_optimizer
from optimizers.registry import get_schedule
from surfaces.compiled_sizes import power_of_two, smallest_size
from surfaces.interpreter import surface_jit

STEP_BUCKETS = (50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
MAX_STEPS = STEP_BUCKETS[-1]
MAX_TRAJECTORIES = 4096
DIVERGENCE_BOUND = 1e6


def step_bucket(steps: int) -> int:
    """The smallest compiled step count ≥ ``steps``."""
    return smallest_size(steps, STEP_BUCKETS, "steps")


def batch_bucket(n: int) -> int:
    """Trajectory counts are padded to a power of two (at least 4)."""
    return power_of_two(n, 4)


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


def _is_registry_name(optimizer) -> bool:
    return isinstance(optimizer, str)


@surface_jit(static_argnames=("optimizer", "schedule", "steps", "noisy", "record"))
def _scan_trajectories(surface, optimizer, schedule, steps, noisy, record, starts, hparams, sparams, noise, seeds):
    """``lax.scan`` over steps; each step moves all n trajectories at once.

    Layout (steps, n, ...) for everything recorded: the scan writes one
    contiguous row per step, and the host transposes with a free view.

    Registry rules are elementwise, so they update the whole (n, 2) batch in
    one go with a single shared step count: Adam's β^t stays a scalar instead
    of n pow() calls per step. Hyperparameters of shape () are shared; arrays
    of shape (n,) are given to each trajectory as an (n, 1) column. Which is
    which is part of the shapes, hence of the compiled signature — never of
    the values. Foreign optimizers (optax) may not be elementwise (global-norm
    clipping mixes coordinates), so they are vmapped per trajectory instead.

    Nothing is frozen inside the loop: trajectories never interact, so a
    diverged one just carries NaN along while the carry remembers the first
    bad step, and the host masks the rest (freezing would add a select over
    the whole state at every step; it measured slower).
    """
    n = starts.shape[0]
    keys = jax.vmap(jax.random.PRNGKey)(seeds)
    value_and_grad = jax.vmap(jax.value_and_grad(surface.loss))
    column = lambda tree: jax.tree.map(lambda a: a[:, None] if jnp.ndim(a) else a, tree)  # noqa: E731
    if _is_registry_name(optimizer):
        spec = get_optimizer(optimizer)
        hp = column(hparams)
        lr_at = get_schedule(schedule).factory(hp["lr"], **column(sparams))
        opt = spec.factory(**{**hp, "lr": lr_at})
        init, update, sigma_of = opt.init, opt.update, opt.sigma
    else:
        lr_at = lambda t: jnp.nan  # noqa: E731 - a foreign optimizer keeps its schedule to itself
        init, update, sigma_of = jax.vmap(optimizer.init), jax.vmap(optimizer.update), None

    def bad(p, value):
        return ~(jnp.isfinite(value) & jnp.all(jnp.isfinite(p) & (jnp.abs(p) < DIVERGENCE_BOUND), axis=-1))

    def step(carry, t):
        p, state, first_bad = carry
        value, g = value_and_grad(p)
        first_bad = jnp.where((first_bad < 0) & bad(p, value), t, first_bad)
        gnorm = jnp.sqrt(jnp.sum(g**2, axis=-1))  # of the true gradient, before any noise
        if noisy:
            g = g + noise[:, None] * jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, t), (2,)))(keys)
        updates, state = update(g, state, p)
        if not record:
            return (p + updates, state, first_bad), p
        lr = jnp.broadcast_to(jnp.reshape(lr_at(t), (-1, 1)), (n, 1))[:, 0]
        sigma = jnp.broadcast_to(sigma_of(state), (n, 2)) if sigma_of else jnp.full((n, 2), jnp.nan)
        return (p + updates, state, first_bad), (p, value, gnorm, lr, sigma)

    # steps + 1 iterations record θ^0 … θ^steps directly (the last update is
    # never used): cheaper than concatenating the final point, which would
    # copy the whole recorded path once more.
    (_, _, first_bad), out = jax.lax.scan(step, (starts, init(starts), jnp.full(n, -1, jnp.int32)),
                                          jnp.arange(steps + 1))
    return (*out, first_bad) if record else (out, first_bad)


def _per_trajectory(values: dict, spec_params, n: int, what: str) -> dict[str, np.ndarray]:
    """Defaults filled in: a scalar stays shape () (shared), a sequence becomes shape (n,)."""
    known = {p.name: p.default for p in spec_params}
    unknown = set(values) - set(known)
    if unknown:
        raise TypeError(f"unknown {what} {sorted(unknown)}; valid: {sorted(known)}")
    out = {}
    for name, default in known.items():
        v = np.asarray(values.get(name, default), dtype=np.float32)
        if v.ndim > 1 or (v.ndim == 1 and len(v) not in (1, n)):
            raise ValueError(f"{what} {name!r} must be a scalar or have length {n}, got shape {v.shape}")
        out[name] = v if v.ndim == 0 else np.broadcast_to(v, (n,)).astype(np.float32)
    return out


def _launch(surface, optimizer, starts, steps: int, record: bool, schedule: str, schedule_params, noise, seed,
            hyperparams):
    """Validate, pad to the buckets, run the compiled scan; returns host arrays (steps first) and n."""
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

    m = batch_bucket(n)
    pad = lambda a: np.concatenate([a, np.repeat(a[:1], m - n, axis=0)]) if (a.ndim and m > n) else a  # noqa: E731
    # NumPy arrays go straight into the jitted call: no eager JAX op per argument.
    out = _scan_trajectories(
        s, optimizer, schedule, bucket, bool(np.any(noise_arr > 0)), record, pad(starts),
        {k: pad(v) for k, v in hp.items()}, {k: pad(v) for k, v in sp.items()}, pad(noise_arr), pad(seeds),
    )
    return [np.asarray(a) for a in out], n, steps


def first_bad_step(path: np.ndarray) -> np.ndarray:
    """Per trajectory of ``path`` (n, steps, ...), the first step that is non-finite or beyond DIVERGENCE_BOUND, −1 if none."""
    a = np.asarray(path).reshape(len(path), np.shape(path)[1], -1)
    bad = ~np.isfinite(a).all(axis=-1) | (np.abs(a) > DIVERGENCE_BOUND).any(axis=-1)
    return np.where(bad.any(axis=1), bad.argmax(axis=1), -1)


def mask_after(first_bad: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """NaN from each trajectory's first bad step on (arrays laid out (n, steps, ...)); copies only if needed."""
    if np.all(first_bad < 0):
        return list(arrays)
    out = []
    for a in arrays:
        a = np.array(a)  # writable copy
        for i, k in enumerate(first_bad):
            if k >= 0:
                a[i, k:] = np.nan
        out.append(a)
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
    """``run_batch`` that also records, at every step, the loss, ‖∇L‖, η^t and σ^t: a ``Trajectories``.

    The runner every page draws from (``run`` and ``run_batch`` return the
    paths alone, which is cheaper). n trajectories in one compiled call.

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
        ``alpha``, ``beta1``, ``beta2``, ``eps``, ...), scalars (shared by all
        trajectories) or length-n arrays (one value each).
    """
    (path, loss, gnorm, lrs, sigma, first_bad), n, steps = _launch(
        surface, optimizer, starts, steps, True, schedule, schedule_params, noise, seed, hyperparams)
    view = lambda a, length: np.swapaxes(a[:length, :n], 0, 1)  # noqa: E731 - (steps, n, ...) -> (n, steps, ...)
    first_bad = first_bad[:n]
    first_bad = np.where(first_bad <= steps, first_bad, -1)
    path, loss, gnorm = mask_after(first_bad, view(path, steps + 1), view(loss, steps + 1), view(gnorm, steps + 1))
    return Trajectories(path, loss, gnorm, view(lrs, steps), view(sigma, steps), first_bad)


def run_batch(surface, optimizer, starts, steps: int, **kwargs) -> np.ndarray:
    """n trajectories in one compiled call: paths of shape (n, steps + 1, 2).

    Each hyperparameter may be a scalar (shared) or an array of length n (one
    value per trajectory), e.g. a sweep over learning rates from one start.
    Records only the path (cheaper than ``trajectories``). A diverging
    trajectory warns "diverged: trajectory i at step k" and is NaN from k on.
    """
    kw = dict(schedule="constant", schedule_params=None, noise=0.0, seed=0)
    kw.update({k: kwargs.pop(k) for k in list(kwargs) if k in kw})
    (path, first_bad), n, steps = _launch(surface, optimizer, starts, steps, False, kw["schedule"],
                                          kw["schedule_params"], kw["noise"], kw["seed"], kwargs)
    first_bad = first_bad[:n]
    first_bad = np.where(first_bad <= steps, first_bad, -1)
    _warn_divergence(first_bad)
    return mask_after(first_bad, np.swapaxes(path[: steps + 1, :n], 0, 1))[0]


def _warn_divergence(diverged_at: np.ndarray) -> None:
    """A RuntimeWarning naming the diverged trajectories and their first bad step."""
    bad = [(i, int(k)) for i, k in enumerate(diverged_at) if k >= 0]
    if bad:
        listed = ", ".join(f"trajectory {i} at step {k}" for i, k in bad[:5])
        warnings.warn(f"diverged: {listed}{' …' if len(bad) > 5 else ''}", RuntimeWarning, stacklevel=4)


def run(surface, optimizer, start, steps: int, **kwargs) -> np.ndarray:
    """One trajectory: NumPy path of shape (steps + 1, 2).

    Keyword arguments as in ``trajectories`` (hyperparameters, ``schedule``,
    ``schedule_params``, ``noise``, ``seed``). A diverging run warns
    "diverged: trajectory 0 at step k" and its path is NaN from step k on.
    """
    return run_batch(surface, optimizer, np.asarray(start, np.float32)[None], steps, **kwargs)[0]


def enable_persistent_cache(directory: str | None = None, max_size: int = -1) -> str:
    """Keep compiled XLA code on disk so a restarted process skips compiles.

    The directory defaults to $ERROR_SURFACE_LAB_CACHE or ~/.cache/error-surface-lab/jax.
    Every compile is kept, however quick: the runner's are ~0.3 s each, which
    is exactly what a restarted server should not pay again. ``max_size``: the
    cache's bound in bytes (JAX evicts the least recently used entries; it
    needs the ``filelock`` package); −1 keeps everything.

    A folder that cannot be created or written (read-only, full, a path under
    a file) leaves the cache off for this process instead of raising: a
    server without its compile cache is slower to warm up, one that crashes at
    import serves nobody. ``persistent_cache_problem()`` then says why.
    """
    directory = directory or os.environ.get(
        "ERROR_SURFACE_LAB_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "error-surface-lab", "jax")
    )
    problem = unwritable_folder_problem(directory)
    if problem:
        disable_persistent_cache(problem)
        return directory
    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", int(max_size))
    return directory


_persistent_cache_problem: str | None = None  # why the compile cache is off in this process (None: it is not)


def unwritable_folder_problem(directory: str) -> str | None:
    """Why ``directory`` cannot hold cache files (created 0700 if missing), or None if it can.

    Writes and removes one small file: a read-only mount lets ``makedirs``
    succeed on an existing folder and fails only on the first write.
    """
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=directory)
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
            os.remove(probe)
    except OSError as error:
        return f"{directory}: {error.strerror or error}"
    return None


def disable_persistent_cache(problem: str) -> None:
    """Turn JAX's persistent compile cache off for the rest of this process (compiles then stay in memory)."""
    global _persistent_cache_problem
    from jax._src import compilation_cache  # private: drops the cache object JAX already opened

    _persistent_cache_problem = _persistent_cache_problem or problem
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()


def persistent_cache_problem() -> str | None:
    """Why the persistent compile cache is off in this process, or None while it is on."""
    return _persistent_cache_problem
