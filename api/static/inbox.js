// The inbox page: "mark read" posts to the API route and updates the header's count.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  document.querySelectorAll("button[data-read]").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      const r = await fetch("/api/v1/inbox/" + button.dataset.read + "/read", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" } });
      if (!r.ok) { button.disabled = false; return; }
      const body = await r.json();
      const item = button.closest("li");
      if (item) item.classList.remove("unread");
      button.remove();
      const count = document.querySelector(".inbox-count .count");
      if (count) {
        if (body.unread) count.textContent = String(body.unread); else count.remove();
      }
      const status = document.getElementById("inbox-status");
      if (status) status.dataset.unread = String(body.unread);
    });
  });
})();
