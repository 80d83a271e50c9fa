"""Time per update and per epoch against batch size, measured on the device JAX runs on (lecture 1.5).

With parallel hardware one update costs about the same for a batch of 1 as
for a batch of hundreds, so larger batches finish an epoch (ceil(N/B)
updates) much sooner. On a CPU the time per update grows earlier.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from networks.datasets import digits
from networks.models import init_mlp
from networks.training import sgd_step


class BatchTiming(NamedTuple):
    batch_sizes: np.ndarray  # (k,)
    seconds_per_update: np.ndarray  # (k,) median over repeats, compile excluded
    updates_per_epoch: np.ndarray  # (k,) ceil(N / B)
    seconds_per_epoch: np.ndarray  # (k,) updates_per_epoch × seconds_per_update
    examples: int  # N
    device: str


def update_times(batch_sizes=(1, 4, 16, 64, 256, 1024), repeats: int = 30,
                 progress: Callable[[float, str], None] | None = None) -> BatchTiming:
    """Median wall time of one jitted SGD update of a 64-32-10 MLP on scikit-learn's digits, per batch size.

    Each batch size is compiled and warmed up first; then ``repeats`` updates
    are timed one by one, each waited for (``block_until_ready``), so the
    figure includes the dispatch a training loop pays.
    """
    data = digits()
    n = len(data.y)
    sizes = np.array(sorted({int(np.clip(b, 1, n)) for b in batch_sizes}))
    params = init_mlp(jax.random.PRNGKey(0))
    x_all, y_all = jnp.asarray(data.x), jnp.asarray(data.y)
    per_update = []
    for i, b in enumerate(sizes):
        if progress:
            progress(i / len(sizes), f"batch size {b}")
        x, y = x_all[:b], y_all[:b]
        params = jax.block_until_ready(sgd_step(params, x, y, 0.01))  # compile + warm up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            params = jax.block_until_ready(sgd_step(params, x, y, 0.01))
            times.append(time.perf_counter() - t0)
        per_update.append(float(np.median(times)))
    if progress:
        progress(1.0, "done")
    per_update = np.array(per_update)
    updates = -(-n // sizes)
    device = f"{jax.default_backend().upper()} ({jax.devices()[0].device_kind})"
    return BatchTiming(sizes, per_update, updates, updates * per_update, n, device)
