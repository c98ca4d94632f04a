// The spatial analyses on the internal map: the layers 防护目标, 避难场所, 安全距离冲突 (a
// line from each hazardous unit to each protective target inside its influence range) and
// 避难场所覆盖 (districts or streets coloured by their shelter shortfall, with a legend), and
// the selected unit's influence range — a true ground-distance buffer of its point, line or
// area (@turf/buffer, loaded when first needed) — with its own conflict lines and the
// details' 安全距离冲突 section. Every value from the server goes in as text.
import L from '../lib/leaflet.js';
import { h, replace, debounce, fmtNumber } from '../lib/dom.js';
import { badge } from '../lib/grades.js';
import { COVERAGE_CLASSES, TARGET_COLOUR, fmtMetres, fmtArea, targetKind, shelterLayer } from '../lib/sites.js';

const PAGE = 1000; // the largest page asked for a view's sites or conflicts
const LINE = { color: '#d00000', weight: 2.5, opacity: 0.95, dashArray: '7 5' };
const BUFFER = { color: '#00a0bd', weight: 1.5, dashArray: '6 5', fillColor: '#00c2e0', fillOpacity: 0.08, interactive: false };

/** bboxOf is the bbox parameter of the map's view (a little larger). */
function bboxOf(map) {
  const b = map.getBounds().pad(0.1);
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(',');
}

/** lineLatLngs are a LineString's points as Leaflet latlngs. */
function lineLatLngs(g) {
  return ((g && g.coordinates) || []).map(([lon, lat]) => [lat, lon]);
}

/** conflictText is one sentence about a conflict: who threatens whom, how near. */
export function conflictText(c) {
  const u = c.unit || {};
  const t = c.target || {};
  return `${u.name || u.code || '风险单元'} 距${targetKind(t)}「${t.name || ''}」${fmtMetres(c.distance_m)}，影响半径 ${fmtMetres(c.influence_radius_m)}`;
}

/** flat reads a conflict from the API's object or the flattened GeoJSON properties. */
export function flatConflict(p) {
  if (p.unit) return p;
  return {
    unit: { id: p.unit_id, name: p.unit_name, code: p.unit_code, grade: p.grade, grade_label: p.grade_label },
    target: { id: p.target_id, name: p.target_name, kind: p.target_kind, kind_label: p.kind_label, people: p.people },
    distance_m: p.distance_m,
    influence_radius_m: p.influence_radius_m,
  };
}

export class AnalysisLayers {
  /**
   * app is the map application (mapbase.js); onUnit(id) shows a unit, onSite(kind, feature)
   * a protective target ('protective-targets') or shelter ('shelters').
   */
  constructor({ api, app, onUnit, onSite }) {
    Object.assign(this, { api, app, onUnit, onSite });
    const map = (this.map = app.map);
    // The conflict lines lie under the units (420), so that a click on a unit at a line's end
    // picks the unit; the sites lie above them.
    for (const [pane, z] of [['coverage', 405], ['conflicts', 418], ['sites', 432]]) {
      if (!map.getPane(pane)) map.createPane(pane).style.zIndex = z;
    }
    this.targets = L.layerGroup();
    this.shelters = L.layerGroup();
    this.conflicts = L.layerGroup();
    this.coverage = L.layerGroup();
    this.selection = L.layerGroup().addTo(map);
    this.coverageLevel = 'street';
    this.seq = {};
    const control = app.basemaps && app.basemaps.control;
    if (control) {
      control.addOverlay(this.targets, '防护目标');
      control.addOverlay(this.shelters, '应急避难场所');
      control.addOverlay(this.conflicts, '安全距离冲突');
      control.addOverlay(this.coverage, '避难场所覆盖');
      const toggle = control.getContainer().querySelector('.leaflet-control-layers-toggle');
      if (toggle) {
        toggle.title = '底图与专题图层';
        toggle.setAttribute('aria-label', '底图与专题图层');
      }
    }
    map.on('overlayadd overlayremove', (e) => this.layerToggled(e.layer, e.type === 'overlayadd'));
    this.reload = debounce(() => this.loadVisible(), 250);
    map.on('moveend', this.reload);
    this.legend = L.control({ position: 'bottomright' });
    this.legend.onAdd = () => {
      const el = h('div.legend.coverage-legend.leaflet-bar', { 'aria-label': '避难场所覆盖图例' });
      L.DomEvent.disableClickPropagation(el);
      L.DomEvent.disableScrollPropagation(el);
      this.legendEl = el;
      this.renderLegend();
      return el;
    };
    window.riskmapAnalysis = this; // for the browser tests
  }

