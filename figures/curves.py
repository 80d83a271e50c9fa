"""Line charts against the step: loss, gradient norm, learning rate, σ."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import plotly.graph_objects as go

from figures.style import PATH_COLORS


class Series(NamedTuple):
    label: str
    y: np.ndarray  # (steps,) or (n, steps): several trajectories of one optimizer
    color_index: int = 0
    dash: str = "solid"


def wide_range(values, ratio: float = 20.0) -> bool:
    """True when the positive finite values span more than ``ratio``: worth a log axis."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return bool(v.size) and v.min() > 0 and v.max() / v.min() > ratio


def step_curves_figure(series: Sequence[Series], *, title: str, y_title: str, log_y: bool = False,
                       height: int = 300, x_title: str = "step t", markers: Sequence[tuple] = (),
                       legend: bool = True) -> go.Figure:
    """One line per trajectory, coloured by optimizer; NaN (after divergence) leaves a gap.

    ``markers``: (x, y, text) annotations such as "diverged at step k".
    """
    fig = go.Figure()
    for s in series:
        ys = np.atleast_2d(np.asarray(s.y, np.float64))
        for j, y in enumerate(ys):
            if log_y:
                y = np.where(y > 0, y, np.nan)
            fig.add_trace(go.Scattergl(
                x=np.arange(len(y), dtype=np.int32), y=y.astype(np.float32), mode="lines", name=s.label,
                legendgroup=s.label, showlegend=legend and j == 0,
                line=dict(color=PATH_COLORS[s.color_index % len(PATH_COLORS)], width=2, dash=s.dash),
                hovertemplate=f"{s.label}<br>t=%{{x}}<br>%{{y:.4g}}<extra></extra>"))
    for x, y, text in markers:
        fig.add_annotation(x=x, y=np.log10(y) if log_y and y > 0 else y, text=text, showarrow=True, arrowhead=2,
                           font=dict(size=11))
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(size=14)), height=height, margin=dict(l=50, r=10, t=40, b=40),
        xaxis=dict(title=x_title), yaxis=dict(title=y_title, type="log" if log_y else "linear", exponentformat="power",
                                              minor=dict(showgrid=False)),
        legend=dict(orientation="h", yanchor="top", y=-0.25, x=0, bgcolor="rgba(0,0,0,0)"),
        hovermode="x unified",
    )
    return fig
