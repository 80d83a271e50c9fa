"""Widgets built from the registries, each bound to the URL (``controls.url``).

Every widget's values are described once, by a spec (``controls.url``'s
``NumberSpec``, ``ChoiceSpec``, ``MultiSpec``, ``TextSpec``, ``SwitchSpec``)
built from the registry record or the page's limits, and every value goes
through it (``validated``): the link's raw text before the widget exists
(``UrlCheck.seed``, so a refused value is named on the page and Streamlit
never parses link text), the widget's session state before it is drawn
(``repair_state``: a preset's value, or a forged one), and the value the
widget returns (``accept_value``: what a browser — or a hand-made websocket
message — sent). Choices (``choice_select``, ``multi_select``) keep the
option's registry name in the link, not its displayed label.
"""
from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable

import streamlit as st

import compute
import optimizers
import surfaces
from controls.url import (
    _PAGE_PRESET,
    PRESET,
    ChoiceSpec,
    MultiSpec,
    NumberSpec,
    SwitchSpec,
    TextSpec,
    UrlCheck,
    accept_value,
    arrived,
    escape_markdown,
    keep_in_url,
    repair_state,
    url_text,
)
from i18n import join, mark, tr
from optimizers.registry import HyperParam

_log = logging.getLogger(__name__)
# The value fields of the widgets this app draws: a state in one of them must come in its widget's own field
# (a number input's may be a whole or a real number).
_VALUE_FIELDS = {"double_value", "int_value", "string_value", "string_array_value", "double_array_value", "bool_value",
                 "int_array_value"}
_NUMBER_FIELDS = {"double_value", "int_value"}
_DECODE_ERRORS = (TypeError, ValueError, OverflowError, IndexError, AttributeError)


def refuse_mistyped_widget_states() -> bool:
    """Make the server answer a widget state of the wrong kind with the widget's default, not an exception.

    A browser sends each widget's value in the field the widget registered
    (a multiselect a list of strings, a slider a list of numbers); a hand-made
    message can put any field there, and Streamlit's own deserializers then
    raise (``int(nan)``, ``len(3.0)``, ``"x" < 0.5``) before the page runs, so
    no widget builder can catch it. Wrapped here, where a stored state is
    decoded (``WStates.__getitem__``): a state in another value field, or one
    its deserializer cannot decode, is replaced by the widget's default and
    logged; every other state is decoded as before, and then checked by the
    widget's spec (``validated``). Returns whether the guard is in place (False
    if this Streamlit's internals differ: then only the specs check).
    """
    try:
        from streamlit.runtime.state import session_state as internals

        states, serialized, value = internals.WStates, internals.Serialized, internals.Value
        decode = states.__getitem__
    except (ImportError, AttributeError):  # pragma: no cover - another Streamlit
        _log.warning("widget states of the wrong kind are not refused: Streamlit's session state has changed")
        return False
    if getattr(decode, "_refuses_mistyped", False):
        return True

    def guarded(self, k):
        stored, metadata = self.states.get(k), self.widget_metadata.get(k)
        if isinstance(stored, serialized) and metadata is not None:
            sent, own = stored.value.WhichOneof("value"), metadata.value_type
            mistyped = (sent in _VALUE_FIELDS and own in _VALUE_FIELDS and sent != own
                        and not {sent, own} <= _NUMBER_FIELDS)
            if not mistyped:
                try:
                    return decode(self, k)
                except _DECODE_ERRORS:
                    pass
            _log.warning("refused the state of widget %s (sent as %s; it takes %s): using its default", k, sent, own)
            default = metadata.deserializer(None)
            self.states[k] = value(default)
            return default
        return decode(self, k)

    guarded._refuses_mistyped = True
    states.__getitem__ = guarded
    return True


refuse_mistyped_widget_states()  # every process that draws these widgets: installed when they are first imported


def log_choices(low: float, high: float, default: float, extra: tuple = ()) -> list[float]:
    """1-2-5 steps per decade between low and high, plus the default and ``extra``: a log slider's stops."""
    values = {default, *(float(v) for v in extra if low <= v <= high)}
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            v = float(f"{mantissa}e{exponent}")
            if low <= v <= high:
                values.add(v)
    return sorted(values)


