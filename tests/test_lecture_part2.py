"""Lecture part 2 model code against independent oracles: the builder, bursts, softmax losses, feature
scaling and batch normalization (LECTURES 2.1–2.5)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import networks
import optimizers
import surfaces
from networks import models
from surfaces import classification

START = np.array([[-8.0, 1.2], [3.0, -0.5]], np.float32)


# ------------------------------------------------------------------ the optimizer builder (2.3)
def test_builder_adam_combination_equals_adam_step_for_step():
    hp = dict(lr=0.1, beta1=0.8, beta2=0.99, eps=1e-6)
    adam = optimizers.trajectories("elongated_valley", "adam", START, 300, **hp)
    built = optimizers.trajectories("elongated_valley", "composed", START, 300, m_term=2, sigma_term=3,
                                    bias_correction=1, **hp)
    np.testing.assert_array_equal(built.path, adam.path)
    np.testing.assert_array_equal(built.sigma, adam.sigma)
    assert np.linalg.norm(adam.path[0, -1] - adam.path[0, 0]) > 5  # it moved


@pytest.mark.parametrize("pieces,name,extra", [
    ((0, 0, 0), "gd", {}),
    ((1, 0, 0), "momentum", {}),
    ((0, 1, 0), "adagrad", {}),
    ((0, 2, 0), "rmsprop", {}),
    ((0, 3, 0), "rmsprop_zero", {}),
])
def test_builder_named_combinations_match_their_rules(pieces, name, extra):
    m, s, b = pieces
    assert optimizers.composed_equivalent(m, s, b)[0] == name
    hp = dict(lr=0.002, beta1=0.7, beta2=0.8)
    start = np.array([[-0.5, 0.5]], np.float32)
    built = optimizers.run("himmelblau", "composed", start[0], 60, m_term=m, sigma_term=s, bias_correction=b, **hp)
    named = optimizers.run("himmelblau", name, start[0], 60, **optimizers.matching_hyperparams(name, hp))
    np.testing.assert_allclose(built, named, rtol=1e-5, atol=1e-6)
    assert np.linalg.norm(built[-1] - built[0]) > 1e-3


def test_builder_equals_a_numpy_transcription_of_the_summary_formula():
    """θ ← θ − η m/σ with momentum m (Σ β1ᵏ g) and σ the root mean square (Adagrad): no named rule."""
    loss = surfaces.get("rosenbrock").loss
    grad = jax.grad(loss)
    eta, b1 = 1e-3, 0.5
    p = np.array([-1.2, 1.0])
    m, s = np.zeros(2), np.zeros(2)
    path = [p.copy()]
    for t in range(40):
        g = np.asarray(grad(jnp.asarray(p, jnp.float32)), np.float64)
        m = b1 * m + g
        s = s + g**2
        p = p - eta * m / (np.sqrt(s / (t + 1)) + 1e-8)
        path.append(p.copy())
    ours = optimizers.run("rosenbrock", "composed", (-1.2, 1.0), 40, lr=eta, m_term=1, sigma_term=1, beta1=b1)
    np.testing.assert_allclose(ours, np.array(path), rtol=1e-4, atol=1e-5)
    assert optimizers.composed_equivalent(1, 1, 1) == (None, "Adagrad with heavy-ball momentum")


def test_builder_adagrad_with_inverse_sqrt_schedule_is_named_the_library_form():
    assert optimizers.composed_equivalent(0, 1, 0, "inverse_sqrt")[0] == "adagrad_sum"
    assert optimizers.composed_equivalent(2, 3, 0)[0] is None  # Adam without bias correction has no registry name


def test_the_builder_names_exactly_the_registry_rules_it_equals():
    """Every piece combination of θ ← θ − (ηᵗ/σᵗ)·mᵗ against every registry rule (their numbers matched by
    ``matching_hyperparams``), step for step: the builder names a rule if and only if the paths coincide.

    So a new rule that the summary can express must be named by the builder, and one it cannot (a look-ahead
    gradient, weight decay, a running maximum, a rectification, a sign) is never named: nothing to list.
    """
    pieces = [(m, s, b) for m in range(3) for s in range(4) for b in range(2)]
    hp = dict(lr=0.01, beta1=0.7, beta2=0.8, eps=1e-8)  # long enough to pass a minimum: AMSGrad's σ then differs
    start = np.array([-0.5, 0.5], np.float32)
    m, s, b = (np.array(column, np.float32) for column in zip(*pieces))
    built = optimizers.run_batch("himmelblau", "composed", np.tile(start, (len(pieces), 1)), 150, m_term=m,
                                 sigma_term=s, bias_correction=b, **hp)
    named = {name: optimizers.run("himmelblau", name, start, 150, **optimizers.matching_hyperparams(name, hp))
             for name in optimizers.names() if name != "composed"}
    assert all(np.linalg.norm(path[-1] - path[0]) > 1e-3 for path in named.values())  # every rule moved
    for k, p in enumerate(pieces):
        equal = {name for name, path in named.items() if np.allclose(built[k], path, rtol=1e-5, atol=1e-6)}
        said = optimizers.composed_equivalent(*p)[0]
        assert equal == ({said} if said else set()), (p, said, equal)
    reached = {optimizers.composed_equivalent(*p)[0] for p in pieces} - {None}
    assert {"gd", "momentum", "adagrad", "rmsprop", "rmsprop_zero", "adam"} <= reached  # the lecture's list


# ------------------------------------------------------------------ Adagrad's bursts (2.3)
def test_lecture_adagrad_bursts_on_the_preset_and_decay_removes_them():
    """The page's preset: lecture-form Adagrad, η = 0.5, 2,000 steps from (−8, 1.2)."""
    path = optimizers.run("elongated_valley", "adagrad", (-8.0, 1.2), 2000, lr=0.5)
    found = optimizers.bursts(path)
    lengths = optimizers.step_lengths(path)
    # Independent count: humps of log10(step length) that rise 2 decades above the lower of their two sides.
    log = np.log10(lengths)
    humps = [t for t in range(1, len(log) - 1) if log[t] >= log[t - 1] and log[t] > log[t + 1]
             and log[t] - max(log[:t].min() if not len([p for p in range(t) if log[p] > log[t]]) else
                              log[max(p for p in range(t) if log[p] > log[t]):t].min(), log[t:].min()) > 2]
    np.testing.assert_array_equal(found.peaks, humps)
    assert len(found.peaks) == 7  # what the step-length chart shows
    for start, peak in zip(found.starts, found.peaks):  # a jump by a large factor after a stretch of small steps
        assert start <= peak and lengths[peak] > 100 * lengths[start - 30:start].min()
    decayed = optimizers.run("elongated_valley", "adagrad", (-8.0, 1.2), 2000, lr=0.5, schedule="inverse_sqrt")
    assert len(optimizers.burst_starts(decayed)) == 0
    summed = optimizers.run("elongated_valley", "adagrad_sum", (-8.0, 1.2), 2000, lr=0.5)
    assert len(optimizers.burst_starts(summed)) == 0


