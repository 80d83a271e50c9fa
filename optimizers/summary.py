"""What a finished trajectory did, in numbers a results table can show."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import surfaces


class TrajectorySummary(NamedTuple):
    start: tuple[float, float]
    final_point: tuple[float, float]  # last finite point
    final_loss: float
    nearest_kind: str  # kind of the nearest critical point, "" if none
    nearest_point: tuple[float, float] | None
    nearest_distance: float
    steps_to_tolerance: int  # first t with ‖∇L(θ^t)‖ < tol, −1 if never
    diverged_at: int  # −1 if it never diverged


def summarize(path: np.ndarray, loss: np.ndarray, grad_norm: np.ndarray, diverged_at: int,
              critical: list, grad_tol: float, curves: list = ()) -> TrajectorySummary:
    """Summary of one trajectory (arrays as in ``optimizers.Trajectories``, one row).

    ``steps_to_tolerance`` uses the gradient norm on purpose: a run that stops
    at a saddle also "converges" by that test, and the nearest critical
    point's kind says what it converged to — the lecture's point that a small
    gradient is not yet a minimum.
    """
    finite = np.flatnonzero(np.isfinite(loss))
    last = int(finite[-1]) if len(finite) else 0
    below = np.flatnonzero(np.nan_to_num(grad_norm, nan=np.inf) < grad_tol)
    point = path[last]
    kind, nearest, dist = surfaces.nearest_critical(critical, list(curves), point)
    return TrajectorySummary(
        start=(float(path[0, 0]), float(path[0, 1])),
        final_point=(float(point[0]), float(point[1])),
        final_loss=float(loss[last]),
        nearest_kind=kind,
        nearest_point=(float(nearest[0]), float(nearest[1])) if nearest is not None else None,
        nearest_distance=float(dist),
        steps_to_tolerance=int(below[0]) if len(below) else -1,
        diverged_at=int(diverged_at),
    )


def step_lengths(path: np.ndarray) -> np.ndarray:
    """‖θ^{t+1} − θ^t‖ for t = 0 … steps − 1 (NaN after a divergence)."""
    return np.linalg.norm(np.diff(np.asarray(path, np.float64), axis=0), axis=-1)


class Bursts(NamedTuple):
    """Adagrad's bursts in a run: where each begins and where its step length peaks."""

    starts: np.ndarray  # (k,) int
    peaks: np.ndarray  # (k,) int


def bursts(path: np.ndarray, factor: float = 100.0) -> Bursts:
    """Every burst of a run: a hump of the step length that rises ``factor`` times above the quiet before it.

    Between bursts the step length ‖θ^{t+1} − θ^t‖ settles to a floor (its
    lowest value since the last burst ended). A burst begins at the first step
    more than ``factor`` × that floor, peaks at its longest step, and ends once
    the step is back below peak / ``factor``; the floor then starts afresh.
    This is what a student sees as one hump on the log step-length chart (a
    rise of ``log10 factor`` decades), as lecture-form Adagrad makes on an
    elongated valley once σ in the steep direction has shrunk (lecture 2.3).
    A non-finite step (divergence) ends the scan.
    """
    d = step_lengths(path)
    starts, peaks = [], []
    floor, start, peak = np.inf, -1, -1
    for t, v in enumerate(d):
        if not np.isfinite(v):
            break
        if peak < 0:
            floor = min(floor, v)
            if v > factor * floor:
                start = peak = t
        else:
            if v > d[peak]:
                peak = t
            if v < d[peak] / factor:
                starts.append(start)
                peaks.append(peak)
                floor, peak = v, -1
    if peak >= 0:
        starts.append(start)
        peaks.append(peak)
    return Bursts(np.asarray(starts, int), np.asarray(peaks, int))


def burst_starts(path: np.ndarray, factor: float = 100.0) -> np.ndarray:
    """The steps where the bursts of :func:`bursts` begin."""
    return bursts(path, factor).starts


def last_finite(values: np.ndarray):
    """The last finite entry of a 1-D series (NaN if none); of a (steps, d) path, its last all-finite row (NaNs if none).

    Where a run stopped: a diverged run's series are NaN from its divergence on.
    """
    a = np.asarray(values, np.float64)
    ok = np.isfinite(a) if a.ndim == 1 else np.isfinite(a).all(axis=-1)
    index = np.flatnonzero(ok)
    if len(index) == 0:
        return float("nan") if a.ndim == 1 else np.full(a.shape[-1], np.nan)
    return float(a[index[-1]]) if a.ndim == 1 else a[index[-1]]


