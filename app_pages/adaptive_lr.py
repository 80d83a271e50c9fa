"""Adaptive learning rate: training stuck ≠ small gradient; one η per parameter (LECTURES 2.1–2.2)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
from i18n import mark, tr
from optimizers.registry import HyperParam

PAGE = "adaptive_learning_rate"
start_key = controls.surface_point_key("a")  # start_key(surface, axis): a widget key per surface
GRID = 120
ADAPTIVE = ["adagrad", "adagrad_sum", "rmsprop", "rmsprop_zero", "adam"]
MAP_STEPS = 150  # the map of section 2 shows every one of the first steps (no subsampling); the curve all
ETA = HyperParam("lr", "learning rate η", 0.01, 1e-7, 1.0, log=True)
# Finer stops around the two valleys' stability edges η = 2/λ_max (1-2-5 alone jumps 0.002 → 0.005 → 0.01 → 0.02):
# the walled plateau's 2/700 ≈ 0.00286 (2-cycle from there, chaos near 0.01) and the elongated valley's 10⁻².
EDGE_STOPS = (0.0025, 0.0028, 0.0029, 0.003, 0.004, 0.0057, 0.0058, 0.006, 0.007,
              0.008, 0.009, 0.0095, 0.0098, 0.0099, 0.0101, 0.0102, 0.0105, 0.011, 0.012)
QUADRATIC = ("elongated_valley", (-8.0, 1.2), 0.01, 300)  # the quadratic valley at its edge, for comparison
LECTURE = {"surface": "walled_plateau", "ax_walled_plateau": -8.0, "ay_walled_plateau": 0.5,
           "a_lr": 0.01, "a_steps": 300, "a_large": 0.01, "a_small": 1e-7, "a_long_steps": 100_000,
           "a_adaptive": ADAPTIVE, "a_eta": 0.1, "a_adaptive_steps": 300}

notes, url, surface, record = controls.page_start(PAGE, tr("Adaptive learning rate"), tr(
    "When the loss stops falling the gradient is not necessarily small, and one learning rate cannot suit "
    "a steep and a flat direction at once: give every parameter its own."),
    LECTURE, "a_preset", tr("Lecture example: the walled plateau, η = 10⁻² and 10⁻⁷"), surface="walled_plateau")

with st.sidebar:
    sx, sy = controls.point_input((tr("start x"), tr("start y")), record.domain, record.starts[0],
                                  lambda axis: start_key(surface, axis), url)
    st.caption(tr("Every run on this page starts here."))
start = (sx, sy)
controls.stop_unless_defined(surface, start, notes, url)

grid = compute.surface_grid(surface, GRID)
critical_curves, critical = compute.critical_set(surface)  # a continuum of minima is a curve, not points
with controls.prose():
    controls.surface_text(record)
    st.latex(record.formula)

# ---------------------------------------------------------------- 2.1 stuck ≠ small gradient
controls.section(tr("1. Training stuck ≠ small gradient"),
                 tr("The loss can stop falling while the gradient stays large: the parameters bounce from one wall of "
                    "a valley to the other and never go down it. Plot the gradient norm beside the loss before you "
                    "blame a critical point."))
c1, c2 = st.columns(2)
edge = compute.stability_edge(surface)
lr = controls.number_widget(ETA, "a_lr", url, where=c1, stops=EDGE_STOPS,
                            help=tr("The steepest curvature at this surface's lowest minimum is λ_max = {curvature:.3g}: "
                                    "gradient descent can settle there only for η < 2/λ_max = {edge:.3g}.",
                                    curvature=2 / edge, edge=edge) if edge else None)
steps = controls.int_input(tr("steps"), 10, 5000, 300, "a_steps", url, where=c2)
stuck = compute.trajectory(surface, "gd", start, steps, lr=lr)
label = tr("Gradient descent, η = {lr}", lr=controls.format_number(lr))
controls.divergence_warnings({label: stuck})
c1, c2 = st.columns(2)
with c1:
    controls.chart(figures.step_curves_figure([figures.Series(label, stuck.loss, 0)], title=tr("Loss L(θᵗ)"),
                                              y_title="L", log_y=figures.wide_range(stuck.loss, 100),
                                              y_from_zero=True), key="a_stuck_loss")
with c2:
    controls.chart(figures.step_curves_figure([figures.Series(label, stuck.grad_norm, 1)],
                                              title=tr("Gradient norm ‖∇L(θᵗ)‖"), y_title="‖g‖",
                                              log_y=figures.wide_range(stuck.grad_norm, 100), y_from_zero=True),
                   key="a_stuck_grad")
stall = optimizers.stall_report(stuck.loss[0], stuck.grad_norm[0])
st.caption(tr("Over the last {count} steps the loss changed by {change:.3g} while the gradient norm stayed at about "
              "{high:.3g}.", count=stall.steps, change=stall.loss_change, high=stall.grad_high)
           if stall.gradient_steady else
           tr("Over the last {count} steps the loss changed by {change:.3g} ({spread:.1%} of its mean {mean:.4g}) while "
              "the gradient norm jumped between {low:.3g} and {high:.3g} (a factor of {ratio:.3g}), turning from rising "
              "to falling or back at {turns:.0%} of the steps.", count=stall.steps, change=stall.loss_change,
              spread=stall.loss_spread, mean=stall.loss_mean, low=stall.grad_low, high=stall.grad_high,
              ratio=stall.grad_ratio, turns=stall.grad_turns))
quadratic = compute.trajectory(QUADRATIC[0], "gd", QUADRATIC[1], QUADRATIC[3], lr=QUADRATIC[2])
flat = optimizers.stall_report(quadratic.loss[0], quadratic.grad_norm[0])
st.caption(tr("Why the walls' shape matters: on a quadratic valley ‖g‖ cannot oscillate under gradient descent. On the "
              "elongated valley at its edge (η = 10⁻², from (−8, 1.2)) every step flips y, so |∂L/∂y| = 200|y| does not "
              "change: over the last {count} steps ‖g‖ stays at {high:.4g} (it moves by {moves:.2g}), a flat line (just below "
              "the edge the bounce slowly dies out, just above it it slowly grows). Walls that flatten out, like the "
              "walled plateau's, let the bounce change its size from step to step. Even there a bounce that repeats "
              "every second step keeps ‖g‖ the same, because gradient descent's two points have opposite gradients "
              "(g_b = −g_a): try η = 0.005. Only a bounce that never repeats makes ‖g‖ jump, as at η = 10⁻².",
              count=flat.steps, high=flat.grad_high, moves=flat.grad_high - flat.grad_low))

# ---------------------------------------------------------------- one η for all directions
controls.section(tr("2. One learning rate cannot fit all directions"),
                 tr("A valley that is steep across and flat along is hard for any single η, even a convex one (the "
                    "elongated valley, the lecture's example). A large η bounces across the steep direction; a tiny η "
                    "is safe there but crawls along the flat one and is still far from the minimum after 100,000 "
                    "steps."))
c1, c2, c3 = st.columns(3)
large = controls.number_widget(ETA._replace(label=mark("large η")), "a_large", url, where=c1, default=1e-2)
small = controls.number_widget(ETA._replace(label=mark("tiny η")), "a_small", url, where=c2, default=1e-7)
long_steps = controls.int_input(tr("steps"), 10, optimizers.MAX_STEPS, 100_000, "a_long_steps", url, where=c3)
pair = compute.trajectories(surface, "gd", (start, start), long_steps, "constant", (), (("lr", (large, small)),))
target = compute.lowest_minimum(surface)
names = (tr("large η = {lr}", lr=controls.format_number(large)), tr("tiny η = {lr}", lr=controls.format_number(small)))
controls.divergence_warnings({n: pair._replace(diverged_at=pair.diverged_at[i:i + 1]) for i, n in enumerate(names)})
shown = min(long_steps, MAP_STEPS)
left, right = st.columns([6, 5])
with left:
    controls.chart(figures.add_critical_curves(figures.contour_figure(
        grid, [figures.PathSet(n, pair.path[i:i + 1, : shown + 1], pair.loss[i:i + 1, : shown + 1])
               for i, n in enumerate(names)],
        log_color=record.log_color, critical=critical, uirevision=f"{surface}-two", height=520), critical_curves),
        key="a_two_map")
    st.caption(tr("The map shows the first {shown:,} steps; the curve on the right all {steps:,}.", shown=shown,
                  steps=long_steps))
with right:
    if target is None:
        st.info(tr("This surface has no minimum in view to measure a distance to; the loss is shown instead."))
        curves = [figures.Series(n, pair.loss[i], i) for i, n in enumerate(names)]
        title, y_title = tr("Loss L(θᵗ)"), "L"
    else:
        distance = optimizers.distance_to(pair.path, target)
        curves = [figures.Series(n, distance[i], i) for i, n in enumerate(names)]
        title, y_title = tr("Distance to the minimum at ({x:.3g}, {y:.3g})", x=target[0], y=target[1]), "‖θᵗ − θ*‖"
    controls.chart(figures.step_curves_figure(curves, title=title, y_title=y_title, log_y=True, log_x=True,
                                              height=420), key="a_two_distance")
    if target is not None:
        final = [optimizers.last_finite(distance[i]) for i in range(2)]
        st.metric(tr("distance after {steps:,} steps, tiny η", steps=long_steps), f"{final[1]:.3g}",
                  help=tr("Where the tiny-η run ended; the large-η run ended at a distance of {distance:.3g}.",
                          distance=final[0]))

# ---------------------------------------------------------------- 2.2 per-parameter σ
controls.section(tr("3. A learning rate per parameter: Adagrad, RMSProp, Adam"),
                 tr("Divide the step of each parameter by σ, the size of its recent gradients: steep directions "
                    "(large σ) take small steps, flat ones (small σ) large steps. The rules differ in how σ is kept — "
                    "the lecture's forms and the library forms are both here and labelled."),
                 latex=r"\theta^{t+1}_i = \theta^t_i - \frac{\eta}{\sigma^t_i}\, g^t_i")
c1, c2, c3 = st.columns([3, 1, 1])
chosen = controls.multi_select(tr("optimizers"), ADAPTIVE, ADAPTIVE, "a_adaptive", url, where=c1,
                               format_func=lambda n: tr(optimizers.get(n).label))
eta = controls.number_widget(ETA._replace(default=0.1), "a_eta", url, where=c2,
                             help=tr("The same η for every optimizer: only σ differs."))
adaptive_steps = controls.int_input(tr("steps"), 10, 20_000, 300, "a_adaptive_steps", url, where=c3)
if not chosen:
    st.info(tr("Choose at least one optimizer above."))
else:
    runs = {name: compute.trajectory(surface, name, start, adaptive_steps, lr=eta) for name in chosen}
    labels = {name: tr(optimizers.get(name).label) for name in chosen}
    controls.divergence_warnings({labels[n]: r for n, r in runs.items()})
    left, right = st.columns([6, 5])
    adaptive_map = figures.contour_figure(
        grid, [figures.PathSet(labels[n], r.path, r.loss) for n, r in runs.items()], log_color=record.log_color,
        critical=critical, uirevision=f"{surface}-adaptive", height=600, max_frames=figures.frames_for(len(runs)))
    figures.add_critical_curves(adaptive_map, critical_curves)
    with left:
        controls.chart(adaptive_map, key="a_adaptive_map")
    with right:
        def per_parameter(values_of):
            return [figures.Series(f"{labels[n]}: σ{axis}", values_of(r)[0, :, j], i, dash, group=labels[n])
                    for i, (n, r) in enumerate(runs.items()) for j, (axis, dash) in enumerate((("ₓ", "solid"),
                                                                                              ("ᵧ", "dot")))]

        sigma = per_parameter(lambda r: r.sigma)
        controls.chart(figures.step_curves_figure(sigma, title=tr("σᵗ per parameter (solid: x, dotted: y)"),
                                                  y_title="σ", log_y=True, height=300), key="a_sigma")
        effective = per_parameter(optimizers.effective_lr)
        controls.chart(figures.step_curves_figure(effective, title=tr("Effective learning rate η / σᵗ per parameter"),
                                                  y_title="η/σ", log_y=True, height=300),
                       key="a_effective")
        st.caption(tr("Colours as in the map. In the steep direction y σ is large and the effective step small; "
                      "in the flat direction x the other way round."))
    controls.export_panel("adaptive", adaptive_map, tr("Adaptive optimizers"), list(labels.values()),
                          list(runs.values()), grid)
    with st.expander(tr("The update rules, as the lecture writes them and as libraries do"), expanded=False):
        for name in chosen:
            spec = optimizers.get(name)
            st.markdown(f"**{tr(spec.label)}** — {tr(spec.text)}")
            st.latex(spec.formula)

url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
