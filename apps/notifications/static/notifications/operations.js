// Notifications operations page: delivery rates, notifications with attempts (resend), channels (secrets write-only).
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("nt-strings").textContent);
  const SECRET_FIELDS = JSON.parse(document.getElementById("nt-secret-fields").textContent);
  const CFG = JSON.parse(document.getElementById("nt-config").textContent);
  const ratesBody = document.querySelector("#rates tbody");
  const listBody = document.querySelector("#notifications tbody");
  const channelsBody = document.querySelector("#channels tbody");
  const filters = document.getElementById("filters");
  const form = document.getElementById("channel-form");
  const errText = (e) => (e && e.message) || String(e);
  const empty = (n) => `<tr><td colspan="${n}" class="muted">${XS.esc(T.none)}</td></tr>`;

  async function loadRates() {
    const rows = await XS.api("/api/notifications/delivery-rates/?days=30");
    ratesBody.innerHTML = rows.map((r) => `<tr><td>${XS.esc(r.label)}</td><td>${r.total}</td><td>${r.accepted}</td><td>${r.failed}</td><td>${r.in_flight}</td>` +
      `<td>${r.rate_pct === null ? "–" : XS.esc(r.rate_pct + "%")}</td></tr>`).join("") || empty(6);
  }

  function attempts(n) {
    return `<ol class="nt-attempts">${n.attempts.map((a) => `<li>${XS.fmtTime(a.started_at)} ${XS.esc(a.outcome_label)}` +
      `${a.http_status ? ` · HTTP ${a.http_status}` : ""}${a.gateway_code ? ` · ${XS.esc(a.gateway_code)}` : ""}` +
      `${a.outcome !== "accepted" && a.detail ? ` — ${XS.esc(a.detail)}` : ""}</li>`).join("")}</ol>`;
  }

  async function loadList() {
    const q = new URLSearchParams(new FormData(filters));
    for (const [k, v] of [...q.entries()]) if (!v) q.delete(k);
    q.set("page_size", "200");
    const data = await XS.api("/api/notifications/notifications/?" + q.toString());
    listBody.innerHTML = data.results.map((n) => `<tr data-id="${n.id}"><td>${XS.fmtTime(n.created_at)}</td>` +
      `<td>${XS.esc(n.route_label)}${n.channel_name ? `<br><span class="muted">${XS.esc(n.channel_name)}</span>` : ""}</td>` +
      `<td>${XS.esc(n.department_name || "")} ${XS.esc(n.address || "")}</td>` +
      `<td>${XS.esc(n.title)}${n.task ? ` <a href="/enforcement/inbox/?task=${n.task}" class="muted">#${n.task}</a>` : ""}</td>` +
      `<td class="nt-state-${XS.esc(n.state)}">${XS.esc(n.state_label)}${n.last_error && n.state !== "accepted" ? `<br><span class="muted">${XS.esc(n.last_error)}</span>` : ""}</td>` +
      `<td>${attempts(n)}</td>` +
      `<td>${CFG.can_resend && n.state === "failed" ? `<button class="btn secondary" data-resend="${n.id}">${XS.esc(T.resend)}</button>` : ""}</td></tr>`).join("") || empty(7);
  }

  let channels = [];
  async function loadChannels() {
    const data = await XS.api("/api/notifications/channels/?page_size=500");
    channels = data.results;
    channelsBody.innerHTML = channels.map((c) => `<tr data-id="${c.id}"><td>${XS.esc(c.name)}</td><td>${XS.esc(c.kind_label)}</td>` +
      `<td>${XS.esc(c.department_name || c.user_name || T.county)}</td><td>${c.active ? "✓" : "—"}</td>` +
      `<td>${c.secrets_set.map((s) => `${XS.esc(s)}：${XS.esc(T.secret_set)}`).join("<br>")}</td>` +
      `<td>${CFG.can_configure ? `<button class="btn secondary" data-edit="${c.id}">${XS.esc(T.edit)}</button> <button class="btn danger" data-delete="${c.id}">${XS.esc(T.delete)}</button>` : ""}</td></tr>`).join("") || empty(6);
  }

  function secretInputs(kind, set) {
    document.getElementById("secret-inputs").innerHTML = (SECRET_FIELDS[kind] || []).map((f) =>
      `<label>${XS.esc(f)}</label><input type="password" autocomplete="new-password" name="secret:${XS.esc(f)}" placeholder="${XS.esc(set.includes(f) ? T.secret_set + "，" + T.secret_keep : "")}">`).join("");
  }

  function reloadAll() {
    return Promise.all([loadRates(), loadList(), loadChannels()]).catch((e) => XS.toast(errText(e), "error"));
  }

  filters.addEventListener("submit", (ev) => { ev.preventDefault(); loadList().catch((e) => XS.toast(errText(e), "error")); });
  listBody.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("[data-resend]");
    if (!btn) return;
    btn.disabled = true;
    try { await XS.api(`/api/notifications/notifications/${btn.dataset.resend}/resend/`, { method: "POST" }); XS.toast(T.resent); await reloadAll(); }
    catch (e) { XS.toast(errText(e), "error"); btn.disabled = false; }
  });

  if (form) {
    const resetForm = () => { form.reset(); form.elements.id.value = ""; form.elements.options.value = "{}"; secretInputs(form.elements.kind.value, []); };
    form.elements.kind.addEventListener("change", () => secretInputs(form.elements.kind.value, []));
    document.getElementById("channel-reset").addEventListener("click", resetForm);
    channelsBody.addEventListener("click", async (ev) => {
      const edit = ev.target.closest("[data-edit]");
      const del = ev.target.closest("[data-delete]");
      if (edit) {
        const c = channels.find((x) => String(x.id) === edit.dataset.edit);
        form.elements.id.value = c.id; form.elements.name.value = c.name; form.elements.kind.value = c.kind;
        form.elements.department.value = c.department || ""; form.elements.options.value = JSON.stringify(c.options);
        form.elements.active.checked = c.active; secretInputs(c.kind, c.secrets_set);
        form.scrollIntoView();
      } else if (del && window.confirm(T.confirm_delete)) {
        try { await XS.api(`/api/notifications/channels/${del.dataset.delete}/`, { method: "DELETE" }); XS.toast(T.deleted); await loadChannels(); }
        catch (e) { XS.toast(errText(e), "error"); }
      }
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = form.elements;
      let options;
      try { options = JSON.parse(f.options.value || "{}"); } catch (e) { XS.toast(gettext("参数不是合法的 JSON。"), "error"); return; }
      const secrets = {};
      form.querySelectorAll("[name^='secret:']").forEach((i) => { if (i.value) secrets[i.name.slice(7)] = i.value; });
      const body = { name: f.name.value, kind: f.kind.value, department: f.department.value ? Number(f.department.value) : null,
        active: f.active.checked, options, secrets };
      try {
        await XS.api(f.id.value ? `/api/notifications/channels/${f.id.value}/` : "/api/notifications/channels/", { method: f.id.value ? "PATCH" : "POST", body });
        XS.toast(T.saved); resetForm(); await loadChannels();
      } catch (e) { XS.toast(errText(e), "error"); }
    });
    resetForm();
  }

  XSLive.on("connected", reloadAll);
  XSLive.on("task.new", () => setTimeout(reloadAll, 3000));
  XSLive.on("task.escalated", () => setTimeout(reloadAll, 3000));
  reloadAll();
})();
