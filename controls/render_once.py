"""Render once, serve the class: a chart's serialized figure built once per page state and shared by every session.

When forty students open one link, forty runs of the page ask for the same
figures with the same values. Measured in-process on a warm page
(docs/performance_log.md), building the Plotly figures is 30-50 % of a run
and serializing them (``to_dict``, ``plotly.io.to_json``) another 10-20 %;
a key taken from the built figure (a content hash) must walk and encode the
whole figure first, which costs about what it saves. So the key is taken
*before* building: a page hands ``controls.chart`` a :class:`Recipe` (the
builder and its arguments) instead of a figure, and the first session to ask
builds, fits (``figures.for_display``) and serializes it; the others get the
same JSON string from the ``"charts"`` share of ``memory_budget``.

The key (:func:`state_key`) holds everything that changes the bytes: the
builder (its qualified name and its code), a digest of every argument
(arrays by dtype, shape and bytes; NamedTuples, lists, dicts, numbers and
strings by value; nested recipes the same way), the presentation scale, the
dark theme and the language (builders write their titles through ``tr``).
An argument of a kind it cannot digest (an object without a value form)
raises :class:`Unkeyable` and the chart is built for that session alone, as
before: two states never share by accident. What is per session stays per
session: a clicked start is an argument of the recipe, so it is in the key;
``on_select`` callbacks, the widget key and the selection are the element's,
made for each session by :func:`plotly_chart_from_spec` around the shared
JSON (Streamlit's own ``st.plotly_chart`` steps, without re-serializing).
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import streamlit as st

import figures
import i18n
from memory_budget import cached

# Builds per builder name, for tests and the bench: a shared state adds one build, however many sessions ask.
BUILDS: collections.Counter = collections.Counter()
# Streamlit's plotly_chart as mirrored by plotly_chart_from_spec (tests/test_render_once.py compares the protos);
# another version falls back to building the figure and Streamlit's own element.
MIRRORED_STREAMLIT = "1.67."


class Unkeyable(TypeError):
    """An argument has no value form to digest: the chart is built for its session alone."""


class Recipe:
    """A figure builder and its arguments, built only when no session has built the same state before.

    ``Recipe(figures.contour_figure, grid, sets, height=480)``; arguments may be
    recipes themselves (``Recipe(figures.add_critical_curves, Recipe(...), curves)``).
    """

    __slots__ = ("args", "builder", "kwargs")

    def __init__(self, builder: Callable, *args, **kwargs):
        self.builder, self.args, self.kwargs = builder, args, kwargs

    def build(self):
        """The figure: nested recipes built first, then the builder called (counted in ``BUILDS``)."""
        args = [a.build() if isinstance(a, Recipe) else a for a in self.args]
        kwargs = {k: v.build() if isinstance(v, Recipe) else v for k, v in self.kwargs.items()}
        BUILDS[self.builder.__qualname__] += 1
        return self.builder(*args, **kwargs)

    __call__ = build  # where a function that builds the figure is asked for (controls.export_panel)


def _feed(h, value, depth: int = 0) -> None:
    """Feed ``value``'s type and value into the hash ``h``, unambiguously (type tags and lengths before contents)."""
    if depth > 50:
        raise Unkeyable("nested too deep")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        h.update(f"{type(value).__name__}:{value!r};".encode())  # repr: 0.1 and 0.1000001 differ, -0.0 and 0.0 too
    elif isinstance(value, np.ndarray):
        h.update(f"nd:{value.dtype.str}:{value.shape};".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Recipe):
        _feed_callable(h, value.builder)
        _feed(h, value.args, depth + 1)
        _feed(h, value.kwargs, depth + 1)
    elif isinstance(value, (tuple, list)):
        # A NamedTuple's type name and fields count: two records with the same numbers are different arguments.
        h.update(f"{type(value).__qualname__}{getattr(value, '_fields', '')}[{len(value)};".encode())
        for v in value:
            _feed(h, v, depth + 1)
    elif isinstance(value, dict):
        h.update(f"dict{len(value)};".encode())
        for k in sorted(value, key=repr):
            _feed(h, k, depth + 1)
            _feed(h, value[k], depth + 1)
    elif isinstance(value, (set, frozenset)):
        _feed(h, sorted(value, key=repr), depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"dc:{type(value).__module__}.{type(value).__qualname__};".encode())
        for f in dataclasses.fields(value):
            _feed(h, f.name, depth + 1)
            _feed(h, getattr(value, f.name), depth + 1)
    elif callable(value) and hasattr(value, "__code__"):
        _feed_callable(h, value)
    else:
        raise Unkeyable(f"cannot digest a {type(value).__name__}")


