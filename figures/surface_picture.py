"""The picture of a surface on a 2-D map: what the colours show, the colour bar's ticks, the raster, the
contour lines and the hover (or click) lattice, computed once per grid.

The surface is not a Plotly trace (animation frames would drop or blank it): it is a PNG in
``layout.images``, coloured here exactly as plotly.js colours a heatmap, with the contour lines as one plain
line trace over it (docs/design.md, How the animated maps are drawn). ``figures.landscape`` builds the maps
around it.
"""
from __future__ import annotations

import base64
import hashlib
import io
from typing import NamedTuple

import contourpy
import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image

import memory_budget
from figures.style import LANDSCAPE, SURFACE_COLORSCALE, typed_array
from i18n import tr


def color_values(loss: np.ndarray, log_color: bool, equalize: bool = False) -> np.ndarray:
    """What the colours show: the loss, log10(1 + L − min L) for wide ranges, or with ``equalize`` its quantile.

    The quantile F(L) = share of the map's finite values ≤ L (histogram equalisation, datashader's ``eq_hist``)
    gives every colour the same area: a map whose values mostly lie in a narrow band (a plateau with low walls)
    shows the band's structure, which both the linear and the log scale squeeze into one colour.
    """
    if equalize:
        return quantiles(loss)
    if not log_color:
        return loss
    loss = np.asarray(loss, np.float64)  # float32 would absorb the 1 beside a huge loss: log10(0)
    return np.log10(1.0 + (loss - np.nanmin(loss)))


def quantiles(loss: np.ndarray) -> np.ndarray:
    """F(L) in [0, 1] for every entry: the share of the finite values that are ≤ it (ties share the top rank);
    NaN where L is not finite."""
    v = np.asarray(loss, np.float64)
    finite = np.sort(v[np.isfinite(v)])
    if not finite.size:
        return np.full(v.shape, np.nan)
    ranks = np.searchsorted(finite, np.where(np.isfinite(v), v, finite[0]), side="right") / finite.size
    return np.where(np.isfinite(v), ranks, np.nan)


def _quantile_ticks(loss: np.ndarray, count: int = 10) -> dict:
    """Colour-bar ticks of an equalised map: round values of L (3 significant digits: a band 100–105 needs them)
    at about ``count`` evenly spaced quantiles, each placed at its own quantile F(v), 6 % of the bar apart."""
    finite = np.sort(np.asarray(loss, np.float64)[np.isfinite(loss)])
    if not finite.size:
        return {}
    kept: list[tuple[float, float]] = []
    for q in np.linspace(0.0, 1.0, count + 1):
        v = float(f"{finite[min(int(q * (finite.size - 1)), finite.size - 1)]:.3g}")
        position = float(np.searchsorted(finite, v, side="right") / finite.size)
        if not kept or (position - kept[-1][1] >= 0.06 and v > kept[-1][0]):
            kept.append((v, position))
    return dict(tickvals=[p for _, p in kept], ticktext=[f"{v:g}" for v, _ in kept])


def loss_log_ticks(loss: np.ndarray, max_ticks: int = 12) -> dict:
    """Ticks at round values of L itself, placed where log10(1 + L − min L) puts them (at most ``max_ticks``)."""
    low, high = float(np.nanmin(loss)), float(np.nanmax(loss))
    ticks = [v for e in range(-3, 9) for v in (10.0**e, 3 * 10.0**e) if low + 0.05 * (high - low) ** 0.1 < v <= high]
    if len(ticks) > max_ticks:  # decades only
        ticks = [v for v in ticks if f"{v:g}".lstrip("0.").startswith("1")]
    # log10(1 + L − min L) squeezes the small values together: keep a tick only 6 % of the axis above the last one.
    top = float(np.log10(1 + high - low)) or 1.0
    kept: list[float] = []
    for v in sorted(ticks, reverse=True):
        if not kept or np.log10(1 + kept[-1] - low) - np.log10(1 + v - low) >= 0.06 * top:
            kept.append(v)
    ticks = kept[::-1]
    return dict(tickvals=[float(np.log10(1 + v - low)) for v in ticks], ticktext=[f"{v:g}" for v in ticks])


def _colorbar(loss: np.ndarray, log_color: bool, equalize: bool = False) -> dict:
    bar = dict(thickness=10, xpad=4, tickfont=dict(size=10))
    if equalize:
        return dict(title=dict(text=tr("L (equal-area scale)"), side="right"), **bar, **_quantile_ticks(loss))
    if not log_color:
        return dict(title=dict(text="L", side="right"), **bar)
    return dict(title=dict(text=tr("L (log scale)"), side="right"), **bar, **loss_log_ticks(loss))


