"""Playground: race up to six optimizers on an error surface."""
import streamlit as st

import compute
import controls
import figures
import optimizers
import surfaces
from i18n import tr

MAX_OPTIMIZERS = 6
MAX_STEPS = 20_000
MAX_STARTS = 3
GRID = 120
RACE = ("gd", "momentum", "adam", "rmsprop", "adagrad", "nesterov")


def start_key(surface: str, j: int, axis: str) -> str:
    return f"{axis}{j}_{controls.surface_key(surface)}"


LECTURE = {"surface": "lecture_saddle", "x1_lecture_saddle": 0.08, "y1_lecture_saddle": -0.05, "steps": 300,
           "starts": 1, "n_opt": 3, "o1": "gd", "o2": "momentum", "o3": "adam"}

notes, url, surface, record = controls.page_start("playground", tr("Playground"), tr(
    "Pick a surface, start up to six optimizers from the same point(s) and watch them race. "
    "Press Play under a map; click the map to move start 1 there."),
    LECTURE, "pg_preset", tr("Lecture example: three optimizers at the saddle of L = (1 − w₁w₂)²"), surface="himmelblau")

with st.sidebar:
    steps = controls.int_input(tr("Steps"), 1, MAX_STEPS, 300, "steps", url,
                               help=tr("1 to {limit:,}; long runs are subsampled for the animation.", limit=MAX_STEPS))
    n_starts = controls.int_input(tr("Start points"), 1, MAX_STARTS, 1, "starts", url)
    starts = []
    for j in range(1, n_starts + 1):
        # Start keys carry the surface name: each surface keeps its own starts.
        starts.append(controls.point_input((tr("start {k}: x", k=j), tr("start {k}: y", k=j)), record.domain,
                                           record.starts[(j - 1) % len(record.starts)],
                                           lambda axis, j=j: start_key(surface, j, axis), url))
    n_opt = controls.int_input(tr("Optimizers"), 1, MAX_OPTIMIZERS, 3, "n_opt", url)
    configs = []
    for slot in range(1, n_opt + 1):
        with st.expander(tr("Optimizer {k}", k=slot), expanded=slot == 1):
            configs.append(controls.optimizer_panel(slot, RACE[slot - 1], url))
    tol = controls.number_widget(
        optimizers.HyperParam("tol", "‘converged’ when ‖∇L‖ <", 1e-3, 1e-8, 1.0, log=True), "tol", url)
starts = controls.defined_starts(surface, starts)
if not starts:
    url.show(notes)
    st.stop()


with controls.prose():
    st.latex(record.formula)
    controls.surface_text(record)

grid = compute.surface_grid(surface, GRID)
curves, critical = compute.critical_set(surface)  # a continuum of minima is a curve, not points
runs = [compute.trajectories(surface, c["name"], tuple(starts), steps, c["schedule"],
                             tuple(sorted(c["schedule_params"].items())), tuple(sorted(c["hyperparams"].items())))
        for c in configs]
labels = [f"{i}. {tr(optimizers.get(c['name']).label)}" for i, c in enumerate(configs, 1)]
path_sets = [figures.PathSet(label, r.path, r.loss) for label, r in zip(labels, runs)]
frames = figures.frames_for(len(starts) * len(runs))

controls.divergence_summary(labels, [r.diverged_at for r in runs])

# Recipes, not figures: every session that asks for this state is served one build (controls.render_once).
contour = controls.Recipe(figures.add_critical_curves, controls.Recipe(
    figures.contour_figure, grid, path_sets, log_color=record.log_color, equalize=record.equalize_color,
    critical=critical, max_frames=frames, click_grid=40, uirevision=surface, title=tr(record.title)), curves)
# One view at a time: the 3-D scene (software WebGL on many machines) is drawn only when asked for.
view = controls.view_select("pg_view", help=tr("3-D draws more slowly (WebGL); a click on the contour map moves "
                                               "start 1"))
