// The alert page: acknowledge and resolve with a note (the JSON API), then reload the alert's part. The part
// follows the live stream (hazmon.js); a refresh never wipes a note being written.
"use strict";
(function () {
  document.body.addEventListener("htmx:beforeRequest", (e) => {
    const part = document.getElementById("alert");
    if (e.target !== part) return;
    const writing = Array.from(part.querySelectorAll("textarea")).some(
      (t) => t.value.trim() !== "" || t === document.activeElement);
    if (writing) e.preventDefault();
  });
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
      form.querySelector("textarea").value = "";  // sent: the refresh may replace the form now
      htmx.trigger(document.getElementById("alert"), "hazmon:refresh");
    } catch (err) {
      button.disabled = false;
      const out = form.parentElement.querySelector(".error");
      if (out) out.textContent = err.message;
    }
  });
})();
