"""Typed formulas: a whitelist parser that only ever raises its own error, agrees with NumPy, and works everywhere."""
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import optimizers
import surfaces
from surfaces import formula
from surfaces.formula import FormulaError

POINTS = np.random.default_rng(0).uniform(-2.5, 2.5, (64, 2)).astype(np.float32)

# (text, NumPy function of x and y): an independent transcription of every allowed piece
LEAVES = [("x", lambda x, y: x), ("y", lambda x, y: y), ("pi", lambda x, y: np.full_like(x, np.pi)),
          ("e", lambda x, y: np.full_like(x, np.e)), ("0.5", lambda x, y: np.full_like(x, 0.5)),
          ("3", lambda x, y: np.full_like(x, 3.0)), ("1e-1", lambda x, y: np.full_like(x, 0.1))]
UNARY = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs,
         "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "relu": lambda v: np.maximum(v, 0),
         "softplus": lambda v: np.logaddexp(0, v)}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


def expressions():
    def extend(children):
        unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
            lambda t: (f"{t[0]}({t[1][0]})", lambda x, y, f=UNARY[t[0]], g=t[1][1]: f(g(x, y))))
        minmax = st.tuples(st.sampled_from(["min", "max"]), children, children).map(
            lambda t: (f"{t[0]}({t[1][0]}, {t[2][0]})",
                       lambda x, y, f={"min": np.minimum, "max": np.maximum}[t[0]], a=t[1][1], b=t[2][1]:
                       f(a(x, y), b(x, y))))
        binary = st.tuples(children, st.sampled_from(sorted(BINARY)), children).map(
            lambda t: (f"({t[0][0]}) {t[1]} ({t[2][0]})",
                       lambda x, y, f=BINARY[t[1]], a=t[0][1], b=t[2][1]: f(a(x, y), b(x, y))))
        power = st.tuples(children, st.sampled_from([2, 3, 0.5])).map(
            lambda t: (f"({t[0][0]})**{t[1]}", lambda x, y, a=t[0][1], k=t[1]: np.power(a(x, y), k)))
        negative = children.map(lambda c: (f"-({c[0]})", lambda x, y, a=c[1]: -a(x, y)))
        return st.one_of(unary, minmax, binary, power, negative)

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_valid_expressions_evaluate_like_numpy(expression):
    text, reference = expression
    try:
        surface = surfaces.from_formula(text)
    except FormulaError:
        assume(False)  # a folded constant too large: refused on purpose
    ours = surfaces.losses(surface, POINTS).astype(np.float64)
    with np.errstate(all="ignore"):
        theirs = reference(POINTS[:, 0].astype(np.float64), POINTS[:, 1].astype(np.float64))
    both = np.isfinite(ours) & np.isfinite(theirs) & (np.abs(theirs) < 1e6)
    np.testing.assert_allclose(ours[both], theirs[both], rtol=2e-3, atol=1e-4)


# ------------------------------------------------------------------ the interpreter against the composed functions
def composed_derivatives(text: str, points: np.ndarray, exact: bool = False):
    """Value, gradient and Hessian of the formula composed of jax.numpy closures (``formula.compose``, the path
    every formula was compiled by before the interpreter), by ``jax.grad`` and ``jax.hessian``: the oracle.
    ``exact``: in float64, the arbiter where float32 round-off differs."""
    fn = formula.compose(formula.parse(text))
    loss = lambda p: fn(p[0], p[1])  # noqa: E731
    with jax.enable_x64(exact):
        at = jax.jit(jax.vmap(lambda p: (loss(p), jax.grad(loss)(p), jax.hessian(loss)(p))))
        return [np.asarray(a, np.float64) for a in at(jnp.asarray(points, jnp.float64 if exact else jnp.float32))]


def interpreted_derivatives(text: str, points: np.ndarray):
    """The same through the typed surface's own loss (the shared interpreter) and the package's functions."""
    s = surfaces.from_formula(text)
    hessians = jax.jit(jax.vmap(jax.hessian(s.loss)))(jnp.asarray(points))
    return [np.asarray(a, np.float64) for a in (surfaces.losses(s, points), surfaces.gradients(s, points), hessians)]