def _feed_callable(h, fn) -> None:
    if getattr(fn, "__closure__", None):
        raise Unkeyable(f"{fn.__qualname__} closes over values")  # what it closes over is not in the key
    code = getattr(fn, "__code__", None)
    # The code's own hash: a builder edited and reloaded in a development server is another key.
    h.update(f"fn:{fn.__module__}.{fn.__qualname__}:{hash(code) if code else ''};".encode())


def state_key(recipe: Recipe, scale: float, dark: bool, language: str) -> str:
    """The hex digest of everything that changes the chart's bytes (raises :class:`Unkeyable`)."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, (float(scale), bool(dark), str(language)))
    _feed(h, recipe)
    return h.hexdigest()


class Rendered(NamedTuple):
    """One chart's serialized figure, as ``st.plotly_chart`` would send it, and what the element needs besides."""

    spec: str  # plotly.io.to_json of the fitted figure: the PlotlyChart proto's ``spec``
    width: Any  # the figure's layout width and height (None when unset): Streamlit's "content" sizes
    height: Any
    trace_types: frozenset  # e.g. {"contour", "scatter"}: whether the page needs the 3-D camera script


def render(fig, scale: float, dark: bool) -> Rendered:
    """Fit ``fig`` to the display (in place) and serialize it exactly as Streamlit's plotly_chart does."""
    import plotly.io

    fig = figures.for_display(fig, scale=scale, dark=dark)
    # Streamlit: return_figure_from_figure_or_data -> fig.to_dict(), then plotly.io.to_json(dict, validate=False).
    as_dict = fig.to_dict()
    spec = plotly.io.to_json(as_dict, validate=False)
    layout = as_dict.get("layout", {})
    return Rendered(spec, layout.get("width"), layout.get("height"),
                    frozenset(t.get("type", "scatter") for t in as_dict.get("data", ())))


_PENDING = threading.local()  # the recipe of the key being looked up: the cache's key is its digest alone


@cached("charts")
def _rendered(state: str, scale: float, dark: bool) -> Rendered:
    return render(_PENDING.recipe.build(), scale, dark)


def shared(fig, scale: float, dark: bool) -> Rendered | None:
    """A recipe's shared rendering (:func:`rendered`); None for a figure, an :class:`Unkeyable` recipe or a
    Streamlit that :func:`plotly_chart_from_spec` does not mirror (the caller then builds and sends it itself)."""
    if not isinstance(fig, Recipe) or not mirrored():
        return None
    try:
        return rendered(fig, scale, dark)
    except Unkeyable:
        return None


def rendered(recipe: Recipe, scale: float, dark: bool) -> Rendered:
    """The shared rendering of ``recipe`` for this display and language, built on the first request only.

    One build per key at a time: sessions asking while it is being built wait for it (``memory_budget.cached``).
    Raises :class:`Unkeyable` for a recipe whose arguments cannot be digested.
    """
    key = state_key(recipe, scale, dark, i18n._language.get())  # the language tr speaks to the builders in this run
    _PENDING.recipe = recipe
    try:
        return _rendered(key, float(scale), bool(dark))
    finally:
        _PENDING.recipe = None


