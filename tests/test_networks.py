"""networks: the 2-parameter regression against NumPy, mini-batch SGD's shuffling and batching, the MLP, timing."""
import numpy as np
import pytest

import networks

DATA = networks.line_data()
N = len(DATA.x)


def full_gradient(theta, x, y):
    r = theta[0] * x + theta[1] - y
    return np.array([2 * np.mean(r * x), 2 * np.mean(r)])


def test_data_is_fixed_by_its_seed():
    again = networks.line_data()
    np.testing.assert_array_equal(DATA.x, again.x) and np.testing.assert_array_equal(DATA.y, again.y)
    assert N == 32 and not np.array_equal(DATA.y, networks.line_data(seed=1).y)


def test_loss_grid_equals_the_brute_force_mean():
    ws, bs = np.linspace(-1, 4, 7), np.linspace(-3, 2, 5)
    W, B = np.meshgrid(ws, bs)
    brute = np.mean((W[..., None] * DATA.x + B[..., None] - DATA.y) ** 2, axis=-1)
    np.testing.assert_allclose(networks.loss_grid(DATA.x, DATA.y, ws, bs), brute, rtol=1e-12)
    np.testing.assert_allclose(networks.loss_at(DATA, np.stack([W, B], -1)), brute, rtol=1e-12)


def test_least_squares_matches_polyfit_and_a_single_example_has_a_line_of_minima():
    np.testing.assert_allclose(networks.least_squares(DATA.x, DATA.y), np.polyfit(DATA.x, DATA.y, 1), rtol=1e-10)
    assert networks.least_squares(DATA.x[:1], DATA.y[:1]) is None


def test_each_batch_has_its_own_minimum():
    panels = networks.batch_surfaces(DATA, 4, np.linspace(-1, 4, 9), np.linspace(-3, 2, 9), count=3)
    assert [p.label for p in panels] == ["full batch L", "mini-batch L1", "mini-batch L2", "mini-batch L3"]
    minima = np.array([p.minimum for p in panels])
    assert np.min(np.linalg.norm(minima[1:] - minima[0], axis=1)) > 0.05  # not where the full batch stops
    for p in panels[1:]:  # and the full-batch gradient is not zero there
        assert np.linalg.norm(full_gradient(p.minimum, DATA.x, DATA.y)) > 1e-3


