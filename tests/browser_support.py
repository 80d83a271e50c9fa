"""What the real-browser tests and the page-draw bench share: the app's pages, the settle rule, Chromium, a server.

``tests/conftest.py`` turns ``streamlit_server`` and ``chromium`` into the session-scoped ``server`` and
``browser`` fixtures, so the browser test files that run in one pytest process (one xdist worker) share one
server, whose compute caches the first page visit fills, and one Chromium. ``bench/bench_page_draw.py``
imports ``READY_JS``, ``CHROMIUM_FLAGS`` and ``chromium_path`` from here, so it measures what the tests wait for.
Needs Debian's ``chromium`` (``/usr/bin/chromium`` or $CHROMIUM_PATH) and ``pip install playwright``; never
``playwright install``.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench scripts import this module from bench/
    sys.path.insert(0, str(ROOT))
import app_pages  # noqa: E402 - the page registry

# url path -> page file, from the page registry (app_pages/__init__.py); tests/test_browser.py checks it against the
# folder, so a page script without a record fails there.
PAGES = {record.slug: f"{record.name}.py" for record in app_pages.PAGES}
IGNORED_CONSOLE = [  # Streamlit itself asks for these under a sub-page path
    re.compile(r"/[^/]+/_stcore/(health|host-config)"),
]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("BROWSER_SHOTS", ROOT / "shots"))
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_PIDS: dict[str, int] = {}  # base URL -> process id of each server ``streamlit_server`` runs now

# Settled: the script idle, nothing stale or loading, every chart drawn, and none of that changed for QUIET_MS.
QUIET_MS = 800
READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const q = s => document.querySelectorAll(s).length;
  if (q('[data-testid="stSpinner"]') || q('[data-stale="true"]') || q('[data-testid="stSkeleton"]')) return false;
  const charts = q('[data-testid="stPlotlyChart"]');
  const drawn = q('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg');
  const sig = charts + ':' + drawn + ':' + q('[data-testid="stElementContainer"]');
  const w = window.__ready || (window.__ready = {sig: '', since: performance.now()});
  if (sig !== w.sig) { w.sig = sig; w.since = performance.now(); return false; }
  return drawn >= charts && performance.now() - w.since > QUIET_MS;
}""".replace("QUIET_MS", str(QUIET_MS))


