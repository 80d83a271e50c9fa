"""Real-browser tests of what a reader does on a page, in headless Chromium (Playwright), against the app's server:
a projector link in both themes, clicks on the Playground map while it plays, a hand-turned 3-D view that stays
turned, a section slider that reruns its section only.

Fails on a Streamlit exception, an uncaught JS error, a console error (the tabs ``open_page`` opens), text drawn
over other text, a click that does not move the start, a view that snaps back, or elements sent for more than the
section. Each test opens a fresh browser profile. tests/test_browser.py loads and plays every page; the two files run
on different workers. Needs what test_browser.py needs.
"""
from __future__ import annotations

import pytest
from browser_support import (FIRST_MAP_JS, PAPER_JS, READY_JS, SHOTS, VIEWPORT, assert_healthy, brightness,
                             check_playback, open_page, play, shoot, switch_scheme)

pytestmark = pytest.mark.browser


# Projector links (present=1), each page in both themes. Momentum's link is Chinese and opens in a system that is
# dark from the first request (the server draws the first figures for it), then turns light; the others open in
# the light theme and turn dark, as test_page_loads_draws_and_animates turns every page.
PRESENTED = {"critical_points": ("light", "dark"), "momentum": ("dark", "light"), "schedules": ("light", "dark")}
EXPLANATION = {"en": "Explanation", "zh": "说明"}  # the label of the folded explanations


def test_presentation_mode_in_both_themes(server, browser):
    """A projector link: sidebar closed, explanations folded, larger figures; in the light and the dark theme the
    page and its figures follow it, with a screenshot of each (shots/present_*) and no text drawn over other text."""
    overlaps = {}
    for path, schemes in PRESENTED.items():
        language = "zh" if path == "momentum" else "en"
        context = browser.new_context(viewport=VIEWPORT, color_scheme=schemes[0])
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        try:
            page.goto(f"{server}/{path}?present=1" + ("&lang=zh" if language == "zh" else ""),
                      wait_until="domcontentloaded")
            page.wait_for_function(READY_JS, polling=250, timeout=180_000)
            assert_healthy(page, problems)
            assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
            assert page.locator('[data-testid="stExpander"]').filter(has_text=EXPLANATION[language]).count() >= 1
            for scheme in schemes:
                if scheme != schemes[0]:
                    switch_scheme(page, scheme)
                looks = page.evaluate(f"""() => {{
                  const gd = document.querySelector('.js-plotly-plot');
                  return {{font: gd._fullLayout.font.size, color: gd._fullLayout.font.color, paper: ({PAPER_JS})(),
                          app: getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor}};
                }}""")
                assert looks["font"] >= 18, looks  # 1.5 × the normal size
                if scheme == "dark":  # light text on a dark page and dark figures
                    assert brightness(looks["app"]) < 80 and brightness(looks["paper"]) < 80, (path, looks)
                    assert brightness(looks["color"]) > 150, (path, looks)
                else:
                    assert brightness(looks["app"]) > 175 and brightness(looks["paper"]) > 175, (path, looks)
                    assert brightness(looks["color"]) < 150, (path, looks)  # darker text than the dark theme's
                overlaps[f"{path} ({scheme})"] = shoot(page, f"present_{path}_{scheme}")
            assert_healthy(page, problems)
        finally:
            context.close()
    assert not any(overlaps.values()), {k: v for k, v in overlaps.items() if v}