def format_number(v: float) -> str:
    return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e") if (v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4)) else f"{v:g}"


def validated(key: str, spec, url: UrlCheck, where, draw: Callable[[], object], seed: bool = True):
    """The one road a widget's value takes to the page: link, session state, widget, each checked by ``spec``.

    ``draw()`` draws the widget (keyed ``key``) and returns its value; what
    is returned here is that value as ``spec`` accepts it, so a page never
    sees a value outside its limits, whoever sent it. ``seed``: whether the
    link's value is put into the widget's state here (a choice seeds its own).
    """
    if seed:
        url.seed(key, spec.default, spec.parse, spec.expected)
    note = repair_state(key, spec)
    if note:
        where.warning(note, icon=":material/block:")
    return accept_value(key, draw(), spec, where)


def number_widget(p: HyperParam, key: str, url: UrlCheck, where=st, default: float | None = None, help: str | None = None,
                  stops: tuple = ()):
    """The widget for one registry number: log select-slider, integer input or linear slider.

    ``stops``: extra values a log slider offers besides its 1-2-5 steps (finer ones where they matter).
    """
    default = p.default if default is None else p.clamp(default)
    label = tr(p.label)
    if p.choices:  # a categorical parameter: a selectbox over the labels, its index in the URL
        options = [str(i) for i in range(len(p.choices))]
        return float(choice_select(label, options, str(int(default)), key, url, where=where, help=help,
                                   format_func=lambda i: tr(p.choices[int(i)])))
    if p.integer:
        spec = NumberSpec(p.low, p.high, int(default), tr("a whole number in [{low:g}, {high:g}]", low=p.low, high=p.high),
                          integer=True)
        value = validated(key, spec, url, where, lambda: where.number_input(
            label, int(p.low), int(p.high), int(default), step=1, key=key, help=help))
        keep_in_url(key, url_text(value), url_text(int(default)))
        return float(value)
    if p.log:
        choices = log_choices(p.low, p.high, default, stops)
        spec = NumberSpec(p.low, p.high, default, tr("one of the slider's stops between {low:g} and {high:g}", low=p.low,
                                                     high=p.high), stops=tuple(choices))
        value = validated(key, spec, url, where, lambda: where.select_slider(
            label, options=choices, value=default, format_func=format_number, key=key, help=help))
        keep_in_url(key, url_text(float(value)), url_text(float(default)))
        return float(value)
    step = 0.001 if p.high <= 1 else (p.high - p.low) / 200
    spec = NumberSpec(p.low, p.high, float(default), tr("a number in [{low:g}, {high:g}]", low=p.low, high=p.high))
    value = validated(key, spec, url, where, lambda: where.slider(
        label, float(p.low), float(p.high), float(default), step=step, key=key, format="%.3f" if p.high <= 1 else "%g",
        help=help))
    keep_in_url(key, url_text(float(value)), url_text(float(default)))
    return float(value)


CUSTOM = "custom"
CUSTOM_EXAMPLE = "x**2 - y**2 + 0.1*sin(5*x)"


def surface_key(name: str) -> str:
    """The short name widget keys use for a surface: "custom" for every typed formula (whose name is long)."""
    return CUSTOM if name.startswith(surfaces.formula.PREFIX) else name


def surface_point_key(prefix: str) -> Callable[[str, str], str]:
    """Widget keys for a point on a surface: ``key(surface, axis)`` is ``{prefix}{axis}_{surface}``.

    The key carries the surface, so each surface keeps its own point (and its own URL parameters).
    """
    return lambda surface, axis: f"{prefix}{axis}_{surface_key(surface)}"


