// The public map (GET /public): the four-colour unit and regional maps, legend and search,
// read only from /public/... endpoints, which carry public fields only. No login, no
// editing, and none of the application's heavier modules. It shows the latest publication
// (发布): the unit tiles come from the numbered URL of /public/tiles/units.json, which never
// changes once published and so may be cached for ever.
import '../lib/leaflet.js';
import 'leaflet/dist/leaflet.css';
import '../css/base.css';
import '../css/public.css';
import L from '../lib/leaflet.js';
import { Api } from '../lib/api.js';
import { $, h, toast } from '../lib/dom.js';
import { badge, grade } from '../lib/grades.js';
import { createMapApp, highlighter } from '../lib/mapbase.js';
import { searchBox, flyToFeature, regionPlaces, flyToPlace } from '../lib/search.js';
import { levelLabel } from '../lib/regionlayer.js';
import { fmtDateTime } from '../lib/labels.js';
import { addLocate } from './locate.js';
import { addShelters } from './shelters.js';
import { mapImageURL, imageLink } from '../lib/mapimage.js';

const api = new Api('/public');

// The plain words of the popup (config public_tips): what each grade means, and the
// 防范提示 of each category.
let tips = { grades: {}, categories: {}, default: '' };

/** tipOf is what the popup says to do near a unit of category (its own tip, else the default). */
function tipOf(category) {
  return (tips.categories && tips.categories[category]) || tips.default || '';
}

/** publicCard is the popup of a unit: only the public fields, then what its grade means and what to do. */
function publicCard(p) {
  const g = grade(p.grade);
  const meaning = tips.grades && tips.grades[p.grade];
  const advice = tipOf(p.category);
  return h('div.public-card', { dataset: { id: p.id } },
    h('div.public-card-head', badge(p.grade, true)),
    p.public_label ? h('div.public-card-title', p.public_label) : null,
    h('dl.kv-list',
      h('div.kv', h('dt', '编号'), h('dd', p.code || '—')),
      h('div.kv', h('dt', '行业领域'), h('dd', p.category_label || p.category || '—')),
      h('div.kv', h('dt', '风险等级'), h('dd', p.grade_label || g.label)),
      h('div.kv', h('dt', '所在区域'), h('dd', p.region_name || p.region_code || '—'))),
    meaning ? h('p.public-tip-grade', { style: { borderColor: g.fill } }, meaning) : null,
    advice ? h('p.public-tip', h('strong', '防范提示：'), advice) : null);
}

function regionCard(p) {
  const counts = p.counts || p;
  return h('div.public-card',
    h('div.public-card-head', h('strong', p.name), ' ', badge(p.grade, true)),
    h('div.muted', levelLabel(p.level)),
    h('p.plain', plainCounts(p.level, counts)),
    h('table.counts-table', h('tbody', ['red', 'orange', 'yellow', 'blue'].map((c) =>
      h('tr', h('td', badge(c, true)), h('td.num', String(counts[c] ?? 0)))))),
    p.explanation ? h('details.explanation', h('summary', '区域等级是怎么定的'), h('p', p.explanation)) : null);
}

const HERE = { district: '本区县', street: '本街道（乡镇）', community: '本社区（村）', grid: '本网格' };

/** plainCounts says in plain words what a region holds: "本街道（乡镇）有重大风险 2 处、较大风险 5 处。" */
function plainCounts(level, counts) {
  const here = HERE[level] || '本区域';
  const parts = ['red', 'orange', 'yellow', 'blue'].filter((c) => Number(counts[c]) > 0).map((c) => `${grade(c).short_label}风险 ${counts[c]} 处`);
  return parts.length ? `${here}有${parts.join('、')}。` : `${here}暂无公布的风险点。`;
}

/** addContact says on the map who publishes it and how citizens reach them (config "publisher"). */
function addContact(map, pub) {
  if (!pub || !(pub.name || pub.hotline)) return;
  const c = L.control({ position: 'bottomleft' });
  c.onAdd = () => h('div.public-contact',
    pub.name ? h('span', `发布单位：${pub.name}`) : null,
    pub.hotline ? h('span', `${pub.hotline_label || '热线'}：`, h('a', { href: `tel:${pub.hotline}` }, pub.hotline)) : null);
  c.addTo(map);
}

/** showPublication writes "第 N 期 · 发布于 …" in the header. */
function showPublication(pub) {
  const el = $('#publication');
  if (!el) return;
  if (!pub) {
    el.textContent = '尚未发布';
    el.dataset.number = '';
    return;
  }
  el.textContent = `第 ${pub.number} 期 · 发布于 ${fmtDateTime(pub.created_at)}`;
  el.title = `第 ${pub.number} 期发布，共 ${Number(pub.unit_count || 0).toLocaleString('zh-CN')} 个风险单元`;
  el.dataset.number = String(pub.number);
}

