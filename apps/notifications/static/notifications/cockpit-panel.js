// Cockpit panel: delivery rate per notification channel over 30 days (reloads on reconnect and every minute).
(function () {
  "use strict";
  const box = document.getElementById("ck-notify-rates");
  if (!box) return;
  async function load() {
    try {
      const rows = await XS.api("/api/notifications/delivery-rates/?days=30");
      box.innerHTML = rows.map((r) => `<div class="ck-line">${XS.esc(r.label)} <b>${r.rate_pct === null ? "–" : XS.esc(r.rate_pct + "%")}</b>` +
        ` <span class="muted">(${r.accepted}/${r.accepted + r.failed}${r.in_flight ? " · " + gettext("发送中") + " " + r.in_flight : ""})</span></div>`).join("")
        || `<div class="ck-line muted">${XS.esc(gettext("近30天没有外发通知"))}</div>`;
    } catch (e) { /* keep the last numbers */ }
  }
  if (window.XSLive) XSLive.on("connected", load);
  setInterval(load, 60000);
  load();
})();
