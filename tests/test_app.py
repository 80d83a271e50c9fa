"""AppTest: every page runs with default and changed widgets; figures and frames are present."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import arr, charts, ok, plain
from streamlit.testing.v1 import AppTest

import optimizers
import surfaces

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PLAYGROUND = str(ROOT / "app_pages" / "playground.py")
TIMEOUT = 180


def playground(**query) -> AppTest:
    at = AppTest.from_file(PLAYGROUND, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_home_page_names_topics_and_backend():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    ok(at)
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "saddle" in text.lower() and "JAX is computing on" in text
    assert "CPU" in text or "GPU" in text


def test_home_keeps_the_cache_folder_and_memory_details_in_the_operators_diagnostics():
    """A student reading Home meets no cache folder, budget or backend: those are in one folded expander."""
    import caches

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    ok(at)
    (diagnostics,) = [e for e in at.expander if e.label == "Server diagnostics (for the operator)"]
    assert not diagnostics.proto.expanded

    def texts(where) -> list[str]:
        return [m.value for m in where.markdown] + [c.value for c in where.caption]

    folder = caches.disk_status()["folder"]
    inside, everywhere = texts(diagnostics), texts(at)
    for detail in ([folder] if folder else []) + ["Memory budget", "JAX is computing on", "Disk caches"]:
        assert sum(detail in t for t in inside) >= 1, detail
        assert sum(detail in t for t in everywhere) == sum(detail in t for t in inside), f"{detail} outside"


def test_navigation_reaches_the_playground():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/playground.py").run()
    ok(at)
    assert at.title[0].value == "Playground"


def test_playground_defaults_draw_animated_maps_curves_and_table():
    at = playground()
    ok(at)
    figs = charts(at)
    assert len(figs) == 4  # contour, loss, gradient norm, learning rate; the 3-D view when it is picked
    assert not any(t["type"] == "surface" for f in figs for t in f["data"])  # no WebGL scene unless asked for
    contour = figs[0]
    at.segmented_control(key="pg_view").set_value("3-D").run()
    ok(at)
    surface3d = charts(at)[0]
    assert len(charts(at)) == 4 and charts(at)[1] == figs[1]  # the 3-D view in the map's place, the rest as before
    assert contour["layout"]["images"][0]["source"].startswith("data:image/png")  # the surface, as a raster
    assert surface3d["data"][0]["type"] == "surface"
    for fig in (contour, surface3d):
        assert 2 <= len(fig["frames"]) <= 150
        play = fig["layout"]["updatemenus"][0]["buttons"][0]
        assert play["method"] == "animate"
        moving = fig["frames"][0]["traces"]
        assert all(set(fr["traces"]) == set(moving) for fr in fig["frames"])
        # The surface is never re-sent in a frame: the 3-D one is not in the frames; the clickable map lists its
        # fixed traces (to keep their SVG nodes for a click) with nothing but their type.
        sent = {i for fr in fig["frames"] for i, d in zip(fr["traces"], fr["data"]) if set(d) != {"type"}}
        assert 0 not in sent and len(sent) == 3 + 1  # three paths + the position markers
    # The default race: 3 optimizers; the last frame's path ends where the runner's does.
    path = optimizers.run("himmelblau", "gd", (-0.3, -0.9), 300, lr=0.01)
    first_path = [d for d in contour["frames"][-1]["data"] if "x" in d][0]
    xs = arr(first_path["x"])
    assert xs[np.isfinite(xs)][-1] == pytest.approx(path[-1, 0], abs=1e-5)
    table = at.dataframe[0].value
    assert len(table) == 3 and set(table["diverged"]) == {"no"}
    assert "minimum" in table["nearest critical point"].iloc[0]


def test_the_chart_toolbar_is_short_enough_to_leave_the_maps_legend_alone():
    at = playground()
    configs = [json.loads(el.proto.config) for el in at.get("plotly_chart")]
    assert configs and all(set(c["modeBarButtonsToRemove"]) >= {"select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                                                "autoScale2d"} and c["displaylogo"] is False
                           for c in configs)


def test_changing_widgets_changes_the_figures():
    at = playground()
    before = charts(at)[0]
    at.selectbox(key="surface").set_value("lecture_saddle").run()
    ok(at)
    at.number_input(key="n_opt").set_value(6).run()
    at.number_input(key="starts").set_value(2).run()
    at.number_input(key="steps").set_value(1000).run()
    at.select_slider(key="o3_adam_lr").set_value(0.01).run()
    at.selectbox(key="o1_schedule").set_value("warmup_cosine").run()
    ok(at)
    figs = charts(at)
    contour = figs[0]
    assert contour["layout"]["images"][0]["source"] != before["layout"]["images"][0]["source"]
    assert sum("x" in d for d in contour["frames"][0]["data"]) == 6 + 1  # six paths + the position markers
    assert len(at.dataframe[0].value) == 12  # 6 optimizers × 2 starts
    assert any("schedule" in e.label for e in at.expander)
    lr_curve = arr(figs[3]["data"][0]["y"])
    assert lr_curve[0] < lr_curve[60]  # warm-up: η grows first


def test_saddle_example_reports_what_the_run_stopped_at():
    # Gradient descent from (1.5, 0) on x² − y² slides into the saddle and stays: ‖g‖ → 0 there.
    at = playground(surface="simple_saddle", n_opt="1", steps="500")
    at.number_input(key="y1_simple_saddle").set_value(0.0).run()
    ok(at)
    row = at.dataframe[0].value.iloc[0]
    assert row["nearest critical point"].startswith("saddle") and row["steps until ‖∇L‖ < 0.001"] != "not reached"


def test_divergence_is_reported_and_others_keep_running():
    at = playground(o1_gd_lr="2")
    ok(at)
    assert any("Diverged" in w.value and "Gradient descent" in w.value for w in at.warning)
    table = at.dataframe[0].value
    assert table["diverged"].iloc[0].startswith("at step") and set(table["diverged"].iloc[1:]) == {"no"}


def test_url_state_is_loaded_and_bad_values_fall_back_with_a_note():
    at = playground(surface="rosenbrock", o1="adam", o1_adam_lr="0.05", steps="77", n_opt="many", o2="sgd",
                    o1_adam_beta1="7")
    ok(at)
    assert at.selectbox(key="surface").value == "rosenbrock"
    assert at.selectbox(key="o1").value == "adam" and at.select_slider(key="o1_adam_lr").value == 0.05
    assert at.number_input(key="steps").value == 77 and at.number_input(key="n_opt").value == 3
    note = plain(" ".join(w.value for w in at.warning))
    for bad in ("n_opt=many", "o2=sgd", "o1_adam_beta1=7"):
        assert bad in note


def test_every_surface_renders():
    at = ok(playground(steps="50"))  # one session, every surface picked in turn: as a student would
    for k, name in enumerate(surfaces.names()):
        view = ("contour", "3-D")[k % 2]  # the two views take turns (figures' tests build both on every kind)
        at.segmented_control(key="pg_view").set_value(view)
        at.selectbox(key="surface").set_value(name).run()
        assert not at.exception, (name, [e.message for e in at.exception])
        figs = charts(at)
        assert len(figs) == 4 and (figs[0]["data"][0]["type"] == "surface") == (view == "3-D"), name


def test_every_optimizer_renders_with_its_widgets():
    at = ok(playground(n_opt="1", steps="50"))
    for name in optimizers.names():
        at.selectbox(key="o1").set_value(name).run()
        assert not at.exception, (name, [e.message for e in at.exception])
        keys = {w.key for w in [*at.slider, *at.select_slider, *at.selectbox]}
        assert {f"o1_{name}_{p.name}" for p in optimizers.get(name).params} <= keys, name


def test_lecture_preset_sets_the_saddle_race():
    at = playground(surface="rastrigin", n_opt="1")
    at.button(key="pg_preset").click().run()
    ok(at)
    assert at.selectbox(key="surface").value == "lecture_saddle"
    assert [at.selectbox(key=f"o{i}").value for i in (1, 2, 3)] == ["gd", "momentum", "adam"]
    assert at.number_input(key="x1_lecture_saddle").value == pytest.approx(0.08)
