"""Cached entry points for the pages: plain values in, NumPy out.

The rule: a page reads registries (names, records, labels, limits) directly,
and gets every number it computes from an entry point here, grouped below by
page. This module holds no maths (it calls ``surfaces``, ``optimizers`` and
``networks``) and no wording (pages and ``figures`` say things).

Every argument here is a name, a number or a tuple, and every result is
NumPy (no JAX arrays or functions: they cannot be compared by value). The
caches are ``memory_budget.cached``: bounded by bytes under the operator's one
budget (``ERROR_SURFACE_LAB_MEMORY_MB``), least recently used entries dropped
first, every caller given the same read-only result. The jitted
functions underneath are the compile cache; the persistent compilation cache
(``runtime.set_up``, called by the entry point) keeps a restarted server from
compiling again.
"""
from __future__ import annotations

import functools

import jax
import numpy as np

import caches
import heavy_runs
import networks
import optimizers
import surfaces
from caches import disk_cached
from memory_budget import cached


@cached("grids")
def surface_grid(surface: str, resolution: int) -> surfaces.Grid:
    return surfaces.grid(surface, resolution)


@cached("analysis")
def loss_at(surface: str, point: tuple) -> float:
    """L at one point (NaN or ±inf where a typed f is not defined there)."""
    return float(surfaces.losses(surface, np.asarray([point], np.float64))[0])


@cached("analysis")
def undefined_share(surface: str, resolution: int = 120) -> float:
    """The share of the surface's map grid where L is not finite (a typed f with log, sqrt, / …): 0 for the catalog's."""
    return float(np.mean(~np.isfinite(surface_grid(surface, resolution).loss)))


@cached("analysis")
def critical_points(surface: str) -> list[surfaces.CriticalPoint]:
    return surfaces.critical_points(surface)


@cached("analysis")
def critical_set(surface: str) -> tuple[list[surfaces.CriticalCurve], list[surfaces.CriticalPoint]]:
    """The surface's curves of critical points and the critical points not on them (``surfaces.critical_curves``)."""
    return surfaces.critical_curves(surface, critical_points(surface))


@cached("runs")
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
@cached("analysis")
def point_analysis(surface: str, point: tuple) -> surfaces.PointAnalysis:
    return surfaces.analyze_point(surface, point)


@cached("analysis")
def local_quadratic(surface: str, point: tuple, radius: float) -> surfaces.LocalQuadratic:
    return surfaces.local_quadratic(surface, point, radius)


@cached("runs")
def saddle_escape(surface: str, saddle_index: int, offset: float, tilt: float, steps: int, lr: float, kick: float,
                  noise: float, seed: int) -> tuple[np.ndarray, optimizers.SaddleEscape] | None:
    """The start beside the ``saddle_index``-th saddle of the surface, and the three escape runs from it."""
    saddles = [c for c in critical_points(surface) if c.kind == "saddle"]
    if not 0 <= saddle_index < len(saddles):
        return None
    start = optimizers.start_near_saddle(saddles[saddle_index], offset, tilt)
    return start, optimizers.saddle_escape(surface, start, steps, lr, kick, noise, seed,
                                           level=saddles[saddle_index].value)


@cached("grids")
def zoomed_grid(surface: str, center: tuple, half_width: float, resolution: int = 100) -> surfaces.Grid:
    (cx, cy), h = center, half_width
    return surfaces.grid(surface, resolution, ((cx - h, cx + h), (cy - h, cy + h)))


# --------------------------------------------------------------------------- momentum page
@cached("runs")
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


@cached("runs")
def line_race(surface: str, start: tuple, steps: int, lr: float, momentum: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, optimizers.LineRun, optimizers.LineRun]:
    """``optimizers.line_race`` towards where the 2-D momentum run from ``start`` ended.

    Returns (direction, s, L along the line, GD run, momentum run).
    """
    _, mom, _, _ = momentum_anatomy(surface, start, steps, lr, momentum)
    return optimizers.line_race(surface, start, optimizers.last_finite(mom.path[0]), steps, lr, momentum)


# --------------------------------------------------------------------------- batch-size page
def regression_model(model: str) -> networks.RegressionModel:
    """The Batch size page's model record (formula, window, start); not cached: it holds functions."""
    return networks.REGRESSION_MODELS[model]


@cached("grids")
def regression_data(model: str = "sine") -> networks.Dataset:
    record = networks.REGRESSION_MODELS[model]
    return record.data(**record.data_args)


def _window(model: str) -> tuple[np.ndarray, np.ndarray]:
    record = networks.REGRESSION_MODELS[model]
    return np.linspace(*record.weights), np.linspace(*record.biases)


