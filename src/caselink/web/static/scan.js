// Scan results: each cluster's circle and member cases on a map. No tiles are fetched unless the
// operator configured a tile URL, so case locations never reach a third party.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("scan-data").textContent);
  const mapBox = document.getElementById("map");
  const COLOURS = ["#1f4e8c", "#a3261b", "#2f7d4f", "#8a5a00", "#6b3fa0", "#00707a", "#7a3b57", "#4d5b2a",
                   "#b35900", "#39414f"];
  const SVG = "http://www.w3.org/2000/svg";
  // Tooltip content as a text node: Leaflet reads a string tooltip as HTML, and case data must
  // never become markup.
  function textTip(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  function colour(rank) { return COLOURS[(rank - 1) % COLOURS.length]; }
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }
  const members = data.members.filter(function (c) { return c.lat !== null && c.lon !== null; });
  if (!members.length) return;

  if (window.L && mapBox.dataset.leaflet === "yes") {
    const map = L.map(mapBox, { attributionControl: false });
    if (mapBox.dataset.tiles) L.tileLayer(mapBox.dataset.tiles, { maxZoom: 18 }).addTo(map);
    data.clusters.forEach(function (c) {
      L.circle([c.center[0], c.center[1]], { radius: Math.max(c.radius_km * 1000, 50), color: colour(c.rank),
                                             fillOpacity: 0.08, weight: 1 })
        .bindTooltip(textTip("cluster " + c.rank + ": " + c.start + " – " + c.end)).addTo(map);
    });
    members.forEach(function (c) {
      L.circleMarker([c.lat, c.lon], { radius: 7, color: colour(c.cluster), fillOpacity: 0.85 })
        .bindTooltip(textTip([c.case_id, c.found_at.slice(0, 10), c.area, "cluster " + c.cluster]
          .filter(function (p) { return p; }).join(" · "))).addTo(map);
    });
    const bounds = L.latLngBounds(members.map(function (c) { return [c.lat, c.lon]; }));
    map.fitBounds(bounds.pad(0.4), { maxZoom: 15 });
    L.control.scale({ imperial: false }).addTo(map);
    return;
  }
  // Fallback: a plain SVG plot of the same points (no map library installed).
  const svg = el("svg", { viewBox: "0 0 1000 420", "data-fallback": "svg" }, mapBox);
  const lats = members.map(function (c) { return c.lat; }), lons = members.map(function (c) { return c.lon; });
  const pad = 0.002, minLat = Math.min.apply(null, lats) - pad, maxLat = Math.max.apply(null, lats) + pad;
  const minLon = Math.min.apply(null, lons) - pad, maxLon = Math.max.apply(null, lons) + pad;
  const scale = Math.min(900 / (maxLon - minLon), 360 / (maxLat - minLat));
  members.forEach(function (c) {
    const x = 50 + (c.lon - minLon) * scale, y = 390 - (c.lat - minLat) * scale;
    const g = el("g", { class: "point", "data-case": c.case_id }, svg);
    el("circle", { cx: x, cy: y, r: 8, fill: colour(c.cluster), "fill-opacity": 0.85 }, g);
    el("text", { x: x + 11, y: y + 4, "font-size": 13 }, g).textContent = c.case_id;
  });
})();
