(() => {
  // On a touch screen a one-finger swipe over a chart must scroll the page, not pan the map or turn the 3-D
  // view: charts fill most of a phone's screen, and a student whose swipe lands on one was stuck. plotly.js
  // takes every touch that starts on a plot (its drag handlers call preventDefault, and a 3-D scene's camera
  // does the same whatever its dragmode). So, once per window and only where the main pointer is coarse, a
  // capture-phase listener keeps one-finger touches on a plot's drawing area from reaching plotly.js: the
  // browser then scrolls, and a tap still reaches the chart as the mouse click the browser makes of it (a
  // click on a map still sets a start). Two fingers are the deliberate gesture that moves a chart; the
  // animation buttons and the step slider take touches as before.
  if (window.__labTouchScroll) return;
  window.__labTouchScroll = true;
  if (!(window.matchMedia && window.matchMedia('(pointer: coarse)').matches)) return;
  const PASS = '.updatemenu-container, .slider-container, .modebar-container';
  const guard = (event) => {
    const target = event.target;
    if (!(target instanceof Element) || !target.closest('.js-plotly-plot')) return;
    if (event.touches && event.touches.length > 1) return;
    if (target.closest(PASS)) return;
    event.stopPropagation();
  };
  for (const type of ['touchstart', 'touchmove', 'touchend', 'touchcancel']) {
    window.addEventListener(type, guard, {capture: true, passive: true});
  }
})();