def distance_to(path: np.ndarray, point) -> np.ndarray:
    """‖θ^t − θ*‖ at every step of ``path`` (..., steps, 2) (NaN where the path is)."""
    return np.linalg.norm(np.asarray(path, np.float64) - np.asarray(point, np.float64), axis=-1)


def largest_gap(path_a: np.ndarray, path_b: np.ndarray) -> float:
    """max_t ‖θ_a^t − θ_b^t‖_∞ over the steps both paths reach (NaN if none): how far two runs ever drift apart."""
    gap = np.abs(np.asarray(path_a, np.float64) - np.asarray(path_b, np.float64))
    return float(np.nanmax(gap)) if np.isfinite(gap).any() else float("nan")


class Stall(NamedTuple):
    """The end of a run: over its last ``steps`` steps the loss moved by ``loss_change`` around ``loss_mean``,
    ‖g‖ stayed in [low, high] and turned (rose after falling or fell after rising) at ``grad_turns`` of the steps."""

    steps: int
    loss_change: float
    grad_low: float
    grad_high: float
    loss_mean: float = float("nan")
    grad_turns: float = float("nan")

    @property
    def gradient_steady(self) -> bool:
        """‖g‖ stayed within 1 % (one number describes it)."""
        return self.grad_high <= 1.01 * self.grad_low

    @property
    def loss_spread(self) -> float:
        """(max − min) / mean of the loss over the window: flat on a log axis when it is a few per cent."""
        return self.loss_change / abs(self.loss_mean) if self.loss_mean else float("nan")

    @property
    def grad_ratio(self) -> float:
        """max / min of ‖g‖ over the window: how far the gradient norm jumps."""
        return self.grad_high / self.grad_low if self.grad_low > 0 else float("inf")


