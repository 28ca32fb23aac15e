// The attachments drop zone: drop files on it, see the chosen files with their
// sizes, remove one before sending. Without this script the file input inside
// the zone works as a plain picker.
(function () {
  "use strict";

  function formatSize(bytes) {
    if (bytes < 1024) return bytes === 1 ? "1 byte" : bytes + " bytes";
    var units = ["KB", "MB", "GB"];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    var rounded = value >= 100 || Math.abs(value - Math.round(value)) < 0.05
      ? Math.round(value).toString()
      : value.toFixed(1);
    return rounded + " " + units[unit];
  }

  function setFiles(input, files) {
    // DataTransfer is the one way to build a FileList.
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
  }

  function render(zone, input, list) {
    var files = Array.prototype.slice.call(input.files || []);
    list.textContent = "";
    list.hidden = files.length === 0;
    zone.classList.toggle("has-files", files.length > 0);
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.className = "drop-zone-file-name";
      name.textContent = file.name;
      var size = document.createElement("span");
      size.className = "muted small";
      size.textContent = " (" + formatSize(file.size) + ") ";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button-link";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.addEventListener("click", function () {
        var kept = Array.prototype.slice.call(input.files);
        kept.splice(index, 1);
        setFiles(input, kept);
        render(zone, input, list);
        input.focus();
      });
      item.appendChild(name);
      item.appendChild(size);
      item.appendChild(remove);
      list.appendChild(item);
    });
  }

  function enhance(zone) {
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector("[data-drop-zone-files]");
    if (!input || !list || typeof DataTransfer === "undefined") return;
    zone.classList.add("is-enhanced");
    input.addEventListener("change", function () { render(zone, input, list); });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("is-dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      var files = Array.prototype.slice.call(input.files || []);
      Array.prototype.forEach.call(event.dataTransfer.files, function (file) {
        files.push(file);
      });
      setFiles(input, files);
      render(zone, input, list);
    });
    render(zone, input, list);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-drop-zone]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
