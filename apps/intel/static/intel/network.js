// The network view: ECharts graph (force layout) of key elements and their links.
// Nodes by kind (colour, symbol), links by kind (colour) and time (tooltip, filter), width by
// confidence. Expand a node (its one-hop neighbourhood is merged in), filter by confidence,
// time span and link kind (re-read from the API), shortest path between two elements.
(function () {
  "use strict";
  const root = document.getElementById("network-app");
  if (!root) return;
  const $ = (sel) => root.querySelector(sel);
  const KIND_COLOUR = { person: "#d9534f", vehicle: "#f0ad4e", vessel: "#337ab7", company: "#5cb85c", phone: "#8e44ad", place: "#795548" };
  const KIND_SYMBOL = { person: "circle", vehicle: "rect", vessel: "triangle", company: "diamond", phone: "pin", place: "roundRect" };
  const LINK_COLOUR = { owns: "#555", drives: "#f0ad4e", crews: "#337ab7", called: "#8e44ad", paid: "#2e7d32", uses: "#9e9e9e",
    seen_together: "#ff7043", same_case: "#c62828", goods_traced: "#00897b" };
  const kindLabel = {};
  (document.getElementById("kind-labels") || { content: document }).content.querySelectorAll("span").forEach((s) => { kindLabel[s.dataset.kind] = s.textContent; });

  const state = { nodes: new Map(), links: new Map(), starts: [], path: [], pathLinks: new Set(), selected: null };
  window.XSNetwork = state; // read by the page test

  const chart = echarts.init($("#net-chart"));
  chart.on("click", (p) => { if (p.dataType === "node") select(Number(p.data.id)); });
  chart.on("dblclick", (p) => { if (p.dataType === "node") expand(Number(p.data.id)); });

  function filterParams() {
    const f = new FormData($("#net-filter"));
    const q = new URLSearchParams();
    q.set("min_confidence", f.get("min_confidence") || "0");
    q.set("hops", f.get("hops") || "2");
    if (f.get("start")) q.set("start", f.get("start") + "T00:00:00+08:00");
    if (f.get("end")) q.set("end", f.get("end") + "T23:59:59+08:00");
    const kinds = f.getAll("kinds");
    if (kinds.length && kinds.length < $("#net-filter").querySelectorAll('[name="kinds"]').length) q.set("kinds", kinds.join(","));
    return q;
  }

  function merge(data, { replace = false } = {}) {
    if (replace) { state.nodes.clear(); state.links.clear(); }
    data.nodes.forEach((n) => state.nodes.set(n.id, { ...(state.nodes.get(n.id) || {}), ...n }));
    data.links.forEach((l) => state.links.set(l.id, l));
    if (data.truncated) XS.toast(gettext("关系过多，只显示了一部分。"), "warn");
  }

  async function load(startParams) {
    const q = filterParams();
    for (const [k, v] of startParams) q.set(k, v);
    const data = await XS.api(root.dataset.api + "?" + q.toString());
    state.path = []; state.pathLinks.clear();
    merge(data, { replace: true });
    state.starts = data.nodes.filter((n) => n.start).map((n) => n.id);
    render();
  }

  async function reload() {
    if (!state.starts.length) return render();
    await load(new URLSearchParams({ elements: state.starts.join(",") }));
  }

  async function expand(id) {
    const q = filterParams();
    q.set("elements", String(id)); q.set("hops", "1");
    const data = await XS.api(root.dataset.api + "?" + q.toString());
    const before = state.nodes.size;
    merge(data);
    render();
    $("#net-status").textContent = interpolate(gettext("展开 %(label)s：新增 %(n)s 个要素"), { label: (state.nodes.get(id) || {}).label, n: state.nodes.size - before }, true);
  }

  async function findPath(a, b) {
    const q = new URLSearchParams({ a, b, min_confidence: new FormData($("#net-filter")).get("min_confidence") || "0" });
    try {
      const data = await XS.api(root.dataset.pathApi + "?" + q.toString());
      merge(data);
      state.path = data.path;
      state.pathLinks = new Set(data.links.map((l) => l.id));
      render();
      $("#path-result").textContent = interpolate(gettext("路径 %(n)s 步："), { n: data.links.length }, true) +
        data.path.map((id) => (state.nodes.get(id) || {}).label).join(" → ");
    } catch (e) {
      state.path = []; state.pathLinks.clear(); render();
      $("#path-result").textContent = e.message;
    }
  }

  function visibleLinks() {
    // the filter also applies to what was merged by expanding (the API already filtered each read)
    const f = new FormData($("#net-filter"));
    const min = Number(f.get("min_confidence") || 0);
    const kinds = new Set(f.getAll("kinds"));
    return [...state.links.values()].filter((l) => l.active !== false && l.confidence >= min - 1e-9 && kinds.has(l.kind)
      && state.nodes.has(l.source) && state.nodes.has(l.target));
  }

  function render() {
    const links = visibleLinks();
    const onPath = new Set(state.path);
    const categories = Object.keys(KIND_COLOUR).map((k) => ({ name: kindLabel[k] || k, itemStyle: { color: KIND_COLOUR[k] } }));
    const catIndex = Object.fromEntries(Object.keys(KIND_COLOUR).map((k, i) => [k, i]));
    chart.setOption({
      tooltip: { formatter: (p) => p.dataType === "edge"
        ? `${XS.esc(p.data.kind_display)} · ${XS.esc(p.data.origin_display)}${p.data.label ? " · " + XS.esc(p.data.label) : ""}<br>${gettext("可信度")} ${p.data.confidence}` +
          (p.data.start ? `<br>${XS.esc(XS.fmtTime(p.data.start))} — ${XS.esc(XS.fmtTime(p.data.end))}` : "")
        : `${XS.esc(p.data.kind_display)} ${XS.esc(p.data.name)}${p.data.watch_level ? " · " + XS.esc(p.data.watch_level_display) : ""}` },
      legend: [{ data: categories.map((c) => c.name), bottom: 0 }],
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true, categories,
        force: { repulsion: 260, edgeLength: [60, 140] },
        label: { show: true, position: "right", fontSize: 11 },
        edgeLabel: { show: true, fontSize: 10, formatter: (p) => p.data.kind_display },
        data: [...state.nodes.values()].map((n) => ({
          id: String(n.id), name: n.label, category: catIndex[n.kind], symbol: KIND_SYMBOL[n.kind] || "circle",
          symbolSize: n.watch_level ? 30 : (state.starts.includes(n.id) ? 26 : 18),
          itemStyle: onPath.has(n.id) ? { borderColor: "#ffb300", borderWidth: 4 } : (n.watch_level ? { borderColor: "#000", borderWidth: 2 } : {}),
          kind_display: n.kind_display, watch_level: n.watch_level, watch_level_display: n.watch_level_display,
        })),
        links: links.map((l) => ({
          source: String(l.source), target: String(l.target), kind_display: l.kind_display, origin_display: l.origin_display,
          label: l.label, confidence: l.confidence, start: l.start, end: l.end,
          lineStyle: { color: state.pathLinks.has(l.id) ? "#ffb300" : (LINK_COLOUR[l.kind] || "#999"),
            width: state.pathLinks.has(l.id) ? 5 : 1 + 3 * l.confidence, type: l.confidence < 0.5 ? "dashed" : "solid", opacity: 0.85 },
        })),
      }],
    }, { replaceMerge: ["series"] });
    renderTable(links);
    $("#net-status").textContent = interpolate(gettext("%(n)s 个要素，%(m)s 条关联"), { n: state.nodes.size, m: links.length }, true);
  }

  function renderTable() {
    const rows = [...state.nodes.values()].sort((a, b) => (a.community - b.community) || a.label.localeCompare(b.label));
    const onPath = new Set(state.path);
    $("#node-table tbody").innerHTML = rows.map((n) => `<tr data-node="${n.id}" class="${onPath.has(n.id) ? "on-path" : ""} ${state.selected === n.id ? "selected" : ""}">
      <td><a href="#" data-select="${n.id}">${XS.esc(n.label)}</a></td><td>${XS.esc(n.kind_display)}</td>
      <td>${n.watch_level ? `<span class="badge orange">${XS.esc(n.watch_level_display)}</span>` : ""}</td><td>${n.community}</td>
      <td><button type="button" class="btn small secondary" data-expand="${n.id}">${gettext("展开")}</button></td></tr>`).join("");
    const opts = rows.map((n) => `<option value="${n.id}">${XS.esc(n.kind_display)} ${XS.esc(n.label)}</option>`).join("");
    for (const sel of [$("#path-a"), $("#path-b")]) {
      const keep = sel.value;
      sel.innerHTML = opts;
      if (keep && state.nodes.has(Number(keep))) sel.value = keep;
    }
    if (!$("#path-b").dataset.touched && rows.length > 1 && $("#path-b").value === $("#path-a").value) $("#path-b").selectedIndex = rows.length - 1;
  }

  async function select(id) {
    state.selected = id;
    const n = state.nodes.get(id);
    if (!n) return;
    renderTable();
    const box = root.querySelector("#net-detail");
    box.innerHTML = `<h2>${XS.esc(n.kind_display)} ${XS.esc(n.label)}</h2>
      <dl class="stack">
        ${n.key ? `<dt>${gettext("识别码")}</dt><dd>${XS.esc(n.key)}</dd>` : ""}
        ${n.id_masked ? `<dt>${gettext("证件号码")}</dt><dd id="id-number">${XS.esc(n.id_masked)}</dd>` : ""}
        ${n.roles ? `<dt>${gettext("身份")}</dt><dd>${XS.esc(n.roles)}</dd>` : ""}
        <dt>${gettext("关注等级")}</dt><dd>${XS.esc(n.watch_level_display)}${n.reason ? " · " + XS.esc(n.reason) : ""}</dd>
        ${n.department ? `<dt>${gettext("归属部门")}</dt><dd>${XS.esc(n.department)}</dd>` : ""}
      </dl>
      <button type="button" class="btn" data-expand="${n.id}">${gettext("展开关联")}</button>
      <button type="button" class="btn secondary" data-centre="${n.id}">${gettext("以此为中心")}</button>
      <h3>${gettext("时间线")}</h3><ul class="timeline" id="timeline"><li class="muted">…</li></ul>`;
    try {
      const data = await XS.api(`${root.dataset.elementsApi}${id}/timeline/`);
      box.querySelector("#timeline").innerHTML = data.items.length ? data.items.map((i) =>
        `<li><b>${XS.esc(XS.fmtTime(i.at))}</b> ${XS.esc(i.kind_display)}<br>${XS.esc(i.text)}</li>`).join("")
        : `<li class="muted">${gettext("暂无记录。")}</li>`;
    } catch (e) { box.querySelector("#timeline").innerHTML = `<li>${XS.esc(e.message)}</li>`; }
  }

  root.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-expand],[data-select],[data-centre],[data-export],[data-start]");
    if (!b) return;
    ev.preventDefault();
    if (b.dataset.expand) expand(Number(b.dataset.expand));
    else if (b.dataset.select) select(Number(b.dataset.select));
    else if (b.dataset.centre) load(new URLSearchParams({ elements: b.dataset.centre }));
    else if (b.dataset.start) { load(new URLSearchParams({ elements: b.dataset.start })); $("#search-results").innerHTML = ""; }
    else if (b.dataset.export) {
      const q = filterParams();
      q.set("elements", [...state.nodes.keys()].join(",")); q.set("hops", "1"); q.set("fmt", b.dataset.export);
      window.location.href = root.dataset.exportApi + "?" + q.toString();
    }
  });
  $("#net-filter").addEventListener("submit", (ev) => { ev.preventDefault(); reload(); });
  $("#net-filter").addEventListener("input", (ev) => {
    if (ev.target.name === "min_confidence") $("#conf-out").textContent = ev.target.value;
  });
  $("#net-path").addEventListener("submit", (ev) => { ev.preventDefault(); findPath($("#path-a").value, $("#path-b").value); });
  $("#path-b").addEventListener("change", () => { $("#path-b").dataset.touched = "1"; });
  $("#net-search").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = new FormData(ev.target).get("q");
    const data = await XS.api(`${root.dataset.elementsApi}?search=${encodeURIComponent(q)}&page_size=20`);
    $("#search-results").innerHTML = data.results.length ? data.results.map((e) =>
      `<li><a href="#" data-start="${e.id}">${XS.esc(e.kind_display)} ${XS.esc(e.label)} ${XS.esc(e.key)}</a></li>`).join("")
      : `<li class="muted">${gettext("没有找到。")}</li>`;
  });
  window.addEventListener("resize", () => chart.resize());

  const d = root.dataset;
  const first = new URLSearchParams();
  if (d.startElement) first.set("elements", d.startElement);
  if (d.startWarning) first.set("warning", d.startWarning);
  if (d.startCase) first.set("case", d.startCase);
  if ([...first.keys()].length) load(first).catch((e) => XS.toast(e.message, "error"));
  else render();
})();
