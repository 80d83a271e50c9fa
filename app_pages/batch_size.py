"""Batch size: noisy updates, epochs, time on parallel hardware, sharp and flat minima (LECTURES 1.5)."""
import streamlit as st

import compute
import controls
import figures
from optimizers.registry import HyperParam

PAGE = "batch_size"
START = (-1.0, 2.0)
MAX_EPOCHS = 50
MAX_SEEDS = 10
LECTURE = {"b_small": 1, "b_large": 32, "b_epochs": 10, "b_lr": 0.05, "b_seeds": 5, "b_shift": 0.3, "b_noise": 5.0}
SUMMARY = [  # the lecture's table, small vs large batch
    ("Speed of one update (no parallelism)", "faster", "slower"),
    ("Speed of one update (with parallelism)", "same", "same (not too large)"),
    ("Time for one epoch", "slower", "faster"),
    ("Gradient", "noisy", "stable"),
    ("Optimization", "better", "worse"),
    ("Generalization", "better", "worse"),
]

data = compute.regression_data()
N = len(data.x)
notes, url = controls.page_header(
    "Batch size",
    "One epoch is one pass over all mini-batches, shuffled between epochs. Small batches take many noisy "
    "steps per epoch; large ones take few stable ones.",
    PAGE)

with st.sidebar:
    controls.preset_button("Lecture example: batch of 1 vs full batch", LECTURE, key="b_preset")
    small = controls.int_input("Small batch size B", 1, N, 1, "b_small", url, help=f"1 to N = {N}")
    large = controls.int_input("Large batch size B", 1, N, N, "b_large", url, help=f"1 to N = {N} (N: full batch)")
    epochs = controls.int_input("Epochs", 1, MAX_EPOCHS, 10, "b_epochs", url)
    lr = controls.number_widget(HyperParam("lr", "learning rate η", 0.05, 1e-4, 1.0, log=True), "b_lr", url)
    n_seeds = controls.int_input("Shuffling seeds (runs per batch size)", 1, MAX_SEEDS, 5, "b_seeds", url)

url.show(notes)
st.latex(r"L_b(\theta) = \frac{1}{|b|}\sum_{i \in b} \ell_i(\theta), \qquad \theta \leftarrow \theta - \eta\,"
         r"\nabla L_b(\theta)\ \text{ for every mini-batch } b \text{ of an epoch}")
st.markdown(f"The model ŷ = w·x + b has two parameters, so its mean-squared-error surface L(w, b) is exact: "
            f"here on {data.name} (generated with a fixed seed). Every mini-batch has its own surface — "
            "and its own minimum. Where one batch's gradient is zero, the next batch's is not, so a small batch "
            "keeps moving; the full batch stops at the first critical point of L.")

grid = compute.regression_surface()
panels = compute.batch_surfaces(small)
st.plotly_chart(figures.batch_surfaces_figure(grid.xs, grid.ys, panels), key="b_surfaces",
                config={"displaylogo": False})
st.caption(f"Full batch and the first mini-batches of size B = {small} of one shuffle; ○ marks each minimum"
           + (" (for a single example every (w, b) on the dotted line w·x + b = y is a minimum)." if small == 1
              else "."))

st.subheader("Mini-batch SGD, small against large batch")
runs = {b: compute.sgd_run(b, epochs, lr, START, n_seeds) for b in dict.fromkeys((small, large))}
for b, r in runs.items():
    if (r.diverged_at >= 0).any():
        st.warning(f"B = {b}: diverged at update {int(r.diverged_at[r.diverged_at >= 0].min())} "
                   f"(the path stops there). Try a smaller learning rate.")
cols = st.columns(2)
for col, role, b in zip(cols, ("small", "large"), (small, large)):
    r = runs[b]
    sets = [figures.PathSet(f"B = {b}, {n_seeds} shuffling seed{'s' if n_seeds > 1 else ''}", r.path, r.loss)]
    with col:
        st.markdown(f"**B = {b}**: {r.updates_per_epoch} update{'s' if r.updates_per_epoch > 1 else ''} per epoch, "
                    f"{r.updates_per_epoch * epochs} in all")
        st.plotly_chart(figures.contour_figure(grid, sets, log_color=True, max_frames=figures.frames_for(n_seeds),
                                               uirevision=f"sgd-{b}", height=470, axis_titles=("w", "b")),
                        key=f"b_paths_{role}", config={"displaylogo": False})

