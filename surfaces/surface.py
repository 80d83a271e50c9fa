"""The record of one error surface, shared by the catalog and the typed formulas (``surfaces.formula``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

Point = tuple[float, float]


class KnownPoint(NamedTuple):
    """A critical point known in closed form (or to published precision)."""

    point: Point
    kind: str  # "minimum" | "maximum" | "saddle" | "degenerate"


class Surface(NamedTuple):
    """One error surface L(x, y).

    Attributes:
      name: registry key (stable: it appears in URLs and notebooks).
      title: human-readable name.
      loss: ``loss(p) -> scalar`` for p of shape (2,), traceable by JAX.
      formula: LaTeX of L(x, y).
      domain: ((xmin, xmax), (ymin, ymax)) drawn by default.
      starts: default start points, the first one is the default.
      text: one sentence on what the surface teaches.
      known: critical points known analytically, used by the tests.
      log_color: colour the contour by log(1 + L - min L) because the range
        spans orders of magnitude.
      equalize_color: colour a 2-D map by the quantile of L among its values (equal area per colour,
        ``figures.color_values``) because most of the map lies in a narrow band of L that linear and log
        colours both draw as one colour (a plateau with low walls).
      seeds_per_axis: density of the Newton seed grid for critical points.
      program: a typed formula's instructions (``surfaces.interpreter.assemble``), None for a built-in
        surface: compiled functions receive it as data, so a new formula compiles nothing.
    """

    name: str
    title: str
    loss: Callable
    formula: str
    domain: tuple[Point, Point]
    starts: tuple[Point, ...]
    text: str
    known: tuple[KnownPoint, ...] = ()
    log_color: bool = False
    seeds_per_axis: int = 32
    equalize_color: bool = False
    program: tuple | None = None

    @property
    def span(self) -> float:
        """The shorter side of the domain: the length scale arrows, windows and offsets on its maps are sized by."""
        (x0, x1), (y0, y1) = self.domain
        return min(x1 - x0, y1 - y0)

    @property
    def home(self) -> Point:
        """Where a picked point starts: the origin where the domain holds it, else the domain's low corner per axis."""
        (x0, x1), (y0, y1) = self.domain
        return (0.0 if x0 < 0 < x1 else x0, 0.0 if y0 < 0 < y1 else y0)
