"""Figure builders: frames carry only trajectories, sizes stay bounded, data equals the runner's."""
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import figures
import optimizers
import surfaces
from conftest import arr


@pytest.fixture(scope="module")
def race():
    grid = surfaces.grid("himmelblau", 120)
    names = ["gd", "momentum", "nesterov", "adam", "rmsprop", "adagrad"]
    runs = [optimizers.trajectories("himmelblau", n, [[-0.3, -0.9]], 500) for n in names]
    return grid, [figures.PathSet(n, r.path, r.loss) for n, r in zip(names, runs)], surfaces.critical_points("himmelblau")


@pytest.mark.parametrize("build", [figures.contour_figure, figures.surface3d_figure])
def test_frames_carry_only_the_moving_traces_and_redraw(race, build):
    grid, sets, critical = race
    d = build(grid, sets, log_color=True, critical=critical).to_dict()
    assert 2 <= len(d["frames"]) <= figures.MAX_FRAMES
    moving = d["frames"][0]["traces"]
    assert moving == list(range(len(d["data"]) - len(sets) - 1, len(d["data"])))  # the last traces
    assert d["data"][0]["type"] in ("contour", "surface") and 0 not in moving
    for fr in d["frames"]:
        assert fr["traces"] == moving and len(fr["data"]) == len(moving)
    buttons = d["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == ["Play", "Continue", "Pause"]
    assert all(b["args"][1]["frame"]["redraw"] is True for b in buttons)
    assert buttons[0]["args"][0] is None  # Play runs every frame, in the browser
    assert len(d["layout"]["sliders"][0]["steps"]) == len(d["frames"])
    assert d["layout"]["uirevision"]


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
    bar = d["data"][0]["colorbar"]
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


def test_exports_hold_the_runs_and_the_grid():
    import io

    import numpy as np

    import optimizers
    import surfaces
    import figures

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
    assert after["data"][0]["z"] == before["data"][0]["z"]  # the data itself is untouched
    line = figures.line_race_figure(np.linspace(-1, 1, 50), np.linspace(-1, 1, 50) ** 2,
                                    [figures.LinePath("a", np.zeros(11), np.zeros(11))])
    assert line.to_dict()["data"][0]["line"]["color"] == "#444"
    figures.for_display(line, dark=True)
    assert line.to_dict()["data"][0]["line"]["color"] == figures.style.DARK_MIRROR["#444"]
    assert line.to_dict()["layout"]["sliders"][0]["currentvalue"]["font"]["color"] == "#BBBBBB"


def test_prebuilt_figure_to_dict_equals_plotlys_own(race):
    """PrebuiltFigure.to_dict walks the figure once; plotly's deep-copies, then encodes arrays: same result."""
    grid, sets, critical = race
    built = figures.contour_figure(grid, sets, critical=critical, click_grid=10, animate=False)
    figures.add_arrows(built, [figures.Arrow((0.0, 0.0), (1.0, 1.0), "#D55E00", "λ1 = -2")])
    plain = go.Figure(data=built.data, layout=built.layout)
    ours, theirs = built.to_dict(), plain.to_dict()
    raw = set(built._raw_layout)
    assert ours["data"] == theirs["data"]
    assert {k: v for k, v in ours["layout"].items() if k not in raw} == theirs["layout"]
    assert ours["data"][0]["z"]["bdata"] and isinstance(ours["data"][0]["z"], dict)  # arrays as typed arrays
    ours["data"][0]["name"] = "changed"
    assert built.data[0].name != "changed"  # a copy, not the figure's own state


def test_eigen_arrows_are_proportional_to_the_eigenvalues():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    down, up = figures.eigen_arrows((1.0, 1.0), np.array([-2.0, 1.0]), vectors, span=10.0)
    assert down.end == pytest.approx((1.0 + 1.2, 1.0)) and up.end == pytest.approx((1.0, 1.0 + 0.6))  # 0.12 · span
    assert (down.color, up.color) == ("#D55E00", "#0072B2") and down.text == "λ1 = -2"


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
