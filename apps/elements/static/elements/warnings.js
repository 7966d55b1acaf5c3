// The live warnings list: REST is the source of truth; a "warning.new"/"warning.updated" push
// (or a reconnect) only triggers a reload of the current page of results.
(function () {
  "use strict";
  const form = document.getElementById("filters");
  const body = document.querySelector("#warnings tbody");
  const count = document.getElementById("count");
  const more = document.getElementById("more");
  let next = null;
  let known = new Set();
  let loaded = false;

  function query() {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (!v) continue;
      // entered as Beijing time whatever the device's zone (the server judges in Asia/Shanghai)
      if (k === "start_after" || k === "start_before") q.set(k, `${v}:00+08:00`);
      else q.set(k, v);
    }
    q.set("page_size", "50");
    return q;
  }

  function row(w, fresh) {
    const gf = w.geofence ? XS.esc(w.geofence.name) : (w.lon != null ? `${w.lon.toFixed(4)}, ${w.lat.toFixed(4)}` : "—");
    return `<tr data-id="${w.id}" class="${fresh ? "flash" : ""}">
      <td><span class="badge ${XS.esc(w.level)}">${XS.esc(w.level_display)}</span></td>
      <td>${Number(w.score).toFixed(1)}</td>
      <td><a href="/elements/warnings/${w.id}/">${XS.esc(w.kind_display)}</a></td>
      <td>${(w.vessels || []).map(XS.esc).join("<br>")}</td>
      <td>${gf}</td>
      <td>${XS.fmtTime(w.start)}</td>
      <td>${XS.fmtTime(w.end)}</td>
      <td>${XS.esc(w.status_display)}</td>
    </tr>`;
  }

  async function load(append) {
    if (append && !next) { more.hidden = true; return; }  // nothing more: never fetch page one again
    let data;
    try {
      data = await XS.api(append && next ? next : "/api/elements/warnings/?" + query());
    } catch (err) {
      XS.toast(err.message, "error");
      return;
    }
    const fresh = (w) => loaded && !known.has(w.id);
    // "更多" appends only rows not shown yet (a warning may have moved pages since)
    const rows = append ? data.results.filter((w) => !body.querySelector(`tr[data-id="${w.id}"]`)) : data.results;
    const html = rows.map((w) => row(w, !append && fresh(w))).join("");
    if (append) body.insertAdjacentHTML("beforeend", html);
    else body.innerHTML = html || `<tr><td colspan="8" class="muted">${XS.esc(gettext("暂无预警"))}</td></tr>`;
    data.results.forEach((w) => known.add(w.id));
    next = data.next;
    more.hidden = !next;
    count.textContent = `${data.count}`;
    loaded = true;
  }

  let pending = null;
  function reloadSoon() {  // pushes come in bursts during an ingest: reload at most twice a second
    if (pending) return;
    pending = setTimeout(() => { pending = null; load(false); }, 500);
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); known = new Set(); loaded = false; load(false); });
  more.addEventListener("click", () => load(true));
  XSLive.on("warning.new", (p) => { if (p && p.level) { XS.beep(); } reloadSoon(); });
  XSLive.on("warning.updated", reloadSoon);
  let reconnect = false;  // the first connection follows the page's own first load: no second fetch
  XSLive.on("connected", () => { if (reconnect) reloadSoon(); reconnect = true; });
  load(false);
})();
