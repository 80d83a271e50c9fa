"""The lecture's experiments on real networks, one module per study, each one function returning NumPy.

* ``saddle`` (lecture 1.4): ``saddle_study``, the minimum-ratio figure: training loss against the share of
  positive Hessian eigenvalues at refined critical points.
* ``hidden_bowl`` (1.4): ``hidden_bowl``, a saddle whose random slice looks like a bowl.
* ``batch_size`` (1.5): ``batch_size_study``, one small- and one large-batch network compared.
* ``batch_gap`` (1.5): ``batch_gap_study``, the same over many seeds where the generalization gap shows.
* ``warmup`` (2.3): ``warmup_study``, Adam with and without warm-up, and RAdam.
"""
from networks.experiments.batch_gap import (
           BATCH_GAP_SETTING,
           GAP_CHUNKS,
           BatchGapSetting,
           BatchGapStudy,
           batch_gap_study,
)
from networks.experiments.batch_size import MAX_EPOCHS, BatchSizeStudy, batch_size_study
from networks.experiments.hidden_bowl import HiddenBowl, hidden_bowl
from networks.experiments.saddle import PROGRESS_GROUPS, SaddleStudy, saddle_study
from networks.experiments.warmup import WARMUP_VARIANTS, WarmupGain, WarmupStudy, warmup_study

__all__ = ["BATCH_GAP_SETTING", "GAP_CHUNKS", "BatchGapSetting", "BatchGapStudy", "batch_gap_study", "MAX_EPOCHS",
           "BatchSizeStudy", "batch_size_study", "HiddenBowl", "hidden_bowl", "PROGRESS_GROUPS", "SaddleStudy",
           "saddle_study", "WARMUP_VARIANTS", "WarmupGain", "WarmupStudy", "warmup_study"]
