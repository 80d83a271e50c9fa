"""A step chart follows the animated map beside it: every page's pairs (AppTest), and in headless Chromium,
Playground's loss chart.

Play is pressed on the map; while the frames play, the loss chart's cursor (its shape named "step cursor") is
sampled: it advances with the map, at the step of the frame the map shows (its frame name, and its slider's
step). Then the slider is moved back, by a click on its rail and by the map's own animation call (what the slider
does), and the cursor goes back with it: drawn there, not only set in the layout.
"""
from __future__ import annotations

import json
import re

import pytest
from browser_support import assert_healthy, open_page
from conftest import ok, page

from controls.chrome import FOLLOW_CLASS, FOLLOW_STEP_JS
from figures.curves import STEP_CURSOR

# page -> (its animated map's key, the keys of the step charts that follow it)
FOLLOWING = {
    "playground": ("contour", ("loss", "grad_norm", "lr")),
    "momentum": ("m_contour", ("m_loss",)),
    "critical_points": ("cp_escape", ("cp_escape_loss",)),
    "adaptive_lr": ("a_stuck_map", ("a_stuck_loss", "a_stuck_grad")),
    "schedules": ("s_bursts_map", ("s_step_length", "s_sigma_y")),
    "classification": ("c_map_softmax_mse", ("c_race_softmax_mse",)),
}


