"""Presentation mode for three pages, light then dark: screenshots to look at (``shots/``, git-ignored) and the
overlaps a screenshot shows, checked in the browser (``browser_support.OVERLAPS_JS``).

test_browser.py saves every page in the light theme in both languages, and then in the dark theme in one of
them (the languages taking turns), with the same check on each.
Run: ``pytest tests/test_screenshots.py`` (about 40 s on a quiet machine).
"""
from __future__ import annotations

import pytest
from browser_support import PAPER_JS, brightness, opened, shoot, switch_to_dark

pytestmark = pytest.mark.browser
PRESENTED = ("critical_points", "momentum", "schedules")


def test_three_pages_in_presentation_mode_light_then_dark(server, browser):
    """Each page opened once in the light theme, then switched to the dark one (as test_browser.py switches
    every page): both screenshots, and no overlaps in either."""
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
