// An open tracking page asks /query for news every data-refresh seconds, with the ETag of
// the last answer (a 304 when nothing changed), and redraws itself when an event was recorded.
(function () {
  "use strict";
  var section = document.getElementById("tracking");
  var seconds = section ? Number(section.getAttribute("data-refresh")) : 0;
  if (!seconds || !window.fetch || !window.DOMParser) {
    return;
  }
  var note = document.querySelector("[data-refresh-note]");
  if (note) {
    note.hidden = false;
  }
  var etag = null;
  var address = "/query?sno=" + encodeURIComponent(section.getAttribute("data-sno"));

  function changed(body) {
    var details = body.details || [];
    var last = details.length ? String(details[details.length - 1].id) : "";
    return String(details.length) !== section.getAttribute("data-events") ||
      last !== section.getAttribute("data-last-event");
  }

  function redraw() {
    return fetch(location.pathname + location.search, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById("tracking");
        if (!fresh) {
          return;
        }
        section.replaceWith(fresh);
        section = fresh;
        var live = document.getElementById("live");
        var status = fresh.querySelector("#status");
        if (live && status) {
          live.textContent = live.getAttribute("data-updated").replace("{status}", status.textContent);
        }
        seconds = Number(fresh.getAttribute("data-refresh")) || 0;
      });
  }

  function check() {
    if (document.hidden) {
      return schedule();
    }
    var headers = etag ? {"If-None-Match": etag} : {};
    // no-store: the browser neither answers from its cache nor turns our 304 into a 200.
    fetch(address, {headers: headers, cache: "no-store", credentials: "same-origin"})
      .then(function (response) {
        if (response.status !== 200) {
          return null;
        }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (body) { return body && changed(body) ? redraw() : null; })
      .catch(function () { return null; })
      .then(schedule);
  }

  function schedule() {
    if (seconds > 0) {
      window.setTimeout(check, seconds * 1000);
    }
  }

  schedule();
})();
