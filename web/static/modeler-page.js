// The modeler page: open a version, edit, validate or deploy through the server, download the XML.
(function () {
  var canvas = document.getElementById("canvas");
  var dmn = canvas && canvas.dataset.kind === "dmn";
  if (!canvas || !(dmn ? window.AftersalesDmnModeler : window.AftersalesModeler)) { return; }
  var status = document.getElementById("modeler-status");
  // a decision table opens in dmn-js (its table view), a diagram in bpmn-js with the properties panel
  var modeler = dmn ? window.AftersalesDmnModeler(canvas) : window.AftersalesModeler(canvas, document.getElementById("panel"));
  function opened() {
    if (!dmn) { modeler.get("canvas").zoom("fit-viewport"); return; }
    var table = modeler.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
    return table ? modeler.open(table) : undefined;
  }
  var EMPTY = '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_new" targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="Process_new" isExecutable="true"><bpmn:startEvent id="StartEvent_1"/></bpmn:process><bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_new"><bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';
  function show(text, bad) { status.textContent = text; status.className = bad ? "flash error" : "flash"; }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  // the server's status (web/pages/diagram_report.py): every sentence already in the page's language
  function report(st) {
    status.textContent = "";
    status.className = st.ok ? (st.warnings.length ? "flash warning" : "flash") : "flash error";
    status.appendChild(el("p", st.title, { "class": "status-title" }));
    if (st.definitions.length) {
      var defs = el("ul", "", { "class": "status-definitions" });
      st.definitions.forEach(function (line) { defs.appendChild(el("li", line)); });
      status.appendChild(defs);
    }
    if (st.warnings.length) {
      status.appendChild(el("p", st.labels.warnings, { "class": "status-subtitle" }));
      var warns = el("ul", "", { "class": "warnings" });
      st.warnings.forEach(function (w) { warns.appendChild(el("li", w.text)); });
      status.appendChild(warns);
    }
    if (st.problems.length) {
      var list = el("ol", "", { "class": "problems" });
      st.problems.forEach(function (p) {
        var item = el("li", p.text, { "data-problem": p.code });
        if (p.detail) {
          var more = el("details");
          more.appendChild(el("summary", st.labels.details));
          more.appendChild(el("code", p.detail, { lang: "en" }));
          item.appendChild(more);
        }
        list.appendChild(item);
      });
      status.appendChild(list);
    }
  }
  var load = canvas.dataset.xml ? fetch(canvas.dataset.xml, { credentials: "same-origin" }).then(function (r) { return r.text(); })
                                : Promise.resolve(EMPTY);
  load.then(function (xml) { return modeler.importXML(xml); })
      .then(opened).then(function () { canvas.dataset.ready = "1"; })
      .catch(function () { show(status.dataset.openFailed, true); });
  function send(action) {
    return modeler.saveXML({ format: true }).then(function (out) {
      var body = new FormData();
      body.append("action", action);
      body.append("xml", out.xml);
      body.append("filename", canvas.dataset.filename);
      body.append("comment", document.getElementById("comment").value);
      var javaAsExternal = document.getElementById("java-as-external");
      if (javaAsExternal && javaAsExternal.checked) { body.append("java_as_external", "1"); }
      body.append("csrf_token", canvas.dataset.csrf);
      return fetch(canvas.dataset.check, { method: "POST", body: body, credentials: "same-origin" }).then(function (r) { return r.json(); });
    }).then(function (res) {
      if (!res.status) { show(status.dataset.failed, true); return; }
      report(res.status);
      if (res.ok && !res.dry_run && canvas.dataset.diff && res.definitions.some(function (d) { return d.changed; })) {
        window.location = canvas.dataset.diff;
      }
    }).catch(function () { show(status.dataset.failed, true); });
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