  /** show turns a layer on or off by name: targets, shelters, conflicts, coverage. */
  show(name, on = true) {
    const layer = this[name];
    if (!layer) return;
    // The layers control hears of it (its overlayadd / overlayremove call layerToggled).
    if (on && !this.map.hasLayer(layer)) layer.addTo(this.map);
    if (!on && this.map.hasLayer(layer)) layer.remove();
  }

  /**
   * sideSection is the sidebar's 空间分析: the four layers as checkboxes (the same as the
   * layers control's) and the buttons that open the panel's tabs (open(tab)).
   */
  sideSection(open) {
    const names = [['targets', '防护目标'], ['shelters', '应急避难场所'], ['conflicts', '安全距离冲突'], ['coverage', '避难场所覆盖']];
    this.boxes = {};
    const boxes = names.map(([n, label]) => {
      const box = h(`input#layer-${n}`, { type: 'checkbox', checked: this.map.hasLayer(this[n]), onchange: () => this.show(n, box.checked) });
      this.boxes[n] = box;
      return h('label.check.layer-check', { dataset: { layer: n } }, box, label);
    });
    return h('section.side-section.side-analysis',
      h('h2', '空间分析'),
      h('div.layer-checks', boxes),
      h('div.analysis-links',
        h('button.btn.btn-small', { type: 'button', dataset: { action: 'open-conflicts' }, onclick: () => open('conflicts') }, '冲突清单'),
        h('button.btn.btn-small', { type: 'button', dataset: { action: 'open-targets' }, onclick: () => open('protective-targets') }, '防护目标'),
        h('button.btn.btn-small', { type: 'button', dataset: { action: 'open-shelters' }, onclick: () => open('shelters') }, '避难场所')),
      h('p.hint', '选中易燃易爆、有毒有害类单元时，地图显示其影响范围（按实地距离）和范围内防护目标的连线。'));
  }

  layerToggled(layer, on) {
    const name = ['targets', 'shelters', 'conflicts', 'coverage'].find((n) => this[n] === layer);
    if (!name) return;
    if (this.boxes && this.boxes[name]) this.boxes[name].checked = on;
    document.body.dataset[`layer${name[0].toUpperCase()}${name.slice(1)}`] = on ? '1' : '';
    if (name === 'coverage') {
      if (on) {
        this.legend.addTo(this.map);
        this.loadCoverage();
      } else {
        this.legend.remove();
      }
      return;
    }
    if (on) this.load(name);
  }

  loadVisible() {
    for (const n of ['targets', 'shelters', 'conflicts']) if (this.map.hasLayer(this[n])) this.load(n);
  }

  /** refresh reloads whatever is shown after a unit, target or shelter was written. */
  refresh() {
    this.loadVisible();
    if (this.map.hasLayer(this.coverage)) this.loadCoverage();
  }

  async load(name) {
    const seq = (this.seq[name] = (this.seq[name] || 0) + 1);
    const bbox = bboxOf(this.map);
    let fc;
    try {
      if (name === 'conflicts') fc = await this.api.conflicts({ f: 'geojson', bbox, limit: PAGE });
      else fc = await this.api.sites(name === 'targets' ? 'protective-targets' : 'shelters', { bbox, limit: PAGE });
    } catch (e) {
      if (seq === this.seq[name]) this[name].clearLayers();
      return;
    }
    if (seq !== this.seq[name]) return;
    const group = this[name];
    group.clearLayers();
    if (name === 'conflicts') this.drawConflicts(group, (fc.features || []).map((f) => ({ ...flatConflict(f.properties || {}), line: f.geometry })), 'conflicts');
    else if (name === 'targets') this.drawTargets(group, fc);
    else group.addLayer(shelterLayer(fc, { pane: 'sites', onClick: (f) => this.onSite('shelters', f) }));
    group.loaded = (fc.features || []).length;
    this.map.getContainer().dataset[`${name}Loaded`] = String(group.loaded);
  }

