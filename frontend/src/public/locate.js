// "我的位置": the public map finds where the visitor is (navigator.geolocation), centres
// there, marks the position and lists the published units nearest to it, each a link that
// flies to the unit. The units come from the public list (/public/api/v1/units?bbox=…),
// which holds only the latest publication's public fields.
import L from '../lib/leaflet.js';
import { h, replace } from '../lib/dom.js';
import { swatch, grade } from '../lib/grades.js';
import { pointInGeometry } from '../lib/basemaps.js';

/** RADIUS is how far "nearby" reaches, in metres; at most LIMIT units are listed. */
export const RADIUS = 1000;
const LIMIT = 10;
const PAGE = 1000; // the list's largest page

const R = 6371008.8;

/** metres between two [lon, lat] points (haversine). */
export function distance([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const dlat = (lat2 - lat1) * rad;
  const dlon = (lon2 - lon1) * rad;
  const a = Math.sin(dlat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dlon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** segmentDistance is the distance from p to the segment a–b, in metres (locally flat). */
function segmentDistance(p, a, b) {
  const k = Math.cos((p[1] * Math.PI) / 180);
  const ax = (a[0] - p[0]) * k;
  const ay = a[1] - p[1];
  const bx = (b[0] - p[0]) * k;
  const by = b[1] - p[1];
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)) : 0;
  const q = [p[0] + (ax + t * dx) / k, p[1] + ay + t * dy];
  return distance(p, q);
}

/** geometryDistance is how far p ([lon, lat]) is from a GeoJSON geometry, 0 inside an area. */
export function geometryDistance(p, g) {
  if (!g) return Infinity;
  switch (g.type) {
    case 'Point':
      return distance(p, g.coordinates);
    case 'MultiPoint':
      return Math.min(...g.coordinates.map((c) => distance(p, c)));
    case 'LineString':
      return lineDistance(p, g.coordinates);
    case 'MultiLineString':
      return Math.min(...g.coordinates.map((l) => lineDistance(p, l)));
    case 'Polygon':
    case 'MultiPolygon': {
      if (pointInGeometry(p, g)) return 0;
      const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
      return Math.min(...polys.flat().map((ring) => lineDistance(p, ring)));
    }
    case 'GeometryCollection':
      return Math.min(...g.geometries.map((x) => geometryDistance(p, x)));
  }
  return Infinity;
}

function lineDistance(p, line) {
  if (line.length === 1) return distance(p, line[0]);
  let d = Infinity;
  for (let i = 1; i < line.length; i++) d = Math.min(d, segmentDistance(p, line[i - 1], line[i]));
  return d;
}

/** fmtDistance writes a distance as people say it: 80 米, 350 米, 1.2 公里. */
export function fmtDistance(m) {
  if (m < 10) return '不到 10 米';
  if (m < 1000) return `${Math.round(m / 10) * 10} 米`;
  return `${(m / 1000).toFixed(1)} 公里`;
}

/** bboxAround is the bbox parameter of a square of radius metres around [lon, lat]. */
function bboxAround([lon, lat], radius) {
  const dlat = radius / 111320;
  const dlon = radius / (111320 * Math.max(0.01, Math.cos((lat * Math.PI) / 180)));
  return [lon - dlon, lat - dlat, lon + dlon, lat + dlat].map((v) => v.toFixed(6)).join(',');
}

/** positionMessage says in Chinese why the position could not be had. */
export function positionMessage(err) {
  if (!window.isSecureContext) return '无法定位：浏览器只在 HTTPS 访问的页面上提供位置信息。';
  switch (err && err.code) {
    case 1:
      return '无法定位：您没有允许本页面使用位置信息。请在浏览器的网站设置中允许“位置”后重试。';
    case 3:
      return '定位超时：暂时没有得到您的位置，请稍后重试。';
    default:
      return '无法定位：设备暂时无法提供位置信息，请确认定位服务已开启后重试。';
  }
}

/**
 * addLocate adds the 我的位置 control to the public map. api is the public Api; cityP
 * resolves to the regions by level (the districts say what "the city" is); onPick(feature)
 * shows a unit.
 */
export function addLocate(map, api, { cityP, onPick }) {
  if (!map.getPane('locate')) {
    // Above the units and their clusters: the visitor's own position is never hidden.
    map.createPane('locate').style.zIndex = 645;
  }
  const layer = L.layerGroup().addTo(map);
  let panel = null;
  const control = L.control({ position: 'topleft' });
  control.onAdd = () => {
    const bar = h('div.leaflet-bar.locate-control',
      h('a.locate-button', { href: '#', role: 'button', title: '我的位置：查看附近的风险单元', 'aria-label': '我的位置：查看附近的风险单元', onclick: (e) => {
        e.preventDefault();
        locate();
      } }, h('span', { 'aria-hidden': 'true' }, '◎')));
    L.DomEvent.disableClickPropagation(bar);
    return bar;
  };
  control.addTo(map);

  const show = (...children) => {
    if (!panel) {
      panel = h('div.nearby', { role: 'region', 'aria-label': '附近的风险单元', 'aria-live': 'polite' });
      L.DomEvent.disableClickPropagation(panel);
      L.DomEvent.disableScrollPropagation(panel);
      map.getContainer().appendChild(panel);
    }
    replace(panel,
      h('button.nearby-close', { type: 'button', 'aria-label': '关闭', title: '关闭', onclick: () => close() }, '×'),
      ...children);
    panel.hidden = false;
  };
  const close = () => {
    if (panel) panel.hidden = true;
    layer.clearLayers();
  };

  async function locate() {
    if (!navigator.geolocation) {
      show(h('p.nearby-message', '无法定位：此浏览器不提供位置信息。'));
      return;
    }
    show(h('p.nearby-message', '正在获取您的位置……'));
    let pos;
    try {
      pos = await new Promise((resolve, reject) => navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }));
    } catch (err) {
      show(h('p.nearby-message.nearby-error', positionMessage(err)));
      return;
    }
    const here = [pos.coords.longitude, pos.coords.latitude];
    const regions = await cityP.catch(() => null);
    const districts = (regions && regions.district && regions.district.features) || [];
    if (districts.length && !districts.some((f) => f.geometry && pointInGeometry(here, f.geometry))) {
      layer.clearLayers();
      show(h('p.nearby-message.nearby-error', '您的位置不在本地图的范围内，附近没有本市公布的风险单元。'));
      return;
    }
    layer.clearLayers();
    const ll = [here[1], here[0]];
    if (pos.coords.accuracy > 0 && pos.coords.accuracy < 5000) {
      L.circle(ll, { pane: 'locate', radius: pos.coords.accuracy, interactive: false, color: '#1a73e8', weight: 1, fillOpacity: 0.08 }).addTo(layer);
    }
    L.circle(ll, { pane: 'locate', radius: RADIUS, interactive: false, color: '#1a73e8', weight: 1, dashArray: '4 4', fill: false }).addTo(layer);
    L.circleMarker(ll, { pane: 'locate', radius: 8, color: '#fff', weight: 2, fillColor: '#1a73e8', fillOpacity: 1, className: 'locate-here' }).bindTooltip('您的位置').addTo(layer);
    map.fitBounds(L.latLng(ll).toBounds(RADIUS * 2), { animate: false });
    show(h('p.nearby-message', '正在查找附近的风险单元……'));
    // One page of the list holds at most 1000 units: where more lie within 1 km (a dense
    // centre), the circle narrows until the page holds them all, so none nearer is missed.
    let radius = RADIUS;
    let fc;
    try {
      for (;;) {
        fc = await api.units({ bbox: bboxAround(here, radius), limit: PAGE });
        if (!(fc.numberMatched > (fc.features || []).length) || radius <= 100) break;
        radius /= 2;
      }
    } catch (e) {
      show(h('p.nearby-message.nearby-error', `查找附近的风险单元失败：${e.message}`));
      return;
    }
    const within = radius >= 1000 ? `${radius / 1000} 公里` : `${Math.round(radius)} 米`;
    const near = (fc.features || [])
      .map((f) => ({ f, d: geometryDistance(here, f.geometry) }))
      .filter((x) => x.d <= radius)
      .sort((a, b) => a.d - b.d);
    if (!near.length) {
      show(h('h3.nearby-title', `附近 ${within}内`), h('p.nearby-message', `附近 ${within}内没有公布的风险单元。`));
      return;
    }
    show(
      h('h3.nearby-title', `附近 ${within}内的风险单元（${near.length} 个${near.length > LIMIT ? `，列出最近的 ${LIMIT} 个` : ''}）`),
      h('ol.nearby-list', near.slice(0, LIMIT).map(({ f, d }) => {
        const p = f.properties;
        return h('li', h('button.nearby-item', { type: 'button', dataset: { id: f.id, grade: p.grade }, onclick: () => onPick(f) },
          swatch(p.grade, 'dot'),
          h('span.nearby-name', p.public_label || p.code),
          h('span.nearby-meta', `${grade(p.grade).short_label}风险 · ${p.category_label || ''}`),
          h('span.nearby-distance', fmtDistance(d))));
      })),
    );
  }
  return { locate, close };
}