def surface_select(url: UrlCheck, key: str = "surface", default: str = "himmelblau", where=st) -> str:
    """The surface picker: every catalog surface, or "custom: type f(x, y)" with its own domain.

    Returns a name for ``surfaces.get``; a typed formula's name carries its
    text and domain. A formula that does not parse shows what is wrong and
    where, and the default surface is used meanwhile.
    """
    choice = choice_select(tr("Error surface"), [*surfaces.names(), CUSTOM], default, key, url, where=where,
                           format_func=lambda n: tr("Custom: type f(x, y) …") if n == CUSTOM else tr(surfaces.get(n).title))
    if choice != CUSTOM:
        return choice
    text = text_field("f(x, y) =", CUSTOM_EXAMPLE, f"{key}_formula", url, surfaces.formula.MAX_LENGTH, where=where,
                      help=tr("Numbers, x, y, + − * / ** and parentheses; pi, e; sin cos tan exp log sqrt abs "
                              "tanh sigmoid relu softplus, min(a, b), max(a, b)."))
    c1, c2 = where.columns(2)
    bounds = [float_input(tr(label), -1e3, 1e3, d, f"{key}_{name}", url, where=c, step=0.5, fmt="%g")
              for (label, name, d), c in zip((("x min", "x0", -3.0), ("x max", "x1", 3.0), ("y min", "y0", -3.0),
                                              ("y max", "y1", 3.0)), (c1, c2, c1, c2))]
    try:
        name = surfaces.from_formula(text, ((bounds[0], bounds[1]), (bounds[2], bounds[3]))).name
        blank = compute.undefined_share(name)
        if blank > 0:
            where.caption(tr("f is not finite on {share:.0%} of the domain: those points are left blank in the maps, "
                             "and a run that reaches one stops there.", share=blank))
        return name
    except surfaces.FormulaError as err:
        shown = text[: err.position] + tr("⟨here⟩") + text[err.position:]
        where.error(tr("The formula cannot be used: {why}.", why=escape_markdown(tr(err.template, **err.values)))
                    + "\n\n" + escape_markdown(shown[:200]) + "\n\n"
                    + tr("Showing {surface} meanwhile.", surface=tr(surfaces.get(default).title)))
        return default


def is_typed(record) -> bool:
    return record.name.startswith(surfaces.formula.PREFIX)


def surface_title(record) -> str:
    """A surface's title for Markdown text: the catalog's, translated, or a typed formula escaped (shown as typed)."""
    return escape_markdown(record.title) if is_typed(record) else tr(record.title)


def surface_text(record, where=st) -> None:
    """The surface's title and description under its formula; a typed formula shown as typed (code), not as Markdown.

    The pages show the formula as LaTeX beside it (``record.formula``).
    """
    if is_typed(record):
        where.markdown(tr("**Your surface**, as typed:"))
        where.code(record.title, language=None, wrap_lines=True)
        where.caption(tr(record.text))
    else:
        # The heading's full stop from the catalog: "（…）." in Chinese read as an English stop after a wide bracket.
        where.markdown(join(tr("**{title}.**", title=tr(record.title)), tr(record.text)))


def choice_select(label: str, options: list[str], default: str, key: str, url: UrlCheck, format_func=str, where=st,
                  help: str | None = None) -> str:
    """A selectbox whose value is kept in the URL as the option's registry name."""
    # A stored value no longer among the options (they depend on another widget, or it was forged) is replaced by the
    # default in ``validated``, with a note: the reader sees why the choice changed.
    spec = ChoiceSpec(tuple(options), default, tr("one of {names}", names=", ".join(options)))
    linked = url.value(key, spec.parse, spec.expected)
    if linked is not None and key not in st.session_state:
        st.session_state[key] = linked

    def draw():
        # index=0 when the state is already set: Streamlit warns about a default
        # that competes with a Session State value only for a non-zero index.
        index = 0 if key in st.session_state else options.index(default)
        return where.selectbox(label, options, index=index, key=key, format_func=format_func, help=help)

    value = validated(key, spec, url, where, draw, seed=False)
    keep_in_url(key, value, default)
    return value


def multi_select(label: str, options: list[str], default: list[str], key: str, url: UrlCheck, format_func=str,
                 where=st, help: str | None = None, most: int | None = None) -> list[str]:
    """A multiselect kept in the URL as comma-separated registry names (``choice_select`` for several).

    Its value is a list of distinct options, at most ``most`` of them (default:
    every option once), however many names a link or a message lists: each is
    one more computation on the page.
    """
    spec = MultiSpec(tuple(options), tuple(default), tr("comma-separated names from {names}", names=", ".join(options)),
                     most=len(options) if most is None else most)
    linked = url.value(key, spec.parse, spec.expected)
    if linked is not None and key not in st.session_state:
        st.session_state[key] = linked

    def draw():
        kwargs = {} if key in st.session_state else {"default": default}
        return where.multiselect(label, options, key=key, format_func=format_func, help=help, **kwargs)

    values = validated(key, spec, url, where, draw, seed=False)
    keep_in_url(key, ",".join(values), ",".join(default))
    return list(values)


