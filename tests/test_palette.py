"""The one palette decision (figures/style.py): every path told apart from every other and from the surface.

Colour distance is CIELAB ΔE*ab (CIE 1976) from sRGB under D65, written out here
as an independent oracle (IEC 61966-2-1 transfer curve, the sRGB→XYZ matrix, the
CIE L*a*b* formulas). Colour-blind vision is simulated with the full-severity
matrices of Machado, Oliveira & Fernandes (2009), applied to linear RGB.
Thresholds: ΔE ≈ 2 is just noticeable; 20+ is a different colour at a glance.
"""
from __future__ import annotations

import itertools
import re

import numpy as np
import plotly.colors
import pytest
from conftest import arr, charts, ok, open_link

import app_pages
from figures import style

M_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
MACHADO_2009 = {  # severity 1.0
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
VISIONS = (None, *MACHADO_2009)
PAGES = {"white page": "#FFFFFF", "dark page": "#0E1117"}  # Streamlit's light and dark backgrounds


def rgb(color: str) -> np.ndarray:
    color = color.lstrip("#")
    return np.array([int(color[i:i + 2], 16) / 255 for i in (0, 2, 4)])


def lab(srgb: np.ndarray, vision: str | None = None) -> np.ndarray:
    c = np.asarray(srgb, np.float64)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if vision:
        linear = np.clip(MACHADO_2009[vision] @ linear, 0.0, 1.0)
    t = M_XYZ @ linear / WHITE_D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str | np.ndarray, b: str | np.ndarray, vision: str | None = None) -> float:
    a = rgb(a) if isinstance(a, str) else a
    b = rgb(b) if isinstance(b, str) else b
    return float(np.linalg.norm(lab(a, vision) - lab(b, vision)))


def colorscale_stops(scale) -> list:
    """A scale's [[position, "#rrggbb"], ...] stops; named ones as plotly.js has them."""
    return plotly.colors.PLOTLY_SCALES[scale] if isinstance(scale, str) else scale


def surface_colors(samples: int = 80) -> list[np.ndarray]:
    """The surface scale as drawn: linear RGB interpolation between its stops (what plotly.js does)."""
    stops = colorscale_stops(style.SURFACE_COLORSCALE)
    pos = np.array([p for p, _ in stops])
    cols = np.array([rgb(c) for _, c in stops])
    t = np.linspace(0, 1, samples)
    return [np.array([np.interp(u, pos, cols[:, k]) for k in range(3)]) for u in t]


def test_the_oracle_matches_published_lab_values():
    # sRGB red and a mid grey in CIELAB (D65), as colour references list them.
    np.testing.assert_allclose(lab(rgb("#FF0000")), [53.24, 80.09, 67.20], atol=0.05)
    np.testing.assert_allclose(lab(rgb("#808080")), [53.59, 0.0, 0.0], atol=0.05)
    # Machado's matrices keep grey grey (rows sum to 1).
    for m in MACHADO_2009.values():
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("vision", VISIONS, ids=lambda v: v or "normal")
def test_first_six_path_colours_are_pairwise_distinct(vision):
    limit = 40.0 if vision is None else 18.0
    worst = min((delta_e(a, b, vision), a, b) for a, b in itertools.combinations(style.PATH_COLORS[:6], 2))
    assert worst[0] >= limit, worst


@pytest.mark.parametrize("vision", VISIONS, ids=lambda v: v or "normal")
def test_every_path_colour_stands_out_from_every_surface_colour(vision):
    limit = 35.0 if vision is None else 15.0
    worst = min((delta_e(p, s, vision), p, tuple(np.round(s, 3))) for p in style.PATH_COLORS[:6]
                for s in surface_colors())
    assert worst[0] >= limit, worst


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("vision", VISIONS, ids=lambda v: v or "normal")
def test_path_colours_read_on_the_light_and_the_dark_page(page, vision):
    # Line charts draw the paths' colours straight on the page background, in either theme.
    worst = min((delta_e(p, PAGES[page], vision), p) for p in style.PATH_COLORS[:6])
    assert worst[0] >= 30.0, worst


def test_the_viridis_maps_failed_this_test():
    """The test can fail: the old Okabe–Ito blue on Viridis was within reach of the surface."""
    old_blue = "#0072B2"
    viridis = [rgb(c) for _, c in colorscale_stops("Viridis")]
    assert min(delta_e(old_blue, s) for s in viridis) < 35.0


def test_a_second_channel_besides_colour():
    assert len(set(style.PATH_DASHES[:6])) == 6
    assert [style.path_dash(i) for i in range(6)] == list(style.PATH_DASHES[:6])
    assert style.path_color(6) == style.PATH_COLORS[0]
    # Presentation mode and the dark theme do not change the palette: for_display scales sizes, mirrors greys.
    assert not set(style.PATH_COLORS) & set(style.DARK_MIRROR)


