// The one map module (XSMap) every map uses: cockpit, warning track, inbox/case mini maps, phone, tip picker.
//
//   const map = XSMap.create(el, { theme: "dark" | "light", fit: "county", legend: [...] });
//   map.xsReady.then(() => ...)                 // base map drawn (el.dataset.ready = "1")
//   const warnings = XSMap.cluster().addTo(map); // clustered markers with counts, coloured by worst level
//   warnings.addLayer(XSMap.levelMarker(lat, lon, "red", { html attrs }));
//   XSMap.legend(map, [{ colour, label }]);  XSMap.geoUri(lat, lon, label);  XSMap.mini(el, { lat, lon, label, level })
//
// Base map: the configured tile service (settings.MAP_TILES, given in #xs-map-config) over a
// local base map drawn from the project's own geodata/ (/api/core/basemap/): sea (background),
// the county's land, neighbouring districts, township names, every registered place labelled
// by name once zoomed in. When tiles fail to load, the tile layer is dropped and the local
// base map shows (el.dataset.base = "local"). Nothing comes from the internet.
// Other layers (radar tracks, coverage, networks) are the page's own: add them to the map.
(function () {
  "use strict";
  if (!window.L) return;
  const cfgEl = document.getElementById("xs-map-config");
  const CFG = cfgEl ? JSON.parse(cfgEl.textContent) : { basemap_url: "/api/core/basemap/", tiles: null };
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const gettext = typeof window.gettext === "function" ? window.gettext : (s) => s;

  const LEVEL_RANK = { red: 4, orange: 3, yellow: 2, blue: 1 };
  const LEVEL_COLOURS = { red: "#d7263d", orange: "#f46036", yellow: "#e0a800", blue: "#1b98e0" };
  const PLACE_COLOURS = {
    pier: "#0b5394", cove: "#2e7d32", beach: "#c28f00", landing_point: "#8e24aa", anchorage: "#00838f",
    checkpoint: "#5d4037", sensor: "#37474f",
  };
  const THEMES = {
    light: { sea: "#cfe3f2", land: "#f6f1e4", landEdge: "#6d8fb0", other: "#e6e2d6", otherEdge: "#b9b3a3" },
    dark: { sea: "#0b1a2b", land: "#173657", landEdge: "#5fa8ff", other: "#132338", otherEdge: "#2b4a6b" },
  };
  const ZOOM_TOWNS = 9.5;   // township names from here
  const ZOOM_PLACES = 12;   // place names from here (places cluster below it)

  let basePromise = null;
  function basemapData() {
    if (!basePromise) {
      basePromise = fetch(CFG.basemap_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null)).catch(() => null);
    }
    return basePromise;
  }

  function placeIcon(kind) {
    const colour = PLACE_COLOURS[kind] || "#555";
    return L.divIcon({ className: "xs-place", html: `<span class="xs-place-dot" style="background:${colour}"></span>`, iconSize: [10, 10] });
  }

  function zoomClasses(map, el) {
    const z = map.getZoom();
    el.classList.toggle("xs-show-towns", z >= ZOOM_TOWNS);
    el.classList.toggle("xs-show-places", z >= ZOOM_PLACES);
  }

  function drawLocal(map, data, theme, opts) {
    const c = THEMES[theme] || THEMES.light;
    const group = L.layerGroup();
    group.addLayer(L.geoJSON(data.districts, {
      pane: "xsLand", interactive: false,
      style: { color: c.otherEdge, weight: 1, fillColor: c.other, fillOpacity: 1 },
    }));
    const land = L.geoJSON(data.land, { pane: "xsLand", interactive: false, style: { color: c.landEdge, weight: 1.2, fillColor: c.land, fillOpacity: 1 } });
    group.addLayer(land);
    const labels = L.layerGroup();
    (data.districts.features || []).forEach((f) => {
      const p = f.properties || {};
      if (!p.label) return;
      labels.addLayer(L.marker([p.label[1], p.label[0]], {
        pane: "xsLabels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "xs-district-label", html: esc(p.name), iconSize: null }),
      }));
    });
    (data.townships || []).forEach((tw) => {
      labels.addLayer(L.marker([tw.lat, tw.lon], {
        pane: "xsLabels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "xs-town-label", html: esc(tw.name), iconSize: null }),
      }));
    });
    return { group, labels, land };
  }

  function drawPlaces(data, opts) {
    const places = cluster({ disableClusteringAtZoom: ZOOM_PLACES, maxClusterRadius: 28, className: "xs-cluster-place" });
    (data.places || []).forEach((p) => {
      const m = L.marker([p.lat, p.lon], { icon: placeIcon(p.kind), keyboard: false, title: p.name });
      m.options.xsPlace = p;
      m.bindTooltip(esc(p.name), { permanent: true, direction: "right", offset: [6, 0], className: `xs-place-label xs-k-${esc(p.kind)}` });
      if (opts.onPlace) m.on("click", () => opts.onPlace(p));
      places.addLayer(m);
    });
    return places;
  }

  // Create a map on ``el``. opts: theme, fit ("county" | null), view [lat, lon, zoom], places (bool),
  // legend (extra items), zoomControl, onPlace(place).
  function create(el, opts = {}) {
    const theme = opts.theme || "light";
    const tiles = CFG.tiles;
    const map = L.map(el, {
      attributionControl: !!tiles, zoomSnap: 0.25, zoomControl: opts.zoomControl !== false,
      maxZoom: tiles ? tiles.max_zoom : 18, minZoom: 7,
    });
    el.classList.add("xs-map", `xs-theme-${theme}`);
    el.style.background = (THEMES[theme] || THEMES.light).sea;
    el._xsMap = map;
    map.createPane("xsLand").style.zIndex = 250;
    const labelPane = map.createPane("xsLabels");
    labelPane.style.zIndex = 420;
    labelPane.style.pointerEvents = "none";
    const view = opts.view || [29.3, 121.9, 9.5];
    map.setView([view[0], view[1]], view[2]);
    map.on("zoomend", () => zoomClasses(map, el));
    zoomClasses(map, el);
    if (opts.scale !== false) L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);

    let tileLayer = null;
    if (tiles) {
      tileLayer = L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: tiles.max_zoom, subdomains: tiles.subdomains || "abc" });
      let loaded = 0, failed = 0;
      tileLayer.on("tileload", () => { loaded += 1; el.dataset.base = "tiles"; el.classList.add("xs-tiles-ok"); });
      tileLayer.on("tileerror", () => {
        failed += 1;
        if (!loaded && failed >= 3 && map.hasLayer(tileLayer)) {  // unreachable: the local base map takes over
          map.removeLayer(tileLayer);
          el.dataset.base = "local";
          el.classList.remove("xs-tiles-ok");
          map.fire("xs:tilesfailed");
        }
      });
      tileLayer.addTo(map);
    } else {
      el.dataset.base = "local";
    }

    map.xsReady = basemapData().then((data) => {
      if (data) {
        const local = drawLocal(map, data, theme, opts);
        local.group.addTo(map);
        local.labels.addTo(map);
        map.xsLand = local.land;
        if (opts.places !== false) map.xsPlaces = drawPlaces(data, opts).addTo(map);
        if (opts.fit === "county") {
          const b = local.land.getBounds();
          if (b.isValid()) map.fitBounds(b, { padding: [8, 8], animate: false });
        }
      }
      if (opts.legend !== false) legend(map, (opts.legend || []).concat(placeLegend(data)), { theme });
      el.dataset.ready = "1";
      return map;
    });
    return map;
  }

  function placeLegend(data) {
    const kinds = {};
    ((data && data.places) || []).forEach((p) => { if (!kinds[p.kind]) kinds[p.kind] = p.kind_label || p.kind; });
    return Object.entries(kinds).map(([kind, label]) => ({ colour: PLACE_COLOURS[kind] || "#555", label, shape: "dot" }));
  }

  // A legend box (bottom left). items: [{ colour, label, shape: "dot" | "ring" | "line" }]
  function legend(map, items, opts = {}) {
    if (map._xsLegend) map.removeControl(map._xsLegend);
    if (!items || !items.length) return null;
    const ctl = L.control({ position: opts.position || "bottomleft" });
    ctl.onAdd = () => {
      const div = L.DomUtil.create("div", "xs-legend");
      div.innerHTML = `<b>${esc(gettext("图例"))}</b>` + items.map((i) =>
        `<span class="xs-legend-item"><i class="xs-sw xs-sw-${esc(i.shape || "dot")}" style="--c:${esc(i.colour)}"></i>${esc(i.label)}</span>`).join("");
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    ctl.addTo(map);
    map._xsLegend = ctl;
    return ctl;
  }

  // Marker clustering with counts; a cluster takes the colour of its worst (highest) level.
  function cluster(opts = {}) {
    const extra = opts.className || "";
    return L.markerClusterGroup(Object.assign({
      showCoverageOnHover: false, maxClusterRadius: 40, spiderfyOnMaxZoom: true,
      iconCreateFunction(c) {
        let best = 0, level = "";
        c.getAllChildMarkers().forEach((m) => {
          const r = LEVEL_RANK[m.options.xsLevel] || 0;
          if (r > best) { best = r; level = m.options.xsLevel; }
        });
        const n = c.getChildCount();
        return L.divIcon({
          className: `xs-cluster ${extra} ${level ? "xs-l-" + level : ""}`,
          html: `<span class="xs-cluster-count" data-count="${n}">${n}</span>`, iconSize: [34, 34],
        });
      },
    }, opts));
  }

  // A round marker in a warning level's colour; attrs become data-* attributes on its element.
  function levelMarker(lat, lon, level, attrs = {}, opts = {}) {
    const data = Object.entries(attrs).map(([k, v]) => ` data-${esc(k)}="${esc(v)}"`).join("");
    const m = L.marker([lat, lon], Object.assign({
      zIndexOffset: (LEVEL_RANK[level] || 0) * 1000,
      icon: L.divIcon({ className: "", html: `<span class="xs-lmark ${esc(level)}"${data}></span>`, iconSize: [18, 18] }),
    }, opts));
    m.options.xsLevel = level;
    return m;
  }

  // Opens the location in the phone's map app (RFC 5870).
  function geoUri(lat, lon, label) {
    const ll = `${(+lat).toFixed(6)},${(+lon).toFixed(6)}`;
    return `geo:${ll}?q=${ll}${label ? "(" + encodeURIComponent(label) + ")" : ""}`;
  }

  // A small map of one point (task cards, case page, phone): the base map, the point, no legend.
  function mini(el, { lat, lon, label, level, zoom = 12 }) {
    const map = create(el, { view: [lat, lon, zoom], legend: false, zoomControl: false, scale: false });
    const m = level ? levelMarker(lat, lon, level) : L.circleMarker([lat, lon], { radius: 7, color: "#d7263d", fillOpacity: 0.8 });
    if (label) m.bindTooltip(esc(label));
    m.addTo(map);
    return map;
  }

  window.XSMap = { create, cluster, legend, levelMarker, geoUri, mini, basemapData, LEVEL_COLOURS, PLACE_COLOURS, ZOOM_PLACES };
})();
