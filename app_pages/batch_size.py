"""Batch size: noisy updates, epochs, time on parallel hardware, sharp and flat minima (LECTURES 1.5)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
from i18n import join, mark, tr, tr_n
from optimizers.registry import HyperParam

PAGE = "batch_size"
MAX_EPOCHS = 50
MAX_SEEDS = 10
LECTURE = {"b_model": "sine", "b_small": 1, "b_large": 32, "b_epochs": 50, "b_lr": 0.2, "b_seeds": 5, "b_shift": 0.3,
           "b_noise": 5.0}
MODEL_LABELS = {"sine": mark("frequency fit ŷ = sin(w·x) + b (not convex)"),
                "line": mark("line fit ŷ = w·x + b (convex)")}
MODEL_TEXT = {
    "sine": mark("The model ŷ = sin(w·x) + b has two parameters, so its mean-squared-error surface L(w, b) is exact: "
                 "here on {count} points of y = sin({frequency}·x) + {offset} + noise of σ = {noise} (generated with a "
                 "fixed seed). The surface is not convex: besides the good fit near w = {frequency} it has a poor local minimum near w = 0, where "
                 "sin(w·x) ≈ w·x is almost a straight line. Every mini-batch has its own surface — and its own "
                 "critical points. Where the full batch's gradient is zero, a mini-batch's is not, so a small batch "
                 "keeps moving; the full batch stops at the first critical point of L it reaches."),
    "line": mark("The model ŷ = w·x + b has two parameters, so its mean-squared-error surface L(w, b) is exact: here "
                 "on {count} points of y = {slope}·x {intercept:+} + noise of σ = {noise} (generated with a fixed seed). Every mini-batch has its own "
                 "surface — and its own minimum. Where one batch's gradient is zero, the next batch's is not, so a "
                 "small batch keeps moving."),
}
KIND_TEXT = {"minimum": mark("both positive: a local minimum"), "saddle": mark("of both signs: a saddle"),
             "maximum": mark("both negative: a maximum")}
SUMMARY = [  # the lecture's table, small vs large batch
    (mark("Speed of one update (no parallelism)"), mark("faster"), mark("slower")),
    (mark("Speed of one update (with parallelism)"), mark("same"), mark("same (not too large)")),
    (mark("Time for one epoch"), mark("slower"), mark("faster")),
    (mark("Gradient"), mark("noisy"), mark("stable")),
    (mark("Optimization"), mark("better"), mark("worse")),
    (mark("Generalization"), mark("better"), mark("worse")),
]


notes, url, _, _ = controls.page_start(PAGE, tr("Batch size"), tr(
    "One epoch is one pass over all mini-batches, shuffled between epochs. Small batches take many noisy "
    "steps per epoch; large ones take few stable ones."),
    LECTURE, "b_preset", tr("Lecture example: batch of 1 vs full batch"),
    anchors=("lecture-1-5",))

with st.sidebar:
    model = controls.choice_select(tr("Model"), list(MODEL_LABELS), "sine", "b_model", url,
                                   format_func=lambda m: tr(MODEL_LABELS[m]))
    record = compute.regression_model(model)
    start = record.start
    data = compute.regression_data(model)
    N = len(data.x)
    small = controls.int_input(tr("Small batch size B"), 1, N, 1, "b_small", url, help=tr("1 to N = {n}", n=N))
    large = controls.int_input(tr("Large batch size B"), 1, N, N, "b_large", url,
                               help=tr("1 to N = {n} (N: full batch)", n=N))
    epochs = controls.int_input(tr("Epochs"), 1, MAX_EPOCHS, 50, "b_epochs", url)
    lr = controls.number_widget(HyperParam("lr", "learning rate η", 0.2, 1e-4, 1.0, log=True), "b_lr", url)
    n_seeds = controls.int_input(tr("Shuffling seeds (runs per batch size)"), 1, MAX_SEEDS, 5, "b_seeds", url)

with controls.prose():
    st.latex(r"L_b(\theta) = \frac{1}{|b|}\sum_{i \in b} \ell_i(\theta), \qquad \theta \leftarrow \theta - \eta\,"
             r"\nabla L_b(\theta), \qquad " + record.formula)
    st.markdown(join(tr("One update for every mini-batch b of an epoch."), tr(MODEL_TEXT[model], count=N, **record.data_args)))

grid = compute.regression_surface(model)
stall = compute.stall_report(small, epochs, lr, start, n_seeds, model)
panels = [p._replace(label=tr("full batch L") if k == 0 else tr("mini-batch L{k}", k=k))
          for k, p in enumerate(compute.batch_surfaces(small, model=model))]
stall_point = tuple(float(v) for v in stall.point)
controls.chart(figures.batch_surfaces_figure(grid.xs, grid.ys, panels, stall=stall_point,
                                             stall_label=tr("where full-batch gradient descent stopped")),
               key="b_surfaces")
pulls = compute.batch_gradient_norms(small, stall_point, len(panels) - 1, model=model)
controls.explained(tr("Each mini-batch's surface has its lowest point elsewhere: where the full batch stopped (✕), none of "
             "them is flat."), join(tr("Full batch and the first mini-batches of size B = {b} of one shuffle; ○ marks each minimum (for "
                   "the frequency fit the lowest point of the map), ✕ where full-batch gradient descent from ({w0:g}, "
                   "{b0:g}) with η = {lr:g} stopped after {epochs} updates.", b=small, w0=start[0], b0=start[1], lr=lr,
                   epochs=epochs),
                tr("For a single example every (w, b) on the dotted curve f(w, x) + b = y is a minimum.") if small == 1
                else "",
                tr("At ✕ the full-batch gradient is ‖∇L‖ = {norm:.1g}; the mini-batch gradients there are {pulls}: no "
                   "mini-batch surface is flat where the full batch stopped.", norm=stall.gradient_norm,
                   pulls=", ".join(f"{g:.2f}" for g in pulls))))
if record.convex:
    controls.explained(tr("A line fit's surface has a single minimum, so the full batch cannot get stuck anywhere else; the "
                 "frequency fit shows the lecture's case."), tr("Where this model falls short of the lecture: a line fit's surface is convex, so the full batch has "
                  "one critical point — its minimum — and cannot stall anywhere else. What the mini-batch surfaces do "
                  "show is the mechanism: their minima sit in different places, so no single point stops every batch. "
                  "The frequency fit (the lecture example) shows a full batch that stalls in a poor minimum and "
                  "mini-batches that leave it."))

st.subheader(tr("Mini-batch SGD, small against large batch"))
runs = {b: compute.sgd_run(b, epochs, lr, start, n_seeds, model) for b in dict.fromkeys((small, large))}
for b, r in runs.items():
    if (update := optimizers.first_divergence(r.diverged_at)) >= 0:
        st.warning(tr("B = {b}: diverged at update {update} (the path stops there). Try a smaller learning rate.",
                      b=b, update=update))
# B = N takes the whole data set every update, so shuffling cannot change it: its seeds draw one line, and the
# label says so instead of promising several runs.
run_labels = {b: tr("B = {b} = N (full batch): all {count} seeds give one line", b=b, count=n_seeds)
              if b >= N and n_seeds > 1 else
              tr_n("B = {b}, {count} shuffling seed", "B = {b}, {count} shuffling seeds", n_seeds, b=b) for b in runs}
cols = st.columns(len(runs))
for col, (b, r) in zip(cols, runs.items()):
    col.markdown(tr_n("**B = {b}**: {count} update per epoch, {total} in all",
                      "**B = {b}**: {count} updates per epoch, {total} in all", r.updates_per_epoch, b=b,
                      total=r.updates_per_epoch * epochs))
# One map, one Play button: both batch sizes advance on one clock of examples seen, so "many noisy updates
# against few stable ones per epoch" is seen at the same moment (two players ran 1,600 frames against 50).
race = compute.batch_race(tuple(runs), epochs, lr, start, n_seeds, model,
                          max_frames=figures.frames_for(n_seeds * len(runs)))
frame_labels = [" · ".join([tr("epoch {epoch:g}", epoch=round(float(e), 2))] + [
    tr_n("B = {b}: {count} update", "B = {b}: {count} updates", int(u), b=b) for b, u in zip(runs, race.updates[:, k])])
    for k, e in enumerate(race.epoch)]
race_map = figures.race_figure(grid, [figures.PathSet(run_labels[b], p, loss) for b, p, loss in
                                      zip(runs, race.paths, race.losses)], frame_labels, log_color=True,
                               uirevision=f"sgd-{model}-{small}-{large}", height=520, axis_titles=("w", "b"),
                               title=tr("Loss L(w, b) on all N = {n} training examples", n=N),
                               same_units=False)
controls.chart(race_map, key="b_paths")
controls.caption(tr_n("One frame per epoch: at every frame both batch sizes have taken the same number of examples.",
                      "One frame every 1/{count} epoch: at every frame both batch sizes have taken the same number "
                      "of examples.", int(race.frames_per_epoch)))
controls.export_panel("batch_size", race_map, tr("Mini-batch SGD, {runs}", runs=", ".join(f"B = {b}" for b in runs)),
                      [f"B = {b}" for b in runs], list(runs.values()), grid)

low, high = stall.final_range
near, far = stall.distance_range
m1, m2, m3 = st.columns(3)
m1.metric(tr("full batch: L where it stopped"), f"{stall.loss:.3g}",
          help=tr("At (w, b) = ({w:.3f}, {b:.3f}), ‖∇L‖ = {norm:.1g}; Hessian eigenvalues {low:.3g} and {high:.3g} "
                  "({kind}).", w=stall.point[0], b=stall.point[1], norm=stall.gradient_norm,
                  low=stall.hessian_eigenvalues[0], high=stall.hessian_eigenvalues[1],
                  kind=tr(KIND_TEXT[stall.kind])))
m2.metric(tr("B = {b}: runs that left it", b=small), f"{stall.left_count} / {n_seeds}",
          help=tr("A run has left when it ends more than {distance:g} from the full batch's end point with less than "
                  "{ratio:.0%} of its loss.", distance=stall.leave_distance, ratio=stall.leave_loss_ratio))
m3.metric(tr("B = {b}: L where the runs ended", b=small), f"{low:.3g} – {high:.3g}")
controls.explained(tr("The full batch stopped where its gradient is zero; {left} of {count} runs with B = {b} went on to a lower "
             "loss.", left=stall.left_count, count=n_seeds, b=small), join(
    tr("Full-batch gradient descent (B = N = {n}) stopped at (w, b) = ({w:.2f}, {b:.2f}) with ‖∇L‖ = {norm:.1g}, "
       "L = {loss:.3g}; the Hessian's eigenvalues there are {low:.3g} and {high:.3g} ({kind}).", n=N,
       w=stall.point[0], b=stall.point[1], norm=stall.gradient_norm, loss=stall.loss,
       low=stall.hessian_eigenvalues[0], high=stall.hessian_eigenvalues[1], kind=tr(KIND_TEXT[stall.kind])),
    tr("From the same start with the same η, {left} of {count} mini-batch runs with B = {b} left it: they end "
       "{near:.2f} to {far:.2f} away, at L = {lo:.3g} to {hi:.3g}.", left=stall.left_count, count=n_seeds, b=small,
       near=near, far=far, lo=low, hi=high)))

c1, c2 = st.columns(2)
# Colour and dash both tell the batch sizes apart (as on the map), so the curves read without colour vision.
series_epoch = [figures.Series(run_labels[b], r.loss[:, ::r.updates_per_epoch], i, figures.path_dash(i))
                for i, (b, r) in enumerate(runs.items())]
series_update = [figures.Series(run_labels[b], r.loss, i, figures.path_dash(i)) for i, (b, r) in enumerate(runs.items())]
# "Full-batch loss" read as the curve of the full batch B = N; the loss is of every run, on all N examples.
with c1:
    controls.chart(figures.step_curves_figure(series_epoch, title=tr(
        "Loss on all N = {n} training examples, after each epoch", n=N), y_title="L", x_title=tr("epoch"),
        log_y=True), key="b_loss_epoch")
with c2:
    controls.chart(figures.step_curves_figure(series_update, title=tr(
        "Loss on all N = {n} training examples, after each update", n=N), y_title="L", x_title=tr("update"),
        # log x: the large batch's few updates (N/B per epoch) were squeezed against the axis under the small one's
        log_y=True, log_x=True), key="b_loss_update")
controls.caption(tr("Per epoch the small batch is ahead: it has taken many steps. Per update the large batch is ahead: "
              "each of its steps is exact. The small batch never settles — its noise keeps it jittering around "
              "the minimum.") if record.convex else
           tr("The full batch's loss goes flat: it has stopped in the poor minimum. The small batch's loss drops "
              "below it once its noise has carried the run over the ridge into the good fit's valley, and stays "
              "near the bottom there, jittering."))

st.subheader(tr("Sharp and flat minima: why small batches generalize better"))
st.markdown(tr("Training and test loss are shifted versions of each other. A flat minimum stays good when the curve "
               "moves; a sharp one does not. Small-batch noise kicks the parameters around, and a sharp basin is "
               "too narrow to hold them (Keskar et al., ICLR 2017)."))
shift = controls.number_widget(HyperParam("shift", "shift of the test curve", 0.3, 0.0, 1.0), "b_shift", url)
s, train, test, minima = compute.train_test_profiles("sharp_flat", shift)
names = [tr("sharp minimum"), tr("flat minimum")] if len(minima) == 2 else [f"#{i + 1}" for i in range(len(minima))]
minima = list(zip(names, minima))  # sharpest first
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
    controls.caption(tr("Both minima are about equally deep on the training curve. The same noise carries runs out of the "
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
    controls.explained(tr("A larger batch makes an epoch faster on this device."), join(tr("A 64-32-10 network on scikit-learn's {count:,} handwritten digits, one jitted SGD update per "
                       "batch size (median of 20), epoch = ⌈N/B⌉ updates.", count=timing.examples),
                    tr("On this GPU one update costs about the same for B = 1 and for hundreds: a large batch makes an "
                       "epoch much faster.") if gpu else
                    tr("Measured on a CPU: with few parallel units the update time grows sooner than on a GPU, yet an "
                       "epoch is still faster with a larger batch because of the per-update overhead.")))
with right:
    st.markdown(tr("**The lecture's summary**"))
    st.table({"": [tr(r[0]) for r in SUMMARY], tr("small batch"): [tr(r[1]) for r in SUMMARY],
              tr("large batch"): [tr(r[2]) for r in SUMMARY]})
    controls.caption(tr("Batch size is a hyperparameter: the trade-off depends on your hardware and your data."))

url.show(notes)  # last: every widget has read its link value