def test_maps_use_the_palette_dashes_and_outlined_heads():
    import figures
    import surfaces

    grid = surfaces.grid("himmelblau", 30)
    paths = [figures.PathSet(f"run {i}", np.zeros((1, 4, 2), np.float32), np.zeros((1, 4), np.float32))
             for i in range(3)]
    d = figures.contour_figure(grid, paths).to_dict()
    lines = [t for t in d["data"] if t.get("mode") == "lines" and t.get("name", "").startswith("run")]
    assert [t["line"]["color"] for t in lines] == list(style.PATH_COLORS[:3])
    assert [t["line"]["dash"] for t in lines] == list(style.PATH_DASHES[:3])
    heads = [t for t in d["data"] if t.get("name") == "position"][0]
    assert heads["marker"]["line"]["color"] == style.PATH_OUTLINE


# ---------------------------------------------------------------- every curve of every figure of every page
# A curve is a drawn line of a run (a path, a loss, a σ): a scatter trace with lines, not the landscape itself
# (style.LANDSCAPE: contour lines, L along a line). Two curves on one plot must differ in dash or in marks, not in
# colour alone; two that are drawn on top of each other must say so in the legend.
SAME = re.compile(r"the same curve as|on the route of")


def line_curves(chart: dict) -> dict[tuple, list[dict]]:
    """The chart's curves per plot (its axes), one entry per legend group with its look and first trace's data."""
    plots: dict[tuple, dict[str, dict]] = {}
    for t in chart["data"]:
        mode = t.get("mode", "lines")
        if t.get("type", "scatter") not in ("scatter", "scattergl", "scatter3d") or "lines" not in mode:
            continue
        if t.get("meta") == style.LANDSCAPE or t.get("visible") is False:
            continue
        axes = (t.get("xaxis", "x"), t.get("yaxis", "y"), t.get("type", "scatter"))
        group = t.get("legendgroup") or t.get("name", "")
        marker = (t.get("marker") or {}).get("symbol", "circle") if "markers" in mode else None
        plots.setdefault(axes, {}).setdefault(group, dict(
            name=t.get("name", ""), colour=(t.get("line") or {}).get("color"),
            dash=(t.get("line") or {}).get("dash", "solid"), marker=marker, x=t.get("x"), y=t.get("y"),
            z=t.get("z")))
    return {axes: list(groups.values()) for axes, groups in plots.items()}


def told_apart_only_by_colour(chart: dict) -> list[tuple[str, str]]:
    """Pairs of curves on one plot with the same dash and the same marks (or none)."""
    return [(a["name"], b["name"]) for curves in line_curves(chart).values()
            for a, b in itertools.combinations(curves, 2) if (a["dash"], a["marker"]) == (b["dash"], b["marker"])]


def drawn_on_top_of_each_other(chart: dict, log_y: bool) -> list[tuple[str, str]]:
    """Pairs of curves on one 2-D plot drawn on each other: at the same x, heights within 0.5 % of the plot's
    span (log10 heights on a log axis); on a map (points compared with points, on the plot's unit square)
    within 1 % of its diagonal, where both runs leave their start. Written here from the drawn JSON, independently of figures/overlap.py."""
    pairs = []
    for (_, _, kind), curves in line_curves(chart).items():
        if kind == "scatter3d":
            continue
        data = []
        for c in curves:
            if c["x"] is None or c["y"] is None:
                continue
            x, y = arr(c["x"]).astype(np.float64), arr(c["y"]).astype(np.float64)
            data.append((c, x, np.log10(np.where(y > 0, y, np.nan)) if log_y else y))
        is_map = chart["layout"].get("images")
        heights = [v[np.isfinite(v)] for _, _, v in data]
        if not data or not any(len(h) for h in heights):
            continue
        every = np.concatenate(heights)
        span = float(every.max() - every.min())
        if is_map:  # points on the plot's unit square (as drawn, whatever the axes' units): its diagonal
            (x0, x1), (y0, y1) = chart["layout"]["xaxis"]["range"], chart["layout"]["yaxis"]["range"]
            data = [(c, (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)) for c, x, y in data]
            span = float(np.sqrt(2.0))
        for (a, xa, ya), (b, xb, yb) in itertools.combinations(data, 2):
            if is_map:
                pa = np.column_stack([xa, ya])[np.isfinite(xa) & np.isfinite(ya)]
                pb = np.column_stack([xb, yb])[np.isfinite(xb) & np.isfinite(yb)]
                if len(pa) < 3 or len(pb) < 3:
                    continue
                if min(np.linalg.norm(p - p[0], axis=1).max() for p in (pa, pb)) <= 0.01 * span:
                    continue  # a run that stays at its start hides nothing: it is its start ring
                # every drawn point of one within reach of a drawn point of the other (vertices: a lower bound of
                # the routes' closeness, so what this finds the figure must have found)
                d = np.linalg.norm(pa[:, None] - pb[None], axis=-1)
                close = max(d.min(0).max(), d.min(1).max()) <= 0.01 * span
            else:
                if xa.shape != xb.shape or ya.shape != yb.shape or not np.allclose(xa, xb):
                    continue
                drawn = np.isfinite(ya) & np.isfinite(yb)
                close = drawn.any() and np.array_equal(np.isfinite(ya), np.isfinite(yb)) and \
                    np.max(np.abs(ya[drawn] - yb[drawn])) <= 0.005 * span
            if close and span > 0:
                pairs.append((a["name"], b["name"]))
    return pairs


