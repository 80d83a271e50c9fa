"""Small real problems: data, a 2-parameter regression whose error surface is exact, real networks.

``networks.loss_surface`` is the landscape slice of any ``loss_fn``; the
regression's exact (w, b) surface is ``networks.regression_loss_surface``.
One MLP (``networks.models``: forward pass, batch and layer normalization,
cross-entropy) serves the timing, the batch-normalization experiment and the
Network lab.

Notebook use (no Streamlit needed)::

    import networks
    data = networks.line_data()                      # 32 points, fixed seed
    paths = networks.sgd_paths(data, batch_size=4, epochs=10, lr=0.05, start=(-1, 2), seeds=range(8))
    sine = networks.sine_data()                      # ŷ = sin(w·x) + b: a non-convex surface
    full = networks.sgd_paths(sine, 32, 50, 0.2, (0.5, 0.0), model="sine")            # stalls in a poor minimum
    small = networks.sgd_paths(sine, 1, 50, 0.2, (0.5, 0.0), seeds=range(5), model="sine")
    networks.stall_report(sine, full, small, "sine").left    # every mini-batch seed has left it
    networks.update_times((1, 16, 256))             # seconds per SGD update of an MLP on digits

Imports only JAX, NumPy and (for the bundled digits data) scikit-learn.
"""
from networks import landscape
from networks.batchnorm import (
    SMOOTHER_MARGIN,
    SMOOTHNESS_MEASURES,
    UNTRAINED_SHARE,
    BNConfig,
    BNRun,
    ModeGap,
    NormalizationGain,
    SmoothnessComparison,
    compare_smoothness,
    digits_bn_experiment,
    moving_average_memory,
    normalization_gain,
    train_bn_experiment,
)
from networks.datasets import CLASSIFICATION, Dataset, Split, digits, line_data, load_split, sine_data
from networks.experiments import (
    BATCH_GAP_SETTING,
    WARMUP_VARIANTS,
    BatchGapSetting,
    BatchGapStudy,
    BatchSizeStudy,
    HiddenBowl,
    SaddleStudy,
    WarmupGain,
    WarmupStudy,
    batch_gap_study,
    batch_size_study,
    hidden_bowl,
    saddle_study,
    warmup_study,
)
from networks.hessian import (
    SpectrumSummary,
    dense_hessian,
    eigenvalue_signs,
    hessian_density,
    hessian_extreme_eigenvectors,
    hessian_spectrum,
    hessian_top_eigenvalues,
    hessian_trace,
    hvp,
    minimum_ratio,
    spectrum_summary,
)
from networks.landscape import filter_normalized_direction, loss_surface, mlp_loss_surface, pca_directions
from networks.models import MLP, NORMALIZATIONS, dataset_loss, init_mlp, mlp_forward, mlp_logits, mlp_loss
from networks.regression import (
    MODELS as REGRESSION_MODELS,
)
from networks.regression import (
    BatchRace,
    BatchSurface,
    LossGrid,
    RegressionModel,
    SGDRun,
    StallReport,
    batch_gradient_norms,
    batch_partition,
    batch_race,
    batch_surfaces,
    least_squares,
    loss_at,
    loss_grid,
    sgd_paths,
    stall_report,
    updates_done,
)
from networks.regression import (
    loss_surface as regression_loss_surface,
)
from networks.scaling import (
    Quadratic,
    gd_path,
    loss_window,
    profiled_quadratic,
    scaling_paths,
    scaling_problems,
    standardize,
    steps_at_best_lr,
    steps_to_converge,
    two_feature_data,
)
from networks.slices import SLICE_KINDS, SliceDirections, slice_directions
from networks.timing import BatchTiming, update_times
from networks.training import (
    TrainConfig,
    TrainResult,
    as_jax_params,
    gradient_descent_step,
    lab_config,
    sgd_step,
    train_network,
    training_estimate,
)

__all__ = [
    "BATCH_GAP_SETTING", "BatchGapSetting", "BatchGapStudy", "batch_gap_study", "REGRESSION_MODELS", "RegressionModel", "StallReport", "stall_report", "batch_gradient_norms", "sine_data", "BatchSurface", "BatchTiming", "Dataset", "SGDRun", "batch_partition", "batch_surfaces", "digits",
    "init_mlp", "LossGrid", "least_squares", "line_data", "loss_at", "loss_grid", "regression_loss_surface", "mlp_loss", "sgd_paths", "sgd_step", "BatchRace", "batch_race", "updates_done",
    "update_times", "Quadratic", "gd_path", "loss_window", "profiled_quadratic", "standardize", "steps_at_best_lr",
    "steps_to_converge", "scaling_paths", "scaling_problems", "two_feature_data", "BNConfig", "BNRun", "ModeGap", "moving_average_memory", "train_bn_experiment", "digits_bn_experiment",
    "NormalizationGain", "normalization_gain", "SmoothnessComparison", "compare_smoothness", "SMOOTHNESS_MEASURES",
    "SMOOTHER_MARGIN", "UNTRAINED_SHARE",
    "CLASSIFICATION", "Split", "load_split", "MLP", "dataset_loss", "mlp_logits", "dense_hessian", "hessian_density",
    "hessian_extreme_eigenvectors", "hessian_spectrum", "hessian_top_eigenvalues", "hessian_trace", "hvp",
    "SpectrumSummary", "spectrum_summary",
    "minimum_ratio", "eigenvalue_signs", "NORMALIZATIONS", "mlp_forward", "gradient_descent_step", "filter_normalized_direction", "loss_surface", "mlp_loss_surface", "pca_directions",
    "SLICE_KINDS", "SliceDirections", "slice_directions", "TrainConfig", "TrainResult", "as_jax_params", "lab_config", "train_network", "training_estimate", "BatchSizeStudy", "SaddleStudy", "batch_size_study",
    "saddle_study", "HiddenBowl", "hidden_bowl", "WarmupStudy", "WarmupGain", "warmup_study", "WARMUP_VARIANTS",
]
