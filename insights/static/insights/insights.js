// Insights pages: the print button of the greenlight brief (no inline script: CSP).
document.addEventListener("click", function (event) {
  var button = event.target.closest(".js-print");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
// After a recompute finishes, the status fragment stops polling; reload once to show new figures.
document.addEventListener("htmx:afterSwap", function (event) {
  var el = event.detail.target;
  if (el && el.id === "insights-status" && !el.hasAttribute("hx-get")) {
    window.location.reload();
  }
});