def colorscale_stops(scale) -> list[list]:
    """A colour scale as explicit ``[[position, "#rrggbb"], ...]`` stops, as plotly.js resolves its name.

    plotly.js's named scales (``PLOTLY_SCALES``; Viridis has 17 stops) differ
    from ``plotly.colors.sequential``'s lists of the same name, so the raster
    and the colour bar are both given these explicit stops.
    """
    if isinstance(scale, str):
        named = {k.lower(): v for k, v in plotly.colors.PLOTLY_SCALES.items()}
        stops = named.get(scale.lower()) or plotly.colors.get_colorscale(scale)
    else:
        stops = scale
    return [[float(p), c] for p, c in stops]


def _rgb(color: str) -> tuple[float, float, float]:
    if color.startswith("#"):
        return tuple(float(int(color[i:i + 2], 16)) for i in (1, 3, 5))
    r, g, b = plotly.colors.unlabel_rgb(color)[:3]
    return float(r), float(g), float(b)


def surface_raster(values: np.ndarray, colorscale, zmin: float, zmax: float) -> np.ndarray:
    """RGBA pixels (ny, nx, 4), top row first, of ``values`` (rows follow y upwards) through ``colorscale``.

    Each value v is placed at t = (v − zmin) / (zmax − zmin), clipped to [0, 1],
    and coloured by linear interpolation in RGB between the two stops around t:
    what plotly.js does for a heatmap or contour fill (its ``makeColorScaleFunc``
    is a clamped d3 linear scale over the stops' RGB values). Non-finite values
    are transparent.
    """
    stops = colorscale_stops(colorscale)
    positions = np.array([p for p, _ in stops])
    rgb = np.array([_rgb(c) for _, c in stops])
    v = np.asarray(values, np.float64)
    finite = np.isfinite(v)
    t = np.clip((np.where(finite, v, zmin) - zmin) / ((zmax - zmin) or 1.0), 0.0, 1.0)
    pixels = np.empty(v.shape + (4,), np.uint8)
    for channel in range(3):
        pixels[..., channel] = np.round(np.interp(t, positions, rgb[:, channel]))
    pixels[..., 3] = np.where(finite, 255, 0)
    return pixels[::-1]  # an image's first row is its top: the largest y


