"""Update rules as pure function pairs (optax's GradientTransformation shape).

Each factory returns ``Optimizer(init, update, sigma)``:
``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``;
the new parameters are ``params + updates`` and every state is a NamedTuple
that carries the step count t (starting at 0). Parameters may be any pytree.
``lr`` is a float or a schedule t -> η^t (``optimizers.schedules``).
``sigma(state)``, for the adaptive rules, is σ^t per parameter after step t
(what the rule divides η by), for the pages that draw it.

Each rule's update equation is written once, as LaTeX, in the ``.. math::``
block of its docstring; the registry reads it from there (``equation``) for
the pages. Notation as in the lecture: g^t gradient at step t, η learning
rate, λ momentum, σ^t_i per-parameter root mean square of past gradients.
Where the lecture's form and the common library form differ there are two
rules: ``adagrad`` / ``adagrad_sum`` and ``rmsprop`` / ``rmsprop_zero``.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers.schedules import learning_rate_at

tree_map = jax.tree.map


class Optimizer(NamedTuple):
    """A pair of pure functions (field names match optax.GradientTransformation), and σ^t where the rule has one."""

    init: Callable
    update: Callable
    sigma: Callable | None = None  # state after step t -> σ^t per parameter


def equation(rule: Callable) -> str:
    """The LaTeX of the ``.. math::`` block in ``rule``'s docstring: its update equation, as the pages show it."""
    lines = inspect.getdoc(rule).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(".. math::"))
    block = [lines[start].removeprefix(".. math::").strip()]
    for line in lines[start + 1:]:
        if not line.startswith(" ") or not line.strip():
            break
        block.append(line.strip())
    return " ".join(part for part in block if part)


class CountState(NamedTuple):
    count: jnp.ndarray


class MomentState(NamedTuple):
    count: jnp.ndarray
    moment: Any  # momentum m, or the trace of past gradients


class SquareState(NamedTuple):
    count: jnp.ndarray
    square: Any  # running sum or average of g²


class AdamState(NamedTuple):
    count: jnp.ndarray
    m: Any  # first moment: exponential average of g, started at 0
    v: Any  # second moment: exponential average of g², started at 0


class AMSGradState(NamedTuple):
    count: jnp.ndarray
    m: Any
    v: Any
    v_max: Any  # running maximum of v̂


def _zeros(params):
    return tree_map(jnp.zeros_like, params)


def _count0():
    return jnp.zeros([], jnp.int32)


def _sqrt_square(state):
    return tree_map(jnp.sqrt, state.square)


def gd(lr=0.01) -> Optimizer:
    r"""Vanilla gradient descent: one step against the gradient.

    .. math:: \theta^{t+1} = \theta^t - \eta\, g^t
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        return tree_map(lambda g: -eta * g, grads), CountState(state.count + 1)

    return Optimizer(lambda params: CountState(_count0()), update)


def momentum(lr=0.01, momentum=0.9) -> Optimizer:
    r"""Gradient descent with momentum, the lecture's form.

    .. math:: m^0 = 0,\quad m^{t+1} = \lambda m^t - \eta\, g^t,\quad \theta^{t+1} = \theta^t + m^{t+1}

    Movement = λ·(last movement) − η·(current gradient). With a constant η this
    equals optax.sgd(η, momentum=λ) / PyTorch SGD(momentum=λ) exactly.
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        m = tree_map(lambda m, g: momentum * m - eta * g, state.moment, grads)
        return m, MomentState(state.count + 1, m)

    return Optimizer(lambda params: MomentState(_count0(), _zeros(params)), update)


