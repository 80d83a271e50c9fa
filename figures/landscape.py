"""Contour and 3-D views of a surface with animated optimizer trajectories.

Pure builders: NumPy in, ``go.Figure`` out, no Streamlit. Each optimizer adds
a path trace and a "current position" trace, and the animation frames carry
only those (``traces=[...]``), so the figure stays small and the surface is
never re-sent. On the 2-D map the surface is not a trace at all: it is a PNG
in ``layout.images`` with contour lines as a plain line trace over it
(``figures.surface_picture``), so that ``redraw: false`` frames (which
plotly.js plays without touching anything but the moving traces) cannot drop
it (docs/design.md, How the animated maps are drawn).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from figures.overlap import ROUTE_TOLERANCE, lies_along
from figures.prebuilt import PrebuiltFigure
from figures.style import (
    CRITICAL_STYLE,
    CURVE_DASH,
    CURVE_STYLE,
    MAX_FRAMES,
    PATH_OUTLINE,
    SURFACE_COLORSCALE,
    TOOLBAR_BAND_PX,
    Float32Rows,
    animation_controls,
    axis_text,
    chart_title,
    frame_indices,
    path_color,
    path_dash,
    top_legend,
    typed_array,
)
from figures.surface_picture import loss_log_ticks, surface_layers
from i18n import tr


class PathSet(NamedTuple):
    """The trajectories of one optimizer: paths (n, steps + 1, 2) and their losses (n, steps + 1)."""

    label: str
    paths: np.ndarray
    losses: np.ndarray
    # The palette entries (``path_color``, ``PATH_DASHES``) when not the PathSet's position: a page whose runs
    # must stay apart on every chart (blue dash and sky-blue long dash at positions 1 and 4 read as one) picks them.
    color_index: int | None = None
    dash: str | None = None


SCENE_NTICKS = 4


def scene_ticks() -> dict:
    """A 3-D axis's tick settings, a fresh dict each call.

    Few ticks: 3-D labels do not avoid each other. Fresh, because presentation
    mode scales font sizes in place: one shared ``tickfont`` dict was scaled
    once per axis and once more on every rerun, until the labels filled the scene.
    """
    return dict(nticks=SCENE_NTICKS, tickfont=dict(size=10))
# The z axis's lowest labels sit in the corner where the x and y axes' labels meet: no z tick in this share of it.
Z_TICK_FLOOR = 0.15


def _scene_z_ticks(loss: np.ndarray, log_color: bool, zmin: float, zmax: float) -> dict:
    """The 3-D z axis's ticks: round values of L (log colouring) above the corner, or plotly's own few."""
    if not log_color:
        return scene_ticks()
    ticks = loss_log_ticks(loss, SCENE_NTICKS)
    floor = zmin + Z_TICK_FLOOR * (zmax - zmin)
    kept = [(v, t) for v, t in zip(ticks["tickvals"], ticks["ticktext"]) if v >= floor]
    return dict(tickvals=[v for v, _ in kept], ticktext=[t for _, t in kept])


def _heads(paths: np.ndarray, upto: int, col: int) -> np.ndarray:
    return paths[:, upto, col].astype(np.float32)


def _path_hover(label: str, z: bool = False) -> str:
    return f"<b>{label}</b><br>x=%{{x:.4g}}<br>y=%{{y:.4g}}" + ("<br>L=%{z:.4g}" if z else "") + "<extra></extra>"


def critical_traces(points: Sequence, z_of=None, three_d: bool = False, legend: bool = False) -> list:
    traces = []
    for kind, (symbol, color) in CRITICAL_STYLE.items():
        pts = [c for c in points if c.kind == kind]
        if not pts:
            continue
        xs = np.array([c.point[0] for c in pts], np.float32)
        ys = np.array([c.point[1] for c in pts], np.float32)
        hover = [f"{tr(kind)}<br>({c.point[0]:.4g}, {c.point[1]:.4g})<br>L = {c.value:.4g}<br>"
                 f"λ = {c.eigenvalues[0]:.3g}, {c.eigenvalues[1]:.3g}" for c in pts]
        if three_d:
            zs = np.array([z_of(c.value) for c in pts], np.float32)
            traces.append(go.Scatter3d(
                x=xs, y=ys, z=zs, mode="markers", name=tr(kind), showlegend=False, hovertext=hover,
                hoverinfo="text", marker=dict(size=4, color=color, symbol="diamond" if kind == "saddle" else "circle",
                                             line=dict(color="black", width=1))))
        else:
            traces.append(go.Scatter(
                x=xs, y=ys, mode="markers", name=tr(kind), showlegend=legend, hovertext=hover, hoverinfo="text",
                marker=dict(size=11, symbol=symbol, color=color, line=dict(color="black", width=1.5))))
    return traces


def critical_curve_traces(curves: Sequence, z_of=None, three_d: bool = False, legend: bool = True) -> list:
    """One line per curve of critical points (``surfaces.CriticalCurve``), labelled with what it is.

    A continuum of minima is one curve, not a row of isolated "degenerate" marks.
    """
    traces = []
    for c in curves:
        color = CURVE_STYLE.get(c.kind, "#FFFFFF")
        name = tr(c.kind)  # short, so the legend does not cut it; the hover and the captions say "degenerate along it"
        hover = tr("{kind}: L = {value:.3g}; eigenvalue 0 along the curve, {low:.3g} to {high:.3g} across it",
                   kind=tr(c.kind), value=c.value, low=c.across[0], high=c.across[1])
        x, y = c.points[:, 0].astype(np.float32), c.points[:, 1].astype(np.float32)
        if three_d:
            z = np.asarray([z_of(c.value) if np.isfinite(px) else np.nan for px in c.points[:, 0]], np.float32)
            traces.append(go.Scatter3d(x=x, y=y, z=z, mode="lines", name=name, showlegend=False,
                                       line=dict(color=color, width=6), hovertext=hover, hoverinfo="text"))
        else:
            traces.append(go.Scatter(x=x, y=y, mode="lines", name=name, showlegend=legend, hovertext=hover,
                                     hoverinfo="text", line=dict(color=color, width=3, dash=CURVE_DASH)))
    return traces


def add_critical_curves(fig: go.Figure, curves: Sequence, grid=None, log_color: bool = False) -> go.Figure:
    """Draw ``curves`` on a map (or, with ``grid``, on its 3-D surface) after its other traces (in place).

    Added last, so the animation frames' trace indices are unchanged.
    """
    if grid is None:
        fig.add_traces(critical_curve_traces(curves))
    else:
        low, high = float(np.nanmin(grid.loss)), float(np.nanmax(grid.loss))
        lift = 0.01 * ((surface_z(high, low, log_color) - surface_z(low, low, log_color)) or 1.0)
        fig.add_traces(critical_curve_traces(curves, lambda v: float(surface_z(v, low, log_color)) + lift,
                                             three_d=True))
    return fig


def surface_z(loss, low: float, log_color: bool):
    """The height of L on a 3-D view: L, or log10(1 + L − min L) for wide ranges (as the colours)."""
    loss = np.asarray(loss, np.float64)
    return np.log10(1.0 + np.maximum(loss - low, 0.0)) if log_color else loss


def _head_marker(paths: Sequence[PathSet]) -> dict:
    """One marker trace for every optimizer's current positions (colour per point)."""
    colors = [path_color(_color_index(i, ps)) for i, ps in enumerate(paths) for _ in range(len(ps.paths))]
    return dict(size=10, color=colors, line=dict(color=PATH_OUTLINE, width=1.5))


