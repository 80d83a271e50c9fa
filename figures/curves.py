"""Line charts against the step: loss, gradient norm, learning rate, σ."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import plotly.graph_objects as go

from i18n import tr

from figures.style import PATH_COLORS, PrebuiltFigure


class Series(NamedTuple):
    label: str
    y: np.ndarray  # (steps,) or (n, steps): several trajectories of one optimizer
    color_index: int = 0
    dash: str = "solid"
    x: np.ndarray | None = None  # the steps of y's points when not 0, 1, 2, … (measured every k steps)


def wide_range(values, ratio: float = 20.0) -> bool:
    """True when the positive finite values span more than ``ratio``: worth a log axis.

    ``values``: an array, or a list of arrays of any shapes (several runs' curves drawn on one axis).
    """
    if isinstance(values, (list, tuple)):
        values = np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in values]) if values else np.zeros(0)
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return bool(v.size) and v.min() > 0 and v.max() / v.min() > ratio


def step_curves_figure(series: Sequence[Series], *, title: str, y_title: str, log_y: bool = False,
                       height: int = 300, x_title: str | None = None, markers: Sequence[tuple] = (),
                       legend: bool = True, log_x: bool = False, max_points: int = 4000,
                       y_from_zero: bool = False) -> go.Figure:
    """One line per trajectory, coloured by optimizer; NaN (after divergence) leaves a gap.

    ``markers``: (x, y, text) annotations such as "diverged at step k".
    ``log_x``: steps on a log axis (step 0 is drawn at 1). Curves longer than
    ``max_points`` are drawn at that many steps, spaced evenly on the x axis's scale.
    ``y_from_zero``: a linear y axis that starts at 0, so a flat curve looks flat.
    """
    x_title = tr("step t") if x_title is None else x_title
    traces = []
    for s in series:
        ys = np.atleast_2d(np.asarray(s.y, np.float64))
        steps = np.arange(ys.shape[1])
        xs = steps if s.x is None else np.asarray(s.x)
        if ys.shape[1] > max_points:
            steps = (np.unique(np.round(np.geomspace(1, ys.shape[1], max_points)).astype(int) - 1) if log_x
                     else np.unique(np.linspace(0, ys.shape[1] - 1, max_points).astype(int)))
        for j, y in enumerate(ys[:, steps]):
            if log_y:
                y = np.where(y > 0, y, np.nan)
            # SVG, not WebGL: a curve has at most max_points points, and every WebGL chart costs the page a
            # context of its own (0.2-0.7 s each in headless Chromium's software WebGL, bench_page_draw.py).
            traces.append(go.Scatter(
                x=(np.maximum(xs[steps], 1) if log_x else xs[steps]).astype(np.int32 if s.x is None else np.float32),
                y=y.astype(np.float32),
                mode="lines", name=s.label,
                legendgroup=s.label, showlegend=legend and j == 0,
                line=dict(color=PATH_COLORS[s.color_index % len(PATH_COLORS)], width=2, dash=s.dash),
                hovertemplate=f"{s.label}<br>t=%{{x}}<br>%{{y:.4g}}<extra></extra>"))
    fig = PrebuiltFigure(data=traces, raw_layout=dict(
        title=dict(text=title, x=0.01, font=dict(size=14)), height=height, margin=dict(l=50, r=10, t=40, b=40),
        xaxis=dict(title=dict(text=x_title), type="log" if log_x else "linear"),
        yaxis=dict(title=dict(text=y_title), type="log" if log_y else "linear", exponentformat="power",
                   rangemode="tozero" if y_from_zero and not log_y else "normal", minor=dict(showgrid=False)),
        legend=dict(orientation="h", yanchor="top", y=-0.25, x=0, bgcolor="rgba(0,0,0,0)"),
        hovermode="x unified"))
    for x, y, text in markers:
        fig.add_annotation(x=x, y=np.log10(y) if log_y and y > 0 else y, text=text, showarrow=True, arrowhead=2,
                           font=dict(size=11))
    return fig


def probability_bars_figure(logits, probabilities, target: int, height: int = 300) -> go.Figure:
    """Softmax outputs as bars (the target class highlighted), the logits written on them."""
    n = len(probabilities)
    names = [tr("class {k}", k=i + 1) for i in range(n)]
    colors = [PATH_COLORS[2] if i == target else PATH_COLORS[1] for i in range(n)]
    fig = go.Figure(go.Bar(x=names, y=np.asarray(probabilities, np.float64), marker_color=colors,
                           text=[f"y = {v:g}" for v in logits], textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}<br>y′ = %{y:.4g}<br>%{text}<extra></extra>"))
    fig.update_layout(title=dict(text=tr("y′ = softmax(y) (green: the target class)"), x=0.01, font=dict(size=14)),
                      height=height, margin=dict(l=50, r=10, t=40, b=30),
                      yaxis=dict(title="y′", range=[0, 1.15]), showlegend=False)
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
    fig.add_trace(go.Scatter(x=np.asarray(grid, np.float64), y=np.maximum(density, 1e-5 * density.max()),
                             mode="lines", name=tr("density (stochastic Lanczos quadrature)"),
                             line=dict(color=PATH_COLORS[0], width=2)))
    fig.update_layout(title=dict(text=tr("Eigenvalue density of the Hessian"), x=0.01, font=dict(size=14)), height=height,
                      margin=dict(l=50, r=10, t=40, b=40), xaxis=dict(title=tr("eigenvalue λ")),
                      yaxis=dict(title=tr("density"), type="log", exponentformat="power"), bargap=0,
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return fig


def scatter_figure(x, y, *, title: str, x_title: str, y_title: str, text=None, height: int = 360,
                   log_x: bool = False) -> go.Figure:
    """Points (one per run), hover text per point."""
    fig = go.Figure(go.Scatter(x=np.asarray(x, np.float64), y=np.asarray(y, np.float64), mode="markers",
                               marker=dict(size=10, color=PATH_COLORS[1], line=dict(color="white", width=1)),
                               text=text, hovertemplate="%{text}<extra></extra>" if text is not None else None))
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), height=height,
                      margin=dict(l=50, r=10, t=40, b=40), xaxis=dict(title=x_title, type="log" if log_x else "linear"),
                      yaxis=dict(title=y_title), showlegend=False)
    return fig
