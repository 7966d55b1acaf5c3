// Decision cockpit: the live map (the shared XSMap base map), the counters and the charts (ECharts).
// Pushes only say that something changed: the page reloads /api/cockpit/summary/ (and the map
// when the change is on it) and everything on every (re)connect. REST stays the source of truth.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("cockpit-config").textContent);
  const body = document.body;
  const root = document.getElementById("ck-root");
  if (root.dataset.layout !== "laptop" && !body.classList.contains("wall") &&
      window.matchMedia("(min-width: 1800px) and (min-height: 1000px)").matches) {
    body.classList.add("wall");
  }
  const WALL = body.classList.contains("wall");
  const esc = XS.esc;
  const LEVEL_COLOURS = { red: "#d7263d", orange: "#f46036", yellow: "#e8b90d", blue: "#1b98e0" };
  const LEVEL_LABELS = { red: gettext("红色"), orange: gettext("橙色"), yellow: gettext("黄色"), blue: gettext("蓝色") };
  const CHINESE_UNITS = (document.documentElement.lang || "zh").startsWith("zh");  // 万/亿 in Chinese, k/M otherwise
  const LEVEL_RANK = { red: 4, orange: 3, yellow: 2, blue: 1 };
  const KIND_COLOURS = { pier: "#7b4fd6", cove: "#0d9488", beach: "#c79a00", landing_point: "#e8590c", anchorage: "#1c7ed6" };
  const FACILITY_COLOURS = { ok: "#7a8a99", damaged: "#f59f00", down: "#ff2d2d" };
  const INK = WALL ? "#e6eef8" : "#1d2733";
  const MUTED = WALL ? "#8ea3bb" : "#6b7785";
  const GRID = WALL ? "#1e3654" : "#e3e8ee";
  const state = { bucket: "day", summary: null, map: null, highlight: null };

  // ------------------------------------------------------------------ counters
  function get(obj, path) {
    return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
  }
  function fmt(v, kind) {
    if (v === undefined || v === null || Number.isNaN(v)) return "–";
    if (kind === "pct") return `${Number(v).toFixed(1)}%`;
    if (kind === "yuan") {
      const n = Number(v);
      if (CHINESE_UNITS) {
        if (n >= 1e8) return `${(n / 1e8).toFixed(2)}亿`;
        if (n >= 1e4) return `${(n / 1e4).toFixed(1)}万`;
      } else {
        if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
        if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
      }
      return n.toFixed(0);
    }
    if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(1);
    return String(v);
  }
  function flash(el) {
    el.classList.remove("ck-flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("ck-flash");
  }
  function setCounters(data) {
    document.querySelectorAll("[data-counter]").forEach((el) => {
      const text = fmt(get(data, el.dataset.counter), el.dataset.format);
      if (el.textContent !== text) {
        if (el.textContent !== "–") flash(el);
        el.textContent = text;
      }
    });
  }

  // ------------------------------------------------------------------ charts
  const charts = {};
  function chart(id) {
    if (!charts[id]) {
      const el = document.getElementById(id);
      if (!el) return null;
      charts[id] = echarts.init(el, WALL ? "dark" : null, { renderer: "canvas" });
      if (window.ResizeObserver) new ResizeObserver(() => charts[id].resize()).observe(el); // panels settle after data
    }
    return charts[id];
  }
  const base = () => ({
    backgroundColor: "transparent",
    textStyle: { color: INK, fontSize: WALL ? 14 : 11 },
    grid: { left: 6, right: 12, top: 22, bottom: 4, containLabel: true },
    tooltip: { trigger: "axis", confine: true },
  });
  const axis = (extra) => Object.assign({ axisLabel: { color: MUTED, fontSize: WALL ? 13 : 10 }, splitLine: { lineStyle: { color: GRID } }, axisLine: { lineStyle: { color: GRID } } }, extra || {});

  function drawSummaryCharts(s) {
    const kinds = (s.warnings && s.warnings.period_by_kind) || [];
    const k = chart("ck-chart-kinds");
    // every type gets its own readable row (the wall screen and a laptop): the chart grows with the list
    const rowPx = WALL ? 26 : 19, titlePx = WALL ? 30 : 22;
    const kindsEl = document.getElementById("ck-chart-kinds");
    if (kindsEl) kindsEl.style.minHeight = `${titlePx + Math.max(kinds.length, 2) * rowPx + 24}px`;
    if (k) k.setOption(Object.assign(base(), {
      title: { text: gettext("近30天预警类型"), textStyle: { fontSize: WALL ? 14 : 11, color: MUTED, fontWeight: "normal" }, left: 0, top: 0 },
      grid: { left: 6, right: 28, top: titlePx, bottom: 4, containLabel: true },
      xAxis: axis({ type: "value", minInterval: 1 }),
      yAxis: axis({ type: "category", inverse: true, data: kinds.map((x) => x.label), axisTick: { show: false },
                    axisLabel: { color: MUTED, fontSize: WALL ? 13 : 10, interval: 0 } }),
      series: [{ type: "bar", data: kinds.map((x) => x.count), itemStyle: { color: "#4f8ef7" }, barMaxWidth: 14, label: { show: true, position: "right", color: INK } }],
    }), true);
    if (k) k.resize();
    const goods = (s.cases && s.cases.goods_by_kind) || [];
    const g = chart("ck-chart-goods");
    if (g) g.setOption(Object.assign(base(), {
      tooltip: { trigger: "axis", confine: true, formatter: (p) => p.map((x) => esc(interpolate(gettext("%(name)s：%(value)s元（%(count)s批）"), { name: x.name, value: fmt(x.value, "yuan"), count: goods[x.dataIndex].count }, true))).join("<br>") },
      xAxis: axis({ type: "category", data: goods.map((x) => x.label) }),
      yAxis: axis({ type: "value", minInterval: 1, axisLabel: { color: MUTED, formatter: (v) => fmt(v, "yuan") } }),
      series: [{ type: "bar", name: gettext("货值"), data: goods.map((x) => x.value_yuan), itemStyle: { color: "#f08c00" }, barMaxWidth: 28 }],
    }), true);
    const tips = (s.tips && s.tips.by_state) || [];
    const t = chart("ck-chart-tips");
    if (t) t.setOption(Object.assign(base(), {
      grid: { left: 4, right: 8, top: 6, bottom: 2, containLabel: true },
      xAxis: axis({ type: "category", data: tips.map((x) => x.label), axisLabel: { color: MUTED, fontSize: WALL ? 12 : 9, interval: 0 } }),
      yAxis: axis({ type: "value", minInterval: 1 }),
      series: [{ type: "bar", data: tips.map((x) => x.count), itemStyle: { color: "#20c997" }, barMaxWidth: 22 }],
    }), true);
  }

  function drawTrends(tr) {
    const x = tr.buckets.map((d) => d.slice(5));
    const s = tr.series;
    const w = chart("ck-chart-trend-warnings");
    if (w) w.setOption(Object.assign(base(), {
      title: { text: tr.bucket === "week" ? gettext("预警（按周）") : gettext("预警（按日）"), textStyle: { fontSize: WALL ? 14 : 11, color: MUTED, fontWeight: "normal" } },
      legend: { top: 0, right: 0, textStyle: { color: MUTED, fontSize: WALL ? 13 : 10 }, itemWidth: 10, itemHeight: 8 },
      grid: { left: 6, right: 12, top: WALL ? 34 : 28, bottom: 4, containLabel: true },
      xAxis: axis({ type: "category", data: x }),
      yAxis: axis({ type: "value", minInterval: 1 }),
      series: ["red", "orange", "yellow", "blue"].map((lv) => ({
        name: LEVEL_LABELS[lv], type: "bar", stack: "w", data: (s.warnings_by_level || {})[lv] || [], itemStyle: { color: LEVEL_COLOURS[lv] },
      })),
    }), true);
    const t = chart("ck-chart-trend-tasks");
    const series = [];
    if (s.tasks_assigned) series.push({ name: gettext("派发任务"), type: "line", smooth: true, data: s.tasks_assigned, itemStyle: { color: "#4f8ef7" } });
    if (s.tasks_closed) series.push({ name: gettext("已办结（按派发日）"), type: "line", smooth: true, data: s.tasks_closed, itemStyle: { color: "#20c997" } });
    if (s.tasks_ack_late) series.push({ name: gettext("超时签收"), type: "bar", data: s.tasks_ack_late, itemStyle: { color: "#ff5a6e" }, barMaxWidth: 10 });
    if (s.cases) series.push({ name: gettext("立案"), type: "bar", data: s.cases, itemStyle: { color: "#f08c00" }, barMaxWidth: 10 });
    if (s.patrol_rate) series.push({ name: gettext("巡查到岗率%"), type: "line", yAxisIndex: 1, data: s.patrol_rate, connectNulls: true, itemStyle: { color: "#c0a0ff" } });
    if (t) t.setOption(Object.assign(base(), {
      title: { text: gettext("任务、立案与巡查"), textStyle: { fontSize: WALL ? 14 : 11, color: MUTED, fontWeight: "normal" } },
      legend: { top: 0, right: 0, textStyle: { color: MUTED, fontSize: WALL ? 13 : 10 }, itemWidth: 10, itemHeight: 8 },
      grid: { left: 6, right: 12, top: WALL ? 34 : 28, bottom: 4, containLabel: true },
      xAxis: axis({ type: "category", data: x }),
      yAxis: [axis({ type: "value", minInterval: 1 }), axis({ type: "value", min: 0, max: 100, splitLine: { show: false } })],
      series,
    }), true);
  }

  function drawTide(td) {
    const note = document.getElementById("ck-tide-note");
    const c = chart("ck-chart-tide");
    if (!td.available) {
      if (note) note.textContent = td.note || gettext("暂无潮汐数据");
      if (c) c.clear();
      return;
    }
    const windows = (td.windows || []).map((w) => `${w.start.slice(11, 16)}–${w.end.slice(11, 16)}`).join(gettext("，"));
    if (note) {
      note.textContent = `${interpolate(gettext("巡航时段 %s"), [windows || gettext("无（今晚无夜间高潮）")])} · ${td.station}${td.note ? gettext("（参考站）") : ""}`;
      note.title = td.note || "";
    }
    const data = td.points.map((p) => [new Date(p[0]).getTime(), p[1]]);
    const now = Date.now();
    const marks = (td.windows || []).map((w) => [{ xAxis: new Date(w.start).getTime(), name: gettext("巡航时段") }, { xAxis: new Date(w.end).getTime() }]);
    const highs = (td.events || []).filter((e) => e.kind === "high").map((e) => ({ coord: [new Date(e.ts).getTime(), e.height_m], value: e.ts.slice(11, 16) }));
    if (c) c.setOption(Object.assign(base(), {
      grid: { left: 4, right: 10, top: 14, bottom: 4, containLabel: true },
      tooltip: { trigger: "axis", confine: true, valueFormatter: (v) => interpolate(gettext("%s 米"), [Number(v).toFixed(2)]) },
      xAxis: axis({ type: "time", axisLabel: { color: MUTED, fontSize: WALL ? 12 : 9, formatter: (v) => new Date(v).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false }) } }),
      yAxis: axis({ type: "value", name: gettext("米"), splitNumber: 3, nameTextStyle: { color: MUTED } }),
      series: [{
        type: "line", name: gettext("潮位"), showSymbol: false, smooth: true, data, lineStyle: { color: "#4fb3ff", width: 2 },
        areaStyle: { color: "rgba(79,179,255,.15)" },
        markArea: { silent: true, itemStyle: { color: "rgba(32,201,151,.22)" }, label: { color: "#20c997", fontSize: WALL ? 12 : 9 }, data: marks },
        markPoint: { symbol: "pin", symbolSize: WALL ? 40 : 30, itemStyle: { color: "#1c7ed6" }, label: { fontSize: 9 }, data: highs },
        markLine: data.length && now >= data[0][0] && now <= data[data.length - 1][0]
          ? { silent: true, symbol: "none", lineStyle: { color: "#ff5a6e" }, label: { formatter: gettext("现在"), color: "#ff5a6e" }, data: [{ xAxis: now }] }
          : undefined,
      }],
    }), true);
  }

  // ------------------------------------------------------------------ map
  // The shared base map (static/js/map.js): land, sea, townships, labelled places, offline.
  const map = XSMap.create(document.getElementById("ck-map"), {
    theme: WALL ? "dark" : "light", fit: "county", view: [29.35, 121.9, 10],
    onPlace: (p) => { if (p.kind in KIND_COLOURS) { const g = (state.map && state.map.geofences || []).find((x) => x.name === p.name); if (g) openDetail("geofence", g.id); } },
    legend: [
      ...Object.entries(LEVEL_COLOURS).map(([level, colour]) => ({ colour, label: interpolate(gettext("%s预警"), [LEVEL_LABELS[level]]) })),
      { colour: "#2c7be5", label: gettext("登记船舶") }, { colour: "#8b5cf6", label: gettext("未登记船舶") },
      { colour: "#12b886", label: gettext("雷达目标") },
      { colour: "#ff8c42", label: gettext("船舶轨迹"), shape: "line" }, { colour: "#20c997", label: gettext("巡查打卡") },
      { colour: FACILITY_COLOURS.ok, label: gettext("设施正常") }, { colour: FACILITY_COLOURS.down, label: gettext("设施故障") },
    ],
  });
  const canvas = L.canvas({ padding: 0.3 });
  const layers = {
    geofences: L.layerGroup().addTo(map),
    sensors: L.layerGroup().addTo(map),
    tracks: L.layerGroup().addTo(map),
    facilities: L.layerGroup().addTo(map),
    associations: L.layerGroup().addTo(map),
    vessels: L.layerGroup().addTo(map),
    checkins: L.layerGroup().addTo(map),
    warnings: XSMap.cluster().addTo(map),  // ten warnings on five spots: one marker per spot with the count
    highlight: L.layerGroup().addTo(map),
  };
  L.control.layers(null, {
    [gettext("电子围栏")]: layers.geofences, [gettext("船舶轨迹")]: layers.tracks, [gettext("船舶")]: layers.vessels,
    [gettext("防范设施")]: layers.facilities, [gettext("巡查打卡")]: layers.checkins, [gettext("预警")]: layers.warnings,
    [gettext("雷达与视频覆盖")]: layers.sensors, [gettext("雷达-AIS 关联")]: layers.associations,
  }, { collapsed: !WALL, position: "topleft" }).addTo(map);

  function geofenceStyle(g) {
    const colour = KIND_COLOURS[g.kind] || "#555";
    return {
      color: g.warned ? "#d7263d" : colour, weight: g.warned ? 3 : 1.5, dashArray: g.status === "idle" ? "4 3" : null,
      fillColor: colour, fillOpacity: g.status === "idle" ? 0.45 : 0.2,
    };
  }

  function radarLabel(id) {
    // radar:<sensor>:<number>@<start>  ->  雷达 R2 目标 17
    const m = /^radar:(.+):(\d+)@/.exec(id || "");
    return m ? interpolate(gettext("雷达 %(sensor)s 目标 %(number)s"), { sensor: m[1], number: m[2] }, true) : id;
  }

  function renderMap(d) {
    layers.geofences.clearLayers();
    d.geofences.forEach((g) => {
      const lyr = L.geoJSON(g.geometry, { style: geofenceStyle(g) });
      lyr.bindTooltip(`${esc(g.name)}（${esc(g.kind_label)}·${esc(g.status_label)}）`, { sticky: true });
      lyr.on("click", () => openDetail("geofence", g.id));
      layers.geofences.addLayer(lyr);
    });
    layers.tracks.clearLayers();
    Object.entries(d.tracks || {}).forEach(([, pts]) => {
      if (pts.length < 2) return;
      layers.tracks.addLayer(L.polyline(pts.map((p) => [p[1], p[0]]), { color: "#ff8c42", weight: 2, opacity: 0.85, interactive: false }));
    });
    layers.sensors.clearLayers();
    ((d.sensors || {}).features || []).forEach((f) => {
      const radar = f.properties.kind === "radar";
      const lyr = L.geoJSON(f.geometry, {
        interactive: !radar,
        style: { color: radar ? "#12b886" : "#fab005", weight: 1, dashArray: radar ? "6 4" : null, fillOpacity: radar ? 0.03 : 0.15 },
      });
      if (!radar) lyr.bindTooltip(`${esc(f.properties.sensor_id)}（${esc(f.properties.kind)}）`);
      layers.sensors.addLayer(lyr);
    });
    layers.vessels.clearLayers();
    const byExternal = {};
    d.vessels.forEach((v) => {
      byExternal[v.external_id] = v;
      const radar = v.source === "radar";  // a radar track: drawn hollow, in the radar's colour
      const m = L.circleMarker([v.lat, v.lon], {
        renderer: canvas, radius: v.warned ? 6 : 3.5, weight: v.warned ? 2 : radar ? 2 : 1,
        color: v.warned ? "#d7263d" : radar ? "#12b886" : "#fff",
        fillColor: radar ? "#12b886" : v.registered ? "#2c7be5" : "#8b5cf6", fillOpacity: radar ? 0.2 : 0.95,
      });
      const label = radar ? radarLabel(v.external_id) : v.name;
      m.bindTooltip(`${esc(label)} ${v.sog_kn != null ? esc(interpolate(gettext("%s节"), [v.sog_kn])) : ""}`);
      m.on("click", () => openDetail("vessel", v.id));
      layers.vessels.addLayer(m);
    });
    layers.associations.clearLayers();
    (d.associations || []).forEach((a) => {
      const r = byExternal[a.radar_target];
      const v = byExternal[a.vessel_id];
      if (!r || !v || !a.active) return;
      layers.associations.addLayer(L.polyline([[r.lat, r.lon], [v.lat, v.lon]], { color: "#12b886", weight: 2, dashArray: "2 4" })
        .bindTooltip(esc(a.text)));
    });
    layers.facilities.clearLayers();
    (d.facilities || []).forEach((f) => {
      const m = L.circleMarker([f.lat, f.lon], {
        renderer: canvas, radius: f.status === "ok" ? 2.5 : 5, weight: 1, color: f.status === "ok" ? "#fff" : "#000",
        fillColor: FACILITY_COLOURS[f.status] || "#7a8a99", fillOpacity: 0.95,
      });
      m.bindTooltip(`${esc(f.name)}（${esc(f.kind_label)}·${esc(f.status_label)}）`);
      m.on("click", () => openDetail("facility", f.id));
      layers.facilities.addLayer(m);
    });
    layers.checkins.clearLayers();
    (d.checkins || []).forEach((c) => {
      const m = L.marker([c.lat, c.lon], { icon: L.divIcon({ className: "", html: `<span class="ck-tmark" data-team-id="${c.team_id}"></span>`, iconSize: [14, 14] }) });
      m.bindTooltip(`${esc(c.team)} · ${esc(c.place)} · ${XS.fmtTime(c.at)}`);
      m.on("click", () => openDetail("team", c.team_id));
      layers.checkins.addLayer(m);
    });
    layers.warnings.clearLayers();
    d.warnings.forEach((w) => {
      const m = XSMap.levelMarker(w.lat, w.lon, w.level, { "warning-id": w.id, level: w.level });
      m.bindTooltip(`${esc(interpolate(gettext("%s预警"), [w.level_label]))} · ${esc(w.kind_label)}${w.geofence ? " · " + esc(w.geofence) : ""}`);
      m.on("click", () => openDetail("warning", w.id));
      layers.warnings.addLayer(m);
    });
    const status = document.getElementById("ck-map-status");
    if (status) {
      status.textContent = interpolate(gettext("船舶 %(vessels)s · 预警 %(warnings)s · 更新 %(time)s"), {
        vessels: d.vessels.length, warnings: d.warnings.length, time: new Date(d.generated_at).toLocaleTimeString("zh-CN", { hour12: false }),
      }, true);
    }
  }

  // ------------------------------------------------------------------ side panel
  const side = document.getElementById("ck-side");
  const sideBody = document.getElementById("ck-side-body");
  document.getElementById("ck-side-close").addEventListener("click", () => {
    side.hidden = true;
    layers.highlight.clearLayers();
  });

  function fieldsTable(fields) {
    return `<table>${Object.entries(fields || {}).map(([k, v]) => {
      const val = typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? XS.fmtTime(v) : v;
      return `<tr><th>${esc(k)}</th><td>${esc(val == null || val === "" ? "—" : val)}</td></tr>`;
    }).join("")}</table>`;
  }
  function warningItem(w) {
    return `<li><a href="#" data-open="warning" data-id="${w.id}"><span class="badge ${esc(w.level)}">${esc(w.level_label)}</span> ${esc(w.kind_label)}</a> ${XS.fmtTime(w.created_at)} · ${esc(w.status_label)}</li>`;
  }
  function renderDetail(d) {
    let html = `<h3>${esc(d.title)}</h3>${fieldsTable(d.fields)}`;
    if (d.links && d.links.length) html += `<p class="ck-links">${d.links.map((l) => `<a href="${esc(l.url)}" data-role="detail-link">${esc(l.label)} →</a>`).join(" ")}</p>`;
    if (d.tasks) {
      const at = (label, iso) => `${esc(label)} ${XS.fmtTime(iso)}`;
      html += `<h4>${esc(interpolate(gettext("处置任务（%s）"), [d.tasks.length]))}</h4><ul>${d.tasks.map((t) => `<li>${esc(t.department)}：${esc(t.title)} — <b>${esc(t.state_label)}</b><br><small>${at(gettext("派发"), t.assigned_at)}${t.acknowledged_at ? " · " + at(gettext("签收"), t.acknowledged_at) : ""}${t.arrived_at ? " · " + at(gettext("到场"), t.arrived_at) : ""}${t.feedback_at ? " · " + at(gettext("反馈"), t.feedback_at) : ""}</small></li>`).join("") || `<li>${esc(gettext("尚未派发"))}</li>`}</ul>`;
    }
    const none = `<li>${esc(gettext("无"))}</li>`;
    if (d.history) html += `<h4>${esc(gettext("预警记录"))}${d.warnings_total != null ? esc(interpolate(gettext("（共 %s 条）"), [d.warnings_total])) : ""}</h4><ul>${d.history.map(warningItem).join("") || none}</ul>`;
    if (d.track) html += `<p class="muted">${esc(interpolate(gettext("近24小时轨迹 %s 个点"), [d.track.length]))}</p>`;
    if (d.repairs) html += `<h4>${esc(gettext("维修记录"))}</h4><ul>${d.repairs.map((r) => `<li>${esc(r.title)} — ${esc(r.state_label)}（${esc(r.source_label)}）<br><small>${XS.fmtTime(r.opened_at)}${r.closed_at ? " → " + XS.fmtTime(r.closed_at) : ""}</small></li>`).join("") || none}</ul>`;
    if (d.checkins) html += `<h4>${esc(gettext("最近打卡"))}</h4><ul>${d.checkins.map((c) => `<li>${esc(c.place)} · ${XS.fmtTime(c.at)}</li>`).join("") || none}</ul>`;
    sideBody.innerHTML = html;
    sideBody.querySelectorAll("[data-open]").forEach((a) => a.addEventListener("click", (ev) => {
      ev.preventDefault();
      openDetail(a.dataset.open, a.dataset.id);
    }));
    layers.highlight.clearLayers();
    if (d.track && d.track.length > 1) {
      const line = L.polyline(d.track.map((p) => [p[1], p[0]]), { color: "#ffd43b", weight: 4, opacity: 0.95 });
      layers.highlight.addLayer(line);
      map.fitBounds(line.getBounds(), { maxZoom: 13, padding: [30, 30] });
    } else if (d.warning && d.warning.lat != null) {
      layers.highlight.addLayer(L.circleMarker([d.warning.lat, d.warning.lon], { radius: 16, color: "#ffd43b", weight: 3, fill: false }));
    }
  }
  async function openDetail(kind, id) {
    side.hidden = false;
    sideBody.dataset.kind = kind;
    sideBody.dataset.id = id;
    sideBody.innerHTML = `<p class='muted'>${esc(gettext("加载中…"))}</p>`;
    try {
      renderDetail(await XS.api(`/api/cockpit/detail/${encodeURIComponent(kind)}/${encodeURIComponent(id)}/`));
    } catch (e) {
      sideBody.innerHTML = `<p class="errors">${esc(e.message)}</p>`;
    }
  }

  // ------------------------------------------------------------------ loading
  async function loadSummary() {
    try {
      state.summary = await XS.api("/api/cockpit/summary/");
      setCounters(state.summary);
      drawSummaryCharts(state.summary);
    } catch (e) {
      XS.toast(interpolate(gettext("指标加载失败：%s"), [e.message]), "error");
    }
  }
  async function loadMap() {
    try {
      state.map = await XS.api("/api/cockpit/map/");
      renderMap(state.map);
    } catch (e) {
      XS.toast(interpolate(gettext("地图数据加载失败：%s"), [e.message]), "error");
    }
  }
  async function loadTrends() {
    try {
      const days = state.bucket === "week" ? 84 : 30;
      drawTrends(await XS.api(`/api/cockpit/trends/?days=${days}&bucket=${state.bucket}`));
    } catch (e) {
      console.error(e);
    }
  }
  async function loadTide() {
    try {
      drawTide(await XS.api("/api/cockpit/tide/"));
    } catch (e) {
      console.error(e);
    }
  }

  let pending = { summary: false, map: false };
  let timer = null;
  function schedule(what) {
    pending = { summary: pending.summary || !!what.summary, map: pending.map || !!what.map };
    clearTimeout(timer);
    timer = setTimeout(() => {
      const p = pending;
      pending = { summary: false, map: false };
      if (p.summary) loadSummary();
      if (p.map) loadMap();
    }, 250);
  }

  const ALERT_TEXT = { "warning.new": gettext("新预警"), "task.escalated": gettext("任务超时升级"), "sources.facility_down": gettext("防范设备离线") };
  cfg.events.forEach((ev) => XSLive.on(ev, (payload) => {
    schedule({ summary: true, map: cfg.map.includes(ev) });
    if (cfg.alert.includes(ev)) {
      const level = payload && payload.level ? `${LEVEL_LABELS[payload.level] || ""}` : "";
      const alert = ALERT_TEXT[ev] || ev;
      const what = level ? interpolate(gettext("%(level)s%(alert)s"), { level, alert }, true) : alert;
      XS.toast(`${what}${payload && payload.id ? " #" + payload.id : ""}`);
      XS.beep();
    }
  }));
  let reconnect = false;  // the first connection follows the page's own first load: no second fetch
  XSLive.on("connected", () => {
    if (!reconnect) { reconnect = true; return; }
    schedule({ summary: true, map: true });
    loadTrends();
    loadTide();
  });

  document.querySelectorAll(".ck-toggle button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(".ck-toggle button").forEach((x) => x.classList.toggle("on", x === b));
    state.bucket = b.dataset.bucket;
    loadTrends();
  }));
  window.addEventListener("resize", () => {
    Object.values(charts).forEach((c) => c.resize());
    map.invalidateSize();
  });

  loadSummary();
  loadMap();
  loadTrends();
  loadTide();
  setInterval(() => schedule({ summary: true, map: true }), 60000); // deadlines pass without any push
  setInterval(loadTrends, 300000);
  setInterval(loadTide, 1800000);
  window.XSCockpit = { openDetail, state, map };
})();
