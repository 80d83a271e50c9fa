(() => {
  // Presentation mode: every chart stands in a box (its Streamlit container, key FIT_PREFIX + the chart's key) and
  // stretches to fill it (st.plotly_chart's height="stretch"); this script makes each box as tall as the screen
  // allows, so that a figure grows with the projector (1280 x 720, 1920 x 1080, ...) and is never cut. A box that
  // starts on the first screen ends MARGIN above its bottom; every other one is a screen tall, less two MARGINs
  // (a section's link scrolls to it, controls/sections.js). Never below MIN_PX: a figure low on a first screen
  // keeps a readable size. Measured again when the window changes size and when the page changes (after a
  // rerun the elements above a figure may have grown). Once per window. (No less-than sign directly before a
  // letter or a slash anywhere in this file: the HTML sanitizer drops a script whose text has one.)
  if (window.__labProjector) return;
  window.__labProjector = true;
  const BOXES = '[data-testid="stMain"] [class*="st-key-lab_fit_"]';
  const MARGIN = 8;
  const MIN_PX = 320;
  const fit = () => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main) return;
    const screen = window.innerHeight;
    const origin = main.getBoundingClientRect().top - main.scrollTop;  // a box's top, scrolled to the page's top
    for (const box of document.querySelectorAll(BOXES)) {
      const top = box.getBoundingClientRect().top - origin;
      const room = top + MIN_PX + MARGIN > screen ? screen - 2 * MARGIN : screen - top - MARGIN;
      const height = Math.max(MIN_PX, Math.floor(room));
      if (Math.abs(box.getBoundingClientRect().height - height) > 2) {
        box.style.setProperty('height', height + 'px', 'important');
      }
    }
  };
  let queued = false;  // plotly.js changes the page on every animation frame: measure at most once a frame
  const soon = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; fit(); }); } };
  new MutationObserver(soon).observe(document.body, {childList: true, subtree: true});
  window.addEventListener('resize', soon);
  fit();
})();
