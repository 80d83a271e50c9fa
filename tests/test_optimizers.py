"""Update rules against optax (library forms) and NumPy transcriptions (lecture forms); checks every rule passes."""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optimizers
import surfaces

SURFACES = ["himmelblau", "rosenbrock", "lecture_saddle", "six_hump_camel"]
STARTS = {"himmelblau": (-0.5, 0.5), "rosenbrock": (-1.2, 1.0), "lecture_saddle": (0.3, -0.8),
          "six_hump_camel": (-1.0, 0.8)}
STEPS = 40

# Our rule (and hyperparameters) next to the independent optax construction.
# eps is tiny where optax puts it inside the square root and we outside: the
# forms then agree to float32 precision.
OPTAX_TWINS = {
    "gd": (dict(lr=0.002), lambda: optax.sgd(0.002)),
    "momentum": (dict(lr=0.001, momentum=0.8), lambda: optax.sgd(0.001, momentum=0.8)),
    "nesterov": (dict(lr=0.001, momentum=0.8), lambda: optax.sgd(0.001, momentum=0.8, nesterov=True)),
    "adagrad_sum": (dict(lr=0.1, eps=1e-12),
                    lambda: optax.adagrad(0.1, initial_accumulator_value=0.0, eps=1e-24)),
    "rmsprop_zero": (dict(lr=0.01, alpha=0.8, eps=1e-6),
                     lambda: optax.rmsprop(0.01, decay=0.8, eps=1e-6, eps_in_sqrt=False)),
    "adam": (dict(lr=0.05, beta1=0.8, beta2=0.95, eps=1e-6), lambda: optax.adam(0.05, b1=0.8, b2=0.95, eps=1e-6)),
    "adamw": (dict(lr=0.05, weight_decay=0.1), lambda: optax.adamw(0.05, weight_decay=0.1)),
    "amsgrad": (dict(lr=0.05, beta2=0.9), lambda: optax.amsgrad(0.05, b2=0.9)),
    "radam": (dict(lr=0.001, beta2=0.99), lambda: optax.radam(0.001, b2=0.99)),
    "lion": (dict(lr=0.01, weight_decay=0.05), lambda: optax.lion(0.01, weight_decay=0.05)),
}


def optax_path(surface, tx, start, steps):
    """The oracle: optax stepped from a Python loop."""
    grad = jax.jit(jax.grad(surfaces.get(surface).loss))
    p = jnp.asarray(start, jnp.float32)
    state = tx.init(p)
    path = [np.asarray(p)]
    for _ in range(steps):
        updates, state = tx.update(grad(p), state, p)
        p = optax.apply_updates(p, updates)
        path.append(np.asarray(p))
    return np.stack(path)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("name", sorted(OPTAX_TWINS))
def test_library_form_equals_optax_step_for_step(name, surface):
    hp, make = OPTAX_TWINS[name]
    ours = optimizers.run(surface, name, STARTS[surface], STEPS, **hp)
    theirs = optax_path(surface, make(), STARTS[surface], STEPS)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)
    assert np.linalg.norm(ours[-1] - ours[0]) > 1e-3  # it moved: the comparison is not vacuous


# ------------------------------------------------------------------ lecture forms, transcribed
def numpy_lecture_path(surface, rule, start, steps, lr, alpha=0.9, eps=1e-8):
    """LECTURES 2.2 written out in float64 NumPy; JAX only supplies g^t."""
    grad = jax.jit(jax.grad(surfaces.get(surface).loss))
    theta = np.asarray(start, np.float64)
    path, squares, sigma = [theta.copy()], [], None
    for t in range(steps):
        g = np.asarray(grad(jnp.asarray(theta, jnp.float32)), np.float64)
        if rule == "adagrad":  # σ^t = sqrt(1/(t+1) Σ_{k≤t} (g^k)²)
            squares.append(g**2)
            sigma = np.sqrt(np.mean(squares, axis=0))
        else:  # rmsprop: σ^0 = |g^0|, σ^t = sqrt(α σ² + (1−α) g²)
            sigma = np.abs(g) if t == 0 else np.sqrt(alpha * sigma**2 + (1 - alpha) * g**2)
        theta = theta - lr / (sigma + eps) * g
        path.append(theta.copy())
    return np.stack(path)