  drawTargets(group, fc) {
    group.addLayer(L.geoJSON(fc, {
      pane: 'sites',
      style: () => ({ pane: 'sites', color: TARGET_COLOUR, weight: 2, fillColor: TARGET_COLOUR, fillOpacity: 0.25, className: 'target-shape' }),
      pointToLayer: (f, ll) => L.circleMarker(ll, { pane: 'sites', radius: 6, color: '#ffffff', weight: 2, fillColor: TARGET_COLOUR, fillOpacity: 1, className: 'target-shape' }),
      onEachFeature: (f, layer) => {
        layer.on('add', () => {
          const el = layer.getElement && layer.getElement();
          if (el) el.dataset.target = String(f.id ?? f.properties.id);
        });
        layer.bindTooltip(`${targetKind(f.properties)}：${f.properties.name || ''}`, { direction: 'top' });
        layer.on('click', (e) => {
          L.DomEvent.stop(e);
          this.onSite('protective-targets', f);
        });
      },
    }));
  }

  /** drawConflicts adds a dashed line per conflict (pane conflicts, or highlight for a selection). */
  drawConflicts(group, conflicts, pane) {
    for (const c of conflicts) {
      const lls = lineLatLngs(c.line);
      if (lls.length < 2) continue;
      // The selection's own lines are listed in its details: they never catch a click.
      const own = pane === 'highlight';
      const line = L.polyline(lls, { ...LINE, pane, className: 'conflict-line', interactive: !own });
      line.on('add', () => {
        const el = line.getElement();
        if (!el) return;
        el.dataset.unit = String(c.unit.id);
        el.dataset.target = String(c.target.id);
      });
      if (!own) line.bindPopup(() => h('div.conflict-popup',
        h('div.public-card-head', badge(c.unit.grade, true)),
        h('p', conflictText(c)),
        c.target.people != null ? h('p.muted', `${targetKind(c.target)}人数 ${fmtNumber(c.target.people)} 人`) : null,
        h('button.btn.btn-small', { type: 'button', onclick: () => this.onUnit(c.unit.id) }, '查看风险单元')), { maxWidth: 300 });
      group.addLayer(line);
    }
  }

  // ---- the selected unit ----

  clearSelection() {
    this.selSeq = (this.selSeq || 0) + 1;
    this.selection.clearLayers();
    delete this.map.getContainer().dataset.selectionConflicts;
  }

  /**
   * selectUnit draws the unit's influence range and its conflict lines, and returns the
   * details' 安全距离冲突 section, which fills in when the answer comes.
   */
  selectUnit(feature, { onTarget } = {}) {
    this.clearSelection();
    const seq = this.selSeq;
    const body = h('div.conflict-body', h('p.muted', '正在分析…'));
    const section = h('section.unit-conflicts', { dataset: { state: 'loading' } }, h('h3', '安全距离冲突'), body);
    (async () => {
      let res;
      try {
        res = await this.api.unitConflicts(feature.id);
      } catch (e) {
        // Without the analysis (an older server), the range still shows from the unit's radius.
        res = { hazardous: null, influence_radius_m: feature.properties.influence_radius_m || 0, radius_source: 'unit', conflicts: null, error: e };
      }
      if (seq !== this.selSeq) return;
      const radius = Number(res.influence_radius_m) || 0;
      if (radius > 0 && feature.geometry) await this.drawBuffer(feature, radius, seq);
      if (seq !== this.selSeq) return;
      const conflicts = res.conflicts || [];
      this.drawConflicts(this.selection, conflicts, 'highlight');
      for (const c of conflicts) this.targetMark(c);
      this.map.getContainer().dataset.selectionConflicts = String(conflicts.length);
      section.dataset.state = 'done';
      section.dataset.count = String(conflicts.length);
      replace(body, ...this.conflictSection(res, radius, conflicts, onTarget));
    })();
    return section;
  }

