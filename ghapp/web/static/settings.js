// The settings page without a reload, where JavaScript runs: a redelivered delivery's
// row follows the delivery until it finishes. Everything works without this file
// (every control is a form).
"use strict";

async function refresh(row, tries) {
  const url = row.dataset.refresh;
  if (!url || tries <= 0) return;
  await new Promise((done) => setTimeout(done, 1000));
  let answer;
  try {
    answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  } catch (e) {
    return refresh(row, tries - 1);
  }
  if (!answer.ok) return;
  const holder = document.createElement("tbody");
  holder.innerHTML = (await answer.text()).trim();
  const fresh = holder.querySelector("tr");
  if (!fresh) return;
  const message = row.querySelector(".confirm");
  const freshMessage = fresh.querySelector(".confirm");
  if (message && freshMessage && !fresh.dataset.refresh) {
    freshMessage.textContent = "Finished: " + fresh.querySelector(".status").textContent + ".";
  } else if (message && freshMessage) {
    freshMessage.textContent = message.textContent;
  }
  row.replaceWith(fresh);
  watch(fresh);
  if (fresh.dataset.refresh) refresh(fresh, tries - 1);
}

function watch(row) {
  const form = row.querySelector("form.redeliver");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const message = row.querySelector(".confirm");
    button.disabled = true;
    let answer;
    try {
      answer = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
      });
    } catch (e) {
      answer = null;
    }
    if (!answer || !answer.ok) {
      button.disabled = false;
      if (message) message.textContent = "Could not queue it again; try once more.";
      return;
    }
    if (message) message.textContent = "The delivery is queued again.";
    const status = row.querySelector(".status");
    if (status) status.textContent = "waiting";
    form.remove();
    row.dataset.refresh = row.closest("table").dataset.rowBase + row.dataset.delivery;
    refresh(row, 120);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("tr.delivery").forEach((row) => {
    watch(row);
    if (row.dataset.refresh) refresh(row, 120);
  });
});