def assert_same_derivatives(text: str, points: np.ndarray = POINTS):
    ours, theirs = interpreted_derivatives(text, points), composed_derivatives(text, points)
    exact = composed_derivatives(text, points, exact=True)
    for a, b, truth, what in zip(ours, theirs, exact, ("value", "gradient", "Hessian")):
        finite = np.isfinite(b)
        # Where the composed function's number is finite the interpreter's is too, and no farther from the
        # float64 value than the composed one's (float32 round-off in another order of operations: -(y·x/x)
        # at x = −5·10⁻⁴ has ∂²/∂x² = 0, the composed function gives −0.25, the interpreter 0) plus 3·10⁻⁴
        # relative to the number or to 1.
        assert np.all(np.isfinite(a[finite])), (text, what, "not finite where the composed one is")
        a_, b_, truth_ = a[finite], b[finite], truth[finite]
        truth_ = np.where(np.isfinite(truth_), truth_, b_)  # float64 itself undefined there: the composed value
        tolerance = 3e-4 * np.maximum(1.0, np.abs(truth_))
        assert np.all(np.abs(a_ - truth_) <= np.abs(b_ - truth_) + tolerance), (text, what)
        if what == "Hessian":
            # jax.hessian (forward over reverse) is not symmetric in its NaNs: for sqrt(x) + y at x < 0 it
            # gives ∂²/∂x∂y = NaN·0 but ∂²/∂y∂x = 0; the interpreter may have either there.
            finite = finite | np.swapaxes(finite, -1, -2)
            assert not np.any(np.isfinite(a) & ~finite), (text, what, "finite where the composed one is not")
        else:
            assert np.array_equal(np.isfinite(a), finite), (text, what, "finite where the composed one is not")


# 20 random formulas (each compiles the composed path, ~1.5 s); the formulas at the limits and the edge cases
# below are checked every run on top of them.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_the_interpreter_has_the_values_gradients_and_hessians_of_the_composed_function(expression):
    text, _ = expression
    try:
        formula.parse(text)
    except FormulaError:
        assume(False)
    assert_same_derivatives(text)


def limit_formulas():
    """Formulas at the parser's limits: the costliest chains and the deepest nestings it accepts."""
    from bench.bench_formula_cost import worst_cases
    return worst_cases()


@pytest.mark.parametrize("name", list(limit_formulas()))
def test_formulas_at_the_limits_have_the_derivatives_of_the_composed_function(name):
    assert_same_derivatives(limit_formulas()[name], POINTS[:16])


@pytest.mark.parametrize("text", [
    "x**2 - y**2", "y**3 + x**0.5", "2**x * y", "sqrt(0) + x", "log(1)*x + y**2", "x**y", "abs(x)*relu(y)",
    "max(x, y) + min(x, 0.5)", "max(x, x) + min(y, y)", "sigmoid(x*y) + softplus(-y)", "tan(x)/cos(y)", "x/0 + y",
    "exp(90*x)", "log(x)*sqrt(y)",
])
def test_edge_cases_have_the_derivatives_of_the_composed_function(text):
    # Constants raised or divided (a constant's derivative terms must be dropped, not multiplied by 0), ties of
    # min/max (JAX splits the derivative), kinks at 0, overflow and points where f is not defined.
    edges = np.array([[0, 0], [-1, 2], [1, -1], [0.5, 0.5], [-0.5, -0.5], [2, 0], [0, 3], [1.5, 1.5]], np.float32)
    assert_same_derivatives(text, np.concatenate([POINTS[:8], edges]))


