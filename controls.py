"""Widgets built from the registries, bound to the URL.

Every widget that defines an experiment has a stable key and lives in the
query string, so the URL reproduces the experiment. Numbers use Streamlit's
``bind="query-params"``. Choices are synced by hand (``choice_select``):
Streamlit would put the *displayed label* in the URL, which is neither stable
nor language-independent; we put the registry name. Streamlit drops a URL
value it cannot use without a word; ``UrlCheck`` looks at the raw query
string first and shows which values were ignored and why.
"""
from __future__ import annotations

import math
import urllib.parse
from typing import Callable

import numpy as np
import streamlit as st

import caches
import compute
import figures
import i18n
import optimizers
import surfaces
from i18n import mark, tr
from optimizers.registry import HyperParam

BIND = "query-params"
_LINK_NOTES = "_link_notes"  # session key: notes on the link's lang / present values, shown by the page
_BOUND = "_bound_widgets"  # session key: {widget key: default} of this run's URL-bound widgets (for the share link)


def bound(key: str, default):
    """Note that widget ``key`` (default ``default``) is bound to the URL; returns ``key``.

    Streamlit writes a bound widget's value into the browser's address itself,
    so ``st.query_params`` may not hold it yet on the run that changed it; the
    share link reads these widgets' values instead.
    """
    st.session_state.setdefault(_BOUND, {})[key] = default
    return key


class UrlCheck:
    """Collects notes about URL values that do not fit a widget; shows them once per page load."""

    def __init__(self, page: str):
        self.page = page
        self.notes: list[str] = []
        self.active = not st.session_state.get(f"_url_checked_{page}", False)
        if self.active:
            self.notes += st.session_state.pop(_LINK_NOTES, [])  # the entry point's refusals (lang, present)

    def check(self, key: str, valid: Callable[[str], bool], expected: str) -> None:
        if not self.active or key not in st.query_params:
            return
        raw = st.query_params.get(key)
        try:
            ok = valid(raw)
        except (ValueError, TypeError):
            ok = False
        if not ok:
            self.notes.append(refusal_note(key, raw, expected))

    def show(self, where) -> None:
        """Called last on a page: the refused link values (first load only) and the link to share."""
        if self.active:
            st.session_state[f"_url_checked_{self.page}"] = True
            if self.notes:
                where.warning(tr("Some values in the link could not be used:") + "\n\n" + "\n".join(f"- {n}" for n in self.notes))
        share_link(where)


def refusal_note(key: str, raw: str, expected: str) -> str:
    """What a page says about a link value it cannot use."""
    return tr("`{key}={raw}` ignored ({expected}); using the default.", key=key, raw=raw[:40], expected=expected)


def keep_in_url(key: str, value: str, default: str) -> None:
    """Write a choice into the address, or drop it there when it is the default (links stay short)."""
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value


def share_link(where) -> None:
    """A "share this experiment" popover: the page's address with every setting, with a copy button.

    Built last on a page (the query string then holds this run's values); the
    address comes from the browser (``st.context.url``), so it is the one the
    students can open.
    """
    base = (st.context.url or "").split("?")[0]
    params = {k: st.query_params[k] for k in st.query_params if k != "preset"}
    for key, default in st.session_state.get(_BOUND, {}).items():
        value = st.session_state.get(key, default)
        if value != default:
            params[key] = f"{value:.10g}" if isinstance(value, float) else str(value)
        else:
            params.pop(key, None)
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    with where.popover(tr("Share this experiment"), icon=":material/link:"):
        st.caption(tr("Everything on this page is in this link: whoever opens it sees the same figures."))
        st.code(f"{base}?{query}" if query else base or tr("(open the app in a browser to get its address)"),
                language=None, wrap_lines=True)


PRESENT_SCALE = 1.5  # fonts and markers in presentation mode, for the back row of a lecture hall
PRESENT_CSS = """<style>
html { font-size: 22px; }
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; max-width: 100%; }
</style>"""


def app_settings() -> None:
    """The sidebar's language and presentation switches, kept in the URL as ``lang`` and ``present``.

    Called by the entry point before any page: it sets this session's language
    (``i18n.use_language``) so every later ``tr`` speaks it. Both keys live in
    the entry script, so they survive page switches; they are written back to
    the URL each run because switching pages clears the query string.
    """
    codes = list(i18n.LANGUAGES)
    for key, valid, expected in (("lang", codes, tr("one of {names}", names=", ".join(codes))),
                                 ("present", ("0", "1"), tr("0 or 1"))):
        raw = st.query_params.get(key)
        if key not in st.session_state and raw is not None and raw not in valid:
            # Refused before the page runs (the value is then dropped from the URL): the page's UrlCheck shows it.
            st.session_state.setdefault(_LINK_NOTES, []).append(refusal_note(key, raw, expected))
    if "lang" not in st.session_state:
        st.session_state["lang"] = st.query_params.get("lang") if st.query_params.get("lang") in codes else i18n.DEFAULT
    if "present" not in st.session_state:
        st.session_state["present"] = st.query_params.get("present") == "1"
    i18n.use_language(st.session_state["lang"])
    with st.sidebar:
        st.selectbox("Language · 语言", codes, key="lang", format_func=i18n.LANGUAGES.get)
        st.toggle(tr("Presentation mode"), key="present",
                  help=tr("For a projector: larger text, figures and markers; the explanations fold away under "
                          "the figures' titles. Opening a link with it starts with the sidebar closed."))
    keep_in_url("lang", st.session_state["lang"], i18n.DEFAULT)
    keep_in_url("present", "1" if presenting() else "0", "0")
    if presenting():
        st.html(PRESENT_CSS)


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def prose(label: str | None = None):
    """Where a page's explanation goes: in place, or folded into an expander in presentation mode (figure first)."""
    if presenting():
        return st.expander(label or tr("Explanation"), icon=":material/menu_book:")
    return st.container()


