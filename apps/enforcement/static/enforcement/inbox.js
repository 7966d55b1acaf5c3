// Department inbox: the department's tasks, live. A new task beeps and flashes; forms act on it.
(function () {
  "use strict";
  const { T, errText, levelBadge, stateTag, due, nowLocalInput, act, subjectHtml, mountMiniMaps } = window.ENF;
  const filters = document.getElementById("inbox-filters");
  const box = document.getElementById("tasks");
  const closedBody = document.querySelector("#closed-tasks tbody");
  const resultOptions = document.getElementById("result-options").innerHTML;
  let flashIds = new Set();
  const openForms = {};  // task id -> "feedback" | "reject": keep a form open across reloads

  function feedbackForm(t) {
    return `<form class="stack" data-form="feedback" data-task-id="${t.id}">
      <label>${XS.esc(T.result)}</label><select name="result" required><option value="" selected disabled>${XS.esc(gettext("请选择处置结果"))}</option>${resultOptions}</select>
      <label>${XS.esc(T.arrived_at)}${XS.esc(gettext("（北京时间）"))}</label><input type="datetime-local" name="arrived_at" value="${nowLocalInput()}" max="${nowLocalInput()}" required>
      <label>${XS.esc(T.feedback)}</label><textarea name="text" rows="3" required></textarea>
      <label>${XS.esc(T.attachments)}</label><input type="file" name="attachments" multiple accept="image/*,application/pdf">
      <p><button class="btn">${XS.esc(T.submit)}</button> <button type="button" class="btn secondary" data-cancel>${XS.esc(T.cancel)}</button></p>
    </form>`;
  }

  function rejectForm(t) {
    return `<form class="stack" data-form="reject" data-task-id="${t.id}">
      <label>${XS.esc(T.reject_reason)}</label><textarea name="reason" rows="2" required></textarea>
      <p><button class="btn danger">${XS.esc(T.submit)}</button> <button type="button" class="btn secondary" data-cancel>${XS.esc(T.cancel)}</button></p>
    </form>`;
  }

  function card(t) {
    const buttons = t.actions.map((a) => `<button class="btn${a.name === "reject" ? " secondary" : ""}" data-act="${XS.esc(a.name)}">${XS.esc(a.label)}</button>`).join("");
    const deadlines = [due(T.ack_due, t.ack_due_at), due(T.arrive_due, t.arrive_due_at), due(T.feedback_due, t.feedback_due_at)];
    const form = openForms[t.id] === "feedback" && t.actions.some((a) => a.name === "feedback") ? feedbackForm(t)
      : openForms[t.id] === "reject" && t.actions.some((a) => a.name === "reject") ? rejectForm(t) : "";
    return `<article class="task-card level-${XS.esc(t.level)} ${t.overdue ? "overdue" : ""} ${flashIds.has(t.id) ? "flash-card" : ""}" data-task-id="${t.id}" data-state="${XS.esc(t.state)}">
      <div>${levelBadge(t.level, t.level_label)} <span class="tag">${XS.esc(t.sector_label)}</span> ${stateTag(t)}</div>
      <div class="t-title">${XS.esc(t.title)}</div>
      <div class="t-meta">${XS.esc(T.reason)}${gettext("：")}${XS.esc(t.dispatch.title)}${t.case ? ` · <a href="/enforcement/cases/${t.case.id}/">${XS.esc(T.case)} ${XS.esc(t.case.number)}</a>` : ""}</div>
      ${subjectHtml(t.subject)}
      <div>${XS.esc(t.instructions)}</div>
      <div class="t-deadlines">${deadlines.join("")}</div>
      ${t.feedback_text ? `<div class="t-meta">${XS.esc(T.feedback)}${gettext("：")}${XS.esc(t.result_label)} — ${XS.esc(t.feedback_text)}</div>` : ""}
      <div class="t-actions">${buttons}</div>
      <div class="t-form">${form}</div>
    </article>`;
  }

  async function load() {
    const q = new URLSearchParams({ board: "1", page_size: "500" });
    if (filters) {
      const f = new FormData(filters);
      ["level", "place", "ordering"].forEach((k) => { if (f.get(k)) q.set(k, String(f.get(k)).trim()); });
    }
    const data = await XS.api(`/api/enforcement/tasks/?${q}`);
    const open = data.results.filter((t) => t.state !== "closed");
    const closed = data.results.filter((t) => t.state === "closed");
    // Keep forms being filled in (text, chosen files) across the reload.
    const kept = {};
    box.querySelectorAll("form[data-form]").forEach((f) => { kept[f.dataset.taskId + ":" + f.dataset.form] = f; });
    box.innerHTML = open.map(card).join("") || `<p class="muted" id="no-tasks">${XS.esc(T.none)}</p>`;
    box.querySelectorAll("form[data-form]").forEach((f) => {
      const old = kept[f.dataset.taskId + ":" + f.dataset.form];
      if (old) f.replaceWith(old);
    });
    mountMiniMaps(box);
    document.getElementById("open-count").textContent = open.length;
    closedBody.innerHTML = closed.map((t) => `<tr data-task-id="${t.id}" data-state="closed"><td>${XS.esc(t.title)}</td><td>${XS.esc(t.dispatch.title)}</td><td>${XS.fmtTime(t.closed_at)}</td><td>${XS.esc(t.result_label)}</td></tr>`).join("")
      || `<tr><td colspan="4" class="muted">${XS.esc(T.none)}</td></tr>`;
    flashIds = new Set();
  }

  function reload() { return load().catch((e) => XS.toast(errText(e), "error")); }

  box.addEventListener("click", async (ev) => {
    if (ev.target.matches("[data-cancel]")) { delete openForms[ev.target.closest("[data-task-id]").dataset.taskId]; reload(); return; }
    const btn = ev.target.closest("button[data-act]");
    if (!btn) return;
    const id = btn.closest("[data-task-id]").dataset.taskId;
    const name = btn.dataset.act;
    if (name === "feedback" || name === "reject") { openForms[id] = name; reload(); return; }
    btn.disabled = true;
    try {
      await act(id, name);
      XS.toast(T.done);
      await reload();
    } catch (e) { XS.toast(errText(e), "error"); btn.disabled = false; }
  });

  box.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const id = form.dataset.taskId;
    const btn = form.querySelector("button:not([type=button])");
    btn.disabled = true;
    try {
      if (form.dataset.form === "feedback") {
        const fd = new FormData(form);
        await act(id, "feedback", fd);
      } else {
        await act(id, "reject", { reason: form.reason.value });
      }
      delete openForms[id];
      XS.toast(T.done);
      await reload();
    } catch (e) { XS.toast(errText(e), "error"); btn.disabled = false; }
  });

  if (filters) {
    filters.addEventListener("change", reload);
    filters.addEventListener("submit", (ev) => { ev.preventDefault(); reload(); });
  }
  let reconnect = false;  // the first connection follows the page's own first load
  XSLive.on("connected", () => { if (reconnect) reload(); reconnect = true; });
  XSLive.on("task.new", (p) => { if (p && p.id) flashIds.add(p.id); XS.beep(); XS.toast(T.new_task); reload(); });
  XSLive.on("task.changed", (p) => { if (p && p.id) flashIds.add(p.id); reload(); });
  XSLive.on("task.escalated", (p) => { if (p && p.id) flashIds.add(p.id); XS.beep(); XS.toast(T.escalated, "error"); reload(); });
  setInterval(reload, 60000);
  reload();
})();
