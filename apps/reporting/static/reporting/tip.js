// The county map for the tip form (pick a point) and the staff detail page (show the point).
// The shared base map (static/js/map.js): land, sea, township and pier names, offline.
(function () {
  "use strict";
  if (!window.XSMap) return;

  async function baseMap(el) {
    const map = XSMap.create(el, { fit: "county" });
    await map.xsReady; // base missing: the map still takes a click
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
