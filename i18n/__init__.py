"""Interface text in English and Simplified Chinese.

English text is its own key, as in gettext: ``tr("Steps")`` is "Steps" in
English and ``zh.TEXTS["Steps"]`` in Chinese. Templates take ``str.format``
fields: ``tr("diverged at step {step}", step=12)``; a translation carries the
same fields. Registry text (surface titles, optimizer labels, ...) goes
through ``tr`` where it is shown, so the model code stays free of the UI.

The language is a context variable: Streamlit runs each session's script in
its own thread, so two students reading different languages never see each
other's. Plain Python, no Streamlit: figures and notebooks use it too.
"""
from __future__ import annotations

import contextvars
import string

from i18n import zh

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
CATALOGS = {"zh": zh.TEXTS}

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)

# Keys asked for in a language whose catalog lacks them (the English text is
# shown instead). The test that renders every page in Chinese keeps it empty.
MISSING: set[str] = set()


def use_language(code: str) -> str:
    """Make ``code`` the language of this thread's text; an unknown code means English. Returns the code used."""
    code = code if code in LANGUAGES else DEFAULT
    _language.set(code)
    return code


def tr(text: str, **values) -> str:
    """``text`` in the current language, with ``values`` filled into its ``{fields}``."""
    lang = _language.get()
    if lang != DEFAULT:
        found = CATALOGS[lang].get(text)
        if found is None:
            MISSING.add(text)
        else:
            text = found
    return text.format(**values) if values else text


def fields(template: str) -> set[str]:
    """The names of a template's ``{fields}`` (what a translation must keep)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def mark(text: str) -> str:
    """Mark a constant defined before any language is known (gettext's ``N_``); ``tr`` it where it is shown."""
    return text


def tr_n(one: str, many: str, count: int, **values) -> str:
    """``tr`` of ``one`` when ``count`` is 1, else of ``many``; ``count`` fills the ``{count}`` field.

    Chinese has no plural, so both keys map to the same text there.
    """
    return tr(one if count == 1 else many, count=count, **values)


def join(*sentences: str) -> str:
    """Sentences run together: a space between them in English, none in Chinese (its full stop is wide)."""
    return ("" if _language.get() == "zh" else " ").join(s for s in sentences if s)