# Per-surface η for RMSProp: where a path nearly stalls, float32 (ours) and
# float64 (the transcription) round-off is amplified step after step; these
# rates keep the paths out of that regime so the test compares formulas.
RMSPROP_LR = {"himmelblau": 0.02, "rosenbrock": 0.005, "lecture_saddle": 0.02, "six_hump_camel": 0.02}


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("rule", ["adagrad", "rmsprop"])
def test_lecture_form_equals_numpy_transcription(rule, surface):
    hp = dict(lr=0.05) if rule == "adagrad" else dict(lr=RMSPROP_LR[surface], alpha=0.7)
    ours = optimizers.run(surface, rule, STARTS[surface], STEPS, **hp)
    ref = numpy_lecture_path(surface, rule, STARTS[surface], STEPS, **hp)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)


def test_lecture_adagrad_first_step_has_length_eta_per_coordinate():
    # σ^0 = |g^0|, so the first step moves every coordinate by exactly η.
    path = optimizers.run("himmelblau", "adagrad", (0.5, 0.5), 1, lr=0.3)
    np.testing.assert_allclose(np.abs(path[1] - path[0]), [0.3, 0.3], rtol=1e-5)


def test_the_two_rmsprop_forms_differ_at_the_first_step():
    lecture = optimizers.run("himmelblau", "rmsprop", (0.5, 0.5), 1, lr=0.1, alpha=0.9)
    library = optimizers.run("himmelblau", "rmsprop_zero", (0.5, 0.5), 1, lr=0.1, alpha=0.9)
    np.testing.assert_allclose(np.abs(lecture[1] - lecture[0]), 0.1, rtol=1e-5)
    np.testing.assert_allclose(np.abs(library[1] - library[0]), 0.1 / np.sqrt(0.1), rtol=1e-5)


def test_adagrad_sum_is_adagrad_mean_with_inverse_sqrt_schedule():
    a = optimizers.run("rosenbrock", "adagrad", (-1.2, 1.0), 60, lr=0.05, schedule="inverse_sqrt")
    b = optimizers.run("rosenbrock", "adagrad_sum", (-1.2, 1.0), 60, lr=0.05)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ checks every registry rule must pass
# Nothing below names an optimizer: a new rule and its registry record are checked as they are.
VALLEY_STEPS = 4000
VALLEY_START = (-8.0, 1.2)