def _color_index(i: int, ps: PathSet) -> int:
    return i if ps.color_index is None else ps.color_index


def _head_labels(paths: Sequence[PathSet]) -> list[str]:
    return [ps.label for ps in paths for _ in range(len(ps.paths))]


def _frames(idx: np.ndarray, animated_ids: list[int], moving) -> list[dict]:
    # Frames are plain dicts holding only coordinates: styles stay on the base
    # traces (plotly.js merges frame data into them), which keeps the figure
    # small and skips plotly.py's per-trace validation (faster to build; bench/bench_playground.py).
    return [dict(data=moving(int(k)), traces=animated_ids, name=str(int(k))) for k in idx]


def route_names(paths: Sequence[PathSet], xs, ys, drawn_steps=None) -> list[str]:
    """Each path's legend text: "B (on the route of A)" where every start's path of B runs along A's route, so
    that the legend says why a line seems missing; the animation then shows them apart by speed.

    Judged where it is drawn: the points are put on the plot's unit square (``xs``, ``ys``: the axes' extents,
    so a long flat map does not count a run across its short side as "along"), then ``overlap.lies_along`` with
    the square's diagonal, on the steps the map draws (``drawn_steps``, its frames' steps; all when None). A path
    that stays at its start is no route (it lies "along" any route from there).
    A path is named by a route that is itself drawn: the first of several runs on one route, or a route that
    lies along no other.
    """
    lo = np.array([float(np.min(xs)), float(np.min(ys))])
    size = np.maximum(np.array([float(np.max(xs)), float(np.max(ys))]) - lo, 1e-12)
    unit = [(np.asarray(ps.paths if drawn_steps is None else ps.paths[:, drawn_steps], np.float64) - lo) / size
            for ps in paths]
    span = float(np.sqrt(2.0))
    moves = [bool(np.nanmax(np.linalg.norm(u - u[:, :1], axis=-1), initial=0.0) > ROUTE_TOLERANCE * span)
             for u in unit]
    along = [[i != j and moves[i] and moves[j] and a.shape[0] == b.shape[0]
              and all(lies_along(p, q, span) for p, q in zip(a, b)) for j, b in enumerate(unit)]
             for i, a in enumerate(unit)]
    # drawn routes: a path along no other, or the first of a group that lie along each other
    drawn = [not any(along[i][j] and not (along[j][i] and i < j) for j in range(len(paths)))
             for i in range(len(paths))]
    names = []
    for i, ps in enumerate(paths):
        j = next((j for j in range(len(paths)) if along[i][j] and drawn[j]), None)
        names.append(ps.label if drawn[i] or j is None else
                     tr("{label} (on the route of {other})", label=ps.label, other=paths[j].label))
    return names


