"""Classification: softmax, and how the loss changes the surface (LECTURES 2.4)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
import surfaces
from i18n import mark, tr
from optimizers.registry import HyperParam

PAGE = "classification_loss"
GRID = 121
LOSSES = {"softmax_mse": mark("Mean square error"), "softmax_cross_entropy": mark("Cross-entropy")}
AXIS_1 = mark("y₁ (logit of the target class)")
LECTURE = {"c_logits": "3, 1, -3", "c_target": 1, "c_x": -8.0, "c_y": 8.0, "c_gd_lr": 1.0, "c_adam_lr": 0.1,
           "c_steps": 300}

AXES = (tr(AXIS_1), "y₂")
# A 3-D scene draws its axis titles along the slanted axes: the long name ran under the Play buttons there.
SCENE_AXES = ("y₁", "y₂")

notes, url, _, _ = controls.page_start(PAGE, tr("Classification loss"), tr(
    "Classes are one-hot vectors, the network's outputs go through softmax, and the loss you pick — mean square "
    "error or cross-entropy — decides whether gradient descent can start at all."),
    LECTURE, "c_preset", tr("Lecture example: 3 classes, y₃ = −1000, start where the loss is large"))

with st.sidebar:
    st.markdown(tr("**Race on both surfaces**"))
    sx, sy = controls.point_input((tr("start y₁"), tr("start y₂")), ((-10.0, 10.0), (-10.0, 10.0)), (-8.0, 8.0),
                                  lambda axis: f"c_{axis}", url)
    gd_lr = controls.number_widget(HyperParam("lr", "gradient descent η", 1.0, 1e-3, 100.0, log=True), "c_gd_lr", url)
    adam_lr = controls.number_widget(HyperParam("lr", "Adam η", 0.1, 1e-3, 10.0, log=True), "c_adam_lr", url)
    steps = controls.int_input(tr("steps"), 10, 5000, 300, "c_steps", url)


# ---------------------------------------------------------------- softmax calculator
controls.section(tr("1. Softmax"),
                 tr("Softmax turns any outputs y into numbers y′ in (0, 1) that sum to 1. Classes are compared with "
                    "one-hot targets ŷ — class 2 is not “between” classes 1 and 3. With two classes softmax is the "
                    "sigmoid of the difference, y′₁ = σ(y₁ − y₂)."),
                 latex=r"y'_i = \frac{\exp(y_i)}{\sum_j \exp(y_j)}", anchor="lecture-2-4")


@st.fragment  # the logits and the target rerun this section only
def softmax_section():
    c1, c2 = st.columns([3, 1])
    raw = controls.text_field(tr("logits y (numbers separated by commas)"), "3, 1, -3", "c_logits", url, 400, where=c1)
    try:
        logits = surfaces.classification.parse_logits(raw)
    except ValueError as err:
        st.error(tr("Could not read the logits: {why}. Showing the default 3, 1, −3.", why=controls.escape_markdown(err)))
        logits = surfaces.classification.parse_logits(LECTURE["c_logits"])
    target = controls.int_input(tr("target class"), 1, surfaces.classification.MAX_CLASSES, 1, "c_target", url, where=c2)
    if target > len(logits):
        st.info(tr("There are only {count} classes: the target is class {count}.", count=len(logits)))
        target = len(logits)
    readout = compute.softmax_readout(tuple(float(v) for v in logits), target - 1)
    left, right = st.columns([3, 2])
    with left:
        controls.chart(figures.probability_bars_figure(logits, readout.probabilities, target - 1), key="c_bars")
    with right:
        st.dataframe({tr("class"): [str(i + 1) for i in range(len(logits))], "y": [f"{v:g}" for v in logits],
                      "y′ = softmax(y)": [f"{p:.4g}" for p in readout.probabilities],
                      tr("ŷ (one-hot)"): [1 if i == target - 1 else 0 for i in range(len(logits))]},
                     hide_index=True, width="stretch")
        two = compute.two_classes()
        controls.chart(figures.step_curves_figure(
            [figures.Series("softmax(y₁, y₂)₁", two.softmax_first, 0, x=two.difference),
             figures.Series("σ(y₁ − y₂)", two.sigmoid, 1, "dash", x=two.difference)],
            title=tr("Two classes: softmax is the sigmoid"), x_title="y₁ − y₂", y_title="y′₁", height=250),
            key="c_two_classes")
        controls.caption(tr("Any two logits with the same difference give the same y′₁; over this range the two curves differ "
                      "by at most {gap:.1e} (float32 round-off).", gap=two.largest_gap))
    # Three columns of the page's width, under the chart and the table: made inside the right-hand column they were
    # a fifth of the page each, and Streamlit cut their one-line labels and values to "1.00…", "cross-entropy −l…".
    m1, m2, m3 = st.columns(3)
    m1.metric("Σ y′", f"{readout.total:.6f}")
    m2.metric("MSE Σ(ŷ − y′)²", f"{readout.mse:.4g}")
    m3.metric(tr("cross-entropy −ln y′"), f"{readout.cross_entropy:.4g}")
    if readout.sigmoid is not None:
        st.success(tr("Two classes: σ(y₁ − y₂) = σ({difference:g}) = {sigmoid:.6g}, and softmax gives y′₁ = "
                      "{softmax:.6g}: the same.", difference=logits[0] - logits[1], sigmoid=readout.sigmoid,
                      softmax=readout.probabilities[0]))


softmax_section()


# ---------------------------------------------------------------- the two surfaces
controls.section(tr("2. The loss changes the surface"),
                 tr("The lecture's picture: three classes, target class 1, the third output pinned at y₃ = −1000, so "
                    "only y₁ and y₂ vary. Where the loss is large (y₁ low, y₂ high) the MSE surface is flat — its "
                    "gradient almost vanishes — while cross-entropy still slopes towards the minimum."))
for name in LOSSES:  # one under the other: side by side the formulas were cut off
    st.markdown(f"**{tr(LOSSES[name])}**")
    st.latex(surfaces.get(name).formula)
start = (sx, sy)
runs = {name: {tr("Gradient descent"): compute.trajectory(name, "gd", start, steps, lr=gd_lr),
               "Adam": compute.trajectory(name, "adam", start, steps, lr=adam_lr)} for name in LOSSES}
grads = {name: compute.gradient_norm_at(name, start) for name in LOSSES}

def on_loss(label: str, name: str) -> str:
    return tr("{optimizer} on {loss}", optimizer=label, loss=tr(LOSSES[name]))


controls.divergence_warnings({on_loss(label, name): r for name, pair in runs.items() for label, r in pair.items()})
view = controls.view_select("c_view", help=tr("3-D draws more slowly (WebGL)"))
cols = st.columns(2)
for col, name in zip(cols, LOSSES):
    grid = compute.surface_grid(name, GRID)
    paths = [figures.PathSet(label, r.path, r.loss) for label, r in runs[name].items()]
    with col:
        if view == "3-D":
            controls.chart(figures.surface3d_figure(grid, paths, uirevision=f"{name}-3d", height=480,
                                                    title=tr(LOSSES[name]), axis_titles=SCENE_AXES, legend=True),
                           key=f"c_3d_{name}")
        else:
            controls.chart(figures.contour_figure(grid, paths, uirevision=name, height=500, axis_titles=AXES,
                                                  title=tr(LOSSES[name])), key=f"c_map_{name}")
        controls.chart(figures.value_map_figure(grid.xs, grid.ys, grid.grad_norm,
                                                title=tr("Gradient norm of {loss}", loss=tr(LOSSES[name])),
                                                value_label="‖∇L‖", axis_titles=AXES, height=360, zmin=1e-12),
                       key=f"c_grad_{name}")
        st.metric(tr("‖∇L‖ at the start ({x:g}, {y:g})", x=sx, y=sy), f"{grads[name]:.3g}")
controls.export_panel("classification", lambda: figures.contour_figure(
    compute.surface_grid("softmax_mse", GRID), [figures.PathSet(label, r.path, r.loss) for label, r in
                                                runs["softmax_mse"].items()], axis_titles=AXES),
    tr("MSE surface with the runs"), [on_loss(label, name) for name, pair in runs.items() for label in pair],
    [r for pair in runs.values() for r in pair.values()], compute.surface_grid("softmax_mse", GRID))
ratio = grads["softmax_cross_entropy"] / grads["softmax_mse"] if grads["softmax_mse"] > 0 else float("inf")
st.info(tr("At the start the cross-entropy gradient is **{ratio:.3g} times** the MSE gradient. The dark upper-left "
           "of the MSE gradient-norm map is the plateau: the loss is near its largest value, 2, and the gradient is 10⁻⁸–10⁻⁶. "
           "(The lower right is dark on both maps for a good reason: the loss is already near 0 there.)", ratio=ratio))

# ---------------------------------------------------------------- the race
st.header(tr("3. Gradient descent and Adam from the same corner"))
by_loss = {name: [figures.Series(on_loss(label, name), r.loss, i, "solid" if name == "softmax_cross_entropy" else "dash")
                   for i, (label, r) in enumerate(pair.items())] for name, pair in runs.items()}
series = [s for name in runs for s in by_loss[name]]
# One measure for all four runs: their losses (MSE ≤ 2, cross-entropy unbounded) are not on one scale.
right_class = [s._replace(y=surfaces.classification.target_probability(r.path))
               for s, r in zip(series, [r for pair in runs.values() for r in pair.values()])]
left, right = st.columns([3, 2])
with left:
    controls.chart(figures.step_curves_figure(
        right_class, title=tr("Probability of the right class y′₁ (dashed: on MSE, solid: on cross-entropy)"),
        y_title="y′₁", height=380, y_from_zero=True), key="c_race")
    c1, c2 = st.columns(2)
    for col, name in zip((c1, c2), LOSSES):
        with col:  # each loss's curves follow its own map's frame (the view shown), opening at its last step
            controls.chart(figures.step_curves_figure(
                by_loss[name],
                title=tr("{loss}, its own axis", loss=tr(LOSSES[name])), y_title="L", height=260, legend=False,
                log_y=figures.wide_range([r.loss for r in runs[name].values()], 100),
                cursor=max(r.loss.shape[-1] for r in runs[name].values()) - 1),
                key=f"c_race_{name}", follows=f"c_3d_{name}" if view == "3-D" else f"c_map_{name}")
with right:
    controls.caption(tr("Compare the runs by y′₁, the probability they give the right class: the two losses are on "
                  "different scales (MSE is at most 2, cross-entropy has no bound), so a lower MSE is not a better "
                  "classifier than a higher cross-entropy."))
    controls.caption(tr("Gradient descent on MSE barely moves: its steps are η times a gradient of about {gradient:.1g}. "
                  "Adam divides by σ, the size of recent gradients, so it escapes the plateau too — but the cleaner "
                  "fix is the loss: cross-entropy, which is also maximum likelihood.", gradient=grads["softmax_mse"]))
# The table at the page's width, under the figures: every column shows.
rows = [{tr("optimizer"): label, tr("loss"): tr(LOSSES[name]), tr("start loss"): f"{r.loss[0, 0]:.4g}",
         tr("final y′₁"): f"{surfaces.classification.target_probability(optimizers.last_finite(r.path[0])):.3g}",
         tr("final loss"): f"{optimizers.last_finite(r.loss[0]):.4g}",
         tr("moved"): f"{optimizers.distance_to(optimizers.last_finite(r.path[0]), r.path[0, 0]):.3g}"}
        for name, pair in runs.items() for label, r in pair.items()]
st.dataframe(rows, hide_index=True, width="stretch")
with st.expander(tr("The gradients in closed form"), expanded=False):
    st.latex(r"\frac{\partial e_{CE}}{\partial y} = y' - \hat y,\qquad "
             r"\frac{\partial e_{MSE}}{\partial y} = 2\,(\mathrm{diag}(y') - y' y'^{\top})\,(y' - \hat y)")
    st.markdown(tr("MSE's gradient carries the softmax Jacobian diag(y′) − y′y′ᵀ, which vanishes when y′ is "
                   "saturated (one class near 1): exactly where the loss is large and the prediction confidently "
                   "wrong. Cross-entropy's log cancels that Jacobian."))

url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