def nesterov(lr=0.01, momentum=0.9) -> Optimizer:
    r"""Nesterov accelerated gradient, in the form optax and PyTorch use.

    .. math:: b^{t+1} = \lambda b^t + g^t,\quad \theta^{t+1} = \theta^t - \eta\,(g^t + \lambda b^{t+1})

    The step looks ahead along the momentum (Sutskever et al. 2013, rewritten
    so that only the gradient at θ^t is needed).
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        b = tree_map(lambda b, g: momentum * b + g, state.moment, grads)
        updates = tree_map(lambda g, b: -eta * (g + momentum * b), grads, b)
        return updates, MomentState(state.count + 1, b)

    return Optimizer(lambda params: MomentState(_count0(), _zeros(params)), update)


def adagrad(lr=0.1, eps=1e-8) -> Optimizer:
    r"""Adagrad, the lecture's root-mean-square form (so σ^0_i = |g^0_i|; ε keeps 0/0 away).

    .. math:: \sigma^t_i = \sqrt{\tfrac{1}{t+1}\textstyle\sum_{k=0}^{t} (g^k_i)^2},\quad
       \theta^{t+1}_i = \theta^t_i - \frac{\eta}{\sigma^t_i} g^t_i

    Equals ``adagrad_sum`` with η^t = η·sqrt(t+1).
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        total = tree_map(lambda s, g: s + g**2, state.square, grads)
        n = state.count + 1.0
        updates = tree_map(lambda s, g: -eta * g / (jnp.sqrt(s / n) + eps), total, grads)
        return updates, SquareState(state.count + 1, total)

    def sigma(state):
        return tree_map(lambda s: jnp.sqrt(s / state.count), state.square)

    return Optimizer(lambda params: SquareState(_count0(), _zeros(params)), update, sigma)


def adagrad_sum(lr=0.5, eps=1e-8) -> Optimizer:
    r"""Adagrad, the common library form (Duchi et al. 2011; optax, PyTorch).

    .. math:: \sigma^t_i = \sqrt{\textstyle\sum_{k=0}^{t} (g^k_i)^2},\quad
       \theta^{t+1}_i = \theta^t_i - \frac{\eta}{\sigma^t_i} g^t_i

    The lecture's form with η^t = η / sqrt(t+1), so steps keep shrinking.
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        total = tree_map(lambda s, g: s + g**2, state.square, grads)
        updates = tree_map(lambda s, g: -eta * g / (jnp.sqrt(s) + eps), total, grads)
        return updates, SquareState(state.count + 1, total)

    return Optimizer(lambda params: SquareState(_count0(), _zeros(params)), update, _sqrt_square)


def rmsprop(lr=0.01, alpha=0.9, eps=1e-8) -> Optimizer:
    r"""RMSProp, the lecture's form (Hinton's course notes).

    .. math:: \sigma^0_i = |g^0_i|,\quad \sigma^t_i = \sqrt{\alpha(\sigma^{t-1}_i)^2 + (1-\alpha)(g^t_i)^2},\quad
       \theta^{t+1}_i = \theta^t_i - \frac{\eta}{\sigma^t_i} g^t_i

    Recent gradients weigh more, so the step reacts quickly to a change in
    steepness. Libraries start the average at 0 instead: ``rmsprop_zero``.
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        first = state.count == 0
        sq = tree_map(lambda s, g: jnp.where(first, g**2, alpha * s + (1 - alpha) * g**2), state.square, grads)
        updates = tree_map(lambda s, g: -eta * g / (jnp.sqrt(s) + eps), sq, grads)
        return updates, SquareState(state.count + 1, sq)

    return Optimizer(lambda params: SquareState(_count0(), _zeros(params)), update, _sqrt_square)


