"""The scan/vmap runner: shapes, batching, divergence, buckets, no recompiles, foreign optimizers."""

import numpy as np
import optax
import pytest

import optimizers
from optimizers.runner import batch_bucket, step_bucket


def test_run_returns_steps_plus_one_points_starting_at_the_start():
    path = optimizers.run("himmelblau", "adam", (0.5, -0.5), 120, lr=0.05)
    assert path.shape == (121, 2) and path.dtype == np.float32
    np.testing.assert_allclose(path[0], [0.5, -0.5])


def test_run_batch_equals_individual_runs_with_per_trajectory_hyperparameters():
    starts = np.array([[0.0, 0.0], [-3.0, 3.0], [1.0, -4.0]])
    lrs = np.array([0.01, 0.05, 0.1])
    batch = optimizers.run_batch("himmelblau", "adam", starts, 80, lr=lrs, beta1=0.8)
    assert batch.shape == (3, 81, 2)
    for i in range(3):
        single = optimizers.run("himmelblau", "adam", starts[i], 80, lr=lrs[i], beta1=0.8)
        np.testing.assert_allclose(batch[i], single, rtol=1e-6, atol=1e-6)
    assert np.abs(batch[0, -1] - batch[1, -1]).max() > 0.1  # the sweep really differs


def test_step_count_is_sliced_from_its_bucket():
    assert step_bucket(37) == 50 and step_bucket(50) == 50 and step_bucket(51) == 100
    assert batch_bucket(1) == 4 and batch_bucket(5) == 8
    with pytest.raises(ValueError, match="steps must be at most 100,000, got 100,001"):
        step_bucket(100_001)
    short = optimizers.run("rosenbrock", "momentum", (-1.5, 2.0), 37, lr=1e-4)
    long = optimizers.run("rosenbrock", "momentum", (-1.5, 2.0), 50, lr=1e-4)
    assert short.shape == (38, 2)
    np.testing.assert_array_equal(short, long[:38])


def test_compiled_sizes_pad_up_to_the_next_size_and_refuse_beyond_the_last():
    from surfaces.compiled_sizes import power_of_two, smallest_size
    from surfaces.interpreter import PROGRAM_SIZES, program_size

    assert [power_of_two(n) for n in (0, 1, 2, 3, 4, 5, 1000)] == [1, 1, 2, 4, 4, 8, 1024]
    assert [power_of_two(n, 16) for n in (1, 16, 17, 301)] == [16, 16, 32, 512]
    assert [smallest_size(n, (16, 40, 100), "n") for n in (1, 16, 17, 100)] == [16, 16, 40, 100]
    assert [program_size(n) for n in (1, 17, 41)] == list(PROGRAM_SIZES)
    with pytest.raises(ValueError, match="at most 100, got 101"):
        program_size(101)


def test_divergence_stops_the_path_and_reports_the_step_while_others_continue():
    with pytest.warns(RuntimeWarning, match=r"diverged: trajectory 1 at step \d+"):
        paths = optimizers.run_batch("himmelblau", "gd", [[0.0, 0.0], [0.0, 0.0]], 100, lr=[0.01, 0.2])
    t = optimizers.trajectories("himmelblau", "gd", [[0.0, 0.0], [0.0, 0.0]], 100, lr=[0.01, 0.2])
    k = int(t.diverged_at[1])
    assert t.diverged_at[0] == -1 and 0 < k < 100
    assert np.all(np.isfinite(paths[1, :k])) and np.all(np.isnan(paths[1, k:]))
    assert np.all(np.isnan(t.loss[1, k:])) and np.isfinite(t.loss[1, k - 1])
    assert np.all(np.isfinite(paths[0]))
    np.testing.assert_allclose(paths[0, -1], [3.0, 2.0], atol=1e-3)


def test_nonfinite_start_is_diverged_at_zero():
    t = optimizers.trajectories("himmelblau", "gd", [[np.nan, 0.0]], 10)
    assert t.diverged_at[0] == 0 and np.all(np.isnan(t.path[0]))