# A start ring: dark, open, and one per distinct start: runs that share a start drew their rings on one another,
# and only the last run's colour showed, as if it were that run's mark.
START_RING = "#111111"


def start_trace(kind, paths: Sequence[PathSet], z=None) -> list:
    """One open ring at every distinct start (the moving heads mark where the runs are); its hover names the runs
    that start there. ``z``: the starts' heights on a 3-D view, one per run's start in ``paths`` order."""
    if not paths:
        return []
    xy = np.concatenate([ps.paths[:, 0, :] for ps in paths]).astype(np.float32)
    labels = [ps.label for ps in paths for _ in range(len(ps.paths))]
    first: dict[tuple, int] = {}
    for k, point in enumerate(map(tuple, xy)):
        first.setdefault(point, k)
    keep = sorted(first.values())
    text = [", ".join(dict.fromkeys(label for label, point in zip(labels, map(tuple, xy)) if point == tuple(xy[k])))
            for k in keep]
    three_d = dict(z=np.asarray(z, np.float32)[keep]) if z is not None else {}
    return [kind(x=xy[keep, 0], y=xy[keep, 1], **three_d, mode="markers", name=tr("start"), showlegend=False,
                 text=text, marker=dict(symbol="circle-open", size=14 if z is None else 7, color=START_RING,
                                        line=dict(width=2.5)),
                 hovertemplate=tr("start") + ": %{text}<br>x=%{x:.4g}<br>y=%{y:.4g}<extra></extra>")]


def _path_traces(kind, final: list[dict], paths: Sequence[PathSet], width: float, head_marker: dict,
                 names: Sequence[str]) -> list:
    """The paths at their last step as ``kind`` traces (go.Scatter or go.Scatter3d), one per PathSet with its
    colour and dash, then the moving heads; ``final``: ``moving(steps)``, each path's data then the heads';
    ``names``: the legend's texts (``route_names``)."""
    traces = [kind(**final[i], mode="lines", name=names[i], legendgroup=ps.label,
                   line=dict(color=path_color(_color_index(i, ps)), width=width, dash=ps.dash or path_dash(i)),
                   hovertemplate=_path_hover(ps.label)) for i, ps in enumerate(paths)]
    traces.append(kind(**final[-1], mode="markers", name="position", showlegend=False, marker=head_marker,
                       text=_head_labels(paths),
                       hovertemplate="<b>%{text}</b><br>x=%{x:.4g}<br>y=%{y:.4g}<extra></extra>"))
    return traces


