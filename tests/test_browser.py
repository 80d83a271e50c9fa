"""The real-browser test: every page in headless Chromium (Playwright), Play pressed, and a shared link.

Fails on a Streamlit exception, a browser console error, an uncaught JS error,
an undrawn chart, a legend, title or annotation drawn over another, an
animation that does not advance, a map whose surface is not drawn in at least
``SURFACE_SHOWN_MIN`` of the 100 ms samples taken *while* it plays, or a playback
slower than ``PLAYBACK_SLOWDOWN`` × planned + ``PLAYBACK_EXTRA_S`` (both in browser_support).
The page tests open tabs of one browser profile (``tabs``: its cache keeps the JavaScript, as a reader's browser
does from page to page; in Chinese one tab moves by the sidebar); the shared link opens in a fresh profile.
tests/test_browser_actions.py has what a reader does on a page (presentation mode, clicks while playing, a turned
3-D view, a section's slider).
Needs Debian's ``chromium`` (``/usr/bin/chromium`` or $CHROMIUM_PATH) and
``pip install playwright``; never ``playwright install``. Outside CI a missing
browser skips; in CI it fails.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_support import (CONTINUE, FIRST_MAP_JS, OVERLAPS_JS, PAGES, PAPER_JS, READY_JS, SHOTS, assert_healthy,
                             brightness, check_playback, click_sidebar, open_page, play, shoot, switch_scheme)

ROOT = Path(__file__).resolve().parents[1]
ANIMATED = {"playground.py", "critical_points.py", "momentum.py", "batch_size.py", "adaptive_lr.py", "schedules.py",
            "classification.py", "normalization.py", "network_lab.py"}
MID_SHOTS = bool(os.environ.get("BROWSER_MID_SHOTS"))  # also a screenshot of each map while it plays
PLAYED_SHARE = 0.25  # the page tests play the last 25 % of the frames (~25 frames, ~1.3 s): a short run, same code
pytestmark = pytest.mark.browser


def test_shared_link_reproduces_the_experiment_and_click_moves_the_start(server, browser):
    # Runs first: a shared link is often a fresh server's first request. With a
    # folder named pages/, Streamlit then ran the page without app.py (no
    # navigation, no wide layout); app_pages/ avoids that.
    page, problems = open_page(browser, f"{server}/playground?surface=rosenbrock&o1=adam&o1_adam_lr=0.05&steps=120")
    try:
        assert_healthy(page, problems)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Home" in nav and "Playground" in nav and "app" not in nav.split()
        sidebar = page.locator('[data-testid="stSidebar"]')
        main = page.locator('[data-testid="stMain"]')
        assert "Rosenbrock banana." in main.inner_text()  # the page names the surface it draws
        assert sidebar.get_by_role("spinbutton", name="Steps").input_value() == "120"
        # A click on the contour map moves start 1 there (point selection on the click lattice).
        x_input = sidebar.get_by_role("spinbutton", name="start 1: x")
        before = x_input.input_value()
        box = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first.bounding_box()
        page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.25 * box["height"])
        page.wait_for_function(
            "(v) => { const e = [...document.querySelectorAll('input')].find(i => i.getAttribute('aria-label') === 'start 1: x');"
            " return e && e.value !== v; }", arg=before, polling=250, timeout=60_000)
        page.wait_for_function(READY_JS, polling=250, timeout=120_000)
        moved = x_input.input_value()
        assert float(moved) == pytest.approx(-2 + 0.8 * 4, abs=0.25)
        assert_healthy(page, problems)
        # The "Share this experiment" link carries all of it, the click included: open it afresh.
        page.get_by_text("Share this experiment").click()
        link = page.locator('[data-testid="stPopoverBody"] code').inner_text().strip()
        assert link.startswith(server) and "surface=rosenbrock" in link and "steps=120" in link, link
    finally:
        page.close()
    shared, problems = open_page(browser, link)
    try:
        assert_healthy(shared, problems)
        sidebar = shared.locator('[data-testid="stSidebar"]')
        assert "Rosenbrock banana." in shared.locator('[data-testid="stMain"]').inner_text()
        assert sidebar.get_by_role("spinbutton", name="Steps").input_value() == "120"
        assert sidebar.get_by_role("spinbutton", name="start 1: x").input_value() == moved
        legend = shared.locator(".js-plotly-plot").first.locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")
        assert "1. Adam" in legend, legend  # optimizer 1 as linked, not the default
    finally:
        shared.close()


def test_every_page_file_is_covered():
    assert sorted(PAGES.values()) == sorted(p.name for p in (ROOT / "app_pages").glob("*.py"))


@pytest.fixture(scope="module")
def reader(tabs):
    """The tab a Chinese-reading student keeps open: opened by a link with ``lang=zh`` on the first page, then
    moved from page to page by clicking the sidebar (Streamlit swaps the page in the same tab, the language
    kept in the session). ``reader["page"]`` is None until then, and again after a test failed in it."""
    state = {"page": None, "problems": [], "tabs": tabs}
    yield state
    if state["page"] is not None:
        state["page"].close()


def go_to(reader, server: str, path: str):
    """The reader's tab on ``path``: its first page from a link, the rest through the sidebar; settled."""
    if reader["page"] is None:
        reader["page"], reader["problems"] = open_page(reader["tabs"], f"{server}/{path}?lang=zh")
        return reader["page"], reader["problems"]
    reader["problems"].clear()  # what the previous page's test saw was checked there
    click_sidebar(reader["page"], path)
    return reader["page"], reader["problems"]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_draws_and_animates(server, tabs, reader, path, language):
    """In English each page opens from its link in a new tab; in Chinese one tab moves through the pages by the
    sidebar, as a student does. Then: healthy, titled in its language, no overlaps, the map plays, the dark theme
    (every page once, the languages taking turns)."""
    if language == "zh":
        page, problems = go_to(reader, server, path)
    else:
        page, problems = open_page(tabs, f"{server}/{path}")
    name = f"{path or 'home'}{'_zh' if language == 'zh' else ''}"
    passed = False
    try:
        assert_healthy(page, problems)
        title = page.locator("h1").first.inner_text()
        assert bool(re.search(r"[\u4e00-\u9fff]", title)) == (language == "zh"), title
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        overlaps = page.evaluate(OVERLAPS_JS)
        assert not overlaps, overlaps  # legends, axis titles, annotations and titles each in their own space
        found = page.evaluate(FIRST_MAP_JS)
        if PAGES[path] in ANIMATED:
            assert found["index"] >= 0, f"{PAGES[path]} must have an animated map"
        if found["index"] < 0:
            assert found["animated"] == 0 or PAGES[path] not in ANIMATED
            check_dark(page, path, language)
            passed = True
            return
        # Continue from about two thirds of the way: the real button and slider, a short run.
        frames = found["frames"]
        result = play(page, found["index"], CONTINUE[language], from_share=1 - PLAYED_SHARE,
                      shot=SHOTS / f"{name}_playing.png" if MID_SHOTS else None)
        start = [f["name"] for f in page.evaluate(
            "(i) => document.querySelectorAll('.js-plotly-plot')[i]._transitionData._frames", found["index"])
        ].index(result["start_frame"])
        assert 0 < start < frames - 1, f"the slider did not move (at frame {start} of {frames})"
        check_playback(result, frames - 1 - start, name)
        assert_healthy(page, problems)
        check_dark(page, path, language)
        assert_healthy(page, problems)
        passed = True
    finally:
        if language == "en":
            page.close()
        elif not passed:  # the next page starts from a fresh link, not from wherever this one stopped
            page.close()
            reader["page"] = None


def check_dark(page, path: str, language: str) -> None:
    """Every page once in the dark theme, the languages taking turns page by page: the reader's system turns
    dark, the page reruns (R) with figures drawn for it; page and figures dark, a screenshot, no overlaps."""
    if language != ("en", "zh")[list(PAGES).index(path) % 2]:
        return
    switch_scheme(page, "dark")
    app, paper = page.evaluate(f"() => [getComputedStyle(document.querySelector('[data-testid=\"stApp\"]'))"
                               f".backgroundColor, ({PAPER_JS})()]")
    assert brightness(app) < 80 and brightness(paper) < 80, (path, app, paper)
    overlaps = shoot(page, f"dark_{path or 'home'}_{language}")
    assert not overlaps, overlaps
    page.emulate_media(color_scheme="light")  # the reader's tab goes on to the next page in the light theme
