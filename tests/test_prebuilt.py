"""figures/prebuilt.py: the parts of plotly.py's internals it leans on still mean what it assumes.

Each test compares a PrebuiltFigure with what plotly.py's public API makes of the same figure, so a plotly
upgrade that renames or changes ``_validate``, ``_data``, ``_layout``, ``_frame_objs``, a frame's ``_props`` or
``_plotly_utils.utils``' typed-array helpers fails here.
"""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from conftest import assert_same_tree

import figures
import optimizers
import surfaces
from figures.prebuilt import PrebuiltFigure


@pytest.fixture(scope="module")
def race():
    grid = surfaces.grid("himmelblau", 60)
    names = ["gd", "momentum", "adam"]
    runs = [optimizers.trajectories("himmelblau", n, [[-0.3, -0.9]], 200) for n in names]
    return grid, [figures.PathSet(n, r.path, r.loss) for n, r in zip(names, runs)], surfaces.critical_points("himmelblau")


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
    assert ours["data"][1]["x"]["bdata"] and isinstance(ours["data"][1]["x"], dict)  # arrays as typed arrays
    ours["data"][0]["name"] = "changed"
    assert built.data[0].name != "changed"  # a copy, not the figure's own state


def test_a_prebuilt_figure_holds_the_traces_a_validated_figure_would(race):
    """PrebuiltFigure skips plotly.py's second validation of traces that were validated when made: the traces it
    sends equal those of a validated go.Figure of the same traces, with what a page adds afterwards."""
    grid, paths, _ = race
    fig = figures.contour_figure(grid, paths, click_grid=40, critical=surfaces.critical_points("himmelblau"))
    figures.mark_point(fig, (1.0, 2.0), figures.eigen_arrows((1.0, 2.0), [2.0, -1.0], np.eye(2), 8.0))
    validated = go.Figure(data=fig.data, layout=fig.layout)
    assert fig._validate is False and validated._validate is True
    got, want = (json.loads(pio.to_json({"data": f.to_dict()["data"]}))["data"] for f in (fig, validated))
    assert_same_tree(got, want, "data")
    notes = [json.loads(pio.to_json({"data": [], "layout": {"annotations": f.to_dict()["layout"]["annotations"]}}))
             for f in (fig, validated)]
    assert len(notes[0]["layout"]["annotations"]) == 4  # two arrows, two labels
    assert_same_tree(*notes, "annotations")


def test_the_internals_prebuilt_figure_reads_are_plotlys_figure_state():
    """``_data`` / ``_layout`` are the dicts plotly.py serializes; ``_frame_objs`` and ``_props`` its frames."""
    x = np.arange(5, dtype=np.float32)
    public = go.Figure(data=[go.Scatter(x=x, y=x**2, name="a")], layout=dict(title=dict(text="t")),
                       frames=[go.Frame(data=[go.Scatter(x=x[:2], y=x[:2])], name="0")])
    assert [t["name"] for t in public._data] == ["a"] and public._layout["title"]["text"] == "t"
    assert [f._props["name"] for f in public._frame_objs] == ["0"]
    fig = PrebuiltFigure(data=public.data, raw_layout=dict(height=300),
                         raw_frames=[dict(data=[dict(type="scatter", x=[0, 1])], name="0")])
    assert fig._validate is False
    ours, theirs = fig.to_dict(), public.to_dict()
    assert ours["data"] == theirs["data"] and ours["layout"]["height"] == 300
    assert json.loads(pio.to_json(ours))["data"][0]["x"] == json.loads(pio.to_json(theirs))["data"][0]["x"]


def test_no_other_module_touches_plotly_internals():
    """The internals stay in one small module: an upgrade's breakage has one place to look."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    internal = ("_plotly_utils", "_validate=", "._frame_objs", "._props", "._data", "._layout")
    sources = [p for p in root.rglob("*.py") if not {".venv", "tests", "bench"} & set(p.relative_to(root).parts)]
    touching = {str(p.relative_to(root)) for p in sources for token in internal if token in p.read_text()}
    assert touching == {"figures/prebuilt.py"}, touching
