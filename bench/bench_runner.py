"""run_batch: 1,024 trajectories × 1,000 Adam steps on himmelblau, against two baselines.

Baselines, measured in the same run, each returning the same paths
(1,024 × 1,001 × 2, what a plot needs):
  * NumPy, vectorized over the 1,024 trajectories (analytic gradient, Adam by hand);
  * optax stepped from a Python loop (each step one jitted call of grad + update).
Target (issue 2): ≥ 10× faster than NumPy, ≥ 20× faster than the optax loop.
Run: python bench/bench_runner.py
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
from _common import best_of, machine

import optimizers
import surfaces

N, STEPS, LR = 1024, 1000, 0.05
rng = np.random.default_rng(0)
starts = rng.uniform(-5, 5, size=(N, 2)).astype(np.float32)


def ours():
    return optimizers.run_batch("himmelblau", "adam", starts, STEPS, lr=LR)


def himmelblau_grad(p):
    x, y = p[:, 0], p[:, 1]
    a, b = x**2 + y - 11, x + y**2 - 7
    return np.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b], axis=1)


def numpy_adam():
    p = starts.astype(np.float32).copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    path = np.empty((STEPS + 1, N, 2), np.float32)
    path[0] = p
    for t in range(1, STEPS + 1):
        g = himmelblau_grad(p)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - LR * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        path[t] = p
    return np.swapaxes(path, 0, 1)


tx = optax.adam(LR)
grad = jax.vmap(jax.grad(surfaces.get("himmelblau").loss))


@jax.jit
def optax_step(p, state):
    updates, state = tx.update(grad(p), state, p)
    return optax.apply_updates(p, updates), state


def optax_loop():
    p = jnp.asarray(starts)
    state = tx.init(p)
    path = [p]
    for _ in range(STEPS):
        p, state = optax_step(p, state)
        path.append(p)
    return np.swapaxes(np.asarray(jnp.stack(path)), 0, 1)


if __name__ == "__main__":
    ours(), optax_loop()  # compile both first
    for name, other in (("NumPy", numpy_adam()), ("optax", optax_loop())):
        # At a minimum Adam divides round-off-sized gradients by their own RMS,
        # so each implementation jitters by up to ±η there, differently.
        diff = np.abs(ours() - other)
        share = float(np.mean(diff > 1e-3))
        assert share < 1e-3 and diff.max() <= 2 * LR, (name, share, diff.max())
        print(f"  same paths as {name}: {100 * (1 - share):.2f}% of points within 1e-3, all within 2η")
    t_ours = best_of(ours)
    t_numpy = best_of(numpy_adam, 3)
    t_optax = best_of(optax_loop, 3)
    print(f"# {machine()}")
    print(f"run_batch, {N} trajectories x {STEPS} Adam steps on himmelblau (warm)")
    print(f"  ours (scan + vmap, one call): {t_ours * 1e3:8.1f} ms")
    print(f"  NumPy vectorized:             {t_numpy * 1e3:8.1f} ms   ratio {t_numpy / t_ours:5.1f}x  (target >= 10x)")
    print(f"  optax, Python loop of jitted steps: {t_optax * 1e3:8.1f} ms   ratio {t_optax / t_ours:5.1f}x  (target >= 20x)")