def int_input(label: str, low: int, high: int, default: int, key: str, url: UrlCheck, where=st, help=None) -> int:
    spec = NumberSpec(low, high, default, tr("a whole number from {low:,} to {high:,}", low=low, high=high), integer=True)
    value = validated(key, spec, url, where, lambda: where.number_input(label, low, high, default, step=1, key=key,
                                                                          help=help))
    keep_in_url(key, url_text(value), url_text(default))
    return value


def int_slider(label: str, low: int, high: int, default: int, key: str, url: UrlCheck, where=st, help=None) -> int:
    """An integer slider kept in the URL (``int_input``'s rule; a stored value outside new bounds is clamped)."""
    stored = st.session_state.get(key)
    if type(stored) is int and not low <= stored <= high:
        st.session_state[key] = min(max(stored, low), high)  # the bounds moved under it (a legitimate state): no note
    spec = NumberSpec(low, high, default, tr("a whole number from {low:,} to {high:,}", low=low, high=high), integer=True)
    value = validated(key, spec, url, where, lambda: where.slider(label, low, high, default, key=key, help=help))
    keep_in_url(key, url_text(value), url_text(default))
    return value


def float_input(label: str, low: float, high: float, default: float, key: str, url: UrlCheck, where=st,
                step: float = 0.1, fmt: str = "%.3f") -> float:
    spec = NumberSpec(low, high, float(default), tr("a number in [{low:g}, {high:g}]", low=low, high=high))
    value = validated(key, spec, url, where, lambda: where.number_input(label, float(low), float(high), float(default),
                                                                          step=step, key=key, format=fmt))
    keep_in_url(key, url_text(value), url_text(float(default)))
    return value


def text_field(label: str, default: str, key: str, url: UrlCheck, max_chars: int, where=st, help=None) -> str:
    """A text input kept in the URL; a link's text longer than ``max_chars`` is refused whole (never cut)."""
    spec = TextSpec(max_chars, default, tr("at most {count} characters", count=max_chars))
    value = validated(key, spec, url, where, lambda: where.text_input(label, default, key=key, max_chars=max_chars,
                                                                        help=help))
    keep_in_url(key, value, default)
    return value


def point_input(labels: tuple[str, str], domain, default, key_of: Callable[[str], str], url: UrlCheck, columns=None,
                step: float = 0.1, fmt: str = "%.3f") -> tuple[float, float]:
    """A point (x, y) as two number inputs side by side, each bounded by its range in ``domain``.

    ``key_of(axis)`` names the input (and its URL parameter) for axis "x" or
    "y"; ``columns``: two containers to put them in (default: two new columns).
    """
    columns = columns or st.columns(2)
    return tuple(float_input(label, low, high, d, key_of(axis), url, where=c, step=step, fmt=fmt)
                 for label, (low, high), d, axis, c in zip(labels, domain, default, "xy", columns))


def start_input(prefix: str, surface: str, record, url: UrlCheck) -> tuple[float, float]:
    """Where a page's runs start on ``surface``: its record's first start by default, kept per surface under
    the keys (and URL parameters) ``{prefix}x_{surface}`` and ``{prefix}y_{surface}``."""
    key = surface_point_key(prefix)
    return point_input((tr("start x"), tr("start y")), record.domain, record.starts[0],
                       lambda axis: key(surface, axis), url)


def optimizer_panel(slot: int, default: str, url: UrlCheck, where=st) -> dict:
    """Optimizer, its hyperparameters and its schedule for one slot of a race.

    Keys name the slot and the optimizer (``o2_adam_lr``), so switching an
    optimizer back and forth keeps each one's own settings.
    """
    names = optimizers.names()
    name = choice_select(tr("Optimizer"), names, default, f"o{slot}", url, where=where,
                         format_func=lambda n: tr(optimizers.get(n).label))
    spec = optimizers.get(name)
    where.caption(tr(spec.text))
    hp = {p.name: number_widget(p, f"o{slot}_{name}_{p.name}", url, where=where) for p in spec.params}
    sched_names = optimizers.schedule_names()
    schedule = choice_select(tr("Learning-rate schedule"), sched_names, "constant", f"o{slot}_schedule", url, where=where,
                             format_func=lambda n: tr(optimizers.get_schedule(n).label))
    sspec = optimizers.get_schedule(schedule)
    sp = {p.name: number_widget(p, f"o{slot}_{schedule}_{p.name}", url, where=where) for p in sspec.params}
    return dict(name=name, hyperparams=hp, schedule=schedule, schedule_params=sp)