# A map whose axes share units keeps its aspect ratio (one unit of w₁ as long as one of w₂) when its domain is no
# more than this much wider than tall (or taller than wide); a longer domain is drawn stretched to a usable box.
MAX_EQUAL_ASPECT = 2.0


def equal_aspect(xs, ys, same_units: bool = True) -> dict:
    """Axis settings that keep a map's aspect ratio: the y axis scaled as the x axis, the plot area shrunk to fit.

    Empty when the axes measure different things (``same_units`` False) or the domain is longer than
    ``MAX_EQUAL_ASPECT`` to one. Without it a map over a square domain was drawn tall and narrow on a phone
    and wide and flat on a projector, bending the shapes the lecture talks about.
    """
    width, height = abs(float(xs[-1]) - float(xs[0])), abs(float(ys[-1]) - float(ys[0]))
    if not same_units or not width or not height or max(width / height, height / width) > MAX_EQUAL_ASPECT:
        return {"xaxis": {}, "yaxis": {}}
    return {"xaxis": dict(constrain="domain"), "yaxis": dict(scaleanchor="x", scaleratio=1, constrain="domain")}


def map_axes(xs, ys, axis_titles: tuple[str, str] = ("x  (w₁)", "y  (w₂)"), same_units: bool = True) -> dict:
    """A 2-D map's x and y axes: exactly the grid's extent, titled, no grid lines or zero lines over the raster;
    the aspect ratio kept where the axes share units (``equal_aspect``)."""
    aspect = equal_aspect(xs, ys, same_units)
    return dict(xaxis=dict(range=[float(xs[0]), float(xs[-1])], title=dict(text=axis_text(axis_titles[0]), standoff=4),
                           showgrid=False, zeroline=False, **aspect["xaxis"]),
                yaxis=dict(range=[float(ys[0]), float(ys[-1])], title=dict(text=axis_text(axis_titles[1])),
                           showgrid=False, zeroline=False, **aspect["yaxis"]))


