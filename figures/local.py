"""Second-order pictures: arrows on a map, the Hessian's signature map, the Taylor window (a map or in 3-D)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from figures.landscape import critical_traces, map_axes, scene_ticks
from figures.style import (
    PATH_COLORS,
    SURFACE_COLORSCALE,
    TOOLBAR_BAND_PX,
    axis_text,
    chart_title,
    top_legend,
    typed_array,
)
from figures.surface_picture import contour_levels, contour_lines, surface_layers
from i18n import mark, tr

# Signature map: how many Hessian eigenvalues are positive (0, 1, 2).
SIGNATURE_COLORS = ("#D6604D", "#F7F7F7", "#4393C3")
SIGNATURE_LABELS = (mark("both negative (concave: maximum-like)"), mark("mixed signs (saddle-like)"),
                    mark("both positive (convex: minimum-like)"))
# The Taylor quadratic's colour in both views (the 3-D mesh, the map's lines), and the true surface's lines on the map:
# a mid blue, seen on the grey raster's dark and light ends and, in the legend, on a light or a dark page.
TAYLOR_COLOR, TRUE_LINE_COLOR = "#E69F00", "#0077BB"


class Arrow(NamedTuple):
    start: tuple[float, float]
    end: tuple[float, float]
    color: str
    text: str = ""
    width: float = 2.5
    label_at: tuple[float, float] | None = None  # where the text goes (centred); None: beside the tip


def step_triangle(theta, carried, gradient_step, scale: float, colors: Sequence[str], texts: Sequence[str],
                  widths: Sequence[float] = (2.5, 2.5, 4.0)) -> list[Arrow]:
    """The momentum step m^{t+1} = λm^t + (−ηg^t) as a triangle: the two parts tip to tail, their sum beside them.

    λm^t runs from θ^t, −ηg^t from its tip, and the sum from θ^t to where the
    second ends, so the sum is the triangle's third side (Arrows drawn
    ``scale`` × their length). Each label sits at its side's middle, pushed
    away from the triangle's centre (never on θ^t, never on another label).
    """
    p0 = np.asarray(theta, np.float64)
    p1 = p0 + scale * np.asarray(carried, np.float64)
    p2 = p1 + scale * np.asarray(gradient_step, np.float64)
    size = max(float(np.linalg.norm(p2 - p0)), float(np.linalg.norm(p1 - p0)), 1e-12)
    arrows = []
    for (a, b, opposite), color, text, width in zip(((p0, p1, p2), (p1, p2, p0), (p0, p2, p1)), colors, texts, widths):
        middle = (a + b) / 2
        side = b - a
        out = np.array([-side[1], side[0]]) / max(float(np.linalg.norm(side)), 1e-300)  # normal to the side …
        if out @ (middle - opposite) < 0:  # … pointing away from the triangle
            out = -out
        arrows.append(Arrow(tuple(a), tuple(b), color, text, width, tuple(middle + 0.2 * size * out)))
    return arrows


def add_arrows(fig: go.Figure, arrows: Sequence[Arrow], row=None, col=None) -> go.Figure:
    """Draw arrows in data coordinates (annotations with axis-referenced tails), labelled at the tip."""
    for a in arrows:
        if not np.all(np.isfinite([*a.start, *a.end])) or np.allclose(a.start, a.end):
            continue
        fig.add_annotation(x=float(a.end[0]), y=float(a.end[1]), ax=float(a.start[0]), ay=float(a.start[1]),
                           xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2,
                           arrowwidth=a.width, arrowcolor=a.color, text="", row=row, col=col)
        if a.text:
            at, anchor = (a.end, ("left", "bottom")) if a.label_at is None else (a.label_at, ("center", "middle"))
            fig.add_annotation(x=float(at[0]), y=float(at[1]), text=a.text, showarrow=False,
                               font=dict(size=12, color=a.color), bgcolor="rgba(255,255,255,0.8)",
                               xanchor=anchor[0], yanchor=anchor[1], row=row, col=col)
    return fig


def point_marker(point, label: str | None = None) -> go.Scatter:
    label = tr("picked point θ'") if label is None else label
    return go.Scatter(x=[float(point[0])], y=[float(point[1])], mode="markers", name=label,
                      marker=dict(size=13, color="#E69F00", symbol="star", line=dict(color="black", width=1)),
                      hovertemplate=f"{label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>")


def eigen_arrows(point, eigenvalues, eigenvectors, span: float, share: float = 0.12) -> list[Arrow]:
    """H's eigenvectors u_i drawn from ``point`` with length ∝ |λ_i|, the longer one ``share`` · ``span`` long.

    Red for a negative eigenvalue (the loss falls along it), blue for a positive one (the palette's first two); labelled λ_i.
    """
    values = np.asarray(eigenvalues, np.float64)
    scale = share * span / max(float(np.max(np.abs(values))), 1e-9)
    p = np.asarray(point, np.float64)
    return [Arrow(tuple(p), tuple(p + np.asarray(eigenvectors)[:, i] * abs(values[i]) * scale),
                  PATH_COLORS[0] if values[i] < 0 else PATH_COLORS[1], f"λ{i + 1} = {values[i]:.3g}") for i in range(len(values))]


def step_arrows(tail, vectors, colors, labels, span: float, share: float = 0.15, widths=None) -> tuple[list[Arrow], float]:
    """Vectors drawn from ``tail``, all scaled by one factor so that the longest is ``share`` · ``span`` long.

    Returns (arrows, the factor), so a caption can say how much they were enlarged.
    """
    vectors = [np.asarray(v, np.float64) for v in vectors]
    longest = max(float(np.linalg.norm(v)) for v in vectors)
    scale = share * span / longest if longest > 0 else 1.0
    t = np.asarray(tail, np.float64)
    widths = widths or [2.5] * len(vectors)
    return [Arrow(tuple(t), tuple(t + scale * v), c, label, w)
            for v, c, label, w in zip(vectors, colors, labels, widths)], scale


def mark_point(fig: go.Figure, point, arrows: Sequence[Arrow] = (), label: str | None = None) -> go.Figure:
    """A map with ``point`` starred and ``arrows`` drawn from it (the picked point and its eigenvectors, a step)."""
    fig.add_trace(point_marker(point, label))
    return add_arrows(fig, arrows)


def signature_figure(xs, ys, positive_count, critical=(), point=None, height: int = 420,
                     title: str = "") -> go.Figure:
    """The domain shaded by the Hessian's signature: 2, 1 or 0 positive eigenvalues; ``title`` names it (beside
    another map, a map says what it is)."""
    colorscale = [[0.0, SIGNATURE_COLORS[0]], [1 / 3, SIGNATURE_COLORS[0]], [1 / 3, SIGNATURE_COLORS[1]],
                  [2 / 3, SIGNATURE_COLORS[1]], [2 / 3, SIGNATURE_COLORS[2]], [1.0, SIGNATURE_COLORS[2]]]
    counts = np.asarray(positive_count, np.float32)
    labels = np.array([tr(text) for text in SIGNATURE_LABELS])[np.asarray(positive_count, int)]
    fig = go.Figure(go.Heatmap(
        x=np.asarray(xs, np.float32), y=np.asarray(ys, np.float32), z=counts, zmin=-0.5, zmax=2.5,
        colorscale=colorscale, customdata=labels, hovertemplate="(%{x:.3g}, %{y:.3g})<br>%{customdata}<extra></extra>",
        colorbar=dict(tickvals=[0, 1, 2], ticktext=[tr("{count} positive", count=k) for k in range(3)], thickness=10,
                      title=dict(text="λ > 0", side="right"))))
    for t in critical_traces(critical):
        fig.add_trace(t)
    if point is not None:
        fig.add_trace(point_marker(point))
    fig.update_layout(height=height, margin=dict(l=45, r=0, t=30, b=40), showlegend=False,
                      title=chart_title(title) if title else dict(text=""),
                      xaxis=dict(title=axis_text("x  (w₁)"), range=[float(xs[0]), float(xs[-1])]),
                      yaxis=dict(title=axis_text("y  (w₂)"), range=[float(ys[0]), float(ys[-1])]))
    return fig


def taylor_figure(local, height: int = 480, uirevision: str = "taylor", mesh_lines: int = 11,
                  title: str = "") -> go.Figure:
    """The true surface (grey, shaded) and its second-order Taylor quadratic around θ' as an orange wire mesh.

    A mesh, not a second translucent surface: two overlapping surfaces blend
    into one colour and the true one cannot be seen under the quadratic.
    ``mesh_lines`` lines run along each axis (NaN gaps separate them).
    """
    c = local.center
    k = len(local.xs)
    rows = np.unique(np.linspace(0, k - 1, mesh_lines).round().astype(int))
    gap = np.full(1, np.nan)
    along_x = [(local.xs, np.full(k, local.ys[i]), local.quadratic[i]) for i in rows]
    along_y = [(np.full(k, local.xs[j]), local.ys, local.quadratic[:, j]) for j in rows]
    mesh = [np.concatenate([part for line in along_x + along_y for part in (line[axis], gap)]) for axis in range(3)]
    fig = go.Figure([
        go.Surface(x=local.xs, y=local.ys, z=local.loss, colorscale=SURFACE_COLORSCALE, showscale=False,
                   name=tr("L (true)"), opacity=1.0, hovertemplate=tr("true L") + "=%{z:.4g}<extra></extra>"),
        go.Scatter3d(x=mesh[0], y=mesh[1], z=mesh[2], mode="lines", line=dict(color=TAYLOR_COLOR, width=4),
                     name=tr("Taylor quadratic Q"), connectgaps=False,
                     hovertemplate=tr("quadratic Q") + "=%{z:.4g}<extra></extra>"),
        go.Scatter3d(x=[c.point[0]], y=[c.point[1]], z=[c.value], mode="markers", name="θ'",
                     marker=dict(size=6, color="black")),
    ])
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=TOOLBAR_BAND_PX if title else 10, b=10),
                      title=chart_title(title) if title else dict(text=""), uirevision=uirevision, showlegend=False,
                      scene=dict(xaxis=dict(title="x", **scene_ticks()), yaxis=dict(title="y", **scene_ticks()),
                                 zaxis=dict(title="L", **scene_ticks()),
                                 aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.7),
                                 camera=dict(eye=dict(x=1.6, y=-1.4, z=0.9))))
    return fig


def taylor_map_figure(local, height: int = 480, uirevision: str = "taylor", levels: int = 12,
                      title: str = "") -> go.Figure:
    """The Taylor window as a map: L shaded, L's contour lines (blue) and Q's at the same levels (orange, dashed).

    Where the two sets of lines lie on each other, Q(θ) = L(θ') + (θ − θ')ᵀg + ½(θ − θ')ᵀH(θ − θ')
    is the surface's picture; where they part, it is not. A ring marks the grid point of the largest gap
    |L − Q| (``LocalQuadratic.largest_gap_at``), ★ is θ'. The same content as ``taylor_figure``, drawn
    in 2-D: no WebGL scene, which in a software-rendered browser costs a page about a second and a half.
    """
    image, (colour_bar, _faint_lines, lattice) = surface_layers(local, log_color=False, hover_grid=len(local.xs))
    steps = contour_levels(local.loss[np.isfinite(local.loss)], levels)
    xs, ys = np.asarray(local.xs, np.float64), np.asarray(local.ys, np.float64)
    true_x, true_y = contour_lines(xs, ys, local.loss, steps)
    quad_x, quad_y = contour_lines(xs, ys, local.quadratic, steps)
    gap = local.largest_gap_at
    c = local.center
    traces = [
        colour_bar, lattice,
        go.Scatter(x=typed_array(true_x), y=typed_array(true_y), mode="lines", name=tr("L (true)"),
                   hoverinfo="skip", line=dict(color=TRUE_LINE_COLOR, width=1.5)),
        go.Scatter(x=typed_array(quad_x), y=typed_array(quad_y), mode="lines",
                   name=tr("Taylor quadratic Q"), hoverinfo="skip",
                   line=dict(color=TAYLOR_COLOR, width=2.2, dash="dash")),
        go.Scatter(x=[gap[0]], y=[gap[1]], mode="markers", name=tr("largest gap |L − Q|"),
                   marker=dict(size=14, symbol="circle-open", color="#C00000", line=dict(width=2.5)),
                   cliponaxis=False,  # often in a corner of the window: drawn whole
                   hovertemplate=tr("largest gap |L − Q|") + f" = {local.max_abs_error:.3g}"
                                 + "<br>(%{x:.4g}, %{y:.4g})<extra></extra>"),
        point_marker(c.point, "θ'"),
    ]
    fig = go.Figure(traces)
    fig.update_layout(
        title=chart_title(title) if title else dict(text=""),
        height=height, margin=dict(l=45, r=0, t=TOOLBAR_BAND_PX, b=40), uirevision=uirevision, images=[image],
        legend=top_legend(height), hovermode="closest", **map_axes(xs, ys))
    return fig
