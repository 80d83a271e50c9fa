"""Registries of optimizers and schedules: the single source of truth.

An ``OptimizerSpec`` holds the factory, its hyperparameters (default, range,
log scale, LaTeX), the update equation in LaTeX and a sentence of text; a
``ScheduleSpec`` the same for learning-rate schedules. Widgets, URL
validation, the runner and the tests all iterate over these.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from optimizers import rules, schedules


class HyperParam(NamedTuple):
    """One number a user can set. ``log``: the widget moves on a log scale."""

    name: str
    label: str
    default: float
    low: float
    high: float
    log: bool = False
    latex: str = ""
    integer: bool = False
    # Labels for a categorical parameter: the value is the index 0 … len − 1
    # (kept a number so it is traced data in the runner: no recompiles).
    choices: tuple[str, ...] = ()

    def clamp(self, value: float) -> float:
        """``value`` forced into [low, high] (rounded for integer parameters)."""
        v = min(max(float(value), self.low), self.high)
        return float(round(v)) if self.integer else v


class OptimizerSpec(NamedTuple):
    """One optimizer of the registry: its rule, the widgets' hyperparameters and a sentence for students.

    The update equation is the rule's own (the ``.. math::`` block of its
    docstring, ``rules.equation``), and σ^t, where the rule has one, its
    ``Optimizer.sigma``: adding an optimizer is its rule, one record here and
    the record's Chinese strings in ``i18n/zh.py``.
    """

    name: str
    label: str
    factory: Callable
    params: tuple[HyperParam, ...]
    text: str

    @property
    def formula(self) -> str:
        """The update equation in LaTeX, from the rule's docstring."""
        return rules.equation(self.factory)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}


class ScheduleSpec(NamedTuple):
    name: str
    label: str
    factory: Callable
    params: tuple[HyperParam, ...]  # besides lr, which the optimizer supplies
    formula: str

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}


def _lr(default: float, low: float = 1e-5, high: float = 10.0) -> HyperParam:
    return HyperParam("lr", "learning rate η", default, low, high, log=True, latex=r"\eta")


MOMENTUM = HyperParam("momentum", "momentum λ", 0.9, 0.0, 0.999, latex=r"\lambda")
ALPHA = HyperParam("alpha", "decay α", 0.9, 0.0, 0.9999, latex=r"\alpha")
BETA1 = HyperParam("beta1", "β1 (momentum)", 0.9, 0.0, 0.999, latex=r"\beta_1")
BETA2 = HyperParam("beta2", "β2 (σ average)", 0.999, 0.0, 0.99999, latex=r"\beta_2")
EPS = HyperParam("eps", "ε", 1e-8, 1e-12, 1.0, log=True, latex=r"\varepsilon")
WEIGHT_DECAY = HyperParam("weight_decay", "weight decay", 0.01, 0.0, 1.0, latex=r"\mathrm{wd}")


M_TERM = HyperParam("m_term", "direction mᵗ", 2, 0, len(rules.M_TERMS) - 1, integer=True, latex="m",
                    choices=rules.M_TERMS)
SIGMA_TERM = HyperParam("sigma_term", "magnitude σᵗ", 3, 0, len(rules.SIGMA_TERMS) - 1, integer=True,
                        latex=r"\sigma", choices=rules.SIGMA_TERMS)
BIAS_CORRECTION = HyperParam("bias_correction", "bias correction of averages started at 0", 1, 0, 1, integer=True,
                             choices=("off", "on"))


