"""The projector (presentation mode, ``?present=1``) in headless Chromium, at 1280 × 720 and 1920 × 1080.

Every page: on its first screen the first figure is wholly in view (its plot area, legend, Play / Continue / Pause
buttons and step slider), no two texts or controls of a figure overlap (the screenshot test's ``OVERLAPS_JS``, plus
the animation buttons against the axis titles and legend), and no caption in the page's flow is longer than a line
(longer ones fold). Both sizes from one page load (the window is resized): the figure is taller on the larger
screen. Every page in English and in Chinese. An animated page's first map is larger on the projector than in
normal mode. Every lecture section, at both sizes: a link with ``section=<anchor>`` opens its page scrolled so that
the section's first figure is wholly in view, and so does the link on Home. Screenshots go to
shots/projector_*.png, for a look.
"""
from __future__ import annotations

import urllib.parse

import pytest
from browser_support import OVERLAPS_JS, PAGES, READY_JS, SHOTS, assert_healthy, open_page

import app_pages

pytestmark = pytest.mark.browser
SIZES = ((1280, 720), (1920, 1080))
SLUGS = {record.name: record.slug for record in app_pages.PAGES}

# The boxes (viewport px) of a figure's parts a lecture hall must see; the figure is the first one after the element
# with id ``anchor`` (or the page's first when null). Parts: the plot area (the 2-D drag layer, or the whole chart
# for a 3-D scene or a chart without axes), the legend, each animation button and the step slider, the axis titles.
FIGURE_JS = """(anchor) => {
  const start = anchor ? document.getElementById(anchor) : null;
  const all = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')];
  const gd = start ? all.find(g => start.compareDocumentPosition(g) & Node.DOCUMENT_POSITION_FOLLOWING) : all[0];
  if (!gd) return null;
  const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const parts = [];
  const drag = gd.querySelector('.nsewdrag');
  parts.push(['plot area', box(drag || gd)]);
  gd.querySelectorAll('.legend').forEach(e => parts.push(['legend', box(e)]));
  gd.querySelectorAll('.updatemenu-button').forEach(e => parts.push(['button ' + e.textContent.trim(), box(e)]));
  gd.querySelectorAll('.slider-container').forEach(e => parts.push(['slider', box(e)]));
  gd.querySelectorAll('.g-xtitle, .g-ytitle').forEach(e => parts.push(['axis title', box(e)]));
  return {index: all.indexOf(gd), parts: parts.filter(([, b]) => b.r > b.l && b.b > b.t),
          view: {w: window.innerWidth, h: window.innerHeight}};
}"""

