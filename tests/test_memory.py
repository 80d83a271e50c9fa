"""Memory that does not grow with use: figures released between reruns, no compiles per step count,
caches bounded in bytes under one budget, a real server's resident memory flat under fresh values (issue 24)."""
import gc

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

import controls
import optimizers
from conftest import ROOT, TIMEOUT, ok


def live_figures() -> int:
    """How many Plotly figures are alive in this process (after a full collection)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, go.Figure))


def widget_metadata(at: AppTest) -> int:
    """How many widgets' metadata the AppTest's session keeps (Streamlit's private store)."""
    return len(at._session_state._state._new_widget_state.widget_metadata)


def test_playground_reruns_do_not_keep_their_figures_alive():
    """Each new step count draws a new clickable map; the last runs' figures and widget entries must go.

    The map's element id changes with its figure, Streamlit keeps every id's metadata with its callback,
    and a callback defined in the page held that run's globals: one more live figure per rerun.
    """
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run())
    ok(at.switch_page("app_pages/playground.py").run())
    figures_after, metadata_after = [], []
    for steps in (301, 302, 303, 304):
        ok(at.number_input("steps").set_value(steps).run())
        figures_after.append(live_figures())
        metadata_after.append(widget_metadata(at))
    assert figures_after[-1] <= figures_after[0] <= 1, figures_after
    assert metadata_after[-1] == metadata_after[0], metadata_after


def test_a_click_on_the_map_moves_the_current_surfaces_point(monkeypatch):
    """The callback holds two strings; the surface is read when the click arrives."""
    state = {"surface": "himmelblau", "contour": {"selection": {"points": [{"x": 1.23456, "y": -2.0}]}}}
    monkeypatch.setattr(controls.widgets.st, "session_state", state)
    callback = controls.point_from_click("contour", "{axis}1_{surface}")
    assert all(isinstance(a, str) for a in callback.args)
    callback()
    assert (state["x1_himmelblau"], state["y1_himmelblau"]) == (1.235, -2.0)
    state["surface"] = "custom:x**2"
    callback()
    assert state[f"x1_{controls.surface_key('custom:x**2')}"] == 1.235


def test_a_new_momentum_step_count_compiles_nothing(count_compiles):
    """The Momentum page's runs (2-D race and the ball on the line) at step counts of one bucket."""
    def page(steps):
        optimizers.trajectories("local_minima", "momentum", np.asarray([(2.3, 1.5)], np.float32), steps,
                                lr=0.01, momentum=0.9)
        optimizers.line_race("local_minima", (2.3, 1.5), (0.5, 0.5), steps, 0.01, 0.9)

    page(300)
    assert [count_compiles(lambda s=s: page(s), name=None) for s in (301, 302, 317)] == [0, 0, 0]
