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

import networks
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


# --------------------------------------------------------------------------- critical points page
@st.cache_data(max_entries=256, show_spinner=False)
def point_analysis(surface: str, point: tuple) -> surfaces.PointAnalysis:
    return surfaces.analyze_point(surface, point)


@st.cache_data(max_entries=128, show_spinner=False)
def local_quadratic(surface: str, point: tuple, radius: float) -> surfaces.LocalQuadratic:
    return surfaces.local_quadratic(surface, point, radius)


@st.cache_data(max_entries=64, show_spinner=False)
def saddle_escape(surface: str, saddle_index: int, offset: float, tilt: float, steps: int, lr: float, kick: float,
                  noise: float, seed: int) -> tuple[np.ndarray, optimizers.SaddleEscape] | None:
    """The start beside the ``saddle_index``-th saddle of the surface, and the three escape runs from it."""
    saddles = [c for c in critical_points(surface) if c.kind == "saddle"]
    if not 0 <= saddle_index < len(saddles):
        return None
    start = optimizers.start_near_saddle(saddles[saddle_index], offset, tilt)
    return start, optimizers.saddle_escape(surface, start, steps, lr, kick, noise, seed,
                                           level=saddles[saddle_index].value)


@st.cache_data(max_entries=64, show_spinner=False)
def zoomed_grid(surface: str, center: tuple, half_width: float, resolution: int = 100) -> surfaces.Grid:
    (cx, cy), h = center, half_width
    return surfaces.grid(surface, resolution, ((cx - h, cx + h), (cy - h, cy + h)))


# --------------------------------------------------------------------------- momentum page
@st.cache_data(max_entries=128, show_spinner=False)
def momentum_anatomy(surface: str, start: tuple, steps: int, lr: float, momentum: float
                     ) -> tuple[optimizers.Trajectories, optimizers.Trajectories, optimizers.MomentumStep, np.ndarray]:
    """GD and lecture-form momentum from one start, the parts of every momentum step, and the gradients along it."""
    gd = optimizers.trajectories(surface, "gd", np.asarray([start], np.float32), steps, lr=lr)
    mom = optimizers.trajectories(surface, "momentum", np.asarray([start], np.float32), steps, lr=lr,
                                  momentum=momentum)
    path = mom.path[0]
    finite = np.isfinite(path).all(axis=1)
    grads = np.full_like(path, np.nan)
    grads[finite] = surfaces.gradients(surface, path[finite])
    return gd, mom, optimizers.momentum_decomposition(path, grads, lr, momentum), grads


@st.cache_data(max_entries=128, show_spinner=False)
def line_race(surface: str, start: tuple, steps: int, lr: float, momentum: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, optimizers.LineRun, optimizers.LineRun]:
    """Both optimizers rolling on the line through ``start`` towards where the 2-D momentum run ended.

    Returns (direction, s, L along the line, GD run, momentum run).
    """
    _, mom, _, _ = momentum_anatomy(surface, start, steps, lr, momentum)
    end = mom.path[0][np.isfinite(mom.path[0]).all(axis=1)][-1]
    travel = np.asarray(end, np.float64) - np.asarray(start, np.float64)
    (x0, x1), (y0, y1) = surfaces.get(surface).domain
    size = min(x1 - x0, y1 - y0)
    direction = travel if np.linalg.norm(travel) > 1e-3 * size else np.array([1.0, 0.0])
    reach = max(float(np.linalg.norm(travel)), 0.2 * size)
    s = np.linspace(-0.25 * reach, 1.25 * reach, 400)
    profile = optimizers.line_profile(surface, start, direction, s)
    gd = optimizers.run_on_line(surface, "gd", start, direction, steps, lr=lr)
    mo = optimizers.run_on_line(surface, "momentum", start, direction, steps, lr=lr, momentum=momentum)
    return optimizers.anatomy.unit(direction), s, profile, gd, mo


# --------------------------------------------------------------------------- batch-size page
@st.cache_data(max_entries=4, show_spinner=False)
def regression_data() -> networks.Dataset:
    return networks.line_data()


WEIGHTS, BIASES = (-1.5, 4.5, 121), (-3.0, 2.5, 111)  # the (w, b) window of the regression's error surface


@st.cache_data(max_entries=4, show_spinner=False)
def regression_surface() -> networks.LossGrid:
    return networks.loss_surface(regression_data(), np.linspace(*WEIGHTS), np.linspace(*BIASES))


@st.cache_data(max_entries=64, show_spinner=False)
def batch_surfaces(batch_size: int, seed: int = 0) -> list[networks.BatchSurface]:
    return networks.batch_surfaces(regression_data(), batch_size, np.linspace(*WEIGHTS), np.linspace(*BIASES),
                                   seed=seed)


@st.cache_data(max_entries=64, show_spinner=False)
def sgd_run(batch_size: int, epochs: int, lr: float, start: tuple, n_seeds: int) -> networks.SGDRun:
    return networks.sgd_paths(regression_data(), batch_size, epochs, lr, start, seeds=range(n_seeds))


_TIMINGS: dict[str, networks.BatchTiming] = {}


def update_times(device: str, progress=None) -> networks.BatchTiming:
    """Measured once per device and process, then kept.

    Not ``st.cache_data``: the progress callback draws into the page, and a
    cached function may not draw into a block created outside it.
    """
    if device not in _TIMINGS:
        _TIMINGS[device] = networks.update_times((1, 4, 16, 64, 256, 1797), repeats=20, progress=progress)
    return _TIMINGS[device]


@st.cache_data(max_entries=64, show_spinner=False)
def basin_escapes(surface: str, steps: int, lr: float, noise: float, n: int = 64
                  ) -> list[tuple[surfaces.CriticalPoint, optimizers.BasinEscape]]:
    """Noisy GD from every minimum of the surface: which basins does noise leave?"""
    return [(c, optimizers.basin_escape(surface, c.point, steps, lr, noise, n=n))
            for c in critical_points(surface) if c.kind == "minimum"]


@st.cache_data(max_entries=64, show_spinner=False)
def train_test_profiles(surface: str, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, float]]]:
    """Training loss along y = 0 and a test loss shifted by ``shift``; the minima, labelled sharp / flat.

    The lecture's picture: test loss is the training loss moved a little, so
    where the curve is narrow the same move costs far more.
    """
    (x0, x1), _ = surfaces.get(surface).domain
    s = np.linspace(x0, x1, 600)
    train = optimizers.line_profile(surface, (0.0, 0.0), (1.0, 0.0), s)
    test = optimizers.line_profile(surface, (-shift, 0.0), (1.0, 0.0), s)
    minima = sorted((c for c in critical_points(surface) if c.kind == "minimum"), key=lambda c: -c.eigenvalues[1])
    names = ["sharp minimum", "flat minimum"] if len(minima) == 2 else [f"minimum {i + 1}" for i in range(len(minima))]
    return s, train, test, [(name, float(c.point[0])) for name, c in zip(names, minima)]