@cached("grids")
def regression_surface(model: str = "sine") -> networks.LossGrid:
    return networks.regression_loss_surface(regression_data(model), *_window(model), model=model)


@cached("grids")
def batch_surfaces(batch_size: int, seed: int = 0, model: str = "sine") -> list[networks.BatchSurface]:
    return networks.batch_surfaces(regression_data(model), batch_size, *_window(model), seed=seed, model=model)


@cached("runs")
def sgd_run(batch_size: int, epochs: int, lr: float, start: tuple, n_seeds: int,
            model: str = "sine") -> networks.SGDRun:
    return networks.sgd_paths(regression_data(model), batch_size, epochs, lr, start, seeds=range(n_seeds),
                              model=model)


def batch_race(batch_sizes: tuple, epochs: int, lr: float, start: tuple, n_seeds: int, model: str = "sine",
               max_frames: int = 100) -> networks.BatchRace:
    """The ``sgd_run`` of every batch size on one clock of examples seen (``networks.batch_race``).

    Not cached itself: it only samples the cached runs.
    """
    runs = [sgd_run(b, epochs, lr, start, n_seeds, model) for b in batch_sizes]
    return networks.batch_race(runs, len(regression_data(model).x), epochs, max_frames)


@cached("runs")
def stall_report(batch_size: int, epochs: int, lr: float, start: tuple, n_seeds: int,
                 model: str = "sine") -> networks.StallReport:
    """Full-batch gradient descent against mini-batch SGD of ``batch_size``, same start, η and epochs."""
    data = regression_data(model)
    return networks.stall_report(data, sgd_run(len(data.x), epochs, lr, start, 1, model),
                                 sgd_run(batch_size, epochs, lr, start, n_seeds, model), model)


@cached("analysis")
def batch_gradient_norms(batch_size: int, point: tuple, count: int = 3, seed: int = 0,
                         model: str = "sine") -> np.ndarray:
    """‖∇L_k(point)‖ of the first ``count`` mini-batches of the shuffle ``batch_surfaces`` draws."""
    data = regression_data(model)
    return networks.batch_gradient_norms(data, networks.batch_partition(len(data.x), batch_size, seed)[:count],
                                         point, model)


_TIMINGS: dict[str, networks.BatchTiming] = {}


def update_times(device: str, progress=None) -> networks.BatchTiming:
    """Measured once per device and process, then kept.

    Not ``st.cache_data``: the progress callback draws into the page, and a
    cached function may not draw into a block created outside it.
    """
    if device not in _TIMINGS:
        _TIMINGS[device] = networks.update_times((1, 4, 16, 64, 256, 1797), repeats=20, progress=progress)
    return _TIMINGS[device]


@cached("runs")
def basin_escapes(surface: str, steps: int, lr: float, noise: float, n: int = 64
                  ) -> list[tuple[surfaces.CriticalPoint, optimizers.BasinEscape]]:
    """Noisy GD from every minimum of the surface: which basins does noise leave?"""
    return [(c, optimizers.basin_escape(surface, c.point, steps, lr, noise, n=n))
            for c in critical_points(surface) if c.kind == "minimum"]


