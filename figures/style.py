"""Shared look: colours, marker symbols, and the animation controls."""
from __future__ import annotations

import base64
import copy
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from figures.prebuilt import PrebuiltFigure
from i18n import mark, tr

# One palette decision for paths and surfaces (tests/test_palette.py checks it in CIELAB, with colour-blind
# simulations). The paths are saturated and of different lightness: red, dark blue, green, sand, sky blue, salmon
# (from Paul Tol's bright/muted sets), every pair at ΔE*ab ≥ 40 for normal vision and ≥ 18 under protan, deutan and
# tritan simulation, and ≥ 30 from a white and a dark page. The surface scale beneath them is nearly grey
# (chroma ≤ 8, dark = low loss), so every path stays ≥ 35 from every surface colour (≥ 15 simulated): Viridis's
# blue and green ends swallowed the blue and green paths.
PATH_COLORS = ("#C00000", "#004488", "#228833", "#CCBB44", "#33BBEE", "#EE8866")
PATH_COLOR_NAMES = ("red", "blue", "green", "sand", "sky blue", "salmon")  # what captions call them
# A second channel besides colour, per optimizer on a map: no two of the first six paths share a dash pattern.
PATH_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
# A third channel where a chart's dashes already mean something else (the loss on Classification, the kind of
# normalization): the i-th colour's marks, a few per curve. Filled and open shapes that differ in outline, not only
# in size, so that they are told apart at 8 px and on a projector.
PATH_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")
# A curve of critical points (a valley of minima) on a map: a dash pattern that no path uses.
CURVE_DASH = "8px,3px,2px,3px,2px,3px"
# ``meta`` of a trace that draws the landscape itself (contour lines, L along a line), not a curve of a run: the
# figure tests tell curves apart only among the runs' curves.
LANDSCAPE = "landscape"
# The outline of the moving heads and ball markers, so that they stand out on any surface colour.
PATH_OUTLINE = "#FFFFFF"
# Colours that read on the white page and on the dark one alike: Streamlit may report a tab's theme wrongly on
# its first run (streamlit#11920), so a grey picked for one theme and mirrored for the other (DARK_MIRROR) was
# drawn dark on a dark page when a student opened a link. A mid grey for the drawn things, and a translucent
# grey box under text (whose colour the theme sets in the browser).
THEME_GREY = "#8C8C8C"
NOTE_BACKGROUND = "rgba(128,128,128,0.18)"
SURFACE_COLORSCALE = [[0.0, "#4D505B"], [0.125, "#61626C"], [0.25, "#75767D"], [0.375, "#8A8A8E"],
                      [0.5, "#A09FA0"], [0.625, "#B6B4B2"], [0.75, "#CDC9C5"], [0.875, "#E4DFD8"], [1.0, "#FCF6EB"]]


def path_color(i: int) -> str:
    """The colour of the ``i``-th path (optimizer) everywhere: maps, curves, legends."""
    return PATH_COLORS[i % len(PATH_COLORS)]


def path_dash(i: int) -> str:
    """The dash pattern of the ``i``-th path on a map."""
    return PATH_DASHES[i % len(PATH_DASHES)]


def path_symbol(i: int) -> str:
    """The marker symbol of the ``i``-th colour, where a chart needs a channel besides colour and dash."""
    return PATH_SYMBOLS[i % len(PATH_SYMBOLS)]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript(n: int) -> str:
    """An integer in Unicode superscript digits, for a power in running text: 0.999 + superscript(600) = 0.999⁶⁰⁰."""
    return str(int(n)).translate(_SUPERSCRIPT)


def _tick_text(v: float, digits: int | None = None) -> str:
    exponent = int(np.floor(np.log10(v) + 1e-9))
    if -2 <= exponent <= 3:
        return f"{v:g}" if digits is None else f"{v:.{digits}g}"
    mantissa = v / 10.0**exponent
    if digits is not None:
        mantissa = float(f"{mantissa:.{digits}g}")
    power = "10" + superscript(exponent)
    return power if abs(mantissa - 1) < 1e-9 else f"{mantissa:g}·{power}"


