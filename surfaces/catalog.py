"""The catalog of 2-D error surfaces: one record per surface.

A record holds everything the app and the tests need to know about a surface:
its loss for one point p = (x, y) written in jax.numpy (so it can be
differentiated, jitted and vmapped), the formula in LaTeX, the domain drawn,
default start points, the critical points known analytically and one sentence
on what the surface teaches. Adding a surface is adding one record to
``CATALOG``; widgets, URL validation and tests iterate over it.
"""
from __future__ import annotations

import jax.numpy as jnp

from surfaces.classification import cross_entropy_of_softmax, lecture_logits, mse_of_softmax
from surfaces.formula import PREFIX as FORMULA_PREFIX
from surfaces.formula import from_name
from surfaces.surface import KnownPoint, Surface


def _lecture_saddle(p):
    w1, w2 = p[0], p[1]
    return (1.0 - w1 * w2) ** 2


def _simple_saddle(p):
    return p[0] ** 2 - p[1] ** 2


def _monkey_saddle(p):
    x, y = p[0], p[1]
    return x**3 - 3.0 * x * y**2


def _elongated_valley(p):
    # Hessian diag(1, 200): condition number 200. With eta = 1e-2 the steep
    # direction has eta * lambda = 2, the edge of stability, so plain gradient
    # descent bounces between the valley walls (the lecture's eta = 1e-2 case).
    return 0.5 * p[0] ** 2 + 100.0 * p[1] ** 2


WALLED_PLATEAU_HEIGHT = 100.0  # the valley floor's height far from the well: the loss a stuck run reports
WALLED_PLATEAU_WALL = 350.0  # b in ln(1 + b y²): the floor's curvature across the valley is 2b = 700


def _walled_plateau(p):
    r"""A level valley floor between steep walls that flatten out: gradient descent bounces for ever (lecture 2.1).

    .. math::
        L(x, y) = 100\,\bigl(1 - e^{-x^2/8}\bigr) + \ln\bigl(1 + b\,y^2\bigr), \qquad b = 350

    Along x the floor is a plateau at L ≈ 100 (slope 100·(x/4)·e^{−x²/8} = 0.067 at x = −8) around a well at
    the origin, the only critical point (a minimum, Hessian diag(25, 2b)). Across it the walls are steep near
    the floor (curvature 2b = 700) and flatten out (slope at most √b = 18.7, at |y| = 1/√b).

    Gradient descent's y-coordinate obeys, in u = √b·y and with k = 2bη,
    u ← u − k·u / (1 + u²), independent of x. For k < 2 it settles on the floor; at k = 2
    (η = 2/700 ≈ 0.00286, the stability edge) the floor turns unstable into a 2-cycle u ↔ −u with
    u² = k/2 − 1, stable while its multiplier (3 − 8/k)² < 1, i.e. up to k = 4. Any 2-cycle of gradient
    descent has g_b = −g_a (θ_b = θ_a − ηg_a and θ_a = θ_b − ηg_b), so ‖g‖ is the same at both points: a
    flat line, as on a quadratic valley at its edge. At k = 4 the cycle splits into an asymmetric 2-cycle
    (the loss alternates, ‖g‖ still does not), which doubles its period near k = 5 (4, 8, …) and turns
    chaotic: the Lyapunov exponent of the map is positive from k ≈ 5.4 to ≈ 7.9 (+0.68 at k = 7), with a
    period-4 window at k ≈ 8–8.6 (measured with the map in float64). At the lecture's η = 10⁻², k = 7: the
    bounce never repeats, ‖g‖ jumps between a small share and all of the walls' slope √b = 18.7 while the
    loss stays within ~2 % of the plateau's 100 (the walls are low: ln(1 + u²) ≤ 2.1 on the orbit). The
    lecture's picture of training that is stuck with a large, oscillating gradient.

    References: lecture 2.1, docs/teaching.md (training stuck ≠ small gradient); L. Kong, M. Tao, "Stochasticity of deterministic gradient descent: large learning rate for
    multiscale objective function", NeurIPS 2020 (chaotic GD at large η); J. Cohen et al., "Gradient
    descent on neural networks typically occurs at the edge of stability", ICLR 2021.
    """
    x, y = p[0], p[1]
    return WALLED_PLATEAU_HEIGHT * (1.0 - jnp.exp(-x**2 / 8.0)) + jnp.log1p(WALLED_PLATEAU_WALL * y**2)


def _rosenbrock(p):
    x, y = p[0], p[1]
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _beale(p):
    x, y = p[0], p[1]
    return (
        (1.5 - x + x * y) ** 2
        + (2.25 - x + x * y**2) ** 2
        + (2.625 - x + x * y**3) ** 2
    )


