// Shared helpers for every page: JSON API calls with the CSRF token, toasts, small DOM helpers.
(function () {
  "use strict";
  // Translations come from Django's JavaScript catalog (/i18n/js/, loaded before this file);
  // should it be missing (e.g. offline before it was ever cached), show the Chinese source text.
  if (typeof window.gettext !== "function") {
    window.gettext = (s) => s;
    window.ngettext = (singular, plural, n) => (n === 1 ? singular : plural);
    window.pgettext = (context, s) => s;
    window.interpolate = (fmt, obj, named) => (named
      ? fmt.replace(/%\(\w+\)s/g, (m) => String(obj[m.slice(2, -2)]))
      : fmt.replace(/%s/g, () => String(obj.shift())));
  }
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function api(url, { method = "GET", body, form } = {}) {
    const opts = { method, credentials: "same-origin", headers: { "X-CSRFToken": csrf(), Accept: "application/json" } };
    if (form) opts.body = form;
    else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    const res = await fetch(url, opts);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    if (!res.ok) {
      const err = new Error((data && (data.detail || JSON.stringify(data))) || res.statusText);
      err.status = res.status; err.data = data; throw err;
    }
    return data;
  }

  function toast(message, kind = "info") {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = "toast show " + kind;
    clearTimeout(el._t);
    el._t = setTimeout(() => (el.className = "toast"), 4000);
  }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  // A short beep for new tasks and warnings (WebAudio: no sound file, works offline).
  function beep() {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const o = ctx.createOscillator(); const g = ctx.createGain();
      o.frequency.value = 880; o.connect(g); g.connect(ctx.destination);
      g.gain.setValueAtTime(0.15, ctx.currentTime); o.start(); o.stop(ctx.currentTime + 0.25);
    } catch (e) { /* no audio: the visual cue is enough */ }
  }

  window.XS = { api, toast, esc, fmtTime, beep };
})();
