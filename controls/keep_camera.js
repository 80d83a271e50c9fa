(() => {
  // A hand-turned 3-D view must stay turned when Play is pressed. plotly.js's gl3d Scene saves the turned
  // camera with saveLayout(layout), into the layout object it captured when the scene was built; Streamlit
  // hands the chart a new layout object after that, and an animation's redrawn frames (3-D frames need
  // redraw: true) read the camera from the new, unturned one, so the view snapped back. Patched once per
  // window: the camera is also saved into the chart's current layout, and again when an animation starts.
  if (window.__keepsCamera) return;
  window.__keepsCamera = true;
  const patch = () => {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      const scene = gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene;
      if (!scene) continue;
      const proto = Object.getPrototypeOf(scene);
      if (!proto.__keepsCamera) {
        const save = proto.saveLayout;
        proto.saveLayout = function (layout) {
          const changed = save.call(this, layout);
          const gd = this.graphDiv, live = gd && gd.layout;
          if (live && live !== layout) save.call(this, live);
          if (gd && !gd.__savesCameraOnPlay) {
            // The camera saved when the mouse was let go can be one the view had not finished turning to (on a
            // busy machine the last moves of a drag are drawn after it), and the frames then snapped back to it.
            // When an animation starts (Play, or the step slider), the view on screen is the one to keep.
            gd.__savesCameraOnPlay = true;
            gd.on('plotly_animating', () => {
              const now = gd._fullLayout.scene && gd._fullLayout.scene._scene;
              if (now) now.saveLayout(gd.layout);
            });
          }
          return changed;
        };
        proto.__keepsCamera = true;
      }
      return true;
    }
    return false;
  };
  const timer = setInterval(() => { if (patch()) clearInterval(timer); }, 250);
})();
