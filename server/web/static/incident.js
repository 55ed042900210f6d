// The incident page (/incident): checklist and muster of the open incidents.
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const when = (ms) => ms ? new Date(ms).toLocaleString() : "";
const id = new URLSearchParams(location.search).get("id");
async function api(path, opts) {
  const r = await fetch("/api/v1" + path, Object.assign({credentials: "same-origin"}, opts));
  if (r.status === 401) { location.href = "/"; throw new Error("log in first"); }
  if (!r.ok) throw new Error((await r.json()).detail || r.statusText);
  return r.json();
}
const post = (path, body) => api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});
async function loadList() {
  const rows = await api("/incidents");
  $("list").innerHTML = "<table><tr><th>opened</th><th>incident</th><th>where</th><th>state</th><th>muster</th></tr>" +
    rows.map((i) => `<tr><td>${when(i.opened_ms)}</td><td><a href="/incident?id=${i.id}">${i.drill ? "[DRILL] " : ""}${esc(i.title)}</a></td>
      <td>${esc(i.site)}${i.zone ? "/" + esc(i.zone) : ""}</td><td>${esc(i.state)}</td><td>${i.muster_count.safe} / ${i.muster_count.expected}</td></tr>`).join("") + "</table>";
}
async function loadOne() {
  const r = await api(`/incidents/${id}`);
  $("one").hidden = false; $("drill").hidden = !r.drill;
  $("title").textContent = (r.drill ? "[DRILL] " : "") + r.title + " — " + r.state;
  $("meta").textContent = `${r.site}${r.zone ? "/" + r.zone : ""} · opened ${when(r.opened_ms)} by ${r.opened_by} · ${r.trigger}`;
  $("safe").textContent = r.muster_count.safe; $("expected").textContent = r.muster_count.expected;
  $("missing").textContent = r.muster_count.missing;
  $("steps").innerHTML = r.steps.map((s) => `<tr><td>${s.idx}</td><td>${esc(s.title)}</td><td>${esc(s.owner)}</td>
    <td>${s.done_ms ? "done by " + esc(s.done_by) + " " + when(s.done_ms) : (r.state === "open" ? `<button data-step="${s.idx}">done</button>` : "NOT DONE")}</td></tr>`).join("");
  $("muster").innerHTML = r.muster.map((m) => `<tr><td>${esc(m.name)} <span class="muted">${esc(m.person)}</span></td>
    <td>${m.safe_ms ? "safe " + when(m.safe_ms) + " (" + esc(m.via) + ")" : (r.state === "open" ? `<button data-safe="${esc(m.person)}">mark safe</button>` : "NOT ACCOUNTED FOR")}</td></tr>`).join("");
  $("timeline").innerHTML = r.timeline.map((t) => `<tr><td>${when(t.ts_ms)}</td><td>${esc(t.actor)}</td><td>${esc(t.kind)}</td><td>${esc(t.text)}</td></tr>`).join("");
  $("report").href = `/incidents/${id}/report.html`; $("close").hidden = r.state !== "open";
}
document.addEventListener("click", async (e) => {
  try {
    if (e.target.dataset.step) await post(`/incidents/${id}/steps/${e.target.dataset.step}/complete`, {note: prompt("Note (optional)") ?? ""});
    else if (e.target.dataset.safe) await post(`/incidents/${id}/muster/${encodeURIComponent(e.target.dataset.safe)}`);
    else if (e.target.id === "close") { const text = prompt("Close-out note"); if (!text) return; await post(`/incidents/${id}/close`, {text}); }
    else return;
    loadOne();
  } catch (err) { $("error").textContent = err.message; }
});
const load = () => (id ? loadOne() : loadList()).catch((e) => { $("error").textContent = e.message; });
load(); setInterval(load, 3000);