def power_of_ten_text(v: float, digits: int = 2) -> str:
    """A positive number for running text: plain from 0.01 to 1000, else mantissa·10ᵉ (3.5·10⁻²⁸), ``digits``
    significant digits; 0 and non-finite values as Python writes them."""
    return _tick_text(v, digits) if np.isfinite(v) and v > 0 else f"{v:g}"


def log_ticks(low: float, high: float, max_ticks: int = 7) -> dict:
    """Tick values and labels for a log axis over [low, high]: decades, or 1-2-5 when under two decades.

    Plotly's own log ticks add labelled minor ticks ("10 2 5 100") that pile up
    on a short axis; these never do: at most ``max_ticks`` labels, decades
    thinned to every k-th when the range is long, 1-2-5 only when fewer than
    two decades are in view (then each label still sits ≥ log10(2.5) ≈ 0.4
    decades from the next). Labels are plain numbers from 0.01 to 1000, powers
    10⁻³ beyond (superscripts that every font has).
    """
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high <= 0:
        return {}
    low, high = min(low, high), max(low, high)
    e0, e1 = int(np.floor(np.log10(low) + 1e-9)), int(np.ceil(np.log10(high) - 1e-9))
    decades = [10.0**e for e in range(e0, e1 + 1) if low * (1 - 1e-9) <= 10.0**e <= high * (1 + 1e-9)]
    if len(decades) >= 2:
        step = int(np.ceil(len(decades) / max_ticks))
        values = decades[::step]
    else:
        values = [m * 10.0**e for e in range(e0 - 1, e1 + 1) for m in (1, 2, 5) if low <= m * 10.0**e <= high]
        if len(values) < 2:  # less than a factor 2.5 in view: the two ends, rounded
            values = sorted({float(f"{low:.2g}"), float(f"{high:.2g}")})
    return dict(tickvals=values, ticktext=[_tick_text(v) for v in values])