c1, c2 = st.columns(2)
series_epoch = [figures.Series(f"B = {b}", r.loss[:, ::r.updates_per_epoch], i) for i, (b, r) in enumerate(runs.items())]
series_update = [figures.Series(f"B = {b}", r.loss, i) for i, (b, r) in enumerate(runs.items())]
with c1:
    st.plotly_chart(figures.step_curves_figure(series_epoch, title="Full-batch loss vs epoch", y_title="L",
                                               x_title="epoch", log_y=True), key="b_loss_epoch")
with c2:
    st.plotly_chart(figures.step_curves_figure(series_update, title="Full-batch loss vs update", y_title="L",
                                               x_title="update", log_y=True), key="b_loss_update")
st.caption("Per epoch the small batch is ahead: it has taken many steps. Per update the large batch is ahead: "
           "each of its steps is exact. The small batch never settles — its noise keeps it jittering around "
           "the minimum.")

st.subheader("Sharp and flat minima: why small batches generalize better")
st.markdown("Training and test loss are shifted versions of each other. A flat minimum stays good when the curve "
            "moves; a sharp one does not. Small-batch noise kicks the parameters around, and a sharp basin is too "
            "narrow to hold them (Keskar et al., ICLR 2017).")
shift = controls.number_widget(HyperParam("shift", "shift of the test curve", 0.3, 0.0, 1.0), "b_shift", url)
s, train, test, minima = compute.train_test_profiles("sharp_flat", shift)
c1, c2 = st.columns([3, 2])
with c1:
    st.plotly_chart(figures.train_test_figure(s, train, test, minima), key="b_sharp_flat",
                    config={"displaylogo": False})
with c2:
    noise = controls.number_widget(HyperParam("noise", "mini-batch noise σ (gradient noise)", 5.0, 0.1, 20.0,
                                              log=True), "b_noise", url)
    escapes = compute.basin_escapes("sharp_flat", 500, 0.02, noise)
    for (point, esc), (label, _) in zip(escapes, minima):
        st.metric(f"runs that leave the {label}", f"{100 * esc.rate:.0f} %",
                  help=f"64 runs of 500 noisy gradient-descent steps (η = 0.02) started at "
                       f"({point.point[0]:.2f}, {point.point[1]:.2f}); a run has left when plain descent from "
                       "where it ended leads to the other minimum.")
    st.caption("Both minima are about equally deep on the training curve. The same noise carries runs out of the "
               "sharp one and rarely out of the flat one — and the flat one is where the test loss stays low.")

st.subheader("Time per update and per epoch, on this device")
left, right = st.columns([3, 2])
with left:
    bar = st.progress(0.0, text="Measuring the time of one SGD update for each batch size…")
    timing = compute.update_times(compute.backend(), progress=lambda f, text: bar.progress(f, text=f"Measuring: {text}"))
    bar.empty()
    st.plotly_chart(figures.timing_figure(timing), key="b_timing", config={"displaylogo": False})
    gpu = not timing.device.startswith("CPU")
    st.caption(f"A 64-32-10 network on scikit-learn's {timing.examples:,} handwritten digits, one jitted SGD "
               f"update per batch size (median of 20), epoch = ⌈N/B⌉ updates. "
               + ("On this GPU one update costs about the same for B = 1 and for hundreds: a large batch makes an "
                  "epoch much faster." if gpu else
                  "Measured on a CPU: with few parallel units the update time grows sooner than on a GPU, yet an "
                  "epoch is still faster with a larger batch because of the per-update overhead."))
with right:
    st.markdown("**The lecture's summary**")
    st.table({"": [r[0] for r in SUMMARY], "small batch": [r[1] for r in SUMMARY],
              "large batch": [r[2] for r in SUMMARY]})
    st.caption("Batch size is a hyperparameter: the trade-off depends on your hardware and your data.")