def section(title: str, text: str, latex: str | None = None, level: str = "header") -> None:
    """A page section's heading, then its explanation (formula first, if any) as ``prose``."""
    getattr(st, level)(title)
    with prose():
        if latex:
            st.latex(latex)
        st.markdown(text)


def chart(fig, key: str, where=st, **kwargs):
    """``st.plotly_chart`` for every figure: sized for a projector in presentation mode, coloured for the theme."""
    theme = getattr(st.context, "theme", None)
    figures.for_display(fig, scale=PRESENT_SCALE if presenting() else 1.0,
                        dark=getattr(theme, "type", None) == "dark")
    return where.plotly_chart(fig, key=key, config={"displaylogo": False}, **kwargs)


def page_header(title: str, caption: str, page: str) -> tuple:
    """Title and caption; a slot under them for notes about the link's values; the page's ``UrlCheck``."""
    st.session_state[_BOUND] = {}  # this page's bound widgets register themselves again below
    caches.trim_compile_caches()  # a few attribute reads: keeps a long class's memory bounded
    st.title(title)
    with prose(tr("About this page")):
        st.caption(caption)
    return st.container(), UrlCheck(page)


def _is_number_in(low: float, high: float, integer: bool = False) -> Callable[[str], bool]:
    def valid(raw: str) -> bool:
        v = float(raw)
        return math.isfinite(v) and low <= v <= high and (not integer or v == int(v))

    return valid


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
        url.check(key, _is_number_in(p.low, p.high, integer=True), tr("a whole number in [{low:g}, {high:g}]", low=p.low, high=p.high))
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
    url.check(key, _is_number_in(p.low, p.high), tr("a number in [{low:g}, {high:g}]", low=p.low, high=p.high))
    return float(where.slider(label, float(p.low), float(p.high), float(default), step=step, key=bound(key, float(default)),
                              bind=BIND,
                              format="%.3f" if p.high <= 1 else "%g", help=help))


CUSTOM = "custom"
CUSTOM_EXAMPLE = "x**2 - y**2 + 0.1*sin(5*x)"


def surface_key(name: str) -> str:
    """The short name widget keys use for a surface: "custom" for every typed formula (whose name is long)."""
    return CUSTOM if name.startswith(surfaces.formula.PREFIX) else name


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
    url.check(key, _is_number_in(low, high, integer=True), tr("a whole number from {low:,} to {high:,}", low=low, high=high))
    return int(where.number_input(label, low, high, default, step=1, key=bound(key, default), bind=BIND, help=help))


def float_input(label: str, low: float, high: float, default: float, key: str, url: UrlCheck, where=st,
                step: float = 0.1, fmt: str = "%.3f") -> float:
    url.check(key, _is_number_in(low, high), tr("a number in [{low:g}, {high:g}]", low=low, high=high))
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


def divergence_warnings(runs: dict, where=st) -> None:
    """One warning per diverged run of ``runs`` (label -> ``optimizers.Trajectories``): where its curves stop."""
    for label, r in runs.items():
        for k in r.diverged_at:
            if k >= 0:
                where.warning(tr("**{label}** diverged at step {step}: its curves stop there. Try a smaller η.", label=label,
                                 step=int(k)))
                break


def export_panel(prefix: str, figure, title: str, labels=None, runs=None, grid=None, where=st) -> None:
    """Download buttons for a page's main figure (standalone HTML), its runs and its grid (CSV).

    ``figure`` may be a function that builds it. The files are made when a
    button is pressed (callables), not on every rerun.
    """
    with where.expander(tr("Export"), expanded=False, icon=":material/download:"):
        st.caption(tr("PNG: the camera button in each chart's toolbar. The HTML file keeps any animation and works "
                      "offline."))
        cols = st.columns(3)
        html = lambda: figures.figure_html(figure() if callable(figure) else figure, title)  # noqa: E731
        cols[0].download_button(tr("{title} (HTML)", title=title), html, f"{prefix}.html", "text/html", key=f"{prefix}_html",
                                on_click="ignore")
        if runs is not None:
            cols[1].download_button(tr("Trajectories (CSV)"), lambda: figures.trajectories_csv(labels, runs),
                                    f"{prefix}_trajectories.csv", "text/csv", key=f"{prefix}_csv_runs",
                                    on_click="ignore")
        if grid is not None:
            cols[2].download_button(tr("Surface grid (CSV)"), lambda: figures.grid_csv(grid), f"{prefix}_grid.csv",
                                    "text/csv", key=f"{prefix}_csv_grid", on_click="ignore")


VIEWS = (mark("contour"), mark("3-D"))


def view_select(key: str, where=st, help: str | None = None) -> str:
    """Contour map or 3-D surface: the registry name of the chosen view ("contour" or "3-D")."""
    return where.segmented_control(tr("view"), list(VIEWS), default=VIEWS[0], key=key, format_func=tr,
                                   help=help) or VIEWS[0]
