// Operations-centre task board: open tasks by level and deadline, one-click dispatch, verify, reassign.
(function () {
  "use strict";
  const { T, errText, levelBadge, stateTag, due, act, subjectHtml } = window.ENF;
  const cfg = JSON.parse(document.getElementById("enf-board-config").textContent);
  const deptOptions = document.getElementById("dept-options").innerHTML;
  const levelOptions = document.getElementById("level-options").innerHTML;
  const openBody = document.querySelector("#open-tasks tbody");
  const closedBody = document.querySelector("#closed-tasks tbody");
  const dispBody = document.querySelector("#dispatchable tbody");
  let flashIds = new Set();

  function actions(t) {
    if (!cfg.canAct) return "";
    const names = t.actions.map((a) => a.name);
    let html = "";
    if (names.includes("verify")) html += `<button class="btn" data-act="verify">${XS.esc(t.actions.find((a) => a.name === "verify").label)}</button> `;
    if (names.includes("send_back")) html += `<button class="btn secondary" data-act="send_back">${XS.esc(t.actions.find((a) => a.name === "send_back").label)}</button> `;
    if (names.includes("reassign")) {
      html += `<span class="inline-form"><select data-role="dept" aria-label="${XS.esc(T.reassign_to)}">${deptOptions}</select>` +
        `<button class="btn secondary" data-act="reassign">${XS.esc(t.actions.find((a) => a.name === "reassign").label)}</button></span>`;
    }
    return html;
  }

  function row(t) {
    const fb = t.feedback_at
      ? `<b>${XS.esc(t.result_label)}</b><br>${XS.esc(t.feedback_text)}<br><span class="muted">${XS.esc(T.arrived_at)}${gettext("：")}${XS.fmtTime(t.arrived_at)}</span>`
      : t.reject_reason ? `<span class="muted">${XS.esc(T.reject_reason)}${gettext("：")}</span>${XS.esc(t.reject_reason)}` : "";
    const caseLink = t.case ? ` · <a href="/enforcement/cases/${t.case.id}/">${XS.esc(t.case.number)}</a>` : "";
    return `<tr data-task-id="${t.id}" data-state="${XS.esc(t.state)}" class="${t.overdue ? "overdue" : ""} ${flashIds.has(t.id) ? "flash" : ""}">` +
      `<td>${levelBadge(t.level, t.level_label)}</td>` +
      `<td><b>${XS.esc(t.sector_label)} · ${XS.esc(t.title)}</b><br><span class="muted">${XS.esc(t.dispatch.title)}</span>${caseLink}${subjectHtml(t.subject, { map: false })}</td>` +
      `<td>${XS.esc(t.department.name)}</td><td>${stateTag(t)}${t.escalated_at ? ` <span class="tag state-escalated">${XS.esc(T.escalated_tag)}</span>` : ""}</td>` +
      `<td>${!t.acknowledged_at ? due(T.ack_due, t.ack_due_at) : due(T.feedback_due, t.feedback_due_at)}</td>` +
      `<td>${fb}</td><td>${actions(t)}</td></tr>`;
  }

  function closedRow(t) {
    return `<tr data-task-id="${t.id}" data-state="${XS.esc(t.state)}" class="${flashIds.has(t.id) ? "flash" : ""}"><td>${levelBadge(t.level, t.level_label)}</td>` +
      `<td><b>${XS.esc(t.title)}</b><br><span class="muted">${XS.esc(t.dispatch.title)}</span></td><td>${XS.esc(t.department.name)}</td>` +
      `<td>${stateTag(t)}</td><td>${XS.fmtTime(t.closed_at)}</td><td>${XS.esc(t.result_label)}</td></tr>`;
  }

  async function loadTasks() {
    const data = await XS.api("/api/enforcement/tasks/?board=1&page_size=500");
    const open = data.results.filter((t) => t.state !== "closed");
    const closed = data.results.filter((t) => t.state === "closed");
    openBody.innerHTML = open.map(row).join("") || `<tr><td colspan="7" class="muted">${XS.esc(T.none)}</td></tr>`;
    closedBody.innerHTML = closed.map(closedRow).join("") || `<tr><td colspan="6" class="muted">${XS.esc(T.none)}</td></tr>`;
    document.getElementById("c-open").textContent = open.length;
    document.getElementById("c-overdue").textContent = open.filter((t) => t.overdue).length;
    document.getElementById("c-escalated").textContent = open.filter((t) => t.state === "escalated").length;
    document.getElementById("c-verify").textContent = open.filter((t) => t.state === "feedback_submitted").length;
    document.getElementById("c-closed").textContent = closed.length;
    flashIds = new Set();
  }

  async function loadDispatchable() {
    if (!dispBody) return;
    const rows = await XS.api("/api/enforcement/dispatchable/");
    dispBody.innerHTML = rows.map((w) => `<tr data-warning-id="${w.id}"><td>${levelBadge(w.level, w.level_label)}</td><td>${XS.esc(w.title)}</td>` +
      `<td>${XS.esc(w.place)}</td><td>${XS.fmtTime(w.start)}</td>` +
      `<td><select data-role="level">${levelOptions.replace(`value="${w.level}"`, `value="${w.level}" selected`)}</select></td>` +
      `<td><button class="btn danger" data-act="dispatch">${XS.esc(T.one_click)}</button></td></tr>`).join("") ||
      `<tr><td colspan="6" class="muted">${XS.esc(T.none)}</td></tr>`;
  }

  function reload() { return Promise.all([loadTasks(), loadDispatchable()]).catch((e) => XS.toast(errText(e), "error")); }

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button[data-act]");
    if (!btn) return;
    const tr = btn.closest("tr");
    btn.disabled = true;
    try {
      if (btn.dataset.act === "dispatch") {
        const level = tr.querySelector("[data-role=level]").value;
        await XS.api("/api/enforcement/dispatch/", { method: "POST", body: { subject_type: "warning", subject_id: tr.dataset.warningId, level } });
        XS.toast(T.dispatched);
      } else if (btn.dataset.act === "verify") {
        await act(tr.dataset.taskId, "verify");
        XS.toast(T.done);
      } else if (btn.dataset.act === "send_back") {
        const reason = window.prompt(T.send_back_reason);
        if (!reason) { btn.disabled = false; return; }
        await act(tr.dataset.taskId, "send-back", { reason });
      } else if (btn.dataset.act === "reassign") {
        await act(tr.dataset.taskId, "reassign", { department: tr.querySelector("[data-role=dept]").value });
        XS.toast(T.done);
      }
      await reload();
    } catch (e) {
      XS.toast(errText(e), "error");
      btn.disabled = false;
    }
  });

  function onTask(p, sound) {
    if (p && p.id) flashIds.add(p.id);
    if (sound) XS.beep();
    reload();
  }
  let reconnect = false;  // the first connection follows the page's own first load
  XSLive.on("connected", () => { if (reconnect) reload(); reconnect = true; });
  XSLive.on("task.new", (p) => onTask(p, true));
  XSLive.on("task.changed", (p) => onTask(p, false));
  XSLive.on("task.escalated", (p) => { onTask(p, true); XS.toast(T.escalated, "error"); });
  XSLive.on("*", (msg) => { if (msg && typeof msg.event === "string" && msg.event.startsWith("warning.")) loadDispatchable().catch(() => {}); });
  setInterval(loadTasks, 60000); // deadlines move on even when nothing is pushed
  reload();
})();
