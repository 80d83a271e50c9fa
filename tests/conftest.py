"""Shared test helpers."""
import base64
import json
import logging
from pathlib import Path

import jax
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest


class CompileCounter(logging.Handler):
    """Collects JAX's "Compiling <name>" log lines (all of them, or those naming ``name``)."""

    def __init__(self, name: str | None):
        super().__init__(logging.DEBUG)
        self.name = name
        self.messages = []

    def emit(self, record):
        msg = record.getMessage()
        if "Compiling" in msg and (self.name is None or self.name in msg):
            self.messages.append(msg)


@pytest.fixture
def count_compiles():
    """count_compiles(fn, name="_scan_trajectories") -> how many compilations calling fn caused (name=None: any)."""

    def count(fn, name: str | None = "_scan_trajectories") -> int:
        handler = CompileCounter(name)
        logger = logging.getLogger("jax")
        logger.addHandler(handler)
        try:
            with jax.log_compiles(True):
                fn()
        finally:
            logger.removeHandler(handler)
        return len(handler.messages)

    return count


def plain(markdown: str) -> str:
    """Markdown source with CommonMark's backslash escapes removed: the text a reader sees."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
# ------------------------------------------------------------------ helpers for the page tests (AppTest)
ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 180


def arr(v) -> np.ndarray:
    """Plotly JSON value -> NumPy (typed-array specs are base64 'bdata', with their shape)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        shape = v.get("shape")
        if isinstance(shape, str):
            shape = tuple(int(n) for n in shape.split(","))
        return a.reshape(shape) if shape else a
    return np.asarray(v, dtype=float)


def ok(at: AppTest) -> AppTest:
    """The page ran without an exception (the messages if not); returns it."""
    assert not at.exception, [e.message for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    """Every Plotly chart of the page as its JSON spec (data, layout, frames)."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def page(name: str, **query) -> AppTest:
    """Run app_pages/<name>.py alone with ``query`` in its URL."""
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


@pytest.fixture(scope="module")
def opened():
    """``opened(name, **query)``: that page's AppTest, run once per test module; its tests continue the one session."""
    sessions = {}

    def get(name: str, **query) -> AppTest:
        key = (name, tuple(sorted(query.items())))
        if key not in sessions:
            sessions[key] = ok(page(name, **query))
        return sessions[key]

    return get


def text(at: AppTest) -> str:
    """All the page's prose (markdown, captions, LaTeX and messages) as one string."""
    return " ".join(str(e.value) for kind in ("markdown", "caption", "latex", "success", "warning", "info")
                    for e in getattr(at, kind))


# ------------------------------------------------------------------ the order files are handed out in
# The longest files first (their tests keep their order). xdist's loadfile scheduler gives each worker whole files in
# collection order when .ci/run passes --no-loadscope-reorder; by default it orders files by their number of tests,
# which put the two browser files' few, long tests (the 4 screenshot tests take about 3 minutes) at the very end,
# where one worker ran them alone while the other had nothing left to do. test_browser.py stays ahead of
# test_screenshots.py: its share-link test is the first request to a fresh server in a process that runs both.
LONGEST_FILES = ("test_browser.py", "test_screenshots.py")


def pytest_collection_modifyitems(config, items):
    per_file = {}
    for item in items:
        per_file[item.path.name] = per_file.get(item.path.name, 0) + 1
    first = {name: rank for rank, name in enumerate(LONGEST_FILES)}
    # Then the files with more tests first: xdist's own default order, which the rest keeps.
    items.sort(key=lambda item: (first.get(item.path.name, len(first)), -per_file[item.path.name], str(item.path)))


# ------------------------------------------------------------------ the real-browser tests (tests/browser_support.py)
@pytest.fixture(scope="session")
def server():
    """The app served by ``streamlit run`` on a free port, one per test process (shared by the browser files)."""
    from browser_support import streamlit_server

    with streamlit_server() as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process; each test opens its own tabs or contexts."""
    from browser_support import chromium

    with chromium() as b:
        yield b
