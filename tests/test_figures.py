"""Figure builders: frames carry only trajectories, sizes stay bounded, data equals the runner's."""
import base64
import json
from types import SimpleNamespace

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from conftest import arr, assert_same_tree

import figures
import optimizers
import surfaces


@pytest.fixture(scope="module")
def race():
    grid = surfaces.grid("himmelblau", 120)
    names = ["gd", "momentum", "nesterov", "adam", "rmsprop", "adagrad"]
    runs = [optimizers.trajectories("himmelblau", n, [[-0.3, -0.9]], 500) for n in names]
    return grid, [figures.PathSet(n, r.path, r.loss) for n, r in zip(names, runs)], surfaces.critical_points("himmelblau")


@pytest.mark.parametrize("build", [figures.contour_figure, figures.surface3d_figure])
def test_frames_carry_only_the_moving_traces(race, build):
    grid, sets, critical = race
    d = build(grid, sets, log_color=True, critical=critical).to_dict()
    assert 2 <= len(d["frames"]) <= figures.MAX_FRAMES
    moving = d["frames"][0]["traces"]
    assert moving == list(range(len(d["data"]) - len(sets) - 1, len(d["data"])))  # the last traces
    assert 0 not in moving
    for fr in d["frames"]:
        assert fr["traces"] == moving and len(fr["data"]) == len(moving)
    buttons = d["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == ["Play", "Continue", "Pause"]
    assert buttons[0]["args"][0] is None  # Play runs every frame, in the browser
    assert len(d["layout"]["sliders"][0]["steps"]) == len(d["frames"])
    assert d["layout"]["uirevision"]


def test_the_2d_map_has_no_surface_trace_and_plays_without_redraw(race):
    """The surface is a layout image; frames hold only scatter paths and heads; nothing is redrawn per frame."""
    grid, sets, critical = race
    d = figures.contour_figure(grid, sets, log_color=True, critical=critical).to_dict()
    assert {t["type"] for t in d["data"]} == {"scatter"}  # no contour or heatmap trace for a frame to drop
    (image,) = d["layout"]["images"]
    assert image["source"].startswith("data:image/png;base64,") and image["layer"] == "below"
    assert image["xref"] == "x" and image["yref"] == "y"
    names = [t["name"] for t in d["data"]]
    moving = set(d["frames"][0]["traces"])
    assert {names[i] for i in moving} == {ps.label for ps in sets} | {"position"}
    for fr in d["frames"]:
        assert {t["type"] for t in fr["data"]} == {"scatter"} and set(fr["traces"]) == moving
        assert all(set(t) <= {"type", "x", "y"} for t in fr["data"])  # coordinates only, styles stay put
    buttons = d["layout"]["updatemenus"][0]["buttons"]
    assert all(b["args"][1]["frame"]["redraw"] is False for b in buttons)
    assert all(s["args"][1]["frame"]["redraw"] is False for s in d["layout"]["sliders"][0]["steps"])
    bar = d["data"][0]["marker"]
    assert bar["showscale"] and bar["cmin"] == pytest.approx(0.0) and bar["colorscale"] == figures.surface_picture.colorscale_stops(
        figures.landscape.SURFACE_COLORSCALE)


def test_a_clickable_map_redraws_its_fixed_traces_unchanged_in_every_frame(race):
    """A click's point selection restyles every trace's SVG node; a frame that skips a trace drops its node."""
    grid, sets, critical = race
    d = figures.contour_figure(grid, sets, log_color=True, critical=critical, click_grid=40).to_dict()
    n_fixed = len(d["data"]) - len(sets) - 1
    for fr in d["frames"]:
        assert fr["traces"] == list(range(len(d["data"])))
        assert fr["data"][:n_fixed] == [{"type": "scatter"}] * n_fixed  # nothing changes, nothing is re-sent
    lattice = d["data"][2]
    assert lattice["marker"]["maxdisplayed"] == 1  # hover and clicks use the data: one SVG node, not 1600


def _png_pixels(source: str) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGBA"))


@pytest.mark.parametrize("log_color", [False, True])
def test_raster_pixels_are_the_grid_values_through_the_colour_scale(race, log_color):
    grid, sets, _ = race
    d = figures.contour_figure(grid, sets, log_color=log_color).to_dict()
    (image,) = d["layout"]["images"]
    pixels = _png_pixels(image["source"])
    assert pixels.shape == (len(grid.ys), len(grid.xs), 4)
    bar = d["data"][0]["marker"]
    shown = figures.color_values(grid.loss, log_color)
    rng = np.random.default_rng(1)
    for j, i in zip(rng.integers(0, len(grid.ys), 200), rng.integers(0, len(grid.xs), 200)):
        t = (shown[j, i] - bar["cmin"]) / (bar["cmax"] - bar["cmin"])
        # plotly.py's own colour-scale sampler is the oracle (linear in RGB between stops, as plotly.js).
        expected = plotly.colors.unlabel_rgb(plotly.colors.sample_colorscale(bar["colorscale"], [float(t)])[0])
        row = len(grid.ys) - 1 - j  # the image's top row is the largest y
        np.testing.assert_allclose(pixels[row, i, :3], expected, atol=1.01)
        assert pixels[row, i, 3] == 255
    # The image covers the grid with pixel centres on its points: half a cell beyond each edge.
    dx = grid.xs[1] - grid.xs[0]
    assert image["x"] == pytest.approx(grid.xs[0] - dx / 2, abs=1e-4) and image["sizex"] == pytest.approx(len(grid.xs) * dx, abs=1e-4)
    assert image["y"] == pytest.approx(grid.ys[-1] + (grid.ys[1] - grid.ys[0]) / 2, abs=1e-4) and image["yanchor"] == "top"
    # The extreme pixels are the colour scale's ends.
    stops = bar["colorscale"]
    lo, hi = np.unravel_index(np.nanargmin(shown), shown.shape), np.unravel_index(np.nanargmax(shown), shown.shape)
    assert tuple(pixels[len(grid.ys) - 1 - lo[0], lo[1], :3]) == plotly.colors.hex_to_rgb(stops[0][1])
    assert tuple(pixels[len(grid.ys) - 1 - hi[0], hi[1], :3]) == plotly.colors.hex_to_rgb(stops[-1][1])


def test_non_finite_values_are_transparent_pixels():
    values = np.array([[0.0, 1.0], [np.nan, 2.0]])
    pixels = figures.surface_picture.surface_raster(values, "Viridis", 0.0, 2.0)
    assert pixels[0, 0, 3] == 0 and (pixels[[0, 1, 1], [1, 0, 1], 3] == 255).all()  # (x0, y1) is the top left


@pytest.mark.parametrize("name,log_color", [("himmelblau", True), ("lecture_saddle", False), ("rastrigin", False)])
def test_contour_line_vertices_lie_on_their_level(name, log_color):
    from scipy.interpolate import RegularGridInterpolator

    grid = surfaces.grid(name, 90)
    d = figures.contour_figure(grid, [], log_color=log_color, animate=False).to_dict()
    lines = next(t for t in d["data"] if t.get("mode") == "lines")
    x, y = arr(lines["x"]).astype(np.float64), arr(lines["y"]).astype(np.float64)
    shown = figures.color_values(grid.loss, log_color).astype(np.float64)
    levels = figures.surface_picture.contour_levels(shown)
    assert 10 <= len(levels) <= 28 and np.all(np.diff(levels) > 0)
    bilinear = RegularGridInterpolator((grid.ys.astype(np.float64), grid.xs.astype(np.float64)), shown)
    tolerance = 2e-4 * (shown.max() - shown.min())  # float32 vertices
    breaks = np.flatnonzero(np.isnan(x))
    assert len(breaks) >= 10
    on_lines = 0
    for segment in np.split(np.arange(len(x)), breaks):
        segment = segment[np.isfinite(x[segment])]
        values = bilinear(np.column_stack([y[segment], x[segment]]))
        level = levels[np.argmin(np.abs(levels - values[0]))]
        np.testing.assert_allclose(values, level, atol=tolerance)  # every vertex of a line: the same level
        on_lines += len(segment)
    assert on_lines > 500


def test_the_hover_lattice_shows_the_loss_at_its_points(race):
    grid, _, _ = race
    d = figures.contour_figure(grid, [], animate=False, click_grid=40).to_dict()
    lattice = d["data"][2]
    x, y, loss = arr(lattice["x"]), arr(lattice["y"]), arr(lattice["customdata"])
    assert len(x) == 40 * 40 and "L=%{customdata" in lattice["hovertemplate"] and lattice["selected"]
    i = np.searchsorted(grid.xs.astype(np.float32), x)
    j = np.searchsorted(grid.ys.astype(np.float32), y)
    np.testing.assert_allclose(loss, grid.loss[j, i], rtol=1e-6)
    plain = figures.contour_figure(grid, [], animate=False).to_dict()["data"][2]
    assert "selected" not in plain and "click" not in plain["hovertemplate"]


def test_last_frame_ends_where_the_runner_ends_and_frames_grow(race):
    grid, sets, _ = race
    d = figures.contour_figure(grid, sets).to_dict()
    for i, ps in enumerate(sets):
        xs = arr(d["frames"][-1]["data"][i]["x"])
        ys = arr(d["frames"][-1]["data"][i]["y"])
        np.testing.assert_allclose([xs[-2], ys[-2]], ps.paths[0, -1], rtol=1e-6)  # last before the NaN gap
        assert len(arr(d["frames"][0]["data"][i]["x"])) < len(xs)
    heads = d["frames"][-1]["data"][-1]
    np.testing.assert_allclose(arr(heads["x"]), [ps.paths[0, -1, 0] for ps in sets], rtol=1e-6)


def test_six_optimizers_500_steps_stays_under_1_5_mb(race):
    grid, sets, critical = race
    for build in (figures.contour_figure, figures.surface3d_figure):
        size = len(pio.to_json(build(grid, sets, log_color=True, critical=critical).to_dict(), validate=False))
        assert size <= 1.5e6, (build.__name__, size)


def test_frames_for_keeps_size_bounded_as_trajectories_grow():
    assert figures.frames_for(6) == 100 and figures.frames_for(1) == 100
    assert 40 <= figures.frames_for(18) < 100
    assert figures.frames_for(18) ** 2 * 18 <= 100**2 * 6 * 1.05


def test_frame_indices_end_at_the_last_step():
    idx = figures.frame_indices(500, 100)
    assert idx[0] == 0 and idx[-1] == 500 and len(idx) <= 100 and np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(figures.frame_indices(5, 100), np.arange(6))


def test_log_colour_bar_labels_real_loss_values(race):
    grid, sets, _ = race
    d = figures.contour_figure(grid, sets, log_color=True).to_dict()
    bar = d["data"][0]["marker"]["colorbar"]
    low = float(np.min(grid.loss))
    for val, text in zip(bar["tickvals"], bar["ticktext"]):
        assert 10**val - 1 + low == pytest.approx(float(text), rel=1e-6)


def test_diverged_paths_draw_exactly_their_valid_points():
    t = optimizers.trajectories("himmelblau", "gd", [[0, 0], [0, 0]], 100, lr=[0.01, 0.2])
    k = int(t.diverged_at[1])
    grid = surfaces.grid("himmelblau", 40)
    d = json.loads(pio.to_json(figures.contour_figure(grid, [figures.PathSet("gd", t.path, t.loss)]).to_dict(),
                               validate=False))
    xs = arr(d["frames"][-1]["data"][0]["x"])
    second = xs[int(np.argmax(np.isnan(xs))) + 1:]  # after trajectory 0 and its NaN separator
    assert 0 < k < 10  # its first steps are all among the sampled frames
    np.testing.assert_array_equal(second[np.isfinite(second)], t.path[1, :k, 0])


def test_curves_use_log_axis_only_for_wide_positive_ranges():
    assert figures.wide_range([1e-3, 1.0]) and not figures.wide_range([0.5, 1.0]) and not figures.wide_range([-1, 10])
    fig = figures.step_curves_figure([figures.Series("a", np.array([1.0, np.nan, 0.1]))], title="t", y_title="y",
                                     log_y=True)
    assert fig.to_dict()["layout"]["yaxis"]["type"] == "log" and len(fig.data) == 1


def test_step_cursor_starts_where_the_map_beside_it_opens(race):
    """``cursor=True``: one shape named STEP_CURSOR, a vertical line at the step of the map's first shown frame (its
    slider's ``active``); none by default; a number puts it at that step."""
    from figures.curves import STEP_CURSOR

    grid, sets, _ = race
    series = [figures.Series(s.label, s.losses, i) for i, s in enumerate(sets)]
    plain = figures.step_curves_figure(series, title="t", y_title="L").to_dict()["layout"]
    assert not [s for s in plain.get("shapes", []) if s.get("name") == STEP_CURSOR]
    slider = figures.contour_figure(grid, sets, max_frames=40).to_dict()["layout"]["sliders"][0]
    opens_at = float(slider["steps"][slider["active"]]["args"][0][0])
    for cursor, x in ((True, opens_at), (12, 12.0), (0, 0.0)):
        shapes = figures.step_curves_figure(series, title="t", y_title="L", cursor=cursor).to_dict()["layout"]["shapes"]
        (line,) = [s for s in shapes if s.get("name") == STEP_CURSOR]
        assert line["type"] == "line" and line["x0"] == line["x1"] == x and line["xref"] == "x"
        assert (line["yref"], line["y0"], line["y1"]) == ("paper", 0, 1)


def test_exports_hold_the_runs_and_the_grid():
    import io

    import numpy as np

    import figures
    import optimizers
    import surfaces

    runs = [optimizers.trajectories("himmelblau", "gd", np.array([[0.0, 0.0], [1.0, 1.0]], np.float32), 5, lr=0.01)]
    text = figures.trajectories_csv(["GD"], runs)
    rows = np.genfromtxt(io.StringIO(text), delimiter=",", skip_header=1)
    assert rows.shape == (2 * 6, 7)
    np.testing.assert_allclose(rows[:6, 3:5], runs[0].path[0], rtol=1e-6)
    np.testing.assert_allclose(rows[6:, 5], runs[0].loss[1], rtol=1e-6)
    grid = surfaces.grid("himmelblau", 7)
    g = np.genfromtxt(io.StringIO(figures.grid_csv(grid)), delimiter=",", skip_header=1)
    assert g.shape == (49, 4)
    np.testing.assert_allclose(g[:, 2], grid.loss.ravel(), rtol=1e-6)
    html = figures.figure_html(figures.contour_figure(grid, []), "Himmelblau")
    assert html.lower().startswith("<!doctype html>") and "<title>Himmelblau</title>" in html and "plotly" in html.lower()


def test_presentation_scale_and_dark_theme_restyle_traces_frames_and_controls(race):
    grid, sets, _ = race
    fig = figures.contour_figure(grid, sets, max_frames=20)
    before = fig.to_dict()
    figures.for_display(fig, scale=1.5)
    after = fig.to_dict()
    heads = [t for t in before["data"] if t.get("name") == "position"][0]["marker"]["size"]
    assert [t for t in after["data"] if t.get("name") == "position"][0]["marker"]["size"] == 1.5 * heads
    assert after["frames"][3] == before["frames"][3]  # frames move points only; the larger style stays on Play
    assert after["layout"]["font"]["size"] == 18 and after["layout"]["height"] == pytest.approx(
        1.2 * before["layout"]["height"])
    assert after["layout"]["sliders"][0]["currentvalue"]["font"]["size"] == 18
    assert after["data"][1]["x"] == before["data"][1]["x"]  # the data itself is untouched
    assert after["layout"]["images"] == before["layout"]["images"]
    # The lab's own greys read on either page as they are (a tab's theme may be reported wrongly on its first run);
    # a figure that still sets a page grey gets its mirror image on a dark page.
    line = figures.line_race_figure(np.linspace(-1, 1, 50), np.linspace(-1, 1, 50) ** 2,
                                    [figures.LinePath("a", np.zeros(11), np.zeros(11))])
    figures.for_display(line, dark=True)
    assert line.to_dict()["data"][0]["line"]["color"] == figures.style.THEME_GREY
    assert line.to_dict()["layout"]["sliders"][0]["currentvalue"]["font"]["color"] == figures.style.THEME_GREY
    grey = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], line=dict(color="#444")))
    figures.for_display(grey, dark=True)
    assert grey.to_dict()["data"][0]["line"]["color"] == figures.style.DARK_MIRROR["#444"]