def test_with_the_default_decay_the_two_runs_of_the_mean_form_are_the_two_forms():
    """The page's §1 caption: Adagrad's mean form with η/√(t+1) is the sum form (up to where ε enters)."""
    decayed = optimizers.run("elongated_valley", "adagrad", (-8.0, 1.2), 2000, lr=0.5, schedule="inverse_sqrt")
    summed = optimizers.run("elongated_valley", "adagrad_sum", (-8.0, 1.2), 2000, lr=0.5)
    np.testing.assert_allclose(decayed, summed, rtol=1e-4, atol=1e-4)


def test_burst_detector_on_a_made_up_path():
    steps = np.full(200, 1e-4)
    steps[120] = 1.0
    path = np.concatenate([[0.0], np.cumsum(steps)])[:, None] * np.array([[1.0, 0.0]])
    np.testing.assert_array_equal(optimizers.burst_starts(path), [120])


def test_schedule_curve_is_the_schedule():
    eta = optimizers.schedule_curve("noam", 10_000, 1.0, d_model=512, warmup_steps=4000)
    s = np.arange(1, 10_001)
    np.testing.assert_allclose(eta, 512**-0.5 * np.minimum(s**-0.5, s * 4000**-1.5), rtol=1e-5)
    assert int(np.argmax(eta)) == 3999


# ------------------------------------------------------------------ softmax and the two losses (2.4)
def test_softmax_sums_to_one_and_equals_the_sigmoid_for_two_classes():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.normal(0, 5, rng.integers(2, 8)).astype(np.float32)
        p = np.asarray(classification.softmax(y), np.float64)
        np.testing.assert_allclose(p.sum(), 1.0, atol=1e-6)
        np.testing.assert_allclose(p, np.exp(y - y.max()) / np.exp(y - y.max()).sum(), rtol=1e-5)
    y = np.array([1.3, -0.4], np.float32)
    np.testing.assert_allclose(classification.softmax(y)[0], 1 / (1 + np.exp(-(1.3 + 0.4))), rtol=1e-6)
    np.testing.assert_allclose(classification.softmax(np.array([1000.0, 0.0, -1000.0]))[0], 1.0)  # no overflow
    two = classification.two_classes(np.linspace(-8, 8, 33), shift=-4.0)
    np.testing.assert_allclose(two.softmax_first, 1 / (1 + np.exp(-np.linspace(-8, 8, 33))), rtol=1e-5)
    assert two.largest_gap < 1e-6


def numpy_gradients(y1, y2):
    """Closed forms at logits (y1, y2, −1000), target class 1: ∂CE/∂y = y′ − ŷ; ∂MSE/∂y = 2(diag y′ − y′y′ᵀ)(y′ − ŷ)."""
    y = np.array([y1, y2, -1000.0])
    p = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
    onehot = np.array([1.0, 0.0, 0.0])
    ce = p - onehot
    mse = 2 * (np.diag(p) - np.outer(p, p)) @ (p - onehot)
    return mse[:2], ce[:2]


@pytest.mark.parametrize("point", [(-8.0, 8.0), (-2.0, 3.0), (1.0, -1.0), (4.0, 2.0)])
def test_loss_surfaces_gradients_match_the_closed_forms(point):
    mse, ce = numpy_gradients(*point)
    np.testing.assert_allclose(surfaces.gradient("softmax_cross_entropy", point), ce, rtol=1e-4, atol=1e-7)
    # float32: at the corner 1 − y′₂ ≈ 1e-7 is one ulp of y′₂, so a few per cent is all float32 can give
    np.testing.assert_allclose(surfaces.gradient("softmax_mse", point), mse, rtol=0.1, atol=1e-9)


