"""Softmax and the two classification losses of lecture 2.4, for any number of classes.

y are the network's outputs (logits), y' = softmax(y) the predicted class
probabilities, ŷ the one-hot target. The lecture's picture fixes three
classes, target class 1 and y3 = −1000, so that only (y1, y2) vary: the
catalog's ``softmax_mse`` and ``softmax_cross_entropy`` surfaces.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

PINNED_LOGIT = -1000.0  # the lecture's y3: class 3 never gets any probability
TARGET_CLASS = 0  # the lecture's class 1, counted from 0


def softmax(logits):
    r"""y'_i = exp(y_i) / Σ_j exp(y_j), computed as exp(y_i − max y) so that no exp overflows."""
    return jax.nn.softmax(jnp.asarray(logits, jnp.float32), axis=-1)


def sigmoid(z):
    r"""σ(z) = 1 / (1 + e^{−z}); with two classes softmax(y)_1 = σ(y1 − y2)."""
    return jax.nn.sigmoid(z)


class TwoClasses(NamedTuple):
    """softmax(y₁, y₂)₁ against σ(y₁ − y₂) over a range of differences d = y₁ − y₂."""

    difference: np.ndarray  # (k,) d
    softmax_first: np.ndarray  # (k,) softmax(d/2 + shift, −d/2 + shift)_1
    sigmoid: np.ndarray  # (k,) σ(d)
    largest_gap: float  # max |softmax − σ|


def two_classes(differences, shift: float = 1.5) -> TwoClasses:
    """With two classes softmax is the sigmoid of the difference: e^{y₁}/(e^{y₁} + e^{y₂}) = 1/(1 + e^{−(y₁−y₂)}).

    The logits are (d/2 + shift, −d/2 + shift): adding the same number to both
    changes nothing, so only the difference matters.
    """
    d = np.asarray(differences, np.float64)
    logits = np.stack([d / 2 + shift, -d / 2 + shift], axis=-1)
    first = np.asarray(softmax(logits)[..., 0], np.float64)
    sig = np.asarray(sigmoid(jnp.asarray(d, jnp.float32)), np.float64)
    return TwoClasses(d, first, sig, float(np.max(np.abs(first - sig))))


def one_hot(target: int, classes: int):
    return jnp.zeros(classes).at[target].set(1.0)


def mse_of_softmax(logits, target: int = TARGET_CLASS):
    r"""e = Σ_i (ŷ_i − y'_i)² with y' = softmax(y)."""
    p = softmax(logits)
    return jnp.sum((one_hot(target, p.shape[-1]) - p) ** 2, axis=-1)


def cross_entropy_of_softmax(logits, target=TARGET_CLASS):
    r"""e = −Σ_i ŷ_i ln y'_i = log Σ_j exp(y_j) − y_target (log-sum-exp: finite even where y'_target underflows).

    The one cross-entropy of the app: ``target`` is a class index, or one
    index per row of ``logits`` (a batch's labels; the networks average it).
    """
    y = jnp.asarray(logits, jnp.float32)
    index = jnp.broadcast_to(jnp.asarray(target, jnp.int32), y.shape[:-1])[..., None]
    return jax.nn.logsumexp(y, axis=-1) - jnp.take_along_axis(y, index, axis=-1)[..., 0]


class SoftmaxReadout(NamedTuple):
    """What the softmax calculator shows for logits y and a one-hot target."""

    probabilities: np.ndarray  # y′ = softmax(y)
    total: float  # Σ y′ (1 up to round-off)
    mse: float  # Σ (ŷ − y′)²
    cross_entropy: float  # −ln y′_target
    sigmoid: float | None  # σ(y₁ − y₂) when there are two classes (equal to y′₁), else None


def softmax_readout(logits, target: int) -> SoftmaxReadout:
    """softmax(y), Σ y′, both losses for one-hot ``target`` (0-based), and σ(y₁ − y₂) for two classes."""
    y = np.asarray(logits, np.float32)
    probs = np.asarray(softmax(y), np.float64)
    return SoftmaxReadout(probs, float(probs.sum()), float(mse_of_softmax(y, target)),
                          float(cross_entropy_of_softmax(y, target)),
                          float(sigmoid(y[0] - y[1])) if len(y) == 2 else None)


def lecture_logits(p):
    """(y1, y2) -> (y1, y2, −1000): the lecture's three outputs with the third pinned."""
    return jnp.stack([p[0], p[1], jnp.asarray(PINNED_LOGIT, p.dtype)])


def target_probability(points) -> np.ndarray:
    r"""y'_1 = softmax(y1, y2, −1000)_1 = σ(y1 − y2) at every (y1, y2) of ``points`` (…, 2): the probability of the right class.

    One measure for runs on either loss surface, so they can be compared on one axis
    (their losses, MSE and cross-entropy, are not on the same scale). NaN stays NaN.
    """
    p = np.asarray(points, np.float64)
    return 1.0 / (1.0 + np.exp(-(p[..., 0] - p[..., 1])))


MAX_CLASSES = 12
MAX_LOGIT = 1e4
_NUMBER = re.compile(r"[+\-−]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_logits(text: str) -> np.ndarray:
    """Numbers separated by commas, semicolons or spaces -> float array; ValueError that says what is wrong.

    Each token must look like a decimal number (checked by a regular
    expression before ``float``; nothing is evaluated). Between 2 and
    MAX_CLASSES values, each within ±MAX_LOGIT.
    """
    tokens = [t for t in re.split(r"[,;\s]+", text.strip()) if t]
    if len(tokens) < 2:
        raise ValueError("enter at least two numbers, e.g. 3, 1, -3")
    if len(tokens) > MAX_CLASSES:
        raise ValueError(f"at most {MAX_CLASSES} classes, got {len(tokens)}")
    values = []
    for i, token in enumerate(tokens, 1):
        if not _NUMBER.fullmatch(token):
            raise ValueError(f"value {i}, {token[:20]!r}, is not a number")
        v = float(token.replace("−", "-"))
        if abs(v) > MAX_LOGIT:
            raise ValueError(f"value {i} is {v:g}; keep every logit within ±{MAX_LOGIT:g}")
        values.append(v)
    return np.asarray(values, np.float64)
