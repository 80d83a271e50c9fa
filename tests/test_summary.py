"""What pages show about a run, computed in the model packages (optimizers.summary and friends), against hand values."""
import numpy as np
import pytest

import networks
import optimizers
import surfaces

NAN = float("nan")


def test_last_finite_of_a_series_and_of_a_path():
    assert optimizers.last_finite(np.array([3.0, 2.0, NAN, NAN])) == 2.0
    assert np.isnan(optimizers.last_finite(np.array([NAN, NAN])))
    path = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, NAN], [NAN, NAN]])
    np.testing.assert_array_equal(optimizers.last_finite(path), [2.0, 3.0])


def test_distance_gap_divergence_and_mean():
    path = np.array([[[3.0, 4.0], [0.0, 0.0], [NAN, NAN]]])
    np.testing.assert_array_equal(optimizers.distance_to(path, (0, 0))[0, :2], [5.0, 0.0])
    assert optimizers.largest_gap(np.array([[0.0, 0.0], [1.0, 5.0]]), np.array([[0.0, 1.0], [1.5, NAN]])) == 1.0
    assert np.isnan(optimizers.largest_gap(np.full((2, 2), NAN), np.zeros((2, 2))))
    assert optimizers.first_divergence(np.array([-1, 7, 3])) == 3 and optimizers.first_divergence(np.array([-1])) == -1
    assert optimizers.mean_of_finite(np.array([1.0, NAN, 3.0])) == 2.0


def test_stall_report_on_a_bouncing_run():
    """Gradient descent at the edge of stability on the valley: the loss stops moving, ‖g‖ stays at 240."""
    t = optimizers.trajectories("elongated_valley", "gd", [[-8.0, 1.2]], 300, lr=0.01)
    stall = optimizers.stall_report(t.loss[0], t.grad_norm[0])
    assert stall.steps == 60  # the last fifth of 300 steps
    assert stall.grad_low > 200 and stall.gradient_steady
    assert stall.loss_change < 1e-2 * t.loss[0, -1]
    short = optimizers.stall_report(np.array([1.0, 0.5, 0.4, NAN]), np.array([2.0, 1.0, 0.5, NAN]), at_least=2)
    assert short[:5] == optimizers.Stall(2, pytest.approx(0.1), 0.5, 1.0, pytest.approx(0.45))[:5]
    assert np.isnan(short.grad_turns)  # one change of ‖g‖ cannot turn
    assert not short.gradient_steady and short.loss_spread == pytest.approx(0.1 / 0.45) and short.grad_ratio == 2.0
    turning = optimizers.stall_report(np.arange(6.0), np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0]), at_least=6)
    assert turning.grad_turns == 1.0  # up, down, up, down, up: every step turns


def test_effective_lr_is_eta_over_sigma():
    t = optimizers.trajectories("elongated_valley", "rmsprop", [[-8.0, 1.2]], 5, lr=0.01)
    np.testing.assert_allclose(optimizers.effective_lr(t), 0.01 / t.sigma, rtol=1e-6)
    np.testing.assert_allclose(optimizers.effective_lr(t)[0, 0], 0.01 / np.array([8.0, 240.0]), rtol=1e-5)  # σ⁰ = |g⁰|


def test_domain_defaults_and_escape_window():
    s = surfaces.get("lecture_saddle")
    (x0, x1), (y0, y1) = s.domain
    assert s.span == min(x1 - x0, y1 - y0) and s.home == (0.0, 0.0)
    shifted = surfaces.from_formula("x**2 + y**2", ((1, 3), (-1, 5)))
    assert shifted.home == (1.0, 0.0) and shifted.span == 2.0
    assert surfaces.taylor_radius(4.0) == (0.5, 0.04, 2.0)
    assert optimizers.escape_window(4.0) == pytest.approx((0.6, 1.5))


def test_builder_race_schedule_and_bias_correction():
    assert optimizers.race_schedule("adagrad_sum", "adagrad_sum", "inverse_sqrt", {}) == ("constant", {})
    assert optimizers.race_schedule("adam", "adagrad_sum", "cosine", {"decay_steps": 9}) == ("cosine", {"decay_steps": 9})
    assert [optimizers.bias_correction_applies(m, s) for m, s in ((2, 0), (0, 3), (1, 2))] == [True, True, False]
    assert optimizers.peak_step(optimizers.schedule_curve("noam", 100, 1.0, d_model=16, warmup_steps=10)) == 9


def test_line_race_points_towards_the_end_and_starts_at_zero():
    u, s, profile, gd, mo = optimizers.line_race("himmelblau", (0.0, 0.0), (3.0, 4.0), 50, 0.01, 0.9)
    np.testing.assert_allclose(u, [0.6, 0.8])
    assert s[0] == pytest.approx(-1.25) and s[-1] == pytest.approx(6.25)  # −¼ … 1¼ of the 5 to the end
    assert profile[np.argmin(np.abs(s))] == pytest.approx(170.0, rel=1e-2)  # L(0, 0) = 121 + 49
    assert gd.s[0] == 0.0 and mo.s[0] == 0.0
    u, *_ = optimizers.line_race("himmelblau", (0.0, 0.0), (0.0, 0.0), 5, 0.01, 0.9)
    np.testing.assert_array_equal(u, [1.0, 0.0])  # no movement: along x


def test_scaling_problems_raw_then_standardized():
    raw, std = networks.scaling_problems(1.0, 100.0, 0.0, resolution=11)
    assert raw[0].condition_number > 1000 and std[0].condition_number < 1.3
    q, grid = std
    W1, W2 = np.meshgrid(grid.xs, grid.ys)
    np.testing.assert_allclose(grid.loss, q.loss(np.stack([W1, W2], axis=-1)))


def test_lab_config_keeps_about_the_asked_checkpoints():
    model = networks.MLP((8,), "relu", False)
    config = networks.lab_config("iris", model, "adam", {"lr": 0.01}, "constant", {}, 16, 15, 0, path_points=150)
    n_train = len(networks.load_split("iris").y_train)
    updates = 15 * (n_train // 16)
    assert config.hyperparams == (("lr", 0.01),) and config.record_every == 1
    assert 0 < config.record_steps and updates / config.record_steps <= 150