def rmsprop_zero(lr=0.01, alpha=0.9, eps=1e-8) -> Optimizer:
    r"""RMSProp, the common library form (optax, PyTorch, Keras).

    .. math:: (\sigma^{-1}_i)^2 = 0,\quad \sigma^t_i = \sqrt{\alpha(\sigma^{t-1}_i)^2 + (1-\alpha)(g^t_i)^2},\quad
       \theta^{t+1}_i = \theta^t_i - \frac{\eta}{\sigma^t_i} g^t_i

    Starting from 0 makes the first steps large: σ^0 = sqrt(1 − α)·|g^0|.
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        sq = tree_map(lambda s, g: alpha * s + (1 - alpha) * g**2, state.square, grads)
        updates = tree_map(lambda s, g: -eta * g / (jnp.sqrt(s) + eps), sq, grads)
        return updates, SquareState(state.count + 1, sq)

    return Optimizer(lambda params: SquareState(_count0(), _zeros(params)), update, _sqrt_square)


# ------------------------------------------------------------------ Adam and its relatives
def _adam_moments(grads, state, beta1, beta2):
    """m^t, v^t (started at 0) and their bias-corrected m̂^t, v̂^t after step t (Kingma & Ba 2015, Alg. 1).

    m^t = β1 m^{t−1} + (1−β1) g^t,  v^t = β2 v^{t−1} + (1−β2) (g^t)²,
    m̂^t = m^t / (1 − β1^{t+1}),  v̂^t = v^t / (1 − β2^{t+1}).
    """
    t = state.count + 1
    m = tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, state.m, grads)
    v = tree_map(lambda v, g: beta2 * v + (1 - beta2) * g**2, state.v, grads)
    m_hat = tree_map(lambda m: m / (1 - beta1**t), m)
    v_hat = tree_map(lambda v: v / (1 - beta2**t), v)
    return m, v, m_hat, v_hat


def _adam_init(params):
    return AdamState(_count0(), _zeros(params), _zeros(params))


def _adam_sigma(beta2):
    """σ^t = sqrt(v̂^t) from Adam's state after step t."""
    return lambda state: tree_map(lambda v: jnp.sqrt(v / (1.0 - beta2**state.count)), state.v)


def adam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8) -> Optimizer:
    r"""Adam: RMSProp + momentum with bias correction (Kingma & Ba 2015); m̂, v̂ as in ``_adam_moments``.

    .. math:: m^t = \beta_1 m^{t-1} + (1-\beta_1) g^t,\ v^t = \beta_2 v^{t-1} + (1-\beta_2)(g^t)^2,\
       \theta^{t+1} = \theta^t - \eta\,\frac{\hat m^t}{\sqrt{\hat v^t} + \varepsilon}
    """

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        m, v, m_hat, v_hat = _adam_moments(grads, state, beta1, beta2)
        updates = tree_map(lambda m, v: -eta * m / (jnp.sqrt(v) + eps), m_hat, v_hat)
        return updates, AdamState(state.count + 1, m, v)

    return Optimizer(_adam_init, update, _adam_sigma(beta2))