def log_axis(values, **axis) -> dict:
    """A Plotly log axis (``type="log"``) with :func:`log_ticks` over the positive finite ``values``.

    Every log axis of every figure is made here, so the tick rule holds everywhere.
    """
    v = np.asarray(values, np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    ticks = log_ticks(float(v.min()), float(v.max())) if v.size else {}
    return dict(type="log", minor=dict(showgrid=False, ticks=""), **ticks, **axis)


def y_title_above(text: str, font_size: int = 12) -> dict:
    """A y-axis title written horizontally above the axis, as a paper-referenced annotation.

    Rotated titles with symbols (‖g‖, ∇, subscripts) came out as odd glyphs in
    some browser fonts; horizontal text uses the same font path as the tick labels.
    """
    return dict(text=text, xref="paper", yref="paper", x=0, y=1, xanchor="left", yanchor="bottom", yshift=2,
                showarrow=False, textangle=0, font=dict(size=font_size), name="y title")


_SUBSCRIPTS = {c: f"<sub>{d}</sub>" for c, d in zip("₀₁₂₃₄₅₆₇₈₉ₓᵧ", "0123456789xy")}
_SUPERSCRIPTS = {c: f"<sup>{d}</sup>" for c, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹ᵗ", "0123456789t")}


def axis_text(text: str) -> str:
    """An axis title with Unicode sub- and superscripts written as ``<sub>``/``<sup>`` (every font has the digits).

    A rotated y title is drawn by the browser glyph by glyph; "w₂" fell back to
    another font there and came out as an odd glyph.
    """
    return "".join(_SUBSCRIPTS.get(c) or _SUPERSCRIPTS.get(c) or c for c in text)


def chart_title(text: str, size: int = 14) -> dict:
    """A chart title pinned to the top left of the figure, clear of the y-axis title written under it."""
    return dict(text=text, x=0.01, xanchor="left", xref="container", y=1, yref="container", yanchor="top",
                pad=dict(t=8), font=dict(size=size))


# The chart toolbar (plotly.js's modebar) that appears over a figure's top right while the mouse is on it: a row
# of 22 px buttons 2 px from the top. A top legend starts under this band.
TOOLBAR_BAND_PX = 30


def top_legend(height: float) -> dict:
    """A horizontal legend across the top of a figure ``height`` px tall, its first row under the toolbar's band.

    Entries flow and wrap at the plot area's width, so a long first row ran
    under the toolbar at the top right, which covered its end on hover. Placed
    in the container, ``TOOLBAR_BAND_PX`` below the figure's top and anchored
    at its own top, the legend grows downwards, and plotly.js reserves its
    extent above the plot area (a container-referenced legend pushes the top
    margin to the larger of the two), however many rows the names wrap into.
    Nothing else fits between it and the plot: a figure with texts above its
    plot (a y title written there) keeps its legend elsewhere.
    """
    return dict(orientation="h", yref="container", y=1 - TOOLBAR_BAND_PX / height, yanchor="top", x=0,
                xanchor="left", bgcolor="rgba(0,0,0,0)", font=dict(size=11))


def legend_rows(names, width_px: float, entry_px: float, char_px: float) -> int:
    """How many rows a horizontal legend of ``names`` wraps into: plotly.js flows entries (a symbol and gap of
    ``entry_px``, then ``char_px`` per character, an estimate) and starts a row when the next would overflow."""
    rows, used = 1, 0.0
    for name in names:
        w = entry_px + char_px * len(name)
        if used and used + w > width_px:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def bottom_legend(entries, width_px: float = 380.0) -> tuple[dict, int]:
    """A horizontal legend at the very bottom of the figure and the bottom margin that leaves room for it.

    Referenced to the container, so it sits under the x-axis title instead of
    on it. Entries flow and wrap (a fixed entry width let long names run into
    the next one); the rows are estimated from the names' lengths for a chart
    ``width_px`` wide. ``entries``: the names, or how many (short ones).
    """
    names = [" " * 12] * entries if isinstance(entries, int) else list(entries)
    rows = legend_rows(names, width_px, entry_px=40, char_px=6.5)
    return (dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left",
                 bgcolor="rgba(0,0,0,0)", font=dict(size=11)),
            40 + 22 * rows)


CRITICAL_STYLE = {  # kind -> (marker symbol, colour)
    "minimum": ("circle", "#FFFFFF"),
    "maximum": ("triangle-up", "#FF4D4D"),
    "saddle": ("x", "#FFD700"),
    "degenerate": ("square-open", "#F0F0F0"),
}
# Curves of critical points (surfaces.CriticalCurve.kind, the legend text) -> line colour. Magenta, not the
# minima's white: the legend's line sample must show on a white page as well as on a dark one and on the map.
CURVE_STYLE = {mark("valley of minima"): "#FF00FF", mark("ridge of maxima"): "#FF4D4D"}
MAX_FRAMES = 150


def frame_indices(steps: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` step indices from 0 to ``steps``, always ending at ``steps``."""
    count = min(steps + 1, max_frames)
    return np.unique(np.round(np.linspace(0, steps, count)).astype(int))


_NAN32 = np.float32(np.nan).tobytes()


class Float32Rows:
    """Rows of float32 values (one per trajectory) as bytes, for frames that draw a growing prefix of each.

    Frame f of an animation draws the first n values of every row: a slice of
    these bytes and one base64 pass, no NumPy call per frame (those were a
    third of a figure's build time). ``gap`` puts a NaN after each row, so
    several trajectories share one trace without being joined.
    """

    def __init__(self, values):  # (rows, values) or (values,)
        self.rows = [np.ascontiguousarray(v, dtype=np.float32).tobytes() for v in np.atleast_2d(values)]

    def first(self, n: int, gap: bool = True) -> dict:
        """Plotly's typed-array spec of the first ``n`` values of every row."""
        joined = b"".join(row[: 4 * n] + (_NAN32 if gap else b"") for row in self.rows)
        return {"dtype": "f4", "bdata": base64.b64encode(joined).decode("ascii")}


def typed_array(values) -> dict:
    """A float32 array as Plotly's typed-array spec (base64 ``bdata``).

    plotly.py passes such specs through untouched, while every raw NumPy array
    costs a dataframe-library probe and a base64 pass (each small, but a
    figure has thousands in its frames).
    """
    a = np.ascontiguousarray(values, dtype=np.float32)
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


@lru_cache(maxsize=64)
def _slider_steps(frame_names: tuple[str, ...], redraw: bool) -> list[dict]:
    # Shared between figures (the same steps give the same list): nothing restyles inside slider steps.
    return [dict(method="animate", label=name,
                 args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=redraw), transition=dict(duration=0))])
            for name in frame_names]


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
                dict(label=tr("Play"), method="animate", args=[None, {**play, "fromcurrent": False}]),
                dict(label=tr("Continue"), method="animate", args=[None, {**play, "fromcurrent": True}]),
                dict(label=tr("Pause"), method="animate",
                     args=[[None], dict(frame=dict(duration=0, redraw=redraw), mode="immediate")]),
            ],
        )],
        sliders=[dict(
            # Its own row under the buttons, full width; no tick labels (the current step says it).
            active=len(frame_names) - 1, x=0.0, len=1.0, y=y - 0.1, yanchor="top", pad=dict(t=0, b=0),
            ticklen=0, minorticklen=0, font=dict(size=1, color="rgba(0,0,0,0)"),
            currentvalue=dict(prefix=tr("step") + " ", font=dict(size=12, color=THEME_GREY), xanchor="right"),
            steps=_slider_steps(tuple(frame_names), redraw),
        )],
    )


def frames_for(n_trajectories: int, budget: int = 6) -> int:
    """Frame count that keeps the animated JSON near its size for ``budget`` trajectories at 100 frames.

    The frames hold growing paths, so their size grows like frames² × trajectories.
    """
    return int(np.clip(100 * np.sqrt(budget / max(n_trajectories, 1)), 40, 100))


# Greys chosen for a white page; on a dark page (once the theme is known) they turn to their light mirror images.
DARK_MIRROR = {"#333": "#EEEEEE", "#444": "#DDDDDD", "#555": "#BBBBBB", "#777": "#AAAAAA"}
_SCALED = {"font": ("size",), "tickfont": ("size",), "marker": ("size",), "line": ("width",)}


def _restyle(node, scale: float, dark: bool, parent: str = "") -> bool:
    """Scale font sizes, marker sizes and line widths by ``scale``; mirror dark greys when ``dark`` (in place).

    Returns whether anything changed (a node may hold arrays, which ``==`` cannot compare to one truth value).
    """
    changed = False
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key in _SCALED.get(parent, ()):
                node[key] = value * scale
                changed = changed or scale != 1.0
            elif dark and key == "color" and isinstance(value, str) and value in DARK_MIRROR:
                node[key] = DARK_MIRROR[value]
                changed = True
            else:
                changed = _restyle(value, scale, dark, key) or changed
    elif isinstance(node, list):
        for item in node:
            changed = _restyle(item, scale, dark, parent) or changed
    return changed


# A 2-D figure's controls under its plot in presentation mode, in CSS px (the figure's sizes already scaled): the
# x axis's tick labels and title, then the Play / Continue / Pause row, then the step slider with its label.
PRESENT_X_TITLE_PX = 64
PRESENT_BUTTONS_PX = 44
PRESENT_SLIDER_PX = 64


def _controls_below(d: dict, m: dict) -> None:
    """Place a 2-D figure's animation controls (paper y below 0) by pixels, clear of the x axis's title (in place).

    ``d``: the layout dict that holds the controls, ``m`` the one that holds the margins.

    A control's ``y`` is a share of the plot area's height, so on a shorter or
    taller plot the same share moved it onto the x title (the Play buttons
    over "x (w₁)") or far below it; and on a projector the browser stretches
    the figure to the screen (controls/projector.js), so the plot's height is
    not known here. Anchored at the plot's bottom edge (``y`` 0, ``yanchor``
    top) and moved down by a pad in pixels, the controls sit the same few
    pixels under the x title at any height; the bottom margin holds them.
    """
    menus, sliders = d.get("updatemenus") or [], d.get("sliders") or []
    if not menus or not all(menu.get("y", 0) < 0 for menu in menus):
        return
    margin = m.setdefault("margin", {})
    margin["b"] = PRESENT_X_TITLE_PX + PRESENT_BUTTONS_PX + (PRESENT_SLIDER_PX if sliders else 0) + 6
    for menu in menus:
        menu.update(y=0, yanchor="top", pad={**(menu.get("pad") or {}), "t": PRESENT_X_TITLE_PX})
    for slider in sliders:
        slider.update(y=0, yanchor="top", pad={**(slider.get("pad") or {}), "t": PRESENT_X_TITLE_PX + PRESENT_BUTTONS_PX})


def for_display(fig: go.Figure, scale: float = 1.0, dark: bool = False, max_height: float | None = None) -> go.Figure:
    """Fit ``fig`` to where it is shown (in place): ``scale`` > 1 for a projector, ``dark`` for a dark theme.

    Backgrounds, grid lines and default text colours come from Streamlit's
    theme (``st.plotly_chart`` applies it for light and dark); this fixes what
    the figure sets itself: explicit font and marker sizes, line widths, greys.
    A ``PrebuiltFigure``'s raw layout, frames and controls are restyled too, so the
    animation keeps the same look. On a projector (``scale`` > 1) a figure is at
    most ``max_height`` px tall (it must fit the screen with what is above it),
    and a 2-D map's animation controls are placed by pixels under its x title.
    """
    if scale == 1.0 and not dark:
        return fig
    with fig.batch_update():
        for trace in fig.data:
            # Only the small style parts are rewritten: re-validating a trace's arrays would cost more than the rest.
            for part in ("marker", "line", "textfont", "colorbar"):
                if part in trace:
                    old = trace[part].to_plotly_json()
                    if not old:
                        continue
                    new = copy.deepcopy(old)
                    if _restyle(new, scale, dark, part):
                        trace[part] = new
        layout = fig.layout.to_plotly_json()
        _restyle(layout, scale, dark)
        raw = fig._raw_layout if isinstance(fig, PrebuiltFigure) else {}
        _restyle(raw, scale, dark)
        if scale != 1.0:
            holder = raw if "font" in raw or "height" in raw else layout
            if "size" not in holder.get("font", {}):  # an explicit size was scaled above
                holder.setdefault("font", {})["size"] = 12 * scale
            for d in (layout, raw):
                if "height" in d:
                    d["height"] = d["height"] * min(scale, 1.2)
                    if max_height is not None:
                        d["height"] = min(d["height"], max_height)
                # The title, the y title above the axis and a bottom legend grow with the font: so does their room.
                for side in ("t", "b"):
                    if side in d.get("margin", {}):
                        d["margin"][side] = d["margin"][side] * scale
            merged = {**layout, **raw}
            if merged.get("height") and merged.get("updatemenus"):
                _controls_below(raw if raw.get("updatemenus") else layout, raw if "margin" in raw else layout)
        fig.layout = layout
    if isinstance(fig, PrebuiltFigure):
        _restyle(fig._raw_frames, scale, dark)
    return fig
