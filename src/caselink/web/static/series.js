// Series page: map of member cases, a timeline whose slider filters the map, and link waterfalls.
// No tiles are fetched unless the operator configured a tile URL: case locations must not leak.
(function () {
  "use strict";
  const cases = JSON.parse(document.getElementById("series-data").textContent);
  const mapBox = document.getElementById("map");
  const slider = document.getElementById("time-slider");
  const label = document.getElementById("time-label");
  const SVG = "http://www.w3.org/2000/svg";

  // Tooltip content as a text node: Leaflet reads a string tooltip as HTML, and case data (an id,
  // an area typed by another force) must never become markup on an analyst's screen.
  function textTip(parts) {
    const span = document.createElement("span");
    span.textContent = parts.filter(function (p) { return p; }).join(" · ");
    return span;
  }

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  // --- map: Leaflet when installed, else a plain SVG plot of the same points -------------------
  let showUpTo = function () {};
  if (cases.length && window.L && mapBox.dataset.leaflet === "yes") {
    const map = L.map(mapBox, { attributionControl: false });
    if (mapBox.dataset.tiles) L.tileLayer(mapBox.dataset.tiles, { maxZoom: 18 }).addTo(map);
    const markers = cases.map(function (c, i) {
      return L.circleMarker([c.lat, c.lon], { radius: 8, color: "#1f4e8c", fillOpacity: 0.8 })
        .bindTooltip(textTip([c.case_id, c.found_at.slice(0, 10), c.area]), { permanent: true, direction: "right" });
    });
    const bounds = L.latLngBounds(cases.map(function (c) { return [c.lat, c.lon]; }));
    map.fitBounds(bounds.pad(0.4), { maxZoom: 15 });
    L.control.scale({ imperial: false }).addTo(map);
    showUpTo = function (n) {
      markers.forEach(function (m, i) { if (i <= n) m.addTo(map); else m.remove(); });
    };
  } else if (cases.length) {
    const svg = el("svg", { viewBox: "0 0 1000 420", "data-fallback": "svg" }, mapBox);
    const lats = cases.map(function (c) { return c.lat; }), lons = cases.map(function (c) { return c.lon; });
    const pad = 0.002, minLat = Math.min.apply(null, lats) - pad, maxLat = Math.max.apply(null, lats) + pad;
    const minLon = Math.min.apply(null, lons) - pad, maxLon = Math.max.apply(null, lons) + pad;
    const scale = Math.min(900 / (maxLon - minLon), 360 / (maxLat - minLat));
    const points = cases.map(function (c) {
      const x = 50 + (c.lon - minLon) * scale, y = 390 - (c.lat - minLat) * scale;
      const g = el("g", { class: "point" }, svg);
      el("circle", { cx: x, cy: y, r: 9, fill: "#1f4e8c", "fill-opacity": 0.8 }, g);
      el("text", { x: x + 12, y: y + 4, "font-size": 14 }, g).textContent = c.case_id;
      return g;
    });
    showUpTo = function (n) {
      points.forEach(function (p, i) { p.style.display = i <= n ? "" : "none"; });
    };
  }

  // --- timeline and slider ---------------------------------------------------------------------
  const timeline = document.getElementById("timeline");
  const times = cases.map(function (c) { return Date.parse(c.found_at); });
  const t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
  const width = timeline.clientWidth || 800;
  el("line", { x1: 10, y1: 30, x2: width - 10, y2: 30, stroke: "#8a93a3" }, timeline);
  const ticks = cases.map(function (c, i) {
    const x = 10 + (t1 > t0 ? (times[i] - t0) / (t1 - t0) : 0.5) * (width - 20);
    const dot = el("circle", { cx: x, cy: 30, r: 6, fill: "#1f4e8c" }, timeline);
    el("title", {}, dot).textContent = c.case_id + " " + c.found_at.slice(0, 10);
    return dot;
  });
  function update() {
    const n = Number(slider.value);
    showUpTo(n);
    ticks.forEach(function (t, i) { t.setAttribute("fill", i <= n ? "#1f4e8c" : "#c9ced8"); });
    document.querySelectorAll("tr.member").forEach(function (row, i) { row.style.opacity = i <= n ? 1 : 0.35; });
    label.textContent = cases.length ? cases[n].found_at.slice(0, 10) + " (" + (n + 1) + " of " + cases.length + ")" : "";
  }
  slider.addEventListener("input", update);
  update();

  // --- waterfalls --------------------------------------------------------------------------------
  function drawWaterfall(box, result) {
    box.textContent = "";
    const steps = result.steps, rowH = 22, w = 760, mid = 430;
    const values = steps.map(function (s) { return s.cumulative; }).concat([0]);
    const lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    const unit = 300 / Math.max(1, hi - lo);
    const svg = el("svg", { viewBox: "0 0 " + w + " " + (rowH * steps.length + 10), width: "100%" }, box);
    steps.forEach(function (s, i) {
      const start = s.cumulative - s.weight, y = 5 + i * rowH;
      const x0 = mid + (Math.min(start, s.cumulative) - lo) * unit - 150;
      el("text", { x: 4, y: y + 15 }, svg).textContent = s.comparison + ": " + s.level;
      el("rect", { x: x0, y: y + 3, width: Math.max(2, Math.abs(s.weight) * unit), height: rowH - 6,
                   class: s.weight >= 0 ? "bar-pos" : "bar-neg" }, svg);
      el("text", { x: w - 4, y: y + 15, "text-anchor": "end" }, svg).textContent =
        (s.weight >= 0 ? "+" : "") + s.weight.toFixed(2);
    });
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = "match weight " + result.match_weight.toFixed(2) + ", probability " + result.probability.toFixed(3);
    box.appendChild(p);
  }
  document.querySelectorAll(".waterfall[data-src]").forEach(function (box, i) {
    if (i >= 12) { box.textContent = ""; return; }
    fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (result) { drawWaterfall(box, result); })
      .catch(function (status) { box.textContent = "explanation unavailable (" + status + ")"; });
  });
})();
