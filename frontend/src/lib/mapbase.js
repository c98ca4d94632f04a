// What the internal application and the public map share: the map with its basemaps, the
// unit and regional four-colour layers, the legend, the mode switch and the regions list.
import L from './leaflet.js';
import { $, $$, h } from './dom.js';
import { setGrading, GRADE_CODES } from './grades.js';
import { addBasemaps } from './basemaps.js';
import { UnitLayer } from './unitlayer.js';
import { RegionLayer, RegionLabels, LEVELS, levelLabel } from './regionlayer.js';
import { Legend } from './legend.js';

// The demo city, until the regions arrive: a sensible first view for a deployment too.
const FALLBACK_VIEW = { center: [24.67, 102.92], zoom: 11 };

/**
 * createMapApp builds the map for api (an Api). onUnit(props, latlng) and onRegion(props,
 * latlng) are called when a unit or region is clicked. unitTiles and regionTiles, if given,
 * are promises of the tiles' URL templates (the public page's numbered publication, from
 * TileJSON; null for the default).
 */
export async function createMapApp(api, { onUnit, onRegion, onCluster, onMode, unitTiles = null, regionTiles = null } = {}) {
  const cfgP = api.uiConfig();
  const gradingP = api.grading().then((g) => (setGrading(g), g));
  const regionsP = Promise.all(['district', 'street', 'community'].map((l) => api.regions(l).catch(() => ({ type: 'FeatureCollection', features: [] })))).then(
    ([district, street, community]) => ({ district, street, community }),
  );

  const map = L.map('map', { zoomControl: false, preferCanvas: false, minZoom: 3, maxZoom: 20, attributionControl: true });
  map.attributionControl.setPrefix('riskmap · Leaflet');
  L.control.zoom({ position: 'topleft', zoomInTitle: '放大', zoomOutTitle: '缩小' }).addTo(map);
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  map.setView(FALLBACK_VIEW.center, FALLBACK_VIEW.zoom);
  map.createPane('highlight').style.zIndex = 450;

  // The first view is the city's extent: wait for it (a small request) before asking for
  // tiles, so that no tile is fetched for a view that is about to change.
  const [cfg, grading, regionsFirst, template, regionTemplate] = await Promise.all([cfgP, gradingP, regionsP, unitTiles, regionTiles]);
  const d = regionsFirst.district.features;
  if (d.length) {
    const b = L.geoJSON({ type: 'FeatureCollection', features: d }).getBounds();
    if (b.isValid()) map.fitBounds(b, { padding: [10, 10], animate: false });
    const name = d.length === 1 ? d[0].properties.name : '';
    if (name) {
      const c = $('#city');
      if (c) c.textContent = `${name} · ${c.textContent}`;
      document.title = `${name} · ${document.title}`;
    }
  }
  let started = false; // the first screen of unit tiles has been drawn
  const state = { mode: 'units', level: 'street', filters: { grades: [...GRADE_CODES], categories: null, region: '', empty: false } };
  const units = new UnitLayer(map, { base: api.base, template, onUnit, onCluster });
  // Further unit layers that follow the mode and the filters (a department's public layer).
  const overlays = [];
  const regions = new RegionLayer(map, { base: api.base, template: regionTemplate, onRegion });
  const basemaps = addBasemaps(map, { tiandituKey: cfg.tianditu_key || '', regionsPromise: regionsP, basemap: cfg.basemap || null });
  // Street and community names where they fit, over every basemap.
  const labels = new RegionLabels(map, regionsP);
  const legend = new Legend(map, api, () => state.filters);

  // The regional legend counts the regions of the shown level in view, by grade.
  let regionData = {};
  const levelData = (level) => {
    if (!regionData[level]) {
      regionData[level] = ['district', 'street', 'community'].includes(level) && !regionData.stale
        ? regionsP.then((r) => r[level])
        : api.regions(level);
    }
    return regionData[level];
  };
  legend.regionCounter = async (bounds) => {
    const fc = await levelData(state.level);
    const counts = { red: 0, orange: 0, yellow: 0, blue: 0 };
    for (const f of fc.features) {
      const g = f.properties.grade;
      if (!(g in counts) || !f.geometry) continue;
      if (!f._bounds) f._bounds = L.geoJSON(f.geometry).getBounds();
      if (bounds.intersects(f._bounds)) counts[g]++;
    }
    return counts;
  };

  function setMode(mode) {
    state.mode = mode;
    for (const b of $$('.modes [data-mode]')) {
      b.classList.toggle('active', b.dataset.mode === mode);
      b.setAttribute('aria-selected', String(b.dataset.mode === mode));
    }
    units.setVisible(mode === 'units');
    for (const o of overlays) o.setVisible(mode === 'units');
    regions.setVisible(mode === 'regions');
    document.body.dataset.mode = mode;
    legend.setMode(mode, levelLabel(state.level));
    levelControl.getContainer().hidden = mode !== 'regions';
    if (started) legend.count();
    if (onMode) onMode(mode);
  }

  // The level switch of the regional map, on the map itself so both pages have it.
  const levelControl = L.control({ position: 'topleft' });
  levelControl.onAdd = () => {
    const el = h(
      'div.level-switch.leaflet-bar',
      { role: 'radiogroup', 'aria-label': '区域层级' },
      h('div.level-title', '区域层级'),
      LEVELS.map((l) =>
        h('button', { type: 'button', role: 'radio', dataset: { level: l.code }, class: l.code === state.level ? 'active' : '', onclick: () => setLevel(l.code) }, l.label),
      ),
    );
    L.DomEvent.disableClickPropagation(el);
    return el;
  };
  levelControl.addTo(map);
  function setLevel(level) {
    state.level = level;
    regions.setLevel(level);
    for (const b of $$('.level-switch [data-level]')) {
      b.classList.toggle('active', b.dataset.level === level);
      b.setAttribute('aria-checked', String(b.dataset.level === level));
    }
    legend.setMode(state.mode, levelLabel(level));
    legend.count();
  }

  for (const b of $$('.modes [data-mode]')) b.addEventListener('click', () => setMode(b.dataset.mode));
  setMode('units');

  // Interactive: the map, its handlers and the first screen of unit tiles are in place. The
  // legend counts only then, leaving the browser's few connections to the tiles first.
  units.layer.once('load', () => {
    window.__riskmapInteractive = performance.now();
    document.body.dataset.ready = '1';
    started = true;
    legend.count();
  });

  return {
    map,
    cfg,
    grading,
    state,
    units,
    regions,
    legend,
    basemaps,
    labels,
    regionsP,
    setMode,
    setLevel,
    /** addOverlay adds a unit layer that shows with the unit map and takes its filters. */
    addOverlay(layer) {
      overlays.push(layer);
      layer.setFilters(state.filters);
      layer.setVisible(state.mode === 'units');
    },
    /** refreshData reloads the tiles and the regions' grades after a unit was saved. */
    refreshData() {
      units.refresh();
      regions.refresh();
      regionData = { stale: true };
      legend.count();
    },
    setFilters(f) {
      const next = { ...state.filters, ...f };
      if (JSON.stringify(next) === JSON.stringify(state.filters)) return;
      state.filters = next;
      units.setFilters(state.filters);
      for (const o of overlays) o.setFilters(state.filters);
      legend.render({});
      legend.count();
    },
  };
}

/** highlighter draws the selected unit on top of everything, with its influence range. */
export function highlighter(map) {
  let layer = null;
  return {
    show(feature, radius) {
      this.clear();
      layer = L.featureGroup();
      L.geoJSON(feature.geometry, {
        pane: 'highlight',
        interactive: false,
        style: { color: '#00c2e0', weight: 4, opacity: 1, fill: false },
        pointToLayer: (f, ll) => L.circleMarker(ll, { pane: 'highlight', radius: 11, color: '#00c2e0', weight: 3, fill: false, interactive: false }),
      }).addTo(layer);
      if (radius > 0) {
        const c = L.geoJSON(feature.geometry).getBounds().getCenter();
        L.circle(c, { radius, pane: 'highlight', interactive: false, color: '#00a0bd', weight: 1.5, dashArray: '6 5', fill: true, fillOpacity: 0.06 }).addTo(layer);
      }
      layer.addTo(map);
    },
    clear() {
      if (layer) layer.remove();
      layer = null;
    },
  };
}
