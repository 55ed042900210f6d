// The incident page: a step is marked done (or undone) and a person marked safe only after a second, confirming
// click in the page; the muster link can be sent again; closing asks for a note (a reason when steps are open).
// Every action is the JSON API, then the incident's part is loaded again. While a confirmation is open the
// periodic refresh waits, so it never swaps the question away.
"use strict";
(function () {
  const part = document.getElementById("incident");
  const out = document.getElementById("incident-error");
  const status = document.getElementById("incident-status");
  const reload = () => htmx.trigger(part, "hazmon:refresh");
  const post = (path, body) => window.hazmon.api(path, {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});

  part.addEventListener("htmx:beforeRequest", (e) => {
    const pending = part.querySelector(".confirm:not([hidden])");
    const typing = part.querySelector("#close-text");
    if (pending || (typing && typing.value)) e.preventDefault();
  });

  function ask(box, open) {
    box.querySelector(".ask").hidden = open;
    box.querySelector(".confirm").hidden = !open;
    if (open) (box.querySelector(".confirm input") || box.querySelector(".confirm .do")).focus();
  }

  async function run(button, path, body, done) {
    button.disabled = true;
    out.textContent = "";
    status.textContent = "";
    try {
      await post(path, body);
      if (button.dataset.done) status.textContent = button.dataset.done;
      const box = button.closest(".confirmable");
      if (box && box.querySelector(".confirm")) ask(box, false);
      if (done) done();
      reload();
    } catch (err) {
      button.disabled = false;
      out.textContent = err.message;
    }
  }

  part.addEventListener("click", (e) => {
    const button = e.target.closest("button");
    if (!button) return;
    const box = button.closest(".confirmable");
    if (button.classList.contains("ask")) ask(box, true);
    else if (button.classList.contains("cancel")) ask(box, false);
    else if (button.dataset.call) {
      const note = box && box.querySelector(".confirm input[name=note]");
      run(button, button.dataset.call, note && "note" in button.dataset ? {note: note.value.trim()} : {});
    }
  });

  part.addEventListener("submit", (e) => {
    const form = e.target.closest("form.close-form");
    if (!form) return;
    e.preventDefault();
    const text = form.querySelector("textarea");
    const button = form.querySelector("button");
    run(button, form.dataset.call, {text: text.value}, () => { text.value = ""; });
  });
})();
