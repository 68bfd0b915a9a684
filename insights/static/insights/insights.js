// Insights pages: the print button of the greenlight brief (no inline script: CSP).
// The dashboard's progress needs no script of ours: htmx polls the status fragment, and its last
// answer stops the polling and swaps the fresh figures in (views.status).
document.addEventListener("click", function (event) {
  var button = event.target.closest(".js-print");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
