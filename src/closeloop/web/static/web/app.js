// Keeps the Performance Monitor current: every N seconds fetch its HTML fragment and swap it in,
// so counters and overdue rows update without reloading the page (and without losing scroll).
(function () {
  "use strict";

  function startRefresh(box) {
    var url = box.getAttribute("data-refresh");
    var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10) || 30;
    var busy = false;

    function refresh() {
      // A hidden tab needs no updates; it refreshes when seen again.
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          // A signed-out session gets the login page: leave the last good view in place.
          if (!response.ok || response.redirected) return null;
          return response.text();
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            box.innerHTML = html;
            box.setAttribute("data-refreshed", String(Date.now()));
          }
        })
        .catch(function () { /* offline for a moment: try again next time */ })
        .then(function () { busy = false; });
    }

    setInterval(refresh, seconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-refresh]");
    for (var i = 0; i < boxes.length; i++) startRefresh(boxes[i]);
  });
})();
