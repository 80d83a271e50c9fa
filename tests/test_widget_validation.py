"""Hostile widget values, as a crafted websocket message sends them: clamped or refused with a note, never more work.

Links are checked in tests/test_links.py; these values come the other way
a client can send them. Driven by each page's own widgets (every keyed
widget the page's first run draws, with the limits it drew them with), so a
new widget is covered without editing this file:

- as session state: every widget key of a page set to a hostile value of its
  kind before the page first draws it (a fresh session), the state a crafted
  message or a forged ``st.session_state`` leaves behind;
- as the widget state of a message (AppTest sends what the widget's element
  serializes; a crafted element sends what a hand-made ``BackMsg`` would):
  every option of a multiselect fifty times over, and unknown ones;
- over a real websocket to a live server, with bench/load_test.py's protocol
  code: the same multiselect message, answered with a note and no more
  traces than the page's largest allowed configuration draws.
"""
from __future__ import annotations

import json
import math
import sys

import pytest
from browser_support import run_async
from conftest import LESSON_PAGES, LINK_TIMEOUT, ROOT, URL_PATHS, no_exception, open_link, plain
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

import compute

PAGES = LESSON_PAGES
KINDS = ("number_input", "slider", "select_slider", "selectbox", "multiselect", "text_input", "toggle",
         "segmented_control")
# Not built by controls.widgets: the entry point's language and presentation switches (checked before any page
# runs, tests/test_links.py), and Critical points' "jump to a critical point" picker (a page callback's own widget).
NOT_OURS = {"lang", "present", "cp_pick"}
HUGE = 1e12
# Per kind: hostile values, one per round (a value that is not of the widget's type, out of its range, ...).
HOSTILE = {
    "number_input": [HUGE, -HUGE, math.nan, "12", [1, 2]],
    "slider": [HUGE, -HUGE, math.inf, "0.5", None],
    "select_slider": [HUGE, -HUGE, math.nan, "0.1", 0.0123456],
    "selectbox": ["no-such-option", 3, None, "", ["a"]],
    "multiselect": ["many", "unknown", "adam", 7, None],  # "many": the current value fifty times over
    "text_input": ["x" * 100_000, 12, None, ["f"], b"x"],
    "toggle": ["yes", 2, None, "1", 1.0],
    "segmented_control": ["no-such-view", 3, ["3-D"], "", 1.5],
}
ROUNDS = max(len(v) for v in HOSTILE.values())


def page_widgets(at) -> dict[str, tuple[str, object]]:
    """Every keyed widget of the page that controls.widgets built: key -> (kind, element)."""
    found = {}
    for kind in KINDS:
        for el in getattr(at, kind):
            if el.key and el.key not in NOT_OURS and not el.key.startswith("$$"):
                found[el.key] = (kind, el)
    return found


def hostile(kind: str, round_: int, current):
    value = HOSTILE[kind][round_ % len(HOSTILE[kind])]
    if kind == "multiselect" and value == "many":
        return list(current) * 50 + ["no-such-option"]
    if kind == "multiselect" and value == "unknown":
        return ["no-such-option", "also-not-one"]
    return value


def within_limits(kind: str, el, value) -> bool:
    """Whether ``value`` is one the widget ``el`` (as the page drew it) allows."""
    if kind in ("number_input", "slider"):
        return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                and (el.min is None or el.min <= value) and (el.max is None or value <= el.max))
    if kind == "select_slider":
        return isinstance(value, float) and any(math.isclose(float(o), value, rel_tol=1e-9) for o in el.options)
    if kind in ("selectbox", "segmented_control"):
        try:
            return el.format_func(value) in el.options
        except Exception:  # noqa: BLE001 - a value its format_func cannot even show is not an option
            return False
    if kind == "multiselect":
        return (isinstance(value, list) and len(set(value)) == len(value) <= len(el.options)
                and all(el.format_func(v) in el.options for v in value))
    if kind == "text_input":
        return isinstance(value, str) and len(value) <= (el.max_chars or 10**9)
    if kind == "toggle":
        return isinstance(value, bool)
    raise AssertionError(kind)


def open_with_state(name: str, state: dict) -> AppTest:
    """A fresh session on page ``name`` whose session state holds ``state`` before the page first draws its widgets."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=LINK_TIMEOUT)
    if name in URL_PATHS:  # AppTest finds these pages by their URL path after one run of the entry point
        at.run()
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"app_pages/{name}.py").run()
    assert at.session_state["_page"] == URL_PATHS.get(name, name), "AppTest did not reach the page"
    return at


def notes(at) -> str:
    return plain(" ".join(w.value for w in at.warning))


@pytest.fixture(scope="module")
def clean():
    """Each page's first run with no link: its widgets and their limits."""
    runs = {}

    def get(name):
        if name not in runs:
            at = open_link(name, {})
            no_exception(at)
            runs[name] = at
        return runs[name]

    return get


