// The regional four-colour map (区域总体安全风险空间分布图): the regions layer of
// /tiles/regions, one level at a time (district, street, community or grid), each region
// filled with its aggregated grade.
import L from './leaflet.js';
import { typedProtobuf } from './unitlayer.js';
import { grade } from './grades.js';
import { pointInRing } from './basemaps.js';

export const LEVELS = [
  { code: 'district', label: '区县' },
  { code: 'street', label: '街道（乡镇）' },
  { code: 'community', label: '社区（村）' },
  { code: 'grid', label: '网格' },
];

export function levelLabel(code) {
  const l = LEVELS.find((x) => x.code === code);
  return l ? l.label : code;
}

export class RegionLayer {
  constructor(map, { base = '', pane = 'regions', template = null, onRegion } = {}) {
    this.map = map;
    this.level = 'street';
    if (!map.getPane(pane)) {
      map.createPane(pane);
      map.getPane(pane).style.zIndex = 410;
    }
    const self = this;
    this.layer = typedProtobuf(template || `${base}/tiles/regions/{z}/{x}/{y}.pbf`, {
      rendererFactory: L.svg.tile,
      pane,
      interactive: true,
      tileSize: 512,
      zoomOffset: -1,
      maxNativeZoom: 23,
      maxZoom: 23,
      fetchOptions: { credentials: 'same-origin' },
      getFeatureId: (feat) => feat.properties.code,
      vectorTileLayerStyles: {
        regions: (p) => {
          if (p.level !== self.level) return [];
          const g = grade(p.grade);
          return { fill: true, fillColor: g.fill, fillOpacity: 0.62, color: '#ffffff', weight: 1.2, opacity: 0.95 };
        },
      },
    });
    this.layer.on('click', (e) => {
      const p = e.layer && e.layer.properties;
      if (p && onRegion) {
        L.DomEvent.stop(e);
        onRegion(p, e.latlng);
      }
    });
    this.layer.on('mouseover', (e) => {
      const p = e.layer && e.layer.properties;
      if (!p) return;
      this.tip = L.tooltip({ direction: 'top', className: 'unit-tip', sticky: true })
        .setLatLng(e.latlng)
        .setContent(document.createTextNode(`${p.name}：${grade(p.grade).label}`))
        .addTo(map);
    });
    this.layer.on('mouseout', () => {
      if (this.tip) this.tip.remove();
      this.tip = null;
    });
  }

  setLevel(level) {
    this.level = level;
    this.layer.redraw();
  }

  setVisible(on) {
    if (on && !this.map.hasLayer(this.layer)) this.layer.addTo(this.map);
    if (!on && this.map.hasLayer(this.layer)) this.map.removeLayer(this.layer);
  }

  refresh() {
    this.layer.setUrl(this.layer._url.replace(/(\?.*)?$/, `?_=${Date.now()}`));
  }
}

// Region names on the map (街道 at mid zoom, 社区 closer in, the district farther out),
// over every basemap. Each name sits at its region's pole of inaccessibility (the inside
// point farthest from the outline), and shows only where it fits: the region must be wide
// enough on screen for the name, and a name that would overlap one already placed (larger
// regions first) is left out.

/** LABEL_LEVELS: which level is named from which zoom, and the label's font size. */
export const LABEL_LEVELS = [
  { level: 'district', from: 0, to: 11, px: 15, spacing: 4 },
  { level: 'street', from: 11, to: 14, px: 13, spacing: 0 },
  { level: 'community', from: 14, to: 99, px: 11, spacing: 0 },
];

/** labelLevel is the level whose names show at zoom z. */
export function labelLevel(z) {
  return LABEL_LEVELS.find((l) => z >= l.from && z < l.to) || LABEL_LEVELS[LABEL_LEVELS.length - 1];
}

function ringDistance([x, y], ring, k) {
  // Distance from (x, y) to the ring's edges, with longitudes scaled by k = cos(lat).
  let d = Infinity;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const ax = ring[j][0] * k;
    const ay = ring[j][1];
    const bx = ring[i][0] * k;
    const by = ring[i][1];
    const px = x * k;
    let t = 0;
    const dx = bx - ax;
    const dy = by - ay;
    const len = dx * dx + dy * dy;
    if (len > 0) t = Math.max(0, Math.min(1, ((px - ax) * dx + (y - ay) * dy) / len));
    const ex = ax + t * dx - px;
    const ey = ay + t * dy - y;
    d = Math.min(d, ex * ex + ey * ey);
  }
  return Math.sqrt(d);
}

/**
 * labelAnchor is where a (Multi)Polygon's name goes: in its largest part, the point of a
 * grid search (refined twice) farthest from the part's outline and holes. It returns
 * { at: [lon, lat], r } with r that distance in degrees of latitude, or null.
 */
