// The site's only script. Links to a form field focus it; the Performance Monitor keeps itself current; a
// list's "select all" box ticks its rows; a slow panel (the complaint themes) loads after its page.
//
// The monitor: every N seconds fetch its HTML fragment and merge it into the page.
// Merging (not replacing) keeps the elements that did not change, so keyboard focus stays on the link it was
// on and the page does not jump; a polite live region says what changed. Without this script the monitor
// is an ordinary page, current when loaded.
(function () {
  "use strict";

  // Rows and counters are matched by what they show (a case, a counter), not by position, so a new case
  // arriving above a focused row does not move the focus onto another case.
  function keyOf(node) {
    if (node.nodeType !== 1) return null;
    return node.getAttribute("data-case") || node.getAttribute("data-counter") || node.id || null;
  }

  function syncAttributes(from, to) {
    var i;
    for (i = from.attributes.length - 1; i >= 0; i--) {
      var name = from.attributes[i].name;
      if (!to.hasAttribute(name)) from.removeAttribute(name);
    }
    for (i = 0; i < to.attributes.length; i++) {
      var attribute = to.attributes[i];
      if (from.getAttribute(attribute.name) !== attribute.value) from.setAttribute(attribute.name, attribute.value);
    }
  }

  function sameKind(a, b) {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName && keyOf(a) === keyOf(b);
  }

  function morph(from, to) {
    if (from.nodeType !== 1) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    syncAttributes(from, to);
    morphChildren(from, to);
  }

  // Make `from`'s children look like `to`'s, reusing every old node that has a counterpart.
  function morphChildren(from, to) {
    var keyed = {};
    var child;
    for (child = from.firstChild; child; child = child.nextSibling) {
      var key = keyOf(child);
      if (key) keyed[key] = child;
    }
    var cursor = from.firstChild;
    var wanted = Array.prototype.slice.call(to.childNodes);
    for (var i = 0; i < wanted.length; i++) {
      var next = wanted[i];
      var nextKey = keyOf(next);
      var match = null;
      if (nextKey && keyed[nextKey] && sameKind(keyed[nextKey], next)) {
        match = keyed[nextKey];
        delete keyed[nextKey];
      } else if (!nextKey && cursor && sameKind(cursor, next)) {
        match = cursor;
      }
      if (match === null) {
        from.insertBefore(next, cursor);
        continue;
      }
      if (match === cursor) cursor = cursor.nextSibling;
      else from.insertBefore(match, cursor);
      morph(match, next);
    }
    while (cursor) {
      var after = cursor.nextSibling;
      from.removeChild(cursor);
      cursor = after;
    }
  }

  function counters(box) {
    var found = {};
    var nodes = box.querySelectorAll("[data-counter]");
    for (var i = 0; i < nodes.length; i++) {
      var label = nodes[i].parentNode.querySelector(".counter-label");
      found[nodes[i].getAttribute("data-counter")] = {
        value: nodes[i].textContent.trim(),
        label: label ? label.textContent.trim() : nodes[i].getAttribute("data-counter"),
      };
    }
    return found;
  }

  function caseKeys(box) {
    var keys = {};
    var rows = box.querySelectorAll("[data-case]");
    for (var i = 0; i < rows.length; i++) keys[rows[i].getAttribute("data-case")] = true;
    return keys;
  }

  // "Overdue 3 (was 2). 1 new case." Nothing when only the clock moved.
  function changes(beforeCounters, afterCounters, beforeCases, afterCases) {
    var parts = [];
    for (var name in afterCounters) {
      var was = beforeCounters[name];
      if (was && was.value !== afterCounters[name].value) {
        parts.push(afterCounters[name].label + " " + afterCounters[name].value + " (was " + was.value + ")");
      }
    }
    var added = 0;
    var removed = 0;
    var key;
    for (key in afterCases) if (!beforeCases[key]) added++;
    for (key in beforeCases) if (!afterCases[key]) removed++;
    if (added) parts.push(added === 1 ? "1 new case" : added + " new cases");
    if (removed) parts.push(removed === 1 ? "1 case left the list" : removed + " cases left the list");
    return parts.length ? "Monitor updated: " + parts.join(", ") + "." : "";
  }

  function update(box, html, live) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var focused = document.activeElement;
    var focusWasInside = focused !== null && focused !== box && box.contains(focused);
    var x = window.scrollX;
    var y = window.scrollY;
    var beforeCounters = counters(box);
    var beforeCases = caseKeys(box);

    morphChildren(box, template.content);

    if (focusWasInside && !box.contains(focused)) {
      // The focused row left the list (its case was closed): keep the focus in the monitor, not on <body>.
      box.focus({ preventScroll: true });
    }
    if (window.scrollX !== x || window.scrollY !== y) window.scrollTo(x, y);
    var news = changes(beforeCounters, counters(box), beforeCases, caseKeys(box));
    if (live && news) live.textContent = news;
    box.setAttribute("data-refreshed", String(Date.now()));
  }

  function startRefresh(box) {
    var url = box.getAttribute("data-refresh");
    var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10) || 30;
    var live = document.getElementById(box.getAttribute("data-refresh-live") || "");
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
          if (typeof html === "string") update(box, html, live);
        })
        .catch(function () { /* offline for a moment: try again next time */ })
        .then(function () { busy = false; });
    }

    setInterval(refresh, seconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh();
    });
  }

  // A link to a form field ("Add a note") puts the cursor in it, not only scrolls to it: one tap to write.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest('a[href^="#"]') : null;
    var target = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
    if (!target || !/^(INPUT|SELECT|TEXTAREA)$/.test(target.nodeName)) return;
    event.preventDefault();
    // Centred, so the field's label above it is on the screen too.
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  });

  // "Select all" above a list of tick boxes: shown only when this script runs, since only it can tick them.
  function startSelectAll(master) {
    var name = master.getAttribute("data-select-all");
    var boxes = function () {
      return document.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
    };
    master.hidden = false;
    master.addEventListener("change", function () {
      var all = boxes();
      for (var i = 0; i < all.length; i++) all[i].checked = master.checked;
    });
    document.addEventListener("change", function (event) {
      if (event.target === master || event.target.name !== name) return;
      var all = boxes();
      var ticked = 0;
      for (var i = 0; i < all.length; i++) if (all[i].checked) ticked++;
      master.checked = ticked === all.length;
      master.indeterminate = ticked > 0 && ticked < all.length;
    });
  }

  // A panel that takes the server a while (the complaint themes): the page comes first, the panel after.
  // Without this script the panel is a link to its own page.
  function startLoad(box) {
    box.setAttribute("aria-busy", "true");
    fetch(box.getAttribute("data-load"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok || response.redirected) return null;
        return response.text();
      })
      .then(function (html) {
        if (typeof html !== "string") return;
        var template = document.createElement("template");
        template.innerHTML = html;
        box.replaceChildren(template.content);
        box.setAttribute("data-loaded", String(Date.now()));
      })
      .catch(function () { /* the link stays: the panel is one click away */ })
      .then(function () { box.removeAttribute("aria-busy"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panels = document.querySelectorAll("[data-load]");
    for (var p = 0; p < panels.length; p++) startLoad(panels[p]);
    var boxes = document.querySelectorAll("[data-refresh]");
    for (var i = 0; i < boxes.length; i++) startRefresh(boxes[i]);
    var masters = document.querySelectorAll("[data-select-all]");
    for (var j = 0; j < masters.length; j++) startSelectAll(masters[j]);
    // Folded on a phone, where the list matters more than the filters; unfolded where there is room.
    if (window.matchMedia("(min-width: 761px)").matches) {
      var folded = document.querySelectorAll("details[data-open-wide]");
      for (var k = 0; k < folded.length; k++) folded[k].open = true;
    }
  });
})();
