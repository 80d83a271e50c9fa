"""The directions of a 2-D slice of a trained network's loss landscape, and how far along them to look.

Three kinds (the Network lab's choice): two random filter-normalized
directions (Li et al. 2018), the top two PCA directions of the training path,
or the Hessian's top and most negative eigenvectors.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from networks.hessian import hessian_extreme_eigenvectors
from networks.landscape import filter_normalized_direction, pca_directions
from networks.models import dataset_loss

SLICE_KINDS = ("random", "pca", "hessian")


class SliceDirections(NamedTuple):
    """Two directions (parameter pytrees), the half-width of the slice along both, and what the kind found."""

    d1: object
    d2: object
    extent: float
    path: np.ndarray | None  # (T, 2): the training path's coordinates in the PCA plane; None for the other kinds
    values: tuple[float, float] | None  # PCA: the variance each direction explains; Hessian: (λ_max, λ_min)


def slice_directions(kind: str, result, params, span: float) -> SliceDirections:
    """The directions of a slice of ``kind`` around ``params`` (the trained ones of ``result``, a TrainResult).

    ``span`` is the slice's half-width as a fraction of the weights: the
    filter-normalized directions have θ's filter norms, and the Hessian's unit
    eigenvectors are scaled to ‖θ‖ so that span means the same there; the PCA
    slice spans 1.25 × span × the path's reach, so the whole path is in view.
    """
    config = result.config
    if kind == "pca":
        (d1, d2), coords, explained = pca_directions(result.path, params)
        reach = float(np.abs(coords).max()) if len(coords) > 1 else 1.0
        return SliceDirections(d1, d2, span * 1.25 * max(reach, 1e-3), coords, (float(explained[0]), float(explained[1])))
    if kind == "hessian":
        scale = float(np.linalg.norm(result.path[-1]))
        lmax, v1, lmin, v2 = hessian_extreme_eigenvectors(dataset_loss(config.model, config.dataset), params)
        d1, d2 = (jax.tree.map(lambda v: v * scale, d) for d in (v1, v2))
        return SliceDirections(d1, d2, span, None, (float(lmax), float(lmin)))
    d1, d2 = (filter_normalized_direction(params, seed) for seed in (1, 2))
    return SliceDirections(d1, d2, span, None, None)