def test_at_the_lecture_corner_cross_entropy_is_steeper_by_the_margin_the_maps_show():
    mse, ce = numpy_gradients(-8.0, 8.0)
    ratio = np.linalg.norm(ce) / np.linalg.norm(mse)
    assert 1e6 < ratio < 1e7  # ‖p − ŷ‖ ≈ √2 against 4·e⁻¹⁶·√2: e¹⁶/4 ≈ 2.2·10⁶
    ours = np.linalg.norm(surfaces.gradient("softmax_cross_entropy", (-8, 8))) / np.linalg.norm(
        surfaces.gradient("softmax_mse", (-8, 8)))
    np.testing.assert_allclose(ours, ratio, rtol=0.1)
    grid_mse, grid_ce = surfaces.grid("softmax_mse", 41), surfaces.grid("softmax_cross_entropy", 41)
    corner = (-1, 0)  # y1 = −10, y2 = 10: the largest loss
    assert grid_ce.grad_norm[corner] / grid_mse.grad_norm[corner] > 1e7


def test_gradient_descent_stalls_on_mse_and_descends_on_cross_entropy():
    mse = optimizers.trajectories("softmax_mse", "gd", np.array([[-8.0, 8.0]], np.float32), 300, lr=1.0)
    ce = optimizers.trajectories("softmax_cross_entropy", "gd", np.array([[-8.0, 8.0]], np.float32), 300, lr=1.0)
    assert mse.loss[0, -1] > 1.99 and ce.loss[0, -1] < 0.01
    adam = optimizers.trajectories("softmax_mse", "adam", np.array([[-8.0, 8.0]], np.float32), 300, lr=0.1)
    assert adam.loss[0, -1] < 0.01  # dividing by σ rescues it


def test_parse_logits_reads_numbers_and_refuses_the_rest():
    np.testing.assert_array_equal(classification.parse_logits("3, 1; -3  2e1 −1"), [3, 1, -3, 20, -1])
    for bad in ["3", "1, x", "1, __import__('os')", "1, 2**9", "1, nan", "1, inf", "1e9, 1", ",".join("1" * 13)]:
        with pytest.raises(ValueError):
            classification.parse_logits(bad)


# ------------------------------------------------------------------ feature scaling (2.5)
def test_standardized_uncorrelated_features_give_condition_number_near_one():
    data = networks.two_feature_data(1.0, 100.0)
    raw = networks.profiled_quadratic(data.x, data.y)
    norm = networks.profiled_quadratic(networks.standardize(data.x), data.y)
    assert raw.condition_number > 5e3
    assert norm.condition_number < 1.3
    x = networks.standardize(data.x)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-12)


def test_profiled_quadratic_matches_least_squares_and_the_data():
    data = networks.two_feature_data(2.0, 30.0, correlation=0.5)
    q = networks.profiled_quadratic(data.x, data.y)
    design = np.column_stack([data.x, np.ones(len(data.y))])
    coef = np.linalg.lstsq(design, data.y, rcond=None)[0]
    np.testing.assert_allclose(q.w_star, coef[:2], rtol=1e-8)
    w = np.array([0.3, -0.05])
    b = np.mean(data.y - data.x @ w)  # the bias at its optimum for this w
    np.testing.assert_allclose(q.loss(w), np.mean((data.y - data.x @ w - b) ** 2), rtol=1e-10)


def test_closed_form_gradient_descent_equals_the_loop():
    data = networks.two_feature_data()
    x = networks.standardize(data.x)
    q = networks.profiled_quadratic(x, data.y)
    w = np.zeros(2)
    loop = [w.copy()]
    xc, yc = x - x.mean(0), data.y - data.y.mean()
    for _ in range(50):
        w = w - 0.3 * (-2 * xc.T @ (yc - xc @ w) / len(yc))
        loop.append(w.copy())
    np.testing.assert_allclose(networks.gd_path(q, (0, 0), 0.3, 50), np.array(loop), rtol=1e-10, atol=1e-12)


def test_normalized_features_converge_in_far_fewer_steps():
    data = networks.two_feature_data(1.0, 100.0)
    raw = networks.profiled_quadratic(data.x, data.y)
    norm = networks.profiled_quadratic(networks.standardize(data.x), data.y)
    assert optimizers.runner.first_bad_step(networks.gd_path(raw, (0, 0), 0.1, 50)[None])[0] > 0  # η = 0.1 diverges on raw features
    assert 0 < networks.steps_to_converge(norm, networks.gd_path(norm, (0, 0), 0.1, 200)) < 60
    best_raw = networks.steps_to_converge(raw, networks.gd_path(raw, (0, 0), raw.best_lr, 60_000))
    assert best_raw > 1000 * networks.steps_at_best_lr(norm)
    assert abs(best_raw - networks.steps_at_best_lr(raw)) < 0.05 * best_raw  # the formula is the worst case


