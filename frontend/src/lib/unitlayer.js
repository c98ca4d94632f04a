// The four-colour unit map: the units layer of /tiles/units as Leaflet.VectorGrid draws it
// with its SVG renderer (its canvas renderer throws on click under Leaflet 1.9). Units are
// drawn in their grade's fill with the grade's dark outline, so that yellow still reads on a
// light basemap. Where a tile would hold too many units the server sends cluster points
// instead, which are drawn as circles in the colour of their highest grade with the count
// written on them: HTML markers above the tiles, so that a circle on a tile's edge is never
// cut.
//
// Filters travel to the server in the tile URL (grade, category, region). They are also
// applied here to each feature, so that the map is right even where the server does not
// filter tiles, and to cluster counts by grade.
import L from './leaflet.js';
import 'leaflet.vectorgrid';
import { grade, GRADE_CODES } from './grades.js';
import { query } from './api.js';


/** filterParams turns the filter state into the URL parameters of tiles and lists. */
export function filterParams(f) {
  return {
    grade: f.grades && f.grades.length < GRADE_CODES.length ? f.grades : null,
    category: f.categories && f.categories.length ? f.categories : null,
    region: f.region || null,
    status: f.statuses && f.statuses.length ? f.statuses : null,
    overdue: f.overdue ? 'true' : null,
    open_hazards: f.openHazards ? 'true' : null,
  };
}

/** matches reports whether a unit's tile properties pass the filters. */
export function matches(p, f) {
  if (f.empty) return false;
  if (f.grades && !f.grades.includes(p.grade)) return false;
  if (f.categories && f.categories.length && !f.categories.includes(p.category)) return false;
  if (f.region && !String(p.region_code || '').startsWith(f.region)) return false;
  if (f.openHazards && p.open_hazards != null && !(Number(p.open_hazards) > 0)) return false;
  return true;
}

/** clusterCount is a cluster's count over the grades the filter lets through. */
export function clusterCount(p, f) {
  if (f.empty) return 0;
  const gs = f.grades || GRADE_CODES;
  if (gs.length === GRADE_CODES.length) return Number(p.count) || 0;
  return gs.reduce((n, g) => n + (Number(p[g]) || 0), 0);
}

function clusterGrade(p, f) {
  const gs = f.grades || GRADE_CODES;
  return GRADE_CODES.find((g) => gs.includes(g) && Number(p[g]) > 0) || p.grade;
}

function clusterRadius(n) {
  return Math.min(26, 9 + Math.sqrt(n) * 1.4);
}

/**
 * STATUS_LINES are the outlines that tell a unit's review status apart on the internal map
 * (its tiles carry status; the public's do not, and are drawn solid): approved solid,
 * submitted (待审核) dashed, draft (草稿) dotted and nearly hollow.
 */
export const STATUS_LINES = {
  approved: { dashArray: null, fillScale: 1 },
  submitted: { dashArray: '6 4', fillScale: 0.8 },
  draft: { dashArray: '1.5 3.5', fillScale: 0.35 },
};

/** withStatus applies a unit's status outline to one style. */
function withStatus(style, p) {
  const st = STATUS_LINES[p.status];
  if (!st || p.status === 'approved') return style;
  return { ...style, dashArray: st.dashArray, lineCap: 'round', weight: (style.weight || 1) + 0.6, fillOpacity: (style.fillOpacity ?? 0.45) * st.fillScale };
}

/**
 * unitStyle is the VectorGrid style of one feature of the units layer ([] hides it). $type
 * is the MVT geometry type (1 point, 2 line, 3 polygon), added to the properties when the
 * tile is decoded. The outline says the review status (STATUS_LINES).
 */
export function unitStyle(p, z, f) {
  if (p.cluster) return []; // drawn as markers, see UnitLayer.showClusters
  if (!matches(p, f)) return [];
  const style = gradeStyle(p, z);
  return Number(p.open_hazards) > 0 ? [hazardMark(p, z), ...[style].flat()] : style;
}

/** HAZARD_MARK is the colour of the ring around a unit with open hidden dangers (未销号隐患). */
export const HAZARD_MARK = '#5c0011';

/**
 * hazardMark is the mark of a unit with open hidden dangers (internal tiles carry
 * open_hazards): a dark ring around a point, a wide dark halo under a line or an outline.
 * It has no fill, so the unit's colour is still its grade's.
 */
