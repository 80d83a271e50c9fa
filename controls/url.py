"""URL (query-string) state: which widgets live in the link, the link's refused values, the share link.

Every widget that defines an experiment has a stable key and lives in the
query string, so the URL reproduces the experiment. Numbers use Streamlit's
``bind="query-params"``. Choices are synced by hand (``controls.widgets``):
Streamlit would put the *displayed label* in the URL, which is neither stable
nor language-independent; we put the registry name. Streamlit drops a URL
value it cannot use without a word; ``UrlCheck`` looks at the raw query
string first and shows which values were ignored and why.
"""
from __future__ import annotations

import math
import urllib.parse
from typing import Callable

import streamlit as st

from i18n import tr

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



def start_page() -> None:
    """Forget the last run's URL-bound widgets: this page's register themselves again (``bound``)."""
    st.session_state[_BOUND] = {}


def note_refused(key: str, raw: str, expected: str) -> None:
    """Keep a note about a link value the entry point refused; the page's ``UrlCheck`` shows it."""
    st.session_state.setdefault(_LINK_NOTES, []).append(refusal_note(key, raw, expected))


def is_number_in(low: float, high: float, integer: bool = False) -> Callable[[str], bool]:
    def valid(raw: str) -> bool:
        v = float(raw)
        return math.isfinite(v) and low <= v <= high and (not integer or v == int(v))

    return valid
