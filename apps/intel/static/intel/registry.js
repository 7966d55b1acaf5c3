// The registry list (masked), the import with its per-row report, the custodian's identity read.
(function () {
  "use strict";
  const root = document.getElementById("registry-app");
  if (!root) return;

  async function list() {
    const q = new URLSearchParams(new FormData(document.getElementById("registry-filter")));
    q.set("page_size", "200");
    const data = await XS.api(root.dataset.api + "?" + q.toString());
    document.querySelector("#elements tbody").innerHTML = data.results.map((e) => `<tr data-element="${e.id}">
      <td>${XS.esc(e.kind_display)}</td><td>${XS.esc(e.label)}</td>
      <td class="id-cell">${XS.esc(e.key || e.id_masked)}</td><td>${XS.esc(e.roles)}</td>
      <td>${e.watch_level ? `<span class="badge orange">${XS.esc(e.watch_level_display)}</span>` : ""}</td>
      <td>${XS.esc(e.reason)}</td><td>${XS.esc(e.department || "")}</td><td>${e.expires_at ? XS.esc(e.expires_at.slice(0, 10)) : ""}</td>
      <td><a class="btn small secondary" href="${root.dataset.network}?element=${e.id}">${gettext("关系网络")}</a>
      ${e.kind === "person" && root.dataset.canIdentity ? `<button type="button" class="btn small" data-identity="${e.id}">${gettext("查看身份")}</button>` : ""}</td></tr>`).join("");
    document.getElementById("registry-count").textContent = interpolate(gettext("共 %(n)s 条"), { n: data.count }, true);
  }

  document.getElementById("registry-filter").addEventListener("submit", (ev) => { ev.preventDefault(); list(); });
  root.addEventListener("click", async (ev) => {
    const b = ev.target.closest("[data-identity]");
    if (!b) return;
    const reason = window.prompt(gettext("查看理由（记入审计日志）"));
    if (!reason) return;
    try {
      const data = await XS.api(`${root.dataset.api}${b.dataset.identity}/identity/`, { method: "POST", body: { reason } });
      b.closest("tr").querySelector(".id-cell").textContent = `${data.identity.name} ${data.identity.id_number}`;
    } catch (e) { XS.toast(e.message, "error"); }
  });
  const form = document.getElementById("import-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("import-report");
    try {
      const r = await XS.api(root.dataset.import, { method: "POST", form: new FormData(form) });
      out.innerHTML = `<p>${interpolate(gettext("共 %(rows)s 行：新增 %(created)s，更新 %(updated)s，错误 %(errors)s"), { ...r, errors: r.errors.length }, true)}</p>` +
        (r.errors.length ? `<table class="grid"><thead><tr><th>${gettext("行号")}</th><th>${gettext("错误")}</th></tr></thead><tbody>` +
          r.errors.map((e) => `<tr><td>${e.row}</td><td>${XS.esc(e.message)}</td></tr>`).join("") + "</tbody></table>" : "");
      list();
    } catch (e) { out.textContent = e.message; }
  });
  list();
})();
