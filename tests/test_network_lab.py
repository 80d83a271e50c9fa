"""Real networks: Hessian tools against the dense Hessian, slices against a loop, sharding, training, experiments."""
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import networks
from networks import experiments, hessian, landscape, models, training
from networks.datasets import CLASSIFICATION, load_split

ROOT = Path(__file__).resolve().parents[1]
MODEL = models.MLP((5, 4), "tanh", False)  # 4-5-4-3 on iris: 68 parameters, a dense Hessian is cheap


@pytest.fixture(scope="module")
def small():
    loss_fn = models.dataset_loss(MODEL, "iris")
    params = MODEL.init(jax.random.PRNGKey(3), 4, 3)
    flat, unravel = ravel_pytree(params)
    dense = np.asarray(jax.hessian(lambda w: loss_fn(unravel(w)))(flat), np.float64)  # the oracle
    return loss_fn, params, 0.5 * (dense + dense.T)


def test_hvp_is_the_dense_hessian_times_v(small):
    loss_fn, params, dense = small
    flat, unravel = ravel_pytree(params)
    v = np.random.default_rng(0).normal(size=flat.size).astype(np.float32)
    hv = ravel_pytree(hessian.hvp(loss_fn, params, unravel(jnp.asarray(v))))[0]
    np.testing.assert_allclose(hv, dense @ v, rtol=1e-3, atol=1e-4)


def test_spectrum_top_eigenvalues_and_trace_match_the_dense_hessian(small):
    loss_fn, params, dense = small
    exact = np.linalg.eigvalsh(dense)
    np.testing.assert_allclose(hessian.hessian_spectrum(loss_fn, params), exact, atol=1e-4 * np.abs(exact).max())
    top = hessian.hessian_top_eigenvalues(loss_fn, params, 5)
    np.testing.assert_allclose(top, exact[::-1][:5], rtol=5e-3)
    assert list(top) == sorted(top, reverse=True)
    estimate = hessian.hessian_trace(loss_fn, params, num_probes=2000, seed=1)
    assert abs(estimate - np.trace(dense)) < 0.05 * np.abs(exact).sum()
    assert exact.min() < 0  # a random start is not a minimum: the test sees negative curvature too
    ratio = hessian.minimum_ratio(exact)
    assert ratio == pytest.approx(np.mean(exact > 1e-6 * np.abs(exact).max()))


def test_extreme_eigenvectors_and_density(small):
    loss_fn, params, dense = small
    exact, vecs = np.linalg.eigh(dense)
    lmax, vmax, lmin, vmin = hessian.hessian_extreme_eigenvectors(loss_fn, params)
    assert lmax == pytest.approx(exact[-1], rel=1e-3) and lmin == pytest.approx(exact[0], rel=1e-2)
    assert abs(np.dot(ravel_pytree(vmax)[0], vecs[:, -1])) > 0.99
    grid, density = hessian.hessian_density(loss_fn, params, num_runs=4, iterations=40)
    mass = np.trapezoid(density, grid)
    assert mass == pytest.approx(1.0, abs=0.02)
    mean = np.trapezoid(grid * density, grid)
    assert mean == pytest.approx(exact.mean(), abs=0.15 * np.abs(exact).max())


def test_dense_hessian_refuses_large_networks():
    big = {"w": jnp.zeros(hessian.MAX_DENSE_PARAMS + 1)}
    with pytest.raises(ValueError, match="dense Hessian is limited"):
        hessian.hessian_spectrum(lambda p: jnp.sum(p["w"] ** 2), big)


def test_filter_normalized_direction():
    params = models.MLP((8,), "relu", True).init(jax.random.PRNGKey(0), 4, 3)
    d = landscape.filter_normalized_direction(params, seed=5)
    for (w, _), (dw, db) in zip(params["layers"], d["layers"]):
        np.testing.assert_allclose(np.linalg.norm(dw, axis=0), np.linalg.norm(w, axis=0), rtol=1e-5)
        assert not np.any(np.asarray(db))
    assert all(not np.any(np.asarray(x)) for x in jax.tree.leaves(d["batch_norm"]))
    again = landscape.filter_normalized_direction(params, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(d), jax.tree.leaves(again)))


