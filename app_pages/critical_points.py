"""Critical points and the Hessian; escaping a saddle (LECTURES 1.1–1.4)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
import surfaces
from i18n import join, tr
from optimizers.registry import HyperParam

GRID = 120
PAGE = "critical_points"
RATIO_DATASET = "moons"  # the minimum-ratio experiment's data (networks.saddle_study's default network)
point_key = controls.surface_point_key("p")  # point_key(surface, axis): a widget key per surface
LECTURE = {"surface": "lecture_saddle", "px_lecture_saddle": 0.0, "py_lecture_saddle": 0.0, "radius": 0.5}



def pick_critical():
    """Selectbox callback: move the picked point onto the chosen critical point."""
    s, choice = st.session_state["surface"], st.session_state.get("cp_pick")
    found = compute.critical_set(s)[1]
    if choice is not None and 0 <= choice < len(found):
        st.session_state[point_key(s, "x")] = round(float(found[choice].point[0]), 4)
        st.session_state[point_key(s, "y")] = round(float(found[choice].point[1]), 4)

notes, url, surface, record = controls.page_start(PAGE, tr("Critical points and the Hessian"), tr(
    "Where the gradient vanishes, training stalls — but not always at a minimum. "
    "The Hessian's eigenvalues tell a minimum from a maximum from a saddle point."),
    LECTURE, "cp_preset", tr("Lecture example: L = (1 − w₁w₂)², θ' = origin"), surface="lecture_saddle",
    anchors=("lecture-1-1", "lecture-1-2"))

with st.sidebar:
    curves, critical = compute.critical_set(surface)  # a continuum of critical points is a curve, not points
    st.markdown(tr("**Picked point θ'** (or click the map)"))
    px, py = controls.point_input(("x", "y"), record.domain, record.home,
                                  lambda axis: point_key(surface, axis), url, step=0.05, fmt="%.4f")
    st.selectbox(tr("…or jump to a critical point"), range(len(critical)), index=None, key="cp_pick",
                 on_change=pick_critical, placeholder=tr("choose from the table"),
                 format_func=lambda i: tr("{k}. {kind} at ({x:.3g}, {y:.3g})", k=i + 1, kind=tr(critical[i].kind),
                                          x=critical[i].point[0], y=critical[i].point[1]))

point = (px, py)
controls.stop_unless_defined(surface, point, notes, url)
with controls.prose():
    st.markdown(tr("Around a point θ′ the loss is, to second order,"))
    st.latex(r"L(\theta) \approx L(\theta') + (\theta-\theta')^\top g + \tfrac12 (\theta-\theta')^\top H (\theta-\theta'),"
             r"\qquad g = \nabla L(\theta'),\ H = \nabla^2 L(\theta').")
    st.markdown(tr("At a critical point g = 0 and H decides: all eigenvalues positive → **local minimum**, all "
                   "negative → **local maximum**, mixed signs → **saddle point**; a (near-)zero eigenvalue → "
                   "**degenerate**: second order cannot tell, higher-order terms decide."))
    st.latex(record.formula)
    controls.surface_text(record)

a = compute.point_analysis(surface, point)
grid = compute.surface_grid(surface, GRID)
# One view at a time: the 3-D scene (software WebGL on many machines) is drawn only when asked for.
view = controls.view_select("cp_view", help=tr("3-D draws more slowly (WebGL); a click on the contour map picks θ′"))
left, right = st.columns([6, 5])
with left:
    fig = figures.contour_figure(grid, [], log_color=record.log_color, equalize=record.equalize_color, critical=critical,
                                 click_grid=40, uirevision=surface, animate=False, height=520, critical_legend=True,
                                 title=tr(record.title))
    figures.add_critical_curves(fig, curves)
    figures.mark_point(fig, point, figures.eigen_arrows(a.point, a.eigenvalues, a.eigenvectors, record.span))
    if view == "3-D":
        controls.chart(figures.add_critical_curves(
            figures.surface3d_figure(grid, [], log_color=record.log_color, critical=critical, uirevision=surface,
                                     height=520, title=tr(record.title)), curves, grid, record.log_color),
            key="cp_surface3d")
    else:
        controls.chart(fig, key="cp_contour", on_select=controls.point_from_click("cp_contour", point_key("{surface}", "{axis}")),
                       selection_mode="points")
    controls.caption(tr("○ minimum · △ maximum · × saddle · □ degenerate; a magenta line is a valley of minima (every "
                  "point on it a minimum, degenerate along it). ★ is θ′; the arrows are H's eigenvectors, length ∝ |λ| "
                  "(blue: λ > 0, curving up; red: λ < 0, curving down)."))
    controls.export_panel("critical_points", fig, tr("{surface}: critical points", surface=tr(record.title)),
                          grid=grid)
with right:
    st.subheader(tr("At θ′ = ({x:.4g}, {y:.4g})", x=px, y=py))
    m1, m2, m3 = st.columns([1, 1, 2])
    m1.metric("L(θ′)", f"{a.value:.4g}")
    m2.metric("‖g‖", f"{a.gradient_norm:.3g}")
    m3.metric(tr("minimum ratio (share of λ > 0)"), f"{a.minimum_ratio:.2g}")
    signs = surfaces.eigenvalue_signs(a.eigenvalues)
    if signs.zero:
        controls.caption(tr("{positive} positive, {zero} zero, {negative} negative: a zero eigenvalue is not positive, so a "
                      "degenerate minimum has a ratio below 1. Of the non-zero eigenvalues a share of {share:.2g} is "
                      "positive.", positive=signs.positive, zero=signs.zero, negative=signs.negative,
                      share=signs.nonzero_positive_share))
    h = a.hessian
    st.latex(rf"g = \begin{{pmatrix}} {a.gradient[0]:.4g} \\ {a.gradient[1]:.4g} \end{{pmatrix}},\quad "
             rf"H = \begin{{pmatrix}} {h[0, 0]:.4g} & {h[0, 1]:.4g} \\ {h[1, 0]:.4g} & {h[1, 1]:.4g} \end{{pmatrix}}")
    v = a.eigenvectors
    for i in range(2):
        st.latex(rf"\lambda_{i + 1} = {a.eigenvalues[i]:.4g},\quad u_{i + 1} = \begin{{pmatrix}} {v[0, i] + 0.0:.3f} "
                 rf"\\ {v[1, i] + 0.0:.3f} \end{{pmatrix}}")
    if a.kind == "not critical":
        st.info(tr("Not a critical point: ‖g‖ = {norm:.3g} ≥ {limit:g}. The gradient term still moves you; the "
                   "eigenvalues describe the curvature here. Pick a point from the table to see a critical one.",
                   norm=a.gradient_norm, limit=surfaces.CRITICAL_GRADIENT))
    elif a.kind == "degenerate":
        st.warning(tr("**Degenerate** critical point: an eigenvalue is (numerically) zero, so along its eigenvector "
                      "the second-order term is flat and cannot say whether L rises or falls. Higher-order terms "
                      "decide (on the lecture's curve w₁w₂ = 1 every point is a minimum)."))
    else:
        st.success(join(tr("**{kind}**: eigenvalues {a:.3g} and {b:.3g}.", kind=tr(a.kind).capitalize(),
                           a=a.eigenvalues[0], b=a.eigenvalues[1]),
                        {"minimum": tr("Every direction curves up."), "maximum": tr("Every direction curves down."),
                      "saddle": tr("Up along one eigenvector, down along the other: step along the negative one "
                                   "to escape (below).")}[a.kind]))

st.markdown(tr("**Critical points found** (Newton's method from a grid of seeds, then de-duplicated; "
               "classified by the Hessian's eigenvalues)"))
ZERO = tr("λ ≈ 0 (counted apart)")
st.dataframe([{"#": i + 1, tr("kind"): tr(c.kind), tr("point"): f"({c.point[0]:.4g}, {c.point[1]:.4g})",
               "L": f"{c.value:.4g}", "λ₁": f"{c.eigenvalues[0]:.4g}", "λ₂": f"{c.eigenvalues[1]:.4g}",
               tr("minimum ratio"): f"{surfaces.minimum_ratio(c.eigenvalues):.2g}",
               ZERO: surfaces.eigenvalue_signs(c.eigenvalues).zero} for i, c in enumerate(critical)]
             + [{"#": len(critical) + k + 1, tr("kind"): tr(c.kind),
                 tr("point"): tr("a curve ({count} branches)", count=c.branches),
                 "L": f"{c.value:.4g}", "λ₁": "0", "λ₂": f"{c.across[0]:.3g} … {c.across[1]:.3g}",
                 tr("minimum ratio"): "0.5", ZERO: 1} for k, c in enumerate(curves)],
             hide_index=True, width="stretch")
if curves:
    controls.caption(tr("On a curve of critical points one eigenvalue is 0 (along the curve) and the other is not (across "
                  "it): the minimum ratio is ½ although every point is a minimum. The zero eigenvalues are counted "
                  "in their own column."))

@st.fragment  # its window slider reruns this section only, not the page (a class shares one server)
def quadratic_section():
    st.subheader(tr("The quadratic picture, and where it holds"))
    c1, c2 = st.columns(2)
    with c1:  # the window's slider over the figure it changes
        radius = controls.number_widget(HyperParam("radius", "Taylor window half-width",
                                                   *surfaces.taylor_radius(record.span)), "radius", url)
        local = compute.local_quadratic(surface, point, radius)
        # A map by default: the 3-D scene (software WebGL on many machines) costs the page's first draw ~1.5 s.
        taylor_view = controls.view_select("cp_taylor_view", help=tr("3-D draws more slowly (WebGL)"))
        # Side by side with the signature map: each map names what it shows
        taylor_title = tr("The Taylor window around θ′: L and its quadratic Q")
        if taylor_view == "3-D":
            controls.chart(figures.taylor_figure(local, uirevision=f"{surface}-taylor", title=taylor_title),
                           key="cp_taylor")
        else:
            controls.chart(figures.taylor_map_figure(local, uirevision=f"{surface}-taylor-map", title=taylor_title),
                           key="cp_taylor_map")
        shrink = (tr("On half the window it is {half:.3g}: {factor:.3g}× smaller, so the gap grows like the "
                     "width to the power {order:.2f} — at least 3 for a smooth surface (the first term Q leaves out is "
                     "cubic), 4 where every third derivative vanishes, as at the lecture's saddle.",
                     half=local.half_window_error, factor=local.shrink_factor, order=local.error_order)
                  if not local.is_exact
                  else tr("Here L is its own quadratic: the gap is rounding, and does not shrink with the window."))
        picture = (tr("True surface (grey) and its Taylor quadratic around θ′ (orange mesh) on θ′ ± {radius:g}. "
                      "Largest gap |L − Q| on this window: **{gap:.3g}**.", radius=radius, gap=local.max_abs_error)
                   if taylor_view == "3-D" else
                   tr("The window θ′ ± {radius:g}: L shaded, its contour lines blue, and the Taylor quadratic Q's lines "
                      "at the same levels orange and dashed. Where they lie on each other Q is the surface's picture; "
                      "where they part it is not. The ring marks the largest gap |L − Q| on this window: **{gap:.3g}**.",
                      radius=radius, gap=local.max_abs_error))
        controls.caption(join(picture, shrink))
    with c2:
        counts = surfaces.positive_count(grid.eig_min, grid.eig_max)
        controls.chart(figures.add_critical_curves(figures.signature_figure(
            grid.xs, grid.ys, counts, critical, point,
            title=tr("The Hessian's signature: how many eigenvalues are positive")), curves), key="cp_signature")
        controls.caption(tr("The Hessian's signature at every point: blue where both eigenvalues are positive (locally "
                      "convex), white where they have mixed signs, red where both are negative. The minimum ratio is "
                      "1, ½ and 0."))


quadratic_section()

st.subheader(tr("Escaping a saddle point"), anchor=controls.section_anchor(PAGE, "lecture-1-3"))
st.markdown(tr("If u is an eigenvector of H with eigenvalue λ < 0, then uᵀHu = λ‖u‖² < 0, so near the saddle "
               "L(θ′ + u) < L(θ′): one step along u goes downhill where the gradient is almost zero. In practice H "
               "is too expensive in high dimensions; noise (small batches) and momentum do the escaping."))
st.latex(r"u^\top H u = \lambda \lVert u \rVert^2 < 0 \;\Rightarrow\; L(\theta' + u) < L(\theta')")
@st.fragment  # its settings rerun this section only
def escape_section():
    saddles = [c for c in critical if c.kind == "saddle"]
    if not saddles:
        st.info(tr("{surface} has no saddle point in view. Try *Lecture example*, *Himmelblau* or *Saddle x² − y²*.",
                   surface=controls.surface_title(record)))
    else:
        with st.expander(tr("Escape settings"), expanded=False):
            e1, e2, e3 = st.columns(3)
            which = controls.int_input(tr("saddle (1 = first)"), 1, len(saddles), 1, "esc_saddle", url, where=e1) - 1
            steps = controls.int_input(tr("steps"), 10, 2000, 200, "esc_steps", url, where=e1)
            lr = controls.number_widget(HyperParam("lr", "learning rate η", 0.05, 1e-4, 1.0, log=True), "esc_lr", url,
                                        where=e2)
            kick = controls.number_widget(HyperParam("kick", "eigenvector step length α", 0.2, 0.01, 2.0, log=True),
                                          "esc_kick", url, where=e2)
            noise = controls.number_widget(HyperParam("noise", "gradient noise σ", 0.05, 1e-3, 5.0, log=True),
                                           "esc_noise", url, where=e3)
            tilt = controls.number_widget(HyperParam("tilt", "start's offset towards the downhill side", 1e-4, 1e-7, 0.1,
                                                     log=True), "esc_tilt", url, where=e3)
        saddle = saddles[which]
        offset, half_width = optimizers.escape_window(record.span)
        start, esc = compute.saddle_escape(surface, which, offset, tilt, steps, lr, kick, noise, 0)
        zoom = compute.zoomed_grid(surface, tuple(saddle.point), half_width)
        controls.divergence_summary([tr(label) for label in esc.labels], esc.diverged_at)
        sets = [figures.PathSet(tr(label), esc.path[i:i + 1], esc.loss[i:i + 1]) for i, label in enumerate(esc.labels)]
        c1, c2 = st.columns([6, 5])
        with c1:
            controls.chart(figures.contour_figure(zoom, sets, log_color=record.log_color, critical=[saddle],
                                                  max_frames=100, uirevision=f"{surface}-escape", height=520,
                                                  title=tr(record.title)),
                           key="cp_escape")
        with c2:
            controls.chart(figures.step_curves_figure(
                [figures.Series(tr(label), esc.loss[i], i) for i, label in enumerate(esc.labels)],
                title=tr("Loss L(θᵗ)"), y_title="L", height=360, cursor=True), key="cp_escape_loss",
                follows="cp_escape")  # its cursor at the map's step
            rows = [{tr("run"): tr(label), tr("loss dropped clearly at step"):
                     str(k) if k >= 0 else tr("not within {steps}", steps=steps)}
                    for label, k in zip(esc.labels, esc.escaped_at)]
            st.dataframe(rows, hide_index=True, width="stretch")
            controls.caption(join(
                tr("The saddle at ({x:.3g}, {y:.3g}) has eigenvalues {low:.3g} and {high:.3g}.", x=saddle.point[0],
                   y=saddle.point[1], low=saddle.eigenvalues[0], high=saddle.eigenvalues[1]),
                tr("Start ({x:.3g}, {y:.3g}): {offset:.2g} from the saddle along its rising eigenvector, {tilt:g} "
                   "towards the falling one. The eigenvector step is taken there, along the start's own falling "
                   "eigenvector u = ({ux:.2f}, {uy:.2f}), whose eigenvalue at the start is {eigenvalue:.3g}. Plain "
                   "gradient descent slides into the saddle and lingers until the tiny offset has grown by (1 + η|λ|) "
                   "per step, λ = {saddle_low:.3g} the saddle's.",
                   x=start[0], y=start[1], offset=offset, tilt=tilt, ux=esc.direction[0], uy=esc.direction[1],
                   eigenvalue=esc.eigenvalue, saddle_low=saddle.eigenvalues[0])))


escape_section()

st.subheader(tr("A minimum in a slice, a saddle in more dimensions"))
st.markdown(tr("A point that looks like a minimum in a low-dimensional slice can be a saddle once every parameter "
               "counts. Three parameters, the critical point at the origin: in the (w₁, w₂) slice it is a round "
               "bowl, and even w₃ alone curves upwards — yet the full 3 × 3 Hessian has a negative eigenvalue, and "
               "along its eigenvector, which mixes w₁ and w₃, the loss goes down."))
st.latex(surfaces.hidden.FORMULA)
hidden = compute.hidden_saddle()
c1, c2 = st.columns(2)
with c1:
    controls.chart(figures.value_map_figure(
        hidden.xs, hidden.ys, hidden.slice_loss, title=tr("The (w₁, w₂) slice at w₃ = 0: a bowl"), value_label="L",
        log=False, axis_titles=("w₁", "w₂"), height=360), key="cp_hidden_slice")
with c2:
    controls.chart(figures.step_curves_figure(
        [figures.Series(tr("along the eigenvector u of λ = {eigenvalue:.3g}", eigenvalue=hidden.eigenvalues[0]),
                        hidden.loss_along_escape, 0, x=hidden.along),
         figures.Series(tr("along w₃ alone"), hidden.loss_along_w3, 1, "dash", x=hidden.along)],
        title=tr("The loss through the origin, L(θ′ + s·direction)"), x_title="s", y_title="L", height=360),
        key="cp_hidden_escape")
st.dataframe([{tr("view"): tr("(w₁, w₂) slice: 2 × 2 Hessian"),
               tr("eigenvalues"): ", ".join(f"{v:.3g}" for v in hidden.slice_eigenvalues),
               tr("kind"): tr(hidden.slice_kind)},
              {tr("view"): tr("all three parameters: 3 × 3 Hessian"),
               tr("eigenvalues"): ", ".join(f"{v:.3g}" for v in hidden.eigenvalues),
               tr("kind"): tr(hidden.kind)}], hide_index=True, width="stretch")
controls.caption(tr("The escaping eigenvector u = ({u1:.2f}, {u2:.2f}, {u3:.2f}); along it the loss falls from 0 to "
              "{lowest:.3g}; the true minima, at w₁ = −w₃ = ∓1, have L = −¼. Real networks have millions of parameters: a critical "
              "point is a true minimum only if no direction at all goes down — which is why most are saddles.",
              u1=hidden.escape_direction[0], u2=hidden.escape_direction[1], u3=hidden.escape_direction[2],
              lowest=hidden.lowest_along_escape))

st.subheader(tr("The lecture's figure: training loss against the minimum ratio"),
             anchor=controls.section_anchor(PAGE, "lecture-1-4"))
st.markdown(tr("The same question on real networks: train 24 small networks (2-6-2, tanh, on the moons data) for "
               "different lengths, walk each towards a nearby critical point by minimizing ‖∇L‖², and count the positive "
               "eigenvalues of its full Hessian. A true local minimum has minimum ratio 1."))
@st.fragment  # its switch reruns this section only
def minimum_ratio_section():
    if controls.switch(tr("Run the minimum-ratio experiment"), "cp_ratio", url,
                       help=tr("About 10–20 s the first time, behind a progress bar; then from the cache.")):
        done = controls.heavy_run(tr("Training and refining 24 networks …"), compute.saddle_study, RATIO_DATASET)
        if done is None:  # the run failed; heavy_run said why
            return
        study, was_cached = done
        controls.chart(figures.minimum_ratio_figure(
            study.minimum_ratio, study.train_loss,
            text=[tr("loss {loss:.3g}, ratio {ratio:.2f}, {count} negative, ‖∇L‖ {norm:.1g}", loss=loss, ratio=r, count=k,
                     norm=g)
                  for loss, r, k, g in zip(study.train_loss, study.minimum_ratio, study.negative, study.gradient_norm)]),
            key="cp_ratio_figure")
        # The figure keeps the lecture's wording; the refinement stops short of ‖∇L‖ = 0, so the caption says how
        # short, against the tolerance under which this page calls a point critical (surfaces.CRITICAL_GRADIENT).
        controls.caption(join(tr("Of {count} refined points, {minima} reach ratio 1; the highest ratio is {highest:.2f}. "
                           "They are near-critical: ‖∇L‖ ≤ {norm:.1g} at every one, and {critical} of them are below "
                           "{tolerance:g}, the gradient this page counts as zero. Where the loss is high they are "
                           "saddles with many negative eigenvalues; even the lowest are not quite minima — as in the "
                           "lecture, true local minima are rare.", count=len(study.train_loss),
                           minima=study.true_minima, highest=study.highest_ratio, norm=study.largest_gradient_norm,
                           critical=study.critical_count(surfaces.CRITICAL_GRADIENT),
                           tolerance=surfaces.CRITICAL_GRADIENT),
                        tr("From the cache.") if was_cached else ""))


minimum_ratio_section()

url.show(notes)  # last: every widget has read its link value
