"""Surfaces against analytic derivatives, NumPy's eigensolver and the lecture's numbers."""
import numpy as np
import pytest

import surfaces

REQUIRED = [
    "lecture_saddle", "simple_saddle", "monkey_saddle", "elongated_valley", "walled_plateau", "rosenbrock", "beale",
    "himmelblau", "six_hump_camel", "rastrigin", "ackley", "local_minima", "plateau", "sharp_flat",
]
rng = np.random.default_rng(0)


def test_catalog_has_the_required_surfaces():
    assert set(REQUIRED) <= set(surfaces.names())


@pytest.mark.parametrize("name", surfaces.names())
def test_record_is_complete_and_starts_inside_domain(name):
    s = surfaces.get(name)
    (x0, x1), (y0, y1) = s.domain
    assert x0 < x1 and y0 < y1 and s.formula and s.text and s.title
    assert s.starts, "needs a default start"
    for x, y in s.starts:
        assert x0 <= x <= x1 and y0 <= y <= y1
        assert np.isfinite(float(s.loss(np.array([x, y], np.float32))))


def test_unknown_surface_names_the_valid_ones():
    with pytest.raises(KeyError, match="himmelblau"):
        surfaces.get("nope")


# ------------------------------------------------------------------ the lecture's worked example
def test_lecture_saddle_origin_is_a_saddle_with_eigenvalues_minus2_plus2():
    np.testing.assert_allclose(surfaces.gradient("lecture_saddle", (0, 0)), [0, 0], atol=1e-7)
    np.testing.assert_allclose(surfaces.hessian("lecture_saddle", (0, 0)), [[0, -2], [-2, 0]], atol=1e-6)
    values, vectors = surfaces.hessian_eigen("lecture_saddle", (0, 0))
    np.testing.assert_allclose(values, [-2, 2], atol=1e-6)
    u = vectors[:, 0]  # eigenvector of -2
    assert abs(abs(u @ np.array([1, 1]) / np.sqrt(2)) - 1) < 1e-6, u
    # LECTURES 1.3: a step along u lowers the loss.
    loss = surfaces.get("lecture_saddle").loss
    assert float(loss(0.1 * u)) < float(loss(np.zeros(2)))


def test_lecture_saddle_gradient_matches_the_lecture_formula():
    for w1, w2 in rng.uniform(-2, 2, size=(20, 2)):
        r = 1 - w1 * w2
        np.testing.assert_allclose(
            surfaces.gradient("lecture_saddle", (w1, w2)), [-2 * r * w2, -2 * r * w1], rtol=1e-4, atol=1e-5)


ANALYTIC_HESSIANS = {
    "himmelblau": lambda x, y: [[12 * x**2 + 4 * y - 42, 4 * x + 4 * y], [4 * x + 4 * y, 4 * x + 12 * y**2 - 26]],
    "rosenbrock": lambda x, y: [[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200]],
    "lecture_saddle": lambda x, y: [[2 * y**2, 4 * x * y - 2], [4 * x * y - 2, 2 * x**2]],
    "elongated_valley": lambda x, y: [[1, 0], [0, 200]],
    "walled_plateau": lambda x, y: [[100 * np.exp(-x**2 / 8) * (1 / 4 - x**2 / 16), 0],
                                    [0, 700 * (1 - 350 * y**2) / (1 + 350 * y**2) ** 2]],
    "monkey_saddle": lambda x, y: [[6 * x, -6 * y], [-6 * y, -6 * x]],
}


@pytest.mark.parametrize("name", sorted(ANALYTIC_HESSIANS))
def test_hessian_matches_hand_derivation(name):
    for x, y in rng.uniform(-1.5, 1.5, size=(10, 2)):
        expected = np.array(ANALYTIC_HESSIANS[name](x, y), dtype=float)
        np.testing.assert_allclose(surfaces.hessian(name, (x, y)), expected, rtol=1e-4, atol=1e-3)


def test_closed_form_eigen_matches_numpy_eigh():
    a = rng.normal(size=(500, 2, 2)) * rng.uniform(0.01, 100, size=(500, 1, 1))
    h = (a + np.transpose(a, (0, 2, 1))) / 2
    values, vectors = (np.asarray(v) for v in surfaces.symmetric_eigen_2x2(h.astype(np.float32)))
    np.testing.assert_allclose(values, np.linalg.eigh(h)[0], rtol=1e-4, atol=1e-4 * np.abs(h).max())
    residual = np.einsum("nij,njk->nik", h, vectors) - vectors * values[:, None, :]
    assert np.abs(residual).max() < 1e-3 * np.abs(h).max()
    np.testing.assert_allclose(np.einsum("nij,nik->njk", vectors, vectors), np.broadcast_to(np.eye(2), h.shape), atol=1e-5)