def store_clicked_point(chart_key: str, key_format: str) -> None:
    """Write the point clicked on map ``chart_key`` into the current surface's two number inputs.

    ``key_format`` names an input with ``{axis}`` ("x" or "y") and ``{surface}`` (``surface_key`` of the
    surface picked now), e.g. ``"{axis}1_{surface}"``.
    """
    points = (st.session_state.get(chart_key) or {}).get("selection", {}).get("points", [])
    if points:
        surface = surface_key(st.session_state["surface"])
        for axis in ("x", "y"):
            st.session_state[key_format.format(axis=axis, surface=surface)] = round(float(points[0][axis]), 3)


def point_from_click(chart_key: str, key_format: str) -> Callable[[], None]:
    """A map's selection callback (``store_clicked_point``) that holds two strings and nothing else.

    Why not a closure over the page's own key function: Streamlit keeps every
    widget's metadata, callback included, under the element id, and a chart's
    id changes whenever its figure does. A callback defined in a page script
    holds that script run's globals (every figure, run and grid of the run),
    so each rerun would keep the last one's alive for the rest of the session.
    """
    return functools.partial(store_clicked_point, chart_key, key_format)


def preset_button(label: str, values: dict, key: str, where=st, help: str | None = None) -> None:
    """A button that sets several widgets at once (by key) before the page reruns: the "lecture example".

    Linkable too: ``?preset=<key>`` in the address applies it when the page opens, also when a later link
    brings the reader back to the page (the teacher's guide, Home); another value is refused with a note by
    ``UrlCheck.show``.
    """

    def apply():
        for k, v in values.items():
            st.session_state[k] = v

    st.session_state[_PAGE_PRESET] = key
    if st.query_params.get_all(PRESET) == [key]:
        if arrived() or not st.session_state.get(f"_preset_applied_{key}"):
            st.session_state[f"_preset_applied_{key}"] = True
            apply()
        del st.query_params[PRESET]  # the widgets now carry the values into the address themselves

    where.button(label, key=key, on_click=apply, help=help or tr("Set every control on this page to the lecture's example"),
                 icon=":material/school:", width="stretch")


VIEWS = (mark("contour"), mark("3-D"))


def view_select(key: str, where=st, help: str | None = None) -> str:
    """Contour map or 3-D surface: the registry name of the chosen view ("contour" or "3-D"); not in the link."""
    spec = ChoiceSpec(VIEWS, VIEWS[0], tr("one of {names}", names=", ".join(VIEWS)))
    note = repair_state(key, spec) if st.session_state.get(key) is not None else None  # None: nothing picked
    if note:
        where.warning(note, icon=":material/block:")
    # On a projector the choice speaks for itself: no label row above it (the first screen is for the figure).
    present = bool(st.session_state.get("present", False))
    value = where.segmented_control(tr("view"), list(VIEWS), default=VIEWS[0], key=key, format_func=tr, help=help,
                                    label_visibility="collapsed" if present else "visible")
    return accept_value(key, value or VIEWS[0], spec, where)


def switch(label: str, key: str, url: UrlCheck, default: bool = False, where=st, help: str | None = None) -> bool:
    """An on/off toggle kept in the URL as 1 / 0 (``?key=1`` opens the page with it on, e.g. an experiment running)."""
    spec = SwitchSpec(default, tr("1 (on) or 0 (off)"))

    def draw():
        initial = {} if key in st.session_state else {"value": default}  # a set state must not compete with a value
        return where.toggle(label, key=key, help=help, **initial)

    value = validated(key, spec, url, where, draw)
    keep_in_url(key, url_text(value), url_text(default))
    return value