function hazardMark(p, z) {
  const base = { fill: false, color: HAZARD_MARK, opacity: 0.95, className: 'hazard-mark' };
  switch (p.$type) {
    case 2:
      return { ...base, weight: z >= 15 ? 11 : z >= 12 ? 9 : 7, lineCap: 'round', lineJoin: 'round', opacity: 0.55 };
    case 3:
      return { ...base, weight: 4.5, opacity: 0.8 };
    default:
      return { ...base, radius: (z >= 15 ? 7 : z >= 13 ? 5.5 : z >= 12 ? 4.5 : 3.6) + 3.5, weight: 2.4 };
  }
}

function gradeStyle(p, z) {
  const g = grade(p.grade);
  switch (p.$type) {
    case 2: {
      // A dark casing under the coloured stroke: VectorGrid draws every style of the list.
      const casing = { color: g.outline, weight: z >= 15 ? 6.5 : z >= 12 ? 5 : 3.6, opacity: 1, lineCap: 'round', lineJoin: 'round', fill: false };
      const stroke = { color: g.fill, weight: z >= 15 ? 3.5 : z >= 12 ? 2.5 : 1.8, opacity: 1, lineCap: 'round', lineJoin: 'round', fill: false };
      const st = STATUS_LINES[p.status];
      if (st && st.dashArray) return [casing, { ...stroke, dashArray: st.dashArray, color: '#ffffff', opacity: 0.9 }];
      return [casing, stroke];
    }
    case 3:
      return withStatus({ fill: true, fillColor: g.fill, fillOpacity: 0.45, color: g.outline, weight: 1.6, opacity: 1 }, p);
    default:
      return withStatus({ radius: z >= 15 ? 7 : z >= 13 ? 5.5 : z >= 12 ? 4.5 : 3.6, fill: true, fillColor: g.fill, fillOpacity: 0.95, color: g.outline, weight: z >= 12 ? 1.6 : 1.1, opacity: 1 }, p);
  }
}

// VectorGrid makes each path of a tile clickable with an inline style, one style write per
// path; a stylesheet rule (base.css) does the same for all of them at once, which spares
// the browser thousands of style recalculations on the first screen.
L.SVG.Tile.prototype.addTo = function addTo(map) {
  this._map = map;
  if (this.options.interactive) {
    for (const layer of Object.values(this._layers)) map._targets[L.stamp(layer._path)] = layer;
  }
};

// TypedProtobuf tells the style function each feature's geometry type, which VectorGrid
// does not pass on.
const TypedProtobuf = L.VectorGrid.Protobuf.extend({
  // Leaflet 1.9 treats a small interactive CircleMarker as a marker and asks it for its
  // getLatLng() to place mouse events; VectorGrid's point symbolizer has no latlng, so every
  // event on a point would throw. Without getLatLng the event's own position is used.
  _createLayer(feat, pxPerExtent, layerStyle) {
    const layer = L.VectorGrid.prototype._createLayer.call(this, feat, pxPerExtent, layerStyle);
    if (feat.type === 1) layer.getLatLng = null;
    return layer;
  },

  // 512-pixel tiles (zoomOffset -1) are the server's 256-pixel tiles of the zoom above:
  // a quarter of the requests, which matters over HTTP/1.1's six connections. VectorGrid
  // ignores zoomOffset, so it is applied here.
  _getVectorTilePromise(coords) {
    const c = { x: coords.x, y: coords.y, z: coords.z + (this.options.zoomOffset || 0) };
    return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, c).then((tile) => {
      const clusters = [];
      for (const layer of Object.values(tile.layers || {})) {
        for (const feat of layer.features || []) feat.properties.$type = feat.type;
        if (!this.options.clusterCellPx) continue;
        const merged = mergeClusters(layer.features, layer.extent, this.getTileSize().x, this.options.clusterCellPx);
        layer.features = merged.filter((f) => !f.properties.cluster);
        for (const f of merged) {
          if (!f.properties.cluster) continue;
          const { x, y } = f.geometry[0][0];
          clusters.push({ props: f.properties, x: (x * this.getTileSize().x) / layer.extent, y: (y * this.getTileSize().y) / layer.extent });
        }
      }
      this._clusterData = this._clusterData || {};
      this._clusterData[this._tileCoordsToKey(coords)] = clusters;
      return tile;
    });
  },
});

/**
 * mergeClusters gathers the cluster points of a tile into squares of cellPx screen pixels,
 * summing their counts and placing each at the count-weighted centre. The server's cluster
 * grid is finer than a labelled circle needs; unit features pass through untouched.
 */
