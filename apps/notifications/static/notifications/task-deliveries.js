// A small "通知送达" line on every task card (inbox) and open-task row (board), added from outside their code:
// watches the task list, asks /api/notifications/task-summary/ once per render for all cards shown.
(function () {
  "use strict";
  const LABEL = gettext("通知送达");
  let timer = null;
  let busy = false;

  function chips(items) {
    return items.map((i) => `<span class="nt-chip ${XS.esc(i.state)}">${XS.esc(i.route_label)} ${XS.esc(i.state_label)}${i.count > 1 ? " ×" + i.count : ""}</span>`).join("");
  }

  async function decorate() {
    if (busy) return;
    const cards = [...document.querySelectorAll("article.task-card[data-task-id], #open-tasks tr[data-task-id]")].filter((c) => !c.querySelector(".t-notify"));
    if (!cards.length) return;
    busy = true;
    try {
      const ids = [...new Set(cards.map((c) => c.dataset.taskId))];
      const summary = await XS.api("/api/notifications/task-summary/?tasks=" + ids.join(","));
      cards.forEach((c) => {
        if (c.querySelector(".t-notify")) return;
        const items = summary[c.dataset.taskId];
        const div = document.createElement("div");
        div.className = "t-notify";
        div.innerHTML = items && items.length ? `<span class="muted">${XS.esc(LABEL)}：</span>${chips(items)}` : "";
        const anchor = c.querySelector(".t-deadlines");
        if (anchor) anchor.after(div);
        else if (c.tagName === "TR" && c.cells.length > 1) c.cells[1].appendChild(div);
        else c.appendChild(div);
      });
    } catch (e) { /* the card works without it */ } finally { busy = false; }
  }

  const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(decorate, 150); });
  document.addEventListener("DOMContentLoaded", () => {
    observer.observe(document.querySelector("main") || document.body, { childList: true, subtree: true });
    decorate();
  });
})();