export function labelAnchor(geom) {
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
  let poly = null;
  let best = -1;
  for (const p of polys) {
    const ring = p[0];
    let a = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    if (Math.abs(a) > best) {
      best = Math.abs(a);
      poly = p;
    }
  }
  if (!poly || poly[0].length < 4) return null;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of poly[0]) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  const k = Math.cos((((minY + maxY) / 2) * Math.PI) / 180);
  const score = (p) => {
    if (!pointInRing(p, poly[0]) || poly.slice(1).some((h) => pointInRing(p, h))) return -1;
    return Math.min(...poly.map((ring) => ringDistance(p, ring, k)));
  };
  let at = null;
  let r = -1;
  let cx = (minX + maxX) / 2;
  let cy = (minY + maxY) / 2;
  let w = maxX - minX;
  let hgt = maxY - minY;
  for (let round = 0; round < 3; round++) {
    const n = round === 0 ? 14 : 8;
    for (let i = 0; i <= n; i++) {
      for (let j = 0; j <= n; j++) {
        const p = [cx - w / 2 + (w * i) / n, cy - hgt / 2 + (hgt * j) / n];
        const s = score(p);
        if (s > r) {
          r = s;
          at = p;
        }
      }
    }
    if (!at) break;
    [cx, cy] = at;
    w /= 4;
    hgt /= 4;
  }
  return at ? { at, r } : null;
}

/** geometryBounds is the LatLngBounds of a GeoJSON geometry's coordinates. */
function geometryBounds(g) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]);
      e = Math.max(e, c[0]);
      s = Math.min(s, c[1]);
      n = Math.max(n, c[1]);
    } else for (const x of c) walk(x);
  };
  walk(g.coordinates || []);
  return L.latLngBounds([s, w], [n, e]);
}

/**
 * RegionLabels names the regions of regionsPromise (levels to FeatureCollections) in the
 * map's pane, one level at a time by zoom, where the names fit.
 */
export class RegionLabels {
  constructor(map, regionsPromise, { pane = 'basemapLabels' } = {}) {
    this.map = map;
    this.pane = pane;
    this.group = L.layerGroup().addTo(map);
    this.anchors = {};
    this.markers = new Map();
    this.ready = regionsPromise.then((r) => {
      this.regions = r;
      this.update();
    });
    map.on('moveend', () => this.update());
  }

  /**
   * candidates are the named regions of a level with their bounds. Their anchors are found
   * only when first needed (in view and big enough on screen), so that a city of thousands
   * of communities costs only what is looked at.
   */
  candidates(level) {
    if (!this.anchors[level]) {
      const fc = (this.regions && this.regions[level]) || { features: [] };
      this.anchors[level] = fc.features
        .filter((f) => f.geometry && f.properties && f.properties.name)
        .map((f) => ({ code: f.properties.code, name: f.properties.name, geometry: f.geometry, bounds: geometryBounds(f.geometry), anchor: undefined }));
    }
    return this.anchors[level];
  }

  update() {
    if (!this.regions) return;
    const map = this.map;
    const z = map.getZoom();
    const spec = labelLevel(z);
    const view = map.getBounds().pad(0.1);
    const size = map.getSize();
    const placed = [];
    const shown = new Set();
    const height = spec.px + 4;
    const list = this.candidates(spec.level)
      .filter((c) => view.intersects(c.bounds))
      .map((c) => {
        const nw = map.latLngToContainerPoint(c.bounds.getNorthWest());
        const se = map.latLngToContainerPoint(c.bounds.getSouthEast());
        return { c, w: se.x - nw.x, h: se.y - nw.y, width: [...c.name].length * (spec.px + spec.spacing) + 4 };
      })
      // Too small on screen for the name: not even looked at.
      .filter((x) => x.w >= x.width * 0.9 && x.h >= height * 1.5)
      .sort((a, b) => b.w * b.h - a.w * a.h);
    for (const { c, width } of list) {
      if (c.anchor === undefined) c.anchor = labelAnchor(c.geometry);
      if (!c.anchor) continue;
      const { at, r } = c.anchor;
      const p = map.latLngToContainerPoint([at[1], at[0]]);
      // The room around the anchor, in pixels (r is in degrees of latitude).
      const rPx = Math.abs(map.latLngToContainerPoint([at[1] + r, at[0]]).y - p.y);
      if (rPx < height * 0.6) continue;
      const box = { x1: p.x - width / 2 - 4, y1: p.y - height / 2 - 3, x2: p.x + width / 2 + 4, y2: p.y + height / 2 + 3 };
      if (box.x2 < 0 || box.y2 < 0 || box.x1 > size.x || box.y1 > size.y) continue;
      if (placed.some((b) => b.x1 < box.x2 && box.x1 < b.x2 && b.y1 < box.y2 && box.y1 < b.y2)) continue;
      placed.push(box);
      const key = `${spec.level}:${c.code}`;
      shown.add(key);
      if (!this.markers.has(key)) {
        const el = document.createElement('span');
        el.className = `region-label region-label-${spec.level}`;
        el.dataset.code = c.code;
        el.textContent = c.name;
        this.markers.set(key, L.marker([c.anchor.at[1], c.anchor.at[0]], { icon: L.divIcon({ html: el, className: 'region-label-icon', iconSize: null }), interactive: false, keyboard: false, pane: this.pane }));
      }
      this.group.addLayer(this.markers.get(key));
    }
    for (const [key, m] of this.markers) if (!shown.has(key)) this.group.removeLayer(m);
  }
}