  /** drawServiceArea draws a shelter's service radius as a ground-distance buffer (the selection). */
  drawServiceArea(feature, radius) {
    this.clearSelection();
    if (radius > 0 && feature.geometry) {
      this.drawBuffer(feature, radius, this.selSeq, { ...BUFFER, color: '#1b7837', fillColor: '#5aae61', className: 'service-buffer' });
    }
  }

  async drawBuffer(feature, radius, seq, style = { ...BUFFER, className: 'influence-buffer' }) {
    let buffer;
    try {
      ({ default: buffer } = await import('@turf/buffer'));
    } catch {
      return;
    }
    if (seq !== this.selSeq) return;
    let area;
    try {
      area = buffer({ type: 'Feature', properties: {}, geometry: feature.geometry }, radius, { units: 'meters', steps: 32 });
    } catch {
      return;
    }
    if (!area) return;
    L.geoJSON(area, { pane: 'highlight', style: () => ({ ...style, pane: 'highlight' }) }).addTo(this.selection);
  }

  targetMark(c) {
    const lls = lineLatLngs(c.line);
    if (!lls.length) return;
    L.circleMarker(lls[lls.length - 1], { pane: 'highlight', radius: 7, color: '#d00000', weight: 2, fillColor: TARGET_COLOUR, fillOpacity: 1, interactive: false, className: 'conflict-target' }).addTo(this.selection);
  }

  conflictSection(res, radius, conflicts, onTarget) {
    const src = { unit: '单元填报', default: '行业默认值' }[res.radius_source] || '';
    const head = radius > 0 ? h('p.conflict-radius', `影响半径 ${fmtMetres(radius)}${src ? `（${src}）` : ''}，地图上以青色虚线范围表示（按实地距离计算）。`) : null;
    if (res.conflicts == null) return [head, h('p.muted', '暂时无法取得安全距离分析结果。')];
    if (res.hazardous === false) return [head, h('p.muted', '该行业领域不属于易燃易爆、有毒有害类别，不做安全距离分析。')];
    if (!(radius > 0)) return [h('p.muted', '该单元没有影响半径，行业也无默认值，无法分析安全距离。')];
    if (!conflicts.length) return [head, h('p.conflict-none', '影响范围内没有学校、医院等防护目标。')];
    return [
      head,
      h('p.conflict-count', `影响范围内有 ${conflicts.length} 个防护目标，共 ${fmtNumber(conflicts.reduce((n, c) => n + (Number(c.target.people) || 0), 0))} 人：`),
      h('table.admin-table.conflict-table',
        h('thead', h('tr', ['防护目标', '类型', '人数', '距离'].map((t) => h('th', t)))),
        h('tbody', conflicts.map((c) => h('tr', { dataset: { target: c.target.id }, tabindex: 0, onclick: () => onTarget && onTarget(c), onkeydown: (e) => e.key === 'Enter' && onTarget && onTarget(c) },
          h('td', { dataset: { label: '防护目标' } }, c.target.name || ''),
          h('td', { dataset: { label: '类型' } }, targetKind(c.target)),
          h('td.num', { dataset: { label: '人数' } }, fmtNumber(c.target.people)),
          h('td.num', { dataset: { label: '距离' } }, fmtMetres(c.distance_m)))))),
    ];
  }

  // ---- the shelter coverage map ----

