"""Where a page's time goes between navigation and "settled", in headless Chromium.

Opens every page of the app (a server of its own on loopback, or ``--url``) in
a fresh tab, ``--repeat`` times, and prints per page:

- settle: navigation start → the last change of the page (script idle, every
  chart drawn, nothing changed for 0.8 s afterwards; the same rule as
  tests/browser_support.py, which the browser tests use);
- script: how long the server's script ran (the app's ``data-test-script-state``
  from ``running`` to ``notRunning``, so it includes sending the page);
- bytes: what the server sent over the websocket (the figures' JSON is most of it);
- per chart: when it was drawn (ms after navigation), its traces and frames,
  and the main-thread task it was drawn in (a Long Tasks API entry that
  contains the moment its SVG appeared: plotly.js's draw of that chart and
  whatever else ran in the same task);
- per chart, "alone": plotly.js's own time to draw that chart's figure afresh
  (``Plotly.newPlot`` into a hidden div of the same size, the better of two,
  plotly.py's copy of plotly.js loaded into the settled page), so the charts Streamlit draws in
  one task can be told apart;
- long tasks: the sum of all main-thread tasks over 50 ms (plotly.js, Streamlit's
  React rendering, WebGL set-up), i.e. the page's blocking time.

``--returning``: each visit a new tab in one browser profile that has opened the app before (a student's second
link, or a reload): Streamlit's and plotly.js's JavaScript come from the browser's cache, compiled code included
(three visits to a chart page first: V8 uses its code cache for a script from the script's third load on), and
the page's script and charts are what is left.

``--floor``: only ``bench/floor_app.py``'s bare pages (one line of text; with one, six 3-point charts), in a
returning tab: what any Streamlit page with charts costs here before its content, against which the 4 s are spent.

``--navigate``: instead, a reader's move inside an open app: from the page before it, click the page's link
in the sidebar (Streamlit swaps the page in the same tab; its JavaScript, plotly.js included, is already
loaded), and time click → settled, the same rule.

Run: .venv/bin/python bench/bench_page_draw.py [--repeat 2] [--pages playground momentum] [--url http://...]
     [--navigate | --returning | --floor]
Targets (docs/performance_log.md): every page settles within 4 s, Home within 2 s, on a quiet machine.
Needs Chromium (/usr/bin/chromium or $CHROMIUM_PATH) and playwright and pytest (requirements-dev.txt).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
# "Settled" and the browser's flags are the browser test's own, so the bench measures what the test waits for.
from browser_support import CHROMIUM_FLAGS, READY_JS, VIEWPORT, chromium_path, click_sidebar, new_tab, plotly_js  # noqa: E402
from browser_support import PAGES as browser_support_pages  # noqa: E402 - url path -> script, from the page registry

PAGES = list(browser_support_pages)

# Runs before the page's own scripts: records long tasks, script-state changes and when each chart's SVG appears.
PROBE_JS = """
(() => {
  const probe = window.__probe = {long: [], script: [], charts: []};
  try {
    new PerformanceObserver(list => { for (const e of list.getEntries()) probe.long.push([e.startTime, e.duration]); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) {}
  const seen = new WeakSet();
  const watch = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (app) {
      const state = app.getAttribute('data-test-script-state');
      if (!probe.script.length || probe.script[probe.script.length - 1][1] !== state) probe.script.push([performance.now(), state]);
    }
    for (const svg of document.querySelectorAll('.js-plotly-plot .main-svg')) {
      const gd = svg.closest('.js-plotly-plot');
      if (!seen.has(gd)) { seen.add(gd); probe.charts.push({gd, drawn: performance.now()}); }
    }
  };
  new MutationObserver(watch).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ['data-test-script-state']});
})();
"""

REPORT_JS = """() => {
  const p = window.__probe;
  const inTask = t => { const e = p.long.find(([s, d]) => s <= t && t <= s + d + 1); return e ? e[1] : 0; };
  const runs = [];
  let start = null;
  for (const [t, s] of p.script) {
    if (s === 'running' && start === null) start = t;
    if (s === 'notRunning' && start !== null) { runs.push(t - start); start = null; }
  }
  return {settle: window.__ready.since, script: runs, long: p.long.reduce((n, [, d]) => n + d, 0),
          // In page order, as ALONE_JS finds them (charts are not always drawn top to bottom).
          charts: [...p.charts].sort((a, b) => a.gd.compareDocumentPosition(b.gd) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1)
            .map(({gd, drawn}) => ({drawn, task: inTask(drawn),
            traces: (gd.data || []).length, frames: ((gd._transitionData || {})._frames || []).length,
            types: [...new Set((gd.data || []).map(t => t.type || 'scatter'))].join('+'),
            images: ((gd.layout || {}).images || []).length}))};
}"""


def start_server(script: str = os.path.join(ROOT, "app.py")) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).status == 200:
                return proc, base
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                sys.exit("the Streamlit server did not start")
            time.sleep(0.3)


# Each chart's figure drawn again, alone, by a second copy of plotly.js: its draw time in ms.
ALONE_JS = """async () => {
  const out = [];
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const box = gd.getBoundingClientRect();
    const div = document.createElement('div');
    div.style.cssText = `position:absolute;left:-10000px;top:0;width:${box.width}px;height:${box.height}px`;
    document.body.appendChild(div);
    const copy = x => JSON.parse(JSON.stringify(x, (k, v) => ArrayBuffer.isView(v) ? Array.from(v) : v));
    const data = copy(gd.data), layout = copy(gd.layout);
    let best = Infinity;
    for (let k = 0; k < 2; k++) {  // the better of two: the first draw of a kind also sets plotly.js up
      const t0 = performance.now();
      await Plotly.newPlot(div, copy(data), copy(layout), {displaylogo: false});
      best = Math.min(best, performance.now() - t0);
      Plotly.purge(div);
    }
    out.push(best);
    div.remove();
  }
  return out;
}"""


def measure(browser, url: str, alone: bool = False) -> dict:
    """One visit in a new tab (``browser_support.new_tab``: a fresh profile, or a returning reader's)."""
    page = new_tab(browser)
    received = [0]

    def on_socket(ws):
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    page.on("websocket", on_socket)
    page.add_init_script(PROBE_JS)
    try:
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function(READY_JS, polling=100, timeout=180_000)
        report = page.evaluate(REPORT_JS)
        if alone:
            page.add_script_tag(path=plotly_js())
            for chart, ms in zip(report["charts"], page.evaluate(ALONE_JS)):
                chart["alone"] = ms
    finally:
        page.close()
    report["bytes"] = received[0]
    return report


def navigate(browser, base: str, pages: list[str], repeat: int) -> None:
    """Click → settled for each page, reached from the previous one through the sidebar, ``repeat`` rounds after
    a warm-up round (the first round loads plotly.js on the first page with a chart)."""
    page = new_tab(browser)
    page.goto(f"{base}/", wait_until="domcontentloaded")
    page.wait_for_function(READY_JS, polling=100, timeout=180_000)
    times = {path: [] for path in pages}
    try:
        for round_ in range(repeat + 1):
            for path in pages:
                t0 = click_sidebar(page, path, polling=100)
                if round_:
                    times[path].append((page.evaluate("() => window.__ready.since") - t0) / 1000)
    finally:
        page.close()
    for path, seconds in times.items():
        print(f"{path or 'home':24s} sidebar click → settled {statistics.median(seconds):5.2f} s "
              f"(runs: {', '.join(f'{s:.2f}' for s in seconds)})")


def warm_code_cache(tabs, url: str) -> None:
    """Three visits to ``url`` (a page with charts) in the profile ``tabs``: V8 keeps compiled code for a script from
    its third load on (the first only compiles, the second marks it hot), so plotly.js's 4.7 MB chunk is then in the
    state of a reader's browser after a few pages, whichever page is measured first."""
    for _ in range(3):
        measure(tabs, url)


def floor(browser, base: str, repeat: int) -> None:
    """What a new tab costs here before any of the app's content: ``floor_app.py``'s bare pages (served at
    ``base``), settled by the same rule, in one profile with plotly.js's code cache warm (as ``--returning``)."""
    tabs = browser.new_context(viewport=VIEWPORT)
    warm_code_cache(tabs, f"{base}/?kind=chart")
    for kind, what in (("text", "one line of text"), ("chart", "that and one 3-point chart"),
                       ("charts", "that and six 3-point charts")):
        seconds = [measure(tabs, f"{base}/?kind={kind}")["settle"] / 1000 for _ in range(repeat)]
        print(f"floor: {what:30s} settle {statistics.median(seconds):5.2f} s "
              f"(runs: {', '.join(f'{s:.2f}' for s in seconds)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=None, help="a running app (default: start one on loopback)")
    ap.add_argument("--repeat", type=int, default=2, help="visits per page after one warm-up visit")
    ap.add_argument("--pages", nargs="*", default=None, help="URL paths ('' or home for Home)")
    ap.add_argument("--navigate", action="store_true", help="time sidebar navigation inside one open tab")
    ap.add_argument("--floor", action="store_true",
                    help="only the bare pages of bench/floor_app.py: a new tab's cost before any content")
    ap.add_argument("--returning", action="store_true",
                    help="every visit a new tab in one profile (its HTTP and code caches kept), not a fresh profile")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    if not chromium:
        sys.exit("Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)")
    pages = PAGES if args.pages is None else ["" if p in ("home", "") else p for p in args.pages]
    repeat = max(args.repeat, 5) if args.floor else args.repeat
    if args.floor:
        proc, base = start_server(os.path.join(ROOT, "bench", "floor_app.py"))
    else:
        proc, base = (None, args.url.rstrip("/")) if args.url else start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
            print(f"headless Chromium {browser.version}, {os.cpu_count()} cores, load average "
                  f"{os.getloadavg()[0]:.1f}; medians of {repeat} visits after a warm-up visit"
                  + ("; one profile for every visit" if args.returning or args.floor else ""))
            if args.floor:
                floor(browser, base, repeat)
                pages = []
            if args.navigate:
                navigate(browser, base, [p for p in pages if p] + [""], repeat)
                pages = []
            # A fresh profile per visit, or one profile for all of them (the warm-up visits fill its caches).
            tabs = browser.new_context(viewport=VIEWPORT) if args.returning else browser
            if args.returning and pages:
                warm_code_cache(tabs, f"{base}/momentum")
            for path in pages:
                url = f"{base}/{path}"
                measure(tabs, url)  # warm-up: compiles, caches
                runs = [measure(tabs, url, alone=k == repeat - 1) for k in range(repeat)]
                med = lambda key, runs=runs: statistics.median(r[key] for r in runs)  # noqa: E731
                script = statistics.median(max(r["script"] or [0.0]) for r in runs)
                print(f"\n{path or 'home':24s} settle {med('settle') / 1000:5.2f} s   script {script / 1000:5.2f} s   "
                      f"sent {med('bytes') / 1e6:5.2f} MB   long tasks {med('long') / 1000:5.2f} s")
                last = runs[-1]
                for i, c in enumerate(last["charts"]):
                    kind = c["types"] + (" + raster" if c["images"] else "")
                    print(f"    chart {i + 1:2d}  drawn at {c['drawn'] / 1000:5.2f} s  in a {c['task']:5.0f} ms task, "
                          f"alone {c.get('alone', float('nan')):5.0f} ms  {c['traces']:3d} traces {c['frames']:4d} frames  "
                          f"{kind}")
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
