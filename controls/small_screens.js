(() => {
  // Phones and other small screens, once per window.
  if (window.__labSmallScreens) return;
  window.__labSmallScreens = true;

  // 1. On a touch screen a one-finger swipe over a chart must scroll the page, not pan the map or turn the 3-D
  // view: charts fill most of a phone's screen, and a student whose swipe landed on one was stuck. plotly.js
  // takes every touch that starts on a plot (its drag handlers call preventDefault, and a 3-D scene's camera does
  // the same whatever its dragmode). So, where the main pointer is coarse, a capture-phase listener keeps
  // one-finger touches on a plot's drawing area from reaching plotly.js: the browser then scrolls, and a tap
  // still reaches the chart as the mouse click the browser makes of it (a tap on a map still sets a start). Two
  // fingers are the deliberate gesture that moves a chart; the animation buttons and the step slider take
  // touches as before.
  if (window.matchMedia && window.matchMedia('(pointer: coarse)').matches) {
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
  }

  // 2. A chart's title is one line of SVG text, and a narrow chart cut a long one off at its right edge. After
  // every draw, a title wider than its chart is set in a smaller type until it fits (never below MIN_PX).
  const MIN_PX = 9;
  const fitTitle = (gd) => {
    const title = gd.querySelector('.g-gtitle .gtitle');
    if (!title) return;
    const room = gd.getBoundingClientRect().width - 8;
    title.style.fontSize = '';
    const width = title.getBoundingClientRect().width;
    if (width <= room || room <= 0) return;
    const size = parseFloat(getComputedStyle(title).fontSize);
    title.style.fontSize = Math.max(MIN_PX, Math.floor(size * room / width)) + 'px';
  };
  const watch = () => {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      if (gd.__fitsTitle || typeof gd.on !== 'function') continue;
      gd.__fitsTitle = true;
      gd.on('plotly_afterplot', () => fitTitle(gd));
      fitTitle(gd);
    }
  };
  let queued = false;  // Streamlit and plotly.js change the page often (every animation frame): look once a frame
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; watch(); }); }
  }).observe(document.body, {childList: true, subtree: true});
  watch();
})();
