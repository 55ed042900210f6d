// The administration pages: every form with data-api sends its fields as JSON to the role-checked, audited API
// (hazmon.api), asks first when it carries data-confirm, says the outcome in its .result, and refreshes the part
// named by data-refresh-target. A password or enrolment code made here is shown once, in that result. The audit
// log's partial answers a bad filter with 422 and the message beside the form: swapped in, not dropped.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);

  function fields(form) {
    const out = {};
    form.querySelectorAll("input[name], select[name]").forEach((el) => {
      if (el.value === "" && !el.required) return;
      out[el.name] = el.dataset.number ? Number(el.value) : el.value;
    });
    return out;
  }

  function say(form, text, ok) {
    const out = form.querySelector(".result");
    if (!out) return;
    out.textContent = text;
    out.classList.toggle("error", !ok);
    out.classList.toggle("ok", ok);
  }

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!form.dataset || !form.dataset.api) return;
    e.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const method = form.dataset.method || "POST";
    const body = fields(form);
    const opts = {method};
    if (method !== "DELETE") Object.assign(opts, {headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const answer = await window.hazmon.api(form.dataset.api, opts);
      let message = form.dataset.done || "Done.";
      if (form.dataset.showPassword) {
        message = "Password set: " + body.password + " (shown once: hand it over; their browser sessions ended).";
        form.reset();
      } else if (form.dataset.showCode) {
        message = "Enrolment code (shown once): " + answer.code + " for site " + answer.site +
          (answer.agent ? ", agent " + answer.agent : "") + ". On the box: hazmon agent enroll --server URL --code " + answer.code;
      } else if (form.id === "user-create") {
        message = "Account " + answer.name + " (" + answer.role + ") created with the password " + body.password + ".";
        form.reset();
      }
      const target = form.dataset.refreshTarget && $(form.dataset.refreshTarget);
      if (target && form.closest("#" + target.id)) {
        // the form is inside the part refreshed: say it above the part
        target.addEventListener("htmx:afterSettle", () => flash(target, message), {once: true});
      } else {
        say(form, message, true);
      }
      if (target) htmx.trigger(target, "hazmon:refresh");
    } catch (err) {
      say(form, err.message, false);
    } finally {
      if (button) button.disabled = false;
    }
  });

  function flash(target, text) {
    let out = document.getElementById(target.id + "-said");
    if (!out) {
      out = document.createElement("p");
      out.id = target.id + "-said";
      out.className = "ok said";
      out.setAttribute("role", "status");
      target.parentNode.insertBefore(out, target);
    }
    out.textContent = text;
  }

  // a strong password made in the browser (crypto.getRandomValues), put in the field to hand over
  const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  document.addEventListener("click", (e) => {
    const b = e.target.closest("button.generate");
    if (!b) return;
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    $(b.dataset.for).value = Array.from(bytes, (x) => ALPHABET[x % ALPHABET.length]).join("");
  });

  // a role that is not admin opened an administration page: say so instead of "Loading..."
  document.body.addEventListener("htmx:responseError", (e) => {
    if (e.detail.xhr.status !== 403 || !e.detail.target) return;
    e.detail.target.textContent = "Administration is for admins only: your role (" + window.hazmon.role +
      ") may not see it.";
  });

  document.body.addEventListener("htmx:beforeSwap", (e) => {
    if (e.detail.xhr.status === 422 && e.detail.target && e.detail.target.id === "audit") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
