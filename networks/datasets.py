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


def sine_data(n: int = 32, frequency: float = 2.5, offset: float = 0.5, noise: float = 0.1,
              seed: int = 0) -> Dataset:
    """y = sin(frequency·x) + offset + Gaussian noise, x uniform in [−2, 2]; a fixed seed makes it the same everywhere.

    Fitted by ŷ = sin(w·x) + b, the MSE surface L(w, b) is non-convex in the
    frequency w: besides the good fit near w = frequency it has a poor local
    minimum near w = 0, where sin(w·x) ≈ w·x is almost a straight line
    (``networks.regression.MODELS["sine"]``).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, n)
    y = np.sin(frequency * x) + offset + noise * rng.standard_normal(n)
    return Dataset(x.astype(np.float64), y.astype(np.float64),
                   f"{n} points, y = sin({frequency}x) {offset:+} + noise")


@lru_cache(maxsize=1)
def digits() -> Dataset:
    """scikit-learn's bundled 8×8 handwritten digits (1,797 × 64), features scaled to [0, 1]."""
    from sklearn.datasets import load_digits  # bundled with the package: no download

    d = load_digits()
    return Dataset((d.data / 16.0).astype(np.float32), d.target.astype(np.int32), "digits (scikit-learn)")


class Split(NamedTuple):
    """A standardized train/test split of a classification dataset (features float32, labels int32)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


def _bundled(loader: str):
    def load():
        from sklearn import datasets as sk  # bundled with the package: no download

        d = getattr(sk, loader)()
        return d.data.astype(np.float64), d.target.astype(np.int32)

    return load


def _generated(maker: str, **kwargs):
    def load():
        from sklearn import datasets as sk

        x, y = getattr(sk, maker)(random_state=0, **kwargs)
        return x.astype(np.float64), y.astype(np.int32)

    return load


# name -> (title, loader); everything bundled with scikit-learn or generated with a fixed seed.
CLASSIFICATION = {
    "digits": ("Digits (8×8 images, 10 classes, 1,797)", _bundled("load_digits")),
    "iris": ("Iris (4 features, 3 classes, 150)", _bundled("load_iris")),
    "breast_cancer": ("Breast cancer (30 features, 2 classes, 569)", _bundled("load_breast_cancer")),
    "wine": ("Wine (13 features, 3 classes, 178)", _bundled("load_wine")),
    "moons": ("Two moons (2-D, 2 classes, 500)", _generated("make_moons", n_samples=500, noise=0.2)),
    "circles": ("Circles (2-D, 2 classes, 500)", _generated("make_circles", n_samples=500, noise=0.1, factor=0.5)),
    "blobs": ("Blobs (2-D, 3 classes, 500)", _generated("make_blobs", n_samples=500, centers=3, cluster_std=2.0)),
}


@lru_cache(maxsize=16)
def load_split(name: str, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """Dataset ``name`` (see CLASSIFICATION), shuffled with ``seed``, split, standardized with the training statistics.

    Constant features (the digits' blank border pixels) stay 0.
    """
    if name not in CLASSIFICATION:
        raise KeyError(f"unknown dataset {name!r}; choose one of {', '.join(CLASSIFICATION)}")
    x, y = CLASSIFICATION[name][1]()
    x_train, y_train, x_test, y_test = standardized_split(x, y, test_fraction, seed)
    return Split(name, x_train, y_train, x_test, y_test, int(y.max()) + 1)


def standardized_split(x, y, test_fraction: float = 0.2, seed: int = 0):
    """(x_train, y_train, x_test, y_test): shuffled with ``seed``, the first ``test_fraction`` for testing,
    features standardized with the training part's mean and std (float32; constant features stay 0)."""
    x, y = np.asarray(x), np.asarray(y)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = ((x - mean) / std).astype(np.float32)
    return scaled[train], y[train], scaled[test], y[test]