# Each optimizer's map dash on its curves too: equal curves (two runs at one η) stay visible one over the other.
series = [figures.Series(label, r.loss, i, figures.path_dash(i)) for i, (label, r) in enumerate(zip(labels, runs))]
# The step charts' cursors follow the map's frame (the one shown: the contour map or the 3-D view); they start at
# its last step, where it opens (η has one value per update, so its chart ends a step earlier).
map_key = "surface3d" if view == "3-D" else "contour"
left, right = st.columns([6, 5])
with left:
    if view == "3-D":
        controls.chart(controls.Recipe(figures.add_critical_curves, controls.Recipe(
            figures.surface3d_figure, grid, path_sets, log_color=record.log_color, critical=critical,
            max_frames=min(frames, 60), uirevision=surface, title=tr(record.title)), curves, grid, record.log_color),
            key="surface3d")
    else:
        controls.chart(contour, key="contour", selection_mode="points",
                       on_select=controls.point_from_click("contour", start_key("{surface}", 1, "{axis}")))
with right:
    controls.chart(controls.Recipe(figures.step_curves_figure, series, title=tr("Loss L(θᵗ)"), y_title="L",
                                   height=600, log_y=figures.wide_range([r.loss for r in runs], 100), cursor=steps),
                   key="loss", follows=map_key)
controls.caption(tr("Critical points (found numerically, classified by the Hessian's eigenvalues): ○ minimum, "
              "△ maximum, × saddle, □ degenerate (a zero eigenvalue: second order cannot tell); a magenta line "
              "is a valley of minima (a curve of critical points, each degenerate along it)."))

c1, c2 = st.columns(2)
with c1:
    controls.chart(controls.Recipe(
        figures.step_curves_figure, [s._replace(y=r.grad_norm) for s, r in zip(series, runs)], title=tr("Gradient norm ‖∇L(θᵗ)‖"),
        y_title="‖g‖", log_y=True, legend=False, cursor=steps), key="grad_norm", follows=map_key)
with c2:
    controls.chart(controls.Recipe(
        figures.step_curves_figure, [s._replace(y=r.lr[:1]) for s, r in zip(series, runs)], title=tr("Learning rate ηᵗ (schedule)"),
        y_title="η", log_y=figures.wide_range([r.lr[0] for r in runs]), legend=False, cursor=steps), key="lr",
        follows=map_key)

st.subheader(tr("Results"))
rows = []
for label, r in zip(labels, runs):
    for j in range(len(starts)):
        s = optimizers.summarize(r.path[j], r.loss[j], r.grad_norm[j], int(r.diverged_at[j]), critical, tol, curves)
        rows.append({
            tr("optimizer"): label,
            tr("start"): f"({s.start[0]:.3g}, {s.start[1]:.3g})",
            tr("final point"): f"({s.final_point[0]:.4g}, {s.final_point[1]:.4g})",
            tr("final loss"): f"{s.final_loss:.4g}",
            # The point and its distance in two short columns: one long sentence was cut off in the table.
            tr("nearest critical point"): (
                tr("none in view") if not s.nearest_point else
                tr("on the {kind}, at ({x:.3g}, {y:.3g})", kind=tr(s.nearest_kind),
                   x=s.nearest_point[0], y=s.nearest_point[1])
                if s.nearest_kind in surfaces.CURVE_KINDS.values() else
                tr("{kind} at ({x:.3g}, {y:.3g})", kind=tr(s.nearest_kind),
                   x=s.nearest_point[0], y=s.nearest_point[1])),
            tr("distance to it"): f"{s.nearest_distance:.2g}" if s.nearest_point else "",
            tr("steps until ‖∇L‖ < {tol}", tol=controls.format_number(tol)):
                str(s.steps_to_tolerance) if s.steps_to_tolerance >= 0 else tr("not reached"),
            tr("diverged"): tr("at step {step}", step=s.diverged_at) if s.diverged_at >= 0 else tr("no"),
        })
st.dataframe(rows, hide_index=True, width="stretch")

with st.expander(tr("The update rules and schedules in this race"), expanded=False):
    for label, c in zip(labels, configs):
        st.markdown(tr("**{label}** — schedule: {schedule}", label=label,
                       schedule=tr(optimizers.get_schedule(c['schedule']).label)))
        st.latex(optimizers.get(c["name"]).formula)
        st.latex(optimizers.get_schedule(c["schedule"]).formula)

controls.export_panel("playground", contour, tr(record.title), labels, runs, grid)

url.show(notes)  # last: every widget has read its link value
