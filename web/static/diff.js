// Two versions side by side; added, removed and changed elements marked on both.
(function () {
  var view = document.querySelector(".diff-view");
  if (!view || !window.AftersalesViewer) { return; }
  var marks = JSON.parse(view.dataset.marks);
  view.querySelectorAll(".diagram").forEach(function (box) {
    var viewer = window.AftersalesViewer(box);
    fetch(box.dataset.xml, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
        function mark(ids, cls) { ids.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, cls); } }); }
        mark(marks.changed, "diff-changed");
        mark(box.dataset.side === "old" ? marks.removed : marks.added, box.dataset.side === "old" ? "diff-removed" : "diff-added");
        var first = marks.changed.concat(box.dataset.side === "old" ? marks.removed : marks.added);
        if (window.AftersalesZoom) { window.AftersalesZoom(viewer, box, first); } else { canvas.zoom("fit-viewport"); }
        box.dataset.ready = "1";
      }).catch(function (err) { box.textContent = String(err); });
  });
})();
