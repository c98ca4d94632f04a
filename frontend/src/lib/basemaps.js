// Basemaps. The default needs no network at all: a plain paper background with the
// administrative boundaries and names from riskmap's own regions, so the map works on a
// machine without internet. OpenStreetMap and 天地图 (vector or imagery, each with its
// separate label layer) are offered when reachable; 天地图 needs a key from the deployment's
// configuration and is hidden without one. The choice is remembered in localStorage.
import L from './leaflet.js';
import { h } from './dom.js';

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
 * offlineBasemap draws district and street boundaries with their names, and community
 * boundaries and names from zoom 13. regions maps a level to its GeoJSON FeatureCollection.
 */
export function offlineBasemap(map, regions) {
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
    const lines = L.geoJSON(fc, { style: style[level], interactive: false, pane: 'basemapLines' });
    const labels = L.layerGroup();
    for (const f of fc.features) {
      const at = f.geometry && polygonLabelPoint(f.geometry);
      if (!at) continue;
      const el = h(`span.region-label.region-label-${level}`, f.properties.name);
      labels.addLayer(L.marker([at[1], at[0]], { icon: L.divIcon({ html: el, className: 'region-label-icon', iconSize: null }), interactive: false, keyboard: false, pane: 'basemapLabels' }));
    }
    byLevel[level] = { lines, labels };
  }
  const minZoom = { district: 0, street: 10, community: 13 };
  const labelZoom = { district: 0, street: 11, community: 14 };
  const update = () => {
    if (!map.hasLayer(group)) return;
    const z = map.getZoom();
    for (const [level, { lines, labels }] of Object.entries(byLevel)) {
      const showLines = z >= minZoom[level];
      const showLabels = z >= labelZoom[level] && !(level === 'district' && z >= labelZoom.street);
      if (showLines) group.addLayer(lines);
      else group.removeLayer(lines);
      if (showLabels) group.addLayer(labels);
      else group.removeLayer(labels);
    }
  };
  group.on('add', () => {
    map.getContainer().classList.add('basemap-offline');
    update();
  });
  group.on('remove', () => map.getContainer().classList.remove('basemap-offline'));
  map.on('zoomend', update);
  return group;
}

/**
 * basemapControl adds the basemap switcher. regionsPromise resolves to the regions by level
 * for the offline basemap. It restores the last choice, falling back to the offline one.
 */
export function addBasemaps(map, { tiandituKey = '', regionsPromise }) {
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
  const layers = {
    offline: { label: '离线底图（行政区划）', layer: offline },
    osm: {
      label: 'OpenStreetMap',
      layer: L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', { maxZoom: 19, attribution: '© OpenStreetMap contributors' }),
    },
  };
  if (tiandituKey) {
    layers.tdt_vec = { label: '天地图 矢量', layer: L.layerGroup([tianditu('vec', tiandituKey), tianditu('cva', tiandituKey)]) };
    layers.tdt_img = { label: '天地图 影像', layer: L.layerGroup([tianditu('img', tiandituKey), tianditu('cia', tiandituKey)]) };
  }
  let saved = 'offline';
  try {
    saved = localStorage.getItem(STORE_KEY) || 'offline';
  } catch {
    /* storage may be disabled */
  }
  if (!layers[saved]) saved = 'offline';
  layers[saved].layer.addTo(map);
  map.getContainer().dataset.basemap = saved;
  const base = {};
  for (const [k, v] of Object.entries(layers)) base[v.label] = v.layer;
  const control = L.control.layers(base, null, { position: 'topright', collapsed: true }).addTo(map);
  map.on('baselayerchange', (e) => {
    const key = Object.keys(layers).find((k) => layers[k].layer === e.layer) || 'offline';
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
