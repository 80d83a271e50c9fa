"""What a student reads off a figure: log ticks that do not pile up, titles in every font, legends, arrows, axes.

Checked on the figures' JSON (the builders in figures/), so every page that uses
a builder is covered; the page-level agreements (text = chart) are in
test_pages_part1.py / test_pages_part2.py.
"""
from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from conftest import charts, ok, open_link, page

import app_pages
import figures
import optimizers
import surfaces
from figures import style
from figures.curves import Series

ROOT = Path(__file__).resolve().parents[1]
# Characters a rotated title may hold: what the tick labels' font has everywhere (ASCII, Latin-1, Greek, CJK).
SAFE_ROTATED = re.compile(r"^[\x20-\x7e\u00a0-\u00ff\u0370-\u03ff\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]*$")


def log_axes(d: dict):
    for key, axis in d["layout"].items():
        if re.fullmatch(r"[xy]axis\d*", key) and isinstance(axis, dict) and axis.get("type") == "log":
            yield key, axis


def check_log_axis(axis: dict, length_px: float, font: float = 12, vertical: bool = True) -> None:
    """Labels at least 1.5 font sizes apart (vertical) or a label width apart (horizontal), given the axis length."""
    values = np.asarray(axis["tickvals"], np.float64)
    texts = axis["ticktext"]
    assert 2 <= len(values) <= 7, values
    assert np.all(np.diff(values) > 0)
    ratios = values[1:] / values[:-1]
    if values[-1] / values[0] >= 2.5:  # (under a factor 2.5 in view: just the two rounded ends)
        assert np.all(ratios >= 2 - 1e-9), ratios  # 1-2-5 at the densest, never 1 2 3 … 9
    logs = np.log10(values)
    span = logs[-1] - logs[0]
    gaps_px = np.diff(logs) / max(span, 1e-12) * length_px * (len(values) - 1) / len(values)
    need = [1.5 * font] * len(gaps_px) if vertical else [0.6 * font * (len(a) + len(b)) / 2 + 6
                                                         for a, b in zip(texts, texts[1:])]
    assert np.all(gaps_px >= need), (texts, gaps_px)


@pytest.mark.parametrize("low, high", [(1e-9, 3.0), (0.02, 0.9), (1, 4096), (3e-3, 4e-3), (0.5, 30), (1e-30, 1e5),
                                       (7.0, 7.0 * 2.6), (1e-12, 1e-11)])
def test_log_ticks_are_decades_or_1_2_5_and_never_crowded(low, high):
    t = style.log_ticks(low, high)
    values = np.asarray(t["tickvals"])
    assert np.all((values >= low * (1 - 1e-6)) & (values <= high * (1 + 1e-6)))
    check_log_axis(t, length_px=200)
    mantissas = {round(v / 10 ** np.floor(np.log10(v) + 1e-9), 6) for v in values}
    if np.log10(high / low) >= 2:
        assert mantissas == {1.0}  # two decades or more in view: decades only


def test_plotly_s_own_log_ticks_would_have_failed():
    """The Batch size timing axis printed "10 2 5 100": plotly's minor labels, 10 → 20 → 50, on ~150 px."""
    crowded = dict(tickvals=[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 4096], ticktext=[""] * 12)
    with pytest.raises(AssertionError):
        check_log_axis(crowded, length_px=150)


def builders_with_log_axes():
    rng = np.random.default_rng(0)
    loss = np.exp(-np.linspace(0, 12, 400)) + 1e-9
    yield "step curves", figures.step_curves_figure([Series("a", loss, 0), Series("b", loss * 3, 1)], title="t",
                                                    y_title="‖∇L(θᵗ)‖", log_y=True, log_x=True)
    timing = type("T", (), dict(batch_sizes=np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1437]),
                                seconds_per_update=np.geomspace(1e-4, 3e-3, 12), seconds_per_epoch=np.geomspace(0.2, 2e-3, 12),
                                device="CPU", examples=1437))
    yield "timing", figures.timing_figure(timing)
    yield "spectrum", figures.spectrum_figure(np.linspace(-1, 5, 200), np.abs(rng.normal(size=200)) + 1e-3)
    yield "scatter", figures.scatter_figure(np.geomspace(1, 300, 20), rng.random(20), title="t", x_title="x",
                                            y_title="L", log_x=True)