def test_playground_click_moves_the_start_during_and_after_playback(server, browser):
    """Play, click the map while it plays, then again after a whole playback: the start moves, nothing throws.

    plotly.js used to throw "Cannot read properties of undefined (reading 'selectAll')" here: a frame that
    redraws only the paths leaves the other traces without the SVG node a click's selection restyles.
    """
    page, problems = open_page(browser, f"{server}/playground?steps=120")
    try:
        x_input = page.locator('[data-testid="stSidebar"]').get_by_role("spinbutton", name="start 1: x")
        chart = page.locator(".js-plotly-plot").first
        for k, (fx, fy) in enumerate([(0.8, 0.25), (0.3, 0.7)]):
            before = x_input.input_value()
            if k == 0:  # during: click while the frames advance
                chart.locator(".updatemenu-button").filter(has_text="Play").first.click()
                page.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout._currentFrame",
                                       polling=50, timeout=30_000)
            else:  # after: a whole playback, sampled like the page tests
                # Not timed here (the page tests time playback): this checks the click, and stays short.
                check_playback(play(page, 0, "Play"), page.evaluate(FIRST_MAP_JS)["frames"], "playground", timed=False)
            box = chart.locator(".nsewdrag").first.bounding_box()
            page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            page.wait_for_function(
                "(v) => { const e = [...document.querySelectorAll('input')].find(i => i.getAttribute('aria-label') === 'start 1: x');"
                " return e && e.value !== v; }", arg=before, polling=250, timeout=60_000)
            page.wait_for_function(READY_JS, polling=250, timeout=120_000)
            # Himmelblau's map spans x in [-5, 5]: the click's lattice point is within one lattice step.
            assert float(x_input.input_value()) == pytest.approx(-5 + fx * 10, abs=0.3)
            assert_healthy(page, problems)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "playground_after_clicks.png"))
    finally:
        page.close()


CAMERA_JS = """(i) => {
  // The camera the redrawn frames use (full layout) and the one the GL scene shows, every 100 ms while it plays.
  const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const eye = () => { const e = gd._fullLayout.scene._scene.getCamera().eye, f = gd._fullLayout.scene.camera.eye;
                      return [e.x, e.y, e.z, f.x, f.y, f.z]; };
  const state = window.__camera = {samples: [], frames: 0, done: false};
  gd.on('plotly_animatingframe', () => { state.frames++; });
  state.timer = setInterval(() => state.samples.push(eye()), 100);
  gd.on('plotly_animated', () => { clearInterval(state.timer); state.samples.push(eye()); state.done = true; });
  return eye();
}"""


# True once the scene's camera has not moved since the previous poll (300 ms earlier).
STILL_CAMERA_JS = """(i) => {
  const e = document.querySelectorAll('.js-plotly-plot')[i]._fullLayout.scene._scene.getCamera().eye;
  const now = JSON.stringify([e.x, e.y, e.z]), still = window.__lastEye === now;
  window.__lastEye = now;
  return still;
}"""


# The camera a scene saved at the end of a drag, made stale: the view before the drag, in both layouts.
STALE_CAMERA_JS = """([i, camera]) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[i];
  gd.layout.scene.camera = JSON.parse(JSON.stringify(camera));
  gd._fullLayout.scene.camera = JSON.parse(JSON.stringify(camera));
}"""


