"""Shared test helpers."""
import base64
import json
import logging
import re
from pathlib import Path

import jax
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import app_pages
import runtime

# As the entry point does, before any test compiles: the suite's compile cache in $ERROR_SURFACE_LAB_CACHE, bounded.
runtime.set_up()


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


def assert_same_tree(got, want, path="layout"):
    """Equal nested dicts and lists, floats to 1e-12 (panel domains are sums of spacings)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), (path, sorted(set(got) ^ set(want)))
        for key in want:
            assert_same_tree(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_tree(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, abs=1e-12), path
    else:
        assert got == want, path


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


# Every page, from the page registry (app_pages/__init__.py): a page added there is covered by every page-wide test.
PAGE_NAMES = app_pages.names()  # script stems, "home" first
LESSON_PAGES = [name for name in PAGE_NAMES if name != "home"]
# file name -> URL path, for the pages whose URL path is not their file name
URL_PATHS = {r.name: r.slug for r in app_pages.PAGES if r.slug and r.slug != r.name}
LINK_TIMEOUT = 240


def open_link(name: str, query: dict, timeout: float = LINK_TIMEOUT) -> AppTest:
    """A new session whose first request is a link to app_pages/<name>.py with ``query``, through the entry point.

    Until a run has registered ``st.navigation``'s pages, AppTest finds a page by its file name; that is the
    page's URL path except for the pages in URL_PATHS, which get one run of the entry point (Home) first.
    ``name`` "home": the entry point's own page.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if name in URL_PATHS:
        if "lang" in query:  # the language is the session's from its first run on
            at.query_params["lang"] = query["lang"]
        at.run()
        at.query_params.clear()
    for k, v in query.items():
        at.query_params[k] = v
    if name == "home":
        return at.run()
    at.switch_page(f"app_pages/{name}.py").run()
    assert at.session_state["_page"] == URL_PATHS.get(name, name), "AppTest did not reach the page"
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


# A link, image or tag from a URL that reached a page's Markdown unescaped.
LIVE_MARKUP = re.compile(r"(?<!\\)\]\(https://evil|(?<!\\)<script")


def markdown_sources(at: AppTest) -> list[str]:
    """The Markdown source of every text element of the page (what a link's text could turn into markup in)."""
    return [str(e.value) for kind in ("markdown", "caption", "warning", "error", "info", "success", "title",
                                      "header", "subheader") for e in getattr(at, kind)]


def text(at: AppTest) -> str:
    """All the page's prose (markdown, captions, LaTeX and messages) as one string."""
    return " ".join(str(e.value) for kind in ("markdown", "caption", "latex", "success", "warning", "info")
                    for e in getattr(at, kind))


@pytest.fixture(autouse=True)
def disk_caches_on(monkeypatch):
    """Every test starts with the disk caches on: a storage-fault test turns them off for its process on purpose,
    and a later test of the same worker must not find them off."""
    monkeypatch.setattr(runtime, "_disk_problem", None)


# ------------------------------------------------------------------ the order files are handed out in
# The longest files first (their tests keep their order). xdist's loadfile scheduler gives each worker whole files in
# collection order when .ci/run passes --no-loadscope-reorder; by default it orders files by their number of tests,
# which put the browser tests' few, long ones at the very end, where one worker ran them alone while the other had
# nothing left to do. Every test that needs the app's server is in test_browser.py, so one worker starts it (a second
# worker's own server compiled and filled its caches again: about 20 s).
# test_storage_faults.py opens every page in four fresh processes (no warm caches by design): start it early too.
LONGEST_FILES = ("test_browser.py", "test_storage_faults.py")


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


@pytest.fixture(scope="session")
def tabs(browser):
    """One browser profile whose tabs share its cache (Streamlit's and plotly.js's JavaScript, fetched and
    compiled once), as a reader's browser keeps it from page to page; each test opens its own tabs in it."""
    from browser_support import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()