def contour_figure(grid, paths: Sequence[PathSet], *, log_color: bool = False, critical=(),
                   max_frames: int = 100, duration_ms: int = 50, title: str = "",
                   height: int = 600, uirevision: str = "contour", click_grid: int = 0,
                   animate: bool = True, axis_titles: tuple[str, str] = ("x  (w₁)", "y  (w₂)"),
                   critical_legend: bool = False, equalize: bool = False, same_units: bool = True) -> go.Figure:
    """Contour map with every trajectory animated step by step: every animated 2-D map of the app.

    The surface is a raster image under the axes, with static contour lines
    and an invisible hover lattice (``surface_layers``); the frames move only
    the path and head traces, with ``redraw: false``, so the map stays drawn
    while the race plays and plotly.js does no full redraw per frame.

    Args:
      grid: ``surfaces.Grid`` (xs, ys, loss).
      paths: one PathSet per optimizer.
      log_color: colour by log10(1 + L − min L) (the colour bar shows L).
      equalize: colour by the quantile of L among the map's values (``color_values``; a surface's
        ``equalize_color``): equal areas per colour, for maps that lie mostly in a narrow band of L.
      critical: ``surfaces.CriticalPoint`` list to mark by kind.
      max_frames: the animation is subsampled to at most this many frames
        (≤ MAX_FRAMES); within a frame only the sampled steps are drawn.
      click_grid: if > 0, the hover lattice is click_grid² grid points that a
        click can select (the third trace, after the colour bar and the lines), so a page can read
        "start here" from a point-selection event.
      critical_legend: list the critical points' kinds in the legend.
      animate: False draws the whole paths with no frames and no controls
        (for a view whose step is chosen elsewhere).
      same_units: the two axes measure the same kind of thing (two weights): the map keeps its aspect ratio
        (``equal_aspect``).
    """
    steps = paths[0].paths.shape[1] - 1 if paths else 0
    idx = frame_indices(steps, min(max_frames, MAX_FRAMES))
    image, fixed = surface_layers(grid, log_color, click_grid, equalize=equalize)
    fixed += critical_traces(critical, legend=critical_legend) + start_trace(go.Scatter, paths)
    animated_ids = list(range(len(fixed), len(fixed) + len(paths) + 1))

    xs = [Float32Rows(ps.paths[:, idx, 0]) for ps in paths]
    ys = [Float32Rows(ps.paths[:, idx, 1]) for ps in paths]

    def moving(upto: int) -> list[dict]:
        n = int(np.searchsorted(idx, upto, side="right"))  # frame steps drawn so far
        lines = [dict(type="scatter", x=x.first(n), y=y.first(n)) for x, y in zip(xs, ys)]
        heads = dict(type="scatter", x=typed_array([v for ps in paths for v in _heads(ps.paths, upto, 0)]),
                     y=typed_array([v for ps in paths for v in _heads(ps.paths, upto, 1)]))
        return lines + [heads]

    traces = _path_traces(go.Scatter, moving(steps), paths, 2.5, _head_marker(paths),
                          route_names(paths, grid.xs, grid.ys, idx))
    layout = dict(
        title=chart_title(title) if title else dict(text=""), height=height,
        # The legend (``top_legend``) reserves the toolbar's band and its own rows above the map (plotly.js takes
        # the larger of that and this margin); a map without one keeps the band free all the same.
        margin=dict(l=45, r=0, t=40 if title else TOOLBAR_BAND_PX, b=160 if animate and paths else 45),
        **map_axes(grid.xs, grid.ys, axis_titles, same_units),
        # Entries flow and wrap: a fixed entry width cut long names ("Adagrad (lecture: root mean squa").
        legend=top_legend(height),
        uirevision=uirevision, hovermode="closest", images=[image],
    )
    if animate and paths:
        frames = _frames(idx, animated_ids, moving)
        if click_grid:
            # A transition recomputes every trace's calcdata but draws only the frame's traces, so the others
            # lose the SVG node that a click's point selection restyles (plotly.js then throws "reading
            # 'selectAll'" and the click never reaches the page). A clickable map lists its fixed traces in
            # every frame with no change: redrawn as they are, they keep their nodes.
            still = [dict(type="scatter") for _ in fixed]
            frames = [dict(f, data=still + f["data"], traces=list(range(len(fixed))) + f["traces"]) for f in frames]
        return PrebuiltFigure(data=fixed + traces, raw_frames=frames,
                              raw_layout={**layout, **animation_controls([str(int(k)) for k in idx], duration_ms,
                                                                         redraw=False, y=-0.16)})
    return PrebuiltFigure(data=fixed + traces, raw_layout=layout)


def race_figure(grid, paths: Sequence[PathSet], frame_labels: Sequence[str], **contour) -> go.Figure:
    """``contour_figure`` with one frame per step of ``paths`` and the slider naming each frame ``frame_labels[k]``.

    For runs already sampled on a shared clock (the Batch size page's epochs, where frame k is "epoch 3 · B = 1:
    96 updates · B = 32: 3 updates"): the slider's "step k" would name neither run's update count.
    ``contour``: ``contour_figure``'s keyword arguments but ``max_frames``.
    """
    frames = paths[0].paths.shape[1] if paths else 0
    if frames != len(frame_labels) or frames > MAX_FRAMES:
        raise ValueError(f"{len(frame_labels)} labels for {frames} frames (at most {MAX_FRAMES})")
    fig = contour_figure(grid, paths, max_frames=frames, **contour)
    layout = fig._raw_layout
    if layout.get("sliders"):
        (slider,) = layout["sliders"]
        # The steps list is shared between figures (``_slider_steps`` is cached): new dicts, never edited ones.
        steps = [dict(step, label=label) for step, label in zip(slider["steps"], frame_labels)]
        layout["sliders"] = [dict(slider, steps=steps, currentvalue=dict(slider["currentvalue"], prefix=""))]
    return fig


# At most this many 3-D frames, whatever a page asks for: each one redraws the whole WebGL scene.
MAX_FRAMES_3D = 20


