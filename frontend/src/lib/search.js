// Search by name or register code: suggestions from GET /units?q=, and choosing one flies
// the map to the unit. Places (regions by name) come first where the page offers them.
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
export function searchBox(api, { placeholder = '搜索单元名称或编号', describe, onPick, getFilters, places, onPlace }) {
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
  const pick = (item) => {
    close();
    if (item.place) onPlace(item.place);
    else onPick(item);
  };
  const run = debounce(async () => {
    const q = input.value.trim();
    const my = ++seq;
    if (!q) {
      close();
      return;
    }
    let fc;
    let found = [];
    try {
      [fc, found] = await Promise.all([api.units({ q, limit: 10, ...(getFilters ? getFilters() : {}) }), places ? places(q) : []]);
    } catch (e) {
      if (my === seq) {
        replace(list, h('li.search-empty', e.message));
        list.hidden = false;
      }
      return;
    }
    if (my !== seq) return;
    items = [...found.slice(0, 5).map((place) => ({ place })), ...fc.features];
    active = -1;
    if (!items.length) {
      replace(list, h('li.search-empty', places ? '没有找到匹配的地点或风险单元' : '没有找到匹配的风险单元'));
    } else {
      replace(
        list,
        items.map((f, i) => {
          const choose = { role: 'option', dataset: { index: i }, onmousedown: (e) => { e.preventDefault(); pick(f); } };
          if (f.place) {
            choose.dataset.place = f.place.code;
            return h('li.search-item.search-place', choose, h('span.search-kind', '地点'),
              h('span.search-text', h('span.search-main', f.place.name), h('span.search-sub', f.place.sub)));
          }
          const [main, sub] = describe(f);
          choose.dataset.id = f.id;
          return h('li.search-item', choose, badge(f.properties.grade),
            h('span.search-text', h('span.search-main', main), h('span.search-sub', sub)));
        }),
        fc.numberMatched > fc.features.length ? h('li.search-more', `共 ${fc.numberMatched} 个风险单元，显示前 ${fc.features.length} 个`) : null,
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

/**
 * regionPlaces searches the regions of regionsP (by level, as mapbase loads them) by name:
 * the places of a search, each with its level and the name of the region above it.
 */
export function regionPlaces(regionsP, levelLabel) {
  // The places are listed once, when the regions arrive; each search only filters them.
  const placesP = regionsP.then((r) => {
    const all = Object.entries(r).flatMap(([level, fc]) => fc.features.map((f) => ({ level, f })));
    const names = new Map(all.map(({ f }) => [f.properties.code, f.properties.name]));
    const parent = (code) => names.get(code.length > 9 ? code.slice(0, 9) : code.slice(0, 6)) || '';
    return all.filter(({ f }) => f.properties.name).map(({ level, f }) => ({
      code: f.properties.code,
      name: f.properties.name,
      geometry: f.geometry,
      sub: [levelLabel(level), f.properties.code.length > 6 ? parent(f.properties.code) : ''].filter(Boolean).join(' · '),
    }));
  });
  return async (q) => (await placesP).filter((p) => p.name.includes(q));
}

/** flyToPlace shows a place (a region) whole. */
export function flyToPlace(map, place) {
  const b = featureBounds(place.geometry);
  if (b.isValid()) map.flyToBounds(b, { padding: [30, 30], duration: 0.6 });
}
