// Progressive enhancement only: every page works without this file.
// Loaded as a file because the Content-Security-Policy forbids inline
// scripts.
"use strict";

(function () {
  // Close the phone menu when a click lands outside it.
  document.addEventListener("click", function (ev) {
    var open = document.querySelectorAll("details.menu[open]");
    for (var i = 0; i < open.length; i++) {
      if (!open[i].contains(ev.target)) open[i].removeAttribute("open");
    }
  });

  // Ask before a form marked data-confirm is sent (disabling an account …).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
})();