  async loadCoverage() {
    const seq = (this.seq.coverage = (this.seq.coverage || 0) + 1);
    let fc;
    try {
      fc = await this.api.shelterCoverage(this.coverageLevel);
    } catch (e) {
      if (seq === this.seq.coverage) {
        this.coverage.clearLayers();
        this.coverageError = e.message;
        this.renderLegend();
      }
      return;
    }
    if (seq !== this.seq.coverage) return;
    this.coverageError = null;
    this.coverage.clearLayers();
    const colour = (cls) => (COVERAGE_CLASSES.find((c) => c.code === cls) || COVERAGE_CLASSES[3]).colour;
    this.coverage.addLayer(L.geoJSON(fc, {
      pane: 'coverage',
      style: (f) => ({ pane: 'coverage', color: '#ffffff', weight: 1.5, fillColor: colour(f.properties.class), fillOpacity: 0.55, className: `coverage-area coverage-${f.properties.class || 'no_data'}` }),
      onEachFeature: (f, layer) => {
        layer.on('add', () => {
          const el = layer.getElement && layer.getElement();
          if (el) {
            el.dataset.code = f.properties.code || '';
            el.dataset.class = f.properties.class || '';
          }
        });
        layer.bindPopup(() => coverageCard(f.properties), { maxWidth: 320 });
      },
    }));
    const req = (fc.features || []).map((f) => f.properties.required_per_capita_m2).find((x) => x != null);
    if (req != null) this.required = req;
    this.coverageCounts = {};
    for (const f of fc.features || []) this.coverageCounts[f.properties.class] = (this.coverageCounts[f.properties.class] || 0) + 1;
    this.renderLegend();
  }

  setCoverageLevel(level) {
    this.coverageLevel = level;
    this.renderLegend();
    this.loadCoverage();
  }

  renderLegend() {
    if (!this.legendEl) return;
    const counts = this.coverageCounts || {};
    replace(this.legendEl,
      h('div.legend-title.coverage-title', '避难场所覆盖'),
      h('div.coverage-levels', { role: 'radiogroup', 'aria-label': '区域层级' },
        [['district', '区县'], ['street', '街道']].map(([code, label]) => h('button', {
          type: 'button', role: 'radio', class: code === this.coverageLevel ? 'active' : null, 'aria-checked': String(code === this.coverageLevel),
          dataset: { level: code }, onclick: () => this.setCoverageLevel(code),
        }, label))),
      h('div.legend-sub', `人均有效避难面积与 ${this.required ?? 1.5} 平方米的要求相比`),
      COVERAGE_CLASSES.map((c) => h('div.legend-row', { dataset: { class: c.code }, title: c.hint },
        h('span.swatch.swatch-box', { style: { background: c.colour, borderColor: c.colour } }),
        h('span.legend-label', c.label),
        h('span.legend-count', counts[c.code] != null ? fmtNumber(counts[c.code]) : '0'))),
      this.coverageError ? h('div.legend-note', `加载失败：${this.coverageError}`) : h('div.legend-note', '点击区域查看人口、面积与覆盖比例'));
  }
}

/** coverageCard is a region's coverage popup: the explanation and the figures. */
export function coverageCard(p) {
  const cls = COVERAGE_CLASSES.find((c) => c.code === p.class) || COVERAGE_CLASSES[3];
  const pct = (x) => (x == null ? '—' : `${Math.round(Number(x) * 100)}%`);
  const kv = (k, v) => h('div.kv', h('dt', k), h('dd', v == null || v === '' ? '—' : v));
  return h('div.coverage-card', { dataset: { code: p.code || '', class: p.class || '' } },
    h('div.public-card-head', h('strong', p.name || ''), ' ', h('span.coverage-badge', { style: { background: cls.colour }, dataset: { class: cls.code } }, cls.label)),
    p.explanation ? h('p.coverage-explanation', p.explanation) : null,
    h('dl.kv-list',
      kv('常住人口', p.population != null ? `${fmtNumber(p.population)} 人` : ''),
      kv('避难场所', p.shelters != null ? `${fmtNumber(p.shelters)} 处` : ''),
      kv('有效避难面积', fmtArea(p.effective_area_m2)),
      kv('人均', p.per_capita_m2 != null ? `${Number(p.per_capita_m2).toFixed(2)} 平方米（要求 ${p.required_per_capita_m2 ?? 1.5} 平方米）` : ''),
      p.shortfall_m2 > 0 ? kv('缺口', fmtArea(p.shortfall_m2)) : null,
      kv('服务半径内人口', pct(p.covered_population_share)),
      kv('服务半径内面积', pct(p.covered_area_share))));
}
