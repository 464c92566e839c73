/* Ready texts for the buyer (transition forms): "Copy and record as sent" copies the text, as the
 * operator may have retouched it, to the clipboard, then submits its form, which records the
 * text as an outbound communication with the buyer. Without JavaScript the button only records
 * (the text is there to select and copy by hand). No inline script: the page's CSP allows none. */
(function () {
  "use strict";

  function copyBySelection(area) {
    area.focus();
    area.select();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function copy(area) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(area.value).then(
        function () { return true; },
        function () { return copyBySelection(area); }
      );
    }
    return Promise.resolve(copyBySelection(area));
  }

  // Resolve the dispute: once an outcome is chosen, only its text is shown.
  var outcome = document.getElementById("id_outcome");
  function showOutcome() {
    document.querySelectorAll("form[data-outcome]").forEach(function (form) {
      form.hidden = Boolean(outcome.value) && form.dataset.outcome !== outcome.value;
    });
  }
  if (outcome) {
    outcome.addEventListener("change", showOutcome);
    showOutcome();
  }

  document.querySelectorAll("form[data-ready-text]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.copied === "1") {
        return; // the second, real submit
      }
      event.preventDefault();
      var area = form.querySelector("textarea[name=text]");
      var status = form.querySelector(".ready-text-status");
      copy(area).then(function (copied) {
        form.dataset.copied = "1";
        var input = form.querySelector("input[name=copied]");
        if (input) {
          input.value = copied ? "1" : "0";
        }
        if (status) {
          status.textContent = copied ? status.dataset.copied : status.dataset.failed;
        }
        form.submit();
      });
    });
  });
})();
