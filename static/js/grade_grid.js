// Keyboard entry on the grade grid. The page works without this file:
// the form posts every grade and the server checks them.
(function () {
  "use strict";
  var form = document.getElementById("grade-grid-form");
  if (!form) { return; }
  var inputs = Array.prototype.slice.call(form.querySelectorAll(".grade-input"));
  var saveButton = document.getElementById("save-grades");
  var dirty = false;

  function focusAfter(input) {
    var next = inputs[inputs.indexOf(input) + 1];
    if (next) { next.focus(); next.select(); } else if (saveButton) { saveButton.focus(); }
  }

  // Enter and Tab move to the next pupil's grade; Tab stops first at a row's
  // Remove box. Shift+Tab keeps its usual order, which reaches the pupil links.
  inputs.forEach(function (input) {
    var row = input.closest("tr");
    var remove = row ? row.querySelector("input[type=checkbox]") : null;
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || (event.key === "Tab" && !event.shiftKey && !remove)) {
        event.preventDefault();
        focusAfter(input);
      }
    });
    if (remove) {
      remove.addEventListener("keydown", function (event) {
        if (event.key === "Tab" && !event.shiftKey) {
          event.preventDefault();
          focusAfter(input);
        }
      });
    }
  });

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
}());