def stall_report(loss: np.ndarray, grad_norm: np.ndarray, parts: int = 5, at_least: int = 5) -> Stall:
    """How the loss and the gradient norm behaved over the last 1/``parts`` of a run's steps (≥ ``at_least``), up to
    where it stopped being finite.

    The lecture's point (2.1): training stuck is not a small gradient. When the
    loss stops moving while ‖g‖ stays large, the run bounces between valley walls.
    With Δ_t = ‖g_{t+1}‖ − ‖g_t‖ over the window, ``grad_turns`` is the share of
    consecutive pairs with Δ_t·Δ_{t+1} < 0: 1 for ‖g‖ that goes up, down, up, …;
    0 for one that only falls or only rises; ≈ 2/3 for independent random values.
    """
    loss = np.asarray(loss, np.float64)
    finite = int(np.isfinite(loss).sum())
    tail = slice(max(0, finite - max(at_least, (len(loss) - 1) // parts)), finite)
    g = np.asarray(grad_norm, np.float64)[tail]
    change = np.diff(g)
    turns = float(np.mean(change[1:] * change[:-1] < 0)) if change.size > 1 else float("nan")
    return Stall(tail.stop - tail.start, float(np.ptp(loss[tail])), float(np.min(g)), float(np.max(g)),
                 float(np.mean(loss[tail])), turns)


class Fall(NamedTuple):
    """How a run's loss reached the band that its last steps keep (``loss_fall``)."""

    start: float  # the loss at step 0
    step: int  # the first step at which the loss is at most ``high``
    low: float  # the band: the lowest and highest loss over the stall window
    high: float
    grad_low: float  # the smallest ‖g‖ over the window, and the largest over the whole run
    grad_peak: float

    @property
    def stuck(self) -> bool:
        """The loss fell by more than 10× and then stopped while ‖g‖ kept a quarter of its largest value or more:
        lecture 2.1's picture, not a run that converges (its ‖g‖ dies out with its loss)."""
        return self.start > 10 * self.high and self.grad_low >= 0.25 * self.grad_peak


def loss_fall(loss: np.ndarray, grad_norm: np.ndarray, stall: Stall) -> Fall:
    """From where the loss fell to the band [low, high] it keeps over ``stall``'s window, and when it first got there.

    Lecture 2.1's picture is a loss that falls and then stops falling while ‖g‖ stays large: the window shows the
    stop, ``start`` against ``high`` the fall before it (none to speak of when ``start`` is within the band).
    """
    loss = np.asarray(loss, np.float64)
    finite = int(np.isfinite(loss).sum())
    band = loss[finite - stall.steps:finite]
    low, high = float(np.min(band)), float(np.max(band))
    peak = float(np.max(np.asarray(grad_norm, np.float64)[:finite]))
    return Fall(float(loss[0]), int(np.argmax(loss[:finite] <= high)), low, high, stall.grad_low, peak)


def effective_lr(run) -> np.ndarray:
    """η^t / σ^t per parameter, (n, steps, 2), from an ``optimizers.Trajectories``: each parameter's own step size."""
    return np.asarray(run.lr, np.float64)[..., None] / np.asarray(run.sigma, np.float64)


class SigmaOrder(NamedTuple):
    """Which parameter's σ is larger along one adaptive run, and when that changes (``sigma_order``)."""

    leader: int  # the parameter (0: x, 1: y) whose σ is larger at step 0, −1 if the run has no finite σ
    steps: int  # the steps with a finite σ (all of them unless the run diverged)
    swap: int  # the first step at which the other parameter's σ is larger, −1 if never
    swap_point: tuple[float, float]  # θ at that step (NaN if never)
    leader_after: float  # the share of the steps from ``swap`` on at which ``leader``'s σ is larger again (NaN if never)


def sigma_order(run, i: int = 0) -> SigmaOrder:
    """The order of σ_x and σ_y along run ``i`` of an ``optimizers.Trajectories`` (lecture 2.2).

    θ_i moves by (η/σ_i)·g_i, so the parameter with the larger σ takes the smaller steps: the one whose gradients
    have been larger (steeper) on the way. Which one that is can change as the path reaches other ground (a flat
    plateau across steep walls, then a well that is steep along x too), and for a rule whose σ keeps all history
    (Adagrad) the change comes late and sticks. Ties count as x leading.
    """
    sigma = np.asarray(run.sigma[i], np.float64)
    path = np.asarray(run.path[i], np.float64)
    finite = np.isfinite(sigma).all(axis=1)
    steps = int(np.argmin(finite)) if not finite.all() else len(finite)  # up to the first non-finite σ
    nan = (float("nan"), float("nan"))
    if steps == 0:
        return SigmaOrder(-1, 0, -1, nan, float("nan"))
    y_larger = sigma[:steps, 1] > sigma[:steps, 0]
    leader = int(y_larger[0])
    swapped = y_larger != y_larger[0]
    if not swapped.any():
        return SigmaOrder(leader, steps, -1, nan, float("nan"))
    swap = int(np.argmax(swapped))
    return SigmaOrder(leader, steps, swap, (float(path[swap, 0]), float(path[swap, 1])),
                      float(np.mean(~swapped[swap:])))


class Agreement(NamedTuple):
    """When two runs' curves come together (``agreement``)."""

    step: int  # the first step from which they agree within the tolerance at every later step, −1 if never
    largest: float  # the largest relative difference over all steps


def agreement(a: np.ndarray, b: np.ndarray, rtol: float = 0.01) -> Agreement:
    """From which step on two curves (steps,) or (steps, k) agree: |a − b| ≤ rtol · max(|a|, |b|) in every entry.

    For two lines a chart draws on top of each other (RMSProp's lecture and library forms differ only in how σ
    starts): where they part and where they coincide. NaN (a diverged run) counts as disagreeing.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    gap = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), np.finfo(np.float64).tiny)
    gap = np.where(np.isfinite(gap), gap, np.inf).reshape(len(gap), -1).max(axis=1)
    apart = np.flatnonzero(gap > rtol)
    step = 0 if not apart.size else (int(apart[-1]) + 1 if apart[-1] + 1 < len(gap) else -1)
    return Agreement(step, float(gap[np.isfinite(gap)].max()) if np.isfinite(gap).any() else float("inf"))


def mean_of_finite(values: np.ndarray) -> float:
    """The mean of the finite entries (NaN if none): a curve's average over the steps a run reached."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def first_divergence(diverged_at: np.ndarray) -> int:
    """The earliest step at which any of several runs diverged (``diverged_at`` −1 for a run that did not), or −1."""
    bad = np.asarray(diverged_at)[np.asarray(diverged_at) >= 0]
    return int(bad.min()) if bad.size else -1