OPTIMIZERS: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        "gd", "Gradient descent", rules.gd, (_lr(0.01),),
        "Vanilla gradient descent: one step against the gradient.",
    ),
    OptimizerSpec(
        "momentum", "Momentum", rules.momentum, (_lr(0.01), MOMENTUM),
        "The lecture's momentum: movement = λ·(last movement) − η·(gradient).",
    ),
    OptimizerSpec(
        "nesterov", "Nesterov momentum", rules.nesterov, (_lr(0.01), MOMENTUM),
        "Momentum that looks one step ahead (optax / PyTorch form).",
    ),
    OptimizerSpec(
        "adagrad", "Adagrad (lecture: root mean square)", rules.adagrad, (_lr(0.1), EPS),
        "The lecture's Adagrad: σ is the root mean square of all past gradients.",
    ),
    OptimizerSpec(
        "adagrad_sum", "Adagrad (library: root of sum)", rules.adagrad_sum, (_lr(0.5), EPS),
        "Adagrad as optax and PyTorch define it: the lecture's form with η/√(t+1).",
    ),
    OptimizerSpec(
        "rmsprop", "RMSProp (lecture: σ⁰ = |g⁰|)", rules.rmsprop, (_lr(0.01), ALPHA, EPS),
        "The lecture's RMSProp: an exponential average of g², started at the first g².",
    ),
    OptimizerSpec(
        "rmsprop_zero", "RMSProp (library: average from 0)", rules.rmsprop_zero, (_lr(0.01), ALPHA, EPS),
        "RMSProp as optax, PyTorch and Keras define it: the average starts at 0.",
    ),
    OptimizerSpec(
        "adam", "Adam", rules.adam, (_lr(0.1), BETA1, BETA2, EPS),
        "RMSProp + momentum with bias correction (Kingma & Ba 2015).",
    ),
    OptimizerSpec(
        "adamw", "AdamW", rules.adamw, (_lr(0.1), BETA1, BETA2, EPS, WEIGHT_DECAY),
        "Adam with decoupled weight decay (Loshchilov & Hutter 2019).",
    ),
    OptimizerSpec(
        "amsgrad", "AMSGrad", rules.amsgrad, (_lr(0.1), BETA1, BETA2, EPS),
        "Adam whose σ never shrinks (Reddi et al. 2018).",
    ),
    OptimizerSpec(
        "radam", "RAdam", rules.radam, (_lr(0.1), BETA1, BETA2, EPS),
        "Adam with a built-in warm-up: no σ until its estimate is reliable (Liu et al. 2020).",
    ),
    OptimizerSpec(
        "lion", "Lion", rules.lion, (_lr(0.01, high=1.0), BETA1, HyperParam("beta2", "β2 (momentum)", 0.99, 0.0, 0.99999, latex=r"\beta_2"),
                                     WEIGHT_DECAY._replace(default=0.0)),
        "Every coordinate moves by exactly η, in the direction of an averaged gradient's sign (Chen et al. 2023).",
    ),
    OptimizerSpec(
        "composed", "Build your own: θ ← θ − ηᵗ mᵗ / σᵗ", rules.composed,
        (_lr(0.1), M_TERM, SIGMA_TERM, BIAS_CORRECTION, BETA1._replace(label="β1 (memory of m, λ for momentum)"),
         BETA2._replace(label="β2 (memory of σ, α for RMSProp)"), EPS),
        "The lecture's summary of optimization with every piece switchable: the direction m, the magnitude σ, "
        "the schedule ηᵗ.",
    ),
)

_STEPS = HyperParam("step_size", "decay every (steps)", 100, 1, 100_000, log=True, integer=True)
_DECAY_STEPS = HyperParam("decay_steps", "decay over (steps)", 500, 1, 100_000, log=True, integer=True)
_WARMUP = HyperParam("warmup_steps", "warm-up steps", 50, 1, 100_000, log=True, integer=True)
_END = HyperParam("end_lr", "final η", 0.0, 0.0, 10.0)
_GAMMA = HyperParam("gamma", "factor γ", 0.5, 0.0, 1.0)

SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("constant", "Constant", schedules.constant, (), r"\eta^t = \eta"),
    ScheduleSpec("step_decay", "Step decay", schedules.step_decay, (_STEPS, _GAMMA),
                 r"\eta^t = \eta\,\gamma^{\lfloor t / s \rfloor}"),
    ScheduleSpec("exponential_decay", "Exponential decay", schedules.exponential_decay,
                 (_GAMMA._replace(default=0.99, low=0.5),), r"\eta^t = \eta\,\gamma^t"),
    ScheduleSpec("inverse_sqrt", "1/√(t+1) decay", schedules.inverse_sqrt, (), r"\eta^t = \eta / \sqrt{t + 1}"),
    ScheduleSpec("cosine", "Cosine decay", schedules.cosine, (_DECAY_STEPS, _END),
                 r"\eta^t = \eta_{end} + (\eta - \eta_{end})\,\tfrac12\left(1 + \cos\tfrac{\pi \min(t, T)}{T}\right)"),
    ScheduleSpec("constant_warmup", "Constant warm-up (ResNet)", schedules.constant_warmup,
                 (_WARMUP, HyperParam("warmup_factor", "warm-up η / η", 0.1, 0.0, 1.0)),
                 r"\eta^t = f\,\eta\ (t < W),\ \text{then } \eta"),
    # decay_steps T counts the warm-up: the cosine runs from step W to step T and η^T = η_end (not at W + T).
    ScheduleSpec("warmup_cosine", "Warm-up, then cosine", schedules.warmup_cosine,
                 (_WARMUP, _DECAY_STEPS._replace(label="last step of the decay T (counts the warm-up steps)"), _END),
                 r"\eta^t = \eta\,\tfrac{t+1}{W}\ (t < W),\quad \eta^t = \eta_{end} + (\eta - \eta_{end})\,"
                 r"\tfrac12\left(1 + \cos\tfrac{\pi \min(t - W,\, T - W)}{T - W}\right)\ (t \ge W)"),
    ScheduleSpec("noam", "Transformer (Noam) warm-up", schedules.noam,
                 (HyperParam("d_model", "d_model", 512, 1, 16384, log=True, integer=True),
                  _WARMUP._replace(default=4000)),
                 r"\eta^t = \eta\, d_{model}^{-0.5} \min\left(s^{-0.5},\ s\, W^{-1.5}\right),\ s = t + 1"),
    ScheduleSpec("warm_restarts", "Cosine with warm restarts", schedules.warm_restarts,
                 (HyperParam("period", "first period (steps)", 200, 1, 100_000, log=True, integer=True),
                  HyperParam("mult", "period multiplier", 1.0, 1.0, 4.0), _END),
                 r"\eta^t = \eta_{end} + (\eta - \eta_{end})\,\tfrac12\left(1 + \cos\tfrac{\pi t_{cur}}{T_i}\right)"),
)

_OPT_BY_NAME = {o.name: o for o in OPTIMIZERS}

# (m_term, sigma_term, bias_correction or None when it plays no part) -> the
# registry optimizer ``composed`` then equals step for step (with β1 as its
# λ / β1 and β2 as its α / β2), or a description when no registry rule does.
_COMPOSED_NAMES: dict[tuple, str] = {
    (0, 0, None): "gd",
    (1, 0, None): "momentum",
    (0, 1, None): "adagrad",
    (0, 2, None): "rmsprop",
    (0, 3, 0): "rmsprop_zero",
    (2, 3, 1): "adam",
}
_COMPOSED_TEXT: dict[tuple, str] = {
    (0, 3, 1): "RMSProp (library form) with Adam's bias correction of σ",
    (2, 3, 0): "Adam without bias correction: both averages start at 0, so the first step is (1−β1)/√(1−β2) "
               "times Adam's (3.2× with the defaults)",
    (2, 0, 1): "momentum as an exponential average (bias-corrected): Momentum with η scaled by (1 − β1)",
    (2, 0, 0): "momentum as an exponential average: Momentum with η scaled by (1 − β1)",
    (2, 1, None): "Adagrad with an averaged direction",
    (2, 2, None): "Adam with the lecture's RMSProp σ (started at (g⁰)²)",
    (1, 1, None): "Adagrad with heavy-ball momentum",
    (1, 2, None): "RMSProp with heavy-ball momentum",
    (1, 3, None): "RMSProp (library form) with heavy-ball momentum",
}


