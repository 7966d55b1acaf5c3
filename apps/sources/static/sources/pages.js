// Staff pages of source governance (overview, repairs, industry): actions call the REST API,
// and the page body is re-read from the server on a live push or a (re)connect.
(function () {
  "use strict";
  const root = () => document.getElementById("sources-live");

  // The server's HTML last shown: a push that changes nothing on this page (e.g. the echo of
  // this user's own action) leaves the page, its messages and half-filled forms alone.
  let shown = root() ? root().innerHTML : "";

  async function refresh() {
    const res = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.getElementById("sources-live");
    if (!fresh || !root() || fresh.innerHTML === shown) return;
    shown = fresh.innerHTML;
    root().innerHTML = shown;
  }

  function errorText(err) {
    const d = err.data && err.data.detail !== undefined ? err.data.detail : err.data;
    if (!d) return err.message;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) return d.join("；");
    return Object.values(d).flat().join("；");
  }

  function showError(el, err) {
    const scope = el.closest(".repair") || el.closest("form") || el.closest("section");
    const box = scope ? scope.querySelector(".repair-error, .form-error") : null;
    const text = errorText(err);
    if (box) box.textContent = text;
    XS.toast(text, "error");
  }

  document.addEventListener("click", async (e) => {
    const dispatch = e.target.closest("[data-dispatch]");
    const start = e.target.closest(".start-btn");
    try {
      if (dispatch) {
        dispatch.disabled = true;
        await XS.api(dispatch.dataset.dispatch, { method: "POST", body: {} });
        XS.toast(gettext("已派发"));
        await refresh();
      } else if (start) {
        start.disabled = true;
        await XS.api(start.dataset.url, { method: "POST", body: {} });
        await refresh();
      }
    } catch (err) {
      if (dispatch) dispatch.disabled = false;
      if (start) start.disabled = false;
      showError(dispatch || start, err);
    }
  });

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (form.classList.contains("close-form")) {
      e.preventDefault();
      try {
        await XS.api(form.dataset.url, { method: "POST", form: new FormData(form) });
        XS.toast(gettext("维修任务已关闭"));
        await refresh();
      } catch (err) { showError(form, err); }
    } else if (form.classList.contains("api-form")) {
      e.preventDefault();
      form.querySelectorAll("[data-now]").forEach((i) => { i.value = new Date().toISOString(); });
      const data = Object.fromEntries(new FormData(form).entries());
      Object.keys(data).forEach((k) => { if (data[k] === "") delete data[k]; });
      if (form.dataset.finding) {
        const f = { kind: data.finding_kind, goods: data.finding_goods || "", description: data.finding_description || "" };
        delete data.finding_kind; delete data.finding_goods; delete data.finding_description;
        data.findings = f.kind ? [f] : [];
      }
      try {
        await XS.api(form.dataset.url, { method: "POST", body: data });
        XS.toast(gettext("已保存"));
        await refresh();
      } catch (err) { showError(form, err); }
    }
  });

  if (window.XSLive && root()) {
    const events = (root().dataset.refreshOn || "").split(/\s+/).filter(Boolean);
    events.forEach((ev) => XSLive.on(ev, refresh));
    let first = true;
    XSLive.on("connected", () => { if (first) { first = false; return; } refresh(); });
  }
})();
