// Marquee site behaviour. Loaded by base.html on every page (defer); no inline scripts (CSP).
(function () {
  "use strict";

  // Row strips: a focused strip scrolls with the arrow keys, Home and End; focus moves
  // card by card when a card link inside the strip has focus.
  function cardLinks(strip) {
    return Array.prototype.slice.call(strip.querySelectorAll(".poster-card > a"));
  }

  function onStripKey(event) {
    var strip = event.target.closest(".row-strip");
    if (!strip || event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (["ArrowLeft", "ArrowRight", "Home", "End"].indexOf(key) === -1) return;
    var links = cardLinks(strip);
    var index = links.indexOf(event.target);
    if (index === -1) {
      // The strip itself has focus: scroll by most of its width.
      var step = strip.clientWidth * 0.8;
      if (key === "ArrowLeft") strip.scrollBy({ left: -step, behavior: "smooth" });
      if (key === "ArrowRight") strip.scrollBy({ left: step, behavior: "smooth" });
      if (key === "Home") strip.scrollTo({ left: 0, behavior: "smooth" });
      if (key === "End") strip.scrollTo({ left: strip.scrollWidth, behavior: "smooth" });
    } else {
      var next = index;
      if (key === "ArrowLeft") next = Math.max(0, index - 1);
      if (key === "ArrowRight") next = Math.min(links.length - 1, index + 1);
      if (key === "Home") next = 0;
      if (key === "End") next = links.length - 1;
      links[next].focus();
      links[next].scrollIntoView({ block: "nearest", inline: "nearest", behavior: "smooth" });
    }
    event.preventDefault();
  }

  // The profile switcher (a <details>) closes on Escape and on a click elsewhere.
  function closeSwitchers(except) {
    document.querySelectorAll("details.profile-switcher[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector("details.profile-switcher[open]");
      if (open) {
        open.removeAttribute("open");
        var summary = open.querySelector("summary");
        if (summary) summary.focus();
      }
      var suggestions = document.getElementById("search-suggestions");
      if (suggestions && suggestions.innerHTML.trim()) {
        var wasInside = suggestions.contains(document.activeElement);
        suggestions.innerHTML = "";
        if (wasInside) document.getElementById("site-search").focus();
      }
      return;
    }
    onStripKey(event);
  });

  document.addEventListener("click", function (event) {
    closeSwitchers(event.target.closest("details.profile-switcher"));
  });

  // Search suggestions: ArrowDown from the search box enters the list; Up/Down move within
  // it (aria-selected follows focus); ArrowUp from the first returns to the box.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var box = document.getElementById("search-suggestions");
    if (!box) return;
    var options = Array.prototype.slice.call(box.querySelectorAll("a"));
    if (!options.length) return;
    var target;
    if (event.target.matches("#site-search")) {
      if (event.key !== "ArrowDown") return;
      target = options[0];
    } else {
      var index = options.indexOf(event.target);
      if (index === -1) return;
      if (event.key === "ArrowDown") target = options[Math.min(options.length - 1, index + 1)];
      else target = index === 0 ? document.getElementById("site-search") : options[index - 1];
    }
    options.forEach(function (o) { o.setAttribute("aria-selected", o === target ? "true" : "false"); });
    target.focus();
    event.preventDefault();
  });

  // My List page: removing a title takes its card away (htmx); focus moves to the next card's
  // My List button (or the count, when none is left) instead of falling back to <body>.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var item = event.detail.target;
    if (!item || !item.matches || !item.matches(".poster-grid-item")) return;
    var sibling = item.nextElementSibling || item.previousElementSibling;
    var titleId = sibling && sibling.querySelector("[data-title-id]");
    var selector = titleId
      ? '.poster-grid-item [data-title-id="' + titleId.getAttribute("data-title-id") + '"]'
      : "#my-list-count";
    // The removed card's own settle event never reaches the document (it is detached by
    // then), so look again once htmx has swapped and settled (its settle delay is 20 ms).
    window.setTimeout(function () {
      var target = document.querySelector(selector);
      if (!target) return;
      var card = target.closest(".poster-grid-item");
      var button = card && card.querySelector(".list-button button");
      (button || target).focus();
    }, 60);
  });

  // Phone header: the menu button shows the nav, the search icon the search box (CSS hides both
  // below 700 px once this script runs; without it everything stays visible, stacked).
  function setOpen(toggle, open) {
    var header = toggle.closest(".site-header");
    var which = toggle.classList.contains("nav-toggle") ? "nav-open" : "search-open";
    header.classList.toggle(which, open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && which === "search-open") {
      var box = document.getElementById("site-search");
      if (box) box.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".header-toggle");
    if (!toggle) return;
    setOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll('.header-toggle[aria-expanded="true"]').forEach(function (toggle) {
      var inside = toggle.closest(".site-header").contains(document.activeElement);
      setOpen(toggle, false);
      if (inside) toggle.focus();
    });
  });

  // Row arrows: scroll the strip by most of its width; each arrow is disabled at its end.
  function updateArrows(strip) {
    var body = strip.closest(".row-body");
    if (!body) return;
    var prev = body.querySelector(".row-arrow-prev");
    var next = body.querySelector(".row-arrow-next");
    var max = strip.scrollWidth - strip.clientWidth - 2;
    if (prev) prev.disabled = strip.scrollLeft <= 2;
    if (next) next.disabled = strip.scrollLeft >= max;
  }

  document.addEventListener("click", function (event) {
    var arrow = event.target.closest(".row-arrow");
    if (!arrow) return;
    var strip = document.getElementById(arrow.getAttribute("aria-controls"));
    if (!strip) return;
    var step = strip.clientWidth * 0.8 * (arrow.classList.contains("row-arrow-prev") ? -1 : 1);
    strip.scrollBy({ left: step, behavior: "smooth" });
  });

  document.addEventListener(
    "scroll",
    function (event) {
      if (event.target.classList && event.target.classList.contains("row-strip")) updateArrows(event.target);
    },
    true
  );

  function initArrows() {
    document.querySelectorAll(".row-strip").forEach(updateArrows);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initArrows);
  else initArrows();
  window.addEventListener("resize", initArrows);

  // Focus survives an htmx swap: a rating or My List button that replaces itself (outerHTML)
  // would otherwise leave focus on <body>, and a keyboard user back at the top of the page.
  // Before the swap, note where the focused control sits (the swapped element's parent and
  // position, and the control's data-value or its index among the element's buttons); after
  // it, focus the same control in the new element.
  var restore = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    restore = null;
    if (!target || !active || active === document.body || !target.contains(active)) return;
    if (target.matches(".poster-grid-item")) return; // My List page: the card goes (above)
    var parent = target.parentNode;
    var buttons = Array.prototype.slice.call(target.querySelectorAll("button, a[href], input, select, textarea"));
    restore = {
      parent: parent,
      index: Array.prototype.indexOf.call(parent.children, target),
      value: active.getAttribute("data-value"),
      position: buttons.indexOf(active),
      target: target
    };
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!restore) return;
    var r = restore;
    restore = null;
    var element = document.contains(r.target) ? r.target : r.parent.children[r.index];
    if (!element) return;
    var control = null;
    if (r.value) control = element.querySelector('[data-value="' + r.value + '"]');
    if (!control && r.position >= 0) {
      control = element.querySelectorAll("button, a[href], input, select, textarea")[r.position] || null;
    }
    if (control && document.activeElement !== control) control.focus();
  });

  // Mark the whole page as "JS on" so CSS can reveal script-only controls.
  document.documentElement.classList.add("js");
})();