def png_data_uri(pixels: np.ndarray) -> str:
    """An RGBA pixel array as a ``data:image/png;base64,...`` URI (Pillow), for ``layout.images``."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGBA").save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def contour_levels(values: np.ndarray, count: int = 28) -> np.ndarray:
    """About ``count`` equally spaced levels at round values strictly inside the values' range.

    The step is the smallest of 1, 2, 2.5, 5 × 10^k that is at least range / count,
    like plotly.js's automatic contours (``ncontours``).
    """
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if not high > low:
        return np.array([])
    raw = (high - low) / count
    base = 10.0 ** np.floor(np.log10(raw))
    step = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw * (1 - 1e-9))
    levels = np.arange(np.floor(low / step) + 1, np.ceil(high / step)) * step
    return levels[(levels > low) & (levels < high)]


def contour_lines(xs: np.ndarray, ys: np.ndarray, values: np.ndarray, levels) -> tuple[np.ndarray, np.ndarray]:
    """Every contour line of ``values`` at ``levels`` as one x and one y array, lines separated by NaN.

    contourpy (the library behind matplotlib's contours) traces each level by
    linear interpolation along the grid's cell edges, so a vertex v on the edge
    between grid points a and b has values(v) = level exactly under linear
    (hence also bilinear) interpolation of the grid. Non-finite values are masked.
    """
    generator = contourpy.contour_generator(xs, ys, np.ma.masked_invalid(np.asarray(values, np.float64)),
                                            line_type=contourpy.LineType.ChunkCombinedNan)
    parts = [chunk for lines in generator.multi_lines(np.asarray(levels, np.float64)) for chunk in lines[0]
             if chunk is not None and len(chunk)]
    if not parts:
        return np.array([], np.float32), np.array([], np.float32)
    gap = np.full((1, 2), np.nan)
    joined = np.concatenate([p for chunk in parts for p in (chunk, gap)][:-1])
    return joined[:, 0].astype(np.float32), joined[:, 1].astype(np.float32)


def _lattice_indices(n: int, count: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, n - 1, min(count, n))).astype(int))


class SurfacePicture(NamedTuple):
    """What a map draws of its surface, ready for the figure: the PNG, its colour range, lines and lattice."""

    png: str
    zmin: float
    zmax: float
    line_x: dict  # typed-array specs (figures take them as they are)
    line_y: dict
    lattice_x: dict
    lattice_y: dict
    lattice_loss: dict


# Bounded by bytes (the PNG and the typed arrays measured), the "pictures" share of the operator's one budget.
_PICTURES = memory_budget.CACHES["pictures"]
_MISSING = object()


def _surface_picture(grid, log_color: bool, lattice: int, equalize: bool = False) -> SurfacePicture:
    """The raster, contour lines and lattice of ``grid``, computed once per grid (a class changing the step count
    or an optimizer redraws the same surface: the PNG and the contour lines were a tenth of a rerun's work)."""
    loss = np.ascontiguousarray(grid.loss, np.float32)
    key = (hashlib.blake2b(loss.tobytes() + np.asarray(grid.xs, np.float32).tobytes()
                           + np.asarray(grid.ys, np.float32).tobytes(), digest_size=16).digest(),
           loss.shape, bool(log_color), int(lattice), str(SURFACE_COLORSCALE), bool(equalize))
    found = _PICTURES.get(key, _MISSING)
    if found is not _MISSING:
        return found
    xs, ys = np.asarray(grid.xs, np.float64), np.asarray(grid.ys, np.float64)
    shown = np.asarray(color_values(grid.loss, log_color, equalize), np.float64)
    finite = shown[np.isfinite(shown)]
    zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    line_x, line_y = contour_lines(xs, ys, shown, contour_levels(finite if finite.size else shown))
    ix, iy = _lattice_indices(len(xs), lattice), _lattice_indices(len(ys), lattice)
    X, Y = np.meshgrid(xs[ix], ys[iy])
    picture = SurfacePicture(
        png=png_data_uri(surface_raster(shown, colorscale_stops(SURFACE_COLORSCALE), zmin, zmax)), zmin=zmin,
        zmax=zmax, line_x=typed_array(line_x), line_y=typed_array(line_y), lattice_x=typed_array(X.ravel()),
        lattice_y=typed_array(Y.ravel()), lattice_loss=typed_array(np.asarray(grid.loss, np.float64)[np.ix_(iy, ix)].ravel()))
    _PICTURES.put(key, picture)
    return picture


def surface_layers(grid, log_color: bool, click_grid: int = 0, hover_grid: int = 40,
                   equalize: bool = False) -> tuple[dict, list]:
    """The static picture of a surface on a 2-D map: a ``layout.images`` raster and the traces over it.

    Returns (image, traces): the image is the surface coloured like a heatmap
    (a PNG of the grid itself, pixel centres on the grid points); the traces
    are an invisible marker that carries the colour bar, the contour lines
    (one line trace) and an invisible lattice of grid points that shows L on
    hover and, with ``click_grid``, can be clicked ("start here"). Animation
    frames never touch any of them (plotly.js drops contour and heatmap traces
    from scatter-only frames and blanks them in redrawn ones).
    """
    picture = _surface_picture(grid, log_color, click_grid or hover_grid, equalize)
    xs, ys = np.asarray(grid.xs, np.float64), np.asarray(grid.ys, np.float64)
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    image = dict(source=picture.png, xref="x", yref="y",
                 x=float(xs[0] - dx / 2), y=float(ys[-1] + dy / 2), sizex=float(xs[-1] - xs[0] + dx),
                 sizey=float(ys[-1] - ys[0] + dy), sizing="stretch", xanchor="left", yanchor="top",
                 layer="below", name="L(x, y)")
    colour_bar = go.Scatter(
        x=[float(xs[0])], y=[float(ys[0])], mode="markers", name="L(x, y)", showlegend=False, hoverinfo="skip",
        marker=dict(size=0, opacity=0, color=[picture.zmin], cmin=picture.zmin, cmax=picture.zmax,
                    colorscale=colorscale_stops(SURFACE_COLORSCALE), showscale=True,
                    colorbar=_colorbar(grid.loss, log_color, equalize)))
    lines = go.Scatter(x=dict(picture.line_x), y=dict(picture.line_y), mode="lines", name=tr("contour lines"),
                       showlegend=False, hoverinfo="skip", line=dict(width=0.5, color="rgba(255,255,255,0.35)"),
                       meta=LANDSCAPE)
    hint = "<br><i>" + tr("click: start here") + "</i>" if click_grid else ""
    lattice = go.Scatter(
        x=dict(picture.lattice_x), y=dict(picture.lattice_y), customdata=dict(picture.lattice_loss),
        mode="markers", name=tr("click to start here") if click_grid else "L(x, y)", showlegend=False,
        # Hover and click find points in the data, not in the page: one drawn marker (maxdisplayed) instead
        # of one SVG node per point keeps the first draw and every frame that redraws the lattice cheap.
        marker=dict(size=14, opacity=0, color="white", maxdisplayed=1),
        hovertemplate="x=%{x:.3g}<br>y=%{y:.3g}<br>L=%{customdata:.4g}" + hint + "<extra></extra>",
        **(dict(unselected=dict(marker=dict(opacity=0)), selected=dict(marker=dict(opacity=0.6, size=16)))
           if click_grid else {}))
    return image, [colour_bar, lines, lattice]