async function main() {
  let app;
  const pubP = api.publication().catch(() => null);
  pubP.then(showPublication);
  // The numbered tiles of the latest publication; the unnumbered URL (also the latest) if
  // the TileJSON is not there.
  const template = (layer) => api.tileJSON(`/public/tiles/${layer}.json`).then((tj) => (tj && Array.isArray(tj.tiles) && tj.tiles[0]) || null).catch(() => null);
  const unitTiles = template('units');
  const regionTiles = template('regions');
  let highlight;
  let reports = null; // 随手拍 (report.js), loaded on first use
  const popup = (latlng, content) => L.popup({ maxWidth: 300, className: 'public-popup' }).setLatLng(latlng).setContent(content).openOn(app.map);
  app = await createMapApp(api, {
    unitTiles,
    regionTiles,
    onUnit: async (p, latlng) => {
      // While 最近的避难场所 waits for a point, a click on a unit is that point.
      if (app.shelters && app.shelters.pick(latlng)) return;
      // While a report's place is being picked, a click on a unit picks its place.
      if (reports && reports.picking) {
        reports.setPoint(latlng);
        return;
      }
      // The tile's properties are public already; the list endpoint adds the labels.
      popup(latlng, publicCard(p));
      try {
        const res = await api.unit(p.id);
        popup(latlng, publicCard({ ...res.data.properties, id: res.data.id }));
        highlight.show(res.data, 0);
      } catch {
        /* the tile's fields are shown already */
      }
    },
    onRegion: async (p, latlng) => {
      popup(latlng, regionCard(p));
      try {
        const f = await api.region(p.code);
        popup(latlng, regionCard(f.properties));
      } catch {
        /* keep the tile's counts */
      }
    },
  });
  window.riskmap = app;
  if (app.cfg.tips) tips = app.cfg.tips;
  addContact(app.map, app.cfg.publisher);
  app.publication = await pubP;
  // A numbered publication's tiles are served only while it is the latest: when a new one
  // is published, move to it (checked when the page is shown again, and every 10 minutes).
  const follow = async () => {
    const pub = await api.publication().catch(() => undefined);
    if (pub === undefined || (pub && app.publication && pub.number === app.publication.number) || (!pub && !app.publication)) return;
    app.publication = pub;
    showPublication(pub);
    const [u, r] = await Promise.all([template('units'), template('regions')]);
    if (u) {
      app.units.template = u;
      app.units.layer.setUrl(app.units.url());
    }
    if (r) app.regions.layer.setUrl(r);
    app.legend.count();
  };
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && follow());
  setInterval(follow, 10 * 60 * 1000);
  highlight = highlighter(app.map);
  app.map.on('popupclose', () => highlight.clear());
  /** showUnit flies to a unit of the list or the search and opens its card. */
  const showUnit = (f) => {
    app.setMode('units');
    flyToFeature(app.map, f);
    highlight.show(f, 0);
    const b = L.geoJSON(f.geometry).getBounds();
    setTimeout(() => popup(b.getCenter(), publicCard({ ...f.properties, id: f.id })), 650);
  };
  const reportPanel = async (tab) => {
    if (!reports) {
      const mod = await import('./report.js');
      reports = new mod.ReportPanel({ api, map: app.map });
      window.riskmapReports = reports; // for the browser tests
    }
    reports.toggle(tab);
  };
  // The published map as an image (PNG) of the view, drawn by the server.
  $('.report-actions').appendChild(imageLink(h('a.btn.btn-map-png', { download: '', dataset: { action: 'map-png' }, title: '当前视图范围的四色图（PNG）' }, '下载地图图片'),
    () => mapImageURL(app, '/public')));
  $('#btn-report').addEventListener('click', () => reportPanel('new'));
  $('#btn-track').addEventListener('click', () => reportPanel('track'));
  if (/^#report/.test(location.hash)) reportPanel('new');
  app.locate = addLocate(app.map, api, { cityP: app.regionsP, onPick: showUnit });
  app.shelters = addShelters(app, api, { onOpen: () => app.locate.close() });
  window.riskmapShelters = app.shelters; // for the browser tests
  $('#search-slot').appendChild(
    searchBox(api, {
      places: regionPlaces(app.regionsP, levelLabel),
      onPlace: (place) => flyToPlace(app.map, place),
      placeholder: '搜索地点、公开名称或编号',
      describe: (f) => [f.properties.public_label || f.properties.code, `${f.properties.public_label ? f.properties.code + ' · ' : ''}${f.properties.category_label || ''} · ${f.properties.region_name || ''}`],
      onPick: showUnit,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  toast(`页面初始化失败：${e.message}`, 'error', 10000);
});