def test_the_dark_theme_restyles_a_figure_whose_style_parts_hold_arrays():
    # The Classification page's gradient-norm map: its colour bar holds arrays (tick values), and comparing the
    # restyled part with the old one by == raised "truth value of an array is ambiguous" when a reader's page
    # turned dark (found by the browser test's switch to the dark theme).
    grid = surfaces.grid("softmax_mse", 40)
    fig = figures.value_map_figure(grid.xs, grid.ys, grid.grad_norm, title="‖∇L‖", value_label="‖∇L‖", zmin=1e-12)
    before = fig.to_dict()
    figures.for_display(fig, dark=True)
    figures.for_display(fig, scale=1.5, dark=True)
    assert fig.to_dict()["data"][0]["z"] == before["data"][0]["z"]



def test_eigen_arrows_are_proportional_to_the_eigenvalues():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    down, up = figures.eigen_arrows((1.0, 1.0), np.array([-2.0, 1.0]), vectors, span=10.0)
    assert down.end == pytest.approx((1.0 + 1.2, 1.0)) and up.end == pytest.approx((1.0, 1.0 + 0.6))  # 0.12 · span
    assert (down.color, up.color) == figures.PATH_COLORS[:2] and down.text == "λ1 = -2"  # red: falls, blue: rises


def test_step_arrows_share_one_scale_and_the_marked_map_has_them():
    arrows, scale = figures.step_arrows((0.0, 0.0), [np.array([3.0, 4.0]), np.array([0.0, 1.0])], ["red", "blue"],
                                        ["x", "y"], span=10.0)
    assert scale == pytest.approx(1.5 / 5) and arrows[0].end == pytest.approx((0.9, 1.2))
    assert arrows[1].end == pytest.approx((0.0, 0.3))
    fig = figures.mark_point(go.Figure(), (0.0, 0.0), arrows, "θ")
    assert fig.data[0].name == "θ" and sum(1 for a in fig.layout.annotations if a.showarrow) == 2