# ------------------------------------------------------------------ batch normalization (2.5)
def test_bn_forward_normalizes_the_batch_and_updates_moving_averages():
    params = models.init_mlp(jax.random.PRNGKey(0), (5, 7, 3), "batch")
    stats = models.initial_moving_averages(params)
    x = jax.random.normal(jax.random.PRNGKey(1), (32, 5)) * 3 + 2
    _, new = models.mlp_forward(params, x, "relu", stats, True, 0.9)
    z = np.asarray(x @ params["layers"][0][0] + params["layers"][0][1], np.float64)
    np.testing.assert_allclose(new[0][0], 0.1 * z.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(new[0][1], 0.9 + 0.1 * z.var(0), rtol=1e-4)
    # eval mode uses the moving averages: with μ̄ = batch mean and σ̄² = batch variance it equals train mode
    train_logits, _ = models.mlp_forward(params, x, "relu", stats, True, 0.9)
    eval_logits, _ = models.mlp_forward(params, x, "relu", ((jnp.asarray(z.mean(0)), jnp.asarray(z.var(0))),), False)
    np.testing.assert_allclose(eval_logits, train_logits, rtol=1e-4, atol=1e-4)


def test_layer_norm_normalizes_each_example_and_train_equals_eval():
    params = models.init_mlp(jax.random.PRNGKey(0), (5, 7, 3), "layer")
    gamma = jnp.linspace(0.5, 1.5, 7)
    beta = jnp.linspace(-0.2, 0.2, 7)
    params["layer_norm"] = ((gamma, beta),)
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 5)) * 3 + 2
    w0, b0 = (np.asarray(a, np.float64) for a in params["layers"][0])
    w1, b1 = (np.asarray(a, np.float64) for a in params["layers"][1])
    z = np.asarray(x, np.float64) @ w0 + b0
    z_tilde = (z - z.mean(axis=1, keepdims=True)) / np.sqrt(z.var(axis=1, keepdims=True) + 1e-5)  # per example
    np.testing.assert_allclose(z_tilde.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(z_tilde.var(axis=1), 1, rtol=1e-3)
    by_hand = np.maximum(np.asarray(gamma) * z_tilde + np.asarray(beta), 0) @ w1 + b1
    train_logits, averages = models.mlp_forward(params, x, "relu", (), True)
    eval_logits, _ = models.mlp_forward(params, x, "relu", (), False)
    np.testing.assert_allclose(train_logits, by_hand, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(train_logits, eval_logits)  # no batch statistics: one function
    assert averages == ()
    one_row, _ = models.mlp_forward(params, x[:1], "relu")  # an example's output does not depend on the others
    np.testing.assert_allclose(one_row[0], train_logits[0], rtol=1e-5, atol=1e-6)
    assert models.MLP((7,), "relu", layer_norm=True).parameter_count(5, 3) == 5 * 7 + 7 + 7 * 3 + 3 + 2 * 7
    with pytest.raises(ValueError, match="not both"):
        models.MLP((7,), "relu", True, True).init(jax.random.PRNGKey(0), 5, 3)


def test_layer_norm_network_learns_and_its_modes_agree():
    config = networks.BNConfig(batch_norm=False, layer_norm=True, hidden=(16, 16), lrs=(0.5,), steps=100)
    run = networks.train_bn_experiment(networks.digits(), config)
    assert run.test_acc_eval[0, -1] > 0.85
    np.testing.assert_array_equal(run.test_acc_eval, run.test_acc_train)


def test_moving_averages_follow_the_lecture_update_step_for_step():
    """μ̄ ← p·μ̄ + (1 − p)·μ_B (and σ̄² likewise) over 30 batches, against a NumPy recursion from (0, 1);
    unrolled, the start keeps the weight p^T (``moving_average_memory``)."""
    params = models.init_mlp(jax.random.PRNGKey(0), (5, 7, 3), "batch")
    w, b = (np.asarray(a, np.float64) for a in params["layers"][0])
    p, steps = 0.95, 30
    stats = models.initial_moving_averages(params)
    mean_bar, var_bar, means = np.zeros(7), np.ones(7), []
    for t in range(steps):
        x = jax.random.normal(jax.random.PRNGKey(10 + t), (16, 5)) * 2 + 1
        _, stats = models.mlp_forward(params, x, "relu", stats, True, p)
        z = np.asarray(x, np.float64) @ w + b
        means.append(z.mean(0))
        mean_bar, var_bar = p * mean_bar + (1 - p) * z.mean(0), p * var_bar + (1 - p) * z.var(0)
    np.testing.assert_allclose(stats[0][0], mean_bar, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats[0][1], var_bar, rtol=1e-4)
    unrolled = (1 - p) * sum(p ** (steps - 1 - t) * m for t, m in enumerate(means))  # + p^T · μ̄₀ with μ̄₀ = 0
    np.testing.assert_allclose(mean_bar, unrolled, rtol=1e-10, atol=1e-12)
    assert networks.moving_average_memory(p, steps) == pytest.approx(p**steps)
    assert networks.moving_average_memory(0.999, 600) == pytest.approx(0.5487, abs=1e-4)


@pytest.fixture(scope="module")
def page_bn_runs():
    """The Normalization page's default BN runs: p = 0.9 (first setting) and p = 0.999 (second)."""
    config = networks.BNConfig(lrs=(0.05, 0.5, 2.0), steps=600, batch_size=64, momentum_p=0.9)
    data = networks.digits()
    return networks.train_bn_experiment(data, config), networks.train_bn_experiment(data, config._replace(momentum_p=0.999))


def test_a_lagging_moving_average_makes_eval_mode_trail_train_mode(page_bn_runs):
    """p only feeds μ̄, σ̄²: training and train-mode accuracy are the same for both p; eval mode at p = 0.999
    trails by > 3 points on average and > 2 at the end for every η, at p = 0.9 by < 1 point."""
    first, lagging = page_bn_runs
    np.testing.assert_array_equal(first.batch_loss, lagging.batch_loss)
    np.testing.assert_array_equal(first.test_acc_train, lagging.test_acc_train)
    for i in range(3):
        lag, agree = lagging.mode_gap(i), first.mode_gap(i)
        assert lag.mean > 0.03 and lag.final > 0.02 and lag.final_step == 580, (i, lag)
        assert abs(agree.mean) < 0.01 and abs(agree.final) < 0.01, (i, agree)
    # the gap shrinks as μ̄ forgets its start: larger early than at the end
    gap = lagging.test_acc_train - lagging.test_acc_eval
    assert np.all(gap[:, 1:6].mean(axis=1) > gap[:, -5:].mean(axis=1))


@pytest.fixture(scope="module")
def bn_runs():
    config = networks.BNConfig(lrs=(0.05, 2.0), steps=300)
    data = networks.digits()
    return networks.train_bn_experiment(data, config), networks.train_bn_experiment(data, config._replace(batch_norm=False))


def test_bn_tolerates_a_learning_rate_that_breaks_the_plain_network(bn_runs):
    with_bn, without = bn_runs
    assert with_bn.batch_loss.shape == (2, 300) and with_bn.measured_at[-1] == 280
    assert with_bn.test_acc_eval[0, -1] > 0.9 and without.test_acc_eval[0, -1] > 0.9  # η = 0.05: both learn
    assert with_bn.test_acc_eval[1, -1] > 0.9  # η = 2 with BN still learns
    assert not without.test_acc_eval[1, -1] > 0.5  # η = 2 without BN does not (or diverges: NaN)


def test_bn_makes_the_step_smoother_at_a_large_learning_rate(bn_runs):
    with_bn, without = bn_runs
    assert np.nanmean(with_bn.loss_range[1]) < 0.2 * np.nanmean(without.loss_range[1])
    assert np.nanmean(with_bn.grad_change[1]) < np.nanmean(without.grad_change[1])
    verdicts = {m.measure: m.verdict for m in networks.compare_smoothness(with_bn, without, 1)}
    assert verdicts["loss_range"] == verdicts["grad_change"] == "smaller"


def test_smoothness_verdict_needs_the_margin():
    compare = networks.SmoothnessComparison
    assert compare("x", 0.95, 1.0).verdict == "similar" and compare("x", 1.0, 0.95).verdict == "similar"
    assert compare("x", 0.85, 1.0).verdict == "smaller" and compare("x", 0.85, 1.0).share == pytest.approx(0.15)
    assert compare("x", 1.25, 1.0).verdict == "larger" and compare("x", 1.25, 1.0).share == pytest.approx(0.25)
    assert compare("x", float("nan"), 1.0).verdict == "similar"
    assert compare("x", 0.95, 1.0, margin=0.01).verdict == "smaller"


@pytest.fixture(scope="module")
def page_plain_run():
    """The Normalization page's default run without BN (the same steps, batches and η as ``page_bn_runs``)."""
    config = networks.BNConfig(batch_norm=False, lrs=(0.05, 0.5, 2.0), steps=600, batch_size=64, momentum_p=0.9)
    return networks.train_bn_experiment(networks.digits(), config)


def test_on_the_page_default_bn_wins_only_by_the_larger_eta_it_tolerates(page_bn_runs, page_plain_run):
    """Independent of ``normalization_gain``: the last measurement of each run, and ln 10 for 10 classes."""
    with_bn, without = page_bn_runs[0], page_plain_run
    final_bn, final_plain = with_bn.test_acc_eval[:, -1], without.test_acc_eval[:, -1]
    loss_plain = without.train_loss[:, -1]
    assert loss_plain[2] > 0.9 * np.log(10) and final_plain[2] < 0.2  # η = 2: stuck at ln 10, near chance (16 % or under 15 % by the CPU)
    assert np.all(with_bn.train_loss[:, -1] < 0.1) and np.all(loss_plain[:2] < 0.1)
    assert [without.did_not_train(i, 10) for i in range(3)] == [False, False, True]
    assert not any(with_bn.did_not_train(i, 10) for i in range(3))
    gain = networks.normalization_gain(with_bn, without, 10)
    assert gain.both_train == (0, 1) and gain.only_with == (2,) and gain.only_without == gain.neither == ()
    assert [gain.ahead(i) for i in range(3)] == [int(np.sign(b - p)) for b, p in zip(final_bn, final_plain)]
    assert gain.ahead(0) == gain.ahead(1) == -1 and not gain.ahead_where_both_train  # without BN ahead at 0.05, 0.5
    assert gain.chance_loss == pytest.approx(np.log(10)) and gain.untrained_loss == pytest.approx(0.9 * np.log(10))


def test_on_the_page_default_the_loss_range_is_about_the_same_at_the_smallest_eta(page_bn_runs, page_plain_run):
    """At η = 0.05 the loss ranges differ by ~2 %: not a smoother surface; gradient change and β differ by > 10 %."""
    with_bn, without = page_bn_runs[0], page_plain_run
    means = {f: (np.nanmean(getattr(with_bn, f)[0]), np.nanmean(getattr(without, f)[0]))
             for f in networks.SMOOTHNESS_MEASURES}
    got = {m.measure: m for m in networks.compare_smoothness(with_bn, without, 0)}
    for field, (a, b) in means.items():
        assert (got[field].with_norm, got[field].without) == pytest.approx((a, b))
        expected = "similar" if abs(a - b) < 0.1 * max(a, b) else "smaller" if a < b else "larger"
        assert got[field].verdict == expected, field
    assert got["loss_range"].verdict == "similar" and abs(means["loss_range"][0] / means["loss_range"][1] - 1) < 0.05
    assert got["grad_change"].verdict == got["beta_smoothness"].verdict == "smaller"


def test_a_warmup_study_compares_each_variant_with_plain_adam_seed_by_seed():
    accuracy = np.array([[0.80, 0.90, 0.85], [0.82, 0.88, 0.85], [0.90, 0.95, 0.86], [0.70, 0.80, 0.75]])
    moves = np.array([[10.0, 10.0, 10.0], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0], [20.0, 20.0, 20.0]])
    study = networks.WarmupStudy(("a", "b", "c", "d"), accuracy, np.zeros((4, 3)), moves, 0.03, 8)
    b = study.against_plain(1)
    assert b.points == pytest.approx(100 * (accuracy[1].mean() - accuracy[0].mean()))
    assert (b.seeds_ahead, b.seeds_behind, b.seeds, b.move_ratio) == (1, 1, 3, pytest.approx(0.2))
    assert study.against_plain(2).seeds_ahead == 3 and study.against_plain(3).seeds_behind == 3
    assert study.ahead_on_every_seed == (2,) and study.best == 2


def test_power_texts_for_running_text():
    import figures
    assert figures.superscript(600) == "⁶⁰⁰" and figures.superscript(-28) == "⁻²⁸"
    assert figures.power_of_ten_text(0.999**600) == "0.55"
    assert figures.power_of_ten_text(0.9**600) == "3.5·10⁻²⁸" and figures.power_of_ten_text(1e-5) == "10⁻⁵"


def test_without_bn_train_and_eval_mode_agree(bn_runs):
    _, without = bn_runs
    np.testing.assert_allclose(without.test_acc_eval[0], without.test_acc_train[0])


# ------------------------------------------------------------------ no recompiles when a control moves
def test_switching_builder_pieces_never_recompiles(count_compiles):
    def run(m, s, b, lr):
        optimizers.trajectories("elongated_valley", "composed", START, 200, m_term=m, sigma_term=s,
                                bias_correction=b, lr=lr)

    run(2, 3, 1, 0.1)  # warm
    assert count_compiles(lambda: [run(m, s, b, 0.05) for m in range(3) for s in range(4) for b in range(2)]) == 0


def test_changing_bn_learning_rates_and_p_never_recompiles(count_compiles):
    data = networks.digits()
    config = networks.BNConfig(lrs=(0.1, 1.0), steps=100, measure_every=20)
    networks.train_bn_experiment(data, config)  # warm
    changed = config._replace(lrs=(0.3, 3.0), momentum_p=0.5, steps=200)
    assert count_compiles(lambda: networks.train_bn_experiment(data, changed), name="_train_chunk") == 0
    # the counter does see this function: a batch size is a shape, so it compiles
    assert count_compiles(lambda: networks.train_bn_experiment(data, config._replace(batch_size=32)),
                          name="_train_chunk") == 1


# ------------------------------------------------------------------ stuck with an oscillating gradient (2.1)
WALLED = "walled_plateau"
WALLED_START = (-8.0, 0.5)  # the Adaptive learning rate page's default start


def walled_gradient(x, y):
    """∇ of 100(1 − e^{−x²/8}) + ln(1 + 350y²), by hand, in float64."""
    return np.array([100.0 * np.exp(-x * x / 8.0) * x / 4.0, 700.0 * y / (1.0 + 350.0 * y * y)])


def numpy_gd(start, lr, steps):
    """Plain gradient descent on the walled plateau in NumPy float64: loss and ‖g‖ at θ⁰ … θ^steps."""
    p, losses, norms = np.array(start, np.float64), [], []
    for _ in range(steps + 1):
        losses.append(100.0 * (1.0 - np.exp(-p[0] ** 2 / 8.0)) + np.log1p(350.0 * p[1] ** 2))
        g = walled_gradient(*p)
        norms.append(np.linalg.norm(g))
        p = p - lr * g
    return np.array(losses), np.array(norms)


def test_walled_plateau_gradient_and_curvature_match_the_hand_derivation():
    for x, y in rng_points(20):
        np.testing.assert_allclose(surfaces.gradient(WALLED, (x, y)), walled_gradient(x, y), rtol=1e-4, atol=1e-4)
    (point,) = surfaces.critical_points(WALLED)  # the well at the origin is the only critical point
    np.testing.assert_allclose(point.point, [0, 0], atol=1e-5)
    np.testing.assert_allclose(point.eigenvalues, [25.0, 700.0], rtol=1e-4)  # diag(100/4, 2·350)
    assert surfaces.stability_edge(surfaces.critical_points(WALLED)) == pytest.approx(2 / 700, rel=1e-4)
    assert surfaces.stability_edge(surfaces.critical_points("elongated_valley")) == pytest.approx(0.01, rel=1e-4)
    assert surfaces.stability_edge(surfaces.critical_points("simple_saddle")) is None


def rng_points(n):
    return np.random.default_rng(3).uniform([-10, -0.6], [10, 0.6], size=(n, 2))


def stuck_with_oscillating_gradient(stall):
    # flat loss; ‖g‖ rising to the walls' slope (> 100 × the floor's 0.067), jumping by > 5×, turning often
    return stall.loss_spread < 0.03 and stall.grad_high > 10 and stall.grad_ratio > 5 and stall.grad_turns > 0.5


def test_on_the_page_default_the_loss_is_flat_while_the_gradient_norm_jumps():
    """η = 10⁻² (k = 2·350·η = 7, chaos): over the last 60 of 300 steps the loss stays within 3 % of its mean
    while ‖g‖ reaches the walls' slope, jumps by a factor > 5 and turns up/down at more than half of the steps. The same holds for a float64 NumPy transcription (the orbit differs: chaos; its statistics do not)."""
    run = optimizers.trajectories(WALLED, "gd", [WALLED_START], 300, lr=0.01)
    stall = optimizers.stall_report(run.loss[0], run.grad_norm[0])
    assert stall.steps == 60 and stuck_with_oscillating_gradient(stall), stall
    assert 95 < stall.loss_mean < 105 and stall.grad_high > 18  # the plateau's height; the walls' slope √350 = 18.7
    losses, norms = numpy_gd(WALLED_START, 0.01, 300)
    np.testing.assert_allclose(run.loss[0, :6], losses[:6], rtol=1e-4)  # step for step until chaos parts them
    np.testing.assert_allclose(run.grad_norm[0, :6], norms[:6], rtol=1e-3)
    assert stuck_with_oscillating_gradient(optimizers.stall_report(losses, norms))
    # not a lucky start: from 30 starts up the wall the same holds
    ys = np.linspace(0.02, 0.6, 30)
    many = optimizers.trajectories(WALLED, "gd", np.stack([np.full(30, -8.0), ys], 1).astype(np.float32), 300,
                                   lr=0.01)
    reports = [optimizers.stall_report(many.loss[i], many.grad_norm[i]) for i in range(30)]
    assert max(r.loss_spread for r in reports) < 0.03 and min(r.grad_ratio for r in reports) > 3


def test_a_two_cycle_keeps_the_gradient_norm_flat_even_between_flattening_walls():
    """η = 0.005 (k = 3.5): the symmetric 2-cycle u ↔ −u, u² = k/2 − 1; η = 0.007 (k = 4.9): the asymmetric
    2-cycle, whose loss alternates while ‖g‖ still does not (g_b = −g_a); η = 0.0025 (k = 1.75 < 2): it settles."""
    run = optimizers.trajectories(WALLED, "gd", np.array([WALLED_START] * 3, np.float32), 400,
                                  lr=np.array([0.0025, 0.005, 0.007], np.float32))
    settled, symmetric, asymmetric = (optimizers.stall_report(run.loss[i], run.grad_norm[i]) for i in range(3))
    assert np.abs(np.asarray(run.path[0, -1, 1])) < 1e-4
    assert symmetric.gradient_steady and asymmetric.gradient_steady
    np.testing.assert_allclose(np.abs(np.asarray(run.path[1, -4:, 1])) * np.sqrt(350), np.sqrt(3.5 / 2 - 1), rtol=1e-3)
    assert asymmetric.loss_change > 0.5  # the loss alternates between the cycle's two points
    y = np.asarray(run.path[2, -4:, 1])
    assert abs(abs(y[0]) - abs(y[1])) > 0.01 and np.allclose(y[0], y[2], atol=1e-5)  # period 2, not symmetric


def test_the_stability_edge_of_the_elongated_valley_holds_the_gradient_norm():
    """η = 10⁻² keeps ‖g‖ at 240 exactly (y flips each step); 0.0099 lets it die out, 0.0101 grows it."""
    run = optimizers.trajectories("elongated_valley", "gd", np.array([[-8.0, 1.2]] * 3, np.float32), 400,
                                  lr=np.array([0.0099, 0.01, 0.0101], np.float32))
    below, edge, above = run.grad_norm[:, -100:]
    assert np.ptp(edge) < 0.01 * edge.mean() and abs(edge.mean() - 240) < 1
    assert below[-1] < 0.7 * below[0] and above[-1] > 1.3 * above[0]
    np.testing.assert_allclose(np.abs(np.asarray(run.path[1, -100:, 1])), 1.2, rtol=1e-3)


def test_one_eta_cannot_fit_the_elongated_valley_as_the_lecture_says():
    """LECTURES 2.1 on the convex elongated valley ½x² + 100y² from (−8, 1.2) (the page's section 2): η = 10⁻²
    bounces across y for ever (y ← (1 − 200η)y = −y) while x converges; η = 10⁻⁷ is still near x₀(1 − η)^t after
    100,000 steps, far from the minimum (closed form ≈ 7.92; float32 rounds each tiny step of x up to one ulp)."""
    run = optimizers.trajectories("elongated_valley", "gd", np.array([[-8.0, 1.2]] * 2, np.float32), 100_000,
                                  lr=np.array([1e-2, 1e-7], np.float32))
    distance = optimizers.distance_to(run.path, (0.0, 0.0))
    closed_form = np.hypot(8.0 * (1 - 1e-7) ** 100_000, 1.2 * (1 - 2e-5) ** 100_000)
    assert distance[1, -1] == pytest.approx(closed_form, rel=0.01) and distance[1, -1] > 7.5
    np.testing.assert_allclose(np.abs(np.asarray(run.path[0, -4:, 1])), 1.2, rtol=1e-3)  # still bouncing
    assert abs(float(run.path[0, -1, 0])) < 1e-6  # … while x has converged


def lecture_adagrad_sigma(start, lr, steps):
    """σᵗ of the lecture's Adagrad (root mean square of g⁰ … gᵗ) on the walled plateau, NumPy float64."""
    p, total, sigmas = np.array(start, np.float64), np.zeros(2), []
    for t in range(steps):
        g = walled_gradient(*p)
        total += g * g
        sigmas.append(np.sqrt(total / (t + 1)))
        p = p - lr / sigmas[-1] * g
    return np.array(sigmas)


def test_sigma_order_reads_which_parameter_takes_the_smaller_steps():
    """Made-up σ: y leads, x overtakes at step 2, y leads again at one of the 3 steps from there."""
    run = optimizers.Trajectories(path=np.arange(12, dtype=np.float64).reshape(1, 6, 2), loss=None, grad_norm=None,
                                  lr=None, sigma=np.array([[[1, 5], [2, 4], [6, 3], [7, 9], [8, 7], [np.nan, 1]]]),
                                  diverged_at=np.array([5]))
    order = optimizers.sigma_order(run)
    assert (order.leader, order.steps, order.swap, order.swap_point) == (1, 5, 2, (4.0, 5.0))
    assert order.leader_after == pytest.approx(1 / 3)
    still = optimizers.sigma_order(run._replace(sigma=np.array([[[1.0, 5.0], [1.0, 5.0]]])))
    assert still.leader == 1 and still.swap == -1 and still.steps == 2


def test_on_the_walled_plateau_sigma_y_leads_until_the_path_reaches_ground_steep_in_x():
    """The page's section 3 default (η = 0.1, 300 steps from (−8, 0.5)): every rule starts with σ_y > σ_x (the
    walls are steep, the plateau flat), and every one sees σ_x overtake it later: the lecture's Adagrad when its
    path enters the well (|x| < 2, where ∂L/∂x reaches 30), at the step a float64 NumPy transcription gives; the
    library Adagrad (σ² = Σg², all history) on the plateau's slope once y has settled, for good."""
    sigma = lecture_adagrad_sigma(WALLED_START, 0.1, 300)
    orders = {}
    for name in ["adagrad", "adagrad_sum", "rmsprop", "rmsprop_zero", "adam"]:
        run = optimizers.trajectories(WALLED, name, [WALLED_START], 300, lr=0.1)
        orders[name] = order = optimizers.sigma_order(run)
        assert order.leader == 1 and order.swap > 0, (name, order)
        s = np.asarray(run.sigma[0], np.float64)
        assert (s[:order.swap, 1] > s[:order.swap, 0]).all() and s[order.swap, 0] >= s[order.swap, 1]
    assert orders["adagrad"].swap == int(np.argmax(sigma[:, 0] > sigma[:, 1])) == 31
    assert abs(orders["adagrad"].swap_point[0]) < 2 and orders["adagrad"].leader_after > 0.9
    assert orders["adagrad_sum"].leader_after == 0 and abs(orders["adagrad_sum"].swap_point[1]) < 1e-6


def test_agreement_finds_where_two_curves_come_together_for_good():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    together = optimizers.agreement(a, np.array([2.0, 2.0, 3.3, 4.01, 5.0]))  # apart at 0 and 2 (10 %), then 0.25 %
    assert together.step == 3 and together.largest == pytest.approx(0.5)
    assert optimizers.agreement(a, a).step == 0 and optimizers.agreement(a, a + [0, 0, 0, 0, 1]).step == -1
    assert optimizers.agreement(a, np.array([1.0, 2.0, np.nan, 4.0, 5.0])).step == 3  # NaN: apart
    # RMSProp's lecture form (σ⁰ = |g⁰|) and library form (average from 0) on the page's section 3 default.
    runs = [optimizers.trajectories(WALLED, n, [WALLED_START], 300, lr=0.1) for n in ("rmsprop", "rmsprop_zero")]
    found = optimizers.agreement(runs[0].sigma[0], runs[1].sigma[0])
    s = [np.asarray(r.sigma[0], np.float64) for r in runs]
    gap = (np.abs(s[0] - s[1]) / np.maximum(s[0], s[1])).max(axis=1)
    assert 0 < found.step < 300 and (gap[found.step:] <= 0.01).all() and gap[found.step - 1] > 0.01
    assert found.largest == pytest.approx(gap.max()) and found.largest > 0.5  # σ⁰: |g⁰| against √(1 − α)·|g⁰|
