"""MLPs of any widths and activation, with or without batch normalization; parameters as pytrees.

``params = {"layers": ((W, b), …), "bn": ((γ, β), …)}`` (``bn`` empty without
BN), as ``batchnorm.init_bn_mlp`` makes them. ``mlp_logits`` normalizes with
the statistics of the batch it is given, so the loss of a whole training set
is a deterministic function of the parameters: the function whose landscape
and Hessian the Network lab shows.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, NamedTuple

import jax.numpy as jnp

from networks.batchnorm import ACTIVATIONS, BN_EPS, cross_entropy, init_bn_mlp
from networks.datasets import load_split

class MLP(NamedTuple):
    """An architecture: hidden widths, activation name, batch normalization on/off (hashable)."""

    hidden: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    batch_norm: bool = False

    def sizes(self, features: int, classes: int) -> tuple[int, ...]:
        return (features, *self.hidden, classes)

    def init(self, key, features: int, classes: int):
        """Parameters (He initialisation; γ = 1, β = 0)."""
        return init_bn_mlp(key, self.sizes(features, classes), self.batch_norm)[0]

    def parameter_count(self, features: int, classes: int) -> int:
        sizes = self.sizes(features, classes)
        dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        return dense + (2 * sum(self.hidden) if self.batch_norm else 0)

def hidden_layer(params, i: int, z, activation: str):
    """Activation of hidden layer i from its pre-activations z (batch-normalized over z's rows if BN)."""
    if params["bn"]:
        gamma, beta = params["bn"][i]
        z = gamma * (z - jnp.mean(z, axis=0)) / jnp.sqrt(jnp.var(z, axis=0) + BN_EPS) + beta
    return ACTIVATIONS[activation](z)

def mlp_logits(params, x, activation: str):
    """f(x) for a batch x (rows), with BN (if any) using this batch's statistics."""
    h = x
    for i, (w, b) in enumerate(params["layers"][:-1]):
        h = hidden_layer(params, i, h @ w + b, activation)
    w, b = params["layers"][-1]
    return h @ w + b

def mlp_loss(params, x, labels, activation: str):
    """Mean cross-entropy of the MLP on (x, labels)."""
    return cross_entropy(mlp_logits(params, x, activation), labels)

@lru_cache(maxsize=32)
def dataset_loss(model: MLP, dataset: str, part: str = "train") -> Callable:
    """``loss_fn(params)``: full-batch cross-entropy of ``model`` on a dataset's train or test part.

    Cached per (model, dataset, part): the same function object every time, so
    the Hessian and landscape functions reuse their compiled code.
    """
    split = load_split(dataset)
    x, y = (split.x_train, split.y_train) if part == "train" else (split.x_test, split.y_test)
    x, y = jnp.asarray(x), jnp.asarray(y)
    return lambda params: mlp_loss(params, x, y, model.activation)

def accuracy_of(params, x, labels, activation: str) -> float:
    return float(jnp.mean(jnp.argmax(mlp_logits(params, jnp.asarray(x), activation), axis=1) == jnp.asarray(labels)))
