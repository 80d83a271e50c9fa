"""Curves that a figure would draw on top of each other: found, so that the figure says so.

Two runs that give the same curve (the two RMSProp forms after their first step, three optimizers leaving a
saddle along its one way down) show as one line, and a student who counts the legend's entries looks for the
missing one. The figures label the later curve "the same as" the earlier one instead.

"The same" is judged where it is drawn: two curves coincide when no point of one is further from the other than
``TOLERANCE`` of the axis's span (half a percent: about 1.5 px of a 300 px plot, under a line's width); a path on
a map runs along another when it stays within ``ROUTE_TOLERANCE`` of the other's route.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TOLERANCE = 0.005
# A path along another's route: within 1 % of the plot's diagonal (about 7 px of a 500 px square map, under three
# line widths); at 1.5 % two routes that part visibly for a stretch still counted as one.
ROUTE_TOLERANCE = 0.01


def same_values(a: np.ndarray, b: np.ndarray, span: float, tolerance: float = TOLERANCE) -> bool:
    """Two curves over the same x: equal lengths, gaps (NaN) in the same places, and
    max |a − b| ≤ tolerance · span over the drawn points."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False
    drawn_a, drawn_b = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(drawn_a, drawn_b) or not drawn_a.any():
        return False
    return float(np.max(np.abs(a[drawn_a] - b[drawn_a]))) <= tolerance * span


def lies_along(a: np.ndarray, b: np.ndarray, span: float, tolerance: float = ROUTE_TOLERANCE) -> bool:
    """Path ``a`` (n, 2) runs along path ``b``'s route, whatever the speeds: no drawn point of ``a`` is further than
    tolerance · span from the polyline through ``b``'s points, and no point of the stretch of ``b`` that ``a``
    covers is further than that from ``a`` (``span``: the map's diagonal).

    A map's paths are judged by their routes, not step by step: optimizers that leave a saddle along its one way
    down take one route at different speeds (the animation shows those), and a route drawn over another hides it.
    The second condition keeps a straight run inside the band that a bouncing run sweeps from counting as "along"
    it: the bounce's corners are far from the straight run.
    """
    a = np.asarray(a, np.float64)[np.all(np.isfinite(a), axis=-1)]
    b = np.asarray(b, np.float64)[np.all(np.isfinite(b), axis=-1)]
    if not len(a) or not len(b):
        return False
    reach_limit = tolerance * span
    if a.shape == b.shape and np.array_equal(a, b):  # one run twice (two slots with one setting): no distances
        return True
    if np.any(a.min(axis=0) < b.min(axis=0) - reach_limit) or np.any(a.max(axis=0) > b.max(axis=0) + reach_limit):
        return False  # a leaves the box around b's route: far from it somewhere, found without any distance
    a, b = _thinned(a), _thinned(b)
    reach, segment = _nearest(a, b)
    if reach.max() > reach_limit:
        return False
    covered = b[int(segment.min()): int(segment.max()) + 2]
    return float(_nearest(covered, a)[0].max()) <= reach_limit


def _nearest(points: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's distance to the polyline through ``line``'s points (to its segments, not only its vertices: a
    slow run's close points and a fast run's far-apart ones on one straight route agree), and the index of the
    segment where it is nearest."""
    if len(line) == 1:
        return np.linalg.norm(points - line[0], axis=-1), np.zeros(len(points), int)
    start, end = line[:-1], line[1:]
    along = end - start
    length2 = np.maximum(np.sum(along**2, axis=-1), 1e-300)
    t = np.clip(np.einsum("pmk,mk->pm", points[:, None, :] - start[None], along) / length2, 0.0, 1.0)
    distance = np.linalg.norm(points[:, None, :] - (start[None] + t[..., None] * along[None]), axis=-1)
    segment = distance.argmin(axis=1)
    return distance[np.arange(len(points)), segment], segment


def _thinned(points: np.ndarray, at_most: int = 400) -> np.ndarray:
    """At most ``at_most`` points, evenly spaced along the array (the last kept): bounds the pairwise distances."""
    if len(points) <= at_most:
        return points
    return points[np.unique(np.linspace(0, len(points) - 1, at_most).astype(int))]


def first_equal(items: Sequence, equal) -> list[int | None]:
    """For each item, the index of the first earlier item ``equal`` to it (None if it is the first of its kind)."""
    found: list[int | None] = []
    for i, item in enumerate(items):
        found.append(next((j for j in range(i) if found[j] is None and equal(items[j], item)), None))
    return found