def test_wide_range_over_several_curves():
    assert figures.wide_range([np.array([1.0, 2.0]), np.array([[500.0]])], 100)
    assert not figures.wide_range([np.array([1.0, 2.0]), np.array([3.0])], 100) and not figures.wide_range([])


def test_the_surface_picture_is_computed_once_per_grid(race):
    grid, sets, _ = race
    first = figures.surface_picture._surface_picture(grid, True, 40)
    assert figures.surface_picture._surface_picture(grid, True, 40) is first  # the same grid: reused
    other = surfaces.grid("rosenbrock", 120)
    assert figures.surface_picture._surface_picture(other, True, 40).png != first.png
    assert figures.surface_picture._surface_picture(grid, False, 40).png != first.png
    a = figures.contour_figure(grid, sets, log_color=True, click_grid=40).to_dict()
    b = figures.contour_figure(grid, sets, log_color=True, click_grid=40).to_dict()
    assert a == b


def test_equal_area_colours_show_the_walled_plateaus_low_walls():
    """Histogram equalisation: F(L) = share of the map's values ≤ L. On the walled plateau linear colours give the
    walls (at most ln(1 + 350·0.6²) = 4.8 over a floor at 100) under 5 % of the colour range; F gives them over 30 %."""
    np.testing.assert_allclose(figures.color_values(np.array([3.0, 1.0, 2.0, 2.0, np.nan]), False, equalize=True),
                               [1.0, 0.25, 0.75, 0.75, np.nan])  # ties share the top rank; NaN stays NaN
    grid = surfaces.grid("walled_plateau", 120)
    assert surfaces.get("walled_plateau").equalize_color
    column = int(np.argmin(np.abs(grid.xs + 8.0)))  # across the valley at x = −8, where section 1's run bounces
    for equalize, share in ((False, 0.05), (True, 0.3)):
        shown = figures.color_values(grid.loss, False, equalize=equalize).astype(np.float64)
        across = np.ptp(shown[:, column]) / np.ptp(shown)
        assert (across > share) if equalize else (across < share), (equalize, across)
    d = figures.contour_figure(grid, [], equalize=True, animate=False).to_dict()
    pixels = _png_pixels(d["layout"]["images"][0]["source"]).astype(int)
    assert abs(pixels[0, column, :3] - pixels[len(grid.ys) // 2, column, :3]).sum() > 150  # wall top vs floor
    bar = d["data"][0]["marker"]["colorbar"]
    values = [float(t) for t in bar["ticktext"]]
    assert len(values) >= 5 and np.all(np.diff(values) > 0) and "equal-area" in bar["title"]["text"]
    loss = np.asarray(grid.loss, np.float64)
    np.testing.assert_allclose(bar["tickvals"], [np.mean(loss <= v) for v in values], atol=1e-9)  # F at each tick


def _q_at(a, x, y):
    """Q at (x, y): the quadratic written out again from the point's own g and H (not taylor_quadratic)."""
    dx, dy = x - a.point[0], y - a.point[1]
    h, g = a.hessian, a.gradient
    return a.value + g[0] * dx + g[1] * dy + 0.5 * (h[0, 0] * dx**2 + 2 * h[0, 1] * dx * dy + h[1, 1] * dy**2)


def test_taylor_figure_draws_the_quadratic_as_a_mesh_on_q_over_an_opaque_true_surface():
    local = surfaces.local_quadratic("himmelblau", (1.0, 1.0), 0.5)
    true, mesh, _ = figures.taylor_figure(local).data
    assert true.type == "surface" and true.opacity == 1.0
    x, y, z = (np.asarray(v, float) for v in (mesh.x, mesh.y, mesh.z))
    on = ~np.isnan(z)
    assert on.sum() == 2 * 11 * len(local.xs) and np.isnan(z).sum() == 22  # 11 lines each way, a gap after each
    # Every mesh vertex is Q at its own grid point (an independent re-evaluation of the quadratic).
    np.testing.assert_allclose(z[on], _q_at(local.center, x[on], y[on]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,point,radius", [("himmelblau", (1.0, 1.0), 1.5), ("lecture_saddle", (0.0, 0.0), 0.8)])
def test_taylor_map_draws_l_and_q_at_the_same_levels_and_rings_the_largest_gap(name, point, radius):
    from scipy.interpolate import RegularGridInterpolator

    local = surfaces.local_quadratic(name, point, radius)
    d = figures.taylor_map_figure(local).to_dict()
    assert "frames" not in d and len(d["layout"]["images"]) == 1  # L is the map's raster, nothing moves
    by_name = {t.get("name"): t for t in d["data"]}
    true, quad = by_name["L (true)"], by_name["Taylor quadratic Q"]
    assert quad["line"]["dash"] == "dash" and quad["line"]["color"] != true["line"]["color"]
    loss = np.asarray(local.loss, np.float64)
    levels = figures.surface_picture.contour_levels(loss, 12)
    assert 6 <= len(levels) <= 12
    bilinear = RegularGridInterpolator((local.ys.astype(np.float64), local.xs.astype(np.float64)), loss)
    cell = float(local.xs[1] - local.xs[0])
    h = np.abs(local.center.hessian).max()
    seen = {}
    for label, trace, value_at, tolerance in (
            ("L", true, lambda x, y: bilinear(np.column_stack([y, x])), 2e-4 * np.ptp(loss)),
            # Q's lines are traced on its grid values: between grid points Q differs from the straight edge by ≤ h·cell²/8
            ("Q", quad, lambda x, y: _q_at(local.center, x, y), 2e-4 * np.ptp(loss) + h * cell**2)):
        x, y = arr(trace["x"]).astype(np.float64), arr(trace["y"]).astype(np.float64)
        on = np.isfinite(x)
        assert on.sum() > 100, label
        values = value_at(x[on], y[on])
        nearest = levels[np.argmin(np.abs(values[:, None] - levels[None, :]), axis=1)]
        np.testing.assert_allclose(values, nearest, atol=tolerance, err_msg=label)
        seen[label] = set(np.round(nearest, 9))
    assert seen["Q"] & seen["L"]  # the same levels, drawn for both
    ring = by_name["largest gap |L − Q|"]
    gap = np.abs(loss - _q_at(local.center, *np.meshgrid(local.xs, local.ys)))
    row, col = np.unravel_index(np.argmax(gap), gap.shape)
    assert (ring["x"][0], ring["y"][0]) == pytest.approx((local.xs[col], local.ys[row]), abs=1e-6)
    assert gap.max() == pytest.approx(local.max_abs_error, rel=1e-4)
    assert f"{local.max_abs_error:.3g}" in ring["hovertemplate"]


def test_on_a_small_window_the_taylor_map_lines_of_l_and_q_coincide():
    """The lecture's saddle: L − Q = (w₁w₂)² at the origin, so on r = 0.2 the lines differ by ~r⁴, invisibly."""
    local = surfaces.local_quadratic("lecture_saddle", (0.0, 0.0), 0.2)
    d = figures.taylor_map_figure(local).to_dict()
    by_name = {t.get("name"): t for t in d["data"]}
    pts = {k: np.column_stack([arr(by_name[k]["x"]), arr(by_name[k]["y"])]).astype(np.float64)
           for k in ("L (true)", "Taylor quadratic Q")}
    q, true = (p[np.isfinite(p[:, 0])] for p in pts.values())
    # every vertex of Q's lines is within 1 % of the window's width of one of L's
    nearest = np.sqrt(((q[:, None, :] - true[None, :, :]) ** 2).sum(-1)).min(axis=1)
    assert nearest.max() < 0.01 * 0.4, nearest.max()
    wide = figures.taylor_map_figure(surfaces.local_quadratic("lecture_saddle", (0.0, 0.0), 1.5)).to_dict()
    by_name = {t.get("name"): t for t in wide["data"]}
    q, true = (np.column_stack([arr(by_name[k]["x"]), arr(by_name[k]["y"])]).astype(np.float64) for k in pts)
    q, true = q[np.isfinite(q[:, 0])], true[np.isfinite(true[:, 0])]
    assert np.sqrt(((q[:, None, :] - true[None, :, :]) ** 2).sum(-1)).min(axis=1).max() > 0.05 * 3.0  # they part


def test_batch_surfaces_send_float32_grids_that_hold_the_losses():
    """The small multiples' grids go out as float32 typed arrays (four float64 grids were half of what the Batch
    size page sent, 1 MB); colours are log10(L + 10⁻³) and the hover shows L itself, to float32 precision."""
    from networks import BatchSurface

    ws, bs = np.linspace(-2.0, 2.0, 60), np.linspace(-1.0, 1.0, 50)
    W, B = np.meshgrid(ws, bs)
    panels = [BatchSurface(f"L{k}", (W - k) ** 2 + 3 * B**2 + 1e-6 * k, np.array([k, 0.0]), None, None)
              for k in range(3)]
    d = json.loads(figures.batch_surfaces_figure(ws, bs, panels).to_json())
    contours = [t for t in d["data"] if t["type"] == "contour"]
    assert len(contours) == 3
    for trace, p in zip(contours, panels):
        for key in ("x", "y", "z", "customdata"):
            assert trace[key]["dtype"] == "f4", key
        np.testing.assert_allclose(arr(trace["customdata"]).reshape(p.loss.shape), p.loss, rtol=1e-6)
        np.testing.assert_allclose(arr(trace["z"]).reshape(p.loss.shape), np.log10(p.loss + 1e-3), rtol=1e-6, atol=1e-6)
    assert len(json.dumps(d)) < 3 * 60 * 50 * 2 * 4 * 4 / 3 + 20_000  # two float32 grids a panel, base64


@pytest.mark.parametrize("panels", [["x", "y"], ["w₁", "w₂", "b"]])
def test_per_parameter_panels_are_laid_out_as_make_subplots_lays_them_out(panels):
    """The figure writes its layout out instead of building it with plotly.py's validated subplot setters; the
    result is the same figure as make_subplots + update_*axes gives (its layout and every trace's axes)."""
    from plotly.subplots import make_subplots

    rng = np.random.default_rng(1)
    series = [figures.Series("Adam", rng.random((40, len(panels))) + 0.01, 0),
              figures.Series("RMSProp", rng.random((40, len(panels))) * 100, 1, dash="dot", group="RMSProp (lecture)")]
    d = figures.per_parameter_figure(series, title="σ", y_title="σ", panels=panels).to_dict()
    ref = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, subplot_titles=panels, horizontal_spacing=0.04)
    for k, trace in enumerate(d["data"]):
        ref.add_trace(go.Scatter(**{key: v for key, v in trace.items() if key not in ("xaxis", "yaxis", "type")}),
                      row=1, col=k % len(panels) + 1)
    ys = np.concatenate([np.asarray(s.y).ravel() for s in series])
    ref.update_yaxes(**figures.log_axis(ys, exponentformat="power"))
    ref.update_xaxes(title_text="step t")
    layout = {key: v for key, v in d["layout"].items() if not key.startswith(("xaxis", "yaxis"))}
    layout["annotations"] = layout["annotations"][len(panels):]  # the y title; the panel titles come from make_subplots
    ref.update_layout(**{key: v for key, v in layout.items() if key != "annotations"})
    for a in layout["annotations"]:
        ref.add_annotation(**a)
    want = ref.to_dict()
    assert [(t["xaxis"], t["yaxis"]) for t in d["data"]] == [(t["xaxis"], t["yaxis"]) for t in want["data"]]
    want["layout"].pop("template", None)
    got = json.loads(pio.to_json(d))["layout"]
    want = json.loads(pio.to_json(want))["layout"]
    assert_same_tree(got, want)




def test_maps_over_square_domains_with_shared_units_keep_their_aspect_ratio():
    """A map of two weights over a square-ish domain scales its y axis as its x axis (not tall and narrow on a
    phone); a long valley, or axes that measure different things, keep a free aspect."""
    def axes(xs, ys, **kw):
        loss = np.add.outer(ys, xs) ** 2
        layout = figures.contour_figure(surfaces.Grid(xs, ys, loss, loss, loss, loss), [], **kw).to_dict()["layout"]
        return layout["xaxis"], layout["yaxis"]

    square = np.linspace(-2, 2, 20)
    x, y = axes(square, square)
    assert y["scaleanchor"] == "x" and y["scaleratio"] == 1 and x["constrain"] == y["constrain"] == "domain"
    assert "scaleanchor" not in axes(np.linspace(-10, 10, 20), np.linspace(-0.6, 0.6, 20))[1]
    assert "scaleanchor" not in axes(square, square, same_units=False)[1]
    heat = figures.value_map_figure(square, square, np.ones((20, 20)), title="t", value_label="v").to_dict()["layout"]
    assert heat["yaxis"]["scaleanchor"] == "x"


def test_timing_curves_differ_in_colour_dash_and_marker_and_say_where_they_meet():
    """Issue 30 (item 4): "one update" and "one epoch" are told apart without colour; at B = N they coincide (an
    epoch is one update), and the chart says so there."""
    timing = SimpleNamespace(batch_sizes=np.array([1, 16, 256, 1797]), seconds_per_update=np.array([1e-4, 1e-4, 2e-4, 5e-4]),
                             updates_per_epoch=np.array([1797, 113, 8, 1]),
                             seconds_per_epoch=np.array([0.18, 0.0113, 0.0016, 5e-4]), examples=1797, device="CPU")
    d = figures.timing_figure(timing).to_dict()
    update, epoch = d["data"]
    assert update["line"]["color"] != epoch["line"]["color"]
    assert update["line"].get("dash", "solid") != epoch["line"]["dash"]
    assert update["marker"]["symbol"] != epoch["marker"]["symbol"]
    (note,) = [a for a in d["layout"]["annotations"] if "one epoch = one update" in a["text"]]
    assert note["x"] == pytest.approx(np.log10(1797)) and note["y"] == pytest.approx(np.log10(0.5))


def test_race_figure_names_each_frame_and_leaves_other_sliders_alone():
    grid = SimpleNamespace(xs=np.linspace(-1, 1, 20), ys=np.linspace(-1, 1, 20), loss=np.ones((20, 20)))
    paths = [figures.PathSet("a", np.zeros((2, 4, 2)), np.zeros((2, 4)))]
    labels = ["epoch 0", "epoch 1", "epoch 2", "epoch 3"]
    d = figures.race_figure(grid, paths, labels).to_dict()
    slider = d["layout"]["sliders"][0]
    assert [s["label"] for s in slider["steps"]] == labels and slider["currentvalue"]["prefix"] == ""
    assert [f["name"] for f in d["frames"]] == ["0", "1", "2", "3"]
    plain = figures.contour_figure(grid, paths, max_frames=4).to_dict()["layout"]["sliders"][0]
    assert [s["label"] for s in plain["steps"]] == ["0", "1", "2", "3"]  # the shared steps were not relabelled
    with pytest.raises(ValueError):
        figures.race_figure(grid, paths, labels[:3])
