"""Hessian-eigenvalue map on 1000 × 1000 points (loss, ‖g‖ and both eigenvalues).

Target (issue 2): ≤ 0.2 s warm. Also compares the closed-form 2×2 eigenvalues
with jnp.linalg.eigvalsh on the same Hessians (the issue measured ~10×).
Run: python bench/bench_hessian_map.py
"""
import jax
import jax.numpy as jnp
import numpy as np
from _common import best_of, machine

import surfaces

RES = 1000

if __name__ == "__main__":
    print(f"# {machine()}")
    print(f"grid maps on {RES} x {RES} points (loss, gradient norm, both Hessian eigenvalues), warm")
    for name in ("himmelblau", "rosenbrock", "rastrigin", "ackley"):
        surfaces.grid(name, RES)
        t = best_of(lambda name=name: surfaces.grid(name, RES), 5)
        print(f"  {name:12s} {t * 1e3:7.1f} ms  (target <= 200 ms)")

    loss = surfaces.get("himmelblau").loss
    xs = jnp.linspace(-5, 5, RES)
    pts = jnp.stack([a.ravel() for a in jnp.meshgrid(xs, xs)], axis=-1)
    hessians = jax.jit(jax.vmap(jax.hessian(loss)))(pts).block_until_ready()
    closed = jax.jit(lambda h: surfaces.symmetric_eigen_2x2(h)[0])
    general = jax.jit(jnp.linalg.eigvalsh)
    closed(hessians).block_until_ready(), general(hessians).block_until_ready()
    t_closed = best_of(lambda: closed(hessians).block_until_ready(), 5)
    t_general = best_of(lambda: general(hessians).block_until_ready(), 3)
    np.testing.assert_allclose(closed(hessians), general(hessians), rtol=1e-4, atol=1e-2)
    print(f"eigenvalues of {RES * RES:,} 2x2 Hessians: closed form {t_closed * 1e3:.1f} ms, "
          f"jnp.linalg.eigvalsh {t_general * 1e3:.1f} ms ({t_general / t_closed:.0f}x)")
