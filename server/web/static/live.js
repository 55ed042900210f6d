// The live table (/live): open alerts, sensors and agents from the JSON API, inside the operations layout.
// hazmon.js signs in, runs the live stream (/web/events) and shows "connection lost"; each `change` it announces
// (a hazmon:refresh on #live) reloads the tables, one reload at a time.
"use strict";
(function () {
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const time = (ms) => new Date(ms).toLocaleTimeString();
const fmt = (v) => Number.isInteger(v) ? v : v.toFixed(Math.abs(v) < 10 ? 2 : 1);
const api = (path) => window.hazmon.api(path);

// -- new critical alerts: a sound and a desktop notification (safety managers, while a page is open)
let seenAlerts = null;
function beep() {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const osc = ctx.createOscillator(); const gain = ctx.createGain();
    osc.frequency.value = 880; osc.connect(gain); gain.connect(ctx.destination);
    gain.gain.setValueAtTime(0.2, ctx.currentTime); osc.start(); osc.stop(ctx.currentTime + 0.6);
  } catch (e) { /* no audio device */ }
}
function announce(alerts) {
  const ids = new Set(alerts.map((a) => a.id));
  if (seenAlerts !== null && window.hazmon.role === "safety_manager") {
    const fresh = alerts.filter((a) => !seenAlerts.has(a.id) && (a.severity === "critical" || a.severity === "emergency"));
    for (const a of fresh) {
      window.hazmonAnnounced = (window.hazmonAnnounced || 0) + 1;
      beep();
      if ("Notification" in window && Notification.permission === "granted") {
        new Notification("hazmon: " + a.severity + " alert", {body: a.sensor + ": " + a.message, tag: "alert-" + a.id});
      }
    }
  }
  seenAlerts = ids;
}
$("enable-desktop").addEventListener("click", async () => {
  if ("Notification" in window) await Notification.requestPermission();
  beep();
  $("desktop").hidden = true;
});

async function refresh() {
  const [sensors, alerts, agents, status] = await Promise.all([api("/sensors"), api("/alerts?state=open"),
    api("/agents"), api("/status")]);
  $("warnings").innerHTML = status.warnings.map((w) => `<p class="banner warn">${esc(w)}</p>`).join("");
  announce(alerts);
  $("agents").tBodies[0].innerHTML = agents.map((a) => {
    const state = a.state === "online" ? "ok" : "stale";
    const outbox = a.outbox_readings === null ? "-" : `${a.outbox_readings} readings${a.outbox_full ? " (FULL)" : ""}`;
    const gaps = a.gaps.length ? a.gaps.map((g) => `seq ${g.first_seq}–${g.last_seq}` +
      (g.after_ts ? ` (${time(g.after_ts)}–${g.before_ts ? time(g.before_ts) : "?"})` : "")).join(", ") : "none";
    return `<tr data-agent="${esc(a.site)}/${esc(a.name)}"><td>${esc(a.site)}/${esc(a.name)}</td>` +
      `<td><span class="state ${state}">${esc(a.state)}</span></td><td>${a.last_seen_ms ? time(a.last_seen_ms) : "-"}</td>` +
      `<td>${outbox}</td><td>${a.oldest_unsent_ms ? time(a.oldest_unsent_ms) : "-"}</td><td>${esc(gaps)}</td></tr>`;
  }).join("");
  $("alert-count").textContent = "(" + alerts.length + ")";
  $("alerts").tBodies[0].innerHTML = alerts.length ? alerts.map((a) =>
    `<tr><td>${time(a.opened_ts)}</td><td class="sev-${esc(a.severity)}">${esc(a.severity)}</td><td>${esc(a.sensor)}</td>` +
    `<td>${esc(a.message)}</td><td>${fmt(a.worst_value)} ${esc(a.unit)}</td><td>${fmt(a.threshold)} ${esc(a.unit)}</td></tr>`).join("")
    : `<tr><td colspan="6" class="muted">No open alerts.</td></tr>`;
  $("sensors").tBodies[0].innerHTML = sensors.map((s) => {
    const values = s.latest.map((v) => `${esc(v.quantity)} <b>${fmt(v.value)}</b> ${esc(v.unit)}`).join(" · ");
    const newest = Math.max(0, ...s.latest.map((v) => v.ts));
    const c = s.calibration;
    const dues = c ? [c.calibration_due, c.bump_test_due && "bump " + c.bump_test_due].filter(Boolean).join(" · ") : "";
    const due = !c ? "-" : (c.overdue ? `<span class="overdue">overdue</span> ` : "") + esc(dues);
    return `<tr data-sensor="${esc(s.name)}"><td>${esc(s.name)}</td><td><span class="state ${esc(s.state)}">${esc(s.state)}</span></td>` +
      `<td>${values || '<span class="muted">unavailable</span>'}</td><td>${newest ? time(newest) : "-"}</td>` +
      `<td class="calibration">${due}</td></tr>`;
  }).join("");
  $("updated").textContent = "Last update " + new Date().toLocaleTimeString() + ".";
}

// one reload at a time: a change that comes while one runs is folded into one more after it
let running = false, again = false;
async function reload() {
  if (!window.hazmon.signedIn) return;
  if (running) { again = true; return; }
  running = true;
  try { await refresh(); } catch (e) { /* 401: hazmon.js shows the sign-in form; else the next change retries */ }
  running = false;
  if (again) { again = false; reload(); }
}

document.addEventListener("hazmon:signed-in", () => {
  const role = window.hazmon.role;
  $("desktop").hidden = role !== "safety_manager" || ("Notification" in window && Notification.permission === "granted");
  reload();
});
$("live").addEventListener("hazmon:refresh", reload);
})();