@pytest.mark.parametrize("page", PAGES)
def test_hostile_session_state_on_every_widget_is_clamped_or_refused_with_a_note(page, clean):
    widgets = page_widgets(clean(page))
    assert widgets
    for round_ in range(ROUNDS):
        sent = {key: hostile(kind, round_, clean(page).session_state[key]) for key, (kind, _) in widgets.items()}
        at = open_with_state(page, sent)
        no_exception(at)
        said = notes(at)
        now = page_widgets(at)
        seen = 0
        for key, value in sent.items():
            if key not in now:  # drawn only with other values (a widget whose options depend on another)
                continue
            seen += 1
            kind, el = now[key]
            used = at.session_state[key]
            assert within_limits(kind, el, used), (page, key, value if not isinstance(value, str) else value[:20], used)
            if kind != "segmented_control" or value is not None:
                assert f"{key}=" in said, (page, key, round_)
        assert seen >= len(sent) // 2, (page, round_, seen, len(sent))


@pytest.mark.parametrize("page", PAGES)
def test_a_clean_page_and_its_lecture_example_get_no_note(page, clean):
    """The specs refuse nothing the app itself sets: the defaults, and every value of the page's lecture example."""
    at = clean(page)
    assert "not used" not in notes(at)
    example = open_link(page, {"preset": at.session_state["_page_preset"]})
    no_exception(example)
    assert "not used" not in notes(example), notes(example)[:300]


class Calls:
    """Counts the page's calls into compute, each weighted by the length of any tuple it is given (a config's
    list of learning rates, a run's list of starts): what the page asks to be computed."""

    def __init__(self, monkeypatch):
        self.work = 0
        for name in dir(compute):
            fn = getattr(compute, name)
            if callable(fn) and not name.startswith("_") and getattr(fn, "__module__", "") == "compute":
                monkeypatch.setattr(compute, name, self.counted(fn))

    def counted(self, fn):
        def call(*args, **kwargs):
            self.work += 1 + sum(size(v) for v in (*args, *kwargs.values()))
            return fn(*args, **kwargs)

        return call


def size(value) -> int:
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple config
        return sum(size(v) for v in value)
    if isinstance(value, (tuple, list)):
        return len(value)
    return 0


def craft(el, set_value) -> None:
    """Make AppTest send, for widget ``el``, the WidgetState ``set_value`` fills in (what a hand-made BackMsg holds)."""
    state = WidgetState()
    state.id = el.id
    set_value(state)
    el.__class__ = type("Crafted", (type(el),), {"_widget_state": property(lambda self: state)})


MULTISELECTS = [(page, key) for page, key in (("adaptive_lr", "a_adaptive"), ("schedules", "s_compare"),
                                               ("normalization", "n_lrs"))]


@pytest.mark.parametrize("page,key", MULTISELECTS)
def test_a_crafted_multiselect_message_costs_no_more_than_every_option_once(page, key, clean, monkeypatch):
    el = clean(page).multiselect(key=key)
    labels = list(el.options)
    at = open_link(page, {})
    craft(at.multiselect(key=key), lambda s: s.string_array_value.data.extend(labels))  # the largest allowed
    calls = Calls(monkeypatch)
    at.run()
    no_exception(at)
    largest = calls.work
    assert sorted(at.session_state[key]) == sorted(set(at.session_state[key])) and len(at.session_state[key]) == len(labels)

    at = open_link(page, {})
    craft(at.multiselect(key=key), lambda s: s.string_array_value.data.extend(labels * 50 + ["no-such-option"]))
    calls.work = 0
    at.run()
    no_exception(at)
    assert f"{key}=" in notes(at) and "not used" in notes(at)
    assert 0 < calls.work <= largest, (page, calls.work, largest)
    at.run()  # the next run replaces the refused value in the widget's state (a note says so again)
    no_exception(at)
    used = at.session_state[key]
    assert len(used) == len(set(used)) == len(labels), used


@pytest.mark.parametrize("page", PAGES)
def test_crafted_out_of_range_numbers_never_reach_the_page(page, clean):
    """Every number widget sent an out-of-range value in its own wire field: the page computes with one in range
    (Streamlit's deserializer gives the widget's default; the spec would clamp what got through)."""
    at = open_link(page, {})
    widgets = page_widgets(at)
    for _key, (kind, el) in widgets.items():
        if kind == "number_input":
            craft(el, lambda s, v=el.max: setattr(s, "double_value", (v or 0) * 1e6 + 1e6))
        elif kind == "slider":
            craft(el, lambda s, v=el.max: s.double_array_value.data.append(v * 1e6 + 1e6))
    at.run()
    no_exception(at)
    for key, (kind, el) in page_widgets(at).items():
        assert within_limits(kind, el, at.session_state[key]), (key, at.session_state[key])


