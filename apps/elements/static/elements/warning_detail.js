// A warning's evidence on the shared base map (static/js/map.js): the geofence and the fixes, and the replay check.
(function () {
  "use strict";
  document.querySelectorAll("[data-ts]").forEach((el) => { el.textContent = XS.fmtTime(el.dataset.ts); });
  const data = JSON.parse(document.getElementById("map-data").textContent);
  const el = document.getElementById("evidence-map");
  if (window.XSMap && el) {
    const colours = ["#0b5394", "#f46036", "#2e7d32", "#6a1b9a"];
    const vesselNames = [...new Set((data.fixes || []).map((f) => f.vessel))];
    const map = XSMap.create(el, {
      legend: [{ colour: "#d7263d", label: gettext("电子围栏"), shape: "area" }]
        .concat(vesselNames.map((v, i) => ({ colour: colours[i % colours.length], label: v, shape: "line" }))),
    });
    const layers = [];  // built first, added once the map has a view (Leaflet needs one to draw)
    if (data.geofence) {
      layers.push(L.geoJSON(data.geofence, { style: { color: "#d7263d", weight: 2, fillOpacity: 0.15 } })
        .bindTooltip(XS.esc(data.geofence.properties.name)));
    }
    const byVessel = {};
    (data.fixes || []).forEach((f) => { (byVessel[f.vessel] = byVessel[f.vessel] || []).push(f); });
    Object.keys(byVessel).forEach((v, i) => {
      const colour = colours[i % colours.length];
      const radar = v.startsWith("radar:");  // a radar track: dashed, distinct from self-reported AIS/Beidou tracks
      layers.push(L.polyline(byVessel[v].map((f) => [f.lat, f.lon]), { color: colour, weight: 2, dashArray: radar ? "6 4" : null }));
      byVessel[v].forEach((f) => {
        layers.push(L.circleMarker([f.lat, f.lon], { radius: 3, color: colour })
          .bindTooltip(`${XS.esc(v)} · ${XS.fmtTime(f.ts)}${f.sog != null ? " · " + f.sog + " kn" : ""}`));
      });
    });
    if (!layers.length && data.point) layers.push(L.circleMarker([data.point[1], data.point[0]], { radius: 6 }));
    const group = L.featureGroup(layers);
    const bounds = layers.length ? group.getBounds() : null;
    if (bounds && bounds.isValid()) map.fitBounds(bounds.pad(0.3), { maxZoom: 16 });
    else map.setView([29.2, 121.9], 9);
    group.addTo(map);
  }
  const btn = document.getElementById("replay");
  const out = document.getElementById("replay-result");
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    out.textContent = "…";
    try {
      const r = await XS.api(`/api/elements/warnings/${window.XS_WARNING_ID}/replay/`);
      out.textContent = r.detail + (r.replayed ? `（${r.replayed.level || "—"} ${r.replayed.score}）` : "");
      out.className = r.reproduced ? "" : "errors";
    } catch (err) {
      out.textContent = err.message;
      out.className = "errors";
    } finally {
      btn.disabled = false;
    }
  });
})();
