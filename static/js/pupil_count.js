// Keeps the "Pupils (N selected)" heading of the behaviour log form in step
// with the ticked boxes. Without this file the server prints the count on
// each page load, so only the live update is lost.
(function () {
  "use strict";
  var picker = document.getElementById("pupil-picker");
  if (!picker) { return; }
  var heading = document.getElementById("pupils-heading");
  var status = document.getElementById("pupils-status");

  function tickedIn(container) {
    return container.querySelectorAll('input[type="checkbox"][name="pupil"]:checked').length;
  }

  function refresh() {
    var total = tickedIn(picker);
    heading.textContent = "Pupils (" + total + " selected)";
    Array.prototype.forEach.call(picker.querySelectorAll("details"), function (details) {
      var summary = details.querySelector("summary[data-group]");
      if (!summary) { return; }
      var count = tickedIn(details);
      var name = summary.getAttribute("data-group");
      summary.textContent = count ? name + ": " + count + " selected" : name;
    });
    // Only the status region is live, so screen readers hear the new count
    // once, after the current speech ends.
    status.textContent = total === 1 ? "1 pupil selected" : total + " pupils selected";
  }

  picker.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "pupil" && target.type === "checkbox") { refresh(); }
  });
  // A browser may restore ticks after Back without a fresh page from the server.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { refresh(); } });
})();