def test_loss_surface_equals_a_loop_in_1d_and_2d(small):
    loss_fn, params, _ = small
    d1 = landscape.filter_normalized_direction(params, 1)
    d2 = landscape.filter_normalized_direction(params, 2)
    xs, ys = np.linspace(-1, 1, 7), np.linspace(-0.5, 0.5, 5)
    move = lambda a, b: jax.tree.map(lambda p, u, v: p + a * u + b * v, params, d1, d2)  # noqa: E731
    loop = np.array([[float(loss_fn(move(a, b))) for a in xs] for b in ys])
    np.testing.assert_allclose(landscape.loss_surface(loss_fn, params, (d1, d2), (xs, ys)), loop, rtol=1e-5)
    line = landscape.loss_surface(loss_fn, params, d1, xs)
    np.testing.assert_allclose(line, loop[2], rtol=1e-5)  # ys[2] = 0
    split = load_split("iris")
    fast = landscape.mlp_loss_surface(params, split.x_train, split.y_train, MODEL.activation, (d1, d2), (xs, ys))
    np.testing.assert_allclose(fast, loop, rtol=1e-5)


def test_grid_is_sharded_over_four_host_devices():
    code = (
        "import jax, numpy as np, optimizers\n"
        "optimizers.enable_persistent_cache()  # the suite's compile cache ($ERROR_SURFACE_LAB_CACHE)\n"
        "from networks import landscape, models\n"
        "assert jax.device_count() == 4\n"
        "m = models.MLP((5,), 'tanh'); f = models.dataset_loss(m, 'iris'); p = m.init(jax.random.PRNGKey(0), 4, 3)\n"
        "d = landscape.filter_normalized_direction(p, 1)\n"
        "arr, n = landscape._sharded(np.zeros((100, 2), np.float32))\n"
        "assert len(arr.sharding.device_set) == 4, arr.sharding\n"
        "xs = np.linspace(-1, 1, 9)\n"
        "got = landscape.loss_surface(f, p, (d, d), (xs, xs))\n"
        "want = np.array([[float(f(jax.tree.map(lambda a, u: a + (x + y) * u, p, d))) for x in xs] for y in xs])\n"
        "np.testing.assert_allclose(got, want, rtol=1e-5)\n"
        "print('ok')\n")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


def test_pca_directions_recover_a_planar_path():
    params = MODEL.init(jax.random.PRNGKey(0), 4, 3)
    flat, _ = ravel_pytree(params)
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(flat.size, 2)))[0]
    coords = np.stack([np.linspace(3, 0, 10), np.sin(np.linspace(0, 3, 10))], axis=1)
    coords -= coords[-1]
    path = np.asarray(flat) + coords @ basis.T
    (d1, d2), got, explained = landscape.pca_directions(path, params)
    back = got @ np.stack([ravel_pytree(d1)[0], ravel_pytree(d2)[0]])
    np.testing.assert_allclose(back, coords @ basis.T, atol=1e-5)
    assert explained.sum() == pytest.approx(1.0, abs=1e-6)


