// Keyboard entry on the register page. The page works without this file:
// the form posts every field and "All present" fills blanks on the server.
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form) { return; }
  var codes = Array.prototype.slice.call(form.querySelectorAll(".code-input"));
  var saveButton = document.getElementById("save-register");
  var dirty = false;

  function focusAfter(input) {
    var next = codes[codes.indexOf(input) + 1];
    if (next) { next.focus(); next.select(); } else if (saveButton) { saveButton.focus(); }
  }

  codes.forEach(function (input) {
    input.addEventListener("keydown", function (event) {
      var late = /^[LU]$/i.test(input.value.trim());
      if (event.key === "Enter" || (event.key === "Tab" && !event.shiftKey && !late)) {
        event.preventDefault();
        focusAfter(input);
      }
    });
    input.addEventListener("input", function () { input.value = input.value.toUpperCase(); });
  });

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  var allPresent = document.getElementById("all-present");
  if (allPresent) {
    allPresent.addEventListener("click", function (event) {
      event.preventDefault();
      var code = allPresent.getAttribute("data-code");
      codes.forEach(function (input) { if (!input.value.trim()) { input.value = code; } });
      dirty = true;
      var firstBlank = codes[0];
      if (firstBlank) { firstBlank.focus(); firstBlank.select(); }
    });
  }
}());
