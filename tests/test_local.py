"""surfaces.local: the second-order view at a point, against analytic derivatives and the lecture."""
import numpy as np
import pytest

import surfaces


def himmelblau_gradient(x, y):
    return np.array([4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7), 2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7)])


def himmelblau_hessian(x, y):
    return np.array([[12 * x**2 + 4 * y - 42, 4 * x + 4 * y], [4 * x + 4 * y, 4 * x + 12 * y**2 - 26]])


def test_lecture_saddle_at_the_origin():
    a = surfaces.analyze_point("lecture_saddle", (0.0, 0.0))
    assert a.value == pytest.approx(1.0)
    np.testing.assert_allclose(a.gradient, 0, atol=1e-7)
    np.testing.assert_allclose(a.hessian, [[0, -2], [-2, 0]], atol=1e-6)
    np.testing.assert_allclose(a.eigenvalues, [-2, 2], atol=1e-6)
    u = a.eigenvectors[:, 0]
    assert abs(u @ np.array([1, 1]) / np.sqrt(2)) == pytest.approx(1, abs=1e-6)  # u ∝ (1, 1)
    assert a.kind == "saddle" and a.minimum_ratio == 0.5


@pytest.mark.parametrize("point", [(1.0, 1.0), (-2.5, 0.7), (3.2, -1.1)])
def test_gradient_and_hessian_match_the_analytic_ones(point):
    a = surfaces.analyze_point("himmelblau", point)
    np.testing.assert_allclose(a.gradient, himmelblau_gradient(*point), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(a.hessian, himmelblau_hessian(*point), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(a.eigenvalues, np.linalg.eigvalsh(himmelblau_hessian(*point)), rtol=1e-4, atol=1e-3)
    assert a.kind == "not critical"


def test_taylor_error_of_the_lecture_example_is_exactly_w1_squared_w2_squared():
    # L = 1 − 2w1w2 + w1²w2² and Q = 1 − 2w1w2 at the origin: L − Q = w1²w2², largest at the corners.
    for r in (0.5, 0.25):
        local = surfaces.local_quadratic("lecture_saddle", (0.0, 0.0), r)
        W1, W2 = np.meshgrid(local.xs, local.ys)
        np.testing.assert_allclose(local.loss - local.quadratic, W1**2 * W2**2, atol=1e-5)
        assert local.max_abs_error == pytest.approx(r**4, rel=1e-3)


def test_taylor_error_shrinks_like_the_cube_of_the_window():
    big = surfaces.local_quadratic("himmelblau", (1.0, 1.0), 0.2).max_abs_error
    small = surfaces.local_quadratic("himmelblau", (1.0, 1.0), 0.1).max_abs_error
    assert 0.1 < small / big < 0.16  # 1/8 plus a fourth-order share


def test_quadratic_is_exact_on_a_quadratic_surface():
    local = surfaces.local_quadratic("elongated_valley", (1.0, -0.5), 1.0)
    assert local.max_abs_error < 1e-3 * np.max(local.loss)
    assert np.isnan(local.error_order) and local.is_exact  # no Taylor term left: no order (the page says so)


def test_measured_error_order_is_four_at_the_lecture_saddle_and_three_elsewhere():
    # At the origin L − Q = w1²w2² exactly: halving the window divides the error by 2⁴ = 16.
    saddle = surfaces.local_quadratic("lecture_saddle", (0.0, 0.0), 0.5)
    assert saddle.half_window_error == pytest.approx(0.25**4, rel=1e-3)
    assert saddle.error_order == pytest.approx(4.0, abs=1e-3) and saddle.shrink_factor == pytest.approx(16, rel=1e-3)
    assert not saddle.is_exact
    # Away from it the cubic term leads: L − Q ≈ third-order terms, so the order is close to 3.
    other = surfaces.local_quadratic("himmelblau", (1.0, 1.0), 0.2)
    assert other.error_order == pytest.approx(np.log2(other.max_abs_error / other.half_window_error))
    assert 2.9 < other.error_order < 3.3


def test_signature_map_counts_positive_eigenvalues():
    g = surfaces.grid("simple_saddle", 30)
    assert np.all(surfaces.positive_count(g.eig_min, g.eig_max) == 1)
    g = surfaces.grid("himmelblau", 200)
    counts = surfaces.positive_count(g.eig_min, g.eig_max)
    for c in surfaces.critical_points("himmelblau"):
        j, i = np.abs(g.xs - c.point[0]).argmin(), np.abs(g.ys - c.point[1]).argmin()
        assert counts[i, j] == {"minimum": 2, "saddle": 1, "maximum": 0}[c.kind]


@pytest.mark.parametrize("eigenvalues, ratio", [((1, 2), 1.0), ((-1, 2), 0.5), ((-3, -1), 0.0), ((0.0, 4.0), 0.5),
                                                ((4.7e-7, 8.0), 0.5), ((-1, 2, 3, 4), 0.75)])
def test_minimum_ratio(eigenvalues, ratio):
    assert surfaces.minimum_ratio(eigenvalues) == ratio


def test_the_hidden_saddle_is_a_minimum_in_its_slice_and_a_saddle_in_full_space():
    h = surfaces.hidden_saddle()
    np.testing.assert_allclose(h.gradient, 0.0, atol=1e-7)
    np.testing.assert_allclose(h.slice_hessian, [[2, 0], [0, 2]], atol=1e-6)  # the slice: w₁² + w₂²
    np.testing.assert_allclose(h.hessian, [[2, 0, 2], [0, 2, 0], [2, 0, 1]], atol=1e-6)
    root = np.sqrt(17.0)
    np.testing.assert_allclose(h.eigenvalues, [(3 - root) / 2, 2, (3 + root) / 2], rtol=1e-6)
    assert (h.slice_kind, h.kind) == ("minimum", "saddle")
    assert surfaces.minimum_ratio(h.slice_eigenvalues) == 1.0 and surfaces.minimum_ratio(h.eigenvalues) == 2 / 3
    u = h.escape_direction
    np.testing.assert_allclose(h.hessian @ u, h.eigenvalues[0] * u, atol=1e-6)
    # L(s·u) = λ s²/2 + O(s⁴) near 0: down at first; the loss at the true minima w₁ = −w₃ = ∓1 is −¼
    small = np.abs(h.along) < 0.1
    np.testing.assert_allclose(h.loss_along_escape[small], 0.5 * h.eigenvalues[0] * h.along[small] ** 2, atol=1e-4)
    assert float(surfaces.hidden.hidden_saddle_loss(np.array([-1.0, 0.0, 1.0]))) == -0.25
    assert np.all(h.loss_along_w3 >= 0) and np.all(h.slice_loss >= 0)


def test_the_share_of_positive_eigenvalues_among_the_nonzero_ones():
    # On the valley of minima: one zero eigenvalue (along it), one positive: every non-zero one positive.
    assert surfaces.eigenvalue_signs([0.0, 4.0]) == (0, 1, 1) and surfaces.eigenvalue_signs([0.0, 4.0]).nonzero_positive_share == 1.0
    assert surfaces.eigenvalue_signs([-2.0, 0.0, 1.0, 3.0]).nonzero_positive_share == 2 / 3
    assert np.isnan(surfaces.eigenvalue_signs([0.0, 0.0]).nonzero_positive_share)
