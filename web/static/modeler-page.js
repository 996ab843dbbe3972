// The modeler page: open a version, edit, validate or deploy through the server, download the XML.
(function () {
  var canvas = document.getElementById("canvas");
  if (!canvas || !window.AftersalesModeler) { return; }
  var status = document.getElementById("modeler-status");
  var modeler = window.AftersalesModeler(canvas, document.getElementById("panel"));
  var EMPTY = '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_new" targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="Process_new" isExecutable="true"><bpmn:startEvent id="StartEvent_1"/></bpmn:process><bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_new"><bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';
  function show(text, bad) { status.textContent = text; status.className = bad ? "flash error" : "flash"; }
  var load = canvas.dataset.xml ? fetch(canvas.dataset.xml, { credentials: "same-origin" }).then(function (r) { return r.text(); })
                                : Promise.resolve(EMPTY);
  load.then(function (xml) { return modeler.importXML(xml); })
      .then(function () { modeler.get("canvas").zoom("fit-viewport"); canvas.dataset.ready = "1"; })
      .catch(function (err) { show(String(err), true); });
  function send(action) {
    return modeler.saveXML({ format: true }).then(function (out) {
      var body = new FormData();
      body.append("action", action);
      body.append("xml", out.xml);
      body.append("filename", canvas.dataset.filename);
      body.append("comment", document.getElementById("comment").value);
      body.append("csrf_token", canvas.dataset.csrf);
      return fetch(canvas.dataset.check, { method: "POST", body: body, credentials: "same-origin" }).then(function (r) { return r.json(); });
    }).then(function (res) {
      if (!res.ok) {
        show(res.errors.map(function (e) { return (e.element_id || "") + (e.line ? " (" + e.line + ")" : "") + ": " + e.message; }).join("\n"), true);
        return;
      }
      var lines = res.definitions.map(function (d) { return d.key + " v" + d.version + (d.changed ? " ✔" : " ="); });
      show((res.dry_run ? "OK · " : "Deployed · ") + lines.join(", "), false);
      if (!res.dry_run && canvas.dataset.diff && res.definitions.some(function (d) { return d.changed; })) {
        window.location = canvas.dataset.diff;
      }
    }).catch(function (err) { show(String(err), true); });
  }
  document.getElementById("validate").addEventListener("click", function () { send("validate"); });
  document.getElementById("deploy").addEventListener("click", function () { send("deploy"); });
  document.getElementById("download").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (out) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([out.xml], { type: "application/xml" }));
      a.download = canvas.dataset.filename;
      a.click();
    });
  });
})();
