(() => {
  // A step chart beside an animated map follows the map's step: its cursor (a layout shape named CURSOR,
  // figures.curves.step_cursor) moves to the step of the frame the map shows, while the animation plays, when the
  // slider is dragged or clicked either way, and after a rerun. The page says which chart follows which map with
  // a marker (controls.chart(..., follows=...)): an empty element of class MARK whose data-follower and data-map
  // are the two charts' keys, i.e. their containers' st-key-KEY classes. The frames play in the browser, so this
  // runs there too: the server never hears of a frame. Streamlit replaces a chart's div when its figure changes,
  // and plotly.js redraws a follower (resetting its cursor) when its figure is re-sent, so the markers are looked
  // at again whenever the page changes, and a new div is hooked up and set to the map's current step. Once per
  // window. (No less-than sign directly before a letter or a slash anywhere in this file: the HTML sanitizer
  // drops a script whose text has one.)
  if (window.__labFollowStep) return;
  window.__labFollowStep = true;
  const CURSOR = 'step cursor';
  const MARK = '.lab-follows';
  const plotOf = (key) => {
    const box = key && document.querySelector('.st-key-' + CSS.escape(key));
    return box ? box.querySelector('.js-plotly-plot') : null;
  };
  // The step a map shows: its slider's active step's frame name (frames are named by their step).
  const shownStep = (map) => {
    const slider = map.layout && map.layout.sliders && map.layout.sliders[0];
    const step = slider && slider.steps && slider.steps[slider.active];
    const name = step && step.args && step.args[0] && step.args[0][0];
    return name == null ? null : Number(name);
  };
  const moveCursor = (follower, step) => {
    if (step == null || !Number.isFinite(step) || !window.Plotly || !follower.layout) return;
    const shapes = follower.layout.shapes || [];
    const i = shapes.findIndex((shape) => shape && shape.name === CURSOR);
    if (i === -1 || (shapes[i].x0 === step && shapes[i].x1 === step)) return;
    window.Plotly.relayout(follower, {[`shapes[${i}].x0`]: step, [`shapes[${i}].x1`]: step});
  };
  const followersOf = (mapKey) => {
    const found = [];
    for (const mark of document.querySelectorAll(MARK)) {
      if (mark.dataset.map !== mapKey) continue;
      const follower = plotOf(mark.dataset.follower);
      if (follower) found.push(follower);
    }
    return found;
  };
  const follow = (mapKey, step) => { for (const follower of followersOf(mapKey)) moveCursor(follower, step); };
  const hookMap = (map, mapKey) => {
    if (map.__labFollowedAs === mapKey || typeof map.on !== 'function') return;
    map.__labFollowedAs = mapKey;
    // Each frame as it is drawn (Play, and the slider, which animates to the frame it was moved to).
    map.on('plotly_animatingframe', (event) => follow(mapKey, Number(event && event.name)));
    map.on('plotly_sliderchange', (event) => {
      const args = event && event.step && event.step.args;
      if (args && args[0]) follow(mapKey, Number(args[0][0]));
    });
    // At the end of an animation, and after a redraw (a new figure opens on its own step).
    for (const type of ['plotly_animated', 'plotly_afterplot']) map.on(type, () => follow(mapKey, shownStep(map)));
  };
  const hookFollower = (follower, map) => {
    if (follower.__labFollows !== map) {
      follower.__labFollows = map;
      moveCursor(follower, shownStep(map));
    }
    if (!follower.__labRedrawHooked && typeof follower.on === 'function') {
      follower.__labRedrawHooked = true;
      // A redrawn follower has its figure's cursor again: back to the step its map shows.
      follower.on('plotly_afterplot', () => {
        const now = follower.__labFollows;
        if (now && now.isConnected) moveCursor(follower, shownStep(now));
      });
    }
  };
  const watch = () => {
    for (const mark of document.querySelectorAll(MARK)) {
      const map = plotOf(mark.dataset.map);
      const follower = plotOf(mark.dataset.follower);
      if (!map || !follower || !map.layout || !follower.layout) continue;
      hookMap(map, mark.dataset.map);
      hookFollower(follower, map);
    }
  };
  let queued = false;  // Streamlit and plotly.js change the page often (every animation frame): look once a frame
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; watch(); }); }
  }).observe(document.body, {childList: true, subtree: true});
  watch();
})();