def test_a_new_formula_compiles_nothing(count_compiles):
    start = np.array([[0.3, 0.2]], np.float32)

    def use(text):
        s = surfaces.from_formula(text)
        surfaces.grid(s.name, 120)
        surfaces.critical_points(s.name)
        optimizers.trajectories(s.name, "adam", start, 300, lr=0.05)
        return s

    first = use("x**2 - y**2 + 0.1*sin(5*x)")  # compiles the interpreter for this program length (once)
    second = "x**2 + 3*y**2 + cos(4*y)"
    assert len(surfaces.from_formula(second).program[0]) == len(first.program[0])  # the same compiled length
    assert count_compiles(lambda: use(second), name=None) == 0
    np.testing.assert_allclose(surfaces.gradient(surfaces.from_formula(second), (0.5, -1.0)),
                               [2 * 0.5, -6 - 4 * math.sin(-4)], rtol=1e-5)


def parse_seconds(text: str) -> float:
    """The parse time of ``text`` (best of three, so a GC pause or a busy CI core is not counted as parse cost).

    Only FormulaError may escape the parser.
    """
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        try:
            formula.parse(text)
        except FormulaError:
            pass
        best = min(best, time.perf_counter() - start)
    return best


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_random_text_raises_only_formula_errors_quickly(text):
    try:
        formula.parse(text)
    except FormulaError as err:
        assert 0 <= err.position <= max(len(text), formula.MAX_LENGTH)
    assert parse_seconds(text) < 0.1


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="xy0123456789.e+-*/(), sincoqrtabpilgmh", max_size=120))
def test_grammar_like_text_raises_only_formula_errors_quickly(text):
    assert parse_seconds(text) < 0.1


HOSTILE = [
    ("x.__class__", 1), ("__import__('os').system('ls')", 0), ("import os", 0), ("lambda: 1", 6),
    ("[x for x in y]", 0), ("{x: y}", 0), ("eval('1')", 5), ("open('/etc/passwd')", 5), ("x if y else 1", 2),
    ("globals()", 0), ("exp(x).real", 6), ("9**9**9", 1), ("10**13", 2), ("1e999", 0), ("x" * 100_000, 400),
    ("(" * 1000 + "x" + ")" * 1000, 400), ("(" * 100 + "x" + ")" * 100, formula.MAX_DEPTH + 1),
    ("-" * 100 + "x", formula.MAX_DEPTH + 1), ("ｘ + 1", 0), ("x ＋ y", 2), ("x\u200b+y", 1),
    ("sin(x", 5), ("sin x", 4), ("max(x)", 0), ("foo(x)", 0), ("x; y", 1), ("'x'", 0), ("x @ y", 2), ("", 0),
    ("x ^ 2", 2), ("1 / 0 * x", 2),
]


@pytest.mark.parametrize("text,position", HOSTILE, ids=[repr(t[:20]) for t, _ in HOSTILE])
def test_hostile_inputs_are_refused_with_a_message_and_position(text, position):
    with pytest.raises(FormulaError) as info:
        surfaces.from_formula(text)
    assert info.value.message and info.value.position == position


def test_the_issue_example_works_like_a_built_in_surface(count_compiles):
    s = surfaces.from_formula("x**2 - y**2 + 0.1*sin(5*x)")
    assert surfaces.from_formula("x**2 - y**2 + 0.1*sin(5*x)") is s  # cached: compiled code is reused
    assert surfaces.get(s.name) is s
    g = surfaces.gradient(s.name, (0.3, 0.2))
    np.testing.assert_allclose(g, [2 * 0.3 + 0.5 * math.cos(1.5), -0.4], rtol=1e-5)
    np.testing.assert_allclose(surfaces.hessian(s.name, (0.3, 0.2)), [[2 - 2.5 * math.sin(1.5), 0], [0, -2]],
                               rtol=1e-4, atol=1e-6)
    saddles = [c for c in surfaces.critical_points(s.name) if c.kind == "saddle"]
    assert saddles and all(abs(c.point[1]) < 1e-4 for c in saddles)
    path = optimizers.run(s.name, "adam", (0.5, 0.5), 100, lr=0.05)
    assert path.shape == (101, 2) and np.isfinite(path).all()
    assert count_compiles(lambda: optimizers.run(s.name, "adam", (0.4, 0.1), 100, lr=0.02)) == 0


