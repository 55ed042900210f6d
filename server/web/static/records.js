// The records pages (organisation, surveillance): a form[data-json] is sent as JSON to its URL (fields named in
// the URL as {name} fill the path; [data-number] fields are numbers; empty fields are left out), then its part
// is loaded again; a form[data-upload] sends the chosen CSV file as the body and shows the row-by-row report in a
// table. A part refused to the role (403) shows the refusal instead of staying "Loading…". Times come from date
// and time pickers; the server reads them in the site's time zone.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = (text) => { const el = $("records-status"); if (el) el.textContent = text; };

  document.body.addEventListener("htmx:beforeSwap", (e) => {
    const xhr = e.detail.xhr;
    if (xhr && xhr.status === 403 && e.detail.target.closest("[data-records]")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  async function send(url, opts) {
    const r = await fetch(url, Object.assign({credentials: "same-origin"}, opts));
    let body = null;
    try { body = await r.json(); } catch (err) { /* not JSON */ }
    if (!r.ok) {
      const detail = body && body.detail;
      if (Array.isArray(detail)) {  // a validation error: name the field
        throw new Error(detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; "));
      }
      throw new Error(typeof detail === "string" ? detail : r.status + " " + r.statusText);
    }
    return body;
  }

  function reload(form) {
    const part = form.closest("[hx-get]");
    if (part) htmx.trigger(part, "hazmon:refresh");
  }

  async function submitJson(form) {
    let url = form.dataset.json;
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.closest("[hidden]")) continue;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      const value = el.value.trim();
      if ("path" in el.dataset) { url = url.replace("{" + el.name + "}", encodeURIComponent(value)); continue; }
      if (value === "") continue;
      body[el.name] = "number" in el.dataset ? Number(value) : value;
    }
    await send(url, {method: form.dataset.method || "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)});
  }

  function showReport(target, report) {
    const box = $(target);
    box.hidden = false;
    const bad = report.errors.length;
    box.querySelector(".outcome").textContent = report.rows + " rows read: " + report.imported + " imported, " +
      bad + " with an error" + (bad && !report.imported ? " (nothing imported)" : "") + ".";
    const table = box.querySelector("table");
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    report.errors.forEach((e) => {
      const tr = document.createElement("tr");
      tr.dataset.line = e.line;
      [e.line, e.field, e.reason].forEach((v) => {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.hidden = !bad;
  }

  async function submitUpload(form) {
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) throw new Error("choose a file first");
    const mode = form.querySelector("input[name=mode]:checked");
    const url = form.dataset.upload + "?mode=" + encodeURIComponent(mode ? mode.value : "atomic");
    const report = await send(url, {method: "POST", headers: {"Content-Type": "text/csv"}, body: await file.text()});
    showReport(form.dataset.report, report);
  }

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!form.dataset || !(form.dataset.json || form.dataset.upload)) return;
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const error = form.querySelector(".error");
    error.textContent = ""; status("");
    button.disabled = true;
    try {
      if (form.dataset.upload) await submitUpload(form); else await submitJson(form);
      status(form.dataset.done || "Saved.");
      if (form.dataset.then) { window.location.assign(form.dataset.then); return; }
      if (form.dataset.json) reload(form);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });

  // the hazard form: the variant choice (a silica dust's free-SiO2 class) only for a substance that has variants
  function showVariants(select) {
    const form = select.closest("form");
    const field = form.querySelector(".variant-field");
    const variants = (select.selectedOptions[0] && select.selectedOptions[0].dataset.variants || "").split(" ").filter(Boolean);
    field.hidden = !variants.length;
    const choice = field.querySelector("select");
    for (const opt of choice.options) opt.hidden = opt.value !== "" && opt.dataset.substance !== select.value;
    if (!variants.includes(choice.value)) choice.value = "";
  }
  document.addEventListener("change", (e) => {
    if (e.target.id === "hazard-substance") showVariants(e.target);
  });
  document.body.addEventListener("htmx:afterSettle", () => {
    const s = $("hazard-substance");
    if (s) showVariants(s);
    const grid = document.querySelector(".week-grid");  // the picker names the week on show
    if (grid && $("week-start") && !$("week-start").value) $("week-start").value = grid.dataset.week;
  });

  // the week grid: "end…" picks the assignment in the end form; the week buttons move the filter's week
  document.addEventListener("click", (e) => {
    const end = e.target.closest("button[data-end]");
    if (end) {
      $("end-which").value = end.dataset.end;
      $("end-at").focus();
      return;
    }
    const go = e.target.closest("button.week-go");
    if (go) {
      $("week-start").value = go.dataset.week;
      htmx.trigger($("week-filters"), "submit");
    }
  });
})();
