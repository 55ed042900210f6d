// The alert page: acknowledge and resolve with a note (the JSON API), then reload the alert's part.
"use strict";
(function () {
  document.addEventListener("submit", async (e) => {
    const form = e.target.closest("form.transition");
    if (!form) return;
    e.preventDefault();
    const id = form.dataset.alert, action = form.dataset.action;
    const text = form.querySelector("textarea").value.trim();
    const body = action === "acknowledge" ? {note: text} : {reason: text};
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await window.hazmon.api(`/alerts/${id}/${action}`, {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
      htmx.trigger(document.getElementById("alert"), "hazmon:refresh");
    } catch (err) {
      button.disabled = false;
      const out = form.parentElement.querySelector(".error");
      if (out) out.textContent = err.message;
    }
  });
})();