def surface3d_figure(grid, paths: Sequence[PathSet], *, log_color: bool = False, critical=(),
                     max_frames: int = MAX_FRAMES_3D, duration_ms: int = 250, height: int = 560,
                     uirevision: str = "surface3d", title: str = "", axis_titles: tuple[str, str] = ("x", "y"),
                     legend: bool = True) -> go.Figure:
    """The surface in 3-D with the trajectories riding on it, animated.

    ``title`` and ``axis_titles`` are for a 3-D view shown in a 2-D map's place, so that it names what the map
    names; ``legend``: the paths by name, across the top as on the 2-D map (a view of several runs with no legend
    left a student guessing which line was which).

    The z axis shows the same values as the contour colours (log-scaled for
    wide ranges) so that steep walls do not flatten the interesting part.

    Fewer, longer frames than the 2-D map (at most MAX_FRAMES_3D = 20, 250 ms each, against
    100 × 50 ms): plotly.js cannot move 3-D traces without ``redraw: true``,
    and that redraws the whole WebGL scene, surface included, on every frame
    (with software WebGL a redrawn frame takes many times a 2-D frame's time,
    whatever the grid size or the surface's contour lines; docs/performance_log.md).
    The surface stays on screen while a frame redraws, and the camera is the
    layout's (``uirevision``), so a turned view stays turned during playback.
    """
    low = float(np.nanmin(grid.loss))

    def z_of(loss):
        return surface_z(loss, low, log_color)

    zgrid = z_of(grid.loss)
    zmin, zmax = float(np.nanmin(zgrid)), float(np.nanmax(zgrid))
    lift = 0.01 * ((zmax - zmin) or 1.0)  # paths ride just above the surface, not inside it
    steps = paths[0].paths.shape[1] - 1 if paths else 0
    idx = frame_indices(steps, min(max_frames, MAX_FRAMES_3D))
    surface = go.Surface(
        x=grid.xs.astype(np.float32), y=grid.ys.astype(np.float32), z=zgrid.astype(np.float32),
        customdata=grid.loss.astype(np.float32), colorscale=SURFACE_COLORSCALE, opacity=0.92,
        showscale=False, name="L(x, y)",
        hovertemplate=f"{axis_titles[0]}=%{{x:.3g}}<br>{axis_titles[1]}=%{{y:.3g}}<br>L=%{{customdata:.4g}}<extra></extra>",
        contours=dict(z=dict(show=True, usecolormap=True, width=1)),
    )
    fixed = [surface, *critical_traces(critical, z_of=lambda v: float(z_of(v)) + lift, three_d=True),
             *start_trace(go.Scatter3d, paths,
                          np.concatenate([np.clip(z_of(ps.losses[:, 0]) + lift, zmin, zmax + lift) for ps in paths])
                          if paths else None)]
    animated_ids = list(range(len(fixed), len(fixed) + len(paths) + 1))

    def clipped_z(loss):
        # Paths may leave the drawn domain (and the z range): clip so they stay in the box.
        return np.clip(z_of(loss) + lift, zmin, zmax + lift)

    xs = [Float32Rows(ps.paths[:, idx, 0]) for ps in paths]
    ys = [Float32Rows(ps.paths[:, idx, 1]) for ps in paths]
    zs = [Float32Rows(clipped_z(ps.losses[:, idx])) for ps in paths]

    def moving(upto: int) -> list[dict]:
        n = int(np.searchsorted(idx, upto, side="right"))
        lines = [dict(type="scatter3d", x=x.first(n), y=y.first(n), z=z.first(n)) for x, y, z in zip(xs, ys, zs)]
        heads = dict(type="scatter3d",
                     x=typed_array([v for ps in paths for v in _heads(ps.paths, upto, 0)]),
                     y=typed_array([v for ps in paths for v in _heads(ps.paths, upto, 1)]),
                     z=typed_array([v for ps in paths for v in clipped_z(ps.losses[:, upto])]))
        return lines + [heads]

    # Paths 8 px wide: at 5 they were lost on the shaded surface from the back of a room.
    traces = _path_traces(go.Scatter3d, moving(steps), paths, 8,
                          dict(size=6, color=_head_marker(paths)["color"], line=dict(color="white", width=1)),
                          route_names(paths, grid.xs, grid.ys, idx))
    shows_legend = legend and bool(paths)
    layout = dict(
        title=chart_title(title) if title else dict(text=""), height=height,
        margin=dict(l=0, r=0, t=40 if title else 30, b=110 if paths else 10), uirevision=uirevision,
        showlegend=shows_legend, **(dict(legend=top_legend(height)) if shows_legend else {}),
        scene=dict(
            xaxis=dict(title=dict(text=axis_text(axis_titles[0])), range=[float(grid.xs[0]), float(grid.xs[-1])],
                       **scene_ticks()),
            yaxis=dict(title=dict(text=axis_text(axis_titles[1])), range=[float(grid.ys[0]), float(grid.ys[-1])],
                       **scene_ticks()),
            zaxis=dict(title=dict(text=tr("L (log scale)") if log_color else "L"), range=[zmin, zmax + 2 * lift],
                       **_scene_z_ticks(grid.loss, log_color, zmin, zmax)),
            aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.6),
            camera=dict(eye=dict(x=1.5, y=-1.5, z=1.0)),
        ),
    )
    if paths:
        fig = PrebuiltFigure(data=fixed + traces, raw_frames=_frames(idx, animated_ids, moving),
                             raw_layout={**layout, **animation_controls([str(int(k)) for k in idx], duration_ms,
                                                                        y=0.02)})
    else:
        fig = PrebuiltFigure(data=fixed, raw_layout=layout)
    return fig


