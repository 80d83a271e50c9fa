"""Figures drawn by plotly.js itself in headless Chromium: what a figure's layout does once it is on screen.

No app server: each figure goes straight into ``Plotly.newPlot`` (plotly.py's
bundled plotly.js, the major version Streamlit ships), with the toolbar
settings ``controls.chart`` gives every chart.
"""
import json

import numpy as np
import pytest
from browser_support import new_tab, plotly_js

import figures
import surfaces
from controls.chrome import CHART_CONFIG

# Six optimizers with their settings, as a race shows them: rows of two to five names that reach the top right.
LONG_NAMES = ["SGD (η = 0.05)", "Momentum (λ = 0.9)", "Nesterov (λ = 0.9)", "Adagrad (lecture form)",
              "RMSProp (α = 0.9)", "Adam (bias-corrected)"]

DRAW_JS = """async ([figure, width, config]) => {
  const div = document.createElement('div');
  div.style.width = width + 'px';
  document.body.appendChild(div);
  await Plotly.newPlot(div, figure.data, figure.layout, config);
  const box = el => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const out = {toolbar: box(div.querySelector('.modebar')), entries: [...div.querySelectorAll('.legend .traces')].map(box),
               plot: box(div.querySelector('.nsewdrag'))};
  Plotly.purge(div);
  div.remove();
  return out;
}"""


@pytest.fixture(scope="module")
def tab(browser):
    page = new_tab(browser)
    page.set_content("<html><body style='margin:0'></body></html>")
    page.add_script_tag(path=plotly_js())
    yield page
    page.close()


def draw(tab, fig, width: int) -> dict:
    """``fig`` drawn ``width`` px wide (as Streamlit sizes a chart to its column) with every chart's config:
    the boxes of the toolbar, of each legend entry and of the plot area, [left, top, right, bottom]."""
    figure = json.loads(fig.to_json())
    figure["layout"]["width"] = width
    return tab.evaluate(DRAW_JS, [figure, width, CHART_CONFIG])


def _map(names):
    grid = surfaces.grid("himmelblau", 40)
    steps = np.linspace(0.0, 1.0, 31)
    sets = [figures.PathSet(name, np.stack([np.stack([-4 + 3 * steps + k, 4 - 3 * steps], axis=-1)]),
                            np.zeros((1, 31))) for k, name in enumerate(names)]
    return figures.contour_figure(grid, sets, height=600)


@pytest.mark.parametrize("width", [520, 900])
def test_the_toolbar_never_covers_a_maps_legend(tab, width):
    """A race's legend of six names above the map wraps into rows; none of them is in the band of the toolbar
    (shown at the top right while the mouse is on the chart, where it covered a full first row's end), and none
    lies on the map."""
    drawn = draw(tab, _map(LONG_NAMES), width)
    entries = drawn["entries"]
    assert len(entries) >= len(LONG_NAMES)
    rows = {round(e[1]) for e in entries}
    assert len(rows) >= 2, f"the names did not wrap at {width} px: the test would not see a full first row"
    for entry in entries:
        # Under the toolbar's band, not only clear of the toolbar: a row can reach the top right at other widths
        # (the first row ends where its names do), and the toolbar grows with a chart's buttons.
        assert entry[1] >= drawn["toolbar"][3], f"a legend entry {entry} is in the toolbar's band {drawn['toolbar']}"
        assert entry[3] <= drawn["plot"][1] + 1, f"a legend entry {entry} lies on the plot area {drawn['plot']}"


def test_a_map_without_a_legend_keeps_the_toolbars_band_free(tab):
    """No legend (no paths): the map itself starts under the band where the toolbar appears on hover."""
    drawn = draw(tab, figures.contour_figure(surfaces.grid("himmelblau", 40), [], height=600), 700)
    assert not drawn["entries"]
    assert drawn["plot"][1] >= drawn["toolbar"][3], f"the toolbar {drawn['toolbar']} is over the map {drawn['plot']}"