def keyed_charts(at) -> dict:
    """key -> the chart's spec, for every keyed chart of the page (an element's id ends with its key)."""
    return {el.proto.id.rsplit("-", 1)[-1]: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


@pytest.mark.parametrize("name", FOLLOWING)
def test_each_step_chart_opens_with_its_cursor_where_its_map_opens_and_names_its_map(name):
    """Each follower has one cursor, at the step of the frame its map opens on, and a marker (for the browser's
    script, which knows the cursor by the same name) that pairs it with that map."""
    at = ok(page(name))
    specs = keyed_charts(at)
    map_key, followers = FOLLOWING[name]
    slider = specs[map_key]["layout"]["sliders"][0]
    opens_at = float(slider["steps"][slider["active"]]["label"])
    marks = {(m.group(1), m.group(2)) for el in at.get("html")
             for m in re.finditer(f'class="{FOLLOW_CLASS}" data-follower="([^"]+)" data-map="([^"]+)"', el.proto.body)}
    for key in followers:
        (cursor,) = [s for s in specs[key]["layout"].get("shapes", []) if s.get("name") == STEP_CURSOR]
        assert cursor["x0"] == cursor["x1"] == opens_at, (key, cursor, opens_at)
        assert (key, map_key) in marks, marks
    assert repr(STEP_CURSOR)[1:-1] in FOLLOW_STEP_JS



# The map (key "contour") and its followers' cursors: the step the map shows (its slider's active step and the
# frame plotly.js last drew) and, per follower key, its cursor's x in the layout and where it is drawn (in the
# chart's pixels, against where the x axis puts that step), or null where a chart or its cursor is missing.
STATE_JS = """([followers, name]) => {
  const plot = key => { const box = document.querySelector('.st-key-' + key); return box && box.querySelector('.js-plotly-plot'); };
  const map = plot('contour');
  if (!map || !map.layout || !map.layout.sliders) return null;
  const slider = map.layout.sliders[0];
  const out = {slider: Number(slider.steps[slider.active].label), frame: map._fullLayout._currentFrame || null,
               cursors: {}};
  for (const key of followers) {
    const gd = plot(key);
    const shapes = (gd && gd.layout.shapes) || [];
    const i = shapes.findIndex(s => s.name === name);
    if (i === -1) { out.cursors[key] = null; continue; }
    const path = gd.querySelector(`.shapelayer path[data-index="${i}"]`);
    const ax = gd._fullLayout.xaxis;
    out.cursors[key] = {x: shapes[i].x0, drawnAt: path ? path.getBoundingClientRect().left + 0.5 * path.getBoundingClientRect().width - gd.getBoundingClientRect().left : null,
                        wanted: ax._offset + ax.l2p(shapes[i].x0)};
  }
  return out;
}"""

# Samples [the map's frame, its slider's step, the loss cursor's x] every 100 ms from the first frame of the
# next animation on to its end, into window.__follow.
SAMPLER_JS = """([name]) => {
  const plot = key => document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  const map = plot('contour');
  const state = window.__follow = {samples: []};
  const sample = () => {
    const loss = plot('loss'), slider = map.layout.sliders[0];
    const shape = (loss.layout.shapes || []).find(s => s.name === name);
    state.samples.push([Number(map._fullLayout._currentFrame), Number(slider.steps[slider.active].label),
                        shape ? shape.x0 : null]);
  };
  map.on('plotly_animatingframe', () => { if (!state.timer) state.timer = setInterval(sample, 100); });
  map.on('plotly_animated', () => { clearInterval(state.timer); state.done = true; });
}"""

FOLLOWERS = ["loss", "grad_norm", "lr"]


@pytest.mark.browser
def test_the_loss_cursor_follows_the_map_while_it_plays_and_back(server, browser):
    # 40 steps: 41 frames, a short playback (the whole of it is sampled: a Pause in the middle has plotly.js reject
    # the interrupted Play's promise, which nothing catches, and the page would report that error).
    page, problems = open_page(browser, f"{server}/playground?steps=40")
    try:
        state = lambda: page.evaluate(STATE_JS, [FOLLOWERS, STEP_CURSOR])  # noqa: E731
        opened = state()
        assert opened is not None, "no animated map"
        # Where the map opens (its last frame), every step chart's cursor stands, drawn there.
        for key in FOLLOWERS:
            cursor = opened["cursors"][key]
            assert cursor is not None, f"{key}: no step cursor"
            assert cursor["x"] == opened["slider"], (key, cursor, opened["slider"])
            assert cursor["drawnAt"] == pytest.approx(cursor["wanted"], abs=2), (key, cursor)

        map_chart = page.locator(".st-key-contour .js-plotly-plot")
        page.evaluate(SAMPLER_JS, [STEP_CURSOR])
        map_chart.locator(".updatemenu-button").filter(has_text="Play").first.click()
        page.wait_for_function("() => window.__follow.done", polling=100, timeout=60_000)
        samples = page.evaluate("() => window.__follow.samples")
        playing = [s for s in samples if s[0] == s[0]]  # NaN: no frame drawn yet
        assert all(frame == slider == cursor for frame, slider, cursor in playing), samples
        steps = [cursor for _, _, cursor in playing]
        assert steps == sorted(steps) and len(set(steps)) >= 4, samples  # it advanced, never back
        page.wait_for_timeout(300)
        played = state()
        assert played["cursors"]["loss"]["x"] == played["slider"] == opened["slider"], played

        # Back, as a reader does it: a click on the slider's rail a fifth of the way along.
        rail = map_chart.locator(".slider-rail-touch-rect").first
        box = rail.bounding_box()
        rail.click(position={"x": 0.2 * box["width"], "y": 0.5 * box["height"]})  # scrolled into view first
        page.wait_for_function(f"([f, n]) => {{ const s = ({STATE_JS})([f, n]); return s.slider < {played['slider']}"
                               " && s.cursors.loss.x === s.slider; }", arg=[FOLLOWERS, STEP_CURSOR],
                               polling=100, timeout=10_000)
        # And as the slider does it: the map animates to an earlier frame.
        back = page.evaluate("""() => {
          const map = document.querySelector('.st-key-contour .js-plotly-plot');
          const steps = map.layout.sliders[0].steps, name = steps[Math.floor(steps.length / 10)].label;
          window.Plotly.animate(map, [name], {mode: 'immediate', frame: {duration: 0, redraw: true},
                                              transition: {duration: 0}});
          return Number(name);
        }""")
        page.wait_for_timeout(400)
        after = state()
        assert after["slider"] == back, after
        for key in FOLLOWERS:
            cursor = after["cursors"][key]
            assert cursor["x"] == back, (key, after)
            assert cursor["drawnAt"] == pytest.approx(cursor["wanted"], abs=2), (key, cursor)
        assert_healthy(page, problems)
    finally:
        page.close()
