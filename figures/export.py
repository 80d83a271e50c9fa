"""What a teacher takes away: trajectories and grids as CSV, a figure as a standalone interactive HTML file.

PNG needs no server: every chart's toolbar has Plotly's camera button, which
the browser renders.
"""
from __future__ import annotations

import html
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go


def trajectories_csv(labels: Sequence[str], runs: Sequence) -> str:
    """One row per (optimizer, start, step): x, y, loss, gradient norm (empty after a divergence or when a run
    does not record it, like mini-batch SGD, whose "starts" are its shuffling seeds)."""
    out = io.StringIO()
    out.write("optimizer,start,step,x,y,loss,grad_norm\n")
    for label, r in zip(labels, runs):
        for j in range(r.path.shape[0]):
            for t in range(r.path.shape[1]):
                x, y = r.path[j, t]
                values = (x, y, r.loss[j, t], r.grad_norm[j, t] if hasattr(r, "grad_norm") else np.nan)
                cells = ",".join("" if not np.isfinite(v) else f"{v:.9g}" for v in values)
                out.write(f"\"{label}\",{j + 1},{t},{cells}\n")
    return out.getvalue()


def grid_csv(grid) -> str:
    """The loss on the grid, one row per point: x, y, loss (and the gradient norm when the grid has it)."""
    X, Y = np.meshgrid(grid.xs, grid.ys)
    columns = [X.ravel(), Y.ravel(), np.asarray(grid.loss).ravel()]
    header = "x,y,loss"
    if hasattr(grid, "grad_norm"):
        columns.append(np.asarray(grid.grad_norm).ravel())
        header += ",grad_norm"
    out = io.StringIO()
    out.write(header + "\n")
    for row in zip(*columns):
        out.write(",".join("" if not np.isfinite(v) else f"{v:.9g}" for v in row) + "\n")
    return out.getvalue()


def figure_html(fig: go.Figure, title: str) -> str:
    """The figure with its animation as one HTML file that works offline (plotly.js embedded)."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False,
                       config={"displaylogo": False}, div_id="figure").replace("<head>", f"<head><title>{html.escape(title)}</title>", 1)
