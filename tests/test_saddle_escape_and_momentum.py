"""optimizers.escape and optimizers.anatomy: saddle escape, basin escape, momentum taken apart, 1-D runs."""
import numpy as np
import pytest

import optimizers
import surfaces

START, LR, LAM = (2.3, 0.0), 0.01, 0.9


@pytest.fixture(scope="module")
def momentum_run():
    path = optimizers.run("local_minima", "momentum", START, 300, lr=LR, momentum=LAM)
    return path, surfaces.gradients("local_minima", path)


def test_step_parts_add_up_to_the_runners_movement(momentum_run):
    path, g = momentum_run
    parts = optimizers.momentum_decomposition(path, g, LR, LAM)
    np.testing.assert_allclose(parts.movement, np.diff(path, axis=0), atol=2e-6)
    np.testing.assert_allclose(parts.carried[1:], LAM * np.diff(path, axis=0)[:-1], atol=1e-7)
    np.testing.assert_allclose(parts.gradient_step, -LR * g[:-1], atol=1e-7)


def test_movement_is_the_weighted_sum_of_all_earlier_gradients(momentum_run):
    path, g = momentum_run
    for t in (1, 2, 7, 40):
        w = optimizers.momentum_weights(LAM, t)
        np.testing.assert_allclose(w, LAM ** np.arange(t))
        m_t = -LR * np.sum(w[:, None] * g[t - 1::-1][:t], axis=0)  # Σ_k λ^k g^{t−1−k}
        np.testing.assert_allclose(m_t, path[t] - path[t - 1], atol=2e-6)


def test_momentum_rolls_over_the_hill_and_gradient_descent_does_not(momentum_run):
    gd = optimizers.run("local_minima", "gd", START, 300, lr=LR)
    np.testing.assert_allclose(momentum_run[0][-1], (-1.483968, 0.0), atol=1e-3)  # the deep minimum
    np.testing.assert_allclose(gd[-1], (1.332221, 0.0), atol=1e-3)  # stuck in the shallow one


@pytest.mark.parametrize("name, hp", [("gd", dict(lr=LR)), ("momentum", dict(lr=LR, momentum=LAM)),
                                      ("adam", dict(lr=0.05))])
def test_a_run_on_a_line_equals_the_2d_run_when_the_line_is_invariant(name, hp):
    # On y = 0 of local_minima the y-gradient is 0, so the 2-D run stays on the line.
    path = optimizers.run("local_minima", name, START, 200, **hp)
    line = optimizers.run_on_line("local_minima", name, START, (-2.0, 0.0), 200, **hp)
    np.testing.assert_allclose(START[0] - line.s, path[:, 0], atol=1e-4)
    np.testing.assert_allclose(line.loss, surfaces.losses("local_minima", path), atol=1e-4)
    assert line.diverged_at == -1


def test_line_profile_and_divergence_on_a_line():
    s = np.linspace(-1, 1, 11)
    prof = optimizers.line_profile("himmelblau", (1.0, 2.0), (3.0, 4.0), s)
    pts = np.array([1.0, 2.0]) + s[:, None] * np.array([0.6, 0.8])
    np.testing.assert_allclose(prof, surfaces.losses("himmelblau", pts), rtol=1e-5)
    run = optimizers.run_on_line("himmelblau", "gd", (4.0, 4.0), (1.0, 1.0), 100, lr=5.0)
    assert run.diverged_at > 0 and np.isnan(run.s[run.diverged_at:]).all() and np.isfinite(run.s[:run.diverged_at]).all()


def test_negative_curvature_direction_of_the_lecture_saddle():
    u, lam = optimizers.negative_curvature_direction("lecture_saddle", (0.0, 0.0))
    assert lam == pytest.approx(-2.0, abs=1e-5)
    assert abs(u @ np.array([1, 1])) / np.sqrt(2) == pytest.approx(1.0, abs=1e-6)
    assert surfaces.get("lecture_saddle").loss(np.float32(0.3) * u) < 1.0  # L(θ' + αu) < L(θ')


