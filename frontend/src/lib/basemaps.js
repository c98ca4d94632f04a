// Basemaps. The default needs no network at all: the server's own MBTiles when it has one
// (--basemap), else a plain paper background with the administrative boundaries from
// riskmap's own regions, so the map works on a machine without internet. OpenStreetMap and 天地图 (vector or imagery, each with its
// separate label layer) are offered when reachable; 天地图 needs a key from the deployment's
// configuration and is hidden without one. The choice is remembered in localStorage.
import L from './leaflet.js';
import { typedProtobuf } from './unitlayer.js';

const STORE_KEY = 'riskmap.basemap';

function tianditu(layer, key) {
  return L.tileLayer(
    `https://t{s}.tianditu.gov.cn/${layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=${layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}`,
    { subdomains: '01234567', maxZoom: 18, maxNativeZoom: 18, tk: key, attribution: '© 天地图', pane: layer.startsWith('c') ? 'basemapLabels' : 'tilePane' },
  );
}

/**
 * polygonLabelPoint is a point inside the largest ring of a (Multi)Polygon: the centroid if
 * it falls inside, otherwise the middle of the widest horizontal run through the centroid's
 * latitude. Good enough to place a name.
 */
export function polygonLabelPoint(geom) {
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
  let best = null;
  let bestArea = -1;
  for (const poly of polys) {
    const ring = poly[0];
    let a = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += f;
      cx += (ring[j][0] + ring[i][0]) * f;
      cy += (ring[j][1] + ring[i][1]) * f;
    }
    if (Math.abs(a) > bestArea) {
      bestArea = Math.abs(a);
      best = { ring, c: a ? [cx / (3 * a), cy / (3 * a)] : ring[0] };
    }
  }
  if (!best) return null;
  const { ring, c } = best;
  if (pointInRing(c, ring)) return c;
  const xs = [];
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x1, y1] = ring[j];
    const [x2, y2] = ring[i];
    if ((y1 > c[1]) !== (y2 > c[1])) xs.push(x1 + ((c[1] - y1) * (x2 - x1)) / (y2 - y1));
  }
  xs.sort((a, b) => a - b);
  let bx = c[0];
  let w = -1;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    if (xs[i + 1] - xs[i] > w) {
      w = xs[i + 1] - xs[i];
      bx = (xs[i] + xs[i + 1]) / 2;
    }
  }
  return [bx, c[1]];
}

export function pointInRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** pointInGeometry reports whether [lon, lat] is inside a GeoJSON (Multi)Polygon. */
export function pointInGeometry(p, geom) {
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
  return polys.some((poly) => pointInRing(p, poly[0]) && !poly.slice(1).some((hole) => pointInRing(p, hole)));
}

/**
 * offlineBasemap draws district and street boundaries, and community boundaries from zoom
 * 13 (their names are RegionLabels', over every basemap). regions maps a level to its
 * GeoJSON FeatureCollection. With paper (the default) the map's background turns to paper;
 * over the MBTiles basemap the lines are drawn on its tiles.
 */
export function offlineBasemap(map, regions, { paper = true } = {}) {
  const group = L.layerGroup();
  const style = {
    district: { color: '#5b6470', weight: 2.6, dashArray: null, fill: false, opacity: 0.9 },
    street: { color: '#7d8793', weight: 1.4, dashArray: '6 4', fill: false, opacity: 0.9 },
    community: { color: '#a3acb6', weight: 0.8, dashArray: '2 3', fill: false, opacity: 0.9 },
  };
  const byLevel = {};
  for (const level of ['community', 'street', 'district']) {
    const fc = regions[level];
    if (!fc) continue;
    byLevel[level] = L.geoJSON(fc, { style: style[level], interactive: false, pane: 'basemapLines' });
  }
  const minZoom = { district: 0, street: 10, community: 13 };
  const update = () => {
    if (!map.hasLayer(group)) return;
    const z = map.getZoom();
    for (const [level, lines] of Object.entries(byLevel)) {
      if (z >= minZoom[level]) group.addLayer(lines);
      else group.removeLayer(lines);
    }
  };
  group.on('add', () => {
    if (paper) map.getContainer().classList.add('basemap-offline');
    update();
  });
  group.on('remove', () => paper && map.getContainer().classList.remove('basemap-offline'));
  map.on('zoomend', update);
  return group;
}

/** vectorStyle draws every layer of a vector MBTiles plainly: areas pale, lines grey. */
function vectorStyle(p, z) {
  switch (p.$type) {
    case 3:
      return { fill: true, fillColor: '#ebe5d6', fillOpacity: 0.9, color: '#d3c9b4', weight: 0.6, opacity: 1 };
    case 2:
      return { color: '#8f8f8f', weight: z >= 15 ? 2.4 : z >= 12 ? 1.5 : 1, opacity: 0.9, fill: false };
    default:
      return { radius: 2, fill: true, fillColor: '#8a8a8a', fillOpacity: 0.8, color: '#8a8a8a', weight: 0 };
  }
}

