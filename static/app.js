// Focus after an action, for keyboard and screen-reader users: a page that
// comes back with errors puts the focus on the first invalid field (its
// error is tied to it with aria-describedby, so it is read out); otherwise
// the flash message has it (`autofocus` in the markup, which works without
// this script, except after a redirect to a #fragment). The same after an htmx swap that brings an error.
(function () {
  "use strict";

  function focusFirstError(root) {
    var field = root.querySelector("[aria-invalid=true]");
    if (!field) return false;
    field.focus();
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFirstError(document);
  });
  // Browsers skip autofocus when the address has a #fragment (a new reply),
  // and moving to the fragment resets the focus: once that is done, the
  // notice takes it without scrolling, so it is read out at the new reply.
  window.addEventListener("load", function () {
    var notice = document.getElementById("notice");
    if (notice && window.location.hash && document.activeElement === document.body) {
      notice.focus({ preventScroll: true });
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    // An outerHTML swap replaces the target: look in its successor.
    var root = event.detail.target;
    if (!root.isConnected) root = root.id && document.getElementById(root.id);
    if (root) focusFirstError(root);
  });
})();