@pytest.mark.parametrize("batch_size", [1, 5, 32])
def test_partition_covers_every_example_once(batch_size):
    parts = networks.batch_partition(N, batch_size, seed=3)
    assert len(parts) == -(-N // batch_size)
    assert sorted(np.concatenate(parts)) == list(range(N))


def test_full_batch_sgd_is_gradient_descent():
    run = networks.sgd_paths(DATA, N, 15, 0.1, (-1.0, 2.0), seeds=(0, 1))
    theta, expected = np.array([-1.0, 2.0]), [np.array([-1.0, 2.0])]
    for _ in range(15):
        theta = theta - 0.1 * full_gradient(theta, DATA.x, DATA.y)
        expected.append(theta)
    assert run.path.shape == (2, 16, 2) and run.updates_per_epoch == 1
    for seed in range(2):
        np.testing.assert_allclose(run.path[seed], expected, atol=1e-5)
    np.testing.assert_allclose(run.loss[0], networks.loss_at(DATA, np.array(expected)), rtol=1e-4)


def test_updates_done_counts_whole_batches_of_the_examples_seen():
    """N = 32, B = 12: an epoch is 3 updates (12, 12 and a short 8); an update counts once its batch is in."""
    seen = [0, 11, 12, 23, 24, 31, 32, 44, 64]
    assert list(networks.updates_done(seen, 32, 12)) == [0, 0, 1, 1, 2, 2, 3, 4, 6]
    assert list(networks.updates_done(seen, 32, 1)) == seen
    assert list(networks.updates_done(seen, 32, 32)) == [0, 0, 0, 0, 0, 0, 1, 1, 2]
    assert list(networks.updates_done(seen, 32, 99)) == [0, 0, 0, 0, 0, 0, 1, 1, 2]  # B > N is the full batch


def test_batch_race_puts_every_run_at_the_same_examples_seen():
    """4 epochs, B = 4 and B = 16 of N: frames every 1/f epoch; at each, both runs have taken the same examples."""
    n = N
    small = networks.sgd_paths(DATA, 4, 4, 0.02, (-1.0, 2.0), seeds=(0, 1))
    large = networks.sgd_paths(DATA, 16, 4, 0.02, (-1.0, 2.0), seeds=(0, 1))
    race = networks.batch_race([small, large], n, 4, max_frames=21)  # 5 frames an epoch fit: 4·5 + 1 = 21
    assert race.frames_per_epoch == 5 and len(race.examples) == 21
    np.testing.assert_array_equal(race.examples, np.arange(21) * n // 5)
    np.testing.assert_array_equal(race.updates[0], race.examples // n * small.updates_per_epoch
                                  + race.examples % n // 4)
    np.testing.assert_array_equal(race.updates[1], race.examples // n * large.updates_per_epoch
                                  + race.examples % n // 16)
    assert list(race.updates[:, 10]) == [16, 4]  # epoch 2: 2·32 examples, as 16 batches of 4 and as 4 of 16
    np.testing.assert_array_equal(race.paths[0], small.path[:, race.updates[0]])
    np.testing.assert_array_equal(race.losses[1], large.loss[:, race.updates[1]])
    coarse = networks.batch_race([small, large], n, 4, max_frames=3)  # never fewer than one frame an epoch
    assert coarse.frames_per_epoch == 1 and list(coarse.updates[1]) == [0, 2, 4, 6, 8]  # 32 / 16: 2 an epoch


def matching_example(before, after, lr):
    """The index i for which after = before − η ∇ℓ_i(before), or None."""
    r = before[0] * DATA.x + before[1] - DATA.y
    steps = before[None] - lr * np.stack([2 * r * DATA.x, 2 * r], axis=1)
    err = np.linalg.norm(steps - after[None], axis=1)
    i = int(err.argmin())
    return i if err[i] < 1e-4 else None


def test_batch_of_one_uses_every_example_once_per_epoch_reshuffled():
    run = networks.sgd_paths(DATA, 1, 2, 0.02, (-1.0, 2.0), seeds=(7,))
    p = run.path[0]
    orders = []
    for e in range(2):
        order = [matching_example(p[k], p[k + 1], 0.02) for k in range(e * N, (e + 1) * N)]
        assert None not in order and sorted(order) == list(range(N))
        orders.append(order)
    assert orders[0] != orders[1]  # shuffled between epochs


def test_a_short_last_batch_averages_only_its_real_examples():
    # N = 32, B = 31: two updates per epoch, the second over a single example (30 padded slots weigh 0).
    run = networks.sgd_paths(DATA, 31, 1, 0.02, (-1.0, 2.0), seeds=(0,))
    assert run.updates_per_epoch == 2 and run.path.shape == (1, 3, 2)
    assert matching_example(run.path[0, 1], run.path[0, 2], 0.02) is not None


def test_seeds_give_different_paths_and_divergence_is_reported():
    run = networks.sgd_paths(DATA, 2, 3, 0.05, (-1.0, 2.0), seeds=range(4))
    assert len({tuple(np.round(p[-1], 6)) for p in run.path}) == 4
    bad = networks.sgd_paths(DATA, 4, 5, 5.0, (-1.0, 2.0), seeds=(0,))
    k = int(bad.diverged_at[0])
    assert k > 0 and np.isnan(bad.path[0, k:]).all()


SINE = networks.REGRESSION_MODELS["sine"]
SINE_DATA = SINE.data(**SINE.data_args)
# The Batch size page's lecture example (app_pages/batch_size.py LECTURE): B = 1 against the full batch.
SINE_DEFAULT = dict(small=1, epochs=50, lr=0.2, seeds=5)


def sine_loss(theta, x=SINE_DATA.x, y=SINE_DATA.y):
    return np.mean((np.sin(theta[0] * x) + theta[1] - y) ** 2)


def sine_gradient(theta, x=SINE_DATA.x, y=SINE_DATA.y):
    r = np.sin(theta[0] * x) + theta[1] - y
    return np.array([2 * np.mean(r * np.cos(theta[0] * x) * x), 2 * np.mean(r)])


def test_sine_surface_and_full_batch_descent_match_numpy():
    ws, bs = np.linspace(-1, 4, 7), np.linspace(-0.5, 2, 5)
    brute = [[sine_loss((w, b)) for w in ws] for b in bs]
    np.testing.assert_allclose(networks.loss_grid(SINE_DATA.x, SINE_DATA.y, ws, bs, "sine"), brute, rtol=1e-12)
    run = networks.sgd_paths(SINE_DATA, len(SINE_DATA.x), 20, 0.2, SINE.start, model="sine")
    theta = np.array(SINE.start, np.float64)
    for _ in range(20):
        theta = theta - 0.2 * sine_gradient(theta)
    np.testing.assert_allclose(run.path[0, -1], theta, atol=1e-5)
    one = networks.sgd_paths(SINE_DATA, 1, 1, 0.2, SINE.start, seeds=(3,), model="sine").path[0]
    before, after = one[0], one[1]  # the first update used one example: after = before − η ∇ℓ_i(before)
    steps = [before - 0.2 * sine_gradient(before, SINE_DATA.x[i:i + 1], SINE_DATA.y[i:i + 1])
             for i in range(len(SINE_DATA.x))]
    assert np.min(np.linalg.norm(np.array(steps) - after, axis=1)) < 1e-5


def test_full_batch_stalls_in_a_poor_minimum_that_every_mini_batch_seed_leaves():
    """LECTURES 1.5 on the Batch size page's default: the full batch stops, noisy mini-batches move on."""
    d = SINE_DEFAULT
    full = networks.sgd_paths(SINE_DATA, len(SINE_DATA.x), d["epochs"], d["lr"], SINE.start, model="sine")
    small = networks.sgd_paths(SINE_DATA, d["small"], d["epochs"], d["lr"], SINE.start, seeds=range(d["seeds"]),
                               model="sine")
    report = networks.stall_report(SINE_DATA, full, small, "sine")
    # The stall, checked in float64 NumPy: gradient ≈ 0, Hessian (central differences) positive definite.
    p = report.point
    assert np.linalg.norm(sine_gradient(p)) < 1e-4 and report.gradient_norm < 1e-4
    h = 1e-4
    hess = np.array([(sine_gradient(p + h * e) - sine_gradient(p - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(np.linalg.eigvalsh(0.5 * (hess + hess.T)), report.hessian_eigenvalues, rtol=1e-3)
    assert report.kind == "minimum" and np.all(report.hessian_eigenvalues > 1.0)
    assert abs(p[0]) < 0.5 and sine_loss(p) > 0.5  # near w = 0: the straight-line fit, a poor minimum
    # ... poor: the good fit near the data's frequency is 30× lower (its minimum, refined by NumPy descent).
    good = np.array([SINE.data_args["frequency"], SINE.data_args["offset"]])
    for _ in range(2000):
        good = good - 0.05 * sine_gradient(good)
    assert sine_loss(good) < sine_loss(p) / 30
    # Every shuffling seed leaves: far from the stall point, at a loss far below it, near the good fit.
    ends = small.path[:, -1]
    losses = [sine_loss(e) for e in ends]
    np.testing.assert_allclose(report.final_loss, losses, rtol=1e-6)
    assert report.left.all() and report.left_count == d["seeds"]
    assert np.all(np.linalg.norm(ends - p, axis=1) > 2.0) and max(losses) < sine_loss(p) / 10
    assert np.all(np.linalg.norm(ends - good, axis=1) < 0.3)


def test_no_mini_batch_surface_is_flat_where_the_full_batch_stalls():
    full = networks.sgd_paths(SINE_DATA, len(SINE_DATA.x), 50, 0.2, SINE.start, model="sine")
    p = full.path[0, -1]
    batches = networks.batch_partition(len(SINE_DATA.x), 4, seed=0)
    norms = networks.batch_gradient_norms(SINE_DATA, batches, p, "sine")
    np.testing.assert_allclose(norms, [np.linalg.norm(sine_gradient(p, SINE_DATA.x[b], SINE_DATA.y[b]))
                                       for b in batches], rtol=1e-4, atol=1e-6)
    assert norms.min() > 0.05  # every batch of 4 pulls away from the full batch's stall point
    panels = networks.batch_surfaces(SINE_DATA, 1, np.linspace(-1.5, 4, 23), np.linspace(-0.5, 2, 11),
                                     model="sine")
    x, y = panels[1].x[0], panels[1].y[0]  # one example: its curve of minima b = y − sin(w·x)
    np.testing.assert_allclose(panels[1].curve, y - np.sin(np.linspace(-1.5, 4, 23) * x), rtol=1e-12)


def test_the_line_fit_does_not_stall_anywhere_but_its_minimum():
    full = networks.sgd_paths(DATA, N, 200, 0.2, (-1.0, 2.0))
    small = networks.sgd_paths(DATA, 1, 5, 0.2, (-1.0, 2.0), seeds=range(3))
    report = networks.stall_report(DATA, full, small)
    np.testing.assert_allclose(report.point, networks.least_squares(DATA.x, DATA.y), atol=1e-4)
    assert report.kind == "minimum" and report.left_count == 0  # nothing lower to leave for


def test_mlp_learns_digits():
    import jax

    d = networks.digits()
    assert d.x.shape == (1797, 64) and d.x.min() == 0 and d.x.max() == 1 and set(np.unique(d.y)) == set(range(10))
    params = networks.init_mlp(jax.random.PRNGKey(0))
    x, y = d.x[:256], d.y[:256]
    before = float(networks.mlp_loss(params, x, y))
    for _ in range(100):
        params = networks.sgd_step(params, x, y, 0.1)
    assert float(networks.mlp_loss(params, x, y)) < 0.5 * before


def test_update_times_are_measured_for_every_batch_size():
    seen = []
    t = networks.update_times((1, 64, 5000), repeats=3, progress=lambda f, text: seen.append(f))
    np.testing.assert_array_equal(t.batch_sizes, [1, 64, 1797])  # clipped to N
    assert np.all(np.isfinite(t.seconds_per_update)) and np.all(t.seconds_per_update > 0)
    np.testing.assert_array_equal(t.updates_per_epoch, [1797, 29, 1])
    np.testing.assert_allclose(t.seconds_per_epoch, t.updates_per_epoch * t.seconds_per_update)
    assert seen[-1] == 1.0 and t.device.startswith(("CPU", "GPU"))


def test_learning_rate_start_and_seeds_do_not_recompile(count_compiles):
    networks.sgd_paths(DATA, 4, 5, 0.05, (-1.0, 2.0), seeds=range(3))  # warm
    assert count_compiles(lambda: networks.sgd_paths(DATA, 4, 5, 0.2, (0.5, -1.0), seeds=(7, 8, 9)),
                          name=None) == 0
    assert count_compiles(lambda: networks.sgd_paths(DATA, 8, 5, 0.2, (0.5, -1.0), seeds=(7, 8, 9)),
                          name="_sgd_scan") == 1  # a batch size is a shape: compiled once per size
