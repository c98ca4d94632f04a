// What both pages know of protective targets (防护目标) and emergency shelters (应急避难场所):
// their kinds in Chinese, how they are drawn, and how distances and areas are written.
import L from './leaflet.js';
import { h } from './dom.js';

/** TARGET_KINDS are the protective target kinds (riskmap.TargetKinds), in display order. */
export const TARGET_KINDS = { school: '学校', kindergarten: '幼儿园', hospital: '医院', care_home: '养老院', crowded_place: '人员密集场所' };

/** SHELTER_KINDS are the shelter kinds (riskmap.ShelterKinds), from the smallest. */
export const SHELTER_KINDS = { emergency: '紧急避难场所', fixed: '固定避难场所', central: '中心避难场所' };

/**
 * COVERAGE_CLASSES colour the shelter coverage map by shortfall. They are not the grade
 * colours (红橙黄蓝 mean risk grades everywhere else): greens and purples.
 */
export const COVERAGE_CLASSES = [
  { code: 'ok', colour: '#2ca25f', label: '达标', hint: '人均有效避难面积不低于要求' },
  { code: 'short', colour: '#9e9ac8', label: '不足', hint: '低于要求，但不低于要求的一半' },
  { code: 'severe', colour: '#54278f', label: '严重不足', hint: '低于要求的一半' },
  { code: 'no_data', colour: '#cccccc', label: '无人口数据', hint: '该区域没有常住人口数据' },
];

export const TARGET_COLOUR = '#6a3d9a';
export const SHELTER_COLOUR = '#1b7837';
export const SHELTER_FILL = '#5aae61';

/** fmtMetres writes a distance in metres: 80 米, 1,250 米, 12.3 公里; 0 as 0 米. */
export function fmtMetres(m) {
  if (m == null || !Number.isFinite(Number(m))) return '—';
  m = Number(m);
  if (m < 10) return `${m.toFixed(m < 1 && m > 0 ? 1 : 0)} 米`;
  if (m < 1000) return `${Math.round(m)} 米`;
  return `${(m / 1000).toFixed(m < 10000 ? 2 : 1)} 公里`;
}

/** fmtArea writes an area: 850 平方米, 2.1 万平方米. */
export function fmtArea(m2) {
  if (m2 == null || !Number.isFinite(Number(m2))) return '—';
  m2 = Number(m2);
  if (m2 >= 10000) return `${(m2 / 10000).toFixed(m2 >= 100000 ? 1 : 2)} 万平方米`;
  return `${Math.round(m2).toLocaleString('zh-CN')} 平方米`;
}

/** shelterKind is a shelter's kind in Chinese (the server's label first). */
export function shelterKind(p) {
  return p.kind_label || SHELTER_KINDS[p.kind] || p.kind || '—';
}

/** targetKind is a protective target's kind in Chinese. */
export function targetKind(p) {
  return p.kind_label || TARGET_KINDS[p.kind] || p.kind || '—';
}

/** shelterRows are a shelter's public fields as key–value rows (dl.kv-list children). */
export function shelterRows(p) {
  const kv = (k, v) => h('div.kv', h('dt', k), h('dd', v == null || v === '' ? '—' : v));
  return [
    kv('类型', shelterKind(p)),
    kv('容纳人数', p.capacity != null ? `${Number(p.capacity).toLocaleString('zh-CN')} 人` : ''),
    kv('有效避难面积', p.effective_area_m2 != null ? fmtArea(p.effective_area_m2) : ''),
    kv('服务半径', p.service_radius_m != null ? fmtMetres(p.service_radius_m) : ''),
    p.footprint_area_m2 ? kv('占地面积', fmtArea(p.footprint_area_m2)) : null,
    kv('地址', p.address),
    kv('所在区域', p.region_name || p.region_code),
  ];
}

/** shelterCard is the popup of a shelter: its name and public fields. */
export function shelterCard(f) {
  const p = f.properties || {};
  return h('div.public-card.shelter-card', { dataset: { id: f.id ?? p.id } },
    h('div.public-card-head', h('span.shelter-badge', { dataset: { kind: p.kind || '' } }, shelterKind(p))),
    h('div.public-card-title', p.name || '应急避难场所'),
    h('dl.kv-list', shelterRows(p)));
}

/**
 * shelterLayer draws shelters (a FeatureCollection) in pane: points as green squares-ish
 * circles, areas green. onClick(feature, latlng) is called on a click.
 */
export function shelterLayer(fc, { pane, onClick, interactive = true } = {}) {
  return L.geoJSON(fc, {
    pane,
    interactive,
    style: () => ({ pane, color: SHELTER_COLOUR, weight: 2, fillColor: SHELTER_FILL, fillOpacity: 0.35, className: 'shelter-shape' }),
    pointToLayer: (f, ll) => L.circleMarker(ll, { pane, radius: 7, color: '#ffffff', weight: 2, fillColor: SHELTER_COLOUR, fillOpacity: 1, className: 'shelter-shape' }),
    onEachFeature: (f, layer) => {
      layer.feature = f;
      layer.on('add', () => {
        const el = layer.getElement && layer.getElement();
        if (el) {
          el.dataset.shelter = String(f.id ?? f.properties.id);
          el.dataset.kind = f.properties.kind || '';
        }
      });
      if (onClick) layer.on('click', (e) => {
        L.DomEvent.stop(e);
        onClick(f, e.latlng);
      });
    },
  });
}