@pytest.mark.parametrize("name", ["himmelblau", "six_hump_camel", "ackley"])
def test_grid_maps_match_pointwise_analysis(name):
    g = surfaces.grid(name, resolution=41)
    assert g.loss.shape == g.grad_norm.shape == g.eig_min.shape == (41, 41)
    assert np.all(g.eig_min <= g.eig_max + 1e-4)
    s = surfaces.get(name)
    for i, j in rng.integers(0, 41, size=(8, 2)):
        p = np.array([g.xs[j], g.ys[i]])
        assert g.loss[i, j] == pytest.approx(float(s.loss(p.astype(np.float32))), rel=1e-5, abs=1e-5)
        np.testing.assert_allclose(g.grad_norm[i, j], np.linalg.norm(surfaces.gradient(name, p)), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose([g.eig_min[i, j], g.eig_max[i, j]],
                                   np.linalg.eigvalsh(surfaces.hessian(name, p).astype(float)), rtol=1e-3, atol=1e-3)


# ------------------------------------------------------------------ critical points
def test_himmelblau_has_exactly_nine_critical_points():
    cps = surfaces.critical_points("himmelblau")
    kinds = [c.kind for c in cps]
    assert len(cps) == 9
    assert kinds.count("minimum") == 4 and kinds.count("maximum") == 1 and kinds.count("saddle") == 4
    for c in cps:
        if c.kind == "minimum":
            assert abs(c.value) < 1e-6


@pytest.mark.parametrize("name", [s.name for s in surfaces.CATALOG if s.known])
def test_known_critical_points_are_found_with_their_kind(name):
    cps = surfaces.critical_points(name)
    for known in surfaces.get(name).known:
        hit, dist = surfaces.nearest_critical_point(cps, np.array(known.point))
        assert hit is not None and dist < 1e-3, (known, dist)
        assert hit.kind == known.kind, (known, hit.kind, hit.eigenvalues)


# Softmax losses have no stationary point at all: the loss only approaches its
# infimum 0 as y1 − y2 → ∞, so nothing may be reported there (not even on MSE's plateau).
WITHOUT_CRITICAL_POINTS = {"softmax_mse", "softmax_cross_entropy"}


def test_softmax_surfaces_report_no_critical_point_even_on_the_plateau():
    for name in WITHOUT_CRITICAL_POINTS:
        assert surfaces.critical_points(name) == []


@pytest.mark.parametrize("name", sorted(set(surfaces.names()) - WITHOUT_CRITICAL_POINTS))
def test_every_found_point_is_critical_inside_the_domain_and_sorted(name):
    s = surfaces.get(name)
    (x0, x1), (y0, y1) = s.domain
    cps = surfaces.critical_points(name)
    assert cps
    scale = max(1.0, float(np.median(surfaces.grid(name, 32).grad_norm)))
    for c in cps:
        assert x0 < c.point[0] < x1 and y0 < c.point[1] < y1
        assert np.linalg.norm(surfaces.gradient(name, c.point)) < 1e-3 * scale
        assert list(c.eigenvalues) == sorted(c.eigenvalues)
        assert c.kind == surfaces.classify(c.eigenvalues)
    order = [surfaces.KINDS.index(c.kind) for c in cps]
    assert order == sorted(order)


def test_curve_of_minima_does_not_flood_the_result():
    cps = surfaces.critical_points("lecture_saddle")
    assert len(cps) <= 20
    saddles = [c for c in cps if c.kind == "saddle"]
    assert len(saddles) == 1 and np.allclose(saddles[0].point, 0, atol=1e-5)
    curve = [c for c in cps if c.kind == "degenerate"]
    assert len(curve) >= 4  # both branches of w1·w2 = 1 are represented
    for c in curve:
        assert c.point[0] * c.point[1] == pytest.approx(1, abs=1e-3)
        assert abs(c.eigenvalues[0]) < 1e-4 and c.value < 1e-8
    assert {np.sign(c.point[0]) for c in curve} == {-1.0, 1.0}


def test_monkey_saddle_is_degenerate_not_forced_into_a_class():
    (c,) = surfaces.critical_points("monkey_saddle")
    assert c.kind == "degenerate"


@pytest.mark.parametrize("values,kind", [
    ([1, 2], "minimum"), ([-2, -1], "maximum"), ([-2, 2], "saddle"), ([0, 4], "degenerate"),
    ([1e-9, 4], "degenerate"), ([0.3994, 1001.6], "minimum"), ([0, 0], "degenerate"),
])
def test_classify(values, kind):
    assert surfaces.classify(values) == kind


def test_losses_and_gradients_of_any_number_of_points_reuse_one_compiled_program(count_compiles):
    # A path of 301 points, then 302, ... (a new step count on the Momentum page): padded rows, one program.
    rng = np.random.default_rng(0)
    surfaces.gradients("himmelblau", rng.normal(size=(300, 2)))  # compiles the 512-row shape (if not cached yet)
    for m in (301, 302, 377, 512):
        points = rng.normal(size=(m, 2))
        assert count_compiles(lambda: surfaces.gradients("himmelblau", points), "_losses_and_gradients") == 0
        x, y = points.T  # Himmelblau's gradient by hand
        expected = np.stack([4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7), 2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7)], 1)
        np.testing.assert_allclose(surfaces.gradients("himmelblau", points), expected, rtol=2e-4, atol=2e-3)
        np.testing.assert_allclose(surfaces.losses("himmelblau", points),
                                   (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, rtol=2e-5, atol=1e-3)
    assert surfaces.losses("himmelblau", np.zeros((0, 2))).shape == (0,)
