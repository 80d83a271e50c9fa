"""URL (query-string) state: which widgets live in the link, the link's refused values, the share link.

Every widget that defines an experiment has a stable key and lives in the
query string, so the URL reproduces the experiment. Every value is synced by
hand: ``UrlCheck.value`` parses the link's raw text with the widget's own
rule (a registry name for a choice — not the displayed label, which is
neither stable nor language-independent —, a finite number in range, a stop
of a log slider, a text within its length), ``UrlCheck.seed`` puts it into
the widget's state on the page's first load, and a value it cannot use is
dropped with a note; after the widget, ``keep_in_url`` writes the value back
in a form that reads back exactly (``url_text``). Nothing from the link
reaches Streamlit's own URL deserializers (which raise on ``?steps=inf``) or
the page unescaped (``escape_markdown``).
"""
from __future__ import annotations

import base64
import logging
import math
import numbers
import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from i18n import tr

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
SECTION = "section"  # a link's lecture section: the page opens scrolled to it (``app_pages.link_query``)


def section_anchors(page: str) -> list[str]:
    """The anchors of the lecture sections on ``page`` (its URL path or its script's name), in lecture order."""
    import app_pages

    return [s.anchor for s in app_pages.SECTIONS if s.page == page or app_pages.page(s.page).slug == page]
PRESET = "preset"
_URL_READ = "_url_read"  # session key: the link parameters this page's last run read (for tests and the share link)
_PAGE_PRESET = "_page_preset"  # session key: this page's lecture-example key (for the note on another one)
_ARRIVED = "_arrived"  # session key: whether this run opened its page (a link or the navigation), not a rerun of it
_LAST_PAGE = "_last_page"  # session key: the URL path of the page the entry point ran last
MAX_LINK_VALUE = 1000  # characters; a longer link value is refused before it is parsed (a formula is at most 400)
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)://|www\.|@")  # where remark-gfm's autolink literals start
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^%@;,?'\"/])")


