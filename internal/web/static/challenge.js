// Challenge page behaviour that needs script; every page also works without it.
// The final CRes form posts itself to the 3DS Requestor after a short pause, the code field takes the focus, and the
// resend button counts its cool-down.
"use strict";
(function () {
  var cres = document.querySelector("form[data-autopost]");
  if (cres) {
    // The result stays readable for a moment before the page hands back to the shop.
    setTimeout(function () { cres.submit(); }, 2000);
    return;
  }
  var code = document.getElementById("code");
  var actions = document.querySelector(".actions");
  if (code) {
    // The challenge is framed by the merchant's page, another origin, and there Chromium ignores the
    // autofocus attribute: the page focuses the field itself, then scrolls it clear of the buttons.
    code.focus({preventScroll: true});
    var over = actions ? code.getBoundingClientRect().bottom - actions.getBoundingClientRect().top : 0;
    if (over > 0) { window.scrollBy(0, over + 8); }
  }
  if (actions && window.IntersectionObserver) {
    // A shadow above the buttons while they float over the text, so it reads as cut, not ended.
    var foot = document.createElement("div");
    actions.after(foot);
    new IntersectionObserver(function (seen) {
      var e = seen[seen.length - 1];
      actions.classList.toggle("stuck", !e.isIntersecting && e.boundingClientRect.top > 0);
    }).observe(foot);
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
