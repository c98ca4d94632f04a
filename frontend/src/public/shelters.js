// 应急避难场所 on the public map: every shelter (GET /public/api/v1/shelters) with its type,
// capacity, effective area and service radius in a popup, and 最近的避难场所: from the
// browser's location or a point clicked on the map, the nearest shelter
// (GET /public/api/v1/shelters/nearest) with its straight-line distance and direction, links
// that open it in a navigation app (高德地图, or any app through geo:), and the shelters
// within 1 km. Every value from the server goes in as text.
import L from '../lib/leaflet.js';
import { h, replace } from '../lib/dom.js';
import { shelterLayer, shelterCard, shelterKind, fmtMetres, fmtArea, SHELTER_COLOUR } from '../lib/sites.js';
import { positionMessage } from './locate.js';

/** distanceText says how far: 就在场所内 for 0. */
function distanceText(d) {
  return d <= 0 ? '就在避难场所范围内' : `直线距离 ${fmtMetres(d)}`;
}

/**
 * addShelters adds the shelters layer and the 最近的避难场所 control to the public map.
 * Returns {picking, pick(latlng), find(lon, lat), layer}.
 */
export function addShelters(app, api, { onOpen } = {}) {
  const map = app.map;
  if (!map.getPane('shelters')) map.createPane('shelters').style.zIndex = 436;
  if (!map.getPane('shelterRoute')) map.createPane('shelterRoute').style.zIndex = 646;
  const group = L.layerGroup().addTo(map);
  const route = L.layerGroup().addTo(map);
  const byId = new Map();
  const popup = (f, latlng) => L.popup({ maxWidth: 300, className: 'public-popup' }).setLatLng(latlng).setContent(shelterCard(f)).openOn(map);
  const load = api.shelters().then((fc) => {
    for (const f of fc.features || []) byId.set(String(f.id ?? f.properties.id), f);
    group.addLayer(shelterLayer(fc, { pane: 'shelters', onClick: (f, ll) => popup(f, ll) }));
    map.getContainer().dataset.shelters = String((fc.features || []).length);
  }).catch(() => {
    map.getContainer().dataset.shelters = 'error';
  });
  if (app.basemaps && app.basemaps.control) {
    app.basemaps.control.addOverlay(group, '应急避难场所');
    const toggle = app.basemaps.control.getContainer().querySelector('.leaflet-control-layers-toggle');
    if (toggle) {
      toggle.title = '底图与图层';
      toggle.setAttribute('aria-label', '底图与图层');
    }
  }

  let panel = null;
  const state = { picking: false };
  const control = L.control({ position: 'topright' });
  control.onAdd = () => {
    const bar = h('div.leaflet-bar.shelter-control',
      h('a.shelter-button', { href: '#', role: 'button', title: '查找最近的应急避难场所', onclick: (e) => {
        e.preventDefault();
        open();
      } }, '最近的避难场所'));
    L.DomEvent.disableClickPropagation(bar);
    return bar;
  };
  control.addTo(map);

  const show = (...children) => {
    if (!panel) {
      panel = h('div.nearby.shelter-finder', { role: 'region', 'aria-label': '最近的避难场所', 'aria-live': 'polite' });
      L.DomEvent.disableClickPropagation(panel);
      // A button that replaces the panel's content leaves the page while its click bubbles:
      // Leaflet would no longer see that it came from the panel and take it for the map's.
      panel.addEventListener('click', (e) => e.stopPropagation());
      L.DomEvent.disableScrollPropagation(panel);
      map.getContainer().appendChild(panel);
    }
    replace(panel,
      h('button.nearby-close', { type: 'button', 'aria-label': '关闭', title: '关闭', onclick: () => close() }, '×'),
      h('h3.nearby-title', '最近的避难场所'),
      ...children);
    panel.hidden = false;
  };
  const setPicking = (on) => {
    state.picking = on;
    map.getContainer().classList.toggle('picking-shelter', on);
  };
  const close = () => {
    setPicking(false);
    if (panel) panel.hidden = true;
    route.clearLayers();
  };
  const choices = (note) => [
    note ? h('p.nearby-message', note) : null,
    h('div.shelter-choices',
      h('button.btn.btn-small', { type: 'button', dataset: { action: 'shelter-locate' }, onclick: () => fromLocation() }, '使用我的位置'),
      h('button.btn.btn-small', { type: 'button', dataset: { action: 'shelter-pick' }, onclick: () => startPick() }, '在地图上点选位置')),
    byId.size ? h('button.linklike.shelter-all', { type: 'button', dataset: { action: 'shelter-list' }, onclick: () => listAll() }, `全市应急避难场所一览（${byId.size} 处）`) : null,
  ];

  /** listAll is the city's shelters as a table (分布表): by kind, then name; a row shows it. */
  function listAll() {
    const order = { central: 0, fixed: 1, emergency: 2 };
    const all = [...byId.values()].sort((a, b) => (order[a.properties.kind] ?? 9) - (order[b.properties.kind] ?? 9) || String(a.properties.name).localeCompare(String(b.properties.name), 'zh-CN'));
    const go = (f) => {
      const c = L.geoJSON(f.geometry).getBounds().getCenter();
      map.setView(c, Math.max(map.getZoom(), 16));
      popup(f, c);
    };
    const total = (k) => all.reduce((n, f) => n + (Number(f.properties[k]) || 0), 0);
    show(
      h('p.nearby-message', `共 ${all.length} 处，可容纳 ${total('capacity').toLocaleString('zh-CN')} 人，有效避难面积合计 ${fmtArea(total('effective_area_m2'))}。`),
      h('table.shelter-table',
        h('thead', h('tr', h('th', '名称'), h('th', '类型'), h('th.num', '容纳人数'))),
        h('tbody', all.map((f) => h('tr', { dataset: { id: f.id ?? f.properties.id }, tabindex: 0, onclick: () => go(f), onkeydown: (e) => e.key === 'Enter' && go(f) },
          h('td', f.properties.name || ''), h('td', shelterKind(f.properties)), h('td.num', Number(f.properties.capacity || 0).toLocaleString('zh-CN')))))),
      h('div.shelter-choices', h('button.btn.btn-small', { type: 'button', onclick: () => open() }, '返回')));
  }

  function open() {
    if (onOpen) onOpen();
    show(...choices('从您的位置或地图上的一点，查找最近的应急避难场所。'));
  }

  function startPick() {
    setPicking(true);
    show(h('p.nearby-message', '请在地图上点击一个位置。'), h('button.btn.btn-small', { type: 'button', onclick: () => open() }, '取消'));
  }

  async function fromLocation() {
    setPicking(false);
    if (!navigator.geolocation) {
      show(h('p.nearby-message.nearby-error', '无法定位：此浏览器不提供位置信息。'), ...choices());
      return;
    }
    show(h('p.nearby-message', '正在获取您的位置……'));
    let pos;
    try {
      pos = await new Promise((resolve, reject) => navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }));
    } catch (err) {
      show(h('p.nearby-message.nearby-error', positionMessage(err)), ...choices());
      return;
    }
    find(pos.coords.longitude, pos.coords.latitude, '您的位置');
  }

  /** pick is a click on the map while picking. */
  function pick(latlng) {
    if (!state.picking) return false;
    setPicking(false);
    find(latlng.lng, latlng.lat, '所选位置');
    return true;
  }
  map.on('click', (e) => pick(e.latlng));

  const item = (it, main) => {
    const f = it.shelter;
    const p = f.properties || {};
    const go = () => {
      const b = L.geoJSON(f.geometry).getBounds();
      map.setView(b.getCenter(), Math.max(map.getZoom(), 16));
      popup(f, b.getCenter());
    };
    if (main) {
      const nav = it.nav || {};
      return h('div.shelter-nearest', { dataset: { id: f.id ?? p.id } },
        h('div.shelter-nearest-name', h('span.shelter-badge', { dataset: { kind: p.kind || '' } }, shelterKind(p)), ' ', h('strong', p.name || '')),
        h('p.shelter-nearest-distance', `${distanceText(it.distance_m)}${it.distance_m > 0 && it.direction ? ` · 方向：${it.direction}` : ''}`),
        p.address ? h('p.muted', p.address) : null,
        p.capacity != null ? h('p.muted', `可容纳 ${Number(p.capacity).toLocaleString('zh-CN')} 人`) : null,
        h('div.shelter-nav',
          nav.amap ? h('a.btn.btn-small.btn-nav', { href: nav.amap, target: '_blank', rel: 'noopener noreferrer', dataset: { nav: 'amap' } }, '导航（高德地图）') : null,
          nav.geo ? h('a.btn.btn-small.btn-nav', { href: nav.geo, dataset: { nav: 'geo' } }, '用手机导航应用打开') : null,
          h('button.btn.btn-small', { type: 'button', onclick: go }, '在地图上查看')));
    }
    return h('li', h('button.nearby-item.shelter-item', { type: 'button', dataset: { id: f.id ?? p.id }, onclick: go },
      h('span.swatch.swatch-dot', { style: { background: SHELTER_COLOUR, borderColor: SHELTER_COLOUR } }),
      h('span.nearby-name', p.name || ''),
      h('span.nearby-meta', `${shelterKind(p)}${it.direction && it.distance_m > 0 ? ` · ${it.direction}` : ''}`),
      h('span.nearby-distance', it.distance_m > 0 ? fmtMetres(it.distance_m) : '场所内')));
  };

  /** find asks the server for the nearest shelter to (lon, lat) and shows it. */
  async function find(lon, lat, label) {
    show(h('p.nearby-message', '正在查找最近的避难场所……'));
    route.clearLayers();
    panel.dataset.lon = lon.toFixed(6);
    panel.dataset.lat = lat.toFixed(6);
    let res;
    try {
      res = await api.nearestShelter(lon.toFixed(6), lat.toFixed(6));
    } catch (e) {
      show(h('p.nearby-message.nearby-error', e.status === 400 ? e.message : `查找失败：${e.message}`), ...choices());
      return;
    }
    await load;
    const from = [lat, lon];
    L.circleMarker(from, { pane: 'shelterRoute', radius: 8, color: '#fff', weight: 2, fillColor: '#1a73e8', fillOpacity: 1, className: 'shelter-from' }).bindTooltip(label).addTo(route);
    if (!res.nearest) {
      show(h('p.nearby-message', '附近没有找到应急避难场所。'), ...choices());
      return;
    }
    const f = res.nearest.shelter;
    const to = L.geoJSON(f.geometry).getBounds().getCenter();
    L.polyline([from, to], { pane: 'shelterRoute', color: '#1a73e8', weight: 3, dashArray: '6 6', interactive: false, className: 'shelter-route' }).addTo(route);
    const bounds = L.latLngBounds([from, to]);
    map.fitBounds(bounds.pad(0.3), { maxZoom: 17, animate: false });
    show(
      h('p.nearby-message', `从${label}出发：`),
      item(res.nearest, true),
      h('h4.shelter-within', `1 公里内的避难场所（${(res.nearby || []).length} 处）`),
      (res.nearby || []).length
        ? h('ol.nearby-list', (res.nearby || []).map((it) => item(it, false)))
        : h('p.nearby-message', '1 公里内没有避难场所。'),
      h('p.muted.shelter-note', '距离为直线距离，实际路线以导航为准。'),
      h('div.shelter-choices', h('button.btn.btn-small', { type: 'button', onclick: () => startPick() }, '换一个位置')));
  }

  return { get picking() { return state.picking; }, pick, find, close, layer: group, byId };
}
