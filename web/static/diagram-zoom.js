// Readable diagrams (case page, version diff): fit the box's width, but never smaller than labels stay
// legible (MIN_ZOOM); then centre the element that matters (the open task, the first change); the
// zoom buttons next to the box (".diagram-tools[data-for=<box id>]": data-zoom="in|out|fit") zoom
// around the centre. The viewer is kept on the box (box.aftersalesViewer) for the browser tests.
(function () {
  var MIN_ZOOM = 0.75, STEP = 1.25, MAX_ZOOM = 3;

  function centre(canvas, element) {
    var vb = canvas.viewbox();
    canvas.viewbox({ x: element.x + element.width / 2 - vb.width / 2, y: element.y + element.height / 2 - vb.height / 2,
                     width: vb.width, height: vb.height });
  }

  function readable(viewer, focusIds) {
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    if (canvas.zoom() < MIN_ZOOM) { canvas.zoom(MIN_ZOOM); }
    else if (canvas.zoom() > 1) { canvas.zoom(1); }
    var focus = (focusIds || []).map(function (id) { return registry.get(id); }).filter(Boolean)[0];
    if (focus) { centre(canvas, focus); }
    else if (canvas.zoom() === MIN_ZOOM) {  // nothing to look at: the start, from the left
      var vb = canvas.viewbox(), inner = vb.inner;
      canvas.viewbox({ x: inner.x - 20, y: inner.y + inner.height / 2 - vb.height / 2, width: vb.width, height: vb.height });
    }
  }

  window.AftersalesZoom = function (viewer, box, focusIds) {
    box.aftersalesViewer = viewer;
    readable(viewer, focusIds);
    var tools = document.querySelector(".diagram-tools[data-for='" + box.id + "']");
    if (!tools) { return; }
    tools.querySelectorAll("button[data-zoom]").forEach(function (button) {
      button.disabled = false;
      button.addEventListener("click", function () {
        var canvas = viewer.get("canvas"), vb = canvas.viewbox();
        var middle = { x: vb.width / 2 * vb.scale, y: vb.height / 2 * vb.scale };  // the box's centre, in pixels
        var kind = button.dataset.zoom;
        if (kind === "fit") { canvas.zoom("fit-viewport"); return; }
        var next = kind === "in" ? Math.min(MAX_ZOOM, vb.scale * STEP) : Math.max(0.2, vb.scale / STEP);
        canvas.zoom(next, middle);
      });
    });
  };
})();
