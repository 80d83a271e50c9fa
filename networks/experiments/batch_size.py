"""Lecture 1.5 (Keskar et al. 2017): the same network trained with a small and a large batch; accuracies, the
sharpness (top Hessian eigenvalue) of each solution, and train / test loss along the line between them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from networks import hessian, landscape
from networks.datasets import load_split
from networks.models import dataset_loss
from networks.training import TrainConfig, TrainResult, train_network

MAX_EPOCHS = 3000


class BatchSizeStudy(NamedTuple):
    small: TrainResult
    large: TrainResult
    sharpness: tuple[float, float]  # top Hessian eigenvalue of the small- and the large-batch solution
    line: np.ndarray  # α along θ_small + α (θ_large − θ_small)
    line_train: np.ndarray
    line_test: np.ndarray


def batch_size_study(config: TrainConfig, small: int = 16, large: int = 1024,
                     progress: Callable[[float], None] | None = None) -> BatchSizeStudy:
    """``config`` trained with batch size ``small`` and ``large`` from the same start; see the module doc.

    Both get the same number of updates (the small batch ``config.epochs``
    epochs, the large one as many epochs as that takes, at most MAX_EPOCHS),
    so the large batch is not simply under-trained.
    """
    step = (lambda lo, hi: (lambda f: progress(lo + (hi - lo) * f))) if progress else (lambda lo, hi: None)
    n = len(load_split(config.dataset).y_train)
    small, large = int(min(small, n)), int(min(large, n))
    updates = config.epochs * (n // small)
    large_epochs = int(min(MAX_EPOCHS, max(config.epochs, np.ceil(updates / (n // large)))))
    a = train_network(config._replace(batch_size=small), progress=step(0.0, 0.45))
    b = train_network(config._replace(batch_size=large, epochs=large_epochs,
                                      record_every=max(1, large_epochs // 50)), progress=step(0.45, 0.9))
    train_fn = dataset_loss(config.model, config.dataset)
    test_fn = dataset_loss(config.model, config.dataset, "test")
    pa = jax.tree.map(jnp.asarray, a.final)
    pb = jax.tree.map(jnp.asarray, b.final)
    sharp = (float(hessian.hessian_top_eigenvalues(train_fn, pa, 1)[0]),
             float(hessian.hessian_top_eigenvalues(train_fn, pb, 1)[0]))
    alpha = np.linspace(-0.5, 1.5, 41)
    direction = landscape.difference(pb, pa)
    line_train = landscape.loss_surface(train_fn, pa, direction, alpha)
    line_test = landscape.loss_surface(test_fn, pa, direction, alpha)
    if progress:
        progress(1.0)
    return BatchSizeStudy(a, b, sharp, alpha, line_train, line_test)
