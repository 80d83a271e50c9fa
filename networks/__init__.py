"""Small real problems: data, a 2-parameter regression whose error surface is exact, a small MLP.

Notebook use (no Streamlit needed)::

    import networks
    data = networks.line_data()                      # 32 points, fixed seed
    paths = networks.sgd_paths(data, batch_size=4, epochs=10, lr=0.05, start=(-1, 2), seeds=range(8))
    networks.update_times((1, 16, 256))             # seconds per SGD update of an MLP on digits

Imports only JAX, NumPy and (for the bundled digits data) scikit-learn.
"""
from networks.datasets import Dataset, digits, line_data
from networks.mlp import init_mlp, mlp_loss, sgd_step
from networks.regression import (
    BatchSurface,
    SGDRun,
    batch_partition,
    batch_surfaces,
    LossGrid,
    least_squares,
    loss_at,
    loss_grid,
    loss_surface,
    sgd_paths,
)
from networks.timing import BatchTiming, update_times
from networks.scaling import (
    Quadratic,
    gd_path,
    loss_window,
    profiled_quadratic,
    standardize,
    steps_at_best_lr,
    steps_to_converge,
    two_feature_data,
)
from networks.batchnorm import BNConfig, BNRun, train_bn_experiment

__all__ = [
    "BatchSurface", "BatchTiming", "Dataset", "SGDRun", "batch_partition", "batch_surfaces", "digits",
    "init_mlp", "LossGrid", "least_squares", "line_data", "loss_at", "loss_grid", "loss_surface", "mlp_loss", "sgd_paths", "sgd_step",
    "update_times", "Quadratic", "gd_path", "loss_window", "profiled_quadratic", "standardize", "steps_at_best_lr",
    "steps_to_converge", "two_feature_data", "BNConfig", "BNRun", "train_bn_experiment",
]
