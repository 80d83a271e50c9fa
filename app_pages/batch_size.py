"""Batch size: noisy updates, epochs, time on parallel hardware, sharp and flat minima (LECTURES 1.5)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
from i18n import join, mark, tr, tr_n
from optimizers.registry import HyperParam

PAGE = "batch_size"
START = (-1.0, 2.0)
MAX_EPOCHS = 50
MAX_SEEDS = 10
LECTURE = {"b_small": 1, "b_large": 32, "b_epochs": 10, "b_lr": 0.05, "b_seeds": 5, "b_shift": 0.3, "b_noise": 5.0}
SUMMARY = [  # the lecture's table, small vs large batch
    (mark("Speed of one update (no parallelism)"), mark("faster"), mark("slower")),
    (mark("Speed of one update (with parallelism)"), mark("same"), mark("same (not too large)")),
    (mark("Time for one epoch"), mark("slower"), mark("faster")),
    (mark("Gradient"), mark("noisy"), mark("stable")),
    (mark("Optimization"), mark("better"), mark("worse")),
    (mark("Generalization"), mark("better"), mark("worse")),
]

data = compute.regression_data()
N = len(data.x)

notes, url, _, _ = controls.page_start(PAGE, tr("Batch size"), tr(
    "One epoch is one pass over all mini-batches, shuffled between epochs. Small batches take many noisy "
    "steps per epoch; large ones take few stable ones."),
    LECTURE, "b_preset", tr("Lecture example: batch of 1 vs full batch"))

with st.sidebar:
    small = controls.int_input(tr("Small batch size B"), 1, N, 1, "b_small", url, help=tr("1 to N = {n}", n=N))
    large = controls.int_input(tr("Large batch size B"), 1, N, N, "b_large", url,
                               help=tr("1 to N = {n} (N: full batch)", n=N))
    epochs = controls.int_input(tr("Epochs"), 1, MAX_EPOCHS, 10, "b_epochs", url)
    lr = controls.number_widget(HyperParam("lr", "learning rate η", 0.05, 1e-4, 1.0, log=True), "b_lr", url)
    n_seeds = controls.int_input(tr("Shuffling seeds (runs per batch size)"), 1, MAX_SEEDS, 5, "b_seeds", url)

with controls.prose():
    st.latex(r"L_b(\theta) = \frac{1}{|b|}\sum_{i \in b} \ell_i(\theta), \qquad \theta \leftarrow \theta - \eta\,"
             r"\nabla L_b(\theta)")
    st.markdown(join(tr("One update for every mini-batch b of an epoch."), tr(
        "The model ŷ = w·x + b has two parameters, so its mean-squared-error surface L(w, b) is exact: here on {count} "
        "points of a noisy line (generated with a fixed seed). Every mini-batch has its own surface — and its own "
        "minimum. Where one batch's gradient is zero, the next batch's is not, so a small batch keeps moving; the full "
        "batch stops at the first critical point of L.", count=N)))

grid = compute.regression_surface()
panels = [p._replace(label=tr("full batch L") if k == 0 else tr("mini-batch L{k}", k=k))
          for k, p in enumerate(compute.batch_surfaces(small))]
controls.chart(figures.batch_surfaces_figure(grid.xs, grid.ys, panels), key="b_surfaces")
st.caption(join(tr("Full batch and the first mini-batches of size B = {b} of one shuffle; ○ marks each minimum.", b=small),
                tr("For a single example every (w, b) on the dotted line w·x + b = y is a minimum.") if small == 1
                else ""))
st.caption(tr("Where this picture falls short of the lecture: a line fit's surface is convex, so the full batch has "
              "one critical point — its minimum — and cannot stall anywhere else. What the mini-batch surfaces do "
              "show is the mechanism: their minima sit in different places, so no single point stops every batch. "
              "A stall at a saddle that noise breaks is on the Critical points page (noisy gradient descent against "
              "plain gradient descent; Gaussian gradient noise there, not mini-batches)."))

st.subheader(tr("Mini-batch SGD, small against large batch"))
runs = {b: compute.sgd_run(b, epochs, lr, START, n_seeds) for b in dict.fromkeys((small, large))}
for b, r in runs.items():
    if (update := optimizers.first_divergence(r.diverged_at)) >= 0:
        st.warning(tr("B = {b}: diverged at update {update} (the path stops there). Try a smaller learning rate.",
                      b=b, update=update))
cols = st.columns(2)
path_maps = {}
for col, role, b in zip(cols, ("small", "large"), (small, large)):
    r = runs[b]
    sets = [figures.PathSet(tr_n("B = {b}, {count} shuffling seed", "B = {b}, {count} shuffling seeds", n_seeds, b=b),
                             r.path, r.loss)]
    with col:
        st.markdown(tr_n("**B = {b}**: {count} update per epoch, {total} in all",
                         "**B = {b}**: {count} updates per epoch, {total} in all", r.updates_per_epoch, b=b,
                         total=r.updates_per_epoch * epochs))
        path_maps[role] = figures.contour_figure(grid, sets, log_color=True, max_frames=figures.frames_for(n_seeds),
                                                 uirevision=f"sgd-{b}", height=470, axis_titles=("w", "b"))
        controls.chart(path_maps[role], key=f"b_paths_{role}")
controls.export_panel("batch_size", path_maps["small"], tr("Mini-batch SGD, B = {b}", b=small),
                      [f"B = {b}" for b in runs], list(runs.values()), grid)

c1, c2 = st.columns(2)
series_epoch = [figures.Series(f"B = {b}", r.loss[:, ::r.updates_per_epoch], i) for i, (b, r) in enumerate(runs.items())]
series_update = [figures.Series(f"B = {b}", r.loss, i) for i, (b, r) in enumerate(runs.items())]
with c1:
    controls.chart(figures.step_curves_figure(series_epoch, title=tr("Full-batch loss vs epoch"), y_title="L",
                                              x_title=tr("epoch"), log_y=True), key="b_loss_epoch")
with c2:
    controls.chart(figures.step_curves_figure(series_update, title=tr("Full-batch loss vs update"), y_title="L",
                                              x_title=tr("update"), log_y=True), key="b_loss_update")
st.caption(tr("Per epoch the small batch is ahead: it has taken many steps. Per update the large batch is ahead: "
              "each of its steps is exact. The small batch never settles — its noise keeps it jittering around "
              "the minimum."))

st.subheader(tr("Sharp and flat minima: why small batches generalize better"))
st.markdown(tr("Training and test loss are shifted versions of each other. A flat minimum stays good when the curve "
               "moves; a sharp one does not. Small-batch noise kicks the parameters around, and a sharp basin is "
               "too narrow to hold them (Keskar et al., ICLR 2017)."))
shift = controls.number_widget(HyperParam("shift", "shift of the test curve", 0.3, 0.0, 1.0), "b_shift", url)
s, train, test, minima = compute.train_test_profiles("sharp_flat", shift)
minima = [(tr(label), x) for label, x in minima]
c1, c2 = st.columns([3, 2])
with c1:
    controls.chart(figures.train_test_figure(s, train, test, minima), key="b_sharp_flat")
with c2:
    noise = controls.number_widget(HyperParam("noise", "mini-batch noise σ (gradient noise)", 5.0, 0.1, 20.0,
                                              log=True), "b_noise", url)
    escapes = compute.basin_escapes("sharp_flat", 500, 0.02, noise)
    for (point, esc), (label, _) in zip(escapes, minima):
        st.metric(tr("runs that leave the {minimum}", minimum=label), f"{100 * esc.rate:.0f} %",
                  help=tr("64 runs of 500 noisy gradient-descent steps (η = 0.02) started at ({x:.2f}, {y:.2f}); a "
                          "run has left when plain descent from where it ended leads to the other minimum.",
                          x=point.point[0], y=point.point[1]))
    st.caption(tr("Both minima are about equally deep on the training curve. The same noise carries runs out of the "
                  "sharp one and rarely out of the flat one — and the flat one is where the test loss stays low."))

st.subheader(tr("Time per update and per epoch, on this device"))
left, right = st.columns([3, 2])
with left:
    measuring = tr("Measuring the time of one SGD update for each batch size…")
    bar = st.progress(0.0, text=measuring)
    timing = compute.update_times(compute.backend(), progress=lambda f, _: bar.progress(f, text=measuring))
    bar.empty()
    controls.chart(figures.timing_figure(timing), key="b_timing")
    gpu = not timing.device.startswith("CPU")
    st.caption(join(tr("A 64-32-10 network on scikit-learn's {count:,} handwritten digits, one jitted SGD update per "
                       "batch size (median of 20), epoch = ⌈N/B⌉ updates.", count=timing.examples),
                    tr("On this GPU one update costs about the same for B = 1 and for hundreds: a large batch makes an "
                       "epoch much faster.") if gpu else
                    tr("Measured on a CPU: with few parallel units the update time grows sooner than on a GPU, yet an "
                       "epoch is still faster with a larger batch because of the per-update overhead.")))
with right:
    st.markdown(tr("**The lecture's summary**"))
    st.table({"": [tr(r[0]) for r in SUMMARY], tr("small batch"): [tr(r[1]) for r in SUMMARY],
              tr("large batch"): [tr(r[2]) for r in SUMMARY]})
    st.caption(tr("Batch size is a hyperparameter: the trade-off depends on your hardware and your data."))

url.show(notes)  # last: every widget has read its link value