export function mergeClusters(features, extent, tilePx, cellPx) {
  const cell = (extent * cellPx) / tilePx;
  const cells = new Map();
  const out = [];
  for (const f of features) {
    const p = f.properties;
    if (!p.cluster || f.type !== 1 || !f.geometry || !f.geometry[0] || !f.geometry[0][0]) {
      out.push(f);
      continue;
    }
    const { x, y } = f.geometry[0][0];
    const key = `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
    const n = Number(p.count) || 0;
    let c = cells.get(key);
    if (!c) {
      c = { sx: 0, sy: 0, n: 0, props: { cluster: true, count: 0, red: 0, orange: 0, yellow: 0, blue: 0, $type: 1 } };
      cells.set(key, c);
    }
    c.sx += x * n;
    c.sy += y * n;
    c.n += n;
    c.props.count += n;
    for (const g of GRADE_CODES) c.props[g] += Number(p[g]) || 0;
  }
  for (const c of cells.values()) {
    if (!c.n) continue;
    c.props.grade = GRADE_CODES.find((g) => c.props[g] > 0) || '';
    out.push({ type: 1, properties: c.props, geometry: [[{ x: c.sx / c.n, y: c.sy / c.n }]] });
  }
  return out;
}

/** typedProtobuf is L.vectorGrid.protobuf whose features know their geometry type. */
export function typedProtobuf(url, options) {
  return new TypedProtobuf(url, options);
}

/**
 * UnitLayer wraps the VectorGrid of the units layer: setFilters redraws it with new filters;
 * onUnit and onCluster are called with the properties of what was clicked. template is the
 * tile URL ({z}/{x}/{y}; default base + /tiles/units/…), e.g. from a TileJSON; style
 * replaces unitStyle; clusters: false leaves the server's cluster points undrawn.
 */
export class UnitLayer {
  constructor(map, { base = '', pane = 'units', zIndex = 420, template = null, style = unitStyle, clusters = true, onUnit, onCluster } = {}) {
    this.map = map;
    this.base = base;
    this.template = template || `${base}/tiles/units/{z}/{x}/{y}.pbf`;
    this.filters = { grades: [...GRADE_CODES], categories: null, region: '', empty: false };
    // Grades the server announced (the event stream's `grade` events) for units whose cached
    // tiles may still carry the old one: applied to every tile drawn from now on.
    this.liveGrades = new Map();
    if (!map.getPane(pane)) {
      map.createPane(pane);
      map.getPane(pane).style.zIndex = zIndex;
    }
    const self = this;
    this.layer = typedProtobuf(this.url(), {
      rendererFactory: L.svg.tile,
      pane,
      interactive: true,
      tileSize: 512,
      zoomOffset: -1,
      maxNativeZoom: 23,
      maxZoom: 23,
      clusterCellPx: clusters ? 56 : 0,
      fetchOptions: { credentials: 'same-origin' },
      // Stored features (by unit id) let the page and its tests see what a tile drew.
      getFeatureId: (feat) => feat.properties.id,
      vectorTileLayerStyles: {
        units: (p, z) => style(self.live(p), z, self.filters),
      },
    });
    if (!map.getPane('clusters')) {
      map.createPane('clusters');
      map.getPane('clusters').style.zIndex = 630;
    }
    this.onCluster = onCluster;
    this.clusterMarkers = {};
    this.layer.on('tileload', (e) => this.showClusters(e.coords));
    this.layer.on('tileunload', (e) => this.hideClusters(e.coords));
    this.layer.on('click', (e) => {
      const p = e.layer && e.layer.properties;
      if (!p) return;
      L.DomEvent.stop(e);
      if (onUnit) onUnit(p, e.latlng);
    });
    this.layer.on('mouseover', (e) => {
      const p = e.layer && e.layer.properties;
      if (p && !p.cluster && (p.name || p.code)) {
        this.layer._hoverTip = L.tooltip({ direction: 'top', offset: [0, -6], className: 'unit-tip' })
          .setLatLng(e.latlng)
          .setContent(textNode(`${p.name || p.code}（${grade(p.grade).label}）`))
          .addTo(map);
      }
    });
    this.layer.on('mouseout', () => this.hideTip());
    this.layer.addTo(map);
  }

  /** live gives a unit's tile properties the grade the server announced last, if any. */
  live(p) {
    const g = p && !p.cluster ? this.liveGrades.get(Number(p.id)) : undefined;
    if (g !== undefined && p.grade !== g) p.grade = g;
    return p;
  }

  /**
   * setLiveGrade restyles unit id in grade g at once, in every tile drawn (and in those
   * drawn later), without reloading a tile: a unit raised by an alarm shows in its new
   * colour the moment the event arrives.
   */
  setLiveGrade(id, g) {
    id = Number(id);
    this.liveGrades.set(id, g || '');
    const styleFn = this.layer.options.vectorTileLayerStyles.units;
    for (const tile of Object.values(this.layer._vectorTiles || {})) {
      const data = tile._features && tile._features[id];
      if (!data) continue;
      data.feature.properties.grade = g || '';
      this.layer._updateStyles(data.feature, tile, styleFn);
    }
  }

  url() {
    // The public tiles know no review dates: overdue is an internal filter.
    const q = query(filterParams(this.base === '/public' ? { ...this.filters, overdue: false, openHazards: false } : this.filters));
    return q ? `${this.template}${this.template.includes('?') ? '&' : '?'}${q}` : this.template;
  }

  /** hideTip takes the hover tooltip off the map: its unit may be filtered away or hidden. */
  hideTip() {
    if (this.layer._hoverTip) this.layer._hoverTip.remove();
    this.layer._hoverTip = null;
  }

  setFilters(f) {
    this.hideTip();
    this.filters = { ...this.filters, ...f };
    // The URL carries the filters the server applies; the style applies them all.
    const url = this.url();
    if (url !== this.layer._url) this.layer.setUrl(url);
    else this.layer.redraw();
  }

  /** refresh reloads every tile, e.g. after a unit was saved. */
  refresh() {
    this.hideTip();
    const u = this.url();
    this.layer.setUrl(`${u}${u.includes('?') ? '&' : '?'}_=${Date.now()}`);
  }

  setVisible(on) {
    if (!on) this.hideTip();
    if (on && !this.map.hasLayer(this.layer)) this.layer.addTo(this.map);
    if (!on && this.map.hasLayer(this.layer)) {
      this.map.removeLayer(this.layer);
      for (const group of Object.values(this.clusterMarkers)) group.remove();
      this.clusterMarkers = {};
    }
  }

  /** showClusters puts the cluster points of a loaded tile on the map as counted circles. */
  showClusters(coords) {
    const key = this.layer._tileCoordsToKey(coords);
    this.hideClusters(coords);
    const data = (this.layer._clusterData || {})[key];
    if (!data || !data.length || !this.map) return;
    const size = this.layer.getTileSize();
    const group = L.layerGroup();
    for (const c of data) {
      const n = clusterCount(c.props, this.filters);
      if (n <= 0) continue;
      const code = clusterGrade(c.props, this.filters);
      const g = grade(code);
      const d = Math.round(2 * clusterRadius(n));
      const latlng = this.map.unproject(L.point(coords.x * size.x + c.x, coords.y * size.y + c.y), coords.z);
      const el = document.createElement('div');
      el.className = 'cluster';
      el.style.width = el.style.height = `${d}px`;
      el.style.background = g.fill;
      el.style.borderColor = g.outline;
      el.style.color = code === 'yellow' || code === 'orange' ? '#1d1d1d' : '#fff';
      el.dataset.grade = code;
      el.dataset.count = String(n);
      for (const k of GRADE_CODES) el.dataset[k] = String(Number(c.props[k]) || 0);
      el.textContent = n >= 10000 ? `${Math.round(n / 1000)}k` : String(n);
      const title = `${n} 个风险单元：` + GRADE_CODES.filter((k) => c.props[k] > 0 && (!this.filters.grades || this.filters.grades.includes(k))).map((k) => `${grade(k).short_label} ${c.props[k]}`).join('，');
      const m = L.marker(latlng, {
        pane: 'clusters',
        icon: L.divIcon({ html: el, className: 'cluster-icon', iconSize: [d, d] }),
        title,
        keyboard: false,
        riseOnHover: true,
      });
      m.on('click', (e) => {
        if (this.onCluster) this.onCluster(c.props, e.latlng);
        else this.map.setView(e.latlng, Math.min(this.map.getZoom() + 2, 18));
      });
      group.addLayer(m);
    }
    this.clusterMarkers[key] = group;
    if (this.map.hasLayer(this.layer)) group.addTo(this.map);
  }

  hideClusters(coords) {
    const key = this.layer._tileCoordsToKey(coords);
    const group = this.clusterMarkers[key];
    if (group) group.remove();
    delete this.clusterMarkers[key];
  }
}

function textNode(s) {
  return document.createTextNode(s);
}