def test_datasets_are_bundled_split_and_standardized():
    for name in CLASSIFICATION:
        s = load_split(name)
        assert len(s.x_test) > 0 and s.classes >= 2
        moved = s.x_train.std(axis=0) > 0
        np.testing.assert_allclose(s.x_train.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(s.x_train.std(axis=0)[moved], 1, atol=1e-4)


def test_training_learns_records_the_path_and_never_recompiles_for_new_numbers(count_compiles):
    config = training.TrainConfig(dataset="iris", model=MODEL, optimizer="adam", hyperparams=(("lr", 0.02),),
                                  batch_size=16, epochs=15)
    result = training.train_network(config)
    assert result.path.shape == (16, MODEL.parameter_count(4, 3)) and list(result.epochs) == list(range(16))
    assert result.train_loss[-1] < 0.5 * result.train_loss[0] and result.test_accuracy[-1] > 0.85
    np.testing.assert_allclose(result.path[-1], ravel_pytree(result.final)[0])
    changed = config._replace(hyperparams=(("lr", 0.005), ("beta1", 0.8)), seed=4, schedule="constant")
    assert count_compiles(lambda: training.train_network(changed), name="_epoch") == 0
    fine = training.train_network(config._replace(record_steps=2))
    steps_per_epoch = 120 // 16
    assert fine.path_steps[-1] == 15 * steps_per_epoch and np.all(np.diff(fine.path_steps) > 0)
    assert len(fine.path) == 1 + 15 * (steps_per_epoch // 2 + 1)  # every 2 updates, and each epoch's end
    np.testing.assert_allclose(fine.path[-1], result.path[-1], rtol=1e-6)  # same training, finer record
    at_epochs = np.isin(fine.path_steps, result.epochs * steps_per_epoch)
    np.testing.assert_allclose(fine.path_loss[at_epochs], result.train_loss, rtol=1e-5)
    blown = training.train_network(config._replace(model=models.MLP((5, 4), "relu"), optimizer="gd",
                                                   hyperparams=(("lr", 1e20),)))
    assert blown.diverged_at >= 1 and np.all(np.isfinite(blown.path))


def test_spectrum_summary_reads_the_dense_spectrum(small):
    loss_fn, params, dense = small
    summary = networks.spectrum_summary(hessian.hessian_spectrum(loss_fn, params))
    lam = np.linalg.eigvalsh(dense)  # jax.hessian's matrix, not the HVP-built one
    assert summary.trace == pytest.approx(float(np.trace(dense)), rel=1e-3, abs=1e-4)
    np.testing.assert_allclose(summary.largest, sorted(lam)[::-1][:5], rtol=1e-3, atol=1e-5)
    assert summary.lowest == pytest.approx(lam[0], rel=1e-3, abs=1e-5)
    made_up = networks.spectrum_summary([-2.0, -1e-12, 0.5, 3.0, 4.0, 7.0], top=3)  # one zero (within tolerance)
    assert (made_up.negative, made_up.lowest, made_up.trace) == (1, -2.0, pytest.approx(12.5))
    assert made_up.minimum_ratio == pytest.approx(4 / 6) and list(made_up.largest) == [7.0, 4.0, 3.0]


def test_saddle_study_finds_saddles_above_minima():
    study = experiments.saddle_study(seeds=8, train_steps=300, refine_steps=800)
    assert study.parameters == 32 and study.largest_gradient_norm < 0.05
    assert study.largest_gradient_norm == max(study.gradient_norm) and study.highest_ratio == max(study.minimum_ratio)
    low, high = np.argsort(study.train_loss)[:3], np.argsort(study.train_loss)[-3:]
    assert study.minimum_ratio[low].mean() > study.minimum_ratio[high].mean()
    assert study.negative[high].min() >= 1  # the high-loss critical points are saddles


def test_a_refined_point_counts_as_critical_only_below_the_tolerance():
    norms = np.array([1e-4, 1e-3, 5e-3, 0.06])
    study = experiments.SaddleStudy(np.ones(4), norms, np.full(4, 0.9), np.ones(4, int), 10)
    assert [study.critical_count(t) for t in (1e-3, 1e-2, 0.1, 1e-5)] == [1, 3, 4, 0]  # strictly below, as on
    # the Critical points page (surfaces.local: ‖g‖ ≥ the tolerance is "not critical")


def test_a_random_slice_shows_a_bowl_where_the_hessian_says_saddle():
    bowl = experiments.hidden_bowl(resolution=11)
    assert np.all(bowl.slice_curvatures > 0)  # the slice's 2 × 2 Hessian: positive definite
    assert bowl.negative >= 1 and bowl.minimum_ratio < 1 and bowl.eigenvalues[0] < 0  # the full one: a saddle
    assert bowl.gradient_norm < 0.05  # a refined (nearly) critical point
    center = bowl.random_slice[5, 5]
    random_low, escape_low = bowl.lowest
    assert (bowl.center_loss, random_low, escape_low) == (
        center, min(bowl.random_slice.ravel()), min(bowl.escape_slice.ravel()))
    assert escape_low < center - 5 * (center - random_low)  # the way down is hidden


def test_batch_size_study_compares_sharpness_and_walks_the_line():
    config = training.TrainConfig(dataset="iris", model=MODEL, optimizer="gd", hyperparams=(("lr", 0.1),), epochs=10)
    study = experiments.batch_size_study(config, small=8, large=120)
    assert study.small.config.batch_size == 8 and study.large.config.batch_size == 120
    assert study.large.config.epochs == 10 * (120 // 8)  # the same number of updates
    train_fn = models.dataset_loss(MODEL, "iris")
    i0, i1 = np.argmin(np.abs(study.line)), np.argmin(np.abs(study.line - 1))
    assert study.line_train[i0] == pytest.approx(float(train_fn(jax.tree.map(jnp.asarray, study.small.final))), rel=1e-5)
    assert study.line_train[i1] == pytest.approx(float(train_fn(jax.tree.map(jnp.asarray, study.large.final))), rel=1e-4)
    assert all(s > 0 for s in study.sharpness)


@pytest.fixture(scope="module")
def gap_study():
    return experiments.batch_gap_study()  # the Network lab's default (BATCH_GAP_SETTING), uncached


def test_the_default_setting_shows_keskars_gap_beyond_its_spread(gap_study):
    """LECTURES 1.5 on the two moons: small batch better on test, full batch better on train and sharper."""
    g, setting = gap_study, experiments.BATCH_GAP_SETTING
    assert list(g.batch_sizes) == [setting.small, len(load_split(setting.dataset).y_train)]
    assert g.gap.shape == (setting.seeds,)
    assert g.gap_mean >= 0.005 and g.gap_mean > 2 * g.gap_error  # ≥ half a point, two standard errors
    ahead, tied, behind = g.small_ahead
    assert ahead >= 6 and behind <= 1 and ahead + tied + behind == setting.seeds
    assert g.gap_spread == pytest.approx(np.std(g.test_accuracy[0] - g.test_accuracy[1], ddof=1))
    mean = g.mean
    assert mean["train_loss"][1] < mean["train_loss"][0] and mean["test_loss"][1] > mean["test_loss"][0]
    assert mean["train_accuracy"][1] > mean["train_accuracy"][0]  # the full batch fits the training set better
    assert g.sharpness[1].min() > g.sharpness[0].max() and g.sharpness_ratio > 3  # sharper, every seed
    # On the line: the same step beyond the large batch's end rises far more than beyond the small batch's.
    (t0, _), (tb, _), (t1, _), (ta, _) = (g.line_at(a) for a in (0.0, -0.5, 1.0, 1.5))
    assert ta - t1 > 2 * (tb - t0) > 0


def test_the_gap_studys_full_batch_run_is_the_trainers_gradient_descent(gap_study):
    """The oracle: ``train_network`` with B = N (plain GD, order-free) from the same start gives the same network."""
    setting = experiments.BATCH_GAP_SETTING
    n = len(load_split(setting.dataset).y_train)
    run = training.train_network(training.TrainConfig(
        dataset=setting.dataset, model=models.MLP(setting.hidden, setting.activation), optimizer="gd",
        hyperparams=(("lr", setting.lr),), batch_size=n, epochs=setting.updates, seed=0,
        record_every=setting.updates))
    assert run.test_accuracy[-1] == pytest.approx(gap_study.test_accuracy[1, 0], abs=1e-6)
    # float32 sums in another order (a shuffled full batch) drift a little over 1,000 steps
    assert run.train_loss[-1] == pytest.approx(gap_study.train_loss[1, 0], rel=2e-2)
    small0 = gap_study.line_at(0.0)[0], gap_study.line_at(1.0)[0]
    assert small0[0] == pytest.approx(gap_study.train_loss[0, 0], rel=1e-4)  # α = 0 is the small batch's network
    assert small0[1] == pytest.approx(gap_study.train_loss[1, 0], rel=1e-4)  # α = 1 the large batch's


def test_public_names():
    for name in ("hessian_top_eigenvalues", "hessian_spectrum", "hessian_trace", "filter_normalized_direction",
                 "loss_surface"):
        assert callable(getattr(networks, name))


def test_warm_up_shortens_adams_first_steps():
    study = experiments.warmup_study(model=models.MLP((16, 16), "relu"), epochs=1, seeds=1)
    adam, constant_warmup, linear_warmup, radam = study.first_epoch_move[:, 0]
    assert constant_warmup < 0.2 * adam and linear_warmup < 0.2 * adam  # 22 updates at ≤ η/10 … η/5 of η
    assert radam < adam  # no σ at first: RAdam's first steps are not η in every coordinate
    assert study.labels == tuple(v[0] for v in experiments.WARMUP_VARIANTS) and study.test_accuracy.shape == (4, 1)