@pytest.mark.parametrize("name", optimizers.names())
def test_every_optimizer_converges_on_the_elongated_valley_for_some_eta_in_its_range(name):
    """Hessian diag(1, 200), minimum at 0: some η of 25 spread over the record's range (every other
    hyperparameter at its default, a cosine decay of η over the run) ends within 0.05 of the minimum."""
    spec = optimizers.get(name)
    lr = {p.name: p for p in spec.params}["lr"]
    etas = np.geomspace(lr.low, lr.high, 25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the largest η diverge, as they should
        paths = optimizers.run_batch("elongated_valley", name, np.tile([VALLEY_START], (len(etas), 1)), VALLEY_STEPS,
                                     lr=etas, schedule="cosine", schedule_params=dict(decay_steps=VALLEY_STEPS))
    distance = np.linalg.norm(np.nan_to_num(paths[:, -1], nan=np.inf), axis=1)
    assert np.linalg.norm(paths[0, 0]) > 8 and distance.min() < 0.05, dict(zip(etas.round(6), distance.round(3)))


@pytest.mark.parametrize("spec", optimizers.OPTIMIZERS, ids=lambda s: s.name)
def test_every_rule_steps_downhill_scaled_by_its_eta_at_its_own_step(spec):
    """At its defaults, along a constant gradient g from θ = 0, every rule: moves against g at every step;
    moves twice as far for twice the η; reads η^t at its own step count t (a schedule that doubles η from
    t = 2 changes nothing before); stands still where there is no gradient; and its σ^t, if it has one,
    is positive and finite."""
    g, theta = jnp.array([3.0, -4.0]), jnp.zeros(2)

    def steps(lr, grad=g, n=4):
        opt = spec.factory(**{**spec.defaults(), "lr": lr})
        state, out = opt.init(theta), []
        for _ in range(n):
            u, state = opt.update(grad, state, theta)
            out.append(np.asarray(u, np.float64))
        return np.stack(out), opt, state

    u, opt, state = steps(0.01)
    assert np.all(u @ np.asarray(g) < 0), u
    np.testing.assert_allclose(steps(0.02)[0], 2 * u, rtol=1e-5)
    doubled = steps(lambda t: jnp.where(t < 2, 0.01, 0.02))[0]
    np.testing.assert_allclose(doubled[:2], u[:2], rtol=1e-6)
    assert np.all(np.abs(doubled[2] - u[2]) > 1e-4 * np.abs(u[2])), (doubled, u)
    assert np.all(steps(0.01, grad=jnp.zeros(2))[0] == 0)
    if opt.sigma is not None:
        sigma = np.asarray(opt.sigma(state))
        assert sigma.shape == (2,) and np.all(np.isfinite(sigma) & (sigma > 0)), sigma


def test_every_registry_rule_is_exported_under_its_name():
    for spec in optimizers.OPTIMIZERS:
        assert getattr(optimizers, spec.name) is spec.factory, spec.name


# ------------------------------------------------------------------ registry sanity
@pytest.mark.parametrize("spec", optimizers.OPTIMIZERS, ids=lambda s: s.name)
def test_spec_defaults_in_range_and_factory_accepts_them(spec):
    for p in spec.params:
        assert p.low <= p.default <= p.high, p
        assert p.clamp(p.high * 10 + 1) == p.high and p.clamp(p.low - 1) == p.low
    opt = spec.factory(**spec.defaults())
    state = opt.init(jnp.zeros(2))
    updates, state = opt.update(jnp.ones(2), state, jnp.zeros(2))
    assert updates.shape == (2,) and int(state.count) == 1
    assert spec.formula and spec.text and spec.label


def test_each_equation_is_written_once_in_its_rule_and_the_registry_shows_that_one():
    for spec in optimizers.OPTIMIZERS:
        doc = spec.factory.__doc__
        assert doc.count(".. math::") == 1, spec.name  # one equation per rule, in its docstring
        assert spec.formula == optimizers.rules.equation(spec.factory) and spec.formula in " ".join(doc.split())
        assert spec.formula.count("{") == spec.formula.count("}") and "=" in spec.formula, spec.name
    assert optimizers.get("gd").formula == r"\theta^{t+1} = \theta^t - \eta\, g^t"


def test_sigma_is_what_the_rule_divides_by():
    """σ^t from ``Optimizer.sigma`` against the hand-derived first step of each adaptive rule (g⁰ = (3, −4))."""
    g = jnp.array([3.0, -4.0])
    expected = {"adagrad": np.abs(g), "adagrad_sum": np.abs(g), "rmsprop": np.abs(g),
                "rmsprop_zero": np.sqrt(0.1) * np.abs(g), "adam": np.abs(g), "amsgrad": np.abs(g)}
    for name, sigma in expected.items():
        opt = optimizers.get(name).factory(lr=0.1, **({"alpha": 0.9} if "rmsprop" in name else {}))
        _, state = opt.update(g, opt.init(jnp.zeros(2)), jnp.zeros(2))
        np.testing.assert_allclose(opt.sigma(state), sigma, rtol=1e-5, err_msg=name)
    assert optimizers.gd().sigma is None and optimizers.momentum().sigma is None


def test_required_names_and_keyword_names():
    assert {"gd", "momentum", "nesterov", "adagrad", "adagrad_sum", "rmsprop", "rmsprop_zero", "adam"} <= set(optimizers.names())
    keywords = {p.name for spec in optimizers.OPTIMIZERS for p in spec.params}
    assert {"lr", "momentum", "alpha", "beta1", "beta2", "eps"} <= keywords


def test_rules_work_on_pytrees():
    params = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
    grads = jax.tree.map(jnp.ones_like, params)
    for spec in optimizers.OPTIMIZERS:
        opt = spec.factory(**spec.defaults())
        updates, _ = opt.update(grads, opt.init(params), params)
        assert jax.tree.structure(updates) == jax.tree.structure(params)


# ------------------------------------------------------------------ schedules
T = np.arange(0, 3000, dtype=np.float64)
SCHEDULE_ORACLES = {
    "constant": ({}, lambda t: np.full_like(t, 0.1)),
    "step_decay": (dict(step_size=100, gamma=0.5), lambda t: 0.1 * 0.5 ** np.floor(t / 100)),
    "exponential_decay": (dict(gamma=0.99), lambda t: 0.1 * 0.99**t),
    "inverse_sqrt": ({}, lambda t: 0.1 / np.sqrt(t + 1)),
    "cosine": (dict(decay_steps=500, end_lr=0.01),
               lambda t: 0.01 + 0.09 * 0.5 * (1 + np.cos(np.pi * np.minimum(t, 500) / 500))),
    "constant_warmup": (dict(warmup_steps=50, warmup_factor=0.1), lambda t: np.where(t < 50, 0.01, 0.1)),
    "warmup_cosine": (dict(warmup_steps=50, decay_steps=550, end_lr=0.0),
                      lambda t: np.where(t < 50, 0.1 * (t + 1) / 50,
                                         0.05 * (1 + np.cos(np.pi * np.clip((t - 50) / 500, 0, 1))))),
    "noam": (dict(d_model=512, warmup_steps=400),
             lambda t: 0.1 * 512**-0.5 * np.minimum((t + 1) ** -0.5, (t + 1) * 400**-1.5)),
    "warm_restarts": (dict(period=100, mult=2.0, end_lr=0.0), None),
}


def sgdr_reference(t, period=100, mult=2, lr=0.1):
    out = []
    for step in t:
        length, start = period, 0
        while step >= start + length:
            start, length = start + length, length * mult
        out.append(0.5 * lr * (1 + np.cos(np.pi * (step - start) / length)))
    return np.array(out)


@pytest.mark.parametrize("name", optimizers.schedule_names())
def test_schedule_matches_numpy_formula(name):
    spec = optimizers.get_schedule(name)
    params, oracle = SCHEDULE_ORACLES[name]
    got = np.asarray(jax.vmap(spec.factory(0.1, **params))(jnp.asarray(T, jnp.float32)))
    expected = sgdr_reference(T) if oracle is None else oracle(T)
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-7)


