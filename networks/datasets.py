"""Bundled and generated data: nothing is downloaded at run time."""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np


class Dataset(NamedTuple):
    x: np.ndarray  # (n,) one feature, or (n, d)
    y: np.ndarray  # (n,) targets or class labels
    name: str


def line_data(n: int = 32, slope: float = 1.5, intercept: float = -0.5, noise: float = 0.8,
              seed: int = 0) -> Dataset:
    """y = slope·x + intercept + Gaussian noise, x uniform in [−2, 2]; a fixed seed makes it the same everywhere.

    The model ŷ = w·x + b has exactly two parameters, so its MSE error surface
    L(w, b) is exact and drawable.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, n)
    y = slope * x + intercept + noise * rng.standard_normal(n)
    return Dataset(x.astype(np.float64), y.astype(np.float64), f"{n} points, y = {slope}x {intercept:+} + noise")


@lru_cache(maxsize=1)
def digits() -> Dataset:
    """scikit-learn's bundled 8×8 handwritten digits (1,797 × 64), features scaled to [0, 1]."""
    from sklearn.datasets import load_digits  # bundled with the package: no download

    d = load_digits()
    return Dataset((d.data / 16.0).astype(np.float32), d.target.astype(np.int32), "digits (scikit-learn)")