def check_curves(chart: dict, where: str) -> None:
    assert not told_apart_only_by_colour(chart), (where, told_apart_only_by_colour(chart))
    log_y = chart["layout"].get("yaxis", {}).get("type") == "log"
    # where the reader can see it: the legend's entries, or the chart's own notes when it has no legend
    notes = " ".join(a.get("text", "") for a in chart["layout"].get("annotations", []))
    legend = chart["layout"].get("showlegend", True) is not False
    for a, b in drawn_on_top_of_each_other(chart, log_y):
        said = [n for n in (a, b) if SAME.search(n)]
        assert said, (where, "drawn on each other, not labelled:", a, b)
        assert legend or any(n in notes for n in said), (where, "said only in a hidden legend:", said)


def test_the_curve_checks_fail_on_curves_told_apart_by_colour_alone_and_on_hidden_curves():
    import figures

    loss = np.exp(-np.linspace(0, 5, 300))
    red_green = {"data": [dict(type="scatter", mode="lines", name=n, line=dict(color=c)) for n, c in
                          (("η = 0.05", style.PATH_COLORS[0]), ("η = 2", style.PATH_COLORS[2]))], "layout": {}}
    assert told_apart_only_by_colour(red_green) == [("η = 0.05", "η = 2")]
    hidden = {"data": [dict(type="scatter", mode="lines", name=n, x=list(range(300)), y=list(loss * k),
                            line=dict(color=c, dash=d)) for n, c, d, k in
                       (("RMSProp", "#C00000", "solid", 1.0), ("RMSProp (lecture)", "#004488", "dash", 1.001))],
              "layout": {}}
    assert drawn_on_top_of_each_other(hidden, False) == [("RMSProp", "RMSProp (lecture)")]
    with pytest.raises(AssertionError):
        check_curves(hidden, "two curves, one hidden")
    # The builders' answer: a dash (or marks) per curve, and the hidden one named as such.
    built = figures.step_curves_figure([figures.Series("RMSProp", loss, 0), figures.Series("RMSProp (lecture)",
                                        loss * 1.001, 1), figures.Series("Adam", loss ** 2, 2)],
                                       title="σ", y_title="σ").to_dict()
    check_curves(built, "builder")
    assert [t["name"] for t in built["data"]] == ["RMSProp", "RMSProp (lecture) (the same curve as RMSProp)", "Adam"]


def test_charts_whose_dashes_mean_something_else_mark_each_colour():
    """Classification's dash says which loss and colour which optimizer: the curves get a mark per colour."""
    import figures

    loss = np.linspace(1, 0, 100)
    d = figures.step_curves_figure([figures.Series(f"{o} on {k}", loss + i + 2 * j, i, dash)
                                    for i, o in enumerate(("GD", "Adam")) for j, (k, dash) in
                                    enumerate((("MSE", "dash"), ("CE", "solid")))], title="L", y_title="L").to_dict()
    check_curves(d, "classification-like")
    assert {t["name"]: t["marker"]["symbol"] for t in d["data"]} == {
        "GD on MSE": "circle", "GD on CE": "circle", "Adam on MSE": "square", "Adam on CE": "square"}


def test_a_map_names_a_path_that_takes_the_same_route_as_another():
    import figures
    import surfaces

    grid = surfaces.grid("lecture_saddle", 40)
    t = np.linspace(0, 1, 50)[:, None]
    diagonal = (0.1 + 0.9 * t * [1.0, 1.0])[None]
    faster = (0.1 + 0.9 * np.sqrt(t) * [1.0, 1.0])[None] + [0.004, 0.0]  # one route, another speed
    paths = [figures.PathSet("1. GD", diagonal, np.zeros((1, 50))),
             figures.PathSet("2. Adam", faster, np.zeros((1, 50))),
             figures.PathSet("3. Momentum", diagonal * [1.0, 0.5], np.zeros((1, 50)))]
    d = figures.contour_figure(grid, paths).to_dict()
    check_curves(d, "map")
    names = [t["name"] for t in d["data"] if t.get("legendgroup")]
    assert names == ["1. GD", "2. Adam (on the route of 1. GD)", "3. Momentum"]
    # one ring per distinct start, its hover naming the runs from there (Playground's runs share one)
    starts = [t for t in d["data"] if t.get("name") == "start"][0]
    np.testing.assert_allclose(np.column_stack([arr(starts["x"]), arr(starts["y"])]),
                               [[0.1, 0.1], [0.104, 0.1], [0.1, 0.05]], atol=1e-6)
    assert starts["text"] == ["1. GD", "2. Adam", "3. Momentum"]


