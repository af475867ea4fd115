// The objective form: keeps "Total N% of 100%" in step with the weighting
// typed, and shows only the measure fields the chosen measure and scope use.
// Without this file every field is shown and the server prints the total,
// so the form still works and only the live updates are lost.
(function () {
  "use strict";
  var form = document.getElementById("objective-form");
  if (!form) { return; }

  var total = document.getElementById("weighting-total");
  var weighting = form.querySelector('input[name="weighting"]');
  var otherTotal = parseInt(total.getAttribute("data-other-total"), 10) || 0;

  function refreshTotal() {
    var typed = parseInt(weighting.value, 10);
    var sum = otherTotal + (isNaN(typed) ? 0 : typed);
    total.textContent = "Total " + sum + "% of 100%";
  }

  var measure = form.querySelector('select[name="measure"]');
  var scope = form.querySelector('select[name="measure_scope"]');
  var scopesData = document.getElementById("measure-scopes");
  var scopesOf = scopesData ? JSON.parse(scopesData.textContent) : {};

  // Offer only the scopes the chosen measure allows, and clear a scope it does not.
  function refreshScopeOptions() {
    var allowed = scopesOf[measure.value] || [];
    Array.prototype.forEach.call(scope.options, function (option) {
      option.disabled = option.value !== "" && allowed.indexOf(option.value) === -1;
    });
    if (scope.selectedOptions.length && scope.selectedOptions[0].disabled) { scope.value = ""; }
  }

  // A hidden field is also disabled, so a value left in it is not sent.
  function show(block, visible) {
    block.hidden = !visible;
    Array.prototype.forEach.call(block.querySelectorAll("input, select, textarea"), function (el) {
      el.disabled = !visible;
    });
  }

  function refreshMeasure() {
    refreshScopeOptions();
    var linked = measure.value !== "";
    Array.prototype.forEach.call(form.querySelectorAll("[data-needs-measure]"), function (block) {
      show(block, linked);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-scopes]"), function (block) {
      var scopes = block.getAttribute("data-scopes").split(" ");
      show(block, linked && scopes.indexOf(scope.value) !== -1);
    });
  }

  weighting.addEventListener("input", refreshTotal);
  measure.addEventListener("change", refreshMeasure);
  scope.addEventListener("change", refreshMeasure);
  refreshTotal();
  refreshMeasure();
})();
