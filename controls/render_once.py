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

import json
import threading

import streamlit as st

import i18n
from figures.recipes import BUILDS, Recipe, Rendered, Unkeyable, render, state_key  # noqa: F401 - its API
from memory_budget import cached

# Streamlit's plotly_chart as mirrored by plotly_chart_from_spec (tests/test_render_once.py compares the protos);
# another version falls back to building the figure and Streamlit's own element.
MIRRORED_STREAMLIT = "1.67."


_PENDING = threading.local()  # the recipe of the key being looked up: the cache's key is its digest alone


@cached("charts")
def _rendered(state: str, scale: float, dark: bool, max_height: float | None) -> Rendered:
    return render(_PENDING.recipe.build(), scale, dark, max_height)


def shared(fig, scale: float, dark: bool, max_height: float | None = None) -> Rendered | None:
    """A recipe's shared rendering (:func:`rendered`); None for a figure, an :class:`Unkeyable` recipe or a
    Streamlit that :func:`plotly_chart_from_spec` does not mirror (the caller then builds and sends it itself)."""
    if not isinstance(fig, Recipe) or not mirrored():
        return None
    try:
        return rendered(fig, scale, dark, max_height)
    except Unkeyable:
        return None


def rendered(recipe: Recipe, scale: float, dark: bool, max_height: float | None = None) -> Rendered:
    """The shared rendering of ``recipe`` for this display and language, built on the first request only.

    One build per key at a time: sessions asking while it is being built wait for it (``memory_budget.cached``).
    Raises :class:`Unkeyable` for a recipe whose arguments cannot be digested.
    """
    # the language tr speaks to the builders in this run; max_height: a projector's first figure is fitted taller
    key = state_key(recipe, scale, dark, i18n._language.get(), max_height)
    _PENDING.recipe = recipe
    try:
        return _rendered(key, float(scale), bool(dark), max_height)
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
