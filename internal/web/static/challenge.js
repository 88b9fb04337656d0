// Challenge page behaviour that needs script; every page also works without it.
// The final CRes form posts itself to the 3DS Requestor after a short pause, and the resend button counts its cool-down.
"use strict";
(function () {
  var cres = document.querySelector("form[data-autopost]");
  if (cres) {
    // The result stays readable for a moment before the page hands back to the shop.
    setTimeout(function () { cres.submit(); }, 2000);
    return;
  }
  var resend = document.getElementById("resend");
  var note = document.getElementById("cooldown");
  if (!resend || !note) {
    return;
  }
  var wait = parseInt(resend.getAttribute("data-wait") || "0", 10);
  if (!(wait > 0)) {
    return;
  }
  var template = note.getAttribute("data-template") || "%d";
  resend.disabled = true;
  var timer = setInterval(function () {
    wait--;
    if (wait <= 0) {
      clearInterval(timer);
      resend.disabled = false;
      note.textContent = "";
      return;
    }
    note.textContent = template.replace("%d", String(wait));
  }, 1000);
})();
