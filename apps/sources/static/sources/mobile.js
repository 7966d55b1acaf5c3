// The grid worker's phone page: check in and report, also with no connection.
//
// Every check-in or report is first written to IndexedDB (photos as Blobs) with a UUID made
// here, then sent. The server keeps each UUID once and answers a repeat with the original
// record, so an item is deleted from the phone only after the server has confirmed it:
// whatever the connection does (request lost, response lost, sent twice), it arrives once.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("m-text").textContent);
  const API = { today: "/api/sources/mobile/today/", checkin: "/api/sources/checkins/", report: "/api/sources/reports/" };
  const $ = (sel) => document.querySelector(sel);
  // Items are kept per account: a phone shared by two grid workers never sends one's record as the other's.
  const ME = document.getElementById("m-status").dataset.user;
  const esc = (s) => (window.XS ? XS.esc(s) : String(s));

  // ---------------------------------------------------------------- IndexedDB
  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const open = indexedDB.open("xs-mobile", 1);
        open.onupgradeneeded = () => {
          const d = open.result;
          if (!d.objectStoreNames.contains("queue")) d.createObjectStore("queue", { keyPath: "uuid" });
          if (!d.objectStoreNames.contains("meta")) d.createObjectStore("meta");
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
    }
    return dbPromise;
  }
  async function run(storeName, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction(storeName, mode);
      const request = fn(tx.objectStore(storeName));
      tx.oncomplete = () => resolve(request ? request.result : undefined);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }
  const queue = {
    all: async () => ((await run("queue", "readonly", (s) => s.getAll())) || []).sort((a, b) => a.created.localeCompare(b.created)),
    put: (item) => run("queue", "readwrite", (s) => s.put(item)),
    del: (uuid) => run("queue", "readwrite", (s) => s.delete(uuid)),
  };
  const meta = {
    get: (key) => run("meta", "readonly", (s) => s.get(key)),
    set: (key, value) => run("meta", "readwrite", (s) => s.put(value, key)),
  };

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    return (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  }

  // ---------------------------------------------------------------- status and messages
  // The result banner is fixed to the top of the screen (where the worker is looking, wherever the
  // page is scrolled); a refusal stays until dismissed, other messages fade after a few seconds.
  let resultTimer = null;
  function showResult(message, kind, { title = "", reasons = [] } = {}) {
    const el = $("#result");
    el.hidden = false;
    el.className = "m-result " + (kind || "info");
    el.innerHTML = `<button type="button" class="m-result-close" aria-label="${esc(gettext("关闭"))}">×</button>` +
      (title ? `<b>${esc(title)}</b>` : "") + `<div>${esc(message)}</div>` +
      (reasons.length ? `<ul class="m-reasons">${reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>` : "");
    clearTimeout(resultTimer);
    if (kind !== "error") resultTimer = setTimeout(() => { el.hidden = true; }, 8000);
  }
  async function setSync(state) {
    const el = $("#sync-state");
    const mine = (await queue.all()).filter((i) => i.owner === ME);
    const refused = mine.filter((i) => i.state === "refused").length;
    const pending = mine.filter((i) => i.state === "pending").length;
    if ((state === "done" || state === "idle") && (refused || pending)) state = refused ? "refused" : "retry";
    el.dataset.state = state;
    el.textContent = state === "refused"
      ? interpolate(ngettext("%s 条被拒绝，原因见下方", "%s 条被拒绝，原因见下方", refused), [refused])
      : { done: T.synced, idle: T.synced, syncing: T.syncing, offline: T.waiting, retry: T.waiting, auth: T.auth }[state] || state;
  }
  function setNet() {
    const el = $("#net-state");
    el.textContent = navigator.onLine ? T.online : T.offline;
    el.classList.toggle("down", !navigator.onLine);
  }

  async function renderQueue() {
    const items = (await queue.all()).filter((i) => i.owner === ME);  // another account's stay hidden until it signs in
    const pending = items.filter((i) => i.state === "pending");
    $("#queue-count").textContent = String(pending.length);
    $("#queue-list").innerHTML = items.map((i) => `
      <li class="m-item ${i.state}" data-uuid="${esc(i.uuid)}">
        <b>${esc(i.label)}</b> <span class="muted">${esc(XS.fmtTime(i.created))}</span>
        ${i.state === "refused"
          ? `<div class="m-qstate refused" data-qstate="refused">${esc(gettext("被拒绝"))}</div><div class="refused-reason">${esc(T.refused)}${gettext("：")}${esc(i.error)}</div><button type="button" class="m-btn small" data-delete="${esc(i.uuid)}">${esc(T.delete)}</button>`
          : sending.has(i.uuid)
            ? `<div class="m-qstate sending" data-qstate="sent">${esc(gettext("已发送，等待服务器确认"))}</div>`
            : `<div class="m-qstate" data-qstate="pending">${esc(T.pending)}（${esc(interpolate(ngettext("%s 张照片", "%s 张照片", i.files.length), [i.files.length]))}）</div>`}
      </li>`).join("");
    const done = (await meta.get(`done:${ME}`)) || [];
    $("#done-list").innerHTML = done.map((d) => `
      <li class="m-item ok"><b>${esc(d.label)}</b> <span class="muted">${esc(XS.fmtTime(d.at))}</span>
      <div class="m-qstate ok" data-qstate="accepted">${esc(gettext("已受理"))} · ${esc(d.replayed ? T.replayed : T.uploaded)} #${esc(d.id)}${d.accepted_at ? ` · ${esc(interpolate(gettext("受理时间 %s（北京时间）"), [XS.fmtTime(d.accepted_at)]))}` : ""}</div></li>`).join("");
  }

  // ---------------------------------------------------------------- sync, exactly once
  function reasonsOf(body) {
    if (!body) return [];
    const d = body.detail !== undefined ? body.detail : body;
    if (typeof d === "string") return [d];
    if (Array.isArray(d)) return d.map(String);
    return Object.values(d).flat().map(String);
  }
  function reasonOf(body) {
    if (!body) return "";
    const d = body.detail !== undefined ? body.detail : body;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) return d.join("；");
    return Object.values(d).flat().join("；");
  }

  async function send(item) {
    const form = new FormData();
    form.append("client_uuid", item.uuid);
    Object.entries(item.fields).forEach(([k, v]) => { if (v !== null && v !== undefined && v !== "") form.append(k, v); });
    item.files.forEach((f) => form.append(f.field, f.blob, f.name));
    const response = await fetch(item.kind === "checkin" ? API.checkin : API.report, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    return { status: response.status, ok: response.ok, body };
  }

  let syncing = null;
  let retryTimer = null;
  const sending = new Set();  // uuids on the wire now: sent, not yet answered
  function sync() {
    // one sync at a time per page; a second call joins the running one
    if (!syncing) syncing = doSync().finally(() => { syncing = null; });
    return syncing;
  }
  function scheduleRetry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(sync, 15000);
  }
  async function doSync() {
    const pending = (await queue.all()).filter((i) => i.state === "pending" && i.owner === ME);
    if (!pending.length) { setSync("idle"); await renderQueue(); return; }
    if (!navigator.onLine) { setSync("offline"); return; }
    setSync("syncing");
    let acceptedCheckin = false;
    for (const item of pending) {
      let res;
      sending.add(item.uuid);
      await renderQueue();
      try {
        res = await send(item);
      } catch (e) { // no connection, or the answer was lost: keep it, same UUID next time
        sending.delete(item.uuid);
        setSync("retry"); scheduleRetry(); await renderQueue(); return;
      }
      sending.delete(item.uuid);
      if (res.ok) {
        await queue.del(item.uuid);
        acceptedCheckin = acceptedCheckin || item.kind === "checkin";
        const body = res.body || {};
        const acceptedAt = body.received_at || new Date().toISOString();
        const done = (await meta.get(`done:${ME}`)) || [];
        done.unshift({ label: item.label, at: item.created, accepted_at: acceptedAt, id: body.id, replayed: !!body.replayed,
                       kind: item.kind, plan: item.fields.plan });
        await meta.set(`done:${ME}`, done.slice(0, 20));
        const what = item.kind === "checkin" ? gettext("打卡已受理") : gettext("上报已受理");
        showResult(interpolate(gettext("%(what)s：%(label)s，%(time)s（北京时间）"), {
          what, label: item.label, time: XS.fmtTime(acceptedAt) }, true), "ok", { title: body.replayed ? T.replayed : "" });
      } else if (res.status === 401 || (res.status === 403 && !(res.body && Array.isArray(res.body.detail)))) {
        setSync("auth"); await renderQueue(); return;
      } else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        item.state = "refused";
        item.error = reasonOf(res.body) || String(res.status);
        item.reasons = reasonsOf(res.body);
        await queue.put(item);
        showResult(item.reasons.length ? item.label : `${item.label}${gettext("：")}${T.refused}${gettext("：")}${item.error}`, "error", {
          title: item.kind === "checkin" ? gettext("打卡未通过") : gettext("上报未通过"), reasons: item.reasons });
      } else {
        setSync("retry"); scheduleRetry(); await renderQueue(); return;
      }
      await renderQueue();
    }
    await setSync("done");
    await renderQueue();
    if (acceptedCheckin) await loadToday(); else await renderPlans();  // the plan now says 已打卡
    if (window.XSMobile) XSMobile.lastSync = new Date().toISOString();
  }

  async function enqueue(kind, label, fields, files) {
    const item = {
      uuid: uuid4(), owner: ME, kind, label, fields, state: "pending", error: "", created: new Date().toISOString(),
      files: files.map((f) => ({ field: f.field, name: f.file.name || "photo.jpg", blob: new Blob([f.file], { type: f.file.type || "image/jpeg" }) })),
    };
    await queue.put(item);
    await renderQueue();
    await renderPlans();
    showResult(navigator.onLine ? T.queued : T.queued_offline, "info");
    sync();
    return item.uuid;
  }

  // ---------------------------------------------------------------- location
  function locate() {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error(T.no_geo)); return; }
      navigator.geolocation.getCurrentPosition(
        (p) => resolve(p.coords),
        () => reject(new Error(T.no_geo)),
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 }
      );
    });
  }

  // ---------------------------------------------------------------- today: plans and places
  let today = { plans: [], places: [] };
  let current = null; // the plan being checked in

  // The server's clock judges the window: the phone's clock is corrected by the offset seen at the last load.
  let clockOffsetMs = 0;
  const serverNow = () => Date.now() + clockOffsetMs;

  async function loadToday() {
    try {
      today = await XS.api(API.today);
      if (today.now) today.offset_ms = Date.parse(today.now) - Date.now();
      await meta.set(`today:${ME}`, today);
      $("#plans-note").textContent = "";
    } catch (e) {
      const cached = await meta.get(`today:${ME}`);
      if (cached) { today = cached; $("#plans-note").textContent = T.offline_data; }
    }
    clockOffsetMs = today.offset_ms || 0;
    await renderPlans();
    renderPlaces();
  }

  // "12月1日（周二）" of a plan's night (YYYY-MM-DD), and 今晚 / 明晚 / 昨晚 against Beijing time now.
  const WEEKDAYS = () => [gettext("周日"), gettext("周一"), gettext("周二"), gettext("周三"), gettext("周四"), gettext("周五"), gettext("周六")];
  function nightTitle(night) {
    const [y, m, d] = night.split("-").map(Number);
    const date = new Date(Date.UTC(y, m - 1, d));
    const label = interpolate(gettext("%(m)s月%(d)s日（%(w)s）"), { m, d, w: WEEKDAYS()[date.getUTCDay()] }, true);
    // the night of now, as the server counts it (selectors.night_of): before 06:00 Beijing time is the previous evening's
    const bj = XS.shanghaiInput(new Date(serverNow() - 6 * 3600 * 1000)).slice(0, 10);
    const diff = Math.round((date - Date.parse(bj + "T00:00:00Z")) / 86400000);
    const rel = { "-1": gettext("昨晚"), 0: gettext("今晚"), 1: gettext("明晚") }[diff];
    return rel ? `${rel} · ${label}` : label;
  }

  // Check-in only inside the window (the server judges; the button says when it opens).
  function planAction(p, queued, refused) {
    const now = serverNow();
    const start = Date.parse(p.window_start), end = Date.parse(p.window_end);
    if (p.status === "checked_in") {
      return { disabled: true, text: gettext("已打卡"), note: p.checked_in_at ? interpolate(gettext("打卡已受理，%s（北京时间）"), [XS.fmtTime(p.checked_in_at)]) : "" };
    }
    if (queued) return { disabled: true, text: gettext("待上传"), note: gettext("打卡已保存在手机上，联网后自动上传") };
    if (now < start) {
      return { disabled: true, text: gettext("未到时段"), countdown: true,
               note: interpolate(gettext("距巡查时段开始还有 %s"), [XS.fmtDuration((start - now) / 60000)]) };
    }
    if (now > end) return { disabled: true, text: gettext("时段已结束"), note: "" };
    return { disabled: false, text: T.checkin, note: interpolate(gettext("时段内，还剩 %s"), [XS.fmtDuration((end - now) / 60000)]),
             refused };
  }

  async function renderPlans() {
    const plans = today.plans || [];
    if (!plans.length) { $("#plans").innerHTML = `<p class="muted">${esc(T.no_plans)}</p>`; return; }
    const items = (await queue.all()).filter((i) => i.owner === ME && i.kind === "checkin");
    const nights = [];
    plans.forEach((p) => {
      let group = nights.find((n) => n.night === p.night);
      if (!group) nights.push(group = { night: p.night, plans: [] });
      group.plans.push(p);
    });
    $("#plans").innerHTML = nights.map((n) => `<div class="m-night" data-night="${esc(n.night)}"><h3 class="m-night-title">${esc(nightTitle(n.night))}</h3>` +
      n.plans.map((p) => {
        const mine = items.filter((i) => String(i.fields.plan) === String(p.id));
        const refused = mine.find((i) => i.state === "refused");
        const a = planAction(p, mine.some((i) => i.state === "pending"), refused);
        return `
      <div class="m-plan ${esc(p.status)}" data-plan-id="${p.id}">
        <div class="m-plan-info"><b>${esc(p.place)}</b><br>
          <span class="muted">${esc(p.team_name)} · ${esc(T.window)} ${esc(p.window_label)}</span><br>
          <span class="m-tag ${esc(p.status)}">${esc(p.status_label)}</span>
          ${a.note ? `<div class="m-plan-note${a.countdown ? " countdown" : ""}" data-role="plan-note">${esc(a.note)}</div>` : ""}
          ${refused ? `<div class="refused-reason" data-role="plan-refused">${esc(gettext("上次打卡未通过"))}${gettext("：")}${esc(refused.error)}</div>` : ""}</div>
        <button type="button" class="m-btn primary checkin-btn" data-plan-id="${p.id}"${a.disabled ? " disabled" : ""}>${esc(a.text)}</button>
      </div>`;
      }).join("") + "</div>").join("");
  }

  function renderPlaces() {
    const sel = $("#report-place");
    const first = sel.options[0].outerHTML;
    sel.innerHTML = first + (today.places || []).map((p) => `<option value="${p.id}">${esc(p.name)}</option>`).join("");
    renderFacilities();
  }
  function renderFacilities() {
    const place = (today.places || []).find((p) => String(p.id) === $("#report-place").value);
    const sel = $("#report-facility");
    const first = sel.options[0].outerHTML;
    const list = place ? place.facilities : (today.places || []).flatMap((p) => p.facilities.map((f) => ({ ...f, name: `${p.name} · ${f.name}` })));
    sel.innerHTML = first + list.map((f) => `<option value="${f.id}">${esc(f.name)}（${esc(f.kind_label)}）</option>`).join("");
  }

  function preview(input, target) {
    target.innerHTML = "";
    [...input.files].forEach((f) => {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(f);
      img.alt = f.name;
      target.appendChild(img);
    });
  }

  // ---------------------------------------------------------------- check-in
  function openCheckin(planId) {
    current = (today.plans || []).find((p) => String(p.id) === String(planId));
    if (!current) return;
    $("#checkin-place").textContent = current.place;
    $("#checkin-window").textContent = `${T.window} ${current.window_label} · ${current.team_name}`;

    $("#checkin-panel").hidden = false;
    // the place on the shared base map (cached for offline use by the service worker) and in the phone's map app
    const el = $("#checkin-map");
    const here = current.lat != null && current.lon != null && window.XSMap;
    el.hidden = !here;
    $("#checkin-geo").parentElement.hidden = !here;
    if (here) {
      $("#checkin-geo").href = XSMap.geoUri(current.lat, current.lon, current.place);
      if (el._xsMap) { el._xsMap.remove(); delete el._xsMap; delete el.dataset.ready; }
      XSMap.mini(el, { lat: current.lat, lon: current.lon, label: current.place, zoom: 14 });
    }
    $("#checkin-panel").scrollIntoView({ behavior: "smooth" });
  }
  function closeCheckin() {
    current = null;
    $("#checkin-photo").value = "";
    $("#checkin-preview").innerHTML = "";
    $("#checkin-panel").hidden = true;
  }
  async function submitCheckin() {
    const input = $("#checkin-photo");
    if (!current) return;
    if (!input.files.length) { showResult(T.need_photo, "error"); return; }
    const btn = $("#checkin-submit");
    btn.disabled = true;
    showResult(T.locating, "info");
    try {
      const c = await locate();
      await enqueue("checkin", `${T.checkin} ${current.place}`, {
        plan: current.id, lon: c.longitude, lat: c.latitude, accuracy_m: c.accuracy, at: new Date().toISOString(),
      }, [{ field: "photo", file: input.files[0] }]);
      closeCheckin();
    } catch (e) {
      showResult(e.message, "error");
    } finally {
      btn.disabled = false;
    }
  }

  // ---------------------------------------------------------------- reports
  async function submitReport(ev) {
    ev.preventDefault();
    const form = $("#report-form");
    const kindInput = form.querySelector('input[name="kind"]:checked');
    const photos = [...$("#report-photos").files];
    const description = $("#report-description").value.trim();
    const facility = $("#report-facility").value;
    if (!kindInput) { showResult(T.need_kind, "error"); return; }
    if (kindInput.value === "damage" && !photos.length) { showResult(T.need_photo, "error"); return; }
    if (kindInput.value === "damage" && !facility && !description) { showResult(T.need_place, "error"); return; }
    const btn = $("#report-submit");
    btn.disabled = true;
    showResult(T.locating, "info");
    try {
      const c = await locate();
      const label = kindInput.parentElement.textContent.trim();
      await enqueue("report", `${T.report} ${label}`, {
        kind: kindInput.value, description, facility: kindInput.value === "damage" ? facility : "",
        lon: c.longitude, lat: c.latitude, accuracy_m: c.accuracy, at: new Date().toISOString(),
      }, photos.map((file) => ({ field: "photos", file })));
      form.reset();
      $("#report-preview").innerHTML = "";
      $("#facility-row").hidden = true;
    } catch (e) {
      showResult(e.message, "error");
    } finally {
      btn.disabled = false;
    }
  }

  // ---------------------------------------------------------------- wiring
  function wire() {
    $("#plans").addEventListener("click", (e) => {
      const b = e.target.closest(".checkin-btn");
      if (b) openCheckin(b.dataset.planId);
    });
    $("#checkin-submit").addEventListener("click", submitCheckin);
    $("#checkin-cancel").addEventListener("click", closeCheckin);
    $("#checkin-photo").addEventListener("change", () => preview($("#checkin-photo"), $("#checkin-preview")));
    $("#report-photos").addEventListener("change", () => preview($("#report-photos"), $("#report-preview")));
    $("#report-form").addEventListener("submit", submitReport);
    $("#report-form").addEventListener("change", (e) => {
      if (e.target.name === "kind") $("#facility-row").hidden = e.target.value !== "damage";
      if (e.target.id === "report-place") renderFacilities();
    });
    $("#queue-list").addEventListener("click", async (e) => {
      const b = e.target.closest("[data-delete]");
      if (b) { await queue.del(b.dataset.delete); renderQueue(); }
    });
    $("#sync-now").addEventListener("click", () => sync());
    window.addEventListener("online", () => { setNet(); sync(); loadToday(); });
    window.addEventListener("offline", () => { setNet(); setSync("offline"); });
    setInterval(() => { if (navigator.onLine) sync(); }, 20000);
    setInterval(renderPlans, 15000);  // countdowns move, windows open and close
    $("#result").addEventListener("click", (e) => { if (e.target.closest(".m-result-close")) $("#result").hidden = true; });
    if (window.XSLive) XSLive.on("sources.checkin", () => loadToday());
  }

  async function start() {
    wire();
    setNet();
    if ("serviceWorker" in navigator) {
      const status = $("#m-status");
      navigator.serviceWorker.register(status.dataset.sw, { scope: status.dataset.scope })
        .then(() => { document.documentElement.dataset.sw = "registered"; })
        .catch(() => { document.documentElement.dataset.sw = "failed"; });
      navigator.serviceWorker.ready.then(() => { document.documentElement.dataset.sw = "ready"; });
    }
    await renderQueue();
    await loadToday();
    await sync();
    document.documentElement.dataset.mobileReady = "1";
  }

  window.XSMobile = { sync, queueCount: async () => (await queue.all()).filter((i) => i.state === "pending" && i.owner === ME).length };
  document.addEventListener("DOMContentLoaded", start);
})();
