"""Optimizers as pure update rules, learning-rate schedules, and the trajectory runner.

Notebook use (no Streamlit needed)::

    import optimizers
    optimizers.names()                      # registry names
    path = optimizers.run("himmelblau", "adam", (0.0, 0.0), 200, lr=0.1)
    paths = optimizers.run_batch("himmelblau", "gd", starts, 500, lr=[0.001, 0.01])
    opt = optimizers.adam(lr=optimizers.warmup_cosine(0.1, 50, 500))  # init/update pair

Imports only JAX and NumPy.
"""
from optimizers.anatomy import (
    LineRun,
    MomentumStep,
    clearest_step,
    line_profile,
    line_race,
    momentum_decomposition,
    momentum_weights,
    run_on_line,
)
from optimizers.escape import (
    ESCAPE_METHODS,
    BasinEscape,
    SaddleEscape,
    basin_escape,
    escape_window,
    negative_curvature_direction,
    saddle_escape,
    start_near_saddle,
)
from optimizers.registry import (
    OPTIMIZERS,
    SCHEDULES,
    HyperParam,
    OptimizerSpec,
    ScheduleSpec,
    bias_correction_applies,
    composed_equivalent,
    get,
    get_schedule,
    matching_hyperparams,
    names,
    peak_step,
    race_schedule,
    schedule_curve,
    schedule_names,
)
from optimizers.rules import Optimizer
from optimizers.runner import (
    DIVERGENCE_BOUND,
    MAX_STEPS,
    MAX_TRAJECTORIES,
    STEP_BUCKETS,
    Trajectories,
    disable_persistent_cache,
    enable_persistent_cache,
    first_bad_step,
    persistent_cache_problem,
    run,
    run_batch,
    step_bucket,
    trajectories,
)
from optimizers.schedules import (
    constant,
    constant_warmup,
    cosine,
    exponential_decay,
    inverse_sqrt,
    learning_rate_at,
    noam,
    step_decay,
    warm_restarts,
    warmup_cosine,
)
from optimizers.summary import (
    Agreement,
    Bursts,
    Fall,
    SigmaOrder,
    Stall,
    TrajectorySummary,
    agreement,
    burst_starts,
    bursts,
    distance_to,
    effective_lr,
    first_divergence,
    largest_gap,
    last_finite,
    loss_fall,
    mean_of_finite,
    sigma_order,
    stall_report,
    step_lengths,
    summarize,
)

# Every rule of the registry under its registry name (optimizers.adam, optimizers.lion, …), read from its record:
# a new optimizer is its rule and its record, and needs no line here.
globals().update({spec.name: spec.factory for spec in OPTIMIZERS})