# Written out, starting just above black: in the browser, Streamlit's chart theme
# drew Magma's pure-black low end (#000004) as pink, which reads as "large" on this map.
MAGMA = [[0.0, "#0c0926"], [0.15, "#221150"], [0.3, "#5f187f"], [0.45, "#982d80"], [0.6, "#d3436e"],
         [0.75, "#f8765c"], [0.9, "#febb81"], [1.0, "#fcfdbf"]]


def value_map_figure(xs, ys, z, *, title: str, value_label: str, log: bool = True, height: int = 380,
                     axis_titles: tuple[str, str] = ("x", "y"), zmin: float | None = None,
                     same_units: bool = True) -> go.Figure:
    """A heatmap of any quantity over the grid (a gradient-norm map), log-coloured by default.

    Colours show log10 of the value when ``log`` (the colour bar is labelled in
    the value itself); hover shows the value. Values at or below ``zmin``
    (zero included) take the lowest colour; non-finite ones are left blank
    rather than drawn as garbage.
    """
    z = np.asarray(z, np.float64)
    if log:  # zero (underflowed) values belong to the lowest colour; only non-finite ones stay blank
        floor = zmin if zmin is not None else np.nanmin(np.where(z > 0, z, np.nan))
        shown = np.where(np.isfinite(z), np.log10(np.maximum(z, floor)), np.nan)
    else:
        shown = z
    low = float(np.nanmin(shown)) if zmin is None else (np.log10(zmin) if log else zmin)
    high = float(np.nanmax(shown))
    shown = np.clip(shown, low, high)  # below zmin: drawn in the lowest colour (the colour bar says "≤")
    ticks = {}
    if log:
        exps = np.arange(np.floor(low), np.ceil(high) + 1)
        step = max(1, int(np.ceil(len(exps) / 8)))
        ticks = dict(tickvals=exps[::step], ticktext=[("≤ " if k == 0 and zmin is not None else "") + f"1e{int(e)}"
                                                        for k, e in enumerate(exps[::step])])
    fig = go.Figure(go.Heatmap(
        x=np.asarray(xs, np.float32), y=np.asarray(ys, np.float32), z=shown.astype(np.float32),
        customdata=z.astype(np.float32), colorscale=MAGMA, zmin=low, zmax=high,
        colorbar=dict(title=dict(text=value_label, side="right"), thickness=12, **ticks),
        hovertemplate=f"x=%{{x:.3g}}<br>y=%{{y:.3g}}<br>{value_label}=%{{customdata:.3g}}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), height=height,
                      margin=dict(l=45, r=0, t=40, b=40),
                      xaxis=dict(title=axis_titles[0], **equal_aspect(xs, ys, same_units)["xaxis"]),
                      yaxis=dict(title=axis_titles[1], **equal_aspect(xs, ys, same_units)["yaxis"]))
    return fig
