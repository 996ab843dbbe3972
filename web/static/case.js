// The case diagram with bpmn-js: completed elements and open tasks marked.
(function () {
  var box = document.getElementById("diagram");
  if (!box || !window.BpmnJS) { return; }
  var marks = JSON.parse(box.dataset.highlight || "{}");
  var viewer = new window.BpmnJS({ container: box });
  fetch(box.dataset.xml, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (xml) {
    return viewer.importXML(xml);
  }).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    (marks.done || []).forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
    (marks.open || []).forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "open"); } });
    if (window.AftersalesZoom) { window.AftersalesZoom(viewer, box, marks.open); } else { canvas.zoom("fit-viewport"); }
    box.dataset.ready = "1";
  }).catch(function (err) { box.textContent = String(err); box.dataset.ready = "error"; });
})();
