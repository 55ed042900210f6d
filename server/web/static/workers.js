// The records pages: a worker added or edited through the API (POST /api/v1/workers, PATCH /api/v1/workers/{id})
// with each refusal shown next to its field; a refused partial (403) shown as its one-line reason; an exposure
// record's shift drawn with uPlot against its limit, in the site's time zone.
"use strict";
(function () {
  // -- a refused partial: htmx does not swap a 403, so say why in its place
  document.body.addEventListener("htmx:responseError", (e) => {
    const xhr = e.detail.xhr;
    if (!xhr || (xhr.status !== 403 && xhr.status !== 404)) return;
    const target = e.detail.target;
    if (target) target.innerHTML = xhr.responseText;
  });

  // -- the worker form
  function fieldsOf(form) {
    const body = {};
    for (const el of form.querySelectorAll("input[name], select[name]")) {
      const v = el.value.trim();
      if (v === "") {  // editing: an emptied text is "", an emptied date or choice is none (null)
        if (form.dataset.mode === "edit" && el.name !== "name") body[el.name] = el.type === "text" ? "" : null;
        continue;
      }
      body[el.name] = el.hasAttribute("data-number") ? Number(v) : v;
    }
    return body;
  }
  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach((el) => { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelector(".form-error").textContent = "";
  }
  function showError(form, field, text) {
    const slot = field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot) { form.querySelector(".form-error").textContent = text; return; }
    slot.textContent = text;
    const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
  }
  // the field a one-line refusal names (409 employee number exists, 422 no user, 404 no shift pattern)
  function fieldOfMessage(text) {
    if (/employee number/.test(text)) return "employee_no";
    if (/\buser\b/.test(text)) return "user_id";
    if (/shift pattern/.test(text)) return "shift_pattern";
    if (/^(\w+) may not be null/.test(text)) return text.split(" ")[0];
    return null;
  }
  function check(form, body) {
    let ok = true;
    if (form.dataset.mode === "create" && !body.employee_no) { showError(form, "employee_no", "Give the employee number."); ok = false; }
    if (!body.name && form.querySelector("[name=name]")) { showError(form, "name", "Give the worker's name."); ok = false; }
    if (body.hire_date && body.leave_date && body.leave_date < body.hire_date) {
      showError(form, "leave_date", "The leave date is before the hire date."); ok = false;
    }
    return ok;
  }

  document.addEventListener("submit", async (e) => {
    const form = e.target.closest("form.worker-form");
    if (!form) return;
    e.preventDefault();
    clearErrors(form);
    const body = fieldsOf(form);
    if (!check(form, body)) return;
    const edit = form.dataset.mode === "edit";
    const url = "/api/v1/workers" + (edit ? "/" + form.dataset.workerId : "");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const r = await fetch(url, {method: edit ? "PATCH" : "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
      let data = null;
      try { data = await r.json(); } catch (err) { /* not JSON */ }
      if (r.ok) {
        window.location.assign("/workers/" + encodeURIComponent(data.employee_no));
        return;
      }
      const detail = data && data.detail;
      if (Array.isArray(detail)) {  // FastAPI's validation errors: [{loc: ["body", field], msg}]
        for (const d of detail) showError(form, (d.loc || []).slice(-1)[0] === "body" ? null : d.loc[1], d.msg);
      } else {
        const text = typeof detail === "string" ? detail : r.statusText;
        showError(form, fieldOfMessage(text), text);
      }
    } catch (err) {
      showError(form, null, "Could not save: " + err.message);
    } finally {
      button.disabled = false;
    }
  });

  // -- an exposure record's shift against its limit
  function limitLine(value, colour) {
    return (u) => {
      if (value == null) return;
      const ctx = u.ctx, {left, top, width, height} = u.bbox;
      const y = u.valToPos(value, "y", true);
      if (y < top || y > top + height) return;
      ctx.save();
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.strokeStyle = colour;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
      ctx.restore();
    };
  }
  function drawRecord(fig) {
    const c = JSON.parse(fig.dataset.chart);
    const note = fig.querySelector(".chart-note");
    if (!c.points.length) return;
    const xs = c.points.map((p) => p[0] / 1000), ys = c.points.map((p) => p[1]);
    const top = Math.max(c.limit || 0, c.stel || 0);
    const plotEl = fig.querySelector(".plot");
    const opts = {
      width: Math.max(240, plotEl.clientWidth || fig.clientWidth || 300), height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), c.zone),
      series: [{}, {label: c.unit, stroke: "#1f5fbf", width: 1.5, spanGaps: false,
                    value: (u, v) => v == null ? "-" : v.toFixed(2) + " " + c.unit}],
      scales: {x: {time: true, range: () => [c.start / 1000, c.end / 1000]},
               y: {range: (u, lo, hi) => [Math.min(0, lo ?? 0), Math.max(hi ?? 1, top * 1.1) || 1]}},
      axes: [{}, {size: 50}],
      hooks: {draw: [limitLine(c.limit, "#c0262d"), limitLine(c.stel, "#b56b00")]},
    };
    new uPlot(opts, [xs, ys], plotEl);
    fig.dataset.drawn = String(xs.length);
    note.textContent = xs.length + (fig.dataset.note || " points, time-weighted means; gaps stay open.");
  }
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (e.target.id !== "record-detail" && e.target.id !== "file") return;
    e.target.querySelectorAll("figure.record-chart").forEach(drawRecord);
  });
})();
