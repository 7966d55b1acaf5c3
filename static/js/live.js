// The page's one WebSocket. Pushes only say that something changed: handlers reload from
// the REST API, and every page reloads its state when the socket (re)connects.
(function () {
  "use strict";
  const handlers = {};
  const status = () => document.getElementById("live-status");
  let delay = 1000;

  function on(event, fn) { (handlers[event] = handlers[event] || []).push(fn); }
  function emit(event, payload) { (handlers[event] || []).forEach((fn) => { try { fn(payload); } catch (e) { console.error(e); } }); }

  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws/live/`);
    ws.onopen = () => { delay = 1000; const s = status(); if (s) s.classList.add("up"); emit("connected", {}); };
    ws.onmessage = (m) => { const msg = JSON.parse(m.data); emit(msg.event, msg.payload); emit("*", msg); };
    ws.onclose = () => { const s = status(); if (s) s.classList.remove("up"); setTimeout(connect, delay); delay = Math.min(delay * 2, 15000); };
  }
  window.XSLive = { on };
  document.addEventListener("DOMContentLoaded", connect);
})();