/**
 * mbtilesLayer is the server's offline basemap (--basemap) from its TileJSON: raster tiles
 * as a tile layer, vector tiles through VectorGrid in one plain style.
 */
export function mbtilesLayer(tj) {
  const b = Array.isArray(tj.bounds) && tj.bounds.length === 4 ? L.latLngBounds([tj.bounds[1], tj.bounds[0]], [tj.bounds[3], tj.bounds[2]]) : undefined;
  const opts = {
    // Far below the file's zooms its tiles would be shrunk by the hundred: not drawn there.
    minZoom: Math.max(0, (tj.minzoom ?? 0) - 2),
    maxZoom: 23,
    minNativeZoom: tj.minzoom ?? 0,
    maxNativeZoom: tj.maxzoom ?? 18,
    bounds: b,
    attribution: tj.attribution || '',
    className: 'basemap-mbtiles',
  };
  if (tj.format === 'pbf') {
    // Every layer the file has, whatever its name, in the plain style.
    const styles = new Proxy({}, { get: () => vectorStyle, has: () => true });
    return typedProtobuf(tj.tiles[0], { ...opts, pane: 'tilePane', rendererFactory: L.canvas.tile, interactive: false, vectorTileLayerStyles: styles });
  }
  return L.tileLayer(tj.tiles[0], opts);
}

/**
 * basemapControl adds the basemap switcher. regionsPromise resolves to the regions by level
 * for the offline basemap. It restores the last choice, falling back to the offline one.
 */
export function addBasemaps(map, { tiandituKey = '', regionsPromise, basemap = null }) {
  for (const [name, z] of [['basemapLines', 250], ['basemapLabels', 640]]) {
    if (!map.getPane(name)) {
      map.createPane(name);
      map.getPane(name).style.zIndex = z;
      map.getPane(name).style.pointerEvents = 'none';
    }
  }
  const offline = L.layerGroup();
  regionsPromise.then((regions) => {
    const b = offlineBasemap(map, regions);
    offline.addLayer(b);
  });
  const layers = {};
  if (basemap && Array.isArray(basemap.tiles) && basemap.tiles[0]) {
    // The server's MBTiles (--basemap), with the region outlines drawn over it.
    const streets = L.layerGroup([mbtilesLayer(basemap)]);
    regionsPromise.then((regions) => streets.addLayer(offlineBasemap(map, regions, { paper: false })));
    layers.mbtiles = { label: basemap.name ? `离线街道底图（${basemap.name}）` : '离线街道底图', layer: streets };
  }
  Object.assign(layers, {
    offline: { label: '离线底图（行政区划）', layer: offline },
    osm: {
      label: 'OpenStreetMap',
      layer: L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', { maxZoom: 19, attribution: '© OpenStreetMap contributors' }),
    },
  });
  if (tiandituKey) {
    layers.tdt_vec = { label: '天地图 矢量', layer: L.layerGroup([tianditu('vec', tiandituKey), tianditu('cva', tiandituKey)]) };
    layers.tdt_img = { label: '天地图 影像', layer: L.layerGroup([tianditu('img', tiandituKey), tianditu('cia', tiandituKey)]) };
  }
  // The server's MBTiles is the default when there is one.
  const fallback = layers.mbtiles ? 'mbtiles' : 'offline';
  let saved = fallback;
  try {
    saved = localStorage.getItem(STORE_KEY) || fallback;
  } catch {
    /* storage may be disabled */
  }
  if (!layers[saved]) saved = fallback;
  layers[saved].layer.addTo(map);
  map.getContainer().dataset.basemap = saved;
  const base = {};
  for (const [k, v] of Object.entries(layers)) base[v.label] = v.layer;
  const control = L.control.layers(base, null, { position: 'topright', collapsed: true }).addTo(map);
  // Leaflet names its toggle "Layers": say it in Chinese.
  const toggle = control.getContainer().querySelector('.leaflet-control-layers-toggle');
  if (toggle) {
    toggle.title = '切换底图';
    toggle.setAttribute('aria-label', '切换底图');
  }
  map.on('baselayerchange', (e) => {
    const key = Object.keys(layers).find((k) => layers[k].layer === e.layer) || fallback;
    map.getContainer().dataset.basemap = key;
    map.getContainer().classList.toggle('basemap-offline', key === 'offline');
    try {
      localStorage.setItem(STORE_KEY, key);
    } catch {
      /* ignore */
    }
  });
  return { control, layers, current: () => map.getContainer().dataset.basemap };
}
