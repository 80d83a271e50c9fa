"""Widgets built from the registries, each bound to the URL (``controls.url``).

Numbers are bound with Streamlit's ``bind="query-params"`` (``BIND``);
choices (``choice_select``, ``multi_select``) keep the option's registry
name in the link, not its displayed label. Every widget first asks the
page's ``UrlCheck`` whether the link's raw value fits, so a refused value is
named on the page.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import streamlit as st

import compute
import optimizers
import surfaces
from i18n import mark, tr
from controls.url import BIND, UrlCheck, bound, is_number_in, keep_in_url
from optimizers.registry import HyperParam


def log_choices(low: float, high: float, default: float) -> list[float]:
    """1-2-5 steps per decade between low and high, plus the default: a log slider's stops."""
    values = {default}
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            v = float(f"{mantissa}e{exponent}")
            if low <= v <= high:
                values.add(v)
    return sorted(values)


def format_number(v: float) -> str:
    return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e") if (v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4)) else f"{v:g}"


def number_widget(p: HyperParam, key: str, url: UrlCheck, where=st, default: float | None = None, help: str | None = None):
    """The widget for one registry number: log select-slider, integer input or linear slider."""
    default = p.default if default is None else p.clamp(default)
    label = tr(p.label)
    if p.choices:  # a categorical parameter: a selectbox over the labels, its index in the URL
        options = [str(i) for i in range(len(p.choices))]
        return float(choice_select(label, options, str(int(default)), key, url, where=where, help=help,
                                   format_func=lambda i: tr(p.choices[int(i)])))
    if p.integer:
        url.check(key, is_number_in(p.low, p.high, integer=True), tr("a whole number in [{low:g}, {high:g}]", low=p.low, high=p.high))
        return float(where.number_input(label, int(p.low), int(p.high), int(default), step=1, key=bound(key, int(default)),
                                        bind=BIND,
                                        help=help))
    if p.log:
        choices = log_choices(p.low, p.high, default)
        url.check(key, lambda raw: float(raw) in choices, tr("one of the slider's stops between {low:g} and {high:g}", low=p.low, high=p.high))
        return float(where.select_slider(label, options=choices, value=default, format_func=format_number,
                                         key=bound(key, default),
                                         bind=BIND, help=help))
    step = 0.001 if p.high <= 1 else (p.high - p.low) / 200
    url.check(key, is_number_in(p.low, p.high), tr("a number in [{low:g}, {high:g}]", low=p.low, high=p.high))
    return float(where.slider(label, float(p.low), float(p.high), float(default), step=step, key=bound(key, float(default)),
                              bind=BIND,
                              format="%.3f" if p.high <= 1 else "%g", help=help))


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
    url.check(f"{key}_formula", lambda raw: len(raw) <= surfaces.formula.MAX_LENGTH,
              tr("at most {count} characters", count=surfaces.formula.MAX_LENGTH))
    text = where.text_input("f(x, y) =", CUSTOM_EXAMPLE, key=bound(f"{key}_formula", CUSTOM_EXAMPLE), bind=BIND,
                            max_chars=surfaces.formula.MAX_LENGTH,
                            help=tr("Numbers, x, y, + − * / ** and parentheses; pi, e; sin cos tan exp log sqrt abs "
                                    "tanh sigmoid relu softplus, min(a, b), max(a, b)."))
    c1, c2 = where.columns(2)
    bounds = [float_input(tr(label), -1e3, 1e3, d, f"{key}_{name}", url, where=c, step=0.5, fmt="%g")
              for (label, name, d), c in zip((("x min", "x0", -3.0), ("x max", "x1", 3.0), ("y min", "y0", -3.0),
                                              ("y max", "y1", 3.0)), (c1, c2, c1, c2))]
    try:
        name = surfaces.from_formula(text, ((bounds[0], bounds[1]), (bounds[2], bounds[3]))).name
        loss = compute.surface_grid(name, 120).loss
        blank = float(np.mean(~np.isfinite(loss)))
        if blank > 0:
            where.caption(tr("f is not finite on {share:.0%} of the domain: those points are left blank in the maps, "
                             "and a run that reaches one stops there.", share=blank))
        return name
    except surfaces.FormulaError as err:
        shown = text[: err.position] + tr("⟨here⟩") + text[err.position:]
        where.error(tr("The formula cannot be used: {why}.", why=tr(err.template, **err.values)) + f"\n\n`{shown[:200]}`\n\n"
                    + tr("Showing {surface} meanwhile.", surface=tr(surfaces.get(default).title)))
        return default


