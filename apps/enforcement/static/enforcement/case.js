// Case file: tasks, seized goods with the ordered disposal chain, evidence, people, timeline.
(function () {
  "use strict";
  const { T, errText, levelBadge, subjectHtml, mountMiniMaps } = window.ENF;
  let subjectKey = "";
  const root = document.getElementById("case-page");
  const caseId = root.dataset.caseId;
  const base = `/api/enforcement/cases/${caseId}/`;
  let current = null;
  const openSign = {};  // goods id -> step whose form is open

  const STEP_FIELDS = {
    receiving_site: [["site", T.site]],
    count_confirm: [["quantity_confirmed", T.quantity]],
    evidence_fixed: [["evidence", T.evidence]],
    storage: [["site", T.site]],
    harmless_disposal: [["method", T.method]],
    cost_settlement: [["cost_bearer", T.cost_bearer], ["cost_yuan", T.cost_yuan], ["subsidy_rate_pct", T.subsidy]],
  };

  function signForm(g, step) {
    const fields = (STEP_FIELDS[step] || []).map(([name, label]) => {
      if (name === "evidence") {
        const opts = current.evidence.map((e) => `<option value="${e.id}">${XS.esc(e.kind_label)} ${XS.esc(e.original_name)}</option>`).join("");
        return `<select name="evidence" aria-label="${XS.esc(label)}"><option value="">${XS.esc(T.choose_evidence)}</option>${opts}</select>`;
      }
      return `<input name="${name}" placeholder="${XS.esc(label)}" aria-label="${XS.esc(label)}">`;
    }).join("");
    return `<form class="inline-form" data-sign="${XS.esc(step)}" data-goods="${g.id}">${fields}<input name="note" placeholder="${XS.esc(T.note)}">` +
      `<button class="btn">${XS.esc(T.sign)}</button></form>`;
  }

  function goodsBlock(g) {
    const signed = Object.fromEntries(g.steps.map((s) => [s.step, s]));
    const items = g.chain.map((c) => {
      const s = signed[c.step];
      const detail = s ? [s.site, s.quantity_confirmed, s.method, s.cost_bearer, s.cost_yuan && interpolate(gettext("%s 元"), [s.cost_yuan]), s.subsidy_rate_pct && `${s.subsidy_rate_pct}%`, s.note]
        .filter(Boolean).map(XS.esc).join(" · ") : "";
      const body = s
        ? `<b>${XS.esc(c.label)}</b> <span class="tag state-closed">${XS.esc(T.signed)}</span><br><span class="muted">${XS.esc(s.signed_by)} · ${XS.esc(s.department)} · ${XS.fmtTime(s.signed_at)}</span>${detail ? `<br>${detail}` : ""}`
        : `<b>${XS.esc(c.label)}</b>${c.next ? ` <span class="tag">${XS.esc(T.next)}</span>` : ""}` +
          (current.can_edit ? ` <button class="btn secondary" data-act="sign" data-step="${XS.esc(c.step)}">${XS.esc(T.sign)}</button>` : "") +
          (openSign[g.id] === c.step ? signForm(g, c.step) : "");
      return `<li class="${s ? "signed" : ""} ${c.next ? "next" : ""}" data-step="${XS.esc(c.step)}"><span class="no">${c.order}</span><div class="body">${body}</div></li>`;
    }).join("");
    return `<div class="panel" data-goods-id="${g.id}"><h3>${XS.esc(g.kind_label)} · ${XS.esc(g.description)} — ${XS.esc(g.quantity)} ${XS.esc(g.unit)} · ${XS.esc(interpolate(gettext("%s 元"), [g.estimated_value_yuan]))}
      <span class="muted">（${XS.esc(g.custodian_department.name)}）</span></h3>
      <div class="chain-error" role="alert"></div><ol class="chain">${items}</ol></div>`;
  }

  function render(c) {
    current = c;
    document.getElementById("case-status").textContent = c.status_label;
    document.getElementById("case-departments").innerHTML = (c.level ? levelBadge(c.level, c.level_label) + " " : "") + c.departments.map((d) => XS.esc(d.name)).join("、");
    document.getElementById("summary-view").textContent = c.summary || T.none;
    const subjectBox = document.getElementById("case-subject");
    const key = JSON.stringify(c.subject || null);
    if (subjectBox && key !== subjectKey) {  // redraw the small map only when the place changed
      subjectKey = key;
      subjectBox.innerHTML = subjectHtml(c.subject);
      mountMiniMaps(subjectBox);
    }
    document.querySelectorAll(".edit-only").forEach((el) => { el.hidden = !c.can_edit || c.status === "closed"; });
    const sf = document.getElementById("summary-form");
    if (document.activeElement !== sf.summary) sf.summary.value = c.summary;
    document.querySelector("#case-tasks tbody").innerHTML = c.tasks.map((t) => `<tr data-task-id="${t.id}"><td>${XS.esc(t.department)}</td><td>${XS.esc(t.sector_label)} · ${XS.esc(t.title)}</td>` +
      `<td><span class="tag state-${XS.esc(t.state)}">${XS.esc(t.state_label)}</span></td><td>${XS.esc(t.result_label)}${t.feedback_text ? `<br><span class="muted">${XS.esc(t.feedback_text)}</span>` : ""}</td></tr>`).join("")
      || `<tr><td colspan="4" class="muted">${XS.esc(T.none)}</td></tr>`;
    document.getElementById("goods").innerHTML = c.goods.map(goodsBlock).join("") || `<p class="muted">${XS.esc(T.none)}</p>`;
    document.getElementById("evidence").innerHTML = c.evidence.map((e) => `<li><a href="${XS.esc(e.url)}" target="_blank" rel="noopener">${XS.esc(e.kind_label)} · ${XS.esc(e.original_name)}</a>` +
      ` <span class="muted">${Math.ceil(e.size_bytes / 1024)} KB · ${XS.esc(e.uploaded_by || "")} · ${XS.fmtTime(e.created_at)}</span>${e.note ? ` — ${XS.esc(e.note)}` : ""}</li>`).join("") || `<li class="muted">${XS.esc(T.none)}</li>`;
    document.getElementById("people").innerHTML = c.people.map((p) => `<li>${XS.esc(p.role_label)} · ${XS.esc(p.name)} ${XS.esc(p.id_number)}</li>`).join("") || `<li class="muted">${XS.esc(T.none)}</li>`;
    document.getElementById("vessels").innerHTML = c.vessels.map((v) => `<li>${XS.esc(v.name)} ${XS.esc(v.external_id)}${v.seized ? " · " + XS.esc(gettext("已扣押")) : ""}</li>`).join("") || `<li class="muted">${XS.esc(T.none)}</li>`;
    document.getElementById("vehicles").innerHTML = c.vehicles.map((v) => `<li>${XS.esc(v.plate)} ${XS.esc(v.description)}${v.seized ? " · " + XS.esc(gettext("已扣押")) : ""}</li>`).join("") || `<li class="muted">${XS.esc(T.none)}</li>`;
  }

  async function loadTimeline() {
    const items = await XS.api(base + "timeline/");
    document.getElementById("timeline").innerHTML = items.map((i) => `<li><span class="when">${XS.fmtTime(i.at)}</span>${XS.esc(i.title)}` +
      ` <span class="muted">— ${XS.esc(i.actor || T.system)}</span>${i.note ? `<br><span class="muted">${XS.esc(i.note)}</span>` : ""}</li>`).join("");
  }

  async function load() {
    try {
      render(await XS.api(base));
      await loadTimeline();
    } catch (e) { XS.toast(errText(e), "error"); }
  }

  document.getElementById("goods").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act=sign]");
    if (!btn) return;
    const gid = btn.closest("[data-goods-id]").dataset.goodsId;
    openSign[gid] = btn.dataset.step;
    render(current);
  });

  document.getElementById("goods").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const gid = form.dataset.goods;
    const block = form.closest("[data-goods-id]");
    const body = { step: form.dataset.sign };
    new FormData(form).forEach((v, k) => { if (v !== "") body[k] = v; });
    try {
      await XS.api(`/api/enforcement/goods/${gid}/sign/`, { method: "POST", body });
      delete openSign[gid];
      XS.toast(T.done);
      await load();
    } catch (e) {
      const msg = errText(e);
      block.querySelector(".chain-error").textContent = msg;
      XS.toast(msg, "error");
    }
  });

  function postForm(id, url, { multipart = false, after } = {}) {
    const form = document.getElementById(id);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        if (multipart) await XS.api(base + url, { method: "POST", form: new FormData(form) });
        else {
          const body = {};
          new FormData(form).forEach((v, k) => { body[k] = v; });
          await XS.api(base + url, { method: "POST", body });
        }
        form.reset();
        XS.toast(T.done);
        if (after) after();
        await load();
      } catch (e) { XS.toast(errText(e), "error"); }
    });
  }
  postForm("summary-form", "summary/");
  postForm("goods-form", "goods/");
  postForm("evidence-form", "evidence/", { multipart: true });
  postForm("person-form", "people/");
  postForm("vessel-form", "vessels/");
  postForm("vehicle-form", "vehicles/");
  const closeBtn = document.getElementById("close-case");
  if (closeBtn) closeBtn.addEventListener("click", async () => {
    try { await XS.api(base + "close/", { method: "POST", body: {} }); XS.toast(T.done); await load(); }
    catch (e) { XS.toast(errText(e), "error"); }
  });

  let reconnect = false;  // the first connection follows the page's own first load
  XSLive.on("connected", () => { if (reconnect) load(); reconnect = true; });
  XSLive.on("case.changed", (p) => { if (p && String(p.id) === String(caseId)) load(); });
  XSLive.on("task.changed", load);
  XSLive.on("task.escalated", load);
  load();
})();
