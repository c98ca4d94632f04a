// Search by name or register code: suggestions from GET /units?q=, and choosing one flies
// the map to the unit.
import L from './leaflet.js';
import { h, replace, debounce } from './dom.js';
import { badge } from './grades.js';

/** featureBounds is the Leaflet bounds of a GeoJSON geometry. */
export function featureBounds(geometry) {
  return L.geoJSON(geometry).getBounds();
}

/** flyToFeature zooms to a unit: points to zoom 17, others to fit. */
export function flyToFeature(map, feature) {
  const b = featureBounds(feature.geometry);
  if (!b.isValid()) return;
  if (feature.geometry.type === 'Point' || b.getNorthEast().equals(b.getSouthWest())) {
    map.flyTo(b.getCenter(), Math.max(map.getZoom(), 16), { duration: 0.6 });
  } else {
    map.flyToBounds(b, { maxZoom: 17, padding: [40, 40], duration: 0.6 });
  }
}

/**
 * searchBox returns the search field. describe(feature) gives the text lines of a result;
 * onPick(feature) is called with the chosen unit.
 */
export function searchBox(api, { placeholder = '搜索单元名称或编号', describe, onPick, getFilters }) {
  const input = h('input.search-input', { type: 'search', placeholder, 'aria-label': placeholder, autocomplete: 'off', maxlength: 100 });
  const list = h('ul.search-results', { role: 'listbox', hidden: true });
  const box = h('div.search', input, list);
  let seq = 0;
  let items = [];
  let active = -1;
  const close = () => {
    list.hidden = true;
    active = -1;
  };
  const pick = (f) => {
    close();
    onPick(f);
  };
  const run = debounce(async () => {
    const q = input.value.trim();
    const my = ++seq;
    if (!q) {
      close();
      return;
    }
    let fc;
    try {
      fc = await api.units({ q, limit: 10, ...(getFilters ? getFilters() : {}) });
    } catch (e) {
      if (my === seq) {
        replace(list, h('li.search-empty', e.message));
        list.hidden = false;
      }
      return;
    }
    if (my !== seq) return;
    items = fc.features;
    active = -1;
    if (!items.length) {
      replace(list, h('li.search-empty', '没有找到匹配的风险单元'));
    } else {
      replace(
        list,
        items.map((f, i) => {
          const [main, sub] = describe(f);
          return h(
            'li.search-item',
            { role: 'option', dataset: { id: f.id, index: i }, onmousedown: (e) => { e.preventDefault(); pick(f); } },
            badge(f.properties.grade),
            h('span.search-text', h('span.search-main', main), h('span.search-sub', sub)),
          );
        }),
        fc.numberMatched > items.length ? h('li.search-more', `共 ${fc.numberMatched} 条，显示前 ${items.length} 条`) : null,
      );
    }
    list.hidden = false;
  }, 220);
  input.addEventListener('input', run);
  input.addEventListener('focus', () => input.value.trim() && run());
  input.addEventListener('blur', () => setTimeout(close, 150));
  input.addEventListener('keydown', (e) => {
    const els = [...list.querySelectorAll('.search-item')];
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!els.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : els.length - 1)) % els.length;
      els.forEach((el, i) => el.classList.toggle('active', i === active));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (items.length) pick(items[Math.max(active, 0)]);
    } else if (e.key === 'Escape') close();
  });
  return box;
}