def _himmelblau(p):
    x, y = p[0], p[1]
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _six_hump_camel(p):
    x, y = p[0], p[1]
    return (4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (-4.0 + 4.0 * y**2) * y**2


def _rastrigin(p):
    x, y = p[0], p[1]
    two_pi = 2.0 * jnp.pi
    return 20.0 + x**2 - 10.0 * jnp.cos(two_pi * x) + y**2 - 10.0 * jnp.cos(two_pi * y)


ACKLEY_EPS = 0.1


def _ackley(p):
    x, y = p[0], p[1]
    # The textbook Ackley function has a cone tip at the origin where the
    # gradient does not exist (JAX would return NaN); the eps smooths the tip
    # over a radius of ~0.1 so Newton and gradient steps behave there. It lifts
    # the minimum from 0 to 20(1 - e^-0.02) = 0.40 on a surface that rises to
    # ~13: the picture is unchanged.
    r = jnp.sqrt(0.5 * (x**2 + y**2) + ACKLEY_EPS**2)
    two_pi = 2.0 * jnp.pi
    return (
        -20.0 * jnp.exp(-0.2 * r)
        - jnp.exp(0.5 * (jnp.cos(two_pi * x) + jnp.cos(two_pi * y)))
        + jnp.e
        + 20.0
    )


def _local_minima(p):
    x, y = p[0], p[1]
    return 0.5 * x**4 - 2.0 * x**2 + 0.6 * x + y**2


def _plateau(p):
    x, y = p[0], p[1]
    return 0.5 * (1.0 - jnp.tanh(3.0 * (x - 1.0))) + 0.005 * (x - 2.5) ** 2 + 0.1 * y**2


def _sharp_flat(p):
    x, y = p[0], p[1]
    sharp = jnp.exp(-((x + 1.5) ** 2 + y**2) / (2 * 0.2**2))
    flat = jnp.exp(-((x - 1.5) ** 2 + y**2) / (2 * 0.9**2))
    return 1.0 - sharp - flat + 0.02 * (x**2 + y**2)


def _softmax_mse(p):
    return mse_of_softmax(lecture_logits(p))


def _softmax_cross_entropy(p):
    return cross_entropy_of_softmax(lecture_logits(p))


CATALOG: tuple[Surface, ...] = (
    Surface(
        name="lecture_saddle",
        title="Lecture example: y = w1·w2·x",
        loss=_lecture_saddle,
        formula=r"L(w_1, w_2) = (1 - w_1 w_2)^2",
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        starts=((0.08, -0.05), (-1.6, 1.2), (1.8, -0.3)),
        text="The lecture's worked example: the origin is a saddle point (eigenvalues +2 and -2) "
        "and every point of the curve w1·w2 = 1 is a degenerate minimum.",
        known=(KnownPoint((0.0, 0.0), "saddle"),),
        log_color=True,  # L reaches 25 in the corners; the valleys w1·w2 = 1 are below 1
    ),
    Surface(
        name="simple_saddle",
        title="Saddle x² − y²",
        loss=_simple_saddle,
        formula=r"L(x, y) = x^2 - y^2",
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        starts=((1.5, 0.01), (-1.5, -0.02), (1.0, 1.0)),
        text="The simplest saddle: curving up along x, down along y; gradient descent "
        "started on the x-axis slides into the saddle and stays.",
        known=(KnownPoint((0.0, 0.0), "saddle"),),
    ),
    Surface(
        name="monkey_saddle",
        title="Monkey saddle x³ − 3xy²",
        loss=_monkey_saddle,
        formula=r"L(x, y) = x^3 - 3 x y^2",
        domain=((-1.5, 1.5), (-1.5, 1.5)),
        starts=((1.0, 0.05), (0.5, 0.8), (1.2, -0.6)),
        text="A degenerate critical point: the Hessian at the origin is zero, so the "
        "second-order test cannot tell what kind of point it is.",
        known=(KnownPoint((0.0, 0.0), "degenerate"),),
    ),
    Surface(
        name="elongated_valley",
        title="Elongated valley (condition number 200)",
        loss=_elongated_valley,
        formula=r"L(x, y) = \tfrac{1}{2}x^2 + 100\,y^2",
        domain=((-10.0, 10.0), (-2.0, 2.0)),
        starts=((-8.0, 1.2), (8.0, -1.5), (-5.0, 0.3)),
        text="Convex but elongated: one learning rate cannot fit both directions, "
        "the lecture's case for per-parameter (adaptive) learning rates.",
        known=(KnownPoint((0.0, 0.0), "minimum"),),
        log_color=True,
    ),
    Surface(
        name="walled_plateau",
        title="Walled plateau (steep walls that flatten out)",
        loss=_walled_plateau,
        formula=r"L(x, y) = 100\,\bigl(1 - e^{-x^2/8}\bigr) + \ln\bigl(1 + 350\,y^2\bigr)",
        domain=((-10.0, 10.0), (-0.6, 0.6)),
        starts=((-8.0, 0.5), (8.0, -0.4), (-5.0, 0.05)),
        text="A valley whose floor is a plateau at L ≈ 100 and whose walls are steep near the floor but flatten "
        "out: with too large an η gradient descent bounces between them without ever repeating, so ‖g‖ jumps up and down "
        "while the loss stays flat (training stuck ≠ small gradient).",
        known=(KnownPoint((0.0, 0.0), "minimum"),),
        # Most of the map is the floor at L ≈ 100 with walls of at most ln(1 + 350·0.6²) = 4.8 on it: linear
        # (0–105) and log colours both draw it as one colour in vertical bands; equal-area colours show the walls.
        equalize_color=True,
    ),
    Surface(
        name="rosenbrock",
        title="Rosenbrock banana",
        loss=_rosenbrock,
        formula=r"L(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
        domain=((-2.0, 2.0), (-1.0, 3.0)),
        starts=((-1.5, 2.0), (-1.0, -0.5), (1.5, 2.8)),
        text="A curved, narrow valley: easy to reach, slow to follow to the minimum at (1, 1).",
        known=(KnownPoint((1.0, 1.0), "minimum"),),
        log_color=True,
    ),
    Surface(
        name="beale",
        title="Beale",
        loss=_beale,
        formula=r"L(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        domain=((-4.5, 4.5), (-4.5, 4.5)),
        starts=((-3.0, -3.0), (1.0, 3.5), (-4.0, 1.0)),
        text="Flat plateaus and sharp ridges with values spanning five orders of magnitude; "
        "minimum at (3, 0.5).",
        known=(KnownPoint((3.0, 0.5), "minimum"), KnownPoint((0.0, 1.0), "saddle")),
        log_color=True,
    ),
    Surface(
        name="himmelblau",
        title="Himmelblau",
        loss=_himmelblau,
        formula=r"L(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((-1.0, -0.5), (0.0, 0.0), (-4.5, 4.5)),  # the first away from the maximum's mark
        text="Four equally deep minima, one maximum and four saddle points: where you "
        "start decides where you end.",
        known=(
            KnownPoint((3.0, 2.0), "minimum"),
            KnownPoint((-2.805118, 3.131312), "minimum"),
            KnownPoint((-3.779310, -3.283186), "minimum"),
            KnownPoint((3.584428, -1.848126), "minimum"),
            KnownPoint((-0.270845, -0.923039), "maximum"),
            KnownPoint((0.086678, 2.884255), "saddle"),
            KnownPoint((-3.073026, -0.081353), "saddle"),
            KnownPoint((3.385154, 0.073852), "saddle"),
            KnownPoint((-0.127961, -1.953715), "saddle"),
        ),
        log_color=True,
    ),
    Surface(
        name="six_hump_camel",
        title="Six-hump camel",
        loss=_six_hump_camel,
        formula=r"L(x, y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2",
        domain=((-2.0, 2.0), (-1.2, 1.2)),
        starts=((-1.8, 1.0), (0.0, 0.0), (1.5, -1.0)),
        text="Six local minima, two of them global at (±0.0898, ∓0.7126): local minima "
        "of different depth side by side.",
        known=(
            KnownPoint((0.08984201, -0.71265640), "minimum"),
            KnownPoint((-0.08984201, 0.71265640), "minimum"),
        ),
    ),
    Surface(
        name="rastrigin",
        title="Rastrigin",
        loss=_rastrigin,
        formula=r"L(x, y) = 20 + x^2 - 10\cos 2\pi x + y^2 - 10\cos 2\pi y",
        domain=((-2.5, 2.5), (-2.5, 2.5)),
        starts=((-2.2, 2.3), (1.6, -1.7), (0.4, 0.6)),
        text="An egg-crate of local minima, maxima and saddles around one global minimum "
        "at the origin: many critical points.",
        known=(KnownPoint((0.0, 0.0), "minimum"),),
        seeds_per_axis=64,
    ),
    Surface(
        name="ackley",
        title="Ackley",
        loss=_ackley,
        formula=r"L(x, y) = -20\,e^{-0.2\sqrt{\frac{1}{2}(x^2 + y^2)}} - e^{\frac{1}{2}(\cos 2\pi x + \cos 2\pi y)} + e + 20",
        domain=((-4.0, 4.0), (-4.0, 4.0)),
        starts=((-3.3, 3.1), (2.6, -2.2), (1.2, 0.7)),
        text="A nearly flat outer region riddled with small local minima, and one deep "
        "funnel at the origin.",
        known=(KnownPoint((0.0, 0.0), "minimum"),),
        seeds_per_axis=64,
    ),
    Surface(
        name="local_minima",
        title="Shallow and deep minimum",
        loss=_local_minima,
        formula=r"L(x, y) = \tfrac{1}{2}x^4 - 2x^2 + 0.6x + y^2",
        domain=((-2.5, 2.5), (-2.0, 2.0)),
        starts=((2.3, 1.5), (-2.3, -1.5), (0.5, 1.8)),
        text="A shallow local minimum beside a deeper one, separated by a small hill that "
        "momentum can roll over and plain gradient descent cannot.",
        known=(
            KnownPoint((-1.483968, 0.0), "minimum"),
            KnownPoint((0.151747, 0.0), "saddle"),
            KnownPoint((1.332221, 0.0), "minimum"),
        ),
    ),
    Surface(
        name="plateau",
        title="Plateau, then a drop",
        loss=_plateau,
        formula=r"L(x, y) = \tfrac{1}{2}\left(1 - \tanh 3(x - 1)\right) + 0.005\,(x - 2.5)^2 + 0.1\,y^2",
        domain=((-3.0, 4.0), (-2.0, 2.0)),
        starts=((-2.5, 1.5), (-1.0, -1.0), (3.5, 1.5)),
        text="A nearly flat shelf where the gradient is tiny, then a steep drop: plain "
        "gradient descent crawls on the shelf, momentum builds up speed.",
    ),
    Surface(
        name="sharp_flat",
        title="Sharp and flat minimum",
        loss=_sharp_flat,
        formula=r"L(x, y) = 1 - e^{-\frac{(x + 1.5)^2 + y^2}{2 \cdot 0.2^2}} - e^{-\frac{(x - 1.5)^2 + y^2}{2 \cdot 0.9^2}} + 0.02\,(x^2 + y^2)",
        domain=((-3.0, 3.0), (-2.0, 2.0)),
        starts=((-0.4, 1.2), (0.0, -1.5), (2.8, 1.8)),
        text="Two minima of similar depth, one sharp and one flat: a small shift between "
        "training and test loss hurts the sharp one much more.",
    ),
    Surface(
        name="softmax_mse",
        title="Softmax + mean square error (3 classes)",
        loss=_softmax_mse,
        formula=r"L(y_1, y_2) = \sum_{i=1}^{3} (\hat y_i - y'_i)^2,\ y' = \mathrm{softmax}(y_1, y_2, -1000),\ "
                r"\hat y = (1, 0, 0)",
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        starts=((-8.0, 8.0), (-4.0, 6.0), (2.0, -8.0)),
        text="The lecture's classification surface with MSE: where the loss is large (y1 low, y2 high) "
        "it is flat, so gradient descent stalls.",
    ),
    Surface(
        name="softmax_cross_entropy",
        title="Softmax + cross-entropy (3 classes)",
        loss=_softmax_cross_entropy,
        formula=r"L(y_1, y_2) = -\sum_{i=1}^{3} \hat y_i \ln y'_i = -\ln y'_1,\ "
                r"y' = \mathrm{softmax}(y_1, y_2, -1000)",
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        starts=((-8.0, 8.0), (-4.0, 6.0), (2.0, -8.0)),
        text="The same outputs with cross-entropy: it still slopes towards the minimum where MSE is flat. "
        "Changing the loss changes how hard optimization is.",
    ),
)

_BY_NAME = {s.name: s for s in CATALOG}


def names() -> list[str]:
    """Registry names of all built-in surfaces, in catalog order."""
    return [s.name for s in CATALOG]


def get(name: str | Surface) -> Surface:
    """The surface record called ``name`` (a record is returned as it is).

    A name made by ``surfaces.formula.surface_name`` (``FORMULA_PREFIX`` …) builds the
    typed surface (cached, so the same name is the same record).

    Raises:
      KeyError: with the list of valid names when ``name`` is unknown.
      surfaces.FormulaError: when a typed surface's name holds an unusable formula.
    """
    if isinstance(name, Surface):
        return name
    if isinstance(name, str) and name.startswith(FORMULA_PREFIX):  # a typed f(x, y): see surfaces.formula
        return from_name(name)
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown surface {name!r}; choose one of {', '.join(names())}") from None
