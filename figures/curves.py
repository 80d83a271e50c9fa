"""Line charts against the step: loss, gradient norm, learning rate, σ."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from figures.overlap import first_equal, same_values
from figures.prebuilt import PrebuiltFigure
from figures.style import (
    NOTE_BACKGROUND,
    PATH_COLORS,
    PATH_OUTLINE,
    THEME_GREY,
    bottom_legend,
    chart_title,
    log_axis,
    path_color,
    path_dash,
    path_symbol,
    y_title_above,
)
from i18n import tr


class Series(NamedTuple):
    label: str
    y: np.ndarray  # (steps,) or (n, steps): several trajectories of one optimizer
    color_index: int = 0
    dash: str | None = None  # None: the colour's own dash (``path_dash(color_index)``), as on the maps
    x: np.ndarray | None = None  # the steps of y's points when not 0, 1, 2, … (measured every k steps)
    group: str | None = None  # legend entry shared by several series (one per optimizer); default: label


# The name of a step chart's cursor shape (``step_curves_figure(cursor=...)``): controls/follow_step.js finds the
# shape by it and moves it to the step an animated map beside the chart shows.
STEP_CURSOR = "step cursor"

# Marks per curve where a chart needs them (``curve_styles``): enough to name a curve anywhere along it, few enough
# not to hide it. plotly.js draws every k-th point and offsets successive curves' marks, so they do not overlap.
MARKS_PER_CURVE = 9


def curve_styles(series: Sequence[Series]) -> dict[str, dict]:
    """Each legend group's look: colour, dash and, where two groups of different colours share a dash (a chart whose
    dashes say something else, e.g. the loss on Classification), a mark per colour as well, so that no two
    curves differ by colour alone (a red–green colour-blind student in a class of forty sees them apart).
    """
    looks = {}
    for s in series:
        looks.setdefault(s.group or s.label, (s.color_index, path_dash(s.color_index) if s.dash is None else s.dash))
    shared_dash = any(a[1] == b[1] and a[0] != b[0] for i, a in enumerate(looks.values())
                      for b in list(looks.values())[i + 1:])
    return {group: dict(line=dict(color=path_color(colour), width=2, dash=dash),
                        **(dict(mode="lines+markers", marker=dict(symbol=path_symbol(colour), size=8,
                                                                  color=path_color(colour),
                                                                  maxdisplayed=MARKS_PER_CURVE))
                           if shared_dash else dict(mode="lines")))
            for group, (colour, dash) in looks.items()}


def axis_span(heights: Sequence[np.ndarray]) -> float:
    """The span of the finite heights as drawn on the y axis (log10 of the values on a log axis); 0 if none."""
    finite = np.concatenate([np.ravel(h)[np.isfinite(np.ravel(h))] for h in heights]) if len(heights) else np.zeros(0)
    return float(finite.max() - finite.min()) if finite.size else 0.0


def same_curve_labels(groups: Sequence[str], curves: Sequence[tuple[np.ndarray, np.ndarray]], span: float) -> dict:
    """group -> its legend text: "B (the same curve as A)" for a group drawn on top of an earlier one, judged
    against the axis's ``span`` (``axis_span``); each group's own name when the span is 0 (nothing to judge)."""
    if span <= 0:
        return {g: g for g in groups}
    same = first_equal(list(curves), lambda a, b: np.array_equal(a[0], b[0]) and same_values(a[1], b[1], span))
    return {g: g if j is None else tr("{label} (the same curve as {other})", label=g, other=groups[j])
            for g, j in zip(groups, same)}


def wide_range(values, ratio: float = 20.0) -> bool:
    """True when the positive finite values span more than ``ratio`` and none is negative: worth a log axis.

    ``values``: an array, or a list of arrays of any shapes (several runs' curves drawn on one axis).
    A value of exactly 0 (a loss that reached its minimum in float32) does not rule the log axis out: that point
    is left out of the drawn curve, where a linear axis would have pressed every curve flat against 0.
    """
    if isinstance(values, (list, tuple)):
        values = np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in values]) if values else np.zeros(0)
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if (v < 0).any():
        return False
    v = v[v > 0]
    return bool(v.size) and v.max() / v.min() > ratio


def step_curves_figure(series: Sequence[Series], *, title: str, y_title: str, log_y: bool = False,
                       height: int = 300, x_title: str | None = None, markers: Sequence[tuple] = (),
                       legend: bool = True, log_x: bool = False, max_points: int = 4000,
                       y_from_zero: bool = False, marker_label: str = "", cursor: bool | float = False) -> go.Figure:
    """One line per trajectory, coloured by optimizer; NaN (after divergence) leaves a gap.

    ``markers``: (x, y, text) points marked with a ▼ and a short text above it
    (one trace named ``marker_label``, e.g. the bursts numbered 1, 2, …).
    ``log_x``: steps on a log axis (step 0 is drawn at 1). Curves longer than
    ``max_points`` are drawn at that many steps, spaced evenly on the x axis's scale.
    ``y_from_zero``: a linear y axis that starts at 0, so a flat curve looks flat.
    ``cursor``: a thin vertical line (a layout shape named ``STEP_CURSOR``) at a step, for a chart that follows an
    animated map's current step (``controls.chart(..., follows=...)``). True: at the last step drawn, where an
    animated map opens (its slider starts on its last frame, ``animation_controls``); a number: at that step.
    """
    x_title = tr("step t") if x_title is None else x_title
    drawn = []  # (series, x, y) of every trajectory, as drawn
    reached_zero = []  # (series, x, y, step of the first 0) where a curve becomes exactly 0: a log axis cannot draw 0
    for s in series:
        ys = np.atleast_2d(np.asarray(s.y, np.float64))
        steps = np.arange(ys.shape[1])
        xs = steps if s.x is None else np.asarray(s.x)
        if ys.shape[1] > max_points:
            steps = (np.unique(np.round(np.geomspace(1, ys.shape[1], max_points)).astype(int) - 1) if log_x
                     else np.unique(np.linspace(0, ys.shape[1] - 1, max_points).astype(int)))
        for y in ys[:, steps]:
            x = (np.maximum(xs[steps], 1) if log_x else xs[steps]).astype(np.int32 if s.x is None else np.float32)
            if log_y:
                zero = np.flatnonzero(y == 0)
                if zero.size and zero[0] > 0 and y[zero[0] - 1] > 0:
                    reached_zero.append((s, float(x[zero[0] - 1]), float(y[zero[0] - 1]), int(x[zero[0]])))
                y = np.where(y > 0, y, np.nan)
            drawn.append((s, x, y))
    shown_x = [np.asarray(x, np.float64) for _, x, _ in drawn]
    shown_y = [y for _, _, y in drawn]
    looks = curve_styles(series)
    groups = list(looks)
    on_axis = [np.log10(y) if log_y else y for y in shown_y]  # what the eye compares: the drawn heights
    first_of = {}
    for (s, x, _), v in zip(drawn, on_axis):
        first_of.setdefault(s.group or s.label, (x, v))
    names = same_curve_labels(groups, [first_of[g] for g in groups], axis_span(on_axis))
    traces, listed = [], set()
    for s, x, y in drawn:
        group = s.group or s.label
        # SVG, not WebGL: a curve has at most max_points points, and every WebGL chart costs the page a
        # context of its own (costly with software WebGL: bench/bench_page_draw.py, docs/performance_log.md).
        traces.append(go.Scatter(
            x=x, y=y.astype(np.float32), name=names[group],
            legendgroup=group, showlegend=legend and group not in listed, **looks[group],
            hovertemplate=f"{s.label}<br>t=%{{x}}<br>%{{y:.4g}}<extra></extra>"))
        listed.add(group)
    entry_names = [names[g] for g in groups if g in listed] if legend else []
    entry_names += [marker_label] if markers and marker_label else []
    entries = len(entry_names)
    legend_box, bottom = bottom_legend(entry_names) if entries else (dict(), 40)
    all_x = np.concatenate(shown_x) if shown_x else np.ones(1)
    all_y = np.concatenate(shown_y) if shown_y else np.ones(1)
    x_axis = dict(title=dict(text=x_title))
    y_axis = dict(title=dict(text=""), exponentformat="power",
                  rangemode="tozero" if y_from_zero and not log_y else "normal")
    if markers and log_y:  # a decade of room above the highest mark for its number, inside the plot
        finite = all_y[np.isfinite(all_y) & (all_y > 0)]
        span = float(np.log10(finite.max() / finite.min()))  # room for ▼ and its number: 18 % of the axis
        top = max(float(np.log10(max(m[1] for m in markers))) + max(1.0, 0.18 * span),
                  float(np.log10(finite.max())) + 0.2)
        y_axis["range"] = [float(np.log10(finite.min())) - 0.2, top]
    fig = PrebuiltFigure(data=traces, raw_layout=dict(
        title=chart_title(title), height=height + (bottom - 40), margin=dict(l=50, r=10, t=52, b=bottom),
        xaxis=log_axis(all_x, **x_axis) if log_x else {**x_axis, "type": "linear"},
        yaxis=log_axis(all_y, **y_axis) if log_y else {**y_axis, "type": "linear"},
        legend=legend_box, showlegend=bool(entries), hovermode="x unified",
        **(dict(shapes=[step_cursor(float(all_x.max()) if cursor is True else float(cursor))])
           if cursor is not False and cursor is not None else {})))
    fig.add_annotation(**y_title_above(y_title))
    hidden = [names[g] for g in groups if names[g] != g]
    if hidden and not entries:  # no legend to say it: the chart says which curves lie on which, inside the plot
        fig.add_annotation(text="<br>".join(hidden), x=0.01, y=0.99, xref="paper", yref="paper", xanchor="left",
                           yanchor="top", showarrow=False, align="left", font=dict(size=11))
    if reached_zero:  # the curve ends where L is exactly 0 (float32): an end mark says so, not a silent gap
        first = {}
        for s, x, y, at in reached_zero:
            first.setdefault(s.group or s.label, (s, x, y, at))
        label = tr("L = 0 from here (a log axis cannot draw 0)")
        fig.add_trace(go.Scatter(
            x=[v[1] for v in first.values()], y=[v[2] for v in first.values()], mode="markers", name=label,
            showlegend=bool(entries), marker=dict(symbol="x-thin-open", size=12, line=dict(width=2.5),
                                                  color=[path_color(v[0].color_index) for v in first.values()]),
            text=[v[0].label for v in first.values()], customdata=[v[3] for v in first.values()],
            hovertemplate="%{text}: " + tr("L = 0 from step {step}", step="%{customdata}") + "<extra></extra>"))
    if markers:  # one trace of marks, each numbered just above its point: short labels that do not collide
        xs, ys, texts = zip(*markers)
        fig.add_trace(go.Scatter(x=np.asarray(xs, np.float64), y=np.asarray(ys, np.float64), mode="markers+text",
                                 name=marker_label, text=list(texts), textposition="top center",
                                 textfont=dict(size=11), showlegend=bool(marker_label),
                                 marker=dict(symbol="triangle-down", size=10, color=THEME_GREY,
                                             line=dict(color=PATH_OUTLINE, width=1)),
                                 hovertemplate=f"{marker_label} %{{text}}<br>t=%{{x}}<extra></extra>"))
    return fig


def step_cursor(step: float) -> dict:
    """The layout shape of a step chart's cursor: a thin vertical line over the whole plot at x = ``step``.

    Grey, dotted and partly transparent, so that it reads on the light and the dark theme and hides no curve;
    above the curves, so that a curve running along it does not hide it.
    """
    return dict(type="line", name=STEP_CURSOR, xref="x", yref="paper", x0=step, x1=step, y0=0, y1=1,
                layer="above", line=dict(color="rgba(110, 110, 110, 0.75)", width=1.5, dash="dot"))


def per_parameter_figure(series: Sequence[Series], *, title: str, y_title: str, panels: Sequence[str],
                         log_y: bool = True, height: int = 300, spacing: float = 0.04) -> go.Figure:
    """One small panel per parameter, side by side on one shared y axis: ``Series.y`` is (steps, parameters).

    The panels, not a line style, tell the parameters apart, so each run keeps its colour and dash pattern from
    the map (``Series.color_index``, ``Series.dash``) in every panel, and the shared axis lets a reader compare
    one run's σ_x with its σ_y at a glance. ``panels``: the panel titles, one per parameter.

    The layout is written out as ``make_subplots(rows=1, cols=len(panels), shared_yaxes=True,
    subplot_titles=panels, horizontal_spacing=spacing)`` would make it (tested against it): built through
    plotly.py's validated setters, it was a sixth of a busy server's Python time.
    """
    n = len(panels)
    width = (1.0 - spacing * (n - 1)) / n
    left = [j * (width + spacing) for j in range(n)]  # each panel's domain starts here (paper coordinates)
    axis = lambda letter, j: letter + (str(j + 1) if j else "")  # noqa: E731  x, x2, x3 …
    looks = curve_styles(series)
    groups = list(looks)
    drawn = {}  # group -> (steps, parameters) as drawn
    for s in series:
        ys = np.asarray(s.y, np.float64)
        drawn.setdefault(s.group or s.label, np.where(ys > 0, ys, np.nan) if log_y else ys)
    values = np.concatenate([v.ravel() for v in drawn.values()]) if drawn else np.ones(1)
    curves = [(np.arange(len(drawn[g])), np.log10(drawn[g]) if log_y else drawn[g]) for g in groups]
    names = same_curve_labels(groups, curves, axis_span([h for _, h in curves]))
    traces, listed = [], set()
    for s in series:
        group = s.group or s.label
        ys = np.asarray(s.y, np.float64)
        steps = np.arange(ys.shape[0], dtype=np.int32)
        for j in range(n):
            y = np.where(ys[:, j] > 0, ys[:, j], np.nan) if log_y else ys[:, j]
            traces.append(go.Scatter(
                x=steps, y=y.astype(np.float32), name=names[group], legendgroup=group,
                showlegend=group not in listed, **looks[group],
                hovertemplate=f"{s.label} ({panels[j]})<br>t=%{{x}}<br>%{{y:.4g}}<extra></extra>",
                xaxis=axis("x", j), yaxis=axis("y", j)))
            listed.add(group)
    legend_box, bottom = bottom_legend([names[g] for g in groups]) if groups else (dict(), 40)
    y_axis = log_axis(values, exponentformat="power") if log_y else dict(type="linear")
    layout = dict(title=chart_title(title), height=height + (bottom - 40), margin=dict(l=50, r=10, t=60, b=bottom),
                  legend=legend_box, showlegend=bool(names), hovermode="x unified",
                  annotations=[dict(text=name, x=left[j] + width / 2, xanchor="center", xref="paper", y=1.0,
                                    yanchor="bottom", yref="paper", showarrow=False, font=dict(size=16))
                               for j, name in enumerate(panels)] + [y_title_above(y_title)])
    for j in range(n):
        layout["xaxis" + axis("", j)] = dict(anchor=axis("y", j), domain=[left[j], left[j] + width],
                                             title=dict(text=tr("step t")))
        layout["yaxis" + axis("", j)] = dict(anchor=axis("x", j), domain=[0.0, 1.0], **y_axis,
                                             **(dict(matches="y", showticklabels=False) if j else {}))
    return PrebuiltFigure(data=traces, raw_layout=layout)


def probability_bars_figure(logits, probabilities, target: int, height: int = 300) -> go.Figure:
    """Softmax outputs as bars (the target class highlighted), the logits written on them."""
    n = len(probabilities)
    names = [tr("class {k}", k=i + 1) for i in range(n)]
    colors = [PATH_COLORS[2] if i == target else PATH_COLORS[1] for i in range(n)]
    fig = go.Figure(go.Bar(x=names, y=np.asarray(probabilities, np.float64), marker_color=colors,
                           text=[f"y = {v:g}" for v in logits], textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}<br>y′ = %{y:.4g}<br>%{text}<extra></extra>"))
    fig.update_layout(title=chart_title(tr("y′ = softmax(y) (green: the target class)")),
                      height=height, margin=dict(l=50, r=10, t=52, b=30),
                      yaxis=dict(range=[0, 1.15]), showlegend=False)
    fig.add_annotation(**y_title_above("y′"))
    return fig


def spectrum_figure(grid, density, eigenvalues=None, height: int = 340) -> go.Figure:
    """The Hessian's eigenvalue density (stochastic Lanczos quadrature), with the exact eigenvalues' histogram if known.

    Log y: a network's spectrum is a bulk near 0 and a few outliers.
    """
    fig = go.Figure()
    if eigenvalues is not None:
        fig.add_trace(go.Histogram(x=np.asarray(eigenvalues, np.float64), histnorm="probability density", nbinsx=120,
                                   name=tr("exact eigenvalues (dense Hessian)"), marker_color=PATH_COLORS[1], opacity=0.5))
    density = np.asarray(density, np.float64)
    shown = np.maximum(density, 1e-5 * density.max())
    fig.add_trace(go.Scatter(x=np.asarray(grid, np.float64), y=shown,
                             mode="lines", name=tr("density (stochastic Lanczos quadrature)"),
                             line=dict(color=PATH_COLORS[0], width=2)))
    legend, bottom = bottom_legend([t.name for t in fig.data])
    fig.update_layout(title=chart_title(tr("Eigenvalue density of the Hessian")), height=height + bottom - 40,
                      margin=dict(l=50, r=10, t=52, b=bottom), xaxis=dict(title=tr("eigenvalue λ")),
                      yaxis=log_axis(shown, exponentformat="power"), bargap=0, legend=legend)
    fig.add_annotation(**y_title_above(tr("density")))
    return fig


def scatter_figure(x, y, *, title: str, x_title: str, y_title: str, text=None, height: int = 360,
                   log_x: bool = False, x_range: tuple[float, float] | None = None,
                   x_marks: Sequence[tuple[float, str]] = ()) -> go.Figure:
    """Points (one per run), hover text per point.

    ``x_range``: a fixed x range (the point of a figure can be where no point is);
    ``x_marks``: (x, label) vertical reference lines, labelled at the top.
    """
    x = np.asarray(x, np.float64)
    fig = go.Figure(go.Scatter(x=x, y=np.asarray(y, np.float64), mode="markers",
                               marker=dict(size=10, color=PATH_COLORS[1], line=dict(color="white", width=1)),
                               text=text, hovertemplate="%{text}<extra></extra>" if text is not None else None))
    x_axis = dict(title=x_title)
    if x_range is not None:
        x_axis["range"] = [np.log10(v) for v in x_range] if log_x else list(x_range)
    fig.update_layout(title=chart_title(title), height=height,
                      margin=dict(l=50, r=10, t=52, b=40),
                      xaxis=log_axis(x, **x_axis) if log_x else x_axis, showlegend=False)
    fig.add_annotation(**y_title_above(y_title))
    for value, label in x_marks:
        fig.add_vline(x=value, line=dict(color=PATH_COLORS[0], width=2, dash="dash"))
        fig.add_annotation(x=value, y=1, xref="x", yref="paper", text=label, showarrow=False, xanchor="right",
                           yanchor="top", font=dict(size=12, color=PATH_COLORS[0]), bgcolor=NOTE_BACKGROUND)
    return fig


def minimum_ratio_figure(ratio, loss, *, text=None, height: int = 360) -> go.Figure:
    """The lecture's figure (1.4): training loss against the minimum ratio at critical points.

    The x axis always runs to 1 with the line at 1 marked: the point of the
    figure is that (almost) no point reaches it — true local minima are rare.
    """
    ratio = np.asarray(ratio, np.float64)
    low = float(np.nanmin(ratio)) if np.isfinite(ratio).any() else 0.5
    return scatter_figure(ratio, loss, title=tr("Training loss against minimum ratio at critical points"),
                          x_title=tr("minimum ratio (share of positive eigenvalues)"), y_title=tr("training loss"),
                          text=text, height=height, x_range=(min(0.5, low - 0.02), 1.02),
                          x_marks=[(1.0, tr("1: local minimum"))])
