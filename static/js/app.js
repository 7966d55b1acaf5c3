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

  // Every time on every page is Beijing time (the server judges in Asia/Shanghai), whatever the device's zone.
  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  // "YYYY-MM-DDTHH:MM" in Beijing time, for a datetime-local input (sent back as Beijing wall-clock time).
  function shanghaiInput(date) {
    const parts = {};
    new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date).forEach((p) => { parts[p.type] = p.value; });
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }

  // A duration in minutes in words: "3 小时 20 分钟", "2 天 4 小时".
  function fmtDuration(minutes) {
    const m = Math.max(0, Math.round(minutes));
    const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d) return interpolate(gettext("%(d)s 天 %(h)s 小时"), { d, h }, true);
    if (h) return interpolate(gettext("%(h)s 小时 %(m)s 分钟"), { h, m: mm }, true);
    return interpolate(gettext("%s 分钟"), [mm]);
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

  window.XS = { api, toast, esc, fmtTime, shanghaiInput, fmtDuration, beep };
})();