# A widget state in a field its widget does not take, or that its decoder cannot read: Streamlit's own
# deserializers raised on each of these before the page ran (controls.widgets.refuse_mistyped_widget_states).
WRONG_KIND = {
    "number_input": lambda s: setattr(s, "string_value", "12"),
    "slider": lambda s: setattr(s, "string_value", "0.5"),
    "select_slider": lambda s: setattr(s, "double_value", 0.5),
    "selectbox": lambda s: setattr(s, "int_value", 1),
    "multiselect": lambda s: setattr(s, "double_value", 3.0),
    "text_input": lambda s: s.double_array_value.data.append(1.0),
    "toggle": lambda s: setattr(s, "string_value", "yes"),
    "segmented_control": lambda s: setattr(s, "double_value", 1.0),
}


@pytest.mark.parametrize("page", PAGES)
def test_widget_states_of_the_wrong_kind_get_the_widgets_default(page, clean):
    at = open_link(page, {})
    widgets = page_widgets(at)
    for _key, (kind, el) in widgets.items():
        craft(el, WRONG_KIND[kind])
    at.run()
    no_exception(at)
    for key, (kind, el) in page_widgets(at).items():
        assert within_limits(kind, el, at.session_state[key]), (page, key, at.session_state[key])


def test_a_whole_number_input_sent_a_nan_gets_its_default():
    at = open_link("momentum", {})
    craft(at.number_input(key="m_steps"), lambda s: setattr(s, "double_value", math.nan))
    at.run()
    no_exception(at)
    assert at.session_state["m_steps"] == clean_default(at, "m_steps")


def clean_default(at, key):
    return at.session_state["_bound_widgets"][key]


# ------------------------------------------------------------------ a live server over its websocket
sys.path.insert(0, str(ROOT / "bench"))


class Recording:
    """A websocket that rewrites each outgoing rerun with ``craft`` and keeps every message the server sends."""

    def __init__(self, ws, craft_state):
        self.ws, self.craft_state, self.received = ws, craft_state, []

    async def send(self, data: bytes) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg.FromString(data)
        for state in msg.rerun_script.widget_states.widgets:
            self.craft_state(state)
        await self.ws.send(msg.SerializeToString())

    async def recv(self):
        data = await self.ws.recv()
        self.received.append(data)
        return data


def elements(received: list[bytes]):
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    for data in received:
        fm = ForwardMsg.FromString(data)
        if fm.WhichOneof("type") == "delta" and fm.delta.WhichOneof("type") == "new_element":
            yield fm.delta.new_element


def test_a_crafted_multiselect_message_to_a_live_server_is_cut_to_the_options(server):
    """Every option of Adaptive learning rate's optimizer picker fifty times over, sent to ``streamlit run``."""
    import websockets
    from load_test import Session

    url = server.replace("http", "ws", 1)

    async def exchange(labels: list[str] | None) -> tuple[Session, list[bytes]]:
        """Open the page; then, if ``labels``, send the multiselect's state as those labels (a crafted rerun)."""
        session = Session(url, "adaptive_learning_rate", "a_adaptive", "strings", [])
        async with websockets.connect(f"{url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                      open_timeout=60) as ws:
            opening = Recording(ws, lambda state: None)
            await session.run_once(opening)  # finds the widget's id
            assert session.widget_id, session.errors
            if labels is None:
                return session, opening.received

            def to_labels(state):
                if state.id == session.widget_id:  # load_test sends a number here; a string list replaces it
                    state.string_array_value.data.extend(labels)

            recording = Recording(ws, to_labels)
            await session.run_once(recording, value=0.0)
        return session, recording.received

    opened, received = run_async(exchange(None))
    assert not opened.errors, opened.errors
    labels = next(list(e.multiselect.options) for e in elements(received)
                  if e.WhichOneof("type") == "multiselect" and e.multiselect.id.endswith("-a_adaptive"))
    assert len(labels) >= 2

    def traces(received) -> int:
        charts = [json.loads(e.plotly_chart.spec) for e in elements(received)
                  if e.WhichOneof("type") == "plotly_chart" and e.plotly_chart.id.endswith("-a_adaptive_map")]
        assert len(charts) == 1
        return len(charts[0]["data"])

    legit, legit_received = run_async(exchange(labels))  # every option once: the largest allowed configuration
    crafted, crafted_received = run_async(exchange(labels * 50 + ["no-such-option"]))
    for s in (legit, crafted):
        assert not s.errors, s.errors
    assert traces(crafted_received) == traces(legit_received) > len(labels)
    said = " ".join(e.alert.body for e in elements(crafted_received) if e.WhichOneof("type") == "alert")
    assert "a\\_adaptive" in said and "not used" in said, said[:300]
    assert not any(e.WhichOneof("type") == "alert" and "not used" in e.alert.body for e in elements(legit_received))
