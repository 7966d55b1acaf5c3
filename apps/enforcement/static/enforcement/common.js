// Shared helpers of the enforcement pages: translated strings, badges, deadlines, error text.
(function () {
  "use strict";
  const T = JSON.parse((document.getElementById("enf-i18n") || {}).textContent || "{}");

  function errText(err) {
    const d = err && err.data;
    if (!d) return (err && err.message) || "error";
    const flat = (v) => (Array.isArray(v) ? v.map(flat).join("；") : typeof v === "object" && v ? Object.values(v).map(flat).join("；") : String(v));
    if (d.detail !== undefined) return flat(d.detail);
    return flat(d);
  }

  function levelBadge(level, label) {
    return `<span class="badge ${XS.esc(level)}">${XS.esc(label || level)}</span>`;
  }

  function stateTag(t) {
    return `<span class="tag state-${XS.esc(t.state)}" data-role="state">${XS.esc(t.state_label)}</span>` +
      (t.overdue ? ` <span class="tag late">${XS.esc(T.overdue)}</span>` : "");
  }

  function minutesLeft(iso) {
    return Math.round((new Date(iso).getTime() - Date.now()) / 60000);
  }

  function due(label, iso) {
    const m = minutesLeft(iso);
    const rest = m < 0 ? `<span class="tag late">${XS.esc(T.overdue)}</span>` : `<span class="muted">(${XS.esc((T.left_min || "%s").replace("%s", m))})</span>`;
    return `<span>${XS.esc(label)}${gettext("：")}${XS.fmtTime(iso)} ${rest}</span>`;
  }

  function nowLocalInput() {
    const d = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  }

  async function act(taskId, action, body) {
    const opts = { method: "POST" };
    if (body instanceof FormData) opts.form = body; else opts.body = body || {};
    return XS.api(`/api/enforcement/tasks/${taskId}/${action}/`, opts);
  }

  window.ENF = { T, errText, levelBadge, stateTag, due, nowLocalInput, act };
})();