def choice_select(label: str, options: list[str], default: str, key: str, url: UrlCheck, format_func=str, where=st,
                  help: str | None = None) -> str:
    """A selectbox whose value is kept in the URL as the option's registry name."""
    url.check(key, lambda raw: raw in options, tr("one of {names}", names=", ".join(options)))
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]  # the options changed under it (they depend on another widget)
    if url.active and st.query_params.get(key) in options and key not in st.session_state:
        st.session_state[key] = st.query_params[key]
    # index=0 when the state is already set: Streamlit warns about a default
    # that competes with a Session State value only for a non-zero index.
    index = 0 if key in st.session_state else options.index(default)
    value = where.selectbox(label, options, index=index, key=key, format_func=format_func, help=help)
    keep_in_url(key, value, default)
    return value


def multi_select(label: str, options: list[str], default: list[str], key: str, url: UrlCheck, format_func=str,
                 where=st, help: str | None = None) -> list[str]:
    """A multiselect kept in the URL as comma-separated registry names (``choice_select`` for several)."""
    url.check(key, lambda raw: all(v in options for v in raw.split(",")) if raw else True,
              tr("comma-separated names from {names}", names=", ".join(options)))
    if url.active and key in st.query_params and key not in st.session_state:
        raw = st.query_params[key]
        picked = [v for v in raw.split(",") if v in options] if raw else []
        if picked or not raw:
            st.session_state[key] = picked
    kwargs = {} if key in st.session_state else {"default": default}
    values = where.multiselect(label, options, key=key, format_func=format_func, help=help, **kwargs)
    keep_in_url(key, ",".join(values), ",".join(default))
    return list(values)


def int_input(label: str, low: int, high: int, default: int, key: str, url: UrlCheck, where=st, help=None) -> int:
    url.check(key, is_number_in(low, high, integer=True), tr("a whole number from {low:,} to {high:,}", low=low, high=high))
    return int(where.number_input(label, low, high, default, step=1, key=bound(key, default), bind=BIND, help=help))


def float_input(label: str, low: float, high: float, default: float, key: str, url: UrlCheck, where=st,
                step: float = 0.1, fmt: str = "%.3f") -> float:
    url.check(key, is_number_in(low, high), tr("a number in [{low:g}, {high:g}]", low=low, high=high))
    return float(where.number_input(label, float(low), float(high), float(default), step=step,
                                    key=bound(key, float(default)), bind=BIND,
                                    format=fmt))


def point_input(labels: tuple[str, str], domain, default, key_of: Callable[[str], str], url: UrlCheck, columns=None,
                step: float = 0.1, fmt: str = "%.3f") -> tuple[float, float]:
    """A point (x, y) as two number inputs side by side, each bounded by its range in ``domain``.

    ``key_of(axis)`` names the input (and its URL parameter) for axis "x" or
    "y"; ``columns``: two containers to put them in (default: two new columns).
    """
    columns = columns or st.columns(2)
    return tuple(float_input(label, low, high, d, key_of(axis), url, where=c, step=step, fmt=fmt)
                 for label, (low, high), d, axis, c in zip(labels, domain, default, "xy", columns))


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


def point_from_click(chart_key: str, point_key: Callable[[str, str], str]) -> Callable[[], None]:
    """A selection callback for a map: write the clicked point into the two number inputs of the current surface.

    ``point_key(surface, axis)`` names the input for axis "x" or "y".
    """

    def callback():
        points = (st.session_state.get(chart_key) or {}).get("selection", {}).get("points", [])
        if points:
            surface = st.session_state["surface"]
            for axis in ("x", "y"):
                st.session_state[point_key(surface, axis)] = round(float(points[0][axis]), 3)

    return callback


def preset_button(label: str, values: dict, key: str, where=st, help: str | None = None) -> None:
    """A button that sets several widgets at once (by key) before the page reruns: the "lecture example".

    Linkable too: ``?preset=<key>`` in the address applies it once when the page opens.
    """

    def apply():
        for k, v in values.items():
            st.session_state[k] = v

    if st.query_params.get("preset") == key and not st.session_state.get(f"_preset_applied_{key}"):
        st.session_state[f"_preset_applied_{key}"] = True
        apply()
        del st.query_params["preset"]  # the widgets now carry the values into the address themselves

    where.button(label, key=key, on_click=apply, help=help or tr("Set every control on this page to the lecture's example"),
                 icon=":material/school:", width="stretch")


VIEWS = (mark("contour"), mark("3-D"))


def view_select(key: str, where=st, help: str | None = None) -> str:
    """Contour map or 3-D surface: the registry name of the chosen view ("contour" or "3-D")."""
    return where.segmented_control(tr("view"), list(VIEWS), default=VIEWS[0], key=key, format_func=tr,
                                   help=help) or VIEWS[0]
