"""Classification: softmax, and how the loss changes the surface (LECTURES 2.4)."""
import numpy as np
import streamlit as st

import compute
import controls
import figures
import surfaces
from optimizers.registry import HyperParam

PAGE = "classification_loss"
GRID = 121
LOSSES = {"softmax_mse": "Mean square error", "softmax_cross_entropy": "Cross-entropy"}
AXES = ("y₁ (logit of the target class)", "y₂")
LECTURE = {"c_logits": "3, 1, -3", "c_target": 1, "c_x": -8.0, "c_y": 8.0, "c_gd_lr": 1.0, "c_adam_lr": 0.1,
           "c_steps": 300}

notes, url = controls.page_header(
    "Classification loss",
    "Classes are one-hot vectors, the network's outputs go through softmax, and the loss you pick — mean square "
    "error or cross-entropy — decides whether gradient descent can start at all.",
    PAGE)

with st.sidebar:
    controls.preset_button("Lecture example: 3 classes, y₃ = −1000, start where the loss is large", LECTURE,
                           key="c_preset")
    st.markdown("**Race on both surfaces**")
    cx, cy = st.columns(2)
    sx = controls.float_input("start y₁", -10.0, 10.0, -8.0, "c_x", url, where=cx)
    sy = controls.float_input("start y₂", -10.0, 10.0, 8.0, "c_y", url, where=cy)
    gd_lr = controls.number_widget(HyperParam("lr", "gradient descent η", 1.0, 1e-3, 100.0, log=True), "c_gd_lr", url)
    adam_lr = controls.number_widget(HyperParam("lr", "Adam η", 0.1, 1e-3, 10.0, log=True), "c_adam_lr", url)
    steps = controls.int_input("steps", 10, 5000, 300, "c_steps", url)

# ---------------------------------------------------------------- softmax calculator
st.header("1. Softmax")
st.latex(r"y'_i = \frac{\exp(y_i)}{\sum_j \exp(y_j)}")
st.markdown("Softmax turns any outputs y into numbers y′ in (0, 1) that sum to 1. Classes are compared with "
            "one-hot targets ŷ — class 2 is not “between” classes 1 and 3. With two classes softmax is the "
            "sigmoid of the difference, y′₁ = σ(y₁ − y₂).")
c1, c2 = st.columns([3, 1])
raw = c1.text_input("logits y (numbers separated by commas)", "3, 1, -3", key=controls.bound("c_logits", "3, 1, -3"), bind=controls.BIND,
                    max_chars=400)
try:
    logits = surfaces.classification.parse_logits(raw)
except ValueError as err:
    st.error(f"Could not read the logits: {err}. Showing the default 3, 1, −3.")
    logits = np.array([3.0, 1.0, -3.0])
target = controls.int_input("target class", 1, surfaces.classification.MAX_CLASSES, 1, "c_target", url, where=c2)
if target > len(logits):
    st.info(f"There are only {len(logits)} classes: the target is class {len(logits)}.")
    target = len(logits)
readout = compute.softmax_readout(tuple(float(v) for v in logits), target - 1)
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(figures.probability_bars_figure(logits, readout["probabilities"], target - 1),
                    key="c_bars", config={"displaylogo": False})
with right:
    st.dataframe({"class": [str(i + 1) for i in range(len(logits))], "y": [f"{v:g}" for v in logits],
                  "y′ = softmax(y)": [f"{p:.4g}" for p in readout["probabilities"]],
                  "ŷ (one-hot)": [1 if i == target - 1 else 0 for i in range(len(logits))]},
                 hide_index=True, width="stretch")
    m1, m2, m3 = st.columns(3)
    m1.metric("Σ y′", f"{readout['total']:.6f}")
    m2.metric("MSE Σ(ŷ − y′)²", f"{readout['mse']:.4g}")
    m3.metric("cross-entropy −ln y′", f"{readout['cross_entropy']:.4g}")
    if readout["sigmoid"] is not None:
        st.success(f"Two classes: σ(y₁ − y₂) = σ({logits[0] - logits[1]:g}) = {readout['sigmoid']:.6g}, "
                   f"and softmax gives y′₁ = {readout['probabilities'][0]:.6g}: the same.")

# ---------------------------------------------------------------- the two surfaces
st.header("2. The loss changes the surface")
st.markdown("The lecture's picture: three classes, target class 1, the third output pinned at y₃ = −1000, so "
            "only y₁ and y₂ vary. Where the loss is large (y₁ low, y₂ high) the MSE surface is flat — its "
            "gradient almost vanishes — while cross-entropy still slopes towards the minimum.")
