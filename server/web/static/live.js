// The live table (/live): sensors, open alerts and agents, polled every 2 s.
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const time = (ms) => new Date(ms).toLocaleTimeString();
const fmt = (v) => Number.isInteger(v) ? v : v.toFixed(Math.abs(v) < 10 ? 2 : 1);

async function api(path, opts) {
  const r = await fetch("/api/v1" + path, Object.assign({credentials: "same-origin"}, opts));
  if (r.status === 401) { showLogin(); throw new Error("unauthorized"); }
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

function showLogin() { $("live").hidden = true; $("login").hidden = false; $("who").textContent = ""; }

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await fetch("/api/v1/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: $("username").value, password: $("password").value})});
  if (!r.ok) { $("error").textContent = "Wrong user name or password."; return; }
  $("error").textContent = ""; $("login").hidden = true; start();
});

// -- connection state: say so within 10 s when updates stop, instead of showing old values as current
const LOST_AFTER_MS = 6000;
let lastOk = 0;
function watchConnection() {
  const lost = lastOk && Date.now() - lastOk > LOST_AFTER_MS;
  $("connection").hidden = !lost;
  $("live").querySelectorAll("table").forEach((t) => t.classList.toggle("stale-data", !!lost));
  $("cadence").textContent = lost ? "Not updating." : "Updates every 2 s.";
  if (lost) $("connection").textContent = "Connection lost at " + time(lastOk) + ": values may be stale.";
}

// -- new critical alerts: a sound and a desktop notification (safety managers, while a page is open)
let seenAlerts = null;
let role = "";
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
  if (seenAlerts !== null && role === "safety_manager") {
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
  lastOk = Date.now();
  watchConnection();
}

let timer = null;
async function start() {
  try {
    const me = await api("/auth/me");
    $("who").textContent = me.name + " (" + me.role + ")";
    role = me.role;
    $("desktop").hidden = role !== "safety_manager" || ("Notification" in window && Notification.permission === "granted");
    $("live").hidden = false;
    await refresh();
    if (!timer) {
      timer = setInterval(() => refresh().catch(() => {}), 2000);
      setInterval(watchConnection, 1000);
    }
  } catch (e) { /* showLogin already called on 401 */ }
}
start();
