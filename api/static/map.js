// sitewatch: the field report's map. Tap or drag to set the position (the latitude and
// longitude fields follow; typing in them moves the marker). Web Mercator at whole zoom
// levels, like api/pages/geo.py; tiles only when the site names a tile server.
"use strict";
(function () {
  const box = document.getElementById("pick-map");
  if (!box) return;
  const TILE = 256, W = 400, H = 240, EDGE = 40, NS = "http://www.w3.org/2000/svg";
  const cfg = JSON.parse(document.getElementById("pick-data").textContent);
  const lat = document.getElementById("lat"), lon = document.getElementById("lon");
  const svg = box.querySelector("svg");
  const maxZoom = Math.min(19, cfg.max_zoom || 19);
  let zoom = Math.min(17, maxZoom), centre = cfg.centre, dragging = false;

  const world = (lo, la, z) => {
    const n = TILE * 2 ** z, s = Math.sin(Math.max(-85.05112878, Math.min(85.05112878, la)) * Math.PI / 180);
    return [(lo + 180) / 360 * n, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n];
  };
  const unworld = (x, y, z) => {
    const n = TILE * 2 ** z;
    return [x / n * 360 - 180, Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI];
  };
  const origin = () => { const c = world(centre[0], centre[1], zoom); return [c[0] - W / 2, c[1] - H / 2]; };
  const here = () => {
    const a = parseFloat(lon.value), b = parseFloat(lat.value);
    return Number.isFinite(a) && Number.isFinite(b) && Math.abs(b) <= 90 && Math.abs(a) <= 180 ? [a, b] : null;
  };
  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    parent.appendChild(e);
    return e;
  }
  function tiles(layer) {
    const [ox, oy] = origin(), n = 2 ** zoom;
    for (let ty = Math.floor(oy / TILE); ty <= Math.floor((oy + H) / TILE); ty++) {
      if (ty < 0 || ty >= n) continue;
      for (let tx = Math.floor(ox / TILE); tx <= Math.floor((ox + W) / TILE); tx++) {
        const href = cfg.tiles.replace("{z}", zoom).replace("{x}", ((tx % n) + n) % n).replace("{y}", ty);
        el("image", { href: href, x: tx * TILE - ox, y: ty * TILE - oy, width: TILE, height: TILE }, layer);
      }
    }
  }
  function draw() {
    svg.replaceChildren();
    box.hidden = !centre;
    if (!centre) return;
    const [ox, oy] = origin();
    el("rect", { width: W, height: H, class: "ground" }, svg);
    if (cfg.tiles) tiles(el("g", { class: "tiles" }, svg));
    else {
      for (let x = 40; x < W; x += 40) el("line", { x1: x, y1: 0, x2: x, y2: H, class: "grid" }, svg);
      for (let y = 40; y < H; y += 40) el("line", { x1: 0, y1: y, x2: W, y2: y, class: "grid" }, svg);
    }
    for (const f of (cfg.zones || { features: [] }).features) {
      const pts = f.geometry.coordinates[0].map(([a, b]) => { const p = world(a, b, zoom); return (p[0] - ox) + "," + (p[1] - oy); });
      el("title", {}, el("polygon", { points: pts.join(" "), class: "zone-outline" }, svg)).textContent = f.properties.name || f.properties.id;
    }
    const p = here();
    if (p) {
      const [x, y] = world(p[0], p[1], zoom);
      el("circle", { cx: x - ox, cy: y - oy, r: 9, class: "marker", id: "pick-marker" }, svg);
    }
    box.dataset.zoom = zoom;
  }
  function place(ev) {
    const m = svg.getScreenCTM();
    if (!m) return;
    const q = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m.inverse());
    const [ox, oy] = origin(), ll = unworld(ox + q.x, oy + q.y, zoom);
    lon.value = ll[0].toFixed(6);
    lat.value = ll[1].toFixed(6);
    const mk = document.getElementById("pick-marker");
    if (mk) { mk.setAttribute("cx", q.x); mk.setAttribute("cy", q.y); } else draw();
    box.dataset.placed = "1";
  }
  svg.addEventListener("pointerdown", (ev) => {
    if (!centre) return;
    ev.preventDefault();
    svg.setPointerCapture(ev.pointerId);
    dragging = true;
    place(ev);
  });
  svg.addEventListener("pointermove", (ev) => { if (dragging) place(ev); });
  const drop = () => {
    if (!dragging) return;
    dragging = false;
    const p = here();
    if (!p) return;
    const [x, y] = world(p[0], p[1], zoom), [ox, oy] = origin();
    if (x - ox < EDGE || x - ox > W - EDGE || y - oy < EDGE || y - oy > H - EDGE) { centre = p; draw(); }
  };
  svg.addEventListener("pointerup", drop);
  svg.addEventListener("pointercancel", drop);
  const follow = () => { const p = here(); if (p) { centre = p; draw(); } };
  for (const input of [lat, lon]) for (const t of ["input", "change"]) input.addEventListener(t, follow);
  box.querySelectorAll("button[data-zoom]").forEach((b) => b.addEventListener("click", () => {
    zoom = Math.max(3, Math.min(maxZoom, zoom + Number(b.dataset.zoom)));
    draw();
  }));
  draw();
})();
