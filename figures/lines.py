"""One-dimensional pictures: momentum's gradient weights, a ball on a curve, timings, train vs test curves."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.prebuilt import PrebuiltFigure
from figures.style import (
    LANDSCAPE,
    NOTE_BACKGROUND,
    PATH_COLORS,
    PATH_OUTLINE,
    SURFACE_COLORSCALE,
    THEME_GREY,
    Float32Rows,
    animation_controls,
    bottom_legend,
    chart_title,
    frame_indices,
    log_axis,
    path_color,
    path_dash,
    path_symbol,
    typed_array,
    y_title_above,
)
from i18n import tr


def weights_figure(weights, t: int, momentum: float, height: int = 300) -> go.Figure:
    """Bars λ^k over the gradients g^{t−1−k} that make up m^t (newest on the right)."""
    w = np.asarray(weights, np.float64)
    k = np.arange(len(w))
    labels = [f"g<sup>{t - 1 - j}</sup>" for j in k]
    fig = go.Figure(go.Bar(x=labels[::-1], y=w[::-1], marker_color=PATH_COLORS[1],
                           hovertemplate=tr("weight of {x}: {y}", x="%{x}", y="%{y:.3g}") + "<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=50, r=10, t=52, b=40),
                      title=chart_title(f"m<sup>{t}</sup> = −η Σ λ<sup>k</sup> g<sup>{t}−1−k</sup>, λ = {momentum:g}"),
                      xaxis=dict(title=tr("gradient (oldest → newest)"), type="category",
                                 nticks=min(len(w), 12)),
                      yaxis=dict(range=[0, 1.05]))
    fig.add_annotation(**y_title_above(tr("weight λ<sup>k</sup>")))
    return fig


class LinePath(NamedTuple):
    label: str
    s: np.ndarray  # (steps + 1,) positions along the line
    loss: np.ndarray  # (steps + 1,)


def line_race_figure(s_grid, profile, runs: Sequence[LinePath], *, max_frames: int = 100, duration_ms: int = 60,
                     height: int = 380, x_title: str | None = None) -> go.Figure:
    """Balls rolling on a 1-D loss curve, animated in the browser; each leaves a faint trail."""
    x_title = tr("s (distance along the line)") if x_title is None else x_title
    steps = len(runs[0].s) - 1
    idx = frame_indices(steps, max_frames)
    curve = go.Scatter(x=np.asarray(s_grid, np.float32), y=np.asarray(profile, np.float32), mode="lines",
                       name=tr("L along the line"), line=dict(color=THEME_GREY, width=2), hoverinfo="skip",
                       meta=LANDSCAPE)

    s_rows, loss_rows = [Float32Rows(r.s) for r in runs], [Float32Rows(r.loss) for r in runs]

    def moving(upto: int) -> list[dict]:
        trails = [dict(type="scatter", x=s.first(upto + 1, gap=False), y=loss.first(upto + 1, gap=False))
                  for s, loss in zip(s_rows, loss_rows)]
        balls = [dict(type="scatter", x=typed_array(r.s[upto:upto + 1]), y=typed_array(r.loss[upto:upto + 1]))
                 for r in runs]
        return trails + balls

    final = moving(steps)
    traces = [go.Scatter(**final[i], mode="lines", name=tr("{label} (trail)", label=r.label), showlegend=False,
                         line=dict(color=path_color(i), width=1.5, dash=path_dash(i)), opacity=0.6,
                         hoverinfo="skip") for i, r in enumerate(runs)]
    traces += [go.Scatter(**final[len(runs) + i], mode="markers", name=r.label,
                          marker=dict(size=16, color=path_color(i), symbol=path_symbol(i),
                                      line=dict(color=PATH_OUTLINE, width=2)),
                          hovertemplate=f"{r.label}<br>s=%{{x:.3g}}<br>L=%{{y:.4g}}<extra></extra>")
               for i, r in enumerate(runs)]
    ids = list(range(1, 1 + 2 * len(runs)))
    frames = [dict(data=moving(int(k)), traces=ids, name=str(int(k))) for k in idx]
    fig = PrebuiltFigure(data=[curve, *traces], raw_frames=frames,
                         raw_layout=animation_controls([str(int(k)) for k in idx], duration_ms, y=-0.2))
    # The y range covers what the balls visit, not the far walls of the curve.
    visited = np.concatenate([np.asarray(r.loss, np.float64) for r in runs])
    lo = float(np.nanmin(profile))
    hi = float(np.nanmax(visited[np.isfinite(visited)])) if np.isfinite(visited).any() else float(np.nanmax(profile))
    pad = 0.08 * ((hi - lo) or 1.0)
    fig.update_layout(height=height, margin=dict(l=50, r=10, t=50, b=130), hovermode="closest",
                      xaxis=dict(title=x_title, range=[float(s_grid[0]), float(s_grid[-1])]),
                      yaxis=dict(range=[lo - pad, hi + pad]),
                      legend=dict(orientation="h", yref="container", yanchor="top", y=1, x=0))
    fig.add_annotation(**y_title_above("L"))
    return fig


def timing_figure(timing, height: int = 360) -> go.Figure:
    """Seconds per update and per epoch against batch size, log–log."""
    fig = go.Figure()
    # Colour, dash and marker all differ, so the two curves read without colour vision.
    for y, name, color, dash, symbol in ((timing.seconds_per_update, tr("one update"), PATH_COLORS[1], "solid", "circle"),
                                         (timing.seconds_per_epoch, tr("one epoch"), PATH_COLORS[0], "dash", "square")):
        fig.add_trace(go.Scatter(x=timing.batch_sizes, y=np.asarray(y) * 1e3, mode="lines+markers", name=name,
                                 line=dict(color=color, width=2.5, dash=dash), marker=dict(symbol=symbol, size=8),
                                 hovertemplate=f"{name}<br>B=%{{x}}<br>%{{y:.3g}} ms<extra></extra>"))
    full = np.flatnonzero(np.asarray(timing.batch_sizes) >= timing.examples)
    if full.size:  # B = N: an epoch is one update, and the two curves meet; say so where they do
        k = int(full[0])
        fig.add_annotation(x=float(np.log10(timing.batch_sizes[k])), y=float(np.log10(timing.seconds_per_update[k] * 1e3)),
                           text=tr("B = N: one epoch = one update"), showarrow=True, arrowhead=0, ax=-10, ay=-36,
                           xanchor="right", font=dict(size=11), bgcolor=NOTE_BACKGROUND)
    legend, bottom = bottom_legend([tr("one update"), tr("one epoch")])
    fig.update_layout(height=height + bottom - 40, margin=dict(l=55, r=10, t=52, b=bottom),
                      title=chart_title(tr("Measured on {device}, N = {count:,}", device=timing.device,
                                           count=timing.examples)),
                      xaxis=log_axis(timing.batch_sizes, title=tr("batch size B")),
                      yaxis=log_axis(np.concatenate([timing.seconds_per_update, timing.seconds_per_epoch]) * 1e3),
                      legend=legend, hovermode="x unified")
    fig.add_annotation(**y_title_above(tr("time (ms)")))
    return fig


def train_test_figure(s, train, test, minima: Sequence[tuple[str, float]], height: int = 360) -> go.Figure:
    """Training loss and a shifted test loss along one line, test loss read off at each minimum."""
    fig = go.Figure([
        go.Scatter(x=s, y=train, mode="lines", name=tr("training loss"), line=dict(color=PATH_COLORS[1], width=2.5)),
        go.Scatter(x=s, y=test, mode="lines", name=tr("test loss (shifted)"),
                   line=dict(color=PATH_COLORS[0], width=2.5, dash="dash")),
    ])
    for label, x in minima:
        i = int(np.argmin(np.abs(np.asarray(s) - x)))
        fig.add_trace(go.Scatter(x=[x, x], y=[train[i], test[i]], mode="lines+markers", showlegend=False,
                                 line=dict(color=THEME_GREY, width=1.5, dash="dot"), marker=dict(size=8, color=THEME_GREY),
                                 hovertemplate=f"{label}<br>%{{y:.3g}}<extra></extra>"))
        # Written just above the plot, over its minimum: never on a curve.
        fig.add_annotation(x=x, y=1, xref="x", yref="paper", yanchor="bottom", yshift=2, text=tr("{label}: test {value:.2f}",
                           label=label, value=test[i]), showarrow=False, font=dict(size=12),
                           bgcolor=NOTE_BACKGROUND)
    fig.update_layout(height=height, margin=dict(l=50, r=10, t=70, b=40), xaxis_title=tr("x (slice y = 0)"),
                      legend=dict(orientation="h", yref="container", yanchor="top", y=1, x=0))
    fig.add_annotation(**y_title_above("L"))
    return fig


def batch_surfaces_figure(ws, bs, panels, height: int = 330, stall=None, stall_label: str = "") -> go.Figure:
    """Small multiples: the full-batch loss and mini-batch losses, each with its minimum (or curve of minima).

    ``stall`` (w, b), if given, is marked ✕ on every panel: where full-batch
    gradient descent stopped, so the student sees that no mini-batch surface
    has its minimum there.
    """
    # Two panels a row: four in one row left a phone's screen 90 px a panel, their titles written over each
    # other; two a row reads on a phone and a projector alike.
    cols = min(2, len(panels))
    rows = -(-len(panels) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p.label for p in panels],
                        horizontal_spacing=0.06, vertical_spacing=0.12, shared_yaxes=True,
                        shared_xaxes=True)  # tick labels under the last row only: a shorter figure (a projector's)
    # wrote the lower titles over the upper row's tick labels
    ws, bs = np.asarray(ws, np.float64), np.asarray(bs, np.float64)
    # float32 for the grids (sent as typed arrays): colours and a 3-digit hover need no more, and four float64
    # grids were 1 MB, half of everything the page sent.
    ws32, bs32 = ws.astype(np.float32), bs.astype(np.float32)
    for k, p in enumerate(panels):
        row, col = divmod(k, cols)
        row, col = row + 1, col + 1
        fig.add_trace(go.Contour(x=ws32, y=bs32,
                                 z=np.log10(p.loss + 1e-3).astype(np.float32), colorscale=SURFACE_COLORSCALE,
                                 showscale=False, ncontours=20, line=dict(width=0.4, color="rgba(255,255,255,0.4)"),
                                 customdata=np.asarray(p.loss, np.float32), name=p.label,
                                 hovertemplate="w=%{x:.3g}<br>b=%{y:.3g}<br>L=%{customdata:.3g}<extra></extra>"),
                      row=row, col=col)
        if p.minimum is not None:
            fig.add_trace(go.Scatter(x=[p.minimum[0]], y=[p.minimum[1]], mode="markers", showlegend=False,
                                     marker=dict(size=12, color="white", line=dict(color="black", width=2)),
                                     hovertemplate=tr("minimum of {label}", label=p.label) + "<br>w=%{x:.3g}, b=%{y:.3g}<extra></extra>"),
                          row=row, col=col)
        elif p.curve is not None:  # one example: every (w, b) with f(w, x) + b = y is a minimum
            fig.add_trace(go.Scatter(x=ws, y=p.curve, mode="lines", showlegend=False,
                                     line=dict(color="white", width=3, dash="dot"), hoverinfo="skip"),
                          row=row, col=col)
        if stall is not None:
            fig.add_trace(go.Scatter(x=[stall[0]], y=[stall[1]], mode="markers", showlegend=False,
                                     marker=dict(size=11, symbol="x", color=PATH_COLORS[0],
                                                 line=dict(color=PATH_OUTLINE, width=1.5)),
                                     hovertemplate=stall_label + "<br>w=%{x:.3g}, b=%{y:.3g}<extra></extra>"),
                          row=row, col=col)
        fig.update_xaxes(range=[ws[0], ws[-1]], title_text="w" if row == rows else None, row=row, col=col)
        fig.update_yaxes(range=[bs[0], bs[-1]], title_text="b" if col == 1 else None, row=row, col=col)
    fig.update_layout(height=height * rows, margin=dict(l=45, r=10, t=40, b=40))
    return fig