@cached("analysis")
def train_test_profiles(surface: str, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """Training loss along y = 0 and a test loss shifted by ``shift``; the minima's x, sharpest first.

    The lecture's picture: test loss is the training loss moved a little, so
    where the curve is narrow the same move costs far more.
    """
    (x0, x1), _ = surfaces.get(surface).domain
    s = np.linspace(x0, x1, 600)
    train = optimizers.line_profile(surface, (0.0, 0.0), (1.0, 0.0), s)
    test = optimizers.line_profile(surface, (-shift, 0.0), (1.0, 0.0), s)
    minima = sorted((c for c in critical_points(surface) if c.kind == "minimum"), key=lambda c: -c.eigenvalues[1])
    return s, train, test, [float(c.point[0]) for c in minima]


# --------------------------------------------------------------------------- adaptive learning rate page
def trajectory(surface: str, optimizer: str, start: tuple, steps: int, schedule: str = "constant",
               schedule_params: dict | None = None, **hyperparams) -> optimizers.Trajectories:
    """``trajectories`` for one start, with the parameters as keywords (turned into hashable tuples here)."""
    return trajectories(surface, optimizer, (tuple(start),), steps, schedule,
                        tuple(sorted((schedule_params or {}).items())), tuple(sorted(hyperparams.items())))


@cached("analysis")
def lowest_minimum(surface: str) -> tuple[float, float] | None:
    """The critical minimum with the lowest loss (the target a distance is measured to), None if there is none."""
    minima = [c for c in critical_points(surface) if c.kind == "minimum"]
    return tuple(min(minima, key=lambda c: c.value).point) if minima else None


@cached("analysis")
def stability_edge(surface: str) -> float | None:
    """``surfaces.stability_edge``: η = 2/λ_max at the surface's lowest minimum, None if it has none."""
    return surfaces.stability_edge(critical_points(surface))


# --------------------------------------------------------------------------- schedules page
@cached("analysis")
def schedule_curve(name: str, steps: int, lr: float, params: tuple) -> np.ndarray:
    return optimizers.schedule_curve(name, steps, lr, **dict(params))


# --------------------------------------------------------------------------- normalization page
# Gradient descent starts from w = 0 in both parametrizations: the same model
# (a constant, b = mean y) before and after standardizing.
SCALING_START = (0.0, 0.0)


@cached("grids")
def feature_scaling(scale1: float, scale2: float, correlation: float, resolution: int = 121
                    ) -> list[tuple[networks.Quadratic, networks.LossGrid]]:
    """``networks.scaling_problems``: raw and standardized features, each its quadratic and loss grid."""
    return networks.scaling_problems(scale1, scale2, correlation, SCALING_START, resolution)


def bn_experiment(config: networks.BNConfig, progress=None, waiting=None) -> tuple[networks.BNRun, bool]:
    """The batch-normalization experiment for ``config``: (result, whether it came from the cache).

    A heavy run: trained in a worker process (``heavy_runs``; ``waiting(runs ahead)`` while queued) and kept
    through ``disk_cached`` (bounded, in memory and on disk), not ``st.cache_data``, so that training can draw
    its progress bar into the page.
    """
    return heavy_runs.cached_run("bn", tuple(config), networks.BNRun, networks.digits_bn_experiment, (config,),
                                 progress, waiting)


# --------------------------------------------------------------------------- classification page
@cached("grids")
def hidden_saddle() -> surfaces.HiddenSaddle:
    return surfaces.hidden_saddle()


@cached("grids")
def two_classes(low: float = -8.0, high: float = 8.0, points: int = 161) -> surfaces.classification.TwoClasses:
    return surfaces.classification.two_classes(np.linspace(low, high, points))


@cached("analysis")
def softmax_readout(logits: tuple, target: int) -> surfaces.classification.SoftmaxReadout:
    return surfaces.classification.softmax_readout(logits, target)


@cached("analysis")
def gradient_norm_at(surface: str, point: tuple) -> float:
    """‖∇L(point)‖."""
    return float(np.linalg.norm(surfaces.gradient(surface, point)))


@cached("runs")
def scaling_paths(scale1: float, scale2: float, correlation: float, lr: float, best_lr: bool, steps: int
                  ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """``networks.scaling_paths`` on the raw and the standardized problem: (η used, path, loss) for each."""
    return networks.scaling_paths(feature_scaling(scale1, scale2, correlation), lr, best_lr, steps, SCALING_START)


# --------------------------------------------------------------------------- network lab
LONG_TRAINING_S = 30.0  # above this estimate the page asks before it trains


@cached("analysis")
def training_estimate(config: networks.TrainConfig) -> tuple[int, int, float]:
    """``networks.training_estimate``: (updates, parameters, estimated seconds) of training ``config`` here."""
    return networks.training_estimate(config)


def is_trained(config: networks.TrainConfig) -> bool:
    """Whether ``config``'s training run is already in this process's memory (then it costs nothing)."""
    return caches.is_cached("train", tuple(config))


def trained_network(config: networks.TrainConfig, progress=None, waiting=None) -> tuple[networks.TrainResult, bool]:
    """``config`` trained in a worker process (a heavy run), kept in memory and on disk: (result, from the cache)."""
    return heavy_runs.cached_run("train", tuple(config), networks.TrainResult, networks.train_network, (config,),
                                 progress, waiting)


@cached("analysis")
def interpolation(config: networks.TrainConfig, points: int = 41) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train and test loss along θ(α) = θ_init + α(θ_final − θ_init), α ∈ [−0.25, 1.25]."""
    result, _ = trained_network(config)
    start, end = networks.as_jax_params(result.initial), networks.as_jax_params(result.final)
    alpha = np.linspace(-0.25, 1.25, points)
    direction = networks.landscape.difference(end, start)
    return (alpha, networks.loss_surface(networks.dataset_loss(config.model, config.dataset), start, direction, alpha),
            networks.loss_surface(networks.dataset_loss(config.model, config.dataset, "test"), start, direction, alpha))


@cached("grids")
def network_slice(config: networks.TrainConfig, kind: str, span: float, resolution: int = 41):
    """A 2-D slice of the training loss around the trained parameters, along ``kind``'s directions
    (``networks.SLICE_KINDS``): (LossGrid, path coordinates (T, 2) or None, the directions' values: PCA's
    explained variance shares, or the Hessian's (λmax, λmin), or None; whether λmin is negative beyond round-off,
    i.e. the point is a saddle).

    Hessian directions are unit vectors scaled to ‖θ‖ so that span means the
    same fraction of the weights as for the filter-normalized ones.
    """
    result, _ = trained_network(config)
    params = networks.as_jax_params(result.final)
    split = networks.load_split(config.dataset)
    d = networks.slice_directions(kind, result, params, span)
    xs = np.linspace(-d.extent, d.extent, resolution)
    loss = networks.mlp_loss_surface(params, split.x_train, split.y_train, config.model.activation, (d.d1, d.d2),
                                     (xs, xs))
    values = None if d.values is None else tuple(float(v) for v in d.values)
    saddle = kind == "hessian" and networks.eigenvalue_signs(values).negative > 0
    return networks.LossGrid(xs, xs, loss), d.path, values, saddle


@cached("analysis")
def network_hessian(config: networks.TrainConfig) -> dict:
    """Top-5 eigenvalues, Hutchinson trace and SLQ density at the trained parameters."""
    result, _ = trained_network(config)
    loss_fn = networks.dataset_loss(config.model, config.dataset)
    params = networks.as_jax_params(result.final)
    grid, density = networks.hessian_density(loss_fn, params, num_runs=4, iterations=40)
    return dict(top=networks.hessian_top_eigenvalues(loss_fn, params, 5),
                trace=networks.hessian_trace(loss_fn, params, num_probes=40),
                grid=grid, density=density, parameters=int(result.path.shape[1]))


def network_spectrum(config: networks.TrainConfig) -> tuple[networks.SpectrumSummary, bool]:
    """All eigenvalues at the trained parameters and what is shown of them (dense; cached in memory and on disk)."""
    def make():
        result, _ = trained_network(config)
        return networks.hessian_spectrum(networks.dataset_loss(config.model, config.dataset), networks.as_jax_params(result.final))

    eigenvalues, cached = disk_cached("spectrum", tuple(config), make, np.ndarray)
    return networks.spectrum_summary(eigenvalues), cached


def warmup_study(lr: float, progress=None, waiting=None) -> tuple[networks.WarmupStudy, bool]:
    """``networks.warmup_study`` at learning rate ``lr`` through the result cache: (result, from the cache).

    A heavy run (12 trainings), computed in a worker process (heavy_runs).
    """
    return heavy_runs.cached_run("warmup", (float(lr),), networks.WarmupStudy,
                                 functools.partial(networks.warmup_study, lr=float(lr)), (), progress, waiting)


# The studies below are heavy runs: computed in a worker process (heavy_runs), kept through the result cache.
def hidden_bowl(dataset: str, progress=None, waiting=None) -> tuple[networks.HiddenBowl, bool]:
    """``networks.hidden_bowl`` through the result cache: (result, whether it came from the cache)."""
    return heavy_runs.cached_run("hidden_bowl", (dataset,), networks.HiddenBowl, networks.hidden_bowl, (dataset,),
                                 progress, waiting)


def saddle_study(dataset: str, progress=None, waiting=None) -> tuple[networks.SaddleStudy, bool]:
    """``networks.saddle_study`` (the minimum-ratio study) through the result cache: (result, from the cache)."""
    return heavy_runs.cached_run("saddles", (dataset,), networks.SaddleStudy, networks.saddle_study, (dataset,),
                                 progress, waiting)


def batch_gap_study(progress=None, waiting=None) -> tuple[networks.BatchGapStudy, bool]:
    """``networks.batch_gap_study`` on ``networks.BATCH_GAP_SETTING`` through the result cache."""
    setting = networks.BATCH_GAP_SETTING
    return heavy_runs.cached_run("batch_gap", tuple(setting), networks.BatchGapStudy, networks.batch_gap_study,
                                 (setting,), progress, waiting)


def batch_size_study(config: networks.TrainConfig, progress=None, waiting=None
                     ) -> tuple[networks.BatchSizeStudy, bool]:
    """``networks.batch_size_study`` for ``config`` through the result cache: (result, from the cache)."""
    return heavy_runs.cached_run("batch", tuple(config), networks.BatchSizeStudy, networks.batch_size_study,
                                 (config,), progress, waiting)
