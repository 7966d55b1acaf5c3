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
    const rest = m < 0
      ? `<span class="tag late">${XS.esc(interpolate(gettext("已超时 %s"), [XS.fmtDuration(-m)]))}</span>`
      : `<span class="muted">(${XS.esc((T.left_min || "%s").replace("%s", m))})</span>`;
    return `<span>${XS.esc(label)}${gettext("：")}${XS.fmtTime(iso)} ${rest}</span>`;
  }

  // Beijing time now, for a datetime-local input: the server reads it as Asia/Shanghai whatever the device zone.
  function nowLocalInput() {
    return XS.shanghaiInput(new Date());
  }

  // Where and who of a task (its "subject", built by apps/enforcement/subjects.py): place, vessels,
  // vehicles, the warning's level and time, a geo: link and (with map) a small map.
  function subjectHtml(s, { map = true } = {}) {
    if (!s) return "";
    const esc = XS.esc;
    const p = s.place;
    const rows = [];
    if (p) {
      const where = [p.kind_label, p.township].filter(Boolean).join(" · ");
      rows.push(`<div class="t-place" data-role="place"><b>${esc(gettext("地点"))}</b> ${esc(p.name)}${where ? `（${esc(where)}）` : ""}
        <span class="muted">${esc(interpolate(gettext("北纬 %(lat)s° 东经 %(lon)s°"), { lat: p.lat.toFixed(5), lon: p.lon.toFixed(5) }, true))}</span>
        <a class="geo-link" href="${esc(p.geo_uri)}">${esc(gettext("在手机地图中打开"))}</a></div>`);
    }
    if (s.vessels && s.vessels.length) {
      rows.push(`<div class="t-vessels" data-role="vessels"><b>${esc(gettext("船舶"))}</b> ${s.vessels.map((v) => {
        const details = [`${v.source_label || "MMSI"} ${v.id}`, v.callsign && interpolate(gettext("呼号 %s"), [v.callsign]),
          v.owner && interpolate(gettext("船主 %s"), [v.owner]), v.home_port && interpolate(gettext("船籍港 %s"), [v.home_port]),
          v.registered ? "" : gettext("未登记"), v.watch_group && interpolate(gettext("布控分组 %s"), [v.watch_group])].filter(Boolean);
        return `<span class="vessel">${esc(v.name || v.id)}<span class="muted">（${esc(details.join("，"))}）</span></span>`;
      }).join("；")}</div>`);
    }
    if (s.plates && s.plates.length) {
      rows.push(`<div class="t-plates" data-role="plates"><b>${esc(gettext("车辆"))}</b> ${s.plates.map((c) =>
        `${esc(c.plate)}${c.checkpoint ? `<span class="muted">（${esc(c.checkpoint)}）</span>` : ""}`).join("、")}</div>`);
    }
    if (s.warning) {
      rows.push(`<div class="t-warning"><b>${esc(gettext("预警"))}</b> <a href="/elements/warnings/${s.warning.id}/">${esc(s.level_label)}${esc(s.kind_label)} #${s.warning.id}</a>
        <span class="muted">${esc(XS.fmtTime(s.start))}${s.end ? " — " + esc(XS.fmtTime(s.end)) : ""}（${esc(gettext("北京时间"))}）</span></div>`);
    }
    const mini = map && p ? `<div class="xs-mini" data-mini data-lat="${p.lat}" data-lon="${p.lon}" data-label="${esc(p.name)}" data-level="${esc(s.level)}"></div>` : "";
    return `<div class="t-subject">${mini}<div class="t-subject-text">${rows.join("")}</div></div>`;
  }

  // Draw the small maps of the subjects under ``root`` (once each).
  function mountMiniMaps(root) {
    if (!window.XSMap) return;
    root.querySelectorAll("[data-mini]:not([data-mounted])").forEach((el) => {
      el.dataset.mounted = "1";
      XSMap.mini(el, { lat: +el.dataset.lat, lon: +el.dataset.lon, label: el.dataset.label, level: el.dataset.level, zoom: 12 });
    });
  }

  async function act(taskId, action, body) {
    const opts = { method: "POST" };
    if (body instanceof FormData) opts.form = body; else opts.body = body || {};
    return XS.api(`/api/enforcement/tasks/${taskId}/${action}/`, opts);
  }

  window.ENF = { T, errText, levelBadge, stateTag, due, nowLocalInput, act, subjectHtml, mountMiniMaps };
})();
