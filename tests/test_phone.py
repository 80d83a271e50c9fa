"""A student's phone (390 × 844, touch, scale factor 2) in headless Chromium: every page, checked as it is used.

Every page in English and in Chinese. A one-finger swipe that starts on a chart scrolls the page (by at least
half the swipe): the touches are real ones, sent through Chromium's input pipeline (CDP
``Input.dispatchTouchEvent``), so a chart that takes them (plotly.js's drag handlers, a 3-D scene's camera)
stops the page and fails the test. The page is no wider than the screen, no chart title runs past its chart or
lies under a toolbar, a tap on a map still reaches the chart, and a tap on Play plays the animation.
"""
from __future__ import annotations

import pytest
from browser_support import PAGES, READY_JS, SHOTS, assert_healthy, open_page

import app_pages

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# Streamlit scrolls its main column, not the window.
SCROLLER = "(document.querySelector('[data-testid=\"stMain\"]') || document.scrollingElement)"
SWIPE_PX = 300  # the finger's travel, upwards
MIN_SCROLL_SHARE = 0.5  # the page must follow at least half of it


@pytest.fixture(scope="module")
def phone(browser):
    """One phone profile (its cache keeps the JavaScript from page to page, as a phone's browser does)."""
    context = browser.new_context(**PHONE)
    yield context
    context.close()


def shoot_whole(page, name: str) -> None:
    """shots/<name>.png of the whole page, for a look: Streamlit scrolls its main column, not the window, so a
    full-page shot holds one screen; the screen is made as tall as the page for it (last, after the checks)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(f"() => {SCROLLER}.scrollHeight")
    page.set_viewport_size({"width": PHONE["viewport"]["width"], "height": min(int(height), 16_000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def swipe_up(page, x: float, y: float, distance: float = SWIPE_PX) -> float:
    """A one-finger swipe from (x, y) upwards by ``distance`` CSS px; returns how far the page scrolled."""
    cdp = page.context.new_cdp_session(page)
    before = page.evaluate(f"() => {SCROLLER}.scrollTop")

    def touch(kind: str, at_y: float | None = None):
        points = [] if at_y is None else [{"x": x, "y": at_y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", y)
    steps = 12
    for i in range(1, steps + 1):
        touch("touchMove", y - distance * i / steps)
        page.wait_for_timeout(16)
    touch("touchEnd")
    page.wait_for_timeout(600)  # the scroll (and any fling) settles
    cdp.detach()
    return page.evaluate(f"() => {SCROLLER}.scrollTop") - before


# Where each chart's drawing area is on screen (viewport coordinates), and the boxes of its titles.
CHARTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map((gd, i) => {
  const r = gd.getBoundingClientRect();
  const scene = !!(gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene);
  const area = ((!scene && gd.querySelector('.nsewdrag')) || gd).getBoundingClientRect();
  const titles = [...gd.querySelectorAll('.gtitle, .g-gtitle text, .annotation-text')].map(t => {
    const b = t.getBoundingClientRect(); return {text: (t.textContent || '').slice(0, 40), l: b.left, r: b.right};
  }).filter(t => t.r > t.l);
  const bar = gd.querySelector('.modebar-container');
  return {i, top: r.top, left: r.left, right: r.right, bottom: r.bottom, height: r.height,
          area: {x: (area.left + area.right) / 2, y: (area.top + area.bottom) / 2, h: area.height},
          titles, toolbar: bar ? getComputedStyle(bar).display !== 'none' && bar.getBoundingClientRect().height > 0 : false,
          scene};
})"""


def first_swipeable_chart(page) -> dict:
    """The first chart with a drawing area tall enough to start a swipe on, scrolled so there is room below it."""
    charts = page.evaluate(CHARTS_JS)
    tall = [c for c in charts if c["area"]["h"] >= 150]
    assert tall, f"no chart to swipe on: {charts}"
    chart = tall[0]
    # Put the drawing area's middle at 70 % of the screen's height, so the swipe starts on it and the page can move.
    page.evaluate(f"(y) => {SCROLLER}.scrollBy(0, y)", chart["area"]["y"] - 0.7 * PHONE["viewport"]["height"])
    page.wait_for_timeout(300)
    return page.evaluate(CHARTS_JS)[chart["i"]]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("path", list(PAGES))
