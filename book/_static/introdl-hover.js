// Definitions on hover (book/_ext/introdl_hover.py). The tooltips work with CSS alone
// (:hover and :focus-within); this script only makes them better:
// - it places a tooltip within the window, next to its link, even inside a box that
//   clips its content (an admonition, a scrolling table);
// - Escape hides the tooltip that is showing, until the pointer or the keyboard focus
//   moves (WCAG 1.4.13);
// - nothing inside a tooltip takes the keyboard focus.
(function () {
  "use strict";
  var root = document.documentElement;
  var dismissed = "introdl-tips-dismissed";
  var margin = 8;

  function place(hover) {
    var tip = hover.querySelector(":scope > .introdl-tip");
    var link = hover.firstElementChild;
    if (!tip || !link || getComputedStyle(tip).display === "none") {
      return;
    }
    var rects = link.getClientRects();
    var rect = rects.length ? rects[rects.length - 1] : link.getBoundingClientRect();
    tip.style.position = "fixed";
    tip.style.margin = "0";
    var width = tip.offsetWidth;
    var height = tip.offsetHeight;
    var left = Math.max(margin, Math.min(rect.left, window.innerWidth - width - margin));
    // below the link, touching it (so the pointer can move onto the tooltip), or
    // above it when there is no room below
    var top = rect.bottom;
    if (top + height > window.innerHeight - margin && rect.top - height > margin) {
      top = rect.top - height;
    }
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }

  function show(event) {
    root.classList.remove(dismissed);
    var hover = event.target.closest && event.target.closest(".introdl-hover");
    if (hover) {
      // boxes off the screen skip their layout (content-visibility in introdl.css),
      // which would clip the tooltip to its paragraph: those around it are laid out
      // plainly from now on
      for (var box = hover.parentElement; box && box !== document.body; box = box.parentElement) {
        box.classList.add("introdl-tip-shown");
      }
      place(hover);
    }
  }

  document.addEventListener("pointerover", show);
  document.addEventListener("focusin", show);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      root.classList.add(dismissed);
    }
  });
  // A tooltip holds nothing to focus (ARIA's tooltip role): math that MathJax makes
  // focusable, for its menu, leaves the tab order inside tooltips.
  function untab() {
    document.querySelectorAll(".introdl-tip [tabindex]").forEach(function (el) {
      el.setAttribute("tabindex", "-1");
    });
  }
  window.addEventListener("load", function () {
    var mathjax = window.MathJax;
    if (mathjax && mathjax.startup && mathjax.startup.promise) {
      mathjax.startup.promise.then(untab);
    }
    untab();
  });

  window.addEventListener("scroll", function () {
    document.querySelectorAll(".introdl-hover:hover, .introdl-hover:focus-within")
      .forEach(place);
  }, { passive: true });
})();