def run_async(coroutine):
    """``asyncio.run(coroutine)`` in a thread of its own: Playwright's sync API (the browser fixtures, alive for a
    whole test process) keeps an event loop running in the main thread, where asyncio.run refuses to start."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def server_pid(base: str) -> int:
    """The process id of the server that ``streamlit_server`` started at ``base`` (still running).

    Not "the test process's child whose command line says streamlit": a test process may run several (the
    session-wide ``server`` fixture of the browser files beside a test's own)."""
    return SERVER_PIDS[base]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def need(condition: bool, why: str) -> None:
    """Skip the test when ``condition`` fails (fail it in CI, where the browser must be there)."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (required in CI)")
        pytest.skip(why)


@contextlib.contextmanager
def streamlit_server(app: Path = ROOT / "app.py", env: dict | None = None, log_path: Path | None = None):
    """``streamlit run app`` on a free loopback port (``env``: its environment, default this process's; its output
    to ``log_path``, default .pytest_cache/browser_server.log); yields its base URL and stops it afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if log_path is None and (ROOT / ".pytest_cache").is_dir():
        log_path = ROOT / ".pytest_cache" / "browser_server.log"
    log = open(log_path, "w") if log_path is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    SERVER_PIDS[base] = proc.pid
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the Streamlit server did not start")
                time.sleep(0.3)
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log is not subprocess.DEVNULL:
            log.close()


@contextlib.contextmanager
def chromium():
    """Headless Debian Chromium under Playwright (skipped without one, failed in CI)."""
    sync_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else __import__(
        "playwright.sync_api", fromlist=["sync_playwright"])
    path = chromium_path()
    need(path is not None, "Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def new_tab(browser):
    """A ``VIEWPORT``-sized tab: ``browser`` a Browser (the tab in a fresh profile, as a first visit) or a
    BrowserContext made with ``VIEWPORT`` (a profile that keeps its cache from tab to tab, as a reader's
    browser: the ``tabs`` fixture)."""
    return browser.new_page(viewport=VIEWPORT) if hasattr(browser, "new_context") else browser.new_page()


def plotly_js() -> str:
    """plotly.py's bundled plotly.js (the same major version as Streamlit's), as a file path."""
    import plotly

    path = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
    if not os.path.exists(path):
        raise FileNotFoundError(f"plotly.js not found at {path}")
    return path


def open_page(browser, url: str, on_open=None):
    """A new tab (``new_tab``) on ``url``, settled (READY_JS); returns it and the list its console errors are
    collected in. ``on_open(page)``: called before the navigation (to listen to the page's websocket, say).
    """
    page = new_tab(browser)
    if on_open is not None:
        on_open(page)
    problems: list[str] = []

    def on_console(msg):
        if msg.type == "error" and not any(p.search(msg.text + str(msg.location)) for p in IGNORED_CONSOLE):
            problems.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(READY_JS, polling=250, timeout=180_000)
    return page, problems


# Set just before a sidebar click, true once the server runs the new page's script (the old page is still shown
# until then, and settled: READY_JS alone would pass on it).
RAN_JS = """() => {
  window.__ran = false; window.__ready = undefined;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => { if (app.getAttribute('data-test-script-state') === 'running') window.__ran = true; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def click_sidebar(page, path: str, polling: int = 250) -> float:
    """A reader's move inside an open app: click ``path``'s link in the sidebar (Streamlit swaps the page in the
    same tab) and wait until the new page has settled (READY_JS); returns the click's ``performance.now()``."""
    page.evaluate(RAN_JS)
    clicked = page.evaluate("() => performance.now()")
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()
    page.wait_for_function("() => window.__ran", polling=50, timeout=60_000)
    page.wait_for_function(READY_JS, polling=polling, timeout=180_000)
    return clicked


def assert_healthy(page, problems):
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()[:2000]
    assert not problems, problems


# Boxes of the text a student reads in each chart; pairs that intersect (by more than 2 px) are overlaps.
OVERLAPS_JS = """() => {
  const out = [];
  const box = el => { const r = el.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const hit = (a, b) => Math.min(a.r, b.r) - Math.max(a.l, b.l) > 2 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 2;
  document.querySelectorAll('.js-plotly-plot').forEach((gd, i) => {
    const items = [];
    gd.querySelectorAll('.legend .traces').forEach(e => items.push(['legend', e]));
    gd.querySelectorAll('.g-xtitle, .g-ytitle, .g-x2title, .g-y2title').forEach(e => items.push(['axis title', e]));
    gd.querySelectorAll('.annotation').forEach(e => {
      if (!e.querySelector('.annotation-arrow-g')) items.push(['annotation', e]);
    });
    gd.querySelectorAll('.gtitle').forEach(e => items.push(['title', e]));
    const boxes = items.map(([k, e]) => [k, box(e), (e.textContent || '').trim().slice(0, 30)])
                       .filter(([, b]) => b.r > b.l && b.b > b.t);
    for (let a = 0; a < boxes.length; a++)
      for (let b = a + 1; b < boxes.length; b++)
        if (!(boxes[a][0] === 'legend' && boxes[b][0] === 'legend') && hit(boxes[a][1], boxes[b][1]))
          out.push(`chart ${i}: ${boxes[a][0]} "${boxes[a][2]}" on ${boxes[b][0]} "${boxes[b][2]}"`);
  });
  return out;
}"""


def shoot(page, name: str) -> list[str]:
    """A screenshot of the settled page as shots/<name>.png, and the overlaps OVERLAPS_JS finds on it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return page.evaluate(OVERLAPS_JS)


def brightness(colour: str) -> float:
    """Mean of R, G, B (0–255) of a CSS colour, "rgb(r, g, b)" or "#rrggbb"."""
    if colour.startswith("rgb"):
        return sum(float(v) for v in re.findall(r"[\d.]+", colour)[:3]) / 3
    return sum(int(colour[i:i + 2], 16) for i in (1, 3, 5)) / 3


# The first chart's background (the server draws it for the theme the browser reported with its last rerun), or
# the app's where the page has no chart.
PAPER_JS = ("() => { const gd = document.querySelector('.js-plotly-plot'); return gd ? gd._fullLayout.paper_bgcolor"
            " : getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor; }")


# How the page and its first chart look: the app's background, and the chart's paper, font size and font colour
# (font and colour None on a page without a chart).
LOOKS_JS = f"""() => {{
  const gd = document.querySelector('.js-plotly-plot');
  return {{app: getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor, paper: ({PAPER_JS})(),
          font: gd ? gd._fullLayout.font.size : null, color: gd ? gd._fullLayout.font.color : null}};
}}"""


def switch_scheme(page, scheme: str) -> None:
    """The reader's system turns ``scheme`` ("dark" or "light"): Streamlit follows the colour scheme at once, and
    its next rerun (the R key, as a reader would press it) draws the figures for the new theme; returns when that
    page has settled."""
    before = page.evaluate(PAPER_JS)
    page.emulate_media(color_scheme=scheme)
    page.keyboard.press("r")  # a settled page has no widget focused: the key reaches Streamlit
    page.wait_for_function(f"() => ({PAPER_JS})() !== {before!r}", polling=250, timeout=120_000)
    page.evaluate("() => { window.__ready = undefined; }")  # settle afresh on the rerun's page
    page.wait_for_function(READY_JS, polling=250, timeout=180_000)
