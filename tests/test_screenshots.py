"""Screenshots to look at (``shots/``, git-ignored), and the overlaps a screenshot shows, checked in the browser.

test_browser.py saves every page in the light theme in both languages; this adds
the dark theme for every page in both languages and presentation mode for three
pages, and on each checks what only a browser knows: the drawn boxes of legends,
axis titles and annotations do not overlap one another.
Run: ``pytest tests/test_screenshots.py`` (about a minute a language on a quiet machine).
"""
from __future__ import annotations

import pytest
from browser_support import PAGES, READY_JS, SHOTS, VIEWPORT

pytestmark = pytest.mark.browser
PRESENTED = ("critical_points", "momentum", "schedules")

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


def shoot(browser, url: str, name: str, dark: bool) -> list[str]:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark" if dark else "light")
    page = context.new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function(READY_JS, polling=250, timeout=180_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        return page.evaluate(OVERLAPS_JS)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_page_in_the_dark_theme(server, browser, language):
    overlaps = {}
    for path in PAGES:
        found = shoot(browser, f"{server}/{path}?lang={language}", f"dark_{path or 'home'}_{language}", dark=True)
        if found:
            overlaps[path or "home"] = found
    assert not overlaps, overlaps


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_three_pages_in_presentation_mode(server, browser, dark):
    overlaps = {}
    for path in PRESENTED:
        found = shoot(browser, f"{server}/{path}?present=1", f"present_{path}_{'dark' if dark else 'light'}", dark)
        if found:
            overlaps[path] = found
    assert not overlaps, overlaps
