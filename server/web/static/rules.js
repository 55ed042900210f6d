// The rules page: replace the rules through the API (PUT /api/v1/rules, checked before anything changes; the
// refusal names the file, the rule and the key) and send a marked test message to one contact group.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  document.addEventListener("submit", async (e) => {
    if (e.target.id !== "rules-edit") return;
    e.preventDefault();
    const button = e.target.querySelector("button");
    $("rules-error").textContent = ""; $("rules-saved").textContent = "";
    button.disabled = true;
    try {
      const rules = await window.hazmon.api("/rules", {method: "PUT", headers: {"Content-Type": "text/plain"},
        body: $("rules-text").value});
      const saved = "Saved: " + rules.length + " rules in force.";
      $("rules").addEventListener("htmx:afterSettle", () => { $("rules-saved").textContent = saved; }, {once: true});
      htmx.trigger($("rules"), "hazmon:refresh");  // the cards show the rules now in force
    } catch (err) {
      $("rules-error").textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button.send-test");
    if (!button) return;
    const group = button.dataset.group;
    const out = document.querySelector(`.test-result[data-group="${CSS.escape(group)}"]`);
    out.replaceChildren();
    button.disabled = true;
    const line = (text, ok) => {
      const li = document.createElement("li");
      li.textContent = text; li.className = ok ? "ok" : "error";
      out.appendChild(li);
    };
    try {
      const results = await window.hazmon.api("/notify/test", {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({group})});
      results.forEach((r) => line(r.member + " (" + r.channel + "): " + (r.delivered ? "delivered" : "failed: " + r.error),
        r.delivered));
    } catch (err) {
      line(err.message, false);
    } finally {
      button.disabled = false;
    }
  });
})();
