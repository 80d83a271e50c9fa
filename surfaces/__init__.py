"""2-D error surfaces: the catalog, their derivatives, maps and critical points.

Notebook use (no Streamlit needed)::

    import surfaces
    surfaces.names()
    s = surfaces.get("lecture_saddle"); s.loss(jnp.array([0.5, 1.0]))
    surfaces.critical_points("himmelblau")
    surfaces.hessian_eigen("lecture_saddle", (0.0, 0.0))

Imports only JAX and NumPy.
"""
from surfaces import classification, hidden
from surfaces.analysis import (
    CURVE_KINDS,
    KINDS,
    ZERO_EIGENVALUE_TOL,
    CriticalCurve,
    CriticalPoint,
    EigenvalueSigns,
    Grid,
    classify,
    critical_curves,
    critical_points,
    distance_to_curve,
    eigenvalue_signs,
    gradient,
    gradients,
    grid,
    hessian,
    hessian_eigen,
    losses,
    nearest_critical,
    nearest_critical_point,
    stability_edge,
    symmetric_eigen_2x2,
)
from surfaces.catalog import CATALOG, get, names
from surfaces.formula import FormulaError, from_formula
from surfaces.hidden import HiddenSaddle, hidden_saddle
from surfaces.local import (
    CRITICAL_GRADIENT,
    LocalQuadratic,
    PointAnalysis,
    analyze_point,
    local_quadratic,
    minimum_ratio,
    positive_count,
    taylor_quadratic,
    taylor_radius,
)
from surfaces.surface import KnownPoint, Surface

__all__ = [
    "hidden", "HiddenSaddle", "hidden_saddle", "CATALOG", "KINDS", "ZERO_EIGENVALUE_TOL", "EigenvalueSigns", "eigenvalue_signs", "classification", "FormulaError", "from_formula", "CriticalPoint", "Grid", "KnownPoint", "Surface", "classify",
    "critical_points", "get", "gradient", "gradients", "losses", "grid", "hessian", "hessian_eigen", "names",
    "nearest_critical_point", "stability_edge", "symmetric_eigen_2x2", "CRITICAL_GRADIENT", "LocalQuadratic", "PointAnalysis",
    "analyze_point", "local_quadratic", "minimum_ratio", "positive_count", "taylor_quadratic", "taylor_radius",
]
