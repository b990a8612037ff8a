// The office console's only script: keeps the board and a ticket's page
// live. The server says "something changed" over server-sent events; the
// page then fetches its own fragment again (?partial=1) and swaps it in.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live");
  if (!url || !window.EventSource || !window.fetch) { return; }
  var live = document.getElementById("st-live"), off = document.getElementById("st-off");
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var jobs = Array.prototype.map.call(document.querySelectorAll("[data-refresh]"), function (el) {
      var u = el.getAttribute("data-refresh");
      u += (u.indexOf("?") < 0 ? "?" : "&") + "partial=1";
      return fetch(u, { credentials: "same-origin" }).then(function (r) {
        if (r.status === 401) { location.reload(); throw new Error("logged out"); }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      }).then(function (html) { el.innerHTML = html; });
    });
    Promise.all(jobs).catch(function () {}).then(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }
  var es = new EventSource(url);
  es.onopen = function () { if (live) { live.hidden = false; } if (off) { off.hidden = true; } };
  es.onerror = function () { if (live) { live.hidden = true; } if (off) { off.hidden = false; } };
  es.addEventListener("change", refresh);
  es.addEventListener("logout", function () { es.close(); location.reload(); });
})();
