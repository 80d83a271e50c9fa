"""2-D error surfaces: the catalog, their derivatives, maps and critical points.

Notebook use (no Streamlit needed)::

    import surfaces
    surfaces.names()
    s = surfaces.get("lecture_saddle"); s.loss(jnp.array([0.5, 1.0]))
    surfaces.critical_points("himmelblau")
    surfaces.hessian_eigen("lecture_saddle", (0.0, 0.0))

Imports only JAX and NumPy.
"""
from surfaces.analysis import (
    KINDS,
    CriticalPoint,
    Grid,
    classify,
    critical_points,
    gradient,
    grid,
    hessian,
    hessian_eigen,
    nearest_critical_point,
    symmetric_eigen_2x2,
)
from surfaces.catalog import CATALOG, KnownPoint, Surface, get, names

__all__ = [
    "CATALOG", "KINDS", "CriticalPoint", "Grid", "KnownPoint", "Surface", "classify",
    "critical_points", "get", "gradient", "grid", "hessian", "hessian_eigen", "names",
    "nearest_critical_point", "symmetric_eigen_2x2",
]
