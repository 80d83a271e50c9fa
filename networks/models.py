"""The one MLP of the app: any widths and activation, with batch or layer normalization or none.

Parameters are a pytree
    ``{"layers": ((W, b), …), "batch_norm": ((γ, β), …), "layer_norm": ((γ, β), …)}``
with one (γ, β) per hidden layer in the entry of the normalization in use
and the other entry empty, so the parameters themselves say which
normalization the forward pass applies. For hidden layer l with
pre-activations z = h W + b over a batch (rows):

* batch normalization (Ioffe & Szegedy 2015), per unit over the batch's rows:
      μ_B = mean_rows(z),  σ²_B = var_rows(z),  ẑ = γ ⊙ (z − μ_B) / sqrt(σ²_B + ε) + β.
  In training (train mode) μ_B, σ²_B are the batch's, and moving averages
  μ̄ ← p·μ̄ + (1 − p)·μ_B (the same for σ̄²) are kept for eval mode, which
  uses μ̄, σ̄² because at test time there is no batch.
* layer normalization (Ba, Kiros & Hinton 2016), per example over its units:
      μ = mean_units(z),  σ² = var_units(z),  ẑ = γ ⊙ (z − μ) / sqrt(σ² + ε) + β.
  No statistic crosses examples, so train and eval mode are the same function.

The output layer is linear (logits); the loss is the mean cross-entropy of
softmax(logits), ``surfaces.classification.cross_entropy_of_softmax`` (the
lecture's e = −Σ ŷ_i ln y'_i, written once there).
``mlp_logits`` normalizes a batch-norm network with the statistics of the
batch it is given, so the loss of a whole training set is a deterministic
function of the parameters: the function whose landscape and Hessian the
Network lab shows.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp

from networks.datasets import load_split
from surfaces.classification import cross_entropy_of_softmax

NORM_EPS = 1e-5  # the ε inside sqrt(σ² + ε) of both normalizations (PyTorch's default)
ACTIVATIONS: dict[str, Callable] = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh}
NORMALIZATIONS = ("none", "batch", "layer")  # what a hidden layer's pre-activations go through


class MLP(NamedTuple):
    """An architecture: hidden widths, activation name, batch or layer normalization on/off (hashable)."""

    hidden: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    batch_norm: bool = False
    layer_norm: bool = False

    @property
    def normalization(self) -> str:
        """One of NORMALIZATIONS."""
        return normalization_of(self.batch_norm, self.layer_norm)

    def sizes(self, features: int, classes: int) -> tuple[int, ...]:
        return (features, *self.hidden, classes)

    def init(self, key, features: int, classes: int):
        """Parameters (He initialisation; γ = 1, β = 0)."""
        return init_mlp(key, self.sizes(features, classes), self.normalization)

    def parameter_count(self, features: int, classes: int) -> int:
        sizes = self.sizes(features, classes)
        dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        return dense + (2 * sum(self.hidden) if self.normalization != "none" else 0)


def normalization_of(batch_norm: bool, layer_norm: bool) -> str:
    """The NORMALIZATIONS name of two switches; both on is refused (a layer gets one normalization)."""
    if batch_norm and layer_norm:
        raise ValueError("choose batch normalization or layer normalization, not both")
    return "batch" if batch_norm else "layer" if layer_norm else "none"


def init_mlp(key, sizes: tuple[int, ...] = (64, 32, 10), normalization: str = "none"):
    """He-initialised (W, b) per layer, W ~ N(0, 2/fan_in); γ = 1, β = 0 per hidden layer if normalized."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    layers = []
    for k, (fan_in, fan_out) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        layers.append((jax.random.normal(k, (fan_in, fan_out)) * jnp.sqrt(2.0 / fan_in), jnp.zeros(fan_out)))
    affine = tuple((jnp.ones(h), jnp.zeros(h)) for h in sizes[1:-1])
    return {"layers": tuple(layers),
            "batch_norm": affine if normalization == "batch" else (),
            "layer_norm": affine if normalization == "layer" else ()}


def initial_moving_averages(params) -> tuple:
    """(μ̄, σ̄²) = (0, 1) per batch-normalized layer (empty without batch normalization)."""
    return tuple((jnp.zeros_like(gamma), jnp.ones_like(gamma)) for gamma, _ in params["batch_norm"])


def normalize(z, gamma, beta, mean, var):
    """ẑ = γ ⊙ (z − μ) / sqrt(σ² + ε) + β: the affine normalization both batch and layer norm apply."""
    return gamma * (z - mean) / jnp.sqrt(var + NORM_EPS) + beta


def mlp_forward(params, x, activation: str, moving_averages=(), train: bool = True, momentum_p: float = 0.9,
                first_preactivation=None):
    """Logits of the MLP on a batch x (rows) and the updated moving averages: the one forward pass.

    Batch normalization uses the batch's statistics when ``train`` (and then
    updates ``moving_averages`` when given: μ̄ ← p μ̄ + (1 − p) μ_B), the
    moving averages otherwise. ``first_preactivation``, when given, replaces
    x W₀ + b₀ (the landscape slices compute it once for a whole grid).
    """
    act = ACTIVATIONS[activation]
    layers = params["layers"]
    h, new_averages = x, []
    for i, (w, b) in enumerate(layers[:-1]):
        z = first_preactivation if (i == 0 and first_preactivation is not None) else h @ w + b
        if params["batch_norm"]:
            gamma, beta = params["batch_norm"][i]
            if train:
                mean, var = jnp.mean(z, axis=0), jnp.var(z, axis=0)
                if moving_averages:
                    mean_bar, var_bar = moving_averages[i]
                    new_averages.append((momentum_p * mean_bar + (1 - momentum_p) * mean,
                                         momentum_p * var_bar + (1 - momentum_p) * var))
            else:
                mean, var = moving_averages[i]
                new_averages.append((mean, var))
            z = normalize(z, gamma, beta, mean, var)
        elif params["layer_norm"]:
            gamma, beta = params["layer_norm"][i]
            z = normalize(z, gamma, beta, jnp.mean(z, axis=-1, keepdims=True), jnp.var(z, axis=-1, keepdims=True))
        h = act(z)
    w, b = layers[-1]
    return h @ w + b, tuple(new_averages)


def mlp_logits(params, x, activation: str):
    """f(x) for a batch x (rows), with batch normalization (if any) using this batch's statistics."""
    return mlp_forward(params, x, activation)[0]


def cross_entropy(logits, labels):
    """Mean over the batch of −ln softmax(logits)_label (``cross_entropy_of_softmax`` per row)."""
    return jnp.mean(cross_entropy_of_softmax(logits, labels))


def accuracy(logits, labels):
    """Share of rows whose largest logit is the label's."""
    return jnp.mean(jnp.argmax(logits, axis=-1) == labels)


def mlp_loss(params, x, labels, activation: str = "relu"):
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
