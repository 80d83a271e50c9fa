"""Momentum: a ball that rolls through small hills and plateaus (LECTURES 1.6)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
from i18n import join, tr
from optimizers.registry import MOMENTUM, HyperParam

PAGE = "momentum"
GRID = 120
MAX_STEPS = 5000
MAX_BARS = 40
LECTURE = {"surface": "local_minima", "mx_local_minima": 2.3, "my_local_minima": 1.5, "m_steps": 300,
           "m_lr": 0.01, "m_momentum": 0.9, "m_t": 40}  # m_t: optimizers.clearest_step there (tested)

notes, url, surface, record = controls.page_start(PAGE, tr("Momentum"), tr(
    "A ball rolling downhill does not stop at the first dip: it carries its speed over small hills "
    "and across plateaus. Gradient descent with momentum does the same."),
    LECTURE, "m_preset", tr("Lecture example: a small hill between two minima"), surface="local_minima",
    anchors=("lecture-1-6",))

with st.sidebar:
    # Off the x axis: the path bends, so the two parts of a step are not collinear (their triangle shows).
    start = sx, sy = controls.start_input("m", surface, record, url)
    steps = controls.int_input(tr("Steps"), 2, MAX_STEPS, 300, "m_steps", url)
    lr = controls.number_widget(HyperParam("lr", "learning rate η", 0.01, 1e-4, 1.0, log=True), "m_lr", url)
    lam = controls.number_widget(MOMENTUM, "m_momentum", url)

controls.stop_unless_defined(surface, start, notes, url)
with controls.prose():
    c1, c2 = st.columns(2)
    c1.markdown(tr("**Gradient descent**"))
    c1.latex(optimizers.get("gd").formula)
    c2.markdown(tr("**With momentum** (the lecture's form)"))
    c2.latex(optimizers.get("momentum").formula)
    st.markdown(tr("Each movement is λ times the last movement minus η times the current gradient. Where the "
                   "gradient vanishes — at the bottom of a shallow dip, on a plateau, at a saddle — the last movement "
                   "keeps the parameters going."))
    controls.surface_text(record)

grid = compute.surface_grid(surface, GRID)
critical_curves, critical = compute.critical_set(surface)  # a continuum of minima is a curve, not points
gd, mom, parts, grads = compute.momentum_anatomy(surface, start, steps, lr, lam)
labels = (tr("Gradient descent"), tr("Momentum λ = {momentum:g}", momentum=lam))
sets = [figures.PathSet(labels[0], gd.path, gd.loss), figures.PathSet(labels[1], mom.path, mom.loss)]
controls.divergence_warnings(dict(zip(labels, (gd, mom))))

# Recipes, not figures: every session that asks for this state is served one build (controls.render_once).
race_map = controls.Recipe(figures.add_critical_curves, controls.Recipe(
    figures.contour_figure, grid, sets, log_color=record.log_color, equalize=record.equalize_color,
    critical=critical, uirevision=surface, height=560, title=tr(record.title)), critical_curves)
left, right = st.columns([6, 5])
with left:
    controls.chart(race_map, key="m_contour")
    controls.export_panel("momentum", race_map, tr("Gradient descent vs momentum"), list(labels), [gd, mom], grid)
with right:
    controls.chart(controls.Recipe(figures.step_curves_figure, [figures.Series(labels[0], gd.loss, 0),
                                                                figures.Series(labels[1], mom.loss, 1)],
                                   title=tr("Loss L(θᵗ)"), y_title="L", height=300, cursor=True),
                   key="m_loss", follows="m_contour")  # its cursor at the map's step
    rows = []
    for label, run in zip(labels, (gd, mom)):
        s = optimizers.summarize(run.path[0], run.loss[0], run.grad_norm[0], int(run.diverged_at[0]), critical, 1e-3)
        rows.append({tr("run"): label, tr("final loss"): f"{s.final_loss:.4g}",
                     tr("ended near"): (tr("{kind} at ({x:.3g}, {y:.3g})", kind=tr(s.nearest_kind),
                                           x=s.nearest_point[0], y=s.nearest_point[1]) if s.nearest_point else "—")})
    st.dataframe(rows, hide_index=True, width="stretch")

@st.fragment  # its step slider reruns this section only, not the race above
def anatomy_section():
    st.subheader(tr("One step, taken apart"))
    t = controls.int_slider(tr("step t"), 0, steps - 1, optimizers.clearest_step(parts), "m_t", url,
                            help=tr("Move through the momentum run: the arrows show how step t → t+1 is made."))
    theta = mom.path[0, t]
    if 0 <= mom.diverged_at[0] <= t:
        st.info(tr("The momentum run diverged before step {step}; pick an earlier step.", step=t))
    else:
        arrows, scale = figures.step_arrows(
            theta, (parts.carried[t], parts.gradient_step[t], parts.movement[t]),
            (figures.PATH_COLORS[1], figures.PATH_COLORS[0], figures.PATH_COLORS[2]), ("λ·mᵗ", "−η·gᵗ", "mᵗ⁺¹"),
            record.span, share=0.25, widths=(2.5, 2.5, 4))
        # Tip to tail: λmᵗ from θᵗ, −ηgᵗ from its tip, their sum closing the triangle (collinear parts hid each other).
        arrows = figures.step_triangle(theta, parts.carried[t], parts.gradient_step[t], scale,
                                       [a.color for a in arrows], [a.text for a in arrows], [a.width for a in arrows])
        c1, c2 = st.columns([6, 5])
        with c1:
            fig = controls.Recipe(figures.contour_figure, grid, sets, log_color=record.log_color,
                                  equalize=record.equalize_color, critical=critical, animate=False,
                                  uirevision=f"{surface}-anatomy", height=480, title=tr(record.title))
            fig = controls.Recipe(figures.mark_point, fig, theta, arrows, f"θ<sup>{t}</sup>")
            controls.chart(controls.Recipe(figures.add_critical_curves, fig, critical_curves), key="m_anatomy")
            controls.caption(f"$\\theta^{{{t}}}$ = ({theta[0]:.3g}, {theta[1]:.3g}). "
                       + tr("Arrows drawn {scale:.3g}× their true length, tip to tail. Blue: the last movement, scaled "
                            "by λ. Red, from its tip: the negative gradient, scaled by η. Green: their sum, the actual "
                            "movement — the triangle's third side.", scale=scale))
        with c2:
            v = lambda a: rf"\begin{{pmatrix}} {a[0] + 0.0:.3g} \\ {a[1] + 0.0:.3g} \end{{pmatrix}}"  # noqa: E731 (+0.0: no −0)
            st.latex(rf"\underbrace{{{v(parts.movement[t])}}}_{{m^{{{t + 1}}}}} = "
                     rf"\underbrace{{{v(parts.carried[t])}}}_{{\lambda m^{{{t}}}}} + "
                     rf"\underbrace{{{v(parts.gradient_step[t])}}}_{{-\eta g^{{{t}}}}}")
            shown = min(t, MAX_BARS)
            if t == 0:
                st.markdown(tr("At t = 0 there is no past movement: m¹ = −ηg⁰, the same step as gradient descent."))
            else:
                controls.chart(controls.Recipe(figures.weights_figure, optimizers.momentum_weights(lam, t)[:shown], t, lam),
                               key="m_weights")
                controls.caption(join(tr("{m} is a weighted sum of all earlier gradients, {sum}: the newest weighs 1, older ones "
                                   "fade by λ per step.", m=f"$m^{{{t}}}$",
                                   sum=rf"$m^{{{t}}} = -\eta \sum_{{k=0}}^{{{t - 1}}} \lambda^k g^{{{t - 1}-k}}$"),
                                tr("(The newest {count} shown.)", count=MAX_BARS) if t > MAX_BARS else ""))


anatomy_section()

st.subheader(tr("A ball on a curve"))
direction, s, profile, line_gd, line_mom = compute.line_race(surface, start, steps, lr, lam)
runs = [figures.LinePath(labels[0], line_gd.s, line_gd.loss), figures.LinePath(labels[1], line_mom.s, line_mom.loss)]
controls.chart(controls.Recipe(figures.line_race_figure, s, profile, runs), key="m_line")
controls.caption(tr("The loss along the line through the start ({x:.3g}, {y:.3g}) in direction ({ux:.2f}, {uy:.2f}) — "
              "towards where the momentum run ended — and both optimizers run on that 1-D slice with the same η and λ. "
              "Press Play.", x=sx, y=sy, ux=direction[0], uy=direction[1]))

url.show(notes)  # last: every widget has read its link value