def adamw(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01) -> Optimizer:
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    .. math:: \theta^{t+1} = \theta^t - \eta\left(\frac{\hat m^t}{\sqrt{\hat v^t} + \varepsilon}
       + \mathrm{wd}\,\theta^t\right)
    """

    def update(grads, state, params):
        eta = learning_rate_at(lr, state.count)
        m, v, m_hat, v_hat = _adam_moments(grads, state, beta1, beta2)
        updates = tree_map(lambda m, v, p: -eta * (m / (jnp.sqrt(v) + eps) + weight_decay * p), m_hat, v_hat, params)
        return updates, AdamState(state.count + 1, m, v)

    return Optimizer(_adam_init, update, _adam_sigma(beta2))


def amsgrad(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8) -> Optimizer:
    r"""AMSGrad (Reddi et al. 2018): Adam whose denominator never shrinks.

    .. math:: \hat v^t_{\max} = \max(\hat v^{t-1}_{\max}, \hat v^t),\
       \theta^{t+1} = \theta^t - \eta\,\frac{\hat m^t}{\sqrt{\hat v^t_{\max}} + \varepsilon}
    """

    def init(params):
        return AMSGradState(_count0(), _zeros(params), _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        m, v, m_hat, v_hat = _adam_moments(grads, state, beta1, beta2)
        v_max = tree_map(jnp.maximum, state.v_max, v_hat)
        updates = tree_map(lambda m, v: -eta * m / (jnp.sqrt(v) + eps), m_hat, v_max)
        return updates, AMSGradState(state.count + 1, m, v, v_max)

    return Optimizer(init, update, lambda state: tree_map(jnp.sqrt, state.v_max))


def radam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8) -> Optimizer:
    r"""Rectified Adam (Liu et al. 2020): momentum only until v̂ is reliable.

    .. math:: \theta^{t+1} = \theta^t - \eta\, r_t\,\frac{\hat m^t}{\sqrt{\hat v^t} + \varepsilon}\
       (\text{or } -\eta\,\hat m^t \text{ while } \rho_t < 5)

    ρ_∞ = 2/(1−β2) − 1,  ρ_t = ρ_∞ − 2 t β2^t / (1 − β2^t)  (t counted from 1),
    r_t = sqrt((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t)).
    The lecture's reason for warm-up, built into the optimizer.
    """
    rho_inf = 2.0 / (1.0 - beta2) - 1.0

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        m, v, m_hat, v_hat = _adam_moments(grads, state, beta1, beta2)
        t = state.count + 1
        b2t = beta2**t
        rho = rho_inf - 2.0 * t * b2t / (1.0 - b2t)
        safe_rho = jnp.maximum(rho, 5.0)
        r = jnp.sqrt((safe_rho - 4) * (safe_rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * safe_rho))
        updates = tree_map(
            lambda m, v: -eta * jnp.where(rho >= 5.0, r * m / (jnp.sqrt(v) + eps), m), m_hat, v_hat
        )
        return updates, AdamState(state.count + 1, m, v)

    return Optimizer(_adam_init, update, _adam_sigma(beta2))


def lion(lr=0.01, beta1=0.9, beta2=0.99, weight_decay=0.0) -> Optimizer:
    r"""Lion (Chen et al. 2023): the sign of an interpolated momentum; every coordinate moves by exactly η.

    .. math:: \theta^{t+1} = \theta^t - \eta\,\mathrm{sign}\!\left(\beta_1 m^t + (1-\beta_1) g^t\right),\
       m^{t+1} = \beta_2 m^t + (1-\beta_2) g^t

    (plus η·wd·θ^t, decoupled weight decay, when ``weight_decay`` > 0).
    """

    def update(grads, state, params):
        eta = learning_rate_at(lr, state.count)
        direction = tree_map(lambda m, g: jnp.sign(beta1 * m + (1 - beta1) * g), state.moment, grads)
        updates = tree_map(lambda d, p: -eta * (d + weight_decay * p), direction, params)
        m = tree_map(lambda m, g: beta2 * m + (1 - beta2) * g, state.moment, grads)
        return updates, MomentState(state.count + 1, m)

    return Optimizer(lambda params: MomentState(_count0(), _zeros(params)), update)


# ------------------------------------------------------------------ the lecture's summary, piece by piece
class ComposedState(NamedTuple):
    """Every running sum a piece of ``composed`` may need, all updated at every step."""

    count: jnp.ndarray
    momentum: Any  # Σ_k β1^k g^{t−k}
    average: Any  # exponential average of g, started at 0
    square_sum: Any  # Σ_k (g^k)²
    square_average: Any  # exponential average of g², started at (g^0)²
    square_average_zero: Any  # exponential average of g², started at 0


# The pieces of ``composed``, by index (the hyperparameters m_term, sigma_term), with their LaTeX.
M_TERMS = ("gradient gᵗ", "momentum: Σ β1ᵏ gᵗ⁻ᵏ", "exponential average of g")
SIGMA_TERMS = ("none (σ = 1)", "root mean square of all past g (Adagrad)",
               "exponential average of g², started at (g⁰)² (RMSProp, lecture)",
               "exponential average of g², started at 0 (RMSProp library, Adam)")

M_TERMS_LATEX = (
    r"m^t = g^t",
    r"m^t = \beta_1 m^{t-1} + g^t = \textstyle\sum_{k=0}^{t} \beta_1^k g^{t-k}",
    r"m^t = \beta_1 m^{t-1} + (1 - \beta_1)\, g^t,\quad m^{-1} = 0",
)
SIGMA_TERMS_LATEX = (
    r"\sigma^t_i = 1",
    r"\sigma^t_i = \sqrt{\tfrac{1}{t+1}\textstyle\sum_{k=0}^{t} (g^k_i)^2}",
    r"(\sigma^t_i)^2 = \beta_2 (\sigma^{t-1}_i)^2 + (1 - \beta_2)(g^t_i)^2,\quad \sigma^0_i = |g^0_i|",
    r"(\sigma^t_i)^2 = \beta_2 (\sigma^{t-1}_i)^2 + (1 - \beta_2)(g^t_i)^2,\quad \sigma^{-1}_i = 0",
)


def _piece(index, options):
    """options[index] for an index that is traced data (a number per trajectory), elementwise.

    The index stays a number, not a Python choice, so that every combination
    of pieces runs in one compiled program and a new choice never recompiles.
    """
    k = jnp.round(jnp.asarray(index)).astype(jnp.int32)
    return jnp.choose(k, jnp.broadcast_arrays(*options), mode="clip")


def composed_direction(state: ComposedState, grads, m_term, bias_correction, beta1):
    """m^t per parameter (``M_TERMS[m_term]``) from the state after step t; the average bias-corrected if asked."""
    corrected = 1.0 - bias_correction * beta1**state.count  # 1 − β1^{t+1}, or 1 without correction
    return tree_map(lambda g, mo, a: _piece(m_term, (g, mo, a / corrected)), grads, state.momentum, state.average)


def composed_sigma(state: ComposedState, sigma_term, bias_correction, beta2):
    """σ^t per parameter (``SIGMA_TERMS[sigma_term]``; ones for "none") from the state after step t."""
    t = state.count  # steps done = t + 1
    corrected = 1.0 - bias_correction * beta2**t  # 1 − β2^{t+1}, or 1 without correction
    return tree_map(lambda s, a, a0: _piece(sigma_term, (jnp.ones_like(s), jnp.sqrt(s / t), jnp.sqrt(a),
                                                         jnp.sqrt(a0 / corrected))),
                    state.square_sum, state.square_average, state.square_average_zero)


def composed(lr=0.1, m_term=2, sigma_term=3, bias_correction=1, beta1=0.9, beta2=0.999, eps=1e-8) -> Optimizer:
    r"""The lecture's summary of optimization, every piece switchable (lecture 2.3).

    .. math:: \theta^{t+1}_i = \theta^t_i - \frac{\eta^t}{\sigma^t_i}\, m^t_i

    (σ^t_i + ε in the denominator, no ε when σ is "none").
    m^t, the direction (``m_term``, ``composed_direction``):
      0: m^t = g^t;
      1: momentum, m^t = β1 m^{t−1} + g^t (= Σ_k β1^k g^{t−k}, the lecture's
         weighted sum; −η m^t is the lecture's movement for a constant η);
      2: exponential average, m^t = β1 m^{t−1} + (1−β1) g^t from m^{−1} = 0,
         divided by 1 − β1^{t+1} when ``bias_correction`` = 1.
    σ^t, the magnitude (``sigma_term``, ``composed_sigma``):
      0: none, σ = 1;
      1: root mean square of all past gradients, sqrt(Σ_{k≤t} (g^k)² / (t+1)) (Adagrad);
      2: exponential average started at (g^0)²: σ² ← β2 σ² + (1−β2) g² (RMSProp, lecture);
      3: exponential average started at 0, divided by 1 − β2^{t+1} when
         ``bias_correction`` = 1 (RMSProp library form; Adam's v̂).
    Hence (2, 3, bias on) is Adam (bit for bit), (0, 1) Adagrad, (0, 2)
    RMSProp, (1, 0) momentum, (0, 0) gradient descent. Every running sum is
    kept at every step, so that the pieces are numbers (traced data): every
    combination runs in one compiled program.
    """

    def init(params):
        z = _zeros(params)
        return ComposedState(_count0(), z, z, z, z, z)

    def accumulate(grads, state):
        first = state.count == 0
        return ComposedState(
            state.count + 1,
            tree_map(lambda m, g: beta1 * m + g, state.momentum, grads),
            tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, state.average, grads),
            tree_map(lambda s, g: s + g**2, state.square_sum, grads),
            tree_map(lambda s, g: jnp.where(first, g**2, beta2 * s + (1 - beta2) * g**2), state.square_average, grads),
            tree_map(lambda s, g: beta2 * s + (1 - beta2) * g**2, state.square_average_zero, grads),
        )

    def sigma(state):
        return composed_sigma(state, sigma_term, bias_correction, beta2)

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        state = accumulate(grads, state)
        m = composed_direction(state, grads, m_term, bias_correction, beta1)
        eps_t = eps * (jnp.round(sigma_term) != 0)  # no ε beside σ = 1
        return tree_map(lambda m, s: -eta * m / (s + eps_t), m, sigma(state)), state

    return Optimizer(init, update, sigma)