def plotly_chart_from_spec(where, shown: Rendered, *, width="stretch", height="content", theme="streamlit",
                           key=None, on_select="ignore", selection_mode=("points", "box", "lasso"), config=None,
                           alt=None):
    """``where.plotly_chart(fig, ...)`` for a figure already serialized: the same PlotlyChart proto, id and widget.

    Streamlit 1.67's ``plotly_chart`` (streamlit/elements/plotly_chart.py),
    step for step, with the figure's JSON given instead of made: the same
    ``spec``, ``config``, ``theme``, ``form_id`` and ``alt`` fields, the same
    element id (it hashes the spec, so a per-session chart key still gives each
    session its own widget), the same selection widget and layout. Only the
    matplotlib and ``use_container_width`` branches are left out (no chart
    here uses them). ``gather_metrics`` (usage statistics) is not called.
    """
    from streamlit.elements import plotly_chart as pc
    from streamlit.errors import StreamlitValueError

    dg = where.plotly_chart.__self__  # st (the main area), st.sidebar or a container: the DeltaGenerator
    pc.validate_width(width, allow_content=True)
    pc.validate_height(height, allow_content=True)
    if theme not in {"streamlit", None}:
        raise StreamlitValueError("theme", ["'streamlit'", "None"])
    on_select_callback = pc.validate_on_change_mode(on_select, supported_modes=("rerun", "ignore"),
                                                    none_supported=False, param_name="on_select")
    key = pc.to_key(key)
    is_selection_activated = on_select != "ignore"
    if is_selection_activated:
        pc.check_widget_policies(dg, key, on_change=on_select_callback, default_value=None, writes_allowed=False,
                                 enable_check_callback_rules=on_select_callback is not None)
    proto = pc.PlotlyChartProto()
    proto.theme = theme or ""
    proto.form_id = pc.current_form_id(dg)
    proto.spec = shown.spec
    proto.config = json.dumps(config or {})
    normalized_alt = pc.normalize_alt(alt)
    if normalized_alt is not None:
        proto.alt = normalized_alt
    ctx = pc.get_script_run_ctx()
    proto.id = pc.compute_and_register_element_id(
        "plotly_chart", user_key=key, key_as_main_identity=False, dg=dg, plotly_spec=proto.spec,
        plotly_config=proto.config, selection_mode=selection_mode, is_selection_activated=is_selection_activated,
        theme=theme, width=width, height=height, alt=normalized_alt)
    size_of = {"layout": {"width": shown.width, "height": shown.height}}
    layout_config = pc.LayoutConfig(width=pc._resolve_content_width(width, size_of),
                                    height=pc._resolve_content_height(height, size_of))
    if is_selection_activated:
        proto.selection_mode.extend(pc.parse_selection_mode(selection_mode))
        serde = pc.PlotlyChartSelectionSerde()
        widget_state = pc.register_widget(proto.id, on_change_handler=on_select_callback,
                                          deserializer=serde.deserialize, serializer=serde.serialize, ctx=ctx,
                                          value_type="string_value")
        dg._enqueue("plotly_chart", proto, layout_config=layout_config, agent_props=pc.agent_spec.element(
            "plotly_chart", key=proto.id, data_builder=lambda: pc._plotly_data(proto.spec),
            support="action_unsupported",
            selection_mode=sorted(pc._SELECTION_MODE_FROM_PROTO[m] for m in proto.selection_mode) or None,
            on_select="rerun", alt=proto.alt or None))
        return widget_state.value
    return dg._enqueue("plotly_chart", proto, layout_config=layout_config, agent_props=pc.agent_spec.element(
        "plotly_chart", key=key, data_builder=lambda: pc._plotly_data(proto.spec), alt=proto.alt or None))


def mirrored() -> bool:
    """Whether this Streamlit is the version :func:`plotly_chart_from_spec` mirrors."""
    return st.__version__.startswith(MIRRORED_STREAMLIT)
