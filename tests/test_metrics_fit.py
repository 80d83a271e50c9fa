"""Metric boxes in headless Chromium: no label or value of an ``st.metric`` is cut off ("1.00…", "cross-entropy −l…").

Streamlit draws a metric's label and value on one line each and ends what does not fit with an ellipsis, so a
number cut that way reads as a different number. A metric fits when no element inside it is wider than its own
box (scrollWidth ≤ clientWidth). Checked on the pages where it went wrong, at the 1280 and 1400 px widths of a
lecture-hall laptop or projector, in English and in Chinese, with and without presentation mode (``?present=1``:
no sidebar, larger figures). Screenshots go to shots/metrics_*.png.
"""
from __future__ import annotations

import pytest
from browser_support import SHOTS, assert_healthy, open_page

import app_pages

pytestmark = pytest.mark.browser
WIDTHS = (1280, 1400)
HEIGHT = 900

# Every metric in the page's main column whose label or value (or anything inside them) is wider than its box.
CUT_METRICS_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')]
  .flatMap(m => [m, ...m.querySelectorAll('*')]
    .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
    .map(e => `"${m.textContent.trim().slice(0, 50)}": ${e.getAttribute('data-testid') || e.tagName} `
              + `${e.scrollWidth} px in ${e.clientWidth} px`))"""
COUNT_JS = """() => document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]').length"""


def cut_metrics(browser, url: str, name: str) -> tuple[int, dict[int, list[str]]]:
    """(how many metrics the page at ``url`` shows, {width: the metrics cut off at that width})."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
    try:
        page, errors = open_page(context, url)
        assert_healthy(page, errors)
        count, found = page.evaluate(COUNT_JS), {}
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.wait_for_timeout(700)  # Streamlit's columns and plotly.js settle at the new width
            page.locator('[data-testid="stMetric"]').first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / f"metrics_{name}_{width}.png"))
            found[width] = page.evaluate(CUT_METRICS_JS)
        return count, found
    finally:
        context.close()


@pytest.mark.parametrize("present", [False, True], ids=["normal", "present"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_classification_metrics_show_their_whole_label_and_value(server, browser, language, present):
    query = "&".join(q for q in ("lang=zh" if language == "zh" else "", "present=1" if present else "") if q)
    count, found = cut_metrics(browser, f"{server}/{app_pages.page('classification').slug}?{query}",
                               f"classification_{language}_{'present' if present else 'normal'}")
    assert count >= 3  # the softmax readout: Σ y′, MSE, cross-entropy
    assert not any(found.values()), {w: cut for w, cut in found.items() if cut}
