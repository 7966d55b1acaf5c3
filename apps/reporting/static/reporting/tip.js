// The county map for the tip form (pick a point) and the staff detail page (show the point).
// Vendored Leaflet, no tile layer: only the county outline from the server, so it works offline.
(function () {
  "use strict";
  if (!window.L) return;
  const outline = { color: "#0b5394", weight: 1.5, fillColor: "#cfe3f7", fillOpacity: 0.6 };

  async function baseMap(el) {
    const map = L.map(el, { attributionControl: false, zoomSnap: 0.25 }).setView([29.35, 121.9], 9);
    el.style.background = "#e8f1f8"; // the sea
    el._xsMap = map; // for tests and page scripts
    try {
      const res = await fetch(el.dataset.geojson, { credentials: "same-origin" });
      const layer = L.geoJSON(await res.json(), { style: outline, interactive: false }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    } catch (e) { /* outline missing: the map still takes a click */ }
    return map;
  }

  async function picker() {
    const el = document.getElementById("map");
    if (!el) return;
    const lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
    const label = document.getElementById("picked");
    const map = await baseMap(el);
    let marker = null;
    function place(latlng) {
      if (marker) marker.setLatLng(latlng); else marker = L.circleMarker(latlng, { radius: 8, color: "#d7263d", fillOpacity: 0.8 }).addTo(map);
      lon.value = latlng.lng.toFixed(6); lat.value = latlng.lat.toFixed(6);
      label.textContent = interpolate(gettext("已选位置：%(lon)s, %(lat)s"), { lon: lon.value, lat: lat.value }, true);
    }
    if (lon.value && lat.value) place(L.latLng(+lat.value, +lon.value));
    map.on("click", (ev) => place(ev.latlng));
    document.getElementById("clear-point").addEventListener("click", () => {
      if (marker) { map.removeLayer(marker); marker = null; }
      lon.value = ""; lat.value = ""; label.textContent = gettext("尚未在地图上选点");
    });
  }

  async function viewer() {
    const el = document.getElementById("tip-map");
    if (!el) return;
    const map = await baseMap(el);
    const ll = L.latLng(+el.dataset.lat, +el.dataset.lon);
    L.circleMarker(ll, { radius: 8, color: "#d7263d", fillOpacity: 0.8 }).addTo(map);
    map.setView(ll, 11);
  }

  document.addEventListener("DOMContentLoaded", () => { picker(); viewer(); });
})();
