(() => {
  // A link to a lecture section (?section=ANCHOR, or #ANCHOR) opens its page at that section: once the
  // section's first figure is drawn, the page (Streamlit scrolls its main column, not the window) is scrolled so
  // that the figure is wholly in view, with the section's heading above it when both fit. Streamlit draws a page
  // piece by piece and the elements above the section can still grow after the figure is drawn, so the position
  // is kept until the page has been quiet for a moment; a reader's own scroll (wheel, touch, keys, a click) ends
  // it at once. Armed again only when the link names another page or another section (a widget's rerun keeps the
  // address's section and must not jump back); it works on a fresh load and after a move from Home. Once per
  // window; an anchor that is not on the page is ignored. (No less-than sign directly before a letter or a slash
  // anywhere in this file: the HTML sanitizer drops a script whose text has one.)
  if (window.__labSections) return;
  window.__labSections = true;
  const MARGIN = 8;  // px kept free above the heading, or above the figure
  const QUIET_MS = 1500;  // the position is kept until nothing moved for this long, the script being idle
  const GIVE_UP_MS = 240000;  // a section whose figure never comes (a failed run) stops being waited for
  const state = {key: null, target: null, done: true, armed: 0, stable: 0, last: null};
  const main = () => document.querySelector('[data-testid="stMain"]');
  const wanted = () => {
    const section = new URLSearchParams(location.search).get('section');
    if (section) return section;
    const hash = decodeURIComponent(location.hash.slice(1));
    return /^lecture-[a-z0-9-]+$/.test(hash) ? hash : null;
  };
  const drawnFigureAfter = (anchor) => {
    for (const gd of document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')) {
      if (anchor.compareDocumentPosition(gd) & Node.DOCUMENT_POSITION_FOLLOWING) {
        return gd.querySelector('.main-svg') ? gd : null;
      }
    }
    return null;
  };
  const idle = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning';
  };
  // What tests read: the anchor the page was last scrolled to, once it stopped keeping it there.
  const stop = () => { state.done = true; document.documentElement.dataset.labSection = `done:${state.target}`; };
  for (const type of ['wheel', 'touchstart', 'keydown', 'mousedown']) {
    window.addEventListener(type, (event) => {
      if (!state.done && event.isTrusted) stop();
    }, {capture: true, passive: true});
  }
  const step = () => {
    const target = wanted();
    const key = location.pathname + '|' + target;
    if (key !== state.key) {
      Object.assign(state, {key, target, done: !target, armed: performance.now(), stable: 0, last: null});
      document.documentElement.dataset.labSection = target ? `busy:${target}` : '';
    }
    if (state.done) return;
    const now = performance.now();
    if (now - state.armed > GIVE_UP_MS) { stop(); return; }
    const anchor = document.getElementById(state.target);
    const scroller = main();
    if (!anchor || !scroller) return;
    const gd = drawnFigureAfter(anchor);
    if (!gd) return;
    const box = (gd.closest('[data-testid="stElementContainer"]') || gd).getBoundingClientRect();
    const head = anchor.getBoundingClientRect();
    const view = scroller.getBoundingClientRect();
    const height = Math.min(view.height, window.innerHeight);
    // The heading and the figure if both fit, else the figure alone (its top if even that does not fit). A
    // section at the top of the page has an anchor out of the column's flow (it takes no room): the page's top.
    const atTop = anchor.classList.contains('lab-section-anchor');
    let offset = atTop ? -scroller.scrollTop : head.top - view.top - MARGIN;
    if (box.bottom - (atTop ? view.top - scroller.scrollTop : head.top) + 2 * MARGIN > height) {
      offset = Math.min(box.top - view.top - MARGIN, box.bottom - view.top - height + MARGIN);
    }
    const goal = Math.max(0, Math.round(scroller.scrollTop + offset));
    if (Math.abs(scroller.scrollTop - goal) > 1) scroller.scrollTop = goal;
    const where = `${goal}:${Math.round(box.height)}`;
    if (where !== state.last || !idle()) { state.last = where; state.stable = now; return; }
    if (now - state.stable > QUIET_MS) stop();
  };
  setInterval(step, 150);
})();
