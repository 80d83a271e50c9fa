"""Widgets built from the registries, bound to the URL.

Every widget that defines an experiment has a stable key and lives in the
query string, so the URL reproduces the experiment. Every value is synced by
hand: ``UrlCheck.value`` parses the link's raw text with the widget's own
rule (a registry name for a choice — not the displayed label, which is
neither stable nor language-independent —, a finite number in range, a stop
of a log slider, a text within its length), seeds the widget's state with it
on the page's first load, and otherwise drops it with a note; after the
widget, ``keep_in_url`` writes the value back in a form that reads back
exactly (``url_text``). Nothing from the link reaches Streamlit's own URL
deserializers (which raise on ``?steps=inf``) or the page unescaped
(``escape_markdown``).
"""
from __future__ import annotations

import math
import re
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


GLOBAL_KEYS = ("lang", "present")  # read by the entry point, kept on every page
PRESET = "preset"
_URL_READ = "_url_read"  # session key: the link parameters this page's last run read (for tests and the share link)
_PAGE_PRESET = "_page_preset"  # session key: this page's lecture-example key (for the note on another one)
MAX_LINK_VALUE = 1000  # characters; a longer link value is refused before it is parsed (a formula is at most 400)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^%@;,?'\"/])")


def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown`` / ``st.warning`` / ``st.error``: no link, image, code, HTML or maths.

    Every ASCII punctuation character gets a backslash (CommonMark's escape,
    which Streamlit's directives ``:red[…]`` and ``$…$`` honour too), and line
    breaks become spaces, so a link value or a formula cannot start a list,
    a heading or a table either.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def url_text(value) -> str:
    """A widget value as link text that reads back to the same value (``repr`` of a float is exact)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


class UrlCheck:
    """Parses the link's values for a page's widgets; collects notes on those it cannot use; shows them once."""

    def __init__(self, page: str):
        self.page = page
        self.notes: list[str] = []
        self.read: set[str] = set(GLOBAL_KEYS)  # the parameters this run's widgets read
        self.active = not st.session_state.get(f"_url_checked_{page}", False)
        if self.active:
            self.notes += st.session_state.pop(_LINK_NOTES, [])  # the entry point's refusals (lang, present)

    def value(self, key: str, parse: Callable[[str], object], expected: str):
        """The link's value for ``key`` on the page's first load, parsed by ``parse`` (None: refuses it).

        None when there is none, or when it is refused — given more than once,
        longer than MAX_LINK_VALUE, or not parsed — and then a note says so.
        """
        self.read.add(key)
        if not self.active or key not in st.query_params:
            return None
        raws = st.query_params.get_all(key)
        if len(raws) != 1:
            self.notes.append(refusal_note(key, raws[-1], tr("given {count} times; one value expected",
                                                             count=len(raws))))
            return None
        raw = raws[0]
        try:
            value = parse(raw) if len(raw) <= MAX_LINK_VALUE else None
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            value = None
        if value is None:
            self.notes.append(refusal_note(key, raw, expected))
        return value

    def check(self, key: str, valid: Callable[[str], bool], expected: str) -> bool:
        """Whether the link's value for ``key`` is usable (a note if not); see ``value``."""
        return self.value(key, lambda raw: raw if valid(raw) else None, expected) is not None

    def seed(self, key: str, default, parse: Callable[[str], object], expected: str) -> str:
        """Set widget ``key``'s state from the link (first load, if usable); returns ``key`` (registered as bound)."""
        value = self.value(key, parse, expected)
        if value is not None and key not in st.session_state:
            st.session_state[key] = value
        return bound(key, default)

    def show(self, where) -> None:
        """Called last on a page: the refused link values (first load only) and the link to share.

        A parameter that no widget of this run read is dropped from the
        address (its widget is not on the page now); on the first load it gets
        a note: an unknown key, or a lecture example of another page.
        """
        st.session_state[_URL_READ] = sorted(self.read - set(GLOBAL_KEYS))
        for key in list(st.query_params):
            if key in self.read:
                continue
            if self.active:
                raw = st.query_params.get(key) or ""
                if key == PRESET:
                    own = st.session_state.get(_PAGE_PRESET)
                    expected = (tr("this page's lecture example is {name}", name=own) if own
                                else tr("this page has no lecture example"))
                else:
                    expected = tr("this page has no such setting")
                self.notes.append(refusal_note(key, raw, expected))
            st.query_params.pop(key, None)
        if self.active:
            st.session_state[f"_url_checked_{self.page}"] = True
            if self.notes:
                where.warning(tr("Some values in the link could not be used:") + "\n\n"
                              + "\n".join(f"- {n}" for n in self.notes))
        share_link(where)


def refusal_note(key: str, raw: str, expected: str) -> str:
    """What a page says about a link value it cannot use (the value shown literally, cut at 40 characters)."""
    shown = f"{key[:40]}={raw[:40]}" + ("…" if len(raw) > 40 else "")
    return tr("{value} ignored ({expected}); using the default.", value=escape_markdown(shown),
              expected=escape_markdown(expected))


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
    params = {k: st.query_params[k] for k in st.query_params if k != PRESET}
    for key, default in st.session_state.get(_BOUND, {}).items():
        value = st.session_state.get(key, default)
        if value != default:
            params[key] = url_text(value)
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
    linked = {}
    for key, valid, expected in (("lang", codes, tr("one of {names}", names=", ".join(codes))),
                                 ("present", ("0", "1"), tr("0 or 1"))):
        raws = st.query_params.get_all(key)
        if key in st.session_state or not raws:
            continue
        if len(raws) == 1 and raws[0] in valid:
            linked[key] = raws[0]
        else:
            # Refused before the page runs (the value is then dropped from the URL): the page's UrlCheck shows it.
            why = expected if len(raws) == 1 else tr("given {count} times; one value expected", count=len(raws))
            st.session_state.setdefault(_LINK_NOTES, []).append(refusal_note(key, raws[-1], why))
    if "lang" not in st.session_state:
        st.session_state["lang"] = linked.get("lang", i18n.DEFAULT)
    if "present" not in st.session_state:
        st.session_state["present"] = linked.get("present") == "1"
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
    st.session_state["_page"] = page  # which page ran last (tests check that they reached it)
    st.session_state.pop(_PAGE_PRESET, None)
    caches.trim_compile_caches()  # a few attribute reads: keeps a long class's memory bounded
    st.title(title)
    with prose(tr("About this page")):
        st.caption(caption)
    return st.container(), UrlCheck(page)


_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)


