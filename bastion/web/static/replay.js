// Session replay on the audit dashboard: one asciinema-player per <div class="replay" data-cast-url>.
// Loaded as a file (CSP: no inline script); the player itself is static/vendor/asciinema-player.min.js.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (typeof AsciinemaPlayer === "undefined") { return; }
  document.querySelectorAll("div.replay[data-cast-url]").forEach(function (el) {
    AsciinemaPlayer.create(el.getAttribute("data-cast-url"), el, {
      fit: "width",
      idleTimeLimit: 2,
      terminalFontSize: "14px"
    });
  });
});
