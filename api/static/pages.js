// sitewatch pages: every action is a fetch to the API route that takes it (no build step).
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function say(form, text, bad) {
    const out = form.querySelector(".status");
    if (out) { out.textContent = text; out.classList.toggle("error", !!bad); }
  }

  async function problem(response) {
    try {
      const body = await response.json();
      const d = body.detail;
      if (typeof d === "string") return d;
      if (d && d.reason) return d.reason;
      return JSON.stringify(d);
    } catch (e) { return response.status + " " + response.statusText; }
  }

  async function send(url, body, json) {
    const headers = { "X-CSRF-Token": csrf(), "Accept": "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    return fetch(url, { method: "POST", body: json ? JSON.stringify(body) : body,
                        headers: headers, credentials: "same-origin" });
  }

  function busy(form, on) {
    form.querySelectorAll("button").forEach((b) => { b.disabled = on; });
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  // sign in: the API sets the HttpOnly session cookie
  const login = document.getElementById("login");
  if (login) login.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    busy(login, true);
    const r = await fetch("/api/v1/auth/session", { method: "POST", body: new FormData(login),
                                                     credentials: "same-origin" });
    busy(login, false);
    if (r.ok) { window.location.assign(login.dataset.next || "/"); return; }
    say(login, await problem(r), true);
  });

  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", async () => {
    await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" });
    window.location.assign("/login");
  });

  // a workflow transition: multipart with its files, straight to the API
  document.querySelectorAll("form.action").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData();
      let detail = "";
      for (const [k, v] of new FormData(form).entries()) {
        if (v instanceof File && !v.name) continue;  // an empty file input
        if (k === "reason_detail") { detail = String(v).trim(); continue; }
        data.append(k, v);
      }
      if (detail) data.set("reason", (data.get("reason") || "") + "：" + detail);
      busy(form, true);
      const r = await send(form.dataset.api, data, false);
      busy(form, false);
      if (r.ok) { window.location.assign(form.dataset.next || window.location.href); return; }
      say(form, await problem(r), true);
    });
  });

  document.querySelectorAll("form.resolve").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      busy(form, true);
      const r = await send(form.dataset.api, { resolution: f.get("resolution"), comment: f.get("comment") }, true);
      busy(form, false);
      if (r.ok) { window.location.reload(); return; }
      say(form, await problem(r), true);
    });
  });

  // the field report: photos, position (geolocation, editable), description, unit
  const report = document.getElementById("report");
  if (report) {
    const locate = document.getElementById("locate");
    const status = document.getElementById("locate-status");
    const fill = () => {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition((p) => {
        document.getElementById("lat").value = p.coords.latitude.toFixed(6);
        document.getElementById("lon").value = p.coords.longitude.toFixed(6);
        document.getElementById("accuracy").value = Math.round(p.coords.accuracy);
        document.getElementById("lon").dispatchEvent(new Event("change"));  // the map follows
        status.textContent = status.dataset.done || status.textContent;
        report.dataset.located = "1";
      }, (e) => { status.textContent = e.message; }, { enableHighAccuracy: true, timeout: 15000 });
    };
    locate.addEventListener("click", fill);
    report.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      busy(report, true);
      const r = await send("/api/v1/reports", new FormData(report), false);
      busy(report, false);
      if (r.ok) { const body = await r.json(); window.location.assign("/cases/" + body.case_id); return; }
      say(report, await problem(r), true);
    });
  }

  document.querySelectorAll("button.zero").forEach((b) => {
    b.addEventListener("click", async () => {
      b.disabled = true;
      const r = await send("/api/v1/checkins", { unit: b.dataset.unit }, true);
      if (r.ok) { window.location.reload(); return; }
      b.disabled = false;
      const out = document.getElementById("checkin-status");
      out.textContent = await problem(r);
      out.classList.add("error");
    });
  });

  // review queue keys: y confirm, n dismiss, j next, k previous
  if (document.querySelector("[data-review]")) {
    document.addEventListener("keydown", (ev) => {
      const t = ev.target;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      const go = (id) => { const a = document.getElementById(id); if (a) window.location.assign(a.href); };
      const form = (name) => document.querySelector('form[data-transition="' + name + '"]');
      if (ev.key === "y" && form("confirm")) { ev.preventDefault(); form("confirm").requestSubmit(); }
      else if (ev.key === "n" && form("dismiss")) { ev.preventDefault(); form("dismiss").querySelector("select").focus(); }
      else if (ev.key === "j") { go("next"); }
      else if (ev.key === "k") { go("prev"); }
    });
  }
})();