def number_in(low: float, high: float, integer: bool = False) -> Callable[[str], float | int | None]:
    """A link parser: plain ASCII decimal text of a finite number in [low, high] (whole if ``integer``), else None.

    ``inf``, ``nan``, ``1e400``, a 400-digit number, ``1_000`` and full-width
    digits are all refused here, before anything converts them.
    """
    def parse(raw: str):
        if not _NUMBER.fullmatch(raw):
            return None
        v = float(raw)
        if not (math.isfinite(v) and low <= v <= high) or (integer and v != int(v)):
            return None
        return int(v) if integer else v

    return parse


def one_of(options) -> Callable[[str], str | None]:
    """A link parser: the text itself if it is one of ``options``."""
    return lambda raw: raw if raw in options else None


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
        key = url.seed(key, int(default), number_in(p.low, p.high, integer=True),
                       tr("a whole number in [{low:g}, {high:g}]", low=p.low, high=p.high))
        value = where.number_input(label, int(p.low), int(p.high), int(default), step=1, key=key, help=help)
        keep_in_url(key, url_text(value), url_text(int(default)))
        return float(value)
    if p.log:
        choices = log_choices(p.low, p.high, default)
        in_range = number_in(p.low, p.high)

        def stop(raw: str):
            v = in_range(raw)
            return next((c for c in choices if v is not None and math.isclose(c, v, rel_tol=1e-9)), None)

        key = url.seed(key, default, stop, tr("one of the slider's stops between {low:g} and {high:g}", low=p.low,
                                              high=p.high))
        value = where.select_slider(label, options=choices, value=default, format_func=format_number, key=key, help=help)
        keep_in_url(key, url_text(float(value)), url_text(float(default)))
        return float(value)
    step = 0.001 if p.high <= 1 else (p.high - p.low) / 200
    key = url.seed(key, float(default), number_in(p.low, p.high), tr("a number in [{low:g}, {high:g}]", low=p.low,
                                                                     high=p.high))
    value = where.slider(label, float(p.low), float(p.high), float(default), step=step, key=key,
                         format="%.3f" if p.high <= 1 else "%g", help=help)
    keep_in_url(key, url_text(float(value)), url_text(float(default)))
    return float(value)


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
    text = text_field("f(x, y) =", CUSTOM_EXAMPLE, f"{key}_formula", url, surfaces.formula.MAX_LENGTH, where=where,
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
        where.markdown(f"**{tr(record.title)}.** {tr(record.text)}")


def choice_select(label: str, options: list[str], default: str, key: str, url: UrlCheck, format_func=str, where=st,
                  help: str | None = None) -> str:
    """A selectbox whose value is kept in the URL as the option's registry name."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]  # the options changed under it (they depend on another widget)
    linked = url.value(key, one_of(options), tr("one of {names}", names=", ".join(options)))
    if linked is not None and key not in st.session_state:
        st.session_state[key] = linked
    # index=0 when the state is already set: Streamlit warns about a default
    # that competes with a Session State value only for a non-zero index.
    index = 0 if key in st.session_state else options.index(default)
    value = where.selectbox(label, options, index=index, key=key, format_func=format_func, help=help)
    keep_in_url(key, value, default)
    return value


def multi_select(label: str, options: list[str], default: list[str], key: str, url: UrlCheck, format_func=str,
                 where=st, help: str | None = None) -> list[str]:
    """A multiselect kept in the URL as comma-separated registry names (``choice_select`` for several)."""
    def names(raw: str):
        picked = raw.split(",") if raw else []
        return list(dict.fromkeys(picked)) if all(v in options for v in picked) else None

    linked = url.value(key, names, tr("comma-separated names from {names}", names=", ".join(options)))
    if linked is not None and key not in st.session_state:
        st.session_state[key] = linked
    kwargs = {} if key in st.session_state else {"default": default}
    values = where.multiselect(label, options, key=key, format_func=format_func, help=help, **kwargs)
    keep_in_url(key, ",".join(values), ",".join(default))
    return list(values)


def int_input(label: str, low: int, high: int, default: int, key: str, url: UrlCheck, where=st, help=None) -> int:
    key = url.seed(key, default, number_in(low, high, integer=True),
                   tr("a whole number from {low:,} to {high:,}", low=low, high=high))
    value = int(where.number_input(label, low, high, default, step=1, key=key, help=help))
    keep_in_url(key, url_text(value), url_text(default))
    return value


def int_slider(label: str, low: int, high: int, default: int, key: str, url: UrlCheck, where=st, help=None) -> int:
    """An integer slider kept in the URL (``int_input``'s rule; a stored value outside new bounds is clamped)."""
    if key in st.session_state and not low <= st.session_state[key] <= high:
        st.session_state[key] = min(max(int(st.session_state[key]), low), high)  # the bounds moved under it
    key = url.seed(key, default, number_in(low, high, integer=True),
                   tr("a whole number from {low:,} to {high:,}", low=low, high=high))
    value = int(where.slider(label, low, high, default, key=key, help=help))
    keep_in_url(key, url_text(value), url_text(default))
    return value


def float_input(label: str, low: float, high: float, default: float, key: str, url: UrlCheck, where=st,
                step: float = 0.1, fmt: str = "%.3f") -> float:
    key = url.seed(key, float(default), number_in(low, high), tr("a number in [{low:g}, {high:g}]", low=low, high=high))
    value = float(where.number_input(label, float(low), float(high), float(default), step=step, key=key, format=fmt))
    keep_in_url(key, url_text(value), url_text(float(default)))
    return value


def text_field(label: str, default: str, key: str, url: UrlCheck, max_chars: int, where=st, help=None) -> str:
    """A text input kept in the URL; a link's text longer than ``max_chars`` is refused whole (never cut)."""
    key = url.seed(key, default, lambda raw: raw if len(raw) <= max_chars else None,
                   tr("at most {count} characters", count=max_chars))
    value = where.text_input(label, default, key=key, max_chars=max_chars, help=help)
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

    Linkable too: ``?preset=<key>`` in the address applies it once when the page opens (another value is
    refused with a note by ``UrlCheck.show``).
    """

    def apply():
        for k, v in values.items():
            st.session_state[k] = v

    st.session_state[_PAGE_PRESET] = key
    if st.query_params.get_all(PRESET) == [key]:
        if not st.session_state.get(f"_preset_applied_{key}"):
            st.session_state[f"_preset_applied_{key}"] = True
            apply()
        del st.query_params[PRESET]  # the widgets now carry the values into the address themselves

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
