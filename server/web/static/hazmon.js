// Shared by the operations pages: sign-in (the session cookie), the page's partials loaded and refreshed with
// htmx, the live stream (/web/events, server-sent events) that refreshes the [data-live] parts when readings or
// alerts change, the connection banner that says when updates stop instead of showing old values as current, the
// nav links a role may follow, and signing out.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const hazmon = (window.hazmon = {signedIn: false, role: "", name: ""});

  // the pages' messages in the page's language (<script id="hazmon-i18n">, from the server's catalogue; English,
  // the source text, when it has none): t("Updated %(time)s.", {time: ...})
  const messages = (() => { try { return JSON.parse($("hazmon-i18n").textContent); } catch (e) { return {}; } })();
  const t = (hazmon.t = function (text, values) {
    const s = messages[text] || text;
    return values ? s.replace(/%\((\w+)\)s/g, (m, k) => (k in values ? String(values[k]) : m)) : s;
  });

  htmx.config.responseHandling = [
    {code: "204", swap: false},
    {code: "[23]..", swap: true},
    {code: "404", swap: true, error: true},
    {code: "[45]..", swap: false, error: true},
  ];

  hazmon.api = async function (path, opts) {
    const r = await fetch("/api/v1" + path, Object.assign({credentials: "same-origin"}, opts || {}));
    if (r.status === 401) { showLogin(); throw new Error(t("Sign in first.")); }
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return r.json();
  };
  hazmon.time = (ms) => new Date(ms).toLocaleTimeString();

  //: the roles as the header names them (in English their identifiers, server/accounts/roles)
  const ROLE_NAMES = {admin: t("admin"), safety_manager: t("safety_manager"), facilities: t("facilities"),
    record_keeper: t("record_keeper"), auditor: t("auditor"), worker: t("worker")};

  //: the roles that may read the operations pages (server/accounts/auth.py: STAFF, and admin)
  const STAFF = ["admin", "safety_manager", "facilities", "record_keeper", "auditor"];

  function showLogin() {
    hazmon.signedIn = false;
    stopStream();
    $("app").hidden = true; $("login").hidden = false; $("who").textContent = "";
    $("signout").hidden = true;
    $("language").hidden = true;
    $("connection").hidden = true;
    document.body.classList.remove("stale-data");
  }

  function showRole(role) {
    const staff = STAFF.includes(role);
    document.querySelectorAll("[data-staff]").forEach((el) => { el.hidden = !staff; });
    // a link some staff roles may not follow names the roles that may (the server refuses the others anyway)
    document.querySelectorAll("[data-roles]").forEach((el) => {
      el.hidden = !el.dataset.roles.split(" ").includes(role);
    });
    // a page open to other roles than the staff names them (<body data-allow>: the records pages, a worker's own file)
    const allow = document.body.dataset.allow;
    const ok = allow ? allow.split(" ").includes(role) : staff;
    $("no-access").hidden = ok;
    if (!ok) $("no-access").textContent = allow ? t("Your role (%(role)s) may not see this page.", {role: role})
      : t("Your role (%(role)s) may not see the operations pages.", {role: role});
    return ok;
  }

  $("signout").addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await fetch("/api/v1/auth/logout", {method: "POST", credentials: "same-origin"}); } catch (err) { /* gone anyway */ }
    showLogin();
  });

  $("language-choice").addEventListener("change", async (e) => {
    try {
      await hazmon.api("/auth/language", {method: "PUT", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({language: e.target.value})});
      location.reload();
    } catch (err) { $("no-access").hidden = false; $("no-access").textContent = err.message; }
  });

  // -- the live stream: a change refreshes the live parts; an error shows the banner until it reconnects
  let source = null;
  let streamLost = false;
  function liveParts() { return document.querySelectorAll("[data-live]"); }
  function showLost(lost) {
    streamLost = lost;
    $("connection").hidden = !lost;
    document.body.classList.toggle("stale-data", lost);
    if (lost) $("connection").textContent = t("Connection lost at %(time)s: values may be stale. Reconnecting…", {time: hazmon.time(lastOk || Date.now())});
    const cadence = $("cadence");
    if (cadence) cadence.textContent = lost ? t("Not updating.") : t("Live: updates as readings arrive.");
  }
  function stopStream() { if (source) { source.close(); source = null; } }
  function startStream() {
    if (source || !liveParts().length) return;
    source = new EventSource("/web/events");
    source.addEventListener("hello", () => {
      lastOk = Date.now();
      if (streamLost) { showLost(false); liveParts().forEach(refresh); }
    });
    source.addEventListener("change", () => {
      lastOk = Date.now();
      if (streamLost) showLost(false);
      liveParts().forEach(refresh);
    });
    source.addEventListener("error", () => {
      if (!hazmon.signedIn) return;
      showLost(true);
      if (source && source.readyState === EventSource.CLOSED) {  // refused (401/403, a restart): try again
        stopStream();
        setTimeout(async () => {
          try { await hazmon.api("/auth/me"); startStream(); } catch (err) { if (hazmon.signedIn) setTimeout(startStream, 3000); }
        }, 3000);
      }
    });
  }

  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await fetch("/api/v1/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: $("username").value, password: $("password").value})});
    if (!r.ok) { $("error").textContent = r.status === 429 ? t("Too many failed sign-ins: try again later.") : t("Wrong user name or password."); return; }
    $("error").textContent = ""; $("login").hidden = true; start();
  });

  // -- the connection: every successful refresh is a sign of life; none for LOST_AFTER_MS says so
  const LOST_AFTER_MS = 6000;
  let lastOk = 0;
  let live = false;
  function watchConnection() {
    if (streamLost) return;
    const lost = live && lastOk && Date.now() - lastOk > LOST_AFTER_MS;
    $("connection").hidden = !lost;
    document.body.classList.toggle("stale-data", !!lost);
    if (lost) $("connection").textContent = t("Connection lost at %(time)s: values may be stale.", {time: hazmon.time(lastOk)});
    const cadence = $("cadence");
    if (cadence && live) cadence.textContent = lost ? t("Not updating.") : t("Updates every 2 s.");
  }
  document.body.addEventListener("htmx:afterRequest", (e) => {
    const xhr = e.detail.xhr;
    if (xhr && xhr.status === 401) { showLogin(); return; }
    if (xhr && xhr.status > 0 && xhr.status < 500) {
      lastOk = Date.now();
      const updated = $("updated");
      if (updated) updated.textContent = t("Last update %(time)s.", {time: hazmon.time(lastOk)});
      watchConnection();
    }
  });

  document.body.addEventListener("htmx:afterSwap", () => { if (hazmon.signedIn) startStream(); });

  function refresh(el) { htmx.trigger(el, "hazmon:refresh"); }

  let started = false;
  async function start() {
    try {
      const me = await hazmon.api("/auth/me");
      Object.assign(hazmon, {signedIn: true, role: me.role, name: me.name});
      if (me.language !== document.documentElement.lang && !sessionStorage.getItem("hazmon-lang-reload")) {
        // signed in elsewhere, or before this browser had the user's language: take it and show the page in it
        sessionStorage.setItem("hazmon-lang-reload", "1");
        document.cookie = "hazmon_lang=" + encodeURIComponent(me.language) + "; path=/; samesite=strict";
        location.reload();
        return;
      }
      sessionStorage.removeItem("hazmon-lang-reload");
      $("who").textContent = me.name + " (" + (ROLE_NAMES[me.role] || me.role) + ")";
      $("signout").hidden = false;
      $("language").hidden = false;
      $("app").hidden = false;
    } catch (e) { return; /* showLogin already called on 401 */ }
    if (!showRole(hazmon.role)) return;
    document.querySelectorAll("[data-refresh]").forEach((el) => {
      refresh(el);
      const every = Number(el.dataset.refresh);
      if (every > 0 && !started) {
        live = true;
        setInterval(() => { if (hazmon.signedIn) refresh(el); }, every);
      }
    });
    startStream();
    if (!started && live) setInterval(watchConnection, 1000);
    started = true;
    document.dispatchEvent(new CustomEvent("hazmon:signed-in"));
  }
  // after htmx has processed the page (its own DOMContentLoaded listener was added first): a refresh triggered
  // earlier would reach parts htmx does not know yet and leave them "Loading..."
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