def page_charts(name: str):
    """(state, charts) of the page as a link opens it, then of its lecture example (a link with ``preset``)."""
    at = ok(open_link(name, {}))
    yield "default", charts(at)
    example = app_pages.page(name).lecture_example
    if example:
        yield "lecture example", charts(ok(open_link(name, {"preset": example})))


def is_map(chart: dict) -> bool:
    """A picture of a surface: the raster of a 2-D map, a 3-D scene, or a heatmap or contour trace."""
    layout = chart["layout"]
    return bool(layout.get("images")) or "scene" in layout or any(
        t.get("type") in ("heatmap", "contour", "surface") for t in chart["data"])


def names_itself(chart: dict) -> bool:
    """A title of its own, or (small multiples) a title over every panel."""
    layout = chart["layout"]
    if (layout.get("title") or {}).get("text", "").strip():
        return True
    panels = [k for k in layout if re.fullmatch(r"xaxis\d*", k)]
    return len(panels) > 1 and len(layout.get("annotations", [])) >= len(panels)


@pytest.mark.parametrize("name", [r.name for r in app_pages.PAGES if r.animates])  # the pages with figures
def test_every_curve_of_every_figure_is_told_apart_without_colour_and_hidden_ones_say_so(name):
    """And every map names what it shows (issue 30: maps side by side that a student could not tell apart)."""
    seen = 0
    for state, page_figures in page_charts(name):
        for k, chart in enumerate(page_figures):
            where = f"{name} ({state}), chart {k}: {chart['layout'].get('title', {}).get('text', '')}"
            check_curves(chart, where)
            assert not is_map(chart) or names_itself(chart), (where, "a map without a title")
            seen += sum(len(c) for c in line_curves(chart).values())
    assert seen >= 2, (name, seen)


def test_a_route_is_judged_as_drawn_and_a_run_that_stays_put_is_on_no_route():
    """On a long flat map (x over 20 units, y over 1.2) two runs 0.2 apart in y are a sixth of the plot apart:
    not one route. A run that never leaves its start lies "along" any route from there, and is named by none.
    Of three runs on one route, the later two are named by the first that is drawn, never by each other."""
    from types import SimpleNamespace

    import figures

    xs, ys = np.linspace(-10, 10, 40), np.linspace(-0.6, 0.6, 40)
    grid = SimpleNamespace(xs=xs, ys=ys, loss=np.add.outer(ys**2, xs**2 / 100))
    t = np.linspace(0, 1, 60)[:, None]
    low = np.column_stack([-8 + 16 * t[:, 0], np.full(60, -0.1)])[None]
    runs = [figures.PathSet("low", low, np.zeros((1, 60))),
            figures.PathSet("high", low + [0.0, 0.2], np.zeros((1, 60))),
            figures.PathSet("stuck", np.repeat(low[:, :1], 60, axis=1), np.zeros((1, 60))),
            figures.PathSet("low again", low * [1.0, 1.0] + [0.05, 0.0], np.zeros((1, 60))),
            figures.PathSet("low, half", low[:, ::2].repeat(2, axis=1), np.zeros((1, 60)))]
    d = figures.contour_figure(grid, runs).to_dict()
    names = [t["name"] for t in d["data"] if t.get("legendgroup")]
    assert names == ["low", "high", "stuck", "low again (on the route of low)", "low, half (on the route of low)"]
    check_curves(d, "long flat map")


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two sRGB colours: (L1 + 0.05) / (L2 + 0.05), L the relative luminance."""
    def luminance(c):
        linear = np.where(rgb(c) <= 0.04045, rgb(c) / 12.92, ((rgb(c) + 0.055) / 1.055) ** 2.4)
        return float(linear @ [0.2126, 0.7152, 0.0722])
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("page", PAGES)
def test_the_theme_grey_reads_on_either_page(page):
    """Drawn greys must read whichever theme a tab reports: Streamlit may give a dark tab's first run as light
    (streamlit#11920), and a grey picked for white was drawn dark on dark. WCAG asks 3:1 of graphics."""
    assert contrast(style.THEME_GREY, PAGES[page]) >= 3.0
    assert contrast("#444444", PAGES["dark page"]) < 3.0  # the old curve grey: the check can fail