def test_domain_and_non_finite_points():
    s = surfaces.from_formula("log(x) + sqrt(y)", domain=((-1, 1), (-1, 1)))
    grid = surfaces.grid(s.name, 40)
    assert 0.7 < np.mean(~np.isfinite(grid.loss)) < 0.8  # x ≤ 0 or y < 0: blank, not garbage
    with pytest.raises(FormulaError, match="domain"):
        surfaces.from_formula("x", domain=((1, 0), (0, 1)))
    path = optimizers.trajectories(s.name, "gd", np.array([[-0.5, 0.5]], np.float32), 10, lr=0.1)
    assert path.diverged_at[0] == 0  # starts where f is not finite: stops at once, and says so


def test_latex_rendering_keeps_only_needed_parentheses():
    assert surfaces.from_formula("-x**2 / (1 + y) * pi").formula == r"L(x, y) = \frac{-x^{2}}{1 + y} \cdot \pi"
    assert surfaces.from_formula("(x - 1)*(y + 2) - (x - y)").formula == \
        r"L(x, y) = \left(x - 1\right) \cdot \left(y + 2\right) - \left(x - y\right)"


# ------------------------------------------------------------------ the cost limit (compile time grows with it)
WEIGHT = {"+": 1, "-": 1, "*": 1, "/": 2, "**": 3, "sin": 3, "exp": 3, "tanh": 3, "softplus": 4, "sigmoid": 4}


def chains():
    """A formula as a chain of operations on x and y, with its cost counted independently of the parser."""
    step = st.sampled_from(sorted(WEIGHT))
    return st.lists(step, min_size=1, max_size=30).map(build)


def build(ops):
    text, cost, depth = "x", 0, 0
    for op in ops:
        if op in ("+", "-", "*", "/"):
            text = f"{text} {op} y"
        elif op == "**":
            text, depth = f"({text})**2", depth + 1
        else:
            text, depth = f"{op}({text})", depth + 1
        cost += WEIGHT[op]
    return text, cost, depth


@settings(max_examples=300, deadline=None)
@given(chains())
def test_formulas_at_the_cost_limit_are_accepted_and_beyond_it_refused(chain):
    text, cost, depth = chain
    assume(depth <= formula.MAX_DEPTH - 1 and len(text) <= formula.MAX_LENGTH)
    if cost <= formula.MAX_COST:
        formula.parse(text)
    else:
        with pytest.raises(FormulaError, match="too costly"):
            formula.parse(text)


def test_the_costliest_accepted_formulas_sit_at_the_limit():
    divisions = "/".join(["x"] * (formula.MAX_COST // 2 + 1))  # cost exactly MAX_COST
    formula.parse(divisions)
    with pytest.raises(FormulaError, match="too costly") as info:
        formula.parse(divisions + "/x")
    assert info.value.position == len(divisions)  # the operation that went over
    nested = "softplus(" * (formula.MAX_COST // 4) + "x" + ")" * (formula.MAX_COST // 4)
    formula.parse(nested) if formula.MAX_COST // 4 < formula.MAX_DEPTH else None
    for issue_example in ("/".join(["x"] * 199), "softplus(" * 35 + "x" + ")" * 35):  # 39 s and 26 s before
        with pytest.raises(FormulaError):
            formula.parse(issue_example)


def test_a_typed_surface_name_carries_its_exact_domain():
    a = surfaces.from_formula("x**2", ((0, 1.0000001), (0, 1)))
    b = surfaces.from_formula("x**2", ((0, 1.0000002), (0, 1)))
    assert a.name != b.name and surfaces.get(a.name).domain == ((0.0, 1.0000001), (0.0, 1.0))
    far = surfaces.from_formula("x**2", ((100000.0, 100020.5), (0, 1)))
    assert surfaces.get(far.name).domain == far.domain
    assert surfaces.grid(far.name, 8).loss.shape == (8, 8)
    with pytest.raises(FormulaError, match="wider"):  # float32 has too few points between these to draw a map
        surfaces.from_formula("x**2", ((100000.1, 100000.2), (0, 1)))
