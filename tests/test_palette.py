"""The one palette decision (figures/style.py): every path told apart from every other and from the surface.

Colour distance is CIELAB ΔE*ab (CIE 1976) from sRGB under D65, written out here
as an independent oracle (IEC 61966-2-1 transfer curve, the sRGB→XYZ matrix, the
CIE L*a*b* formulas). Colour-blind vision is simulated with the full-severity
matrices of Machado, Oliveira & Fernandes (2009), applied to linear RGB.
Thresholds: ΔE ≈ 2 is just noticeable; 20+ is a different colour at a glance.
"""
from __future__ import annotations

import itertools

import numpy as np
import plotly.colors
import pytest

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