# Captions in the page's flow (not folded in an expander or a popover) taller than one line.
LONG_CAPTIONS_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stCaptionContainer"]')]
  .filter(c => !c.closest('[data-testid="stExpander"], [data-testid="stPopoverBody"]'))
  .filter(c => { const r = c.getBoundingClientRect(); const line = parseFloat(getComputedStyle(c).lineHeight) || 24;
                 return r.height > 1.6 * line; })
  .map(c => c.textContent.slice(0, 60))"""


def outside(figure: dict) -> list[str]:
    """The parts of ``figure`` (FIGURE_JS) not wholly inside the viewport (1 px of rounding allowed)."""
    w, h = figure["view"]["w"], figure["view"]["h"]
    return [f"{name} {tuple(round(v) for v in b.values())} outside {w}x{h}" for name, b in figure["parts"]
            if b["l"] < -1 or b["t"] < -1 or b["r"] > w + 1 or b["b"] > h + 1]


def covered(figure: dict) -> list[str]:
    """Animation buttons or the slider drawn over an axis title or the legend (more than 2 px each way)."""
    controls = [p for p in figure["parts"] if p[0].startswith(("button", "slider"))]
    texts = [p for p in figure["parts"] if p[0] in ("axis title", "legend")]
    hit = lambda a, b: min(a["r"], b["r"]) - max(a["l"], b["l"]) > 2 and min(a["b"], b["b"]) - max(a["t"], b["t"]) > 2  # noqa: E731
    return [f"{c[0]} on {t[0]}" for c in controls for t in texts if hit(c[1], t[1])]


def check_screen(page, name: str, anchor: str | None = None) -> list[str]:
    """Everything wrong with the figure in view (and the page's captions and overlaps); a screenshot of the screen."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    problems = [f"overlap: {o}" for o in page.evaluate(OVERLAPS_JS)]
    problems += [f"long caption: {c}" for c in page.evaluate(LONG_CAPTIONS_JS)]
    figure = page.evaluate(FIGURE_JS, anchor)
    if figure is None:
        return problems
    return problems + [f"figure {figure['index']}: {p}" for p in outside(figure) + covered(figure)]


def resize(page, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(700)  # Streamlit and plotly.js redraw for the new width


def _profile(browser, size: tuple[int, int]):
    """A browser profile at a projector's ``size`` (its cache keeps the JavaScript from page to page)."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    yield context
    context.close()


@pytest.fixture(scope="module")
def projector(browser):
    """One browser profile at the projector's first size."""
    yield from _profile(browser, SIZES[0])


@pytest.fixture(scope="module")
def large_projector(browser):
    """One browser profile at the projector's second size."""
    yield from _profile(browser, SIZES[1])


def plot_area(page) -> tuple[float, float]:
    """(width, height) in px of the first figure's plot area on ``page``."""
    figure = page.evaluate(FIGURE_JS, None)
    assert figure is not None, "no figure on the page"
    box = dict(figure["parts"])["plot area"]
    return box["r"] - box["l"], box["b"] - box["t"]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("path", list(PAGES))
def test_the_first_screen_shows_the_whole_figure(server, projector, path, language):
    query = "present=1" + ("&lang=zh" if language == "zh" else "")
    page, errors = open_page(projector, f"{server}/{path}?{query}")
    try:
        assert_healthy(page, errors)
        found, areas = {}, []
        for width, height in SIZES:
            resize(page, width, height)
            found[f"{width}x{height}"] = check_screen(page, f"projector_{path or 'home'}_{language}_{width}")
            if page.evaluate(FIGURE_JS, None) is not None:
                areas.append(plot_area(page))
        assert not any(found.values()), {k: v for k, v in found.items() if v}
        if areas:  # the figure grows with the screen (controls/projector.js): taller on the larger projector
            assert areas[1][1] > 1.2 * areas[0][1], areas
    finally:
        page.close()


ANIMATED = [record.slug for record in app_pages.PAGES if record.animates]


@pytest.mark.parametrize("path", ANIMATED)
def test_an_animated_map_is_larger_on_the_projector_than_in_normal_mode(server, projector, path):
    """At 1280 x 720 the first map's plot area (width times height), in presentation mode and in normal mode (one
    page load each)."""
    sizes = {}
    for mode, query in (("normal", ""), ("projector", "?present=1")):
        page, errors = open_page(projector, f"{server}/{path}{query}")
        try:
            assert_healthy(page, errors)
            sizes[mode] = plot_area(page)
        finally:
            page.close()
    area = {mode: w * h for mode, (w, h) in sizes.items()}
    assert area["projector"] > area["normal"], sizes


@pytest.mark.parametrize("size", ["1280x720", "1920x1080"])
@pytest.mark.parametrize("section", app_pages.SECTIONS, ids=lambda s: s.anchor)
def test_a_section_link_lands_on_its_figure(server, projector, large_projector, section, size):
    slug = SLUGS[section.page]
    query = urllib.parse.urlencode({"present": "1", **app_pages.link_query(section)})
    page, errors = open_page(projector if size == "1280x720" else large_projector, f"{server}/{slug}?{query}")
    try:
        assert_healthy(page, errors)
        page.wait_for_function("(a) => document.documentElement.dataset.labSection === 'done:' + a",
                               arg=section.anchor, polling=200, timeout=60_000)
        problems = check_screen(page, f"projector_section_{section.anchor}_{size}", section.anchor)
        assert page.evaluate(FIGURE_JS, section.anchor) is not None, "no figure after the section's anchor"
        assert not problems, problems
    finally:
        page.close()


def test_home_links_land_on_the_section(server, projector):
    """From Home, a section's link moves to its page (in the same tab) and scrolls to the section's figure."""
    section = app_pages.section("lecture-1-3")
    page, errors = open_page(projector, f"{server}/?present=1")
    try:
        link = page.locator(f'[data-testid="stMain"] a[href*="section={section.anchor}"]').first
        link.click()
        page.wait_for_function("(a) => location.search.includes('section=' + a)", arg=section.anchor, timeout=60_000)
        page.evaluate("() => { window.__ready = undefined; }")
        page.wait_for_function(READY_JS, polling=250, timeout=180_000)
        page.wait_for_function("(a) => document.documentElement.dataset.labSection === 'done:' + a",
                               arg=section.anchor, polling=200, timeout=60_000)
        problems = check_screen(page, "projector_from_home", section.anchor)
        assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop") > 200
        assert not problems, problems
        assert_healthy(page, errors)
    finally:
        page.close()
