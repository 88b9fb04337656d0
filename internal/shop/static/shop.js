/* The demo shop's checkout page. Once the typed card number is complete it starts the
 * authentication on the shop's back end, shows the secure-checkout logo for an enrolled card and
 * runs the 3DS Method while the shopper types the rest; Buy hands over to the 3DS Server's checkout
 * script (window.Open3DS), and the outcome leads to the order page, which asks the 3DS Server for
 * the result. The card number goes only to the shop's own back end. */
(function () {
  "use strict";
  var form = document.getElementById("checkout");
  var card = document.getElementById("card-number");
  var expiry = document.getElementById("expiry");
  var name = document.getElementById("name");
  var email = document.getElementById("email");
  var logo = document.getElementById("secure-logo");
  var errors = document.getElementById("errors");
  var buy = document.getElementById("buy");
  // save asks the bank to verify the card without a payment (a non-payment authentication).
  var save = document.getElementById("save-card");
  var accept = form.dataset.accept || "";
  var fields = {cardNumber: card, expiry: expiry, name: name, email: email, product: document.getElementById("product")};

  // attempt is the authentication started for the number in the field now:
  // {number, ready: Promise<start answer>, method: Promise<threeDSCompInd>}.
  var attempt = null;

  function digits(v) { return v.replace(/\s+/g, ""); }

  function luhn(d) {
    var sum = 0;
    for (var i = 0; i < d.length; i++) {
      var n = +d[d.length - 1 - i];
      if (i % 2 === 1) { n *= 2; if (n > 9) { n -= 9; } }
      sum += n;
    }
    return sum % 10 === 0;
  }

  // cardProblem says what is wrong with a card number, or "" when it is complete.
  function cardProblem(d) {
    if (!/^[0-9]*$/.test(d)) { return "can only hold digits and spaces"; }
    if (d.length < 13 || d.length > 19) { return "must have 13 to 19 digits"; }
    if (!luhn(d)) { return "is not valid; please check it for a typo"; }
    return "";
  }

  // problemError carries an API problem document to the place that shows it.
  function problemError(p, status) {
    var e = new Error(p.detail || p.title || ("HTTP " + status));
    e.problem = p;
    return e;
  }

  async function postJSON(url, body) {
    var resp = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body), credentials: "same-origin"});
    var data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) { throw problemError(data || {}, resp.status); }
    return data;
  }

  // showErrors lists what went wrong and marks the fields the problem names. After Buy it also moves
  // focus to the message; when the shopper is only moving between fields, focus stays where it went.
  function showErrors(err, stay) {
    clearErrors();
    var p = err && err.problem, items = [];
    var text = err instanceof TypeError ? "We could not reach the shop. Please check your connection and try again."
      : (err && err.message) || "Something went wrong. Please try again.";
    (p && p.errors || []).forEach(function (fe) {
      var input = fields[fe.field];
      if (input) { input.setAttribute("aria-invalid", "true"); }
      items.push(label(fe.field) + " " + fe.detail + ".");
    });
    var head = document.createElement("p");
    head.textContent = text.charAt(0).toUpperCase() + text.slice(1);
    errors.appendChild(head);
    if (items.length) {
      var ul = document.createElement("ul");
      items.forEach(function (t) { var li = document.createElement("li"); li.textContent = t; ul.appendChild(li); });
      errors.appendChild(ul);
    }
    if (!stay) { errors.focus(); }
  }

  // label names a field the way the form does.
  function label(field) {
    var input = fields[field];
    if (input && input.labels && input.labels[0]) { return input.labels[0].textContent.replace(/\s*\(.*\)$/, ""); }
    if (field === "product") { return "Product"; }
    return field;
  }

  function clearErrors() {
    errors.textContent = "";
    Object.keys(fields).forEach(function (k) { fields[k].removeAttribute("aria-invalid"); });
  }

  // begin starts an authentication for a complete number; a changed number drops the last one.
  function begin() {
    var d = digits(card.value);
    if (attempt && attempt.number === d) { return attempt; }
    logo.hidden = true;
    attempt = null;
    if (cardProblem(d)) { return null; }
    var a = {number: d};
    a.ready = postJSON("/api/start", {cardNumber: d}).then(function (res) {
      if (attempt === a) {
        logo.hidden = !res.showLogo;
        a.method = window.Open3DS ? Open3DS.runMethod(res.threeDSMethod || null, {timeoutMs: 10000}) : null;
        // A failed 3DS Method surfaces at Buy, where checkout awaits it.
        if (a.method) { a.method.catch(function () {}); }
      }
      return res;
    });
    // A failed start is shown at Buy, or when the shopper leaves the field; not while typing.
    a.ready.catch(function () {});
    attempt = a;
    return a;
  }

  // While the shopper types, a prefix of a longer number can pass the Luhn check; starting on each
  // such prefix would start authentications for cards nobody has. So a number counts as typed after
  // a short pause, when the shopper leaves the field, or at Buy.
  var pause = null;
  // A field the shopper edits is no longer marked wrong; the message stays until the next Buy.
  form.addEventListener("input", function (e) { e.target.removeAttribute("aria-invalid"); });
  card.addEventListener("input", function () {
    clearTimeout(pause);
    if (attempt && attempt.number !== digits(card.value)) { attempt = null; logo.hidden = true; }
    pause = setTimeout(begin, 500);
  });
  card.addEventListener("change", function () {
    clearTimeout(pause);
    var problem = cardProblem(digits(card.value));
    if (problem && digits(card.value) !== "") {
      showErrors(problemError({detail: "Please check the card number.", errors: [{field: "cardNumber", detail: problem}]}), true);
      return;
    }
    var a = begin();
    if (a) { a.ready.catch(function (err) { if (attempt === a) { showErrors(err, true); } }); }
  });

  // The price on the Buy button follows the chosen product.
  function price() {
    var chosen = form.querySelector("input[name=product]:checked");
    buy.textContent = chosen ? "Buy for " + chosen.dataset.price : "Buy";
  }
  // shoppersChoice is the product the shopper had chosen before a test card's "Use" chose another for
  // its ending (the road bike for the risk-driven challenge); a card without one gives it back.
  var shoppersChoice = null;
  form.addEventListener("change", function (e) {
    if (e.target.name === "product") { shoppersChoice = null; price(); }
  });

  function chooseProduct(id) {
    var chosen = form.querySelector("input[name=product]:checked");
    var wanted = id ? form.querySelector("input[name=product][value=\"" + CSS.escape(id) + "\"]") : shoppersChoice;
    if (!wanted || wanted === chosen) { return; }
    if (id && !shoppersChoice) { shoppersChoice = chosen; }
    if (!id) { shoppersChoice = null; }
    wanted.checked = true;
    price();
  }

  document.querySelectorAll(".use-card").forEach(function (b) {
    b.addEventListener("click", function () {
      chooseProduct(b.dataset.product || "");
      card.value = b.dataset.number;
      expiry.value = b.dataset.expiry;
      card.dispatchEvent(new Event("input", {bubbles: true}));
      name.focus();
    });
  });

  // check finds what the shopper must fix before Buy can go ahead, field by field.
  function check() {
    var list = [], problem = cardProblem(digits(card.value));
    if (problem) { list.push({field: "cardNumber", detail: problem}); }
    if (!/^\s*(0[1-9]|1[0-2])\s*\/\s*[0-9]{2}\s*$/.test(expiry.value)) { list.push({field: "expiry", detail: "must be MM/YY, as printed on the card"}); }
    if (name.value.trim().length < 2) { list.push({field: "name", detail: "is required"}); }
    return list;
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    clearErrors();
    var list = check();
    if (list.length) {
      showErrors(problemError({detail: "Please check the form.", errors: list}));
      return;
    }
    if (!window.Open3DS) {
      showErrors(new Error("The secure checkout could not be loaded. Please reload the page and try again."));
      return;
    }
    clearTimeout(pause);
    var a = begin(), product = form.querySelector("input[name=product]:checked");
    var saving = !!(e.submitter && e.submitter === save);
    buy.disabled = true;
    if (save) { save.disabled = true; }
    try {
      var started = await a.ready;
      var outcome = await Open3DS.checkout({
        method: a.method || Open3DS.runMethod(started.threeDSMethod || null, {timeoutMs: 10000}),
        statusText: "Checking with your bank…",
        card: started.maskedPan || a.number,
        authenticate: function (data) {
          return postJSON("/api/authenticate/" + encodeURIComponent(started.id), {
            product: product && !saving ? product.value : "", saveCard: saving, expiry: expiry.value, name: name.value, email: email.value,
            acceptHeader: accept, threeDSCompInd: data.threeDSCompInd, browser: data.browser,
            challengeWindowSize: data.challengeWindowSize});
        },
        // A decoupled authentication waits for the bank's answer: the shop's back end reads it.
        result: function (id) {
          return fetch("/api/result/" + encodeURIComponent(id), {headers: {Accept: "application/json"}}).then(function (r) {
            if (!r.ok) { throw new Error("result: HTTP " + r.status); }
            return r.json();
          });
        }});
      location.assign("/orders/" + encodeURIComponent(outcome.id) + (outcome.cancelled ? "?cancelled=1" : ""));
    } catch (err) {
      // Only the shop's own checks leave the authentication unused; after anything else the next
      // Buy starts a new one.
      if (!(err.problem && err.problem.status === 422 && err.problem.errors &&
            err.problem.errors.every(function (fe) { return fields[fe.field]; }))) {
        attempt = null;
      }
      showErrors(err);
      buy.disabled = false;
      if (save) { save.disabled = false; }
    }
  });

  price();
  buy.disabled = false;
  if (save) { save.disabled = false; }
  if (digits(card.value)) { begin(); }
})();

