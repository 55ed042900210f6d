const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const when = (ms) => ms ? new Date(ms).toLocaleString() : "";
async function api(path, opts) {
  const r = await fetch("/api/v1" + path, Object.assign({credentials: "same-origin"}, opts));
  if (r.status === 401) { location.href = "/"; throw new Error("log in first"); }
  if (!r.ok) throw new Error((await r.json()).detail || r.statusText);
  return r.json();
}
async function load() {
  const params = new URLSearchParams(new FormData($("filters")));
  for (const [k, v] of [...params]) if (!v) params.delete(k);
  try {
    const alerts = await api("/alerts?" + params);
    $("rows").innerHTML = alerts.map((a) => `<tr>
      <td>${when(a.opened_ts)}</td>
      <td class="sev-${esc(a.severity)}">${esc(a.severity)}${a.late ? ' <span class="late">late data</span>' : ""}
        ${a.origin === "edge" ? ' <span class="late">edge</span>' : ""}</td>
      <td>${esc(a.state)}</td><td>${esc(a.site)}/${esc(a.sensor)}${a.zone ? " · " + esc(a.zone) : ""}</td>
      <td>${esc(a.message)} <span class="muted">(${esc(a.rule)})</span></td>
      <td>${a.worst_value} ${esc(a.unit)} <span class="muted">level ${a.threshold}</span></td>
      <td>${a.acknowledged_by ? esc(a.acknowledged_by) + " " + when(a.acknowledged_ms) + "<br><span class=muted>" + esc(a.ack_note) + "</span>" : ""}
        ${a.resolved_by ? "<br>resolved by " + esc(a.resolved_by) + ": " + esc(a.resolve_reason) : ""}</td>
      <td>${a.state === "open" ? `<button data-ack="${a.id}">acknowledge</button>` : ""}
          ${a.state !== "resolved" ? `<button data-resolve="${a.id}">resolve</button>` : ""}</td></tr>`).join("");
    $("error").textContent = "";
  } catch (e) { $("error").textContent = e.message; }
}
$("rows").addEventListener("click", async (e) => {
  const ack = e.target.dataset.ack, res = e.target.dataset.resolve;
  try {
    if (ack) {
      const note = prompt("Note (optional)") ?? "";
      await api(`/alerts/${ack}/acknowledge`, {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify({note})});
    } else if (res) {
      const reason = prompt("Reason for resolving by hand");
      if (!reason) return;
      await api(`/alerts/${res}/resolve`, {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify({reason})});
    }
    load();
  } catch (err) { $("error").textContent = err.message; }
});
$("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
load(); setInterval(load, 5000);
