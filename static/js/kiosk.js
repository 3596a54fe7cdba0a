// The kiosk's small behaviours. Everything works without this file; it only makes it kinder.
(function () {
  "use strict";
  var body = document.body;
  var home = body.dataset.homeUrl;

  // Back to the start page after a while without a touch, so the next donor never sees
  // the previous one's data. location.replace keeps the page out of the Back history.
  var idleSeconds = parseInt(body.dataset.idleSeconds || "0", 10);
  if (home && idleSeconds > 0) {
    var timer = null;
    var restart = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { window.location.replace(home); }, idleSeconds * 1000);
    };
    ["pointerdown", "keydown", "input", "touchstart", "scroll"].forEach(function (name) {
      window.addEventListener(name, restart, { passive: true, capture: true });
    });
    restart();
  }

  // A fragment swapped in another language (the wizard's language buttons) carries the page's
  // language and direction: the whole page follows, so Arabic reads right to left.
  document.body.addEventListener("htmx:afterSwap", function () {
    var marked = document.querySelector("[data-page-language]");
    if (marked) {
      document.documentElement.lang = marked.dataset.pageLanguage;
      document.documentElement.dir = marked.dataset.pageDirection;
    }
  });

  // The on-screen keyboard takes the bottom of the screen: the field being typed in stays in
  // view above it (and above the wizard's button bar), where the browser leaves it hidden.
  var viewport = window.visualViewport;
  if (viewport) {
    viewport.addEventListener("resize", function () {
      var field = document.activeElement;
      if (!field || !field.matches("input, select, textarea")) { return; }
      var box = field.getBoundingClientRect();
      var bar = document.querySelector(".wizard > .actions");
      var bottom = viewport.height - (bar ? bar.offsetHeight : 0);
      if (box.top < 0 || box.bottom > bottom) {
        field.scrollIntoView({ block: "center" });
      }
    });
  }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  if (home && body.hasAttribute("data-home-after-print")) {
    window.addEventListener("afterprint", function () { window.location.replace(home); });
  }
})();