def test_a_phone_scrolls_over_charts_and_fits_the_screen(server, phone, path, language):
    page, problems = open_page(phone, f"{server}/{path}" + ("?lang=zh" if language == "zh" else ""))
    try:
        assert_healthy(page, problems)
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] + 1, f"the page is {width[0]} px wide on a {width[1]} px screen"
        if app_pages.page(PAGES[path][:-3]).lecture_example:  # on a phone it is under the title, not in the sidebar
            preset = page.locator('[data-testid="stMain"] [class*="st-key-on_phones_"] button:visible')
            assert preset.count() == 1, "no lecture-example button on the page itself"
        charts = page.evaluate(CHARTS_JS)
        for c in charts:
            assert not c["toolbar"], f"chart {c['i']}: the toolbar is shown over it on a touch screen"
            for t in c["titles"]:
                assert c["left"] - 1 <= t["l"] and t["r"] <= c["right"] + 1, f"chart {c['i']}: title cut: {t}"
        if not charts:
            return
        chart = first_swipeable_chart(page)
        moved = swipe_up(page, chart["area"]["x"], chart["area"]["y"])
        assert moved >= MIN_SCROLL_SHARE * SWIPE_PX, (
            f"a swipe of {SWIPE_PX} px on chart {chart['i']} scrolled the page {moved:.0f} px")
        assert_healthy(page, problems)
        shoot_whole(page, f"phone_{path or 'home'}_{language}")
    finally:
        page.close()


def test_a_swipe_over_a_3d_view_scrolls_and_a_tap_plays(server, phone):
    """The 3-D view (a WebGL scene, whose camera takes every touch) lets the page scroll; Play works by a tap."""
    page, problems = open_page(phone, f"{server}/playground")
    try:
        view = page.locator('[data-testid="stButtonGroup"] button').filter(has_text="3-D").first
        view.scroll_into_view_if_needed()
        box = view.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(gd => gd._fullLayout"
                               " && gd._fullLayout.scene && gd._fullLayout.scene._scene)", polling=250, timeout=120_000)
        page.evaluate("() => { window.__ready = undefined; }")
        page.wait_for_function(READY_JS, polling=250, timeout=120_000)
        charts = page.evaluate(CHARTS_JS)
        scenes = [c for c in charts if c["scene"]]
        assert scenes, "the Playground's 3-D view was not drawn"
        index = scenes[0]["i"]
        chart = first_swipeable_chart(page)
        assert chart["i"] == index, "the 3-D view is not the first chart to swipe on"
        moved = swipe_up(page, chart["area"]["x"], chart["area"]["y"])
        assert moved >= MIN_SCROLL_SHARE * SWIPE_PX, f"a swipe on the 3-D view scrolled the page {moved:.0f} px"
        button = page.locator(".js-plotly-plot").nth(index).locator(".updatemenu-button").first
        button.scroll_into_view_if_needed()
        page.evaluate("(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i]; window.__frames = 0;"
                      " gd.on('plotly_animatingframe', () => { window.__frames++; }); }", index)
        box = button.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("() => window.__frames >= 2", polling=100, timeout=60_000)
        assert_healthy(page, problems)
    finally:
        page.close()


def test_a_tap_on_the_map_moves_the_start(server, phone):
    """One finger is kept for scrolling, but a tap is still a click: on the Playground map it moves start 1."""
    page, problems = open_page(phone, f"{server}/playground")
    try:
        chart = first_swipeable_chart(page)
        x_of_start = ("() => { const e = [...document.querySelectorAll('input')]"
                      ".find(i => i.getAttribute('aria-label') === 'start 1: x'); return e ? e.value : null; }")
        before = page.evaluate(x_of_start)
        assert before is not None, "the start's x field was not found"
        page.touchscreen.tap(chart["area"]["x"] + 20, chart["area"]["y"] + 25)
        page.wait_for_function(f"(b) => ({x_of_start})() !== b", arg=before, polling=200, timeout=60_000)
        page.evaluate("() => { window.__ready = undefined; }")
        page.wait_for_function(READY_JS, polling=250, timeout=120_000)
        assert_healthy(page, problems)
    finally:
        page.close()


def test_the_lecture_example_by_tap_on_a_phone_and_only_there(server, phone, browser):
    """A tap on the page's own lecture-example button applies it (the link changes to the lecture's values); on a
    wide screen that copy is hidden and the sidebar's button is the one."""
    page, problems = open_page(phone, f"{server}/playground?steps=120")
    try:
        before = page.evaluate("() => location.search")
        button = page.locator('[data-testid="stMain"] [class*="st-key-on_phones_"] button:visible').first
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("(b) => location.search !== b", arg=before, polling=200, timeout=60_000)
        page.evaluate("() => { window.__ready = undefined; }")
        page.wait_for_function(READY_JS, polling=250, timeout=120_000)
        assert "steps=120" not in page.evaluate("() => location.search")
        assert_healthy(page, problems)
    finally:
        page.close()
    wide, problems = open_page(browser, f"{server}/playground")
    try:
        assert wide.locator('[class*="st-key-on_phones_"] button:visible').count() == 0
        assert wide.locator('[data-testid="stSidebar"] [class*="st-key-pg_preset"], '
                            '[data-testid="stSidebar"] button:has-text("lecture")').count() >= 1
        assert_healthy(wide, problems)
    finally:
        wide.close()