FORMULAS = {"softmax_mse": r"e = \sum_{i=1}^{3} (\hat y_i - y'_i)^2", "softmax_cross_entropy": r"e = -\sum_{i=1}^{3} \hat y_i \ln y'_i = -\ln y'_1"}
st.latex(r"y' = \mathrm{softmax}(y_1, y_2, -1000),\qquad \hat y = (1, 0, 0)")
c1, c2 = st.columns(2)
for col, name in zip((c1, c2), LOSSES):
    col.markdown(f"**{LOSSES[name]}**")
    col.latex(FORMULAS[name])
start = (sx, sy)
runs = {name: {"Gradient descent": compute.run_one(name, "gd", start, steps, lr=gd_lr),
               "Adam": compute.run_one(name, "adam", start, steps, lr=adam_lr)} for name in LOSSES}
grads = {name: float(np.linalg.norm(compute.gradient_at(name, start))) for name in LOSSES}
controls.divergence_warnings({f"{label} on {LOSSES[name]}": r for name, pair in runs.items() for label, r in pair.items()})
view = st.segmented_control("view", ["contour", "3-D"], default="contour", key="c_view",
                            help="3-D draws more slowly (WebGL)") or "contour"
cols = st.columns(2)
for col, name in zip(cols, LOSSES):
    grid = compute.surface_grid(name, GRID)
    paths = [figures.PathSet(label, r.path, r.loss) for label, r in runs[name].items()]
    with col:
        if view == "3-D":
            st.plotly_chart(figures.surface3d_figure(grid, paths, uirevision=f"{name}-3d", height=480),
                            key=f"c_3d_{name}", config={"displaylogo": False})
        else:
            st.plotly_chart(figures.contour_figure(grid, paths, uirevision=name, height=500, axis_titles=AXES),
                            key=f"c_map_{name}", config={"displaylogo": False})
        st.plotly_chart(figures.value_map_figure(grid.xs, grid.ys, grid.grad_norm, title="Gradient norm ‖∇L‖",
                                                 value_label="‖∇L‖", axis_titles=AXES, height=360, zmin=1e-12),
                        key=f"c_grad_{name}", config={"displaylogo": False})
        st.metric(f"‖∇L‖ at the start ({sx:g}, {sy:g})", f"{grads[name]:.3g}")
controls.export_panel("classification", lambda: figures.contour_figure(
    compute.surface_grid("softmax_mse", GRID), [figures.PathSet(label, r.path, r.loss) for label, r in
                                                runs["softmax_mse"].items()], axis_titles=AXES),
    "MSE surface with the runs", [f"{label} on {LOSSES[name]}" for name, pair in runs.items() for label in pair],
    [r for pair in runs.values() for r in pair.values()], compute.surface_grid("softmax_mse", GRID))
ratio = grads["softmax_cross_entropy"] / grads["softmax_mse"] if grads["softmax_mse"] > 0 else float("inf")
st.info(f"At the start the cross-entropy gradient is **{ratio:.3g} times** the MSE gradient. The dark upper-left "
        "of the MSE map is the plateau: the loss is near its largest value, 2, and the gradient is 10⁻⁸–10⁻⁶. "
        "(The lower right is dark on both maps for a good reason: the loss is already near 0 there.)")

# ---------------------------------------------------------------- the race
st.header("3. Gradient descent and Adam from the same corner")
series = [figures.Series(f"{label} on {LOSSES[name]}", r.loss, i, "solid" if name == "softmax_cross_entropy" else "dash")
          for name, pair in runs.items() for i, (label, r) in enumerate(pair.items())]
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(figures.step_curves_figure(series, title="Loss L(θᵗ) (dashed: MSE, solid: cross-entropy)",
                                               y_title="L", log_y=True, height=380), key="c_race")
with right:
    rows = [{"optimizer": label, "loss": LOSSES[name], "start loss": f"{r.loss[0, 0]:.4g}",
             "final loss": f"{r.loss[0][np.isfinite(r.loss[0])][-1]:.4g}",
             "moved": f"{np.linalg.norm(r.path[0][np.isfinite(r.path[0]).all(axis=1)][-1] - r.path[0, 0]):.3g}"}
            for name, pair in runs.items() for label, r in pair.items()]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Gradient descent on MSE barely moves: its steps are η times a gradient of about "
               f"{grads['softmax_mse']:.1g}. Adam divides by σ, the size of recent gradients, so it escapes the "
               "plateau too — but the cleaner fix is the loss: cross-entropy, which is also maximum likelihood.")
with st.expander("The gradients in closed form", expanded=False):
    st.latex(r"\frac{\partial e_{CE}}{\partial y} = y' - \hat y,\qquad "
             r"\frac{\partial e_{MSE}}{\partial y} = 2\,(\mathrm{diag}(y') - y' y'^{\top})\,(y' - \hat y)")
    st.markdown("MSE's gradient carries the softmax Jacobian diag(y′) − y′y′ᵀ, which vanishes when y′ is "
                "saturated (one class near 1): exactly where the loss is large and the prediction confidently "
                "wrong. Cross-entropy's log cancels that Jacobian.")

url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
