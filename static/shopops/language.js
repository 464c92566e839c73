// The language switcher submits as soon as a language is chosen (no inline handler: the
// Content-Security-Policy allows only our own script files).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const select = document.getElementById("language-select");
  if (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  }
});
