"""What a momentum step is made of, and optimizers on a 1-D slice of a surface (lecture 1.6).

Lecture form of momentum: m^0 = 0, m^{t+1} = λ m^t − η g^t, θ^{t+1} = θ^t + m^{t+1}.
Unrolled, m^t = −η Σ_{k=0}^{t−1} λ^k g^{t−1−k}: a weighted sum of all earlier
gradients, the newest weighted 1, the one before λ, then λ², ...
Imports only JAX, NumPy and the surface package.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import surfaces
from optimizers.registry import get as get_optimizer
from optimizers.runner import first_bad_step, mask_after, step_bucket
from surfaces.interpreter import surface_jit


class MomentumStep(NamedTuple):
    """The parts of step t → t+1 of lecture-form momentum, each an (steps, 2) array."""

    last_movement: np.ndarray  # m^t = θ^t − θ^{t−1} (0 at t = 0)
    carried: np.ndarray  # λ m^t
    gradient_step: np.ndarray  # −η g^t
    movement: np.ndarray  # m^{t+1} = λ m^t − η g^t


def momentum_decomposition(path, gradients, lr: float, momentum: float) -> MomentumStep:
    """Split every step of a momentum run into λ·(last movement) and −η·(gradient).

    Args:
      path: (steps + 1, 2) positions θ^0 … θ^steps of a lecture-form momentum run.
      gradients: (steps + 1, 2) or more, ∇L(θ^t), computed independently of the run.
    Returns the parts for t = 0 … steps − 1; ``movement`` should equal θ^{t+1} − θ^t.
    """
    path = np.asarray(path, np.float64)
    g = np.asarray(gradients, np.float64)[: len(path) - 1]
    moved = np.diff(path, axis=0)
    last = np.concatenate([np.zeros((1, 2)), moved[:-1]])
    carried, gradient_step = momentum * last, -lr * g
    return MomentumStep(last, carried, gradient_step, carried + gradient_step)


def clearest_step(parts: MomentumStep, visible: float = 0.05) -> int:
    """The step t ≥ 1 whose triangle λmᵗ, −ηgᵗ, mᵗ⁺¹ is the most open: the one to take apart first.

    Openness is the triangle's area over its longest side squared, |a × b| / max(|a|, |b|, |a + b|)²
    (a = λmᵗ, b = −ηgᵗ): 0 when the parts are collinear or one of them vanishes (one arrow hides the
    other), largest for comparable parts at a wide angle. Only steps that move at least ``visible`` of
    the run's longest step count (an open triangle too small to see teaches nothing). 1 if none does, 0 for a
    path of a single step (no step t ≥ 1 to take apart).
    """
    a, b, m = (np.asarray(v, np.float64) for v in (parts.carried, parts.gradient_step, parts.movement))
    if len(m) < 2:
        return 0
    area = np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    longest = np.max([np.hypot(*v.T) for v in (a, b, m)], axis=0)
    moved = np.hypot(*m.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        openness = np.where((longest > 0) & np.isfinite(area), area / longest**2, 0.0)
    ok = np.isfinite(moved) & (moved >= visible * np.nanmax(np.where(np.isfinite(moved), moved, 0.0)))
    openness = np.where(ok, openness, -1.0)
    openness[0] = -1.0  # step 0 has no carried part: no triangle
    best = int(np.argmax(openness))
    return best if openness[best] > 0 else 1


def momentum_weights(momentum: float, t: int) -> np.ndarray:
    """Weights λ^k, k = 0 … t − 1, of the gradients g^{t−1−k} in m^t = −η Σ_k λ^k g^{t−1−k}."""
    return float(momentum) ** np.arange(int(t), dtype=np.float64)


# --------------------------------------------------------------------------- 1-D slices
class LineRun(NamedTuple):
    """An optimizer on f(s) = L(origin + s·direction), started at s = 0."""

    s: np.ndarray  # (steps + 1,), NaN from ``diverged_at`` on
    loss: np.ndarray  # (steps + 1,)
    diverged_at: int


def unit(direction) -> np.ndarray:
    d = np.asarray(direction, np.float64)
    norm = np.linalg.norm(d)
    return d / norm if norm > 0 and np.isfinite(norm) else np.array([1.0, 0.0])


def line_profile(surface, origin, direction, s) -> np.ndarray:
    """L(origin + s·direction) for every s (direction normalised to length 1)."""
    d = unit(direction)
    points = np.asarray(origin, np.float64)[None] + np.asarray(s, np.float64)[:, None] * d[None]
    return surfaces.losses(surface, points)


@surface_jit(static_argnames=("optimizer", "steps"))
def _scan_line(surface, optimizer, steps, origin, direction, hparams):
    value_and_grad = jax.value_and_grad(lambda s: surface.loss(origin + s[0] * direction))
    opt = get_optimizer(optimizer).factory(**hparams)
    s0 = jnp.zeros(1, jnp.float32)

    def step(carry, _):
        s, state = carry
        value, g = value_and_grad(s)
        updates, state = opt.update(g, state, s)
        return (s + updates, state), (s[0], value)

    _, (s, loss) = jax.lax.scan(step, (s0, opt.init(s0)), None, length=steps + 1)
    return s, loss


def run_on_line(surface, optimizer: str, origin, direction, steps: int, **hyperparams) -> LineRun:
    """A registry optimizer on the 1-D slice through ``origin`` along ``direction``: a ball on a curve.

    Origin, direction and hyperparameters are traced: moving them never recompiles.
    """
    spec = get_optimizer(optimizer)
    hp = {p.name: jnp.float32(p.clamp(hyperparams.get(p.name, p.default))) for p in spec.params}
    steps = int(steps)
    s, loss = _scan_line(surfaces.get(surface), optimizer, step_bucket(steps),
                         jnp.asarray(origin, jnp.float32), jnp.asarray(unit(direction), jnp.float32), hp)
    # Sliced in NumPy, after the device result is fetched: a JAX array sliced by a Python int compiles one
    # slice program per step count, and a step count is a slider.
    s, loss = np.asarray(s, np.float64)[: steps + 1], np.asarray(loss, np.float64)[: steps + 1]
    first = first_bad_step(np.where(np.isfinite(loss), s, np.nan)[None])  # a non-finite loss counts as bad too
    s, loss = mask_after(first, s[None], loss[None])
    return LineRun(s[0], loss[0], int(first[0]))


def line_race(surface, start, end, steps: int, lr: float, momentum: float):
    """Gradient descent and lecture-form momentum rolling on the line from ``start`` towards ``end`` (lecture 1.6).

    The line is L(start + s·u), u the unit vector towards ``end`` (along x when ``end`` is within 10⁻³ of the
    domain's size: the run did not move); s spans −¼ … 1¼ of the way there, at least 0.2 of the domain.
    Returns (u, s, L along the line, GD run, momentum run).
    """
    travel = np.asarray(end, np.float64) - np.asarray(start, np.float64)
    size = surfaces.get(surface).span
    direction = travel if np.linalg.norm(travel) > 1e-3 * size else np.array([1.0, 0.0])
    reach = max(float(np.linalg.norm(travel)), 0.2 * size)
    s = np.linspace(-0.25 * reach, 1.25 * reach, 400)
    profile = line_profile(surface, start, direction, s)
    gd = run_on_line(surface, "gd", start, direction, steps, lr=lr)
    mo = run_on_line(surface, "momentum", start, direction, steps, lr=lr, momentum=momentum)
    return unit(direction), s, profile, gd, mo