def test_trajectories_records_loss_gradnorm_lr_and_sigma():
    t = optimizers.trajectories("elongated_valley", "rmsprop", [[-8.0, 1.2]], 50, lr=0.1, alpha=0.9,
                                schedule="exponential_decay", schedule_params=dict(gamma=0.9))
    p0 = np.array([-8.0, 1.2])
    assert t.loss[0, 0] == pytest.approx(0.5 * 64 + 100 * 1.44, rel=1e-6)
    assert t.grad_norm[0, 0] == pytest.approx(np.hypot(p0[0], 200 * p0[1]), rel=1e-6)
    np.testing.assert_allclose(t.lr[0, :3], [0.1, 0.09, 0.081], rtol=1e-5)
    np.testing.assert_allclose(t.sigma[0, 0], [8.0, 240.0], rtol=1e-5)  # lecture RMSProp: σ⁰ = |g⁰|
    assert np.all(np.isnan(optimizers.trajectories("himmelblau", "gd", [[0, 0]], 5).sigma))


def test_noise_is_reproducible_by_seed_and_zero_noise_is_exact():
    kw = dict(lr=0.01)
    a = optimizers.run("simple_saddle", "gd", (1.0, 0.0), 100, noise=0.1, seed=3, **kw)
    b = optimizers.run("simple_saddle", "gd", (1.0, 0.0), 100, noise=0.1, seed=3, **kw)
    c = optimizers.run("simple_saddle", "gd", (1.0, 0.0), 100, noise=0.1, seed=4, **kw)
    clean = optimizers.run("simple_saddle", "gd", (1.0, 0.0), 100, **kw)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    assert np.all(clean[:, 1] == 0)  # without noise it never leaves the x-axis: stuck at the saddle
    assert abs(a[-1, 1]) > abs(clean[-1, 1])  # noise escapes along y


def test_changing_numbers_does_not_recompile_but_changing_names_does(count_compiles):
    def call(lr=0.1, beta1=0.9, start=(0.0, 0.0), warmup=10, steps=200, schedule="warmup_cosine"):
        optimizers.run("six_hump_camel", "adam", start, steps, lr=lr, beta1=beta1, schedule=schedule,
                       schedule_params=dict(warmup_steps=warmup, decay_steps=150) if schedule == "warmup_cosine" else {})

    call()  # warm
    assert count_compiles(lambda: [
        call(lr=0.03), call(beta1=0.5), call(start=(1.0, -0.5)), call(warmup=40), call(steps=150),
    ]) == 0
    # The compile log does record compiles: a new step bucket and a new schedule name compile.
    assert count_compiles(lambda: call(steps=400)) == 1
    assert count_compiles(lambda: call(schedule="constant")) == 1


def test_any_optax_transformation_can_race_on_a_surface():
    ours = optimizers.run("himmelblau", "adam", (0.0, 0.0), 60, lr=0.05)
    theirs = optimizers.run("himmelblau", optax.adam(0.05), (0.0, 0.0), 60)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    t = optimizers.trajectories("himmelblau", optax.lion(0.01), [[0.0, 0.0]], 10)
    assert np.all(np.isnan(t.lr)) and t.path.shape == (1, 11, 2)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(steps=0), ValueError, "at least 1"),
    (dict(steps=optimizers.MAX_STEPS + 1), ValueError, "at most"),
    (dict(momentum=0.9), TypeError, "unknown hyperparameter"),
    (dict(lr=[0.1, 0.2, 0.3]), ValueError, "length 1"),
    (dict(noise=-1.0), ValueError, "noise"),
])
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    kwargs = {"steps": 10, **kwargs}
    steps = kwargs.pop("steps")
    with pytest.raises(error, match=match):
        optimizers.trajectories("himmelblau", "adam", [[0.0, 0.0]], steps, **kwargs)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(KeyError, match="adam"):
        optimizers.run("himmelblau", "adamm", (0, 0), 10)
    with pytest.raises(KeyError, match="cosine"):
        optimizers.run("himmelblau", "adam", (0, 0), 10, schedule="cosin")


def test_compile_caches_are_bounded_and_clearing_them_keeps_the_results():
    """Each compiled function is cleared above its limit (typed formulas would otherwise grow memory without end)."""
    import runtime

    runner = optimizers.runner._scan_trajectories
    start = np.array([[1.0, 1.0]], np.float32)
    first = optimizers.trajectories("himmelblau", "adam", start, 40, lr=0.05)
    optimizers.trajectories("himmelblau", "adam", start, 900, lr=0.05)  # another step bucket: another executable
    assert runner in runtime.compiled_functions() and runner._cache_size() >= 2
    assert runtime.trim_compile_caches(limit=1) >= 1
    assert runner._cache_size() == 0
    again = optimizers.trajectories("himmelblau", "adam", start, 40, lr=0.05)
    assert runner._cache_size() == 1
    np.testing.assert_array_equal(again.path, first.path)
