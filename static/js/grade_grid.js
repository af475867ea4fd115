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

  // Enter moves to the next pupil's grade instead of submitting the form.
  // Tab keeps its usual order, which passes through a row's Remove box.
  inputs.forEach(function (input) {
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        focusAfter(input);
      }
    });
  });

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
}());