def test_saddle_escape_three_ways():
    saddle = [c for c in surfaces.critical_points("lecture_saddle") if c.kind == "saddle"][0]
    start = optimizers.start_near_saddle(saddle, 0.6, 1e-4)
    np.testing.assert_allclose(start @ saddle.eigenvectors[:, 1], 0.6, atol=1e-6)
    np.testing.assert_allclose(start @ saddle.eigenvectors[:, 0], 1e-4, atol=1e-6)
    esc = optimizers.saddle_escape("lecture_saddle", start, 300, 0.05, 0.3, 0.05, seed=0, level=saddle.value)
    assert esc.path.shape == (3, 301, 2) and esc.labels[0] == "Gradient descent"
    np.testing.assert_allclose(esc.path[1, 1], start + 0.3 * esc.direction, atol=1e-6)  # the eigenvector step
    assert esc.loss[1, 1] < esc.loss[1, 0]  # the eigenvector step goes downhill
    plain, kicked, noisy = esc.escaped_at
    # GD lingers: the tilt grows by (1 + η|λ|) = 1.1 per step, so ~ln(1e3)/ln(1.1) ≈ 70 steps or more.
    assert plain > 60
    assert 0 < kicked < noisy < plain
    np.testing.assert_array_equal(esc.diverged_at, [-1, -1, -1])
    # GD first slides towards the saddle: its closest approach is much nearer than the start.
    assert np.min(np.linalg.norm(esc.path[0], axis=1)) < 0.1 * np.linalg.norm(start)


def test_a_diverging_escape_says_where_each_run_stopped():
    saddle = [c for c in surfaces.critical_points("lecture_saddle") if c.kind == "saddle"][0]
    start = optimizers.start_near_saddle(saddle, 0.6, 1e-4)
    esc = optimizers.saddle_escape("lecture_saddle", start, 200, 1.0, 2.0, 5.0, level=saddle.value)
    for i, k in enumerate(esc.diverged_at):
        assert k > 0 and np.isnan(esc.path[i, k:]).all() and np.isfinite(esc.path[i, :k]).all()


def test_noise_leaves_the_sharp_minimum_and_keeps_the_flat_one():
    minima = sorted((c for c in surfaces.critical_points("sharp_flat") if c.kind == "minimum"),
                    key=lambda c: -c.eigenvalues[1])
    sharp, flat = minima
    assert sharp.eigenvalues[1] > 10 * flat.eigenvalues[1]
    quiet = [optimizers.basin_escape("sharp_flat", m.point, 300, 0.02, 1e-3).rate for m in minima]
    assert quiet == [0.0, 0.0]
    sharp_rate = optimizers.basin_escape("sharp_flat", sharp.point, 500, 0.02, 5.0, n=128).rate
    flat_rate = optimizers.basin_escape("sharp_flat", flat.point, 500, 0.02, 5.0, n=128).rate
    assert sharp_rate > 0.4 and flat_rate < 0.1


def test_numbers_on_the_lecture_pages_do_not_recompile(count_compiles):
    saddle = [c for c in surfaces.critical_points("lecture_saddle") if c.kind == "saddle"][0]

    def page_work(lr=0.01, lam=0.9, start=START, point=(0.0, 0.0), radius=0.5, kick=0.2, noise=0.05, tilt=1e-4):
        optimizers.run_on_line("local_minima", "momentum", start, (-1.0, 0.2), 300, lr=lr, momentum=lam)
        surfaces.local_quadratic("lecture_saddle", point, radius)
        esc_start = optimizers.start_near_saddle(saddle, 0.6, tilt)
        optimizers.saddle_escape("lecture_saddle", esc_start, 200, lr * 5, kick, noise, level=saddle.value)
        optimizers.basin_escape("sharp_flat", (1.453, 0.0), 500, lr * 2, noise * 100)

    page_work()  # warm
    assert count_compiles(lambda: page_work(lr=0.02, lam=0.5, start=(1.9, 0.3), point=(0.7, -1.1), radius=0.3,
                                            kick=0.5, noise=0.2, tilt=1e-3), name=None) == 0
