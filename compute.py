"""Cached entry points for the pages: plain values in, NumPy out.

``st.cache_data`` cannot hash JAX arrays or functions, so every argument
here is a name, a number or a tuple, and every result is NumPy. Each cache
has a size limit so a busy classroom server's memory stays bounded. The jitted
functions underneath are the compile cache; the persistent compilation cache
is switched on at import so a restarted server does not compile again.
"""
from __future__ import annotations

import jax
import numpy as np
import streamlit as st

import optimizers
import surfaces

CACHE_DIR = optimizers.enable_persistent_cache()


@st.cache_data(max_entries=64, show_spinner=False)
def surface_grid(surface: str, resolution: int) -> surfaces.Grid:
    return surfaces.grid(surface, resolution)


@st.cache_data(max_entries=64, show_spinner=False)
def critical_points(surface: str) -> list[surfaces.CriticalPoint]:
    return surfaces.critical_points(surface)


@st.cache_data(max_entries=512, show_spinner=False)
def trajectories(surface: str, optimizer: str, starts: tuple, steps: int, schedule: str,
                 schedule_params: tuple, hyperparams: tuple, noise: float = 0.0, seed: int = 0
                 ) -> optimizers.Trajectories:
    """``optimizers.trajectories`` with (name, value) tuples for the parameter dicts."""
    return optimizers.trajectories(
        surface, optimizer, np.asarray(starts, np.float32), steps, schedule=schedule,
        schedule_params=dict(schedule_params), noise=noise, seed=seed, **dict(hyperparams))


def backend() -> str:
    """'CPU', or 'GPU (NVIDIA H100 …)' — what JAX computes on in this process."""
    devices = jax.devices()
    kind = jax.default_backend().upper()
    names = sorted({getattr(d, "device_kind", str(d)) for d in devices})
    return f"{kind} ({len(devices)} × {', '.join(names)})"
