"""Adaptive learning rate: training stuck ≠ small gradient; one η per parameter (LECTURES 2.1–2.2)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
import surfaces
from i18n import join, mark, tr
from optimizers.registry import HyperParam

PAGE = "adaptive_learning_rate"
GRID = 120
ADAPTIVE = ["adagrad", "adagrad_sum", "rmsprop", "rmsprop_zero", "adam"]
MAP_STEPS = 150  # the map of section 2 shows every one of the first steps (no subsampling); the curve all
ETA = HyperParam("lr", "learning rate η", 0.01, 1e-7, 1.0, log=True)
# Finer stops around the two valleys' stability edges η = 2/λ_max (1-2-5 alone jumps 0.002 → 0.005 → 0.01 → 0.02):
# the walled plateau's 2/700 ≈ 0.00286 (2-cycle from there, chaos near 0.01) and the elongated valley's 10⁻².
EDGE_STOPS = (0.0025, 0.0028, 0.0029, 0.003, 0.004, 0.0057, 0.0058, 0.006, 0.007,
              0.008, 0.009, 0.0095, 0.0098, 0.0099, 0.0101, 0.0102, 0.0105, 0.011, 0.012)
QUADRATIC = ("elongated_valley", (-8.0, 1.2), 0.01, 300)  # the quadratic valley at its edge, for comparison
# Section 2 always runs on the lecture's convex example (LECTURES 2.1: "even a convex surface is hard when it is
# elongated"), whatever the page's surface: on the walled plateau "even a convex one" would not be true.
VALLEY, VALLEY_START = QUADRATIC[0], QUADRATIC[1]
AXES = (("x", "ₓ"), ("y", "ᵧ"))  # a parameter's name and σ's subscript for it
# Section 1 has its own start: from section 3's (−8, 0.5) gradient descent creeps along the plateau for ~1,000 steps
# (the floor's slope there is 0.067), so its loss never falls before it stalls; from (−4, 0.5) it falls into the
# well in ~17 steps and stalls there, bouncing between the walls. η = 0.008 (k = 2·350·η = 5.6): the bounce never
# repeats (‖g‖ turns up and down) yet never comes near the floor (‖g‖ ≥ 11 of the walls' 18.7; at 10⁻² it dips to 0.1).
STUCK_STARTS = {"walled_plateau": (-4.0, 0.5)}
STUCK_ETA = 0.008
# Every run of section 3 apart from every other in colour and in dash, on the map and the curves alike: by position
# the library Adagrad (blue dash) and Adam (sky-blue long dash) read as one line. Where two runs share a near
# colour (blue, sky blue) their dashes differ in kind (dots), and where near dashes, their colours (sand, sky blue).
STYLES = {"adagrad": (0, "solid"), "adagrad_sum": (1, "dash"), "rmsprop": (2, "dot"), "rmsprop_zero": (3, "dashdot"),
          "adam": (4, "longdashdot")}
LECTURE = {"surface": "walled_plateau", "ax_walled_plateau": -8.0, "ay_walled_plateau": 0.5,
           "a1x_walled_plateau": STUCK_STARTS["walled_plateau"][0], "a1y_walled_plateau": STUCK_STARTS["walled_plateau"][1],
           "a_lr": STUCK_ETA, "a_steps": 300, "a_large": 0.01, "a_small": 1e-7, "a_long_steps": 100_000,
           "a_adaptive": ADAPTIVE, "a_eta": 0.1, "a_adaptive_steps": 300}

notes, url, surface, record = controls.page_start(PAGE, tr("Adaptive learning rate"), tr(
    "When the loss stops falling the gradient is not necessarily small, and one learning rate cannot suit "
    "a steep and a flat direction at once: give every parameter its own."),
    LECTURE, "a_preset", tr("Lecture example: the walled plateau, η = 10⁻² and 10⁻⁷"), surface="walled_plateau")

with st.sidebar:
    start = controls.start_input("a", surface, record, url)
    controls.caption(tr("Section 3 starts here; section 1 has its own start in its settings, and section 2 runs on "
                        "the lecture's elongated valley."))
controls.stop_unless_defined(surface, start, notes, url)

grid = compute.surface_grid(surface, GRID)
critical_curves, critical = compute.critical_set(surface)  # a continuum of minima is a curve, not points
with controls.prose():
    controls.surface_text(record)
    st.latex(record.formula)

# ---------------------------------------------------------------- 2.1 stuck ≠ small gradient
controls.section(tr("1. Training stuck ≠ small gradient"),
                 join(tr("The loss can stop falling while the gradient stays large: the parameters bounce from one "
                         "wall of a valley to the other and never get down to its floor. Plot the gradient norm beside "
                         "the loss before you blame a critical point."),
                      # the default named from the default itself (the surface's text names no η: it said 10⁻²)
                      tr("On the walled plateau, at this section's default η = {eta}, gradient descent does just that.",
                         eta=controls.format_number(STUCK_ETA)) if surface in STUCK_STARTS else ""),
                 anchor="lecture-2-1")
with controls.settings():  # on a projector folded: the curves under them fill the first screen
    c1, c2 = st.columns(2)
    edge = compute.stability_edge(surface)
    lr = controls.number_widget(ETA, "a_lr", url, where=c1, stops=EDGE_STOPS, default=STUCK_ETA,
                                help=tr("The steepest curvature at this surface's lowest minimum is λ_max = {curvature:.3g}: "
                                        "gradient descent can settle there only for η < 2/λ_max = {edge:.3g}.",
                                        curvature=2 / edge, edge=edge) if edge else None)
    steps = controls.int_input(tr("steps"), 10, 5000, 300, "a_steps", url, where=c2)
    stuck_start = controls.point_input((tr("start x"), tr("start y")), record.domain,
                                       STUCK_STARTS.get(surface, record.starts[0]),
                                       lambda axis: controls.surface_point_key("a1")(surface, axis), url)
stuck = compute.trajectory(surface, "gd", stuck_start, steps, lr=lr)
label = tr("Gradient descent, η = {lr}", lr=controls.format_number(lr))
controls.divergence_warnings({label: stuck})
# The map below animates the first steps only (MAP_STEPS): both curves' cursors start at its last frame, `first`.
first = min(steps, MAP_STEPS - 1)
c1, c2 = st.columns(2)
with c1:
    controls.chart(figures.step_curves_figure([figures.Series(label, stuck.loss, 0)], title=tr("Loss L(θᵗ)"),
                                              y_title="L", log_y=figures.wide_range(stuck.loss, 100),
                                              y_from_zero=True, cursor=first), key="a_stuck_loss", follows="a_stuck_map")
with c2:
    controls.chart(figures.step_curves_figure([figures.Series(label, stuck.grad_norm, 0)],  # one colour per run
                                              title=tr("Gradient norm ‖∇L(θᵗ)‖"), y_title="‖g‖",
                                              log_y=figures.wide_range(stuck.grad_norm, 100), y_from_zero=True,
                                              cursor=first),
                   key="a_stuck_grad", follows="a_stuck_map")
stall = optimizers.stall_report(stuck.loss[0], stuck.grad_norm[0])
fall = optimizers.loss_fall(stuck.loss[0], stuck.grad_norm[0], stall)
# The bounce itself: where the path goes while the loss stalls (the curves above only say that it does).
# Every step drawn (no subsampling): every third point of a bounce would draw a path that does not bounce. A map
# animates at most MAP_STEPS points, θ⁰ included, so MAP_STEPS − 1 steps (``first``, above).
controls.chart(figures.add_critical_curves(figures.contour_figure(
    grid, [figures.PathSet(label, stuck.path[:, : first + 1], stuck.loss[:, : first + 1])],
    log_color=record.log_color, equalize=record.equalize_color, critical=critical, uirevision=f"{surface}-stuck",
    height=420, max_frames=MAP_STEPS, title=tr("The first {shown:,} steps: wall to wall", shown=first)),
    critical_curves), key="a_stuck_map")
controls.caption(tr("The loss falls from {start:.3g} to {high:.3g} or less by step {step} and then stops falling: over "
                    "the last {count} steps it stays between {low:.2g} and {high:.3g} while the gradient norm stays "
                    "between {grad_low:.3g} and {grad_high:.3g}, turning from rising to falling or back at {turns:.0%} "
                    "of the steps. The map shows why: the path bounces from one wall to the other.",
                    start=fall.start, high=fall.high, step=fall.step, count=stall.steps, low=fall.low,
                    grad_low=stall.grad_low, grad_high=stall.grad_high, turns=stall.grad_turns)
                 if fall.stuck and not stall.gradient_steady else
                 tr("Over the last {count} steps the loss changed by {change:.3g} while the gradient norm stayed at about "
              "{high:.3g}.", count=stall.steps, change=stall.loss_change, high=stall.grad_high)
           if stall.gradient_steady else
           tr("Over the last {count} steps the loss changed by {change:.3g} ({spread:.1%} of its mean {mean:.4g}) while "
              "the gradient norm jumped between {low:.3g} and {high:.3g} (a factor of {ratio:.3g}), turning from rising "
              "to falling or back at {turns:.0%} of the steps.", count=stall.steps, change=stall.loss_change,
              spread=stall.loss_spread, mean=stall.loss_mean, low=stall.grad_low, high=stall.grad_high,
              ratio=stall.grad_ratio, turns=stall.grad_turns))
quadratic = compute.trajectory(QUADRATIC[0], "gd", QUADRATIC[1], QUADRATIC[3], lr=QUADRATIC[2])
flat = optimizers.stall_report(quadratic.loss[0], quadratic.grad_norm[0])
controls.caption(tr("Why the walls' shape matters: on a quadratic valley a bounce cannot make ‖g‖ jump up and down; "
                    "walls that flatten out, like the walled plateau's, can."))
with st.expander(tr("Why, precisely: the quadratic valley and two-step bounces"), expanded=False):
    st.caption(tr("On a quadratic valley ‖g‖ cannot oscillate under gradient descent. On the "
                  "elongated valley at its edge (η = 10⁻², from (−8, 1.2)) every step flips y, so |∂L/∂y| = 200|y| does not "
                  "change: over the last {count} steps ‖g‖ stays at {high:.4g} (it moves by {moves:.2g}), a flat line (just below "
                  "the edge the bounce slowly dies out, just above it it slowly grows). Walls that flatten out, like the "
                  "walled plateau's, let the bounce change its size from step to step. Even there a bounce that repeats "
                  "every second step keeps ‖g‖ the same, because gradient descent's two points have opposite gradients "
                  "(g_b = −g_a): try η = 0.005. Only a bounce that never repeats makes ‖g‖ jump, as at this section's η = 0.008 or at 10⁻².",
                  count=flat.steps, high=flat.grad_high, moves=flat.grad_high - flat.grad_low))

# ---------------------------------------------------------------- one η for all directions
valley = surfaces.get(VALLEY)
controls.section(tr("2. One learning rate cannot fit all directions"),
                 tr("A valley that is steep across and flat along is hard for any single η, even a convex one. This "
                    "section always runs on the lecture's example, **{valley}**, from ({x:g}, {y:g}), whatever surface "
                    "the page shows: a large η bounces across the steep direction y; a tiny η is safe there but crawls "
                    "along the flat direction x and is still far from the minimum after 100,000 steps.",
                    valley=tr(valley.title),
                    x=VALLEY_START[0], y=VALLEY_START[1]),
                 latex=valley.formula)
c1, c2, c3 = st.columns(3)
large = controls.number_widget(ETA._replace(label=mark("large η")), "a_large", url, where=c1, default=1e-2)
small = controls.number_widget(ETA._replace(label=mark("tiny η")), "a_small", url, where=c2, default=1e-7)
long_steps = controls.int_input(tr("steps"), 10, optimizers.MAX_STEPS, 100_000, "a_long_steps", url, where=c3)
pair = compute.trajectories(VALLEY, "gd", (VALLEY_START, VALLEY_START), long_steps, "constant", (),
                            (("lr", (large, small)),))
target = compute.lowest_minimum(VALLEY)
names = (tr("large η = {lr}", lr=controls.format_number(large)), tr("tiny η = {lr}", lr=controls.format_number(small)))
controls.divergence_warnings({n: pair._replace(diverged_at=pair.diverged_at[i:i + 1]) for i, n in enumerate(names)})
shown = min(long_steps, MAP_STEPS)
valley_curves, valley_critical = compute.critical_set(VALLEY)
left, right = st.columns([6, 5])
with left:
    controls.chart(figures.add_critical_curves(figures.contour_figure(
        compute.surface_grid(VALLEY, GRID),
        [figures.PathSet(n, pair.path[i:i + 1, : shown + 1], pair.loss[i:i + 1, : shown + 1])
         for i, n in enumerate(names)],
        log_color=valley.log_color, equalize=valley.equalize_color, critical=valley_critical,
        uirevision=f"{VALLEY}-two", height=520, title=tr(valley.title)), valley_curves), key="a_two_map")
    controls.caption(tr("The map shows the first {shown:,} steps; the curve on the right all {steps:,}.", shown=shown,
                  steps=long_steps))
with right:
    distance = optimizers.distance_to(pair.path, target)
    controls.chart(figures.step_curves_figure(
        [figures.Series(n, distance[i], i, figures.path_dash(i)) for i, n in enumerate(names)],
        title=tr("Distance to the minimum at ({x:.3g}, {y:.3g})", x=target[0], y=target[1]), y_title="‖θᵗ − θ*‖",
        log_y=True, log_x=True, height=420), key="a_two_distance")
    final = [optimizers.last_finite(distance[i]) for i in range(2)]
    st.metric(tr("distance after {steps:,} steps, tiny η", steps=long_steps), f"{final[1]:.3g}",
              help=tr("Where the tiny-η run ended; the large-η run ended at a distance of {distance:.3g}.",
                      distance=final[0]))

# ---------------------------------------------------------------- 2.2 per-parameter σ
controls.section(tr("3. A learning rate per parameter: Adagrad, RMSProp, Adam"),
                 tr("Divide the step of each parameter by σ, the size of its recent gradients: steep directions "
                    "(large σ) take small steps, flat ones (small σ) large steps. The rules differ in how σ is kept — "
                    "the lecture's forms and the library forms are both here and labelled."),
                 latex=r"\theta^{t+1}_i = \theta^t_i - \frac{\eta}{\sigma^t_i}\, g^t_i", anchor="lecture-2-2")
# The multiselect has a row of its own: in a third of the width it showed 2½ of its 5 chips ("RMSP…").
chosen = controls.multi_select(tr("optimizers"), ADAPTIVE, ADAPTIVE, "a_adaptive", url,
                               format_func=lambda n: tr(optimizers.get(n).label))
c1, c2 = st.columns(2)
eta = controls.number_widget(ETA._replace(default=0.1), "a_eta", url, where=c1,
                             help=tr("The same η for every optimizer: only σ differs."))
adaptive_steps = controls.int_input(tr("steps"), 10, 20_000, 300, "a_adaptive_steps", url, where=c2)
if not chosen:
    st.info(tr("Choose at least one optimizer above."))
else:
    runs = {name: compute.trajectory(surface, name, start, adaptive_steps, lr=eta) for name in chosen}
    labels = {name: tr(optimizers.get(name).label) for name in chosen}
    controls.divergence_warnings({labels[n]: r for n, r in runs.items()})
    left, right = st.columns([6, 5])
    adaptive_map = figures.contour_figure(
        grid, [figures.PathSet(labels[n], r.path, r.loss, *STYLES[n]) for n, r in runs.items()],
        log_color=record.log_color,
        equalize=record.equalize_color, critical=critical, uirevision=f"{surface}-adaptive", height=600,
        title=tr(record.title),
        max_frames=figures.frames_for(len(runs)))
    figures.add_critical_curves(adaptive_map, critical_curves)
    with left:
        controls.chart(adaptive_map, key="a_adaptive_map")
    rmsprop = ("rmsprop", "rmsprop_zero")
    together = (optimizers.agreement(runs[rmsprop[0]].sigma[0], runs[rmsprop[1]].sigma[0])
                if all(n in runs for n in rmsprop) else None)
    # Two lines drawn on top of each other look like one: the legend of the curves says so where it happens. Short:
    # the charts are in the narrower of two columns, where "{name} — on top of {other} from step {step}" was cut
    # before its step in English and earlier in Chinese (tests/test_i18n.py checks the width).
    legend = dict(labels)
    if together is not None and together.step >= 0:
        legend[rmsprop[1]] = tr("{name} = lecture form from step {step}", name=labels[rmsprop[1]], step=together.step)
    with right:
        # x and y are told apart by their panels: colour and dash stay the run's own, as on the map.
        def per_parameter(values_of):
            return [figures.Series(legend[n], values_of(r)[0], *STYLES[n], group=legend[n]) for n, r in runs.items()]

        panels = [tr("along {axis}", axis=axis) for axis, _ in AXES]
        controls.chart(figures.per_parameter_figure(per_parameter(lambda r: r.sigma), title=tr("σᵗ per parameter"),
                                                    y_title="σ", panels=panels, height=280), key="a_sigma")
        controls.chart(figures.per_parameter_figure(per_parameter(optimizers.effective_lr),
                                                    title=tr("Effective learning rate η / σᵗ per parameter"),
                                                    y_title="η/σ", panels=panels, height=280), key="a_effective")
        orders = []
        for n, r in runs.items():
            order = optimizers.sigma_order(r)
            if order.leader < 0:
                continue
            (lead, lead_sub), (_, other_sub) = AXES[order.leader], AXES[1 - order.leader]
            orders.append("- " + (
                tr("**{name}**: σ{lead} > σ{other} (the smaller steps along {axis}) at all {steps:,} steps.",
                   name=labels[n], lead=lead_sub, other=other_sub, axis=lead, steps=order.steps)
                if order.swap < 0 else
                tr("**{name}**: σ{lead} > σ{other} (the smaller steps along {axis}) up to step {last}; at step {swap}, "
                   "at ({x:.2g}, {y:.2g}), σ{other} overtakes it for good.", name=labels[n], lead=lead_sub,
                   other=other_sub, axis=lead, last=order.swap - 1, swap=order.swap, x=order.swap_point[0],
                   y=order.swap_point[1])
                if order.leader_after == 0 else
                tr("**{name}**: σ{lead} > σ{other} (the smaller steps along {axis}) up to step {last}; from step "
                   "{swap}, at ({x:.2g}, {y:.2g}), the two trade places back and forth: of the {left:,} steps from "
                   "there σ{other} is the larger at {other_share:.0%}, σ{lead} at the other {share:.0%}.",
                   name=labels[n], lead=lead_sub, other=other_sub, axis=lead, last=order.swap - 1, swap=order.swap,
                   x=order.swap_point[0], y=order.swap_point[1], left=order.steps - order.swap,
                   other_share=1 - order.leader_after, share=order.leader_after)))
        coincide = (tr("The two RMSProp forms differ only in how σ starts (σ⁰ = |g⁰|, or an average from 0): their σ "
                       "differ by up to {largest:.0%} and agree within 1 % from step {step} on, where their lines lie "
                       "on top of each other.", largest=together.largest, step=together.step)
                    if together is not None and together.step >= 0 else "")
        controls.caption(join(tr("Colours and dashes as in the map. σ is large along the directions that were steep on "
                           "a run's way, and there the step is small; which direction that is can change as the path "
                           "reaches other ground (Adagrad's σ keeps all its history, RMSProp's and Adam's recent "
                           "gradients):"), "\n\n" + "\n".join(orders) + ("\n\n" + coincide if coincide else "")))
    controls.export_panel("adaptive", adaptive_map, tr("Adaptive optimizers"), list(labels.values()),
                          list(runs.values()), grid)
    with st.expander(tr("The update rules, as the lecture writes them and as libraries do"), expanded=False):
        for name in chosen:
            spec = optimizers.get(name)
            st.markdown(f"**{tr(spec.label)}** — {tr(spec.text)}")
            st.latex(spec.formula)

url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
