/* open3ds checkout script: 3-D Secure in the merchant's page (docs/checkout.md). A message is
 * believed only if it comes from the 3DS Server that served this script and names the transaction
 * being waited for. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.src) { throw new Error("open3ds: load checkout.js with <script src>"); }
  var server = new URL(me.src).origin;

  // EMV browserColorDepth values; others round down to the nearest.
  var DEPTHS = [48, 32, 24, 16, 15, 8, 4, 1];
  // challengeWindowSize in CSS pixels; 05 is the whole viewport.
  var SIZES = {"01": [250, 400], "02": [390, 400], "03": [500, 600], "04": [600, 400]};
  var BAR = 36, MARGIN = 16, PHONE = 420; // close bar height, room round the modal, phone width

  function browserData() {
    var d = screen.colorDepth, lang = navigator.language || "en";
    // browserLanguage has at most 8 characters: drop subtags from the end ("zh-Hans-CN" → "zh-Hans").
    while (lang.length > 8 && lang.indexOf("-") > 0) { lang = lang.slice(0, lang.lastIndexOf("-")); }
    return {javaEnabled: false, javascriptEnabled: true, language: lang.slice(0, 8),
      colorDepth: String(DEPTHS.find(v => v <= d) || 1), screenHeight: String(screen.height),
      screenWidth: String(screen.width), tz: String(new Date().getTimezoneOffset()), userAgent: navigator.userAgent};
  }

  function viewport() { return [document.documentElement.clientWidth || innerWidth, innerHeight]; }

  // The largest window that fits with the close bar and a margin; a phone (under 420 px wide) gets
  // 05, full screen. 01 never wins: it is as tall as 02, and a viewport too narrow for 02 is a phone.
  function windowSize() {
    var [w, h] = viewport();
    if (w < PHONE) { return "05"; }
    return ["03", "02"].find(s => SIZES[s][0] + MARGIN <= w && SIZES[s][1] + BAR + MARGIN <= h) || "05";
  }

  // idOf reads threeDSServerTransID from base64url JSON (threeDSMethodData, creq).
  function idOf(field) {
    try {
      return JSON.parse(atob(String(field).replace(/-/g, "+").replace(/_/g, "/"))).threeDSServerTransID || "";
    } catch (e) { return ""; }
  }

  function el(tag, attrs, ...styles) {
    var e = document.createElement(tag);
    Object.keys(attrs).forEach(k => e.setAttribute(k, attrs[k]));
    Object.assign(e.style, ...styles);
    return e;
  }
  // Both overlays cover the viewport and centre what they hold.
  var COVER = {position: "fixed", top: "0", left: "0", right: "0", bottom: "0", display: "flex", alignItems: "center",
    justifyContent: "center"};
  var FONT = "16px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif";

  // layer makes what the script draws immune to the merchant's CSS: an element of its own name under
  // <html> (a transform on <body> would pin "fixed" to the body), every property reset by an
  // important inline style, which beats any stylesheet, and the content in a shadow root, which no
  // outside selector reaches. It returns [host, root]; remove the host to take it all away.
  function layer(name, z) {
    var host = document.createElement("open3ds-" + name);
    host.style.setProperty("all", "initial", "important");
    Object.entries({display: "block", position: "fixed", top: "0", left: "0", width: "0", height: "0", "z-index": z || "auto",
      visibility: "visible", opacity: "1"}).forEach(([k, v]) => host.style.setProperty(k, v, "important"));
    document.documentElement.appendChild(host);
    return [host, host.attachShadow ? host.attachShadow({mode: "open"}) : host];
  }

  // post submits fields to url, into the frame named target or at top level.
  function post(url, target, fields) {
    var [host, root] = layer("form");
    var f = el("form", {method: "post", action: url, target: target || "_self"}, {display: "none"});
    Object.keys(fields).forEach(k => fields[k] != null && f.appendChild(el("input", {type: "hidden", name: k, value: fields[k]})));
    root.appendChild(f);
    f.submit();
    host.remove();
  }

  function emit(name, detail) { dispatchEvent(new CustomEvent(name, {detail})); }
  // An authenticate answer or a notification as an outcome: {id, transStatus} or {id, errorCode}.
  function outcome(id, o) { return o.transStatus ? {id, transStatus: o.transStatus} : {id, errorCode: o.errorCode || ""}; }

  // listen calls fn(data) for each message of type from the 3DS Server until stop() is called.
  function listen(type, fn) {
    function on(e) { if (e.origin === server && e.data && e.data.type === type) { fn(e.data); } }
    addEventListener("message", on);
    return () => removeEventListener("message", on);
  }

  // runMethod resolves Y when the 3DS Server says the ACS's notification came, N when timeoutMs
  // (10 s, the EMV rule) pass first, U at once when the card's range has no 3DS Method.
  function runMethod(method, opts) {
    var ms = opts && opts.timeoutMs != null ? opts.timeoutMs : 10000;
    function settle(v) { emit("open3ds:method", {compInd: v}); return v; }
    return new Promise((resolve, reject) => {
      if (!method || !method.url) { resolve(settle("U")); return; }
      var id = idOf(method.threeDSMethodData), name = "open3ds-method-" + id;
      if (!id) { reject(new Error("open3ds: threeDSMethodData names no transaction")); return; }
      var [host, root] = layer("method"), frame = el("iframe", {name, title: "3DS Method", "aria-hidden": "true", tabindex: "-1"},
        {position: "absolute", width: "0", height: "0", border: "0", visibility: "hidden"});
      var stop = listen("open3ds:method", d => d.id === id && end("Y"));
      var timer = setTimeout(end, ms, "N");
      root.appendChild(frame);
      post(method.url, name, {threeDSMethodData: method.threeDSMethodData});
      function end(v) { clearTimeout(timer); stop(); host.remove(); resolve(settle(v)); }
    });
  }

  // The card scheme by the card number's first digits (a masked PAN keeps them), for the panel's
  // words; the mark itself is the same for all, as no scheme's logo is ours to draw.
  function scheme(card) {
    var d = String(card || "").replace(/\D/g, ""), n4 = +d.slice(0, 4);
    if (/^3[47]/.test(d)) { return "American Express"; }
    if (/^5[1-5]/.test(d) || (n4 >= 2221 && n4 <= 2720)) { return "Mastercard"; }
    return /^4/.test(d) ? "Visa" : "";
  }

  // mark draws a shield with a tick and "<scheme> secure checkout".
  function mark(name) {
    var NS = "http://www.w3.org/2000/svg", svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 28");
    svg.setAttribute("aria-hidden", "true");
    Object.assign(svg.style, {width: "24px", height: "28px", flex: "none"});
    [["M12 1 23 5v8c0 7-4.8 12-11 14C5.8 25 1 20 1 13V5z", "#0f5e4b", ""], ["M7 14l3.5 3.5L17 10", "none", "#fff"]].forEach(([d, fill, stroke]) => {
      var p = document.createElementNS(NS, "path");
      p.setAttribute("d", d);
      p.setAttribute("fill", fill);
      if (stroke) { p.setAttribute("stroke", stroke); p.setAttribute("stroke-width", "2.4"); }
      svg.appendChild(p);
    });
    var box = el("div", {id: "mark"}, {display: "flex", alignItems: "center", gap: "8px", color: "#0f5e4b", font: "600 14px/1.2 system-ui, sans-serif"});
    box.append(svg, (name ? name + " " : "") + "secure checkout");
    return box;
  }

  // The status panel stays up at least MIN_SHOW ms, so that no one sees a flash they cannot read.
  var MIN_SHOW = 1000, status, shownAt = 0;
  function showStatus(text, card, detail) {
    hideStatus();
    var [host, root] = layer("status", "2147483646");
    var cover = el("div", {}, COVER, {background: "rgba(255,255,255,.85)", font: FONT, color: "#1b1b1f"});
    var panel = el("div", {id: "panel"}, {display: "flex", flexDirection: "column", alignItems: "center", gap: "16px",
      background: "#fff", border: "1px solid #d0d4da", borderRadius: "12px", boxShadow: "0 8px 32px rgba(0,0,0,.18)",
      padding: "24px 28px", margin: "16px", maxWidth: "320px", textAlign: "center"});
    var spin = el("div", {id: "spinner", "aria-hidden": "true"}, {width: "32px", height: "32px", boxSizing: "border-box",
      border: "4px solid #d7e6e1", borderTopColor: "#0f5e4b", borderRadius: "50%"});
    // The status region is in the page before its words, so screen readers announce them.
    var words = el("p", {id: "status", role: "status", "aria-live": "polite"}, {margin: "0", font: "500 17px/1.4 system-ui, sans-serif"});
    panel.append(mark(scheme(card)), spin, words);
    if (detail) {
      var more = el("p", {id: "detail"}, {margin: "0", font: "400 15px/1.4 system-ui, sans-serif", color: "#44474f"});
      more.textContent = detail;
      panel.append(more);
    }
    cover.appendChild(panel);
    root.appendChild(cover);
    if (spin.animate && !matchMedia("(prefers-reduced-motion: reduce)").matches) {
      spin.animate([{transform: "rotate(0)"}, {transform: "rotate(360deg)"}], {duration: 900, iterations: Infinity});
    }
    setTimeout(() => { words.textContent = text || "Verifying your purchase…"; }, 50);
    status = host;
    shownAt = performance.now();
  }
  function hideStatus() { if (status) { status.remove(); status = null; } }
  // hideStatusSoon hides the panel once it has been up MIN_SHOW ms.
  function hideStatusSoon() {
    var left = shownAt + MIN_SHOW - performance.now();
    return new Promise(done => setTimeout(done, Math.max(0, left))).then(hideStatus);
  }

  // challenge resolves with the outcome the notification page posts, or {id, cancelled: true} when
  // the shopper closes the modal. With redirect, or if no modal can be made, the page goes to the
  // ACS instead and the promise never settles.
  function challenge(ch, opts) {
    var id = idOf(ch && ch.creq);
    if (!id || !ch.acsURL) { return Promise.reject(new Error("open3ds: the challenge form is incomplete")); }
    var fields = {creq: ch.creq, threeDSSessionData: ch.threeDSSessionData};
    if (!(opts && opts.redirect)) {
      try { return modal(ch, id, fields); } catch (e) { /* no modal possible: redirect */ }
    }
    post(ch.acsURL, null, fields);
    return new Promise(() => {});
  }

  function modal(ch, id, fields) {
    var name = "open3ds-challenge-" + id, size = SIZES[ch.windowSize], before = document.activeElement;
    var [host, root] = layer("challenge", "2147483647");
    var back = el("div", {}, COVER, {background: "rgba(0,0,0,.5)", overflow: "auto", font: FONT});
    var box = el("div", {role: "dialog", "aria-modal": "true", "aria-label": "Verify your purchase"},
      {background: "#fff", display: "flex", flexDirection: "column", overflow: "auto", borderRadius: size ? "8px" : "0"});
    // Dark on white whatever the page's own buttons look like: the shopper's one way out.
    var close = el("button", {type: "button", id: "close", "aria-label": "Cancel", title: "Cancel"}, {alignSelf: "flex-end",
      height: BAR + "px", minWidth: BAR + "px", margin: "0", padding: "0 8px", border: "0", borderRadius: "6px",
      background: "#fff", color: "#1b1b1f", font: "28px/1 system-ui, sans-serif", cursor: "pointer"});
    close.textContent = "×";
    var frame = el("iframe", {name, title: "Card verification"}, {border: "0", display: "block", background: "#fff"});
    // Sized per windowSize, but never past the viewport: the ACS page scrolls instead.
    function fit() {
      var [vw, vh] = viewport();
      frame.style.width = (size ? Math.min(size[0], vw - MARGIN) : vw) + "px";
      frame.style.height = (size ? Math.min(size[1], vh - MARGIN - BAR) : vh - BAR) + "px";
    }
    fit();
    box.append(close, frame);
    back.appendChild(box);
    root.appendChild(back);
    if (!frame.contentWindow) { host.remove(); throw new Error("no iframe"); }
    return new Promise(resolve => {
      var stop = listen("open3ds:challenge", d => d.outcome && d.outcome.id === id && end(outcome(id, d.outcome)));
      function cancel() { end({id, cancelled: true}); }
      // Escape works while focus is in this page; inside the ACS's frame, its keys are the ACS's.
      function onKey(e) { if (e.key === "Escape") { cancel(); } }
      // Focus stays in the dialog: the close button or the ACS page. Focus inside the shadow root
      // shows outside it as focus on the host.
      function onFocus(e) { if (e.target !== host) { close.focus(); } }
      function end(out) {
        stop();
        removeEventListener("resize", fit);
        document.removeEventListener("keydown", onKey);
        document.removeEventListener("focusin", onFocus);
        host.remove();
        if (before && before.focus) { before.focus(); }
        // A CRes D (2.3.1 decoupled fallback) is not an outcome yet: checkout waits for the final one.
        if (out.transStatus !== "D") { emit("open3ds:outcome", out); }
        resolve(out);
      }
      close.addEventListener("click", cancel);
      addEventListener("resize", fit);
      document.addEventListener("keydown", onKey);
      document.addEventListener("focusin", onFocus);
      frame.addEventListener("load", () => frame.focus(), {once: true});
      close.focus();
      post(ch.acsURL, name, fields);
    });
  }

  // A decoupled authentication (transStatus D) ends outside the page: the cardholder approves in the
  // bank's app, and the bank's RReq brings the final result to the 3DS Server. decoupled shows so,
  // with the ACS's own words, and asks o.result(id) (the merchant back end's reading of the
  // result) every POLL_MS until it is final or o.decoupledWaitMs (15 minutes) have passed; then it
  // resolves as a challenge does, or with {id, transStatus: "D", pending: true} when nothing final
  // came. Without o.result it resolves pending at once, for the page to follow up.
  var POLL_MS = 2000;
  function sleep(ms) { return new Promise(done => setTimeout(done, ms)); }
  async function decoupled(res, o) {
    var pending = {id: res.id, transStatus: "D", pending: true};
    if (typeof o.result !== "function") { emit("open3ds:outcome", pending); return pending; }
    showStatus("Approve this payment in your bank's app", o.card, res.cardholderInfo || "");
    emit("open3ds:decoupled", {id: res.id, cardholderInfo: res.cardholderInfo || ""});
    var until = performance.now() + (o.decoupledWaitMs || 15 * 60 * 1000), out = pending;
    while (performance.now() < until) {
      await sleep(o.pollMs || POLL_MS);
      var r = null;
      try { r = await o.result(res.id); } catch (e) { /* a failed read is tried again at the next poll */ }
      if (r && r.final) { out = outcome(res.id, r); break; }
    }
    hideStatus();
    emit("open3ds:outcome", out);
    return out;
  }

  // checkout runs everything after Buy: the 3DS Method (or the one already running), the page's
  // authenticate(data), then the frictionless outcome or the challenge's. o.card, the card number or
  // the start answer's maskedPan, names the card's scheme on the status panel.
  async function checkout(o) {
    if (!o || typeof o.authenticate !== "function") { throw new Error("open3ds: checkout needs authenticate"); }
    showStatus(o.statusText, o.card);
    var res;
    try {
      var compInd = await (o.method && typeof o.method.then === "function" ? o.method : runMethod(o.method));
      res = await o.authenticate({threeDSCompInd: compInd, browser: browserData(), challengeWindowSize: windowSize()});
    } finally {
      // The challenge's modal takes over at once; anything else waits until the panel was readable.
      if (res && res.id && (res.challenge || res.transStatus === "D")) { hideStatus(); } else { await hideStatusSoon(); }
    }
    if (!res || !res.id) { throw new Error("open3ds: authentication failed: " + (res && (res.detail || res.title) || "no answer")); }
    if (res.challenge) {
      // A challenge the cardholder moved to the bank's app (2.3.1 decoupled fallback) ends with a
      // CRes D: the result then comes as for an ARes D.
      var c = await challenge(res.challenge, {redirect: o.redirect});
      return c.transStatus === "D" ? decoupled({id: c.id}, o) : c;
    }
    if (res.transStatus === "D" && !res.final) { return decoupled(res, o); }
    var out = outcome(res.id, res);
    emit("open3ds:outcome", out);
    return out;
  }

  window.Open3DS = {browserData, windowSize, runMethod, showStatus, hideStatus, challenge, checkout};
})();