@pytest.mark.parametrize("name, fig", list(builders_with_log_axes()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_log_axis_of_every_builder_has_spaced_ticks(name, fig):
    d = fig.to_dict()
    found = list(log_axes(d))
    assert found, name
    for key, axis in found:
        assert "tickvals" in axis and axis.get("minor", {}).get("ticks", "") == ""
        check_log_axis(axis, length_px=180 if key.startswith("y") else 260, vertical=key.startswith("y"))


def all_builder_figures():
    grid = surfaces.grid("lecture_saddle", 40)
    paths = [figures.PathSet("GD", np.zeros((1, 5, 2), np.float32), np.ones((1, 5), np.float32))]
    yield from (fig for _, fig in builders_with_log_axes())
    yield figures.step_curves_figure([Series("a", np.ones(10), 0)], title="t", y_title="σᵧ")
    yield figures.contour_figure(grid, paths, axis_titles=("w₁", "w₂"))
    yield figures.contour_figure(grid, paths)
    yield figures.weights_figure(optimizers.momentum_weights(0.9, 5), 5, 0.9)
    yield figures.probability_bars_figure([3, 1, -3], [0.87, 0.12, 0.01], 0)
    yield figures.line_race_figure(np.linspace(-1, 1, 20), np.linspace(-1, 1, 20) ** 2,
                                   [figures.LinePath("GD", np.zeros(4), np.zeros(4))])
    yield figures.train_test_figure(np.linspace(-3, 3, 50), np.ones(50), np.ones(50), [("sharp", -1.5)])
    yield figures.signature_figure(grid.xs, grid.ys, np.ones_like(grid.loss, int))


@pytest.mark.parametrize("fig", list(all_builder_figures()))
def test_no_rotated_axis_title_holds_a_symbol_that_fonts_lack(fig):
    d = fig.to_dict()
    for key, axis in d["layout"].items():
        if re.fullmatch(r"yaxis\d*", key) and isinstance(axis, dict):
            title = axis.get("title", {})
            text = title.get("text", "") if isinstance(title, dict) else str(title or "")
            assert SAFE_ROTATED.match(text), (key, text)
    for a in d["layout"].get("annotations", []):
        assert a.get("textangle", 0) in (0, None)


def test_the_old_rotated_titles_would_have_failed():
    assert not SAFE_ROTATED.match("‖∇L‖") and not SAFE_ROTATED.match("y  (w₂)")
    assert SAFE_ROTATED.match(style.axis_text("y  (w₂)"))


def test_step_curves_write_the_y_title_above_the_axis_and_the_legend_under_the_x_title():
    d = figures.step_curves_figure([Series("a", np.ones(10), 0), Series("b", np.ones(10), 1)], title="Loss",
                                   y_title="‖g‖").to_dict()
    above = [a for a in d["layout"]["annotations"] if a.get("text") == "‖g‖"]
    assert above and above[0]["yref"] == "paper" and above[0]["y"] == 1 and above[0]["yanchor"] == "bottom"
    legend = d["layout"]["legend"]
    assert legend["yref"] == "container" and legend["y"] == 0 and legend["yanchor"] == "bottom"
    assert d["layout"]["margin"]["b"] >= 60  # room for the legend under the x title


def test_a_chart_with_many_lines_has_a_legend_one_entry_per_optimizer():
    names = ["Adagrad", "Adagrad (sum)", "RMSProp", "RMSProp (0)", "Adam"]
    series = [Series(f"{n}: σ{axis}", np.ones(20) * (i + 1), i, dash, group=n)
              for i, n in enumerate(names) for axis, dash in (("ₓ", "solid"), ("ᵧ", "dot"))]
    d = figures.step_curves_figure(series, title="σ", y_title="σ", log_y=True).to_dict()
    assert len(d["data"]) == 10 and d["layout"]["showlegend"]
    assert [t["name"] for t in d["data"] if t.get("showlegend")] == names


def test_markers_are_one_trace_of_numbered_points():
    d = figures.step_curves_figure([Series("a", np.geomspace(1, 1e-3, 100), 0)], title="t", y_title="step",
                                   log_y=True, markers=[(10, 0.5, "1"), (60, 0.01, "2")],
                                   marker_label="burst").to_dict()
    marks = [t for t in d["data"] if t.get("name") == "burst"]
    assert len(marks) == 1 and list(marks[0]["text"]) == ["1", "2"]
    assert not d["layout"].get("annotations", [])[1:]  # only the y title: no arrows with long labels


def test_momentum_step_is_a_triangle_at_the_page_default():
    """Momentum's defaults (local_minima from its first start, η = 0.01, λ = 0.9): the default step t is the most open
    triangle (optimizers.clearest_step, the lecture example's t = 40); its parts are comparable and far from collinear."""
    record = surfaces.get("local_minima")
    start = np.asarray([record.starts[0]], np.float32)
    path = optimizers.trajectories("local_minima", "momentum", start, 300, lr=0.01, momentum=0.9).path[0]
    parts = optimizers.momentum_decomposition(path, surfaces.gradients("local_minima", path), 0.01, 0.9)
    t = optimizers.clearest_step(parts)
    assert t == 40  # the lecture example (its preset sets m_t = 40: tests/test_pages_part1.py)
    theta = path[t]
    a, b = parts.carried[t], parts.gradient_step[t]
    angle = np.degrees(np.arccos(abs(a @ b) / np.linalg.norm(a) / np.linalg.norm(b)))
    assert angle > 60 and 0.5 < np.linalg.norm(a) / np.linalg.norm(b) < 2, (angle, a, b)
    # An independent scan: no step that moves visibly has a more open triangle (area / longest side²).
    def openness(k):
        x, y = parts.carried[k], parts.gradient_step[k]
        return abs(x[0] * y[1] - x[1] * y[0]) / max(np.linalg.norm(x), np.linalg.norm(y), np.linalg.norm(x + y)) ** 2
    moves = np.linalg.norm(parts.movement, axis=1)
    assert all(openness(k) <= openness(t) + 1e-12 for k in range(1, len(moves)) if moves[k] >= 0.05 * moves.max())
    arrows = figures.step_triangle(theta, a, b, 5.0, ("b", "r", "g"), ("λm", "−ηg", "m"))
    np.testing.assert_allclose(arrows[0].end, arrows[1].start)  # tip to tail
    np.testing.assert_allclose(arrows[2].start, arrows[0].start)
    np.testing.assert_allclose(arrows[2].end, arrows[1].end)  # the sum closes the triangle
    np.testing.assert_allclose(np.subtract(arrows[2].end, arrows[2].start), 5.0 * (a + b), rtol=1e-5)
    size = np.linalg.norm(np.subtract(arrows[2].end, arrows[2].start))
    labels = np.array([x.label_at for x in arrows])
    assert np.min(np.linalg.norm(labels - theta, axis=1)) > 0.1 * size  # no label on the point
    gaps = [np.linalg.norm(p - q) for i, p in enumerate(labels) for q in labels[i + 1:]]
    assert min(gaps) > 0.1 * size  # nor on each other


def test_the_old_y_zero_default_was_collinear():
    path = optimizers.trajectories("local_minima", "momentum", np.asarray([[2.3, 0.0]], np.float32), 300, lr=0.01,
                                   momentum=0.9).path[0]
    parts = optimizers.momentum_decomposition(path, surfaces.gradients("local_minima", path), 0.01, 0.9)
    a, b = parts.carried[10], parts.gradient_step[10]
    assert abs(a[0] * b[1] - a[1] * b[0]) < 1e-9


def test_minimum_ratio_scatter_runs_to_one_with_the_line_at_one():
    """The Network lab and Critical points draw it; its points stop at 0.87, its axis must not."""
    d = figures.minimum_ratio_figure([0.6, 0.8, 0.87], [1.0, 0.5, 0.1]).to_dict()
    assert d["layout"]["xaxis"]["range"][1] >= 1.0
    assert any(s.get("x0") == 1.0 and s.get("x1") == 1.0 for s in d["layout"]["shapes"])


def test_3d_ticks_are_few_in_presentation_mode_too():
    grid = surfaces.grid("himmelblau", 30)
    fig = figures.for_display(figures.surface3d_figure(grid, [], log_color=True), scale=1.5)
    scene = fig.to_dict()["layout"]["scene"]
    for axis in ("xaxis", "yaxis", "zaxis"):
        a = scene[axis]
        assert a.get("nticks", 99) <= 5 or len(a.get("tickvals", [])) <= 5, (axis, a)


def test_the_lecture_example_has_one_valley_of_minima():
    points = surfaces.critical_points("lecture_saddle")
    curves, rest = surfaces.critical_curves("lecture_saddle", points)
    assert [c.kind for c in curves] == ["valley of minima"]
    assert [c.kind for c in rest] == ["saddle"]  # no isolated "degenerate" marks left on the curve
    pts = curves[0].points[np.isfinite(curves[0].points[:, 0])]
    np.testing.assert_allclose(pts[:, 0] * pts[:, 1], 1.0, atol=1e-4)  # the lecture's w1·w2 = 1
    assert np.isnan(curves[0].points[:, 0]).sum() == 1  # two branches, one curve
    # Both branches reach the domain's edges (|w| = 2 ⇒ the other is 0.5). On w₁w₂ = 1 the Hessian of (1 − w₁w₂)²
    # is [[2w₂², 2], [2, 2w₁²]]: eigenvalues 0 and 2(w₁² + w₂²), from 4 at (1, 1) to 2(4 + ¼) = 8.5 at the edge.
    assert pts[:, 0].max() > 1.99 and pts[:, 0].min() < -1.99
    assert curves[0].across == pytest.approx((4.0, 8.5), abs=0.02)
    trace = figures.landscape.critical_curve_traces(curves)
    assert len(trace) == 1 and "valley of minima" in trace[0].name
    # Nearest: a run that ends on the curve is on it, not 0.27 from a sample point.
    kind, q, d = surfaces.nearest_critical(rest, curves, (1.2, 1 / 1.2 + 1e-5))
    assert kind == "valley of minima" and d < 1e-3
    s = optimizers.summarize(np.array([[0.5, 0.5], [1.2, 1 / 1.2]]), np.array([0.5, 8.5e-10]), np.array([1, 1e-5]), -1,
                             rest, 1e-3, curves)
    assert s.nearest_kind == "valley of minima" and s.nearest_distance < 1e-3


def test_isolated_degenerate_points_stay_points():
    curves, rest = surfaces.critical_curves("monkey_saddle", surfaces.critical_points("monkey_saddle"))
    assert curves == [] and [c.kind for c in rest] == ["degenerate"]


def test_home_sends_each_topic_to_the_page_with_its_figure():
    """Home draws one link per lecture stop (the page registry's SECTIONS), in the lecture's order, each to the page
    with its figure, at the section's anchor; 1.4's figure (loss against minimum ratio) opens running."""
    numbers = [s.number for s in app_pages.SECTIONS]
    assert numbers[:5] == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    where = {s.number: s.page for s in app_pages.SECTIONS}
    assert where["1.3"] == where["1.4"] == "critical_points"
    links = [link.proto for link in ok(open_link("home", {})).get("page_link")]
    for s in app_pages.SECTIONS:
        query = urllib.parse.urlencode(app_pages.link_query(s))
        drawn = [link for link in links if link.label == s.label]
        assert len(drawn) == 1 and drawn[0].query_string == query, (s.anchor, [d.query_string for d in drawn])
        assert drawn[0].page.strip("/") == app_pages.page(s.page).slug, (s.anchor, drawn[0].page)
    assert "cp_ratio=1" in next(link.query_string for link in links if link.label == app_pages.section("lecture-1-4").label)


@pytest.mark.parametrize("name, query, maps_with_curve", [
    ("momentum", {"surface": "lecture_saddle"}, 2),             # the race map and the one-step map
    ("adaptive_lr", {"surface": "lecture_saddle"}, 2),          # the bounce map and the adaptive race (not the valley)
    ("schedules", {"s_surface": "lecture_saddle"}, 1),          # the builder's race (the burst map is the valley's)
])
def test_every_map_draws_a_curve_of_minima_as_one_labelled_curve(name, query, maps_with_curve):
    """Not only Critical points and Playground: any map of L = (1 − w₁w₂)² shows w₁w₂ = 1 as one curve."""
    maps = [f for f in charts(ok(page(name, **query))) if f["layout"].get("images")]
    names = [[t.get("name", "") for t in f["data"]] for f in maps]
    assert all("degenerate" not in n for n in names), names
    assert sum(sum("valley of minima" in x for x in n) == 1 for n in names) == maps_with_curve, names


def test_3d_z_ticks_leave_the_corner_where_the_x_and_y_labels_meet():
    """Presentation mode's larger font made the lowest z label ("0.1") run into the x axis's "−2" (Critical points)."""
    grid = surfaces.grid("lecture_saddle", 61)
    fig = figures.surface3d_figure(grid, [], log_color=True).to_dict()
    z = fig["layout"]["scene"]["zaxis"]
    low, high = z["range"]
    assert z["tickvals"] and min(z["tickvals"]) >= low + 0.15 * (high - low), (z["tickvals"], z["range"])
    assert len(z["tickvals"]) == len(z["ticktext"]) <= 4


def test_presentation_mode_scales_3d_tick_labels_once():
    """A tick-font dict shared between axes and reruns was scaled again each time: 10 → 15 → 22.5 … on a projector."""
    grid = surfaces.grid("lecture_saddle", 41)
    for _ in range(3):  # three reruns in presentation mode
        fig = style.for_display(figures.surface3d_figure(grid, [], log_color=True), scale=1.5).to_dict()
        scene = fig["layout"]["scene"]
        assert [scene[a]["tickfont"]["size"] for a in ("xaxis", "yaxis")] == [15, 15]
    plain = figures.surface3d_figure(grid, [], log_color=True).to_dict()["layout"]["scene"]
    assert plain["xaxis"]["tickfont"]["size"] == 10


@pytest.mark.parametrize(("name", "titles"), [("classification", {"Mean square error", "Cross-entropy"}),
                                              ("normalization", {"Raw features", "Standardized features"})])
def test_maps_shown_side_by_side_name_themselves_in_their_own_title(name, titles):
    """Two maps side by side (stacked, on a phone) must say which is which in the figure itself: a name written
    above a column went off screen when the maps were stacked or the projector's figure filled the screen."""
    at = ok(page(name))
    maps = [spec for spec in charts(at) if spec.get("frames") and spec["layout"].get("images")]
    named = {(spec["layout"].get("title") or {}).get("text", "") for spec in maps}
    assert titles <= named, named
    for spec in maps:  # pinned top left, clear of the legend that starts under the toolbar's band
        title = spec["layout"]["title"]
        if title.get("text"):
            assert title["yref"] == "container" and title["yanchor"] == "top" and title["xanchor"] == "left"