def test_a_turned_3d_view_stays_turned_while_it_plays(server, browser):
    """Turn the Classification loss page's 3-D view by hand, press Play: every frame keeps the turned camera.

    plotly.js saves a turned camera into the layout object a 3-D scene saw when it was built; Streamlit gives
    the chart a new one after that, and the frames (3-D frames redraw the scene) snapped the view back to the
    figure's camera. ``controls/keep_camera.js`` saves the camera into the chart's current layout as well, and
    again, the view on screen, when an animation starts.
    """
    page, problems = open_page(browser, f"{server}/classification_loss")
    try:
        page.get_by_text("3-D", exact=True).first.click()
        page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(g => g._fullLayout.scene)",
                               polling=250, timeout=60_000)
        page.wait_for_function(READY_JS, polling=250, timeout=120_000)
        index = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].findIndex(g => g._fullLayout.scene)")
        chart = page.locator(".js-plotly-plot").nth(index)
        chart.scroll_into_view_if_needed()
        camera = page.evaluate("(i) => JSON.parse(JSON.stringify("
                               "document.querySelectorAll('.js-plotly-plot')[i]._fullLayout.scene.camera))", index)
        initial = camera["eye"]
        box = chart.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2.5
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 150, y + 20, steps=20)  # a drag across the scene turns it
        page.mouse.up()
        # The drag's last moves may still be queued on a busy machine: wait until the view stands still.
        page.wait_for_function(STILL_CAMERA_JS, arg=index, polling=300, timeout=60_000)
        before = page.evaluate(CAMERA_JS, index)
        turned = before[:3]
        assert abs(turned[0] - initial["x"]) + abs(turned[1] - initial["y"]) > 0.3, "the drag did not turn the view"
        # What a busy machine does: the camera saved when the mouse was let go is one the view had not yet turned
        # to (the drag's last moves drawn after it; a clean clone's run played back to such a mid-drag camera).
        # Play must keep the view on screen, not the saved one.
        page.evaluate(STALE_CAMERA_JS, [index, camera])
        chart.locator(".updatemenu-button").filter(has_text="Play").first.click()
        page.wait_for_function("() => window.__camera.done", polling=100, timeout=120_000)
        state = page.evaluate("() => window.__camera")
        assert state["frames"] >= 5, f"only {state['frames']} frames played"
        for sample in state["samples"]:
            assert sample == pytest.approx(turned * 2, abs=1e-6), f"the view snapped back: eye {sample[:3]}, turned {turned}"
        assert_healthy(page, problems)
    finally:
        page.close()


def test_a_section_slider_reruns_only_its_section(server, browser):
    """Critical points' Taylor-window slider reruns its own section (an ``st.fragment``), not the whole page.

    Read from what the server sends the browser over the websocket: the runs it starts are fragment runs
    (the last ends FINISHED_FRAGMENT_RUN_SUCCESSFULLY), every element it sends belongs to the section (at most
    its two charts per run, none of the page's other six), and the Taylor caption shows the new window.
    """
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    received: list[ForwardMsg] = []

    def on_websocket(ws):
        def on_frame(payload):
            if isinstance(payload, (bytes, bytearray)):
                msg = ForwardMsg()
                msg.ParseFromString(bytes(payload))
                received.append(msg)
        ws.on("framereceived", on_frame)

    page, problems = open_page(browser, f"{server}/critical_points", on_open=lambda p: p.on("websocket", on_websocket))
    try:
        full = [m for m in received if m.WhichOneof("type") == "delta"
                and m.delta.new_element.WhichOneof("type") == "plotly_chart"]
        assert len(full) >= 6, f"the whole page sent {len(full)} charts"
        caption = page.get_by_text("Largest gap |L − Q|", exact=False).first
        before = caption.inner_text()
        received.clear()
        thumb = page.get_by_role("slider", name="Taylor window half-width")
        thumb.scroll_into_view_if_needed()
        thumb.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("(t) => ![...document.querySelectorAll('p')].some(p => p.innerText === t)", arg=before,
                               polling=250, timeout=60_000)
        page.wait_for_function(READY_JS, polling=250, timeout=120_000)
        finished = [m.script_finished for m in received if m.WhichOneof("type") == "script_finished"]
        charts = [m for m in received if m.WhichOneof("type") == "delta"
                  and m.delta.new_element.WhichOneof("type") == "plotly_chart"]
        # Five key presses: a run still going when the next press arrives ends early (FINISHED_EARLY_FOR_RERUN).
        assert finished and finished[-1] == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, finished
        assert set(finished) <= {ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, ForwardMsg.FINISHED_EARLY_FOR_RERUN}
        assert 1 <= len(charts) <= 2 * len(finished), f"{len(charts)} charts sent for {len(finished)} section runs"
        deltas = [m for m in received if m.WhichOneof("type") == "delta"]
        assert deltas and all(m.delta.fragment_id for m in deltas), "an element outside the section was sent again"
        assert caption.inner_text() != before
        assert_healthy(page, problems)
    finally:
        page.close()
