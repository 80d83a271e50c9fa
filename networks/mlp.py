"""A small multilayer perceptron with softmax cross-entropy, trained by plain SGD."""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp


def init_mlp(key, sizes=(64, 32, 10)) -> list[tuple[jnp.ndarray, jnp.ndarray]]:
    """He-initialised weights and zero biases for the layer sizes."""
    params = []
    for k, (fan_in, fan_out) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        params.append((jax.random.normal(k, (fan_in, fan_out)) * jnp.sqrt(2.0 / fan_in), jnp.zeros(fan_out)))
    return params


def mlp_loss(params, x, labels) -> jnp.ndarray:
    """Mean cross-entropy −log softmax(f(x))_label of a ReLU network f."""
    h = x
    for w, b in params[:-1]:
        h = jax.nn.relu(h @ w + b)
    w, b = params[-1]
    logits = h @ w + b
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))


@partial(jax.jit, donate_argnums=0)
def sgd_step(params, x, labels, lr):
    """One update θ ← θ − η ∇L_batch(θ); compiled once per batch shape."""
    grads = jax.grad(mlp_loss)(params, x, labels)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)
