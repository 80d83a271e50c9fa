"""Screenshots to look at (``shots/``, git-ignored), and the overlaps a screenshot shows, checked in the browser.

test_browser.py saves every page in the light theme in both languages and checks
there what only a browser knows: the drawn boxes of legends, axis titles and
annotations do not overlap one another (``browser_support.OVERLAPS_JS``). This
adds the dark theme for every page (the languages taking turns) and presentation
mode for three pages, light then dark, with the same check on each.
Run: ``pytest tests/test_screenshots.py`` (about two minutes on a quiet machine).
"""
from __future__ import annotations

import re

import pytest
from browser_support import OVERLAPS_JS, PAGES, READY_JS, SHOTS, VIEWPORT

pytestmark = pytest.mark.browser
PRESENTED = ("critical_points", "momentum", "schedules")

def shoot(page, name: str) -> list[str]:
    """A screenshot of the settled page as shots/<name>.png, and the overlaps OVERLAPS_JS finds on it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return page.evaluate(OVERLAPS_JS)


def opened(browser, url: str, dark: bool):
    """A fresh context in the light or dark colour scheme, settled on ``url``: (context, page)."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(READY_JS, polling=250, timeout=180_000)
    return context, page


def brightness(colour: str) -> float:
    """Mean of R, G, B (0–255) of a CSS colour, "rgb(r, g, b)" or "#rrggbb"."""
    if colour.startswith("rgb"):
        return sum(float(v) for v in re.findall(r"[\d.]+", colour)[:3]) / 3
    return sum(int(colour[i:i + 2], 16) for i in (1, 3, 5)) / 3


# The first chart's background: the server draws it for the theme the browser reported with its last rerun.
PAPER_JS = "() => document.querySelector('.js-plotly-plot')._fullLayout.paper_bgcolor"


def switch_to_dark(page) -> None:
    """The reader's system turns dark: Streamlit follows the colour scheme at once, and its next rerun (the R
    key, as a reader would press it) draws the figures for the dark theme; returns when that page has settled."""
    light_paper = page.evaluate(PAPER_JS)
    page.emulate_media(color_scheme="dark")
    page.keyboard.press("r")  # a settled page has no widget focused: the key reaches Streamlit
    page.wait_for_function(f"() => ({PAPER_JS})() !== {light_paper!r}", polling=250, timeout=120_000)
    page.evaluate("() => { window.__ready = undefined; }")  # settle afresh on the rerun's page
    page.wait_for_function(READY_JS, polling=250, timeout=180_000)


def test_every_page_in_the_dark_theme(server, browser):
    """Every page once in the dark theme, the languages taking turns (each page's overlaps are checked in both
    languages in the light theme by test_browser.py; the boxes do not depend on the theme). One dark context,
    a tab per page: the tabs share its cache, as a reader's do, so each page does not fetch the app again."""
    overlaps = {}
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    try:
        for k, path in enumerate(PAGES):
            language = ("en", "zh")[k % 2]
            page = context.new_page()
            try:
                page.goto(f"{server}/{path}?lang={language}", wait_until="domcontentloaded")
                page.wait_for_function(READY_JS, polling=250, timeout=180_000)
                found = shoot(page, f"dark_{path or 'home'}_{language}")
            finally:
                page.close()
            if found:
                overlaps[path or "home"] = found
    finally:
        context.close()
    assert not overlaps, overlaps


def test_three_pages_in_presentation_mode_light_then_dark(server, browser):
    """Each page opened once in the light theme, then switched to the dark one (a fresh dark page is checked
    above): both screenshots, and no overlaps in either."""
    overlaps = {}
    for path in PRESENTED:
        context, page = opened(browser, f"{server}/{path}?present=1", dark=False)
        try:
            found = {"light": shoot(page, f"present_{path}_light")}
            switch_to_dark(page)
            app, paper = page.evaluate(
                f"() => [getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor, "
                f"({PAPER_JS})()]")
            assert brightness(app) < 80 and brightness(paper) < 80, (path, app, paper)  # page and figures dark
            found["dark"] = shoot(page, f"present_{path}_dark")
        finally:
            context.close()
        overlaps.update({f"{path} ({theme})": f for theme, f in found.items() if f})
    assert not overlaps, overlaps
