"""Issue 5's targets: a 41 × 41 loss slice and the top-5 Hessian eigenvalues of a real network.

Network: 64-64-64-10 ReLU MLP (8,970 parameters) on all 1,797 standardized
scikit-learn digits, full-batch cross-entropy, at its He initialisation.
* Slice: ours (generic ``networks.loss_surface`` and the MLP path
  ``networks.mlp_loss_surface`` that computes the first layer's product with
  the data once for the grid) against a bare PyTorch loop that sets the
  weights and evaluates the loss point by point (CPU torch, as many threads
  as JAX uses). The values are compared too.
* Top-5 eigenvalues by Lanczos, warm, against the dense Hessian's (built here
  once from 8,970 HVPs; about a minute).
Needs the dev-only ``pip install -r requirements-bench.txt`` (torch 2.13.0, CPU).
Run: python bench/bench_network.py [--no-dense]
"""
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from _common import best_of, machine

import networks
from networks import hessian, landscape, models

GRID = 41


def torch_loop(params, d1, d2, x, y, coords):
    """The baseline: for each point, write θ + a·d1 + b·d2 into a torch MLP and evaluate the loss."""
    import torch

    torch.set_grad_enabled(False)
    layers = [torch.nn.Linear(w.shape[0], w.shape[1]) for w, _ in params["layers"]]
    net = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    t = lambda a: torch.from_numpy(np.asarray(a, np.float32))  # noqa: E731
    base = [(t(w).T.contiguous(), t(b)) for w, b in params["layers"]]
    dir1 = [(t(w).T.contiguous(), t(b)) for w, b in d1["layers"]]
    dir2 = [(t(w).T.contiguous(), t(b)) for w, b in d2["layers"]]
    xt, yt = t(x), torch.from_numpy(np.asarray(y, np.int64))
    loss = torch.nn.CrossEntropyLoss()
    out = np.zeros((len(coords), len(coords)))
    for i, b in enumerate(coords):
        for j, a in enumerate(coords):
            for layer, (w, bias), (w1, b1), (w2, b2) in zip(layers, base, dir1, dir2):
                layer.weight.copy_(w + a * w1 + b * w2)
                layer.bias.copy_(bias + a * b1 + b * b2)
            out[i, j] = loss(net(xt), yt).item()
    return out


def main(dense: bool = True):
    print(f"# {machine()}")
    split = networks.load_split("digits", test_fraction=0.0)
    x, y = jnp.asarray(split.x_train), jnp.asarray(split.y_train)
    model = models.MLP((64, 64), "relu")
    params = model.init(jax.random.PRNGKey(0), 64, 10)
    loss_fn = lambda p: models.mlp_loss(p, x, y, "relu")  # noqa: E731
    d1, d2 = (landscape.filter_normalized_direction(params, s) for s in (1, 2))
    coords = np.linspace(-1.0, 1.0, GRID)
    print(f"network 64-64-64-10 ReLU, {model.parameter_count(64, 10):,} parameters, {len(split.y_train):,} digits")

    generic = lambda: landscape.loss_surface(loss_fn, params, (d1, d2), (coords, coords))  # noqa: E731
    fast = lambda: landscape.mlp_loss_surface(params, x, y, "relu", (d1, d2), (coords, coords))  # noqa: E731
    t0 = time.perf_counter(); ours = fast(); first = time.perf_counter() - t0  # noqa: E702
    t_fast, t_generic = best_of(fast, 5), best_of(generic, 5)
    import torch

    np_params = jax.tree.map(np.asarray, params)
    t0 = time.perf_counter()
    theirs = torch_loop(np_params, jax.tree.map(np.asarray, d1), jax.tree.map(np.asarray, d2), split.x_train,
                        split.y_train, coords)
    t_torch = time.perf_counter() - t0
    rel = np.max(np.abs(ours - theirs) / np.abs(theirs))
    print(f"41×41 slice: MLP path {t_fast:.3f} s warm (first call {first:.2f} s), generic loss_surface "
          f"{t_generic:.3f} s; PyTorch loop ({torch.get_num_threads()} threads) {t_torch:.2f} s "
          f"→ {t_torch / t_fast:.1f}× (generic {t_torch / t_generic:.1f}×); max relative difference {rel:.1e}")

    top = lambda: hessian.hessian_top_eigenvalues(loss_fn, params, 5)  # noqa: E731
    t0 = time.perf_counter(); lam = top(); first = time.perf_counter() - t0  # noqa: E702
    t_top = best_of(top, 5)
    print(f"top-5 Hessian eigenvalues (Lanczos, {2 * 5 + 30} HVPs): {t_top * 1e3:.0f} ms warm "
          f"(first call {first:.2f} s): {np.array2string(lam, precision=4)}")
    if dense:
        t0 = time.perf_counter()
        exact = hessian.hessian_spectrum(loss_fn, params)[::-1][:5]
        print(f"dense Hessian and all eigenvalues: {time.perf_counter() - t0:.0f} s; top-5 relative error of "
              f"Lanczos: {np.max(np.abs(lam - exact) / np.abs(exact)):.1e}")


if __name__ == "__main__":
    main(dense="--no-dense" not in sys.argv)
