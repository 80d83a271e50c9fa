"""Lecture 2.3: does warm-up help Adam? Adam with and without warm-up, and RAdam, on a deep MLP over seeds.

``WARMUP_VARIANTS`` holds each variant's label, defined once: pages show it through ``i18n.tr``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from networks.models import MLP
from networks.training import TrainConfig, train_network

WARMUP_VARIANTS = (  # (label, optimizer, schedule, schedule parameters): Adam with and without warm-up, and RAdam
    ("Adam, constant η", "adam", "constant", ()),
    ("Adam, constant warm-up (ResNet: η/10 for 100 steps)", "adam", "constant_warmup",
     (("warmup_factor", 0.1), ("warmup_steps", 100.0))),
    ("Adam, linear warm-up over 100 steps", "adam", "warmup_cosine",
     (("decay_steps", 100_000.0), ("end_lr", 0.0), ("warmup_steps", 100.0))),
    ("RAdam (warm-up built in)", "radam", "constant", ()),
)


class WarmupStudy(NamedTuple):
    """Adam on a deep MLP with and without warm-up, and RAdam, over several seeds (``WARMUP_VARIANTS`` order)."""

    labels: tuple  # the variants' labels
    test_accuracy: np.ndarray  # (variants, seeds) at the end
    train_loss: np.ndarray  # (variants, epochs + 1) mean over seeds, per epoch
    first_epoch_move: np.ndarray  # (variants, seeds) ‖θ after the first epoch − θ⁰‖: how far the first steps went
    lr: float
    epochs: int

    @property
    def mean_accuracy(self) -> np.ndarray:
        """(variants,) mean test accuracy over the seeds."""
        return np.nanmean(self.test_accuracy, axis=1)

    def against_plain(self, k: int) -> WarmupGain:
        """Variant k against plain Adam (variant 0), seed by seed: the runs of one seed share their start and
        their batches, so a seed where k is ahead is a like-for-like win."""
        difference = self.test_accuracy[k] - self.test_accuracy[0]
        return WarmupGain(float(100 * (self.mean_accuracy[k] - self.mean_accuracy[0])), int(np.sum(difference > 0)),
                          int(np.sum(difference < 0)), int(difference.size),
                          float(np.nanmean(self.first_epoch_move[k]) / np.nanmean(self.first_epoch_move[0])))

    @property
    def best(self) -> int:
        """The variant with the highest mean test accuracy."""
        return int(np.nanargmax(self.mean_accuracy))

    @property
    def ahead_on_every_seed(self) -> tuple[int, ...]:
        """The variants (besides plain Adam) ahead of plain Adam on every seed."""
        return tuple(k for k in range(1, len(self.labels)) if (g := self.against_plain(k)).seeds_ahead == g.seeds)


class WarmupGain(NamedTuple):
    """One ``WarmupStudy`` variant against plain Adam: mean test accuracy difference in percentage points
    (+2.6: 91.3 % against 88.7 %), on how many seeds it is ahead / behind of how many, and its first-epoch
    move over Adam's."""

    points: float
    seeds_ahead: int
    seeds_behind: int
    seeds: int
    move_ratio: float


def warmup_study(dataset: str = "digits", model: MLP = MLP((64,) * 6, "relu"), lr: float = 0.03, epochs: int = 8,
                 seeds: int = 3, progress: Callable[[float], None] | None = None) -> WarmupStudy:
    """Lecture 2.3: does warm-up help Adam here? Every variant from the same starts, same batches, same η.

    Adam's first step is η·sign(g) in every coordinate (m̂/√v̂ = g/|g| at t = 0),
    so ‖Δθ‖ = η√n however small the gradient: its σ is estimated from one
    gradient. A warm-up keeps those first steps small; RAdam drops σ until
    its estimate's variance is bounded (Liu et al. 2020).
    """
    runs = len(WARMUP_VARIANTS) * seeds
    done = 0
    accuracy, losses, moves = [], [], []
    for _label, optimizer, schedule, params in WARMUP_VARIANTS:
        base = TrainConfig(dataset=dataset, model=model, optimizer=optimizer, hyperparams=(("lr", lr),),
                           schedule=schedule, schedule_params=params, batch_size=64, epochs=epochs)
        results = []
        for seed in range(seeds):
            results.append(train_network(base._replace(seed=seed)))
            done += 1
            if progress:
                progress(done / runs)
        accuracy.append([r.test_accuracy[-1] for r in results])
        losses.append(np.mean([r.train_loss for r in results], axis=0))
        moves.append([float(np.linalg.norm(r.path[1] - r.path[0])) if len(r.path) > 1 else np.nan for r in results])
    return WarmupStudy(tuple(v[0] for v in WARMUP_VARIANTS), np.asarray(accuracy, np.float64),
                       np.asarray(losses, np.float64), np.asarray(moves, np.float64), lr, epochs)