def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown`` / ``st.warning`` / ``st.error``: no link, image, code, HTML or maths.

    Every ASCII punctuation character gets a backslash (CommonMark's escape,
    which Streamlit's directives ``:red[…]`` and ``$…$`` honour too), and line
    breaks become spaces, so a link value or a formula cannot start a list,
    a heading or a table either. Escapes do not stop GitHub-style autolinks
    (a bare ``https://…``, ``www.…`` or e-mail address still became a live
    link in Chromium), so a word joiner (U+2060, invisible) breaks those
    patterns.
    """
    text = " ".join(str(text).split())
    text = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + WORD_JOINER + m.group(0)[-1], text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


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
        # A link's values are read when the page opens: its first load in the session, or a later arrival from
        # another page (a teacher's guide or Home followed in one tab: the page's widgets are gone by then).
        self.active = st.session_state.get(_ARRIVED, False) or not st.session_state.get(f"_url_checked_{page}", False)
        if self.active:
            self.notes += st.session_state.pop(_LINK_NOTES, [])  # the entry point's refusals (lang, present)
        self._section()

    def _section(self) -> None:
        """Keep the link's ``section`` if it names one of this page's lecture sections (``app_pages.SECTIONS``);
        else drop it, with a note on the first load. The browser scrolls to it (controls/sections.js)."""
        raws = st.query_params.get_all(SECTION)
        if not raws:
            return
        anchors = section_anchors(self.page)
        if len(raws) == 1 and raws[0] in anchors:
            self.read.add(SECTION)
            return
        if self.active:
            expected = (tr("one of this page's sections: {names}", names=", ".join(anchors)) if anchors
                        else tr("this page has no lecture section"))
            if len(raws) != 1:
                expected = tr("given {count} times; one value expected", count=len(raws))
            self.notes.append(refusal_note(SECTION, raws[-1], expected))
        st.query_params.pop(SECTION, None)

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


PUBLIC_URL_ENV = "ERROR_SURFACE_LAB_PUBLIC_URL"  # the operator's setting: the address students reach the app at
# Never in a shared link: ``present`` folds every explanation away (a student's phone would open the teacher's
# projector view), and ``lang`` is each reader's own (render once, serve many: a language is per session);
# both are the sidebar's, not the experiment's: the figures are the same in every language and mode.
READER_KEYS = GLOBAL_KEYS
QR_WIDTH = 260  # CSS pixels: the share panel's QR code, for a phone held near the screen
# The room's QR code (a dialog): in presentation mode as tall as the window allows (less the dialog's title and the
# link under it), else a size for a phone at arm's length. CSS widths; the code is square.
ROOM_QR_WIDTH = {False: "min(480px, 100%)", True: "min(calc(100vh - 320px), 100%)"}
QR_BUTTON = "share_qr_room"
_log = logging.getLogger(__name__)


def public_address(setting: str | None) -> str | None:
    """The app's public root from the operator's setting, if it is an http(s) address with a host; else None.

    E.g. ``https://lab.example.edu/errors`` (a path prefix is kept, for an
    app served under one). Anything else is ignored with a log line, so a
    typo falls back to the browser's address instead of sharing nonsense.
    """
    if not setting or not setting.strip():
        return None
    parts = urllib.parse.urlsplit(setting.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        _log.warning("%s=%r is not an http(s) address; sharing the browser's address instead", PUBLIC_URL_ENV, setting)
        return None
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def browser_address(url: str | None, host: str | None = None, scheme: str | None = None, page: str = "") -> str:
    """The page's address as the reader's browser sees it: ``st.context.url``, else the Host header; "" if unknown.

    Only an http(s) address is used, without its query and fragment, its
    path quoted (the browser reported it; it is the reader's own, but shown
    back only as a plain address).
    """
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, urllib.parse.quote(parts.path.rstrip("/"), safe="/%"),
                                        "", ""))
    if host and re.fullmatch(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", host):
        return f"{'https' if scheme == 'https' else 'http'}://{host}" + (f"/{urllib.parse.quote(page)}" if page else "")
    return ""


def class_link(page: str, params: dict, public: str | None, browser: str) -> str:
    """The link a teacher shares: the public address (else the browser's) of ``page``, with ``params`` URL-encoded.

    Pure. ``page``: the page's URL path ("" for Home); ``params``: parameter
    -> text (``url_text``); the reader's own keys (``READER_KEYS``) and a
    lecture example's ``preset`` are left out (its values are in the widgets'
    parameters already). Every key and value is percent-encoded (``/``, ``&``,
    ``#``, ``=`` and spaces too), so no value can end the query or add one.
    """
    base = (public + (f"/{urllib.parse.quote(page, safe='')}" if page else "")) if public else browser
    kept = {k: v for k, v in params.items() if k not in READER_KEYS and k != PRESET}
    query = urllib.parse.urlencode(kept, quote_via=urllib.parse.quote)
    return f"{base}?{query}" if query else base


def qr_svg(link: str) -> str:
    """``link`` as a QR code, an SVG drawing (``segno``) that scales to its box (a viewBox, no fixed size).

    Error correction M (a smudged or partly covered projection still reads)
    and a four-module quiet zone, as the standard asks; black on white in
    either theme, which is what phone cameras expect.
    """
    import io

    import segno  # imported here: only the share panel needs it

    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=4, dark="#000",
                                     light="#fff", title=None)
    return out.getvalue().decode("utf-8")


def page_params() -> dict[str, str]:
    """This run's experiment parameters: the address's own, with every URL-bound widget's current value over them.

    Built last on a page (the query string then holds this run's values).
    """
    params = {k: st.query_params[k] for k in st.query_params}
    for key, default in st.session_state.get(_BOUND, {}).items():
        value = st.session_state.get(key, default)
        if value != default:
            params[key] = url_text(value)
        else:
            params.pop(key, None)
    return params


def share_link(where) -> None:
    """A "share this experiment" popover: the class link (``class_link``) with a copy button and its QR code.

    The address is the operator's public one (``ERROR_SURFACE_LAB_PUBLIC_URL``)
    when set, else the one the teacher's browser shows (right when the
    students reach the app the same way). Under the link, its QR code for a
    phone near the screen, and a button that shows it to the room (a dialog:
    as tall as the window allows in presentation mode).
    """
    page = st.session_state.get("_page", "")
    headers = getattr(st.context, "headers", None) or {}
    browser = browser_address(st.context.url, headers.get("Host"), headers.get("X-Forwarded-Proto"), page)
    link = class_link(page, page_params(), public_address(os.environ.get(PUBLIC_URL_ENV)), browser)
    present = bool(st.session_state.get("present", False))
    row = where.container(horizontal=True, gap="small", width="content")
    with row.popover(tr("Share this experiment"), icon=":material/link:"):
        st.caption(tr("Everything on this page is in this link: whoever opens it sees the same figures."))
        st.code(link or tr("(open the app in a browser to get its address)"), language=None, wrap_lines=True)
        if "://" in link:  # an address a phone can open (not only a query)
            st.html(qr_html(link, "class-link-qr", f"{QR_WIDTH}px"))
            st.caption(tr("Scan with a phone's camera to open this experiment."))
    # Beside the panel, not in it: an open panel floats over a dialog (seen in Chromium), and closing it from code
    # needs a tracked popover, whose extra reruns lost the address's values now and then.
    if "://" in link and row.button(tr("QR code for the room"), key=QR_BUTTON, icon=":material/qr_code_2:"):
        st.dialog(tr("Scan to open this experiment"), width="large")(room_qr)(link, present)


def qr_html(link: str, name: str, width: str) -> str:
    """HTML of ``link``'s QR code (``qr_svg``) in a box ``width`` wide (CSS), classed ``name``.

    An image with a data URI, because st.html's sanitizer drops inline
    ``<svg>`` elements; the SVG scales to the box without blurring.
    """
    svg = base64.b64encode(qr_svg(link).encode("utf-8")).decode("ascii")
    return (f'<div class="{name}" style="width: {width}; margin: 0 auto">'
            f'<img src="data:image/svg+xml;base64,{svg}" alt="{tr("QR code of this link")}" '
            'style="display: block; width: 100%; height: auto"></div>')


def room_qr(link: str, present: bool) -> None:
    """The QR code as large as the screen allows, for a room to scan off the projection (a dialog's content).

    In presentation mode it takes the window's height less the dialog's
    title and the link under it; in normal mode it stays a size for a
    neighbour's phone.
    """
    st.html(qr_html(link, "class-link-qr-room", ROOM_QR_WIDTH[present]))
    st.code(link, language=None, wrap_lines=True)


def start_page(page: str) -> None:
    """Forget the last run's URL-bound widgets: this page's register themselves again (``bound``)."""
    st.session_state[_BOUND] = {}
    st.session_state.pop(_PAGE_PRESET, None)
    st.session_state["_page"] = page  # which page ran last (tests check that they reached it)


def note_page(path: str) -> None:
    """Called by the entry point on every run with the URL path of the page it runs: whether the reader arrived.

    A page's ``UrlCheck`` reads the link only when the page opens, not on its
    reruns (the widgets own their values then). "Opens" is its first load in
    the session, and also every arrival from another page: Streamlit clears a
    page's widget states when another page runs, so a second link to it, from
    Home or the teacher's guide, must seed them again.
    """
    st.session_state[_ARRIVED] = st.session_state.get(_LAST_PAGE) != path
    st.session_state[_LAST_PAGE] = path


def arrived() -> bool:
    """Whether this run opened its page (the first load, or an arrival from another page), not a rerun of it."""
    return bool(st.session_state.get(_ARRIVED, False))


def note_refused(key: str, raw: str, expected: str) -> None:
    """Keep a note about a link value the entry point refused; the page's ``UrlCheck`` shows it."""
    st.session_state.setdefault(_LINK_NOTES, []).append(refusal_note(key, raw, expected))


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


# ------------------------------------------------------------------ what a widget's value may be
# One spec per widget, built from the registry record or the page's limits. Both roads a value takes go through it:
# a link's text (``parse``, on the page's first load) and whatever the widget holds or returns (``accept``): what
# the browser sends, a preset, and what a hand-made websocket message or a forged ``st.session_state`` puts there.
# Streamlit checks a value against the widget's options only in part (a multiselect keeps duplicates and has no
# size bound; a number set in session state is reset without a word), so the page's limits live here, once.


@dataclass(frozen=True)
class NumberSpec:
    """A number widget's values: finite, in [low, high], whole if ``integer``, one of ``stops`` if any (a log slider).

    ``accept`` clamps a number out of range to the nearest end (or stop) and
    refuses anything that is not a finite number (the default, with a note).
    """

    low: float
    high: float
    default: float
    expected: str
    integer: bool = False
    stops: tuple = ()

    def parse(self, raw: str):
        """A link's text: the number, if it is plain decimal text in range (and a stop, for a log slider); else None."""
        value = number_in(self.low, self.high, integer=self.integer)(raw)
        if value is None or not self.stops:
            return value
        return next((c for c in self.stops if math.isclose(c, value, rel_tol=1e-9)), None)

    def accept(self, value) -> tuple[object, str | None]:
        """(the value to use, why it differs from ``value`` or None)."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return self.default, tr("not a number")
        v = float(value)
        if not math.isfinite(v):
            return self.default, tr("not a finite number")
        if self.stops:
            exact = next((c for c in self.stops if math.isclose(c, v, rel_tol=1e-9)), None)
            if exact is not None:
                return exact, None
            # the nearest stop on the slider's own (log) scale; below every stop: the first
            nearest = (min(self.stops, key=lambda c: abs(math.log(c / v))) if v > 0 and min(self.stops) > 0
                       else min(self.stops, key=lambda c: abs(c - v)))
            return nearest, tr("not one of the slider's stops")
        used = min(max(v, float(self.low)), float(self.high))
        if self.integer:
            used = int(round(used))
        why = None if used == v else tr("outside [{low:g}, {high:g}]", low=self.low, high=self.high) if not (
            self.low <= v <= self.high) else tr("not a whole number")
        return (int(used) if self.integer else float(used)), why


@dataclass(frozen=True)
class ChoiceSpec:
    """A choice's values: one of ``options`` (registry names); anything else is refused (the default, with a note)."""

    options: tuple
    default: str
    expected: str

    def parse(self, raw: str):
        return one_of(self.options)(raw)

    def accept(self, value) -> tuple[object, str | None]:
        if isinstance(value, str) and value in self.options:
            return value, None
        return self.default, tr("not one of the choices")


@dataclass(frozen=True)
class MultiSpec:
    """A multiselect's values: distinct names from ``options``, at most ``most`` of them.

    ``accept`` keeps the known names once each, in their order, and cuts the
    list at ``most``: a page never computes more than its largest
    configuration, however many names a message lists.
    """

    options: tuple
    default: tuple
    expected: str
    most: int

    def parse(self, raw: str):
        """A link's comma-separated names, if all are known and there are at most ``most`` distinct ones; else None."""
        picked = raw.split(",") if raw else []
        if not all(v in self.options for v in picked):
            return None
        picked = list(dict.fromkeys(picked))
        return picked if len(picked) <= self.most else None

    def accept(self, value) -> tuple[object, str | None]:
        if not isinstance(value, (list, tuple)):
            return list(self.default), tr("not a list of choices")
        known = [v for v in value if isinstance(v, str) and v in self.options]
        distinct = list(dict.fromkeys(known))
        used = distinct[: self.most]
        if len(known) < len(value):
            return used, tr("unknown choices dropped")
        if len(distinct) < len(known):
            return used, tr("repeated choices removed")
        if len(used) < len(distinct):
            return used, tr("at most {count} choices", count=self.most)
        return used, None


@dataclass(frozen=True)
class TextSpec:
    """A text field's values: text of at most ``max_chars`` characters; longer text is refused whole (never cut)."""

    max_chars: int
    default: str
    expected: str

    def parse(self, raw: str):
        return raw if len(raw) <= self.max_chars else None

    def accept(self, value) -> tuple[object, str | None]:
        if isinstance(value, str) and len(value) <= self.max_chars:
            return value, None
        return self.default, self.expected


@dataclass(frozen=True)
class SwitchSpec:
    """A toggle's values: on or off; anything else is refused."""

    default: bool
    expected: str

    def parse(self, raw: str):
        return {"1": True, "0": False, "true": True, "false": False}.get(raw.lower())

    def accept(self, value) -> tuple[object, str | None]:
        if isinstance(value, bool):
            return value, None
        return self.default, self.expected


def value_note(key: str, value, why: str, used) -> str:
    """What a page says under a widget whose value it did not use (the value shown literally, cut at 40 characters)."""
    text = repr(value) if not isinstance(value, str) else value
    shown = f"{key[:40]}={text[:40]}" + ("…" if len(text) > 40 else "")
    return tr("{value} not used ({why}); using {used}.", value=escape_markdown(shown), why=escape_markdown(why),
              used=escape_markdown(url_text(used) if not isinstance(used, list) else ", ".join(used) or "—"))


def repair_state(key: str, spec) -> str | None:
    """Before the widget: a value in its session state that ``spec`` refuses is replaced; returns the note, or None.

    Session state is where a link's and a preset's values wait for the
    widget, and where a forged one would too; Streamlit would reset some of
    those without a word and raise on others.
    """
    if key not in st.session_state:
        return None
    value = st.session_state[key]
    used, why = spec.accept(value)
    if why is None:
        return None
    st.session_state[key] = used
    return value_note(key, value, why, used)


def accept_value(key: str, value, spec, where) -> object:
    """After the widget: the value it returned, as ``spec`` accepts it; a note under the widget when it differs.

    The widget's state keeps the refused value until the next run, whose
    ``repair_state`` replaces it (the widget is drawn by then and cannot be
    changed in this run).
    """
    used, why = spec.accept(value)
    if why is not None:
        where.warning(value_note(key, value, why, used), icon=":material/block:")
    return used
