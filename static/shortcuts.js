// Keyboard shortcuts for agents (loaded only for staff; base.html lists them in
// the dialog it opens with "?"). In the queue: j/k move through the tickets,
// o or Enter opens the highlighted one, / goes to the search field. On a
// ticket: r starts a reply, n an internal note, a assigns it to me. Keys never
// act while the user types in a field or holds Ctrl, Alt or Meta, so they can
// not eat a letter or a browser shortcut. Without this script every action is
// still a link, field or button.
(function () {
  "use strict";

  var current = -1;

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])");
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-shortcut-rows] tbody tr"));
  }

  function move(step) {
    var all = rows();
    if (all.length === 0) return false;
    var focused = all.findIndex(function (row) { return row.contains(document.activeElement); });
    if (focused >= 0) current = focused;
    // On a ticket page the side list starts at the open ticket.
    if (current < 0) current = all.findIndex(function (row) { return row.getAttribute("aria-current") === "true"; });
    current = current < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, current + step));
    all.forEach(function (row, i) { row.classList.toggle("kb-current", i === current); });
    var link = all[current].querySelector("a[href]");
    if (link) link.focus();
    all[current].scrollIntoView({ block: "nearest" });
    return true;
  }

  function open() {
    var row = rows()[current];
    var link = row && row.querySelector("a[href]");
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) return false;
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }

  function compose(internal) {
    var box = document.getElementById("internal");
    if (box) box.checked = internal;
    else if (internal) return false;
    return focusField("#body");
  }

  function click(selector) {
    var button = document.querySelector(selector);
    if (!button) return false;
    button.click();
    return true;
  }

  function help() {
    var dialog = document.getElementById("shortcuts-help");
    if (!dialog || dialog.open) return false;
    dialog.showModal();
    return true;
  }

  var actions = {
    j: function () { return move(1); },
    k: function () { return move(-1); },
    o: open,
    "/": function () { return focusField("#q"); },
    r: function () { return compose(false); },
    n: function () { return compose(true); },
    a: function () { return click("[data-shortcut=assign-me]"); },
    "?": help,
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    // Shifted letters are other keys ("J"), so Shift only matters for "?" and "/".
    var key = event.key;
    // Enter opens the highlighted row only when nothing focusable would take it.
    if (key === "Enter") {
      if (current < 0 || (event.target.closest && event.target.closest("a, button, summary"))) return;
      key = "o";
    }
    var action = Object.prototype.hasOwnProperty.call(actions, key) && actions[key];
    if (action && action()) event.preventDefault();
  });
})();
