// The kiosk links page: create a zone's link (its address shown once, with a copy button), revoke one after a
// second click in the page. Both are the JSON API (/api/v1/zones/{zone}/board-links), then the list reloads.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const t = hazmon.t;
  const part = $("board-links");
  const reload = () => htmx.trigger(part, "hazmon:refresh");

  function show(zone, url) {
    $("new-link-zone").textContent = zone;
    $("new-link-url").value = url;
    $("copy-status").textContent = "";
    $("new-link").hidden = false;
    $("new-link-url").select();
  }
  $("hide-new-link").addEventListener("click", () => { $("new-link").hidden = true; $("new-link-url").value = ""; });
  $("copy-link").addEventListener("click", async () => {
    const url = $("new-link-url").value;
    try {
      await navigator.clipboard.writeText(url);
      $("copy-status").textContent = t("Copied.");
    } catch (e) {  // no clipboard permission (plain http): leave it selected for Ctrl+C
      $("new-link-url").select();
      $("copy-status").textContent = t("Selected: press Ctrl+C (⌘C) to copy.");
    }
  });

  part.addEventListener("htmx:beforeRequest", (e) => {  // never swap away an open question or a label being typed
    const asking = part.querySelector(".confirm:not([hidden])");
    const typing = Array.from(part.querySelectorAll(".create-link input")).some((i) => i.value);
    if (asking || typing) e.preventDefault();
  });

  part.addEventListener("submit", async (e) => {
    const form = e.target.closest("form.create-link");
    if (!form) return;
    e.preventDefault();
    const zone = form.dataset.zone, button = form.querySelector("button");
    button.disabled = true;
    $("links-error").textContent = "";
    try {
      const link = await window.hazmon.api("/zones/" + encodeURIComponent(zone) + "/board-links", {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({label: form.label.value.trim()})});
      form.label.value = "";
      show(zone, link.url);
      reload();
    } catch (err) {
      $("links-error").textContent = err.message;
    } finally { button.disabled = false; }
  });

  part.addEventListener("click", async (e) => {
    const box = e.target.closest(".confirmable");
    if (!box) return;
    const ask = (open) => { box.querySelector(".ask").hidden = open; box.querySelector(".confirm").hidden = !open; };
    if (e.target.closest(".revoke")) { ask(true); box.querySelector(".do").focus(); return; }
    if (e.target.closest(".cancel")) { ask(false); return; }
    const go = e.target.closest(".do");
    if (!go) return;
    go.disabled = true;
    $("links-error").textContent = "";
    try {
      await window.hazmon.api("/zones/" + encodeURIComponent(go.dataset.zone) + "/board-links/" + go.dataset.link,
        {method: "DELETE"});
      ask(false);
      reload();
    } catch (err) {
      go.disabled = false;
      $("links-error").textContent = err.message;
    }
  });
})();
