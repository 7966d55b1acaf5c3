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
  function showResult(message, kind) {
    const el = $("#result");
    el.hidden = false;
    el.className = "m-result " + (kind || "info");
    el.textContent = message;
  }
  function setSync(state) {
    const el = $("#sync-state");
    el.dataset.state = state;
    el.textContent = { done: T.synced, idle: T.synced, syncing: T.syncing, offline: T.waiting, retry: T.waiting, auth: T.auth }[state] || state;
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
          ? `<div class="refused-reason">${esc(T.refused)}${gettext("：")}${esc(i.error)}</div><button type="button" class="m-btn small" data-delete="${esc(i.uuid)}">${esc(T.delete)}</button>`
          : `<div class="muted">${esc(T.pending)}（${esc(interpolate(ngettext("%s 张照片", "%s 张照片", i.files.length), [i.files.length]))}）</div>`}
      </li>`).join("");
    const done = (await meta.get(`done:${ME}`)) || [];
    $("#done-list").innerHTML = done.map((d) => `
      <li class="m-item ok"><b>${esc(d.label)}</b> <span class="muted">${esc(XS.fmtTime(d.at))}</span>
      <div>${esc(d.replayed ? T.replayed : T.uploaded)} #${esc(d.id)}</div></li>`).join("");
  }

  // ---------------------------------------------------------------- sync, exactly once
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
    for (const item of pending) {
      let res;
      try {
        res = await send(item);
      } catch (e) { // no connection, or the answer was lost: keep it, same UUID next time
        setSync("retry"); scheduleRetry(); return;
      }
      if (res.ok) {
        await queue.del(item.uuid);
        const done = (await meta.get(`done:${ME}`)) || [];
        done.unshift({ label: item.label, at: new Date().toISOString(), id: res.body && res.body.id, replayed: !!(res.body && res.body.replayed) });
        await meta.set(`done:${ME}`, done.slice(0, 20));
        showResult(`${item.label}${gettext("：")}${res.body && res.body.replayed ? T.replayed : T.uploaded}`, "ok");
      } else if (res.status === 401 || (res.status === 403 && !(res.body && Array.isArray(res.body.detail)))) {
        setSync("auth"); await renderQueue(); return;
      } else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        item.state = "refused";
        item.error = reasonOf(res.body) || String(res.status);
        await queue.put(item);
        showResult(`${item.label}${gettext("：")}${T.refused}${gettext("：")}${item.error}`, "error");
      } else {
        setSync("retry"); scheduleRetry(); await renderQueue(); return;
      }
      await renderQueue();
    }
    setSync("done");
    await renderQueue();
    if (window.XSMobile) XSMobile.lastSync = new Date().toISOString();
  }

  async function enqueue(kind, label, fields, files) {
    const item = {
      uuid: uuid4(), owner: ME, kind, label, fields, state: "pending", error: "", created: new Date().toISOString(),
      files: files.map((f) => ({ field: f.field, name: f.file.name || "photo.jpg", blob: new Blob([f.file], { type: f.file.type || "image/jpeg" }) })),
    };
    await queue.put(item);
    await renderQueue();
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

  async function loadToday() {
    try {
      today = await XS.api(API.today);
      await meta.set(`today:${ME}`, today);
      $("#plans-note").textContent = "";
    } catch (e) {
      const cached = await meta.get(`today:${ME}`);
      if (cached) { today = cached; $("#plans-note").textContent = T.offline_data; }
    }
    renderPlans();
    renderPlaces();
  }

  function renderPlans() {
    const plans = today.plans || [];
    if (!plans.length) { $("#plans").innerHTML = `<p class="muted">${esc(T.no_plans)}</p>`; return; }
    $("#plans").innerHTML = plans.map((p) => `
      <div class="m-plan ${esc(p.status)}" data-plan-id="${p.id}">
        <div class="m-plan-info"><b>${esc(p.place)}</b><br>
          <span class="muted">${esc(p.team_name)} · ${esc(T.window)} ${esc(p.window_label)}</span><br>
          <span class="m-tag ${esc(p.status)}">${esc(p.status_label)}</span></div>
        <button type="button" class="m-btn primary checkin-btn" data-plan-id="${p.id}">${esc(T.checkin)}</button>
      </div>`).join("");
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
