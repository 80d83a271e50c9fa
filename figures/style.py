"""Shared look: colours, marker symbols, and the animation controls."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
PATH_COLORS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
SURFACE_COLORSCALE = "Viridis"
CRITICAL_STYLE = {  # kind -> (marker symbol, colour)
    "minimum": ("circle", "#FFFFFF"),
    "maximum": ("triangle-up", "#FF4D4D"),
    "saddle": ("x", "#FFD700"),
    "degenerate": ("square-open", "#F0F0F0"),
}
MAX_FRAMES = 150


def frame_indices(steps: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` step indices from 0 to ``steps``, always ending at ``steps``."""
    count = min(steps + 1, max_frames)
    return np.unique(np.round(np.linspace(0, steps, count)).astype(int))


def animation_controls(frame_names: list[str], duration_ms: int, redraw: bool = True, y: float = 0.0) -> dict:
    """Play / continue / pause buttons and a step slider that run in the browser.

    ``redraw`` must stay True over contour, heatmap and 3-D traces: with
    False plotly.js drops the contour layer as soon as Play is pressed.
    ``y`` places the controls (paper coordinates; below 0 clears a 2-D x axis).
    """
    play = dict(frame=dict(duration=duration_ms, redraw=redraw), transition=dict(duration=0), mode="immediate")
    # Plain-text labels: symbol glyphs are missing from many system fonts.
    return dict(
        updatemenus=[dict(
            type="buttons", direction="left", showactive=False, x=0.0, y=y, xanchor="left", yanchor="top",
            pad=dict(t=0, r=4), font=dict(size=12),
            buttons=[
                dict(label="Play", method="animate", args=[None, {**play, "fromcurrent": False}]),
                dict(label="Continue", method="animate", args=[None, {**play, "fromcurrent": True}]),
                dict(label="Pause", method="animate",
                     args=[[None], dict(frame=dict(duration=0, redraw=redraw), mode="immediate")]),
            ],
        )],
        sliders=[dict(
            # Its own row under the buttons, full width; no tick labels (the current step says it).
            active=len(frame_names) - 1, x=0.0, len=1.0, y=y - 0.1, yanchor="top", pad=dict(t=0, b=0),
            ticklen=0, minorticklen=0, font=dict(size=1, color="rgba(0,0,0,0)"),
            currentvalue=dict(prefix="step ", font=dict(size=12, color="#555"), xanchor="right"),
            steps=[dict(method="animate", label=name,
                        args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                                           transition=dict(duration=0))])
                   for name in frame_names],
        )],
    )


def frames_for(n_trajectories: int, budget: int = 6) -> int:
    """Frame count that keeps the animated JSON near its size for ``budget`` trajectories at 100 frames.

    The frames hold growing paths, so their size grows like frames² × trajectories.
    """
    return int(np.clip(100 * np.sqrt(budget / max(n_trajectories, 1)), 40, 100))


class AnimatedFigure(go.Figure):
    """A ``go.Figure`` whose animation frames and controls are kept as ready dicts.

    plotly.py validates every frame trace when frames are assigned (~90 ms
    for 100 frames x 7 traces, most of a Playground rerun) although we build
    them ourselves from typed arrays, and ``update_layout`` validates every
    slider step. This figure keeps both aside and merges them in
    ``to_dict()``, which Streamlit, ``fig.show()``, ``to_json`` and
    ``write_html`` all go through. ``fig.frames`` stays empty: read frames
    from ``fig.to_dict()["frames"]``.
    """

    def __init__(self, *args, raw_frames=(), raw_layout=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._raw_frames = list(raw_frames)
        self._raw_layout = dict(raw_layout or {})

    def to_dict(self):
        d = super().to_dict()
        d["frames"] = self._raw_frames
        d.setdefault("layout", {}).update(self._raw_layout)
        return d
