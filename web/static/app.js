// Small helpers: one submit per form, confirmations, and an inbox that refreshes in place.
(function () {
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    });
  });
  // What is typed into a task form is kept in this browser (localStorage, per task id) until the
  // server confirms the task was completed (body[data-draft-done]); it comes back after an expired
  // session and a new login, or a refused submit. Only fields with an id are kept; never the CSRF token.
  var drafts = (function () {
    try { var k = "aftersales-probe"; window.localStorage.setItem(k, k); window.localStorage.removeItem(k); return window.localStorage; }
    catch (e) { return null; }
  })();
  if (drafts) {
    var done = document.body.dataset.draftDone;
    if (done) { drafts.removeItem("draft:task:" + done); }
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var key = "draft:task:" + form.dataset.draft;
      var kept = function (el) { return el.id && el.name && el.name !== "csrf_token" && el.type !== "hidden" && !el.disabled; };
      var save = function () {
        var values = {};
        Array.prototype.forEach.call(form.elements, function (el) {
          if (!kept(el)) { return; }
          values[el.id] = (el.type === "checkbox" || el.type === "radio") ? el.checked : el.value;
        });
        drafts.setItem(key, JSON.stringify({ saved: Date.now(), values: values }));
      };
      var stored = null;
      try { stored = JSON.parse(drafts.getItem(key) || "null"); } catch (e) { stored = null; }
      if (stored && stored.values) {
        var changed = false;
        Array.prototype.forEach.call(form.elements, function (el) {
          if (!kept(el) || !(el.id in stored.values)) { return; }
          var v = stored.values[el.id];
          if (el.type === "checkbox" || el.type === "radio") {
            if (el.checked !== v) { el.checked = v; changed = true; }
          } else if (el.value !== v) { el.value = v; changed = true; }
        });
        var note = form.querySelector("[data-draft-restored]");
        if (changed && note) { note.hidden = false; }
      }
      form.addEventListener("input", save);
      form.addEventListener("change", save);
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var body = document.getElementById("inbox-body");
  if (body && window.fetch) {
    setInterval(function () {
      var active = document.activeElement;
      if (document.hidden || (active && body.contains(active) && active.tagName !== "A")) { return; }
      fetch(body.dataset.refresh, { credentials: "same-origin" }).then(function (r) {
        if (r.ok && r.headers.get("content-type").indexOf("text/html") === 0) { return r.text(); }
      }).then(function (html) { if (html) { body.innerHTML = html; } }).catch(function () {});
    }, 30000);
  }
})();
