"""Render once, serve the class (controls/render_once.py): one build per page state, never shared across states.

The oracle for the bytes is the old path: the same figure built alone, fitted by ``figures.for_display`` and
given to Streamlit's own ``st.plotly_chart`` (its proto, id included), or ``plotly.io.to_json`` of it.
"""
import json
import threading

import numpy as np
import plotly.io
import plotly.tools
import pytest
from conftest import ROOT, TIMEOUT, ok, open_link, page
from streamlit.testing.v1 import AppTest

import figures
import i18n
from controls import render_once
from controls.render_once import Recipe


@pytest.fixture
def fresh():
    """An empty 'charts' cache and build count."""
    render_once._rendered.clear()
    render_once.BUILDS.clear()
    yield render_once.BUILDS
    render_once._rendered.clear()


def specs(at: AppTest) -> list[str]:
    return [el.proto.spec for el in at.get("plotly_chart")]


def presenting(name: str) -> AppTest:
    """The page alone in presentation mode (the entry point's switch, kept in the session)."""
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=TIMEOUT)
    at.session_state["present"] = True
    return at.run()


def old_spec(fig, scale=1.0, dark=False) -> str:
    """What ``st.plotly_chart`` made of a figure before render_once: for_display, then Streamlit's own two steps."""
    fig = figures.for_display(fig, scale=scale, dark=dark)
    return plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False)


def test_two_sessions_on_one_state_get_the_same_bytes_from_one_build(fresh):
    first = ok(page("momentum"))
    builds = dict(fresh)
    # one build per chart (the race map and the step's map both start from a contour map)
    assert builds == {"contour_figure": 2, "add_critical_curves": 2, "mark_point": 1, "step_curves_figure": 1,
                      "weights_figure": 1, "line_race_figure": 1}, builds
    second = ok(page("momentum"))
    assert dict(fresh) == builds  # the second session built nothing
    assert specs(first) == specs(second) and len(specs(first)) == 5


def test_another_value_presentation_or_language_is_another_state(fresh):
    base = specs(ok(page("momentum")))
    built = sum(fresh.values())
    steps = specs(ok(page("momentum", m_steps="301")))
    assert sum(fresh.values()) > built  # a new state is built, not served from the old one
    assert steps[0] != base[0]  # the race map holds the runs: 301 steps differ from 300
    present = specs(ok(presenting("momentum")))
    assert all(p != b for p, b in zip(present, base))  # every chart is fitted to the projector
    chinese = specs(ok(open_link("momentum", {"lang": "zh"})))
    assert chinese[1] != base[1]  # the loss chart's title is in Chinese


def test_a_recipe_serves_what_the_old_path_made():
    xs = np.linspace(0, 1, 50)
    recipe = Recipe(figures.step_curves_figure, [figures.Series("a", np.cos(xs)[None, :], 0)], title="t",
                    y_title="L", height=300)
    for scale, dark in ((1.0, False), (1.5, False), (1.0, True), (1.5, True)):
        assert render_once.render(recipe.build(), scale, dark).spec == old_spec(recipe.build(), scale, dark)


def test_display_and_language_are_in_the_key():
    xs = np.linspace(0, 1, 20)
    recipe = Recipe(figures.step_curves_figure, [figures.Series("a", xs[None, :], 0)], title="Loss L(θᵗ)",
                    y_title="L")
    keys = {render_once.state_key(recipe, scale, dark, lang)
            for scale in (1.0, 1.5) for dark in (False, True) for lang in ("en", "zh")}
    assert len(keys) == 8
    # the language is the thread's (i18n.use_language): a session in Chinese gets its own rendering
    seen = {}

    def in_language(code):
        i18n.use_language(code)
        seen[code] = render_once.rendered(recipe, 1.0, False).spec

    for code in ("en", "zh"):
        t = threading.Thread(target=in_language, args=(code,))
        t.start()
        t.join()
    assert seen["en"] != seen["zh"] and "Loss" in json.loads(seen["en"])["layout"]["title"]["text"]


def test_arguments_are_digested_by_value():
    a = np.arange(6.0)
    def key(*args, **kw):
        return render_once.state_key(Recipe(figures.weights_figure, *args, **kw), 1.0, False, "en")

    assert key(a, 3, 0.9) == key(a.copy(), 3, 0.9)  # equal values share
    assert key(a, 3, 0.9) != key(a + 1e-12, 3, 0.9)
    assert key(a, 3, 0.9) != key(a.astype(np.float32), 3, 0.9)  # dtype
    assert key(a, 3, 0.9) != key(a.reshape(2, 3), 3, 0.9)  # shape
    assert key(a, 3, 0.9) != key(a, 3, 0.9000001)
    assert key(a, 3, 0.9) != key(a, 3.0, 0.9)  # 3 and 3.0 are different arguments
    assert key(a, 3, lam=0.9) != key(a, 3, 0.9)
    assert (render_once.state_key(Recipe(figures.weights_figure, a, 3, 0.9), 1.0, False, "en")
            != render_once.state_key(Recipe(figures.mark_point, a, 3, 0.9), 1.0, False, "en"))


def test_what_cannot_be_digested_is_built_for_its_session_alone(fresh):
    closure_value = 2.0
    unkeyable = Recipe(lambda: figures.weights_figure(np.ones(3) * closure_value, 3, 0.5))
    with pytest.raises(render_once.Unkeyable):
        render_once.state_key(unkeyable, 1.0, False, "en")
    assert render_once.shared(unkeyable, 1.0, False) is None  # controls.chart then builds it for this session
    assert render_once.shared(unkeyable.build(), 1.0, False) is None  # a figure: the old path
    assert len(render_once._rendered.cache) == 0


CHART_SCRIPT = """
import numpy as np
import streamlit as st
import controls, figures
xs = np.linspace(-1, 1, 30)
def fig():
    return figures.step_curves_figure([figures.Series("a", np.sin(3 * xs)[None, :], 0)], title="t", y_title="L",
                                      height=300)
make = {"figure": fig, "recipe": lambda: controls.Recipe(fig)}[st.session_state.get("how", "figure")]
controls.chart(make(), key="plain")
controls.chart(make(), key="clicked", on_select=lambda: None, selection_mode="points")
with st.sidebar:
    controls.chart(make(), key="side", height=400)
controls.chart(make(), key="where", where=st.container())
"""


@pytest.mark.parametrize("present", [False, True])
def test_the_element_is_the_one_st_plotly_chart_made(present, fresh):
    """Proto for proto (spec, config, theme, id, selection modes, form) and layout, plain and as a widget."""
    runs = {}
    for how in ("figure", "recipe"):
        at = AppTest.from_string(CHART_SCRIPT, default_timeout=60)
        at.session_state["how"] = how
        at.session_state["present"] = present  # controls.presenting: the entry point's switch
        runs[how] = ok(at.run())
    old, new = runs["figure"].get("plotly_chart"), runs["recipe"].get("plotly_chart")
    assert len(old) == len(new) == 4
    for a, b in zip(old, new):
        assert a.proto == b.proto, a.proto.id
    # Four charts of one state: one build; on a projector two, as the page's first figure is fitted taller.
    assert fresh == {"fig": 2 if present else 1}
