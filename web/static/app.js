// Small helpers: one submit per form, confirmations, and an inbox that refreshes in place.
(function () {
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    });
  });
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
