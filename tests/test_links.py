"""Links as a hostile student writes them, on every page through the entry point: a note, the default, no exception.

Registry-driven: the parameters come from what each page's widgets read
(``controls.UrlCheck``), so a new widget is covered without editing this file.
One AppTest session per page loops over the hostile values (a fresh page
load each time), which keeps the test fast.
"""
from __future__ import annotations

import re
import urllib.parse

import pytest
from conftest import LESSON_PAGES, LIVE_MARKUP, markdown_sources, no_exception, open_link, plain
from streamlit.testing.v1 import AppTest

PAGES = LESSON_PAGES
FREE_TEXT = re.compile(r"(_formula|c_logits)$")  # text fields: any short text is a value (the page then says why it fails)
HOSTILE = ["inf", "-inf", "nan", "infinity", "1e400", "9" * 400, "", "7" * 10_000,
           "[Log in again](https://evil.example/login)", "![x](https://evil.example/t.png)", "<script>alert(1)</script>",
           "１２", "аdam"]
REPEATED = ["1", "2"]


def widget_values(at: AppTest) -> dict:
    state = at.session_state.to_dict()
    return {k: state[k] for k in state.get("_url_read", []) if k in state}


def notes(at: AppTest) -> str:
    return plain(" ".join(w.value for w in at.warning))


@pytest.mark.parametrize("page", PAGES)
def test_every_parameter_of_every_page_refuses_hostile_values_with_a_note(page):
    at = open_link(page, {})
    no_exception(at)
    keys = list(at.session_state["_url_read"])
    defaults = widget_values(at)
    assert keys and defaults
    for value in HOSTILE + [REPEATED]:
        query = {k: value for k in keys}
        at = open_link(page, query)
        no_exception(at)
        said = notes(at)
        for key in keys:
            empty_selection = value == "" and isinstance(defaults.get(key), list)  # a valid multiselect value
            if isinstance(value, list) or not (FREE_TEXT.search(key) or empty_selection) or len(value) > 400:
                assert f"{key}=" in said, (page, key, value[:20])
        now = widget_values(at)
        for key, default in defaults.items():
            if key in now and not FREE_TEXT.search(key) and not (value == "" and isinstance(default, list)):
                assert now[key] == default, (page, key, value[:20])
        for source in markdown_sources(at):  # nothing from the link became a live link, image or tag
            assert not LIVE_MARKUP.search(source), (page, source[:200])


@pytest.mark.parametrize("page", PAGES)
def test_unknown_keys_and_presets_get_the_right_note(page):
    at = open_link(page, {"nonsense": "1", "preset": "nope"})
    no_exception(at)
    said = notes(at)
    assert "nonsense=1 ignored (this page has no such setting)" in said
    assert "preset=nope ignored (this page's lecture example is " in said
    other = "pg_preset" if page != "playground" else "s_preset"
    at = open_link(page, {"preset": other})
    assert f"preset={other} ignored" in notes(at)
    assert "nonsense" not in at.query_params


def changed_value(at: AppTest, key: str, default):
    """A valid value other than ``default`` for widget ``key``: the hardest to write exactly into a link."""
    for w in at.select_slider:
        if w.key == key:  # the smallest stop (1e-5, 5e-4, 1e-8 …: what 6 digits or Streamlit's labels lose)
            stops = [float(label) for label in w.options]
            return next(v for v in stops if v != default)
    for w in at.slider:
        if w.key == key:
            if isinstance(default, int):
                return default + 1 if default < w.max else default - 1
            k = round(0.37 * (w.max - w.min) / w.step)
            return w.min + k * w.step
    for w in at.number_input:
        if w.key == key:
            if isinstance(default, int):
                return default + 1 if w.max is None or default < w.max else default - 1
            low, high = w.min, w.max
            return low + (high - low) / 3  # 1/3: no short decimal
    for w in at.text_input:
        if w.key == key:
            return "1, 2.5, -0.125, 4" if key == "c_logits" else "x**2 + 0.5*y**2"
    for w in at.toggle:
        if w.key == key:
            return not default
    raise AssertionError(f"no widget {key}")


def set_value(at: AppTest, key: str, value) -> None:
    for kind in ("select_slider", "slider", "number_input", "text_input", "toggle"):
        for w in getattr(at, kind):
            if w.key == key:
                w.set_value(value)
                return


@pytest.mark.parametrize("page", PAGES)
def test_every_url_bound_value_survives_the_share_link_exactly(page):
    at = open_link(page, {})
    bound = dict(at.session_state["_bound_widgets"])
    assert bound
    wanted = {}
    for key, default in bound.items():
        if key in ("starts", "n_opt", "nl_depth"):  # these add or remove widgets; their values are covered below
            continue
        wanted[key] = changed_value(at, key, default)
        set_value(at, key, wanted[key])
    at.run()
    no_exception(at)
    state = at.session_state.to_dict()
    reset = [k for k, v in wanted.items() if state.get(k) != v]  # a widget whose bounds moved with another (m_t)
    assert len(reset) <= 1, reset
    wanted = {k: v for k, v in wanted.items() if k not in reset}
    links = [c.value for c in at.code if c.value.startswith("?")]
    assert len(links) == 1, [c.value[:80] for c in at.code]
    query = {k: v[0] for k, v in urllib.parse.parse_qs(links[0][1:], keep_blank_values=True).items()}
    reopened = open_link(page, query)
    no_exception(reopened)
    assert not reopened.warning or "could not be used" not in reopened.warning[0].value
    got = reopened.session_state.to_dict()
    for key, value in wanted.items():
        assert got[key] == value and type(got[key]) is type(value), (key, value, got[key], query.get(key))


def test_a_section_link_is_kept_on_its_page_and_refused_elsewhere():
    """``section=<anchor>`` (``app_pages.link_query``) stays in the address on the section's own page, where the
    browser scrolls to it; an unknown anchor or another page's is dropped with a note, never an exception."""
    at = open_link("critical_points", {"section": "lecture-1-3"})
    no_exception(at)
    assert at.query_params["section"] in ("lecture-1-3", ["lecture-1-3"])
    assert "section=" not in notes(at)
    for raw in ("lecture-2-4", "<script>", "lecture-9-9"):
        at = open_link("critical_points", {"section": raw})
        no_exception(at)
        assert "section" not in at.query_params
        assert "one of this page's sections: lecture-1-1, lecture-1-2, lecture-1-3, lecture-1-4" in notes(at)
    at = open_link("playground", {"section": "lecture-1-1"})
    assert "section" not in at.query_params and "this page has no lecture section" in notes(at)