# How ``composed``'s numbers map onto a named rule's: β1 is momentum's λ, β2 RMSProp's α.
_COMPOSED_TO = {"lr": "lr", "momentum": "beta1", "alpha": "beta2", "beta1": "beta1", "beta2": "beta2", "eps": "eps"}


def matching_hyperparams(name: str, composed_hp: dict) -> dict[str, float]:
    """Hyperparameters for registry optimizer ``name`` that match ``composed``'s (others at their defaults)."""
    return {p.name: float(composed_hp.get(_COMPOSED_TO.get(p.name, ""), p.default)) for p in get(name).params}


def schedule_curve(name: str, steps: int, lr: float, **params) -> np.ndarray:
    """η^t for t = 0 … steps − 1 of registry schedule ``name`` (NumPy), as the runner would use it."""
    spec = get_schedule(name)
    known = {p.name for p in spec.params}
    if set(params) - known:
        raise TypeError(f"unknown schedule parameter {sorted(set(params) - known)}; valid: {sorted(known)}")
    values = spec.factory(lr, **params)(jnp.arange(int(steps), dtype=jnp.float32))
    return np.asarray(jnp.broadcast_to(values, (int(steps),)), np.float64)


def peak_step(curve: np.ndarray) -> int:
    """The step t where a schedule's η^t is largest (the first, if several): where warm-up ends."""
    return int(np.argmax(curve))


def bias_correction_applies(m_term: int, sigma_term: int) -> bool:
    """Whether ``composed``'s bias correction changes anything: only averages started at 0 (m_term 2, sigma_term 3)."""
    return int(m_term) == 2 or int(sigma_term) == 3


def race_schedule(name: str, twin: str | None, schedule: str, schedule_params: dict) -> tuple[str, dict]:
    """The schedule registry optimizer ``name`` runs with when raced against ``composed`` on ``schedule``.

    Every rule takes the same schedule, except the twin the builder named as
    library-form Adagrad: that name already stands for the lecture's form
    with η/√(t+1), so it runs with a constant η (``composed_equivalent``).
    """
    if name == "adagrad_sum" and twin == name:
        return "constant", {}
    return schedule, schedule_params


def composed_equivalent(m_term: int, sigma_term: int, bias_correction: int, schedule: str = "constant"
                        ) -> tuple[str | None, str]:
    """The classical optimizer that ``composed`` with these pieces equals: (registry name or None, sentence).

    Bias correction only touches averages started at 0 (m_term 2, sigma_term 3).
    With a schedule the named rule takes the same schedule; the one exception
    worth saying is Adagrad: the lecture's form with η/√(t+1) is the library form.
    """
    m, s = int(m_term), int(sigma_term)
    key = (m, s, int(bias_correction) if bias_correction_applies(m, s) else None)
    if (m, s) == (0, 1) and schedule == "inverse_sqrt":
        return "adagrad_sum", ("Adagrad, library form (root of the sum): the lecture's form with η/√(t+1) "
                               "(equal up to where ε enters)")
    name = _COMPOSED_NAMES.get(key)
    if name:
        return name, get(name).label
    fallback = _COMPOSED_TEXT.get((m, s, None)) or _COMPOSED_TEXT.get(key)
    return None, fallback or "no classical name: an optimizer of your own"
_SCHED_BY_NAME = {s.name: s for s in SCHEDULES}


def names() -> list[str]:
    """Registry names of all optimizers."""
    return [o.name for o in OPTIMIZERS]


def schedule_names() -> list[str]:
    return [s.name for s in SCHEDULES]


def get(name: str) -> OptimizerSpec:
    try:
        return _OPT_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown optimizer {name!r}; choose one of {', '.join(names())}") from None


def get_schedule(name: str) -> ScheduleSpec:
    try:
        return _SCHED_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown schedule {name!r}; choose one of {', '.join(schedule_names())}") from None