// Passkey sign-in: the shop checks the passkey itself (passkey.go) and sends the sign-in with the
// next purchase, which the bank may then let through without asking.
(function () {
  "use strict";
  var button = document.getElementById("passkey"), status = document.getElementById("passkey-status");
  if (!button || !window.PublicKeyCredential || !navigator.credentials) { return; }
  button.hidden = false;

  function enc(buf) {
    var s = "", b = new Uint8Array(buf);
    for (var i = 0; i < b.length; i++) { s += String.fromCharCode(b[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function dec(s) {
    var bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    var b = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { b[i] = bin.charCodeAt(i); }
    return b;
  }
  async function post(url, body) {
    var resp = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body || {}), credentials: "same-origin"});
    var data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) { var err = new Error((data && data.detail) || ("HTTP " + resp.status)); err.status = resp.status; throw err; }
    return data;
  }
  async function register() {
    var o = await post("/api/passkey/options");
    var cred = await navigator.credentials.create({publicKey: {
      challenge: dec(o.challenge), rp: {id: o.rpId, name: o.rpName},
      user: {id: dec(o.userId), name: "shopper", displayName: "Demo shopper"},
      pubKeyCredParams: [{type: "public-key", alg: -7}],
      authenticatorSelection: {residentKey: "required", userVerification: "required"}, attestation: "none"}});
    await post("/api/passkey/register", {id: cred.id, clientDataJSON: enc(cred.response.clientDataJSON),
      publicKey: enc(cred.response.getPublicKey()), publicKeyAlgorithm: cred.response.getPublicKeyAlgorithm()});
    localStorage.setItem("open3ds-shop-passkey", "1");
  }
  async function signIn() {
    var o = await post("/api/passkey/options");
    var cred = await navigator.credentials.get({publicKey: {challenge: dec(o.challenge), rpId: o.rpId, userVerification: "required"}});
    var r = cred.response;
    await post("/api/passkey/login", {id: cred.id, rawId: enc(cred.rawId), type: cred.type, response: {
      clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData), signature: enc(r.signature),
      userHandle: r.userHandle ? enc(r.userHandle) : undefined}});
  }
  button.addEventListener("click", async function () {
    button.disabled = true;
    status.textContent = "Waiting for your passkey…";
    try {
      if (!localStorage.getItem("open3ds-shop-passkey")) { await register(); }
      try {
        await signIn();
      } catch (err) {
        // The shop forgot the passkey (it keeps them in memory): make a new one.
        if (err.status !== 404) { throw err; }
        await register();
        await signIn();
      }
      status.textContent = "Signed in with your passkey.";
      status.classList.add("signed-in");
      button.hidden = true;
    } catch (err) {
      status.textContent = "The passkey sign-in did not complete: " + (err.message || "please try again") + ".";
      button.disabled = false;
    }
  });
})();