def test_warm_up_then_cosine_ends_at_step_T_which_counts_the_warm_up():
    """decay_steps T is the step where η reaches η_end, warm-up included (not W + T): the label says so."""
    spec = optimizers.get_schedule("warmup_cosine")
    params = spec.defaults()
    warm, last = int(params["warmup_steps"]), int(params["decay_steps"])
    eta = optimizers.schedule_curve("warmup_cosine", 2 * last, 0.1, **params)
    assert eta[warm - 1] == pytest.approx(0.1) and eta[last] == pytest.approx(params["end_lr"], abs=1e-9)
    assert eta[last - 1] > 1e-7 and np.all(eta[last:] == eta[last])
    label = {p.name: p.label for p in spec.params}["decay_steps"]
    assert "counts the warm-up" in label and r"\min(t - W,\, T - W)" in spec.formula


def test_warm_restarts_with_constant_period_restarts_every_period():
    f = optimizers.warm_restarts(0.1, period=100, mult=1.0)
    assert float(f(0)) == pytest.approx(0.1) and float(f(100)) == pytest.approx(0.1) and float(f(50)) == pytest.approx(0.05)


def test_lr_accepts_a_schedule_inside_the_runner():
    sched = optimizers.warmup_cosine(0.1, warmup_steps=10, decay_steps=100)
    by_object = optimizers.run("himmelblau", optimizers.adam(lr=sched), (0.0, 0.0), 100)
    by_name = optimizers.run("himmelblau", "adam", (0.0, 0.0), 100, lr=0.1, schedule="warmup_cosine",
                             schedule_params=dict(warmup_steps=10, decay_steps=100))
    np.testing.assert_allclose(by_object, by_name, rtol=1e-5, atol=1e-6)
    # and it differs from a constant learning rate
    assert np.abs(by_name - optimizers.run("himmelblau", "adam", (0.0, 0.0), 100, lr=0.1)).max() > 1e-2
