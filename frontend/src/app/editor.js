// Expert entry (信息录入): create and edit a risk identification unit. The location is drawn
// on the map (leaflet-geoman) or typed as coordinates in WGS84/CGCS2000, GCJ-02 or BD-09,
// converted to WGS 84 on input. The grade is never typed: it is previewed live from
// POST /api/v1/grading/evaluate and computed by the server on save. Loaded on first use, so
// that the map does not wait for it.
import L from '../lib/leaflet.js';
import '@geoman-io/leaflet-geoman-free';
import '@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css';
import { h, replace, debounce, toast } from '../lib/dom.js';
import { badge, grade } from '../lib/grades.js';
import { INPUT_CRS, toWgs84, fromWgs84 } from '../lib/coords.js';
import { polygonLabelPoint, pointInGeometry } from '../lib/basemaps.js';
import { CONTROL_GROUPS, HAZARD_LEVELS, STATUS, FIELD_LABELS, GEOM_LABELS, chinaDay } from '../lib/labels.js';
import { ApiError } from '../lib/api.js';
import { missingItems, lowered } from './details.js';

// The unit being drawn or edited lies in its own pane above the dense unit tiles (420) and
// the selection's highlight (450), below geoman's vertex handles (the marker pane, 600).
const EDIT_PANE = 'editing';
const EDIT_STYLE = { color: '#0a84ff', weight: 3, fillColor: '#0a84ff', fillOpacity: 0.15, pane: EDIT_PANE };
const POINT_STYLE = { radius: 8, color: '#0a84ff', weight: 3, fillColor: '#ffffff', fillOpacity: 0.9, pane: EDIT_PANE };

/** geometryPoints are up to max vertices of a GeoJSON geometry, spread over it. */
export function geometryPoints(g, max = 200) {
  const out = [];
  const walk = (c) => (typeof c[0] === 'number' ? out.push(c) : c.forEach(walk));
  if (g && g.coordinates) walk(g.coordinates);
  if (out.length <= max) return out;
  const step = out.length / max;
  return Array.from({ length: max }, (_, i) => out[Math.floor(i * step)]);
}

/** parseCoordinates reads "lon, lat" pairs, one per line (or separated by ";"). */
export function parseCoordinates(text) {
  const pts = [];
  const parts = text.split(/[\n;；]+/).map((s) => s.trim()).filter(Boolean);
  for (const [i, part] of parts.entries()) {
    const nums = part.split(/[\s,，]+/).filter(Boolean).map(Number);
    if (nums.length !== 2 || nums.some((n) => !Number.isFinite(n))) throw new Error(`第 ${i + 1} 行应为“经度, 纬度”两个数：${part}`);
    const [lon, lat] = nums;
    if (lon < -180 || lon > 180 || lat < -90 || lat > 90) throw new Error(`第 ${i + 1} 行超出经纬度范围（经度 -180…180，纬度 -90…90）：${part}`);
    pts.push([lon, lat]);
  }
  return pts;
}

/** representativePoint is a point of a geometry to find the region it lies in. */
export function representativePoint(g) {
  switch (g.type) {
    case 'Point':
      return g.coordinates;
    case 'MultiPoint':
      return g.coordinates[0];
    case 'LineString':
      return g.coordinates[Math.floor(g.coordinates.length / 2)];
    case 'MultiLineString':
      return g.coordinates[0][Math.floor(g.coordinates[0].length / 2)];
    default:
      return polygonLabelPoint(g);
  }
}

export class Editor {
  constructor({ api, app, catalog, regionsP, drawer, onSaved, onClosed, user }) {
    Object.assign(this, { api, app, catalog, regionsP, drawer, onSaved, onClosed, user });
    this.map = app.map;
    this.active = false;
    this.layer = null;
    this.crs = 'WGS84';
    // The map was made before geoman loaded, so its init hook did not run for it.
    if (!this.map.pm) this.map.pm = new L.PM.Map(this.map);
    if (!this.map.getPane(EDIT_PANE)) this.map.createPane(EDIT_PANE).style.zIndex = 590;
    // geoman's Chinese calls the point tool a "circle marker" (圆形标记); a unit's point is a 点位.
    this.map.pm.setLang('zh', { tooltips: { placeCircleMarker: '点击地图放置点位' } }, 'zh');
    this.map.pm.setGlobalOptions({ pathOptions: EDIT_STYLE, templineStyle: { color: '#0a84ff' }, hintlineStyle: { color: '#0a84ff', dashArray: [5, 5] }, snappable: false, allowSelfIntersection: false });
    // A vertex placed outside the city or the user's regions is flagged while drawing.
    this.map.on('pm:drawstart', ({ workingLayer }) => {
      if (!workingLayer) return;
      workingLayer.on('pm:vertexadded', (e) => this.active && e.latlng && this.checkPlace({ type: 'Point', coordinates: [e.latlng.lng, e.latlng.lat] }, true));
    });
    this.map.on('pm:create', (e) => {
      if (!this.active) {
        e.layer.remove();
        return;
      }
      this.setLayer(e.layer, true);
      this.dirty = true;
    });
    this.preview = debounce(() => this.evaluate(), 200);
  }

  // ---- opening and closing ----

  open(feature, etag) {
    this.active = true;
    this.dirty = false;
    this.feature = feature;
    this.etag = etag;
    this.id = feature ? feature.id : null;
    this.regionTouched = !!feature;
    this.deptTouched = !!feature;
    this.app.units.layer.options.interactive = false;
    document.body.classList.add('editing');
    this.review = null;
    this.build(feature ? feature.properties : {});
    if (this.id) {
      const id = this.id;
      this.api.review(id).then((r) => {
        if (this.active && this.id === id) {
          this.review = r;
          if (r.downgrade_reason && !this.els.downgrade.value) this.els.downgrade.value = r.downgrade_reason;
          this.updateDowngrade();
        }
      }).catch(() => {});
    }
    if (feature && feature.geometry) {
      const gj = L.geoJSON(feature.geometry, { style: EDIT_STYLE, pointToLayer: (f, ll) => L.circleMarker(ll, POINT_STYLE) });
      const layer = gj.getLayers()[0];
      gj.removeLayer(layer);
      this.setLayer(layer, false);
      const b = gj.getBounds && L.featureGroup([layer]).getBounds();
      if (b && b.isValid()) this.map.fitBounds(b, { maxZoom: 17, padding: [60, 60] });
    }
    this.evaluate();
  }

  /** close asks before dropping unsaved changes; it returns whether the form closed. */
  close(force = false) {
    if (!this.active) return true;
    if (!force && this.dirty && !window.confirm('放弃尚未保存的修改？')) return false;
    this.active = false;
    this.map.pm.disableDraw();
    if (this.layer) {
      if (this.layer.pm) this.layer.pm.disable();
      this.layer.remove();
    }
    this.layer = null;
    this.app.units.layer.options.interactive = true;
    document.body.classList.remove('editing');
    this.onClosed();
    return true;
  }

  // ---- geometry ----

  setLayer(layer, fromDrawing) {
    // Drawn or typed, the unit being edited lies in the editing pane, above the tiles.
    if (layer.options && layer.options.pane !== EDIT_PANE && layer.toGeoJSON) {
      const gj = L.geoJSON(layer.toGeoJSON(15).geometry, { ...EDIT_STYLE, pointToLayer: (f, ll) => L.circleMarker(ll, POINT_STYLE) });
      const moved = gj.getLayers()[0];
      gj.removeLayer(moved);
      layer.remove();
      layer = moved;
    }
    if (this.layer && this.layer !== layer) {
      if (this.layer.pm) this.layer.pm.disable();
      this.layer.remove();
    }
    this.layer = layer;
    if (layer instanceof L.CircleMarker) layer.setStyle(POINT_STYLE);
    else layer.setStyle(EDIT_STYLE);
    layer.addTo(this.map);
    if (layer.pm) layer.pm.enable({ allowSelfIntersection: false, draggable: true });
    const changed = () => {
      this.dirty = true;
      this.geometryChanged();
    };
    layer.on('pm:edit pm:dragend pm:markerdragend pm:vertexadded pm:vertexremoved', changed);
    this.geometryChanged();
    if (fromDrawing) this.clearError('geometry');
  }

  geometry() {
    if (!this.layer) return null;
    const g = this.layer.toGeoJSON(15).geometry;
    const round = (c) => (typeof c[0] === 'number' ? [Math.round(c[0] * 1e7) / 1e7, Math.round(c[1] * 1e7) / 1e7] : c.map(round));
    return { type: g.type, coordinates: round(g.coordinates) };
  }

  geometryChanged() {
    const g = this.geometry();
    this.els.geomInfo.textContent = g ? `已${GEOM_LABELS[g.type] ? '绘制' + GEOM_LABELS[g.type] : '设置位置'}` : '尚未设置位置';
    this.writeCoordinates();
    if (g && !this.regionTouched) this.detectRegion(g);
    this.checkPlace(g);
  }

  /**
   * checkPlace warns when a geometry lies outside the city (any vertex outside every
   * district) or, for a department user, when its representative point (the one the server
   * checks) lies outside the user's regions. A vertex being drawn only adds a warning.
   */
  async checkPlace(g, drawing = false) {
    const warn = this.els && this.els.geomWarn;
    if (!warn) return;
    const seq = (this.placeSeq = (this.placeSeq || 0) + (drawing ? 0 : 1));
    if (!g) {
      warn.hidden = true;
      this.placeProblem = null;
      return;
    }
    const r = await this.regionsP;
    if (seq !== this.placeSeq || !this.active) return;
    const districts = r.district.features.filter((f) => f.geometry);
    const inCity = (p) => districts.some((f) => pointInGeometry(p, f.geometry));
    let problem = null;
    const outside = districts.length ? geometryPoints(g).filter((p) => !inCity(p)) : [];
    if (outside.length) {
      const [lon, lat] = outside[0];
      problem = { kind: 'city', text: `位置超出本市范围：（${lon.toFixed(5)}, ${lat.toFixed(5)}）不在本市任何区县内，请检查坐标或坐标系。` };
    } else if (this.user && this.user.role === 'department') {
      const codes = this.user.regions || [];
      const mine = ['district', 'street', 'community'].flatMap((l) => r[l].features).filter((f) => f.geometry && codes.includes(f.properties.code));
      const p = g.type === 'Point' ? g.coordinates : representativePoint(g);
      if (mine.length && p && !mine.some((f) => pointInGeometry(p, f.geometry))) {
        problem = { kind: 'scope', text: `位置不在您管辖的区域（${mine.map((f) => f.properties.name).join('、')}）之内，保存时将被拒绝。` };
      }
    }
    if (drawing && !problem) return;
    this.placeProblem = problem;
    warn.textContent = problem ? problem.text : '';
    warn.dataset.kind = problem ? problem.kind : '';
    warn.hidden = !problem;
  }

  /** writeCoordinates shows the geometry's vertices in the chosen coordinate system. */
  writeCoordinates() {
    const g = this.geometry();
    const t = this.els.coords;
    if (!g) return;
    let pts;
    if (g.type === 'Point') pts = [g.coordinates];
    else if (g.type === 'LineString') pts = g.coordinates;
    else if (g.type === 'Polygon') pts = g.coordinates[0].slice(0, -1);
    else {
      t.value = '';
      t.placeholder = '多部件几何：请在地图上编辑';
      return;
    }
    this.els.geomType.value = g.type;
    t.value = pts.map((p) => fromWgs84(p, this.crs).map((v) => v.toFixed(6)).join(', ')).join('\n');
    this.els.converted.textContent = '';
  }

  /** applyCoordinates builds the geometry from the typed coordinates, converting them to WGS 84. */
  applyCoordinates() {
    let pts;
    try {
      pts = parseCoordinates(this.els.coords.value).map((p) => toWgs84(p, this.crs));
    } catch (e) {
      this.showFieldError('geometry', e.message);
      return;
    }
    const type = this.els.geomType.value;
    const need = { Point: 1, LineString: 2, Polygon: 3 }[type];
    if (pts.length < need || (type === 'Point' && pts.length !== 1)) {
      this.showFieldError('geometry', type === 'Point' ? '点需要恰好一对坐标' : `${GEOM_LABELS[type]}至少需要 ${need} 个顶点`);
      return;
    }
    this.clearError('geometry');
    const lls = pts.map(([lon, lat]) => L.latLng(lat, lon));
    const layer = type === 'Point' ? L.circleMarker(lls[0], POINT_STYLE) : type === 'LineString' ? L.polyline(lls, EDIT_STYLE) : L.polygon(lls, EDIT_STYLE);
    this.setLayer(layer, false);
    this.dirty = true;
    this.els.converted.textContent =
      this.crs === 'WGS84' ? '' : `已从 ${this.crs === 'GCJ02' ? 'GCJ-02' : 'BD-09'} 转换为 WGS84：` + pts.slice(0, 3).map((p) => p.map((v) => v.toFixed(6)).join(', ')).join('；') + (pts.length > 3 ? ' …' : '');
    const b = L.featureGroup([layer]).getBounds();
    if (type === 'Point') this.map.setView(b.getCenter(), Math.max(this.map.getZoom(), 15));
    else this.map.fitBounds(b, { maxZoom: 17, padding: [60, 60] });
  }

  draw(shape) {
    this.map.pm.disableDraw();
    this.map.pm.enableDraw(shape, shape === 'CircleMarker' ? { markerStyle: POINT_STYLE, pathOptions: POINT_STYLE } : { pathOptions: EDIT_STYLE });
  }

  async detectRegion(g) {
    const p = representativePoint(g);
    if (!p) return;
    const r = await this.regionsP;
    let found = false; // the place lies in a region the form does not offer
    for (const level of ['community', 'street', 'district']) {
      const hit = r[level].features.find((f) => f.geometry && pointInGeometry(p, f.geometry));
      // Only a region the form offers (a department's own, not greyed out) is chosen.
      const opt = hit && [...this.els.region.options].find((o) => o.value === hit.properties.code && !o.disabled);
      if (hit && !opt) {
        found = true;
        continue;
      }
      if (hit) {
        this.els.region.value = hit.properties.code;
        this.els.regionAuto.textContent = '（按位置自动识别）';
        this.clearError('region_code');
        return;
      }
    }
    this.els.regionAuto.textContent = found ? '（该位置不在您管辖的区域内）' : '（位置不在任何区域内，请手动选择）';
  }

  // ---- the form ----

  field(name, label, control, { hint, required, wide } = {}) {
    return h(`div.form-field${wide ? '.wide' : ''}`, { dataset: { field: name } },
      h('label', { for: control.id || null }, label, required ? h('span.req', ' *') : null),
      control,
      hint ? h('div.hint', hint) : null,
      h('div.field-error', { role: 'alert' }));
  }

  build(p) {
    const cat = this.catalog;
    const els = (this.els = {});
    const a = p.assessment || { method: 'LS', likelihood: 3, severity: 3 };
    const grading = this.app.grading || {};
    const method = (code) => (grading.methods || []).find((m) => m.code === code) || { inputs: {} };
    const opts = (vals, cur) => vals.map((v) => h('option', { value: String(v), selected: Number(v) === Number(cur) }, String(v)));
    const input = (id, value, attrs = {}) => h('input', { id, value: value ?? '', ...attrs, oninput: () => (this.dirty = true) });

    els.code = input('e-code', p.code, { maxlength: 64, placeholder: '如 CJ-WHP-0001', required: true });
    els.name = input('e-name', p.name, { maxlength: 200, required: true });
    // A department user enters units of its own categories only (the server checks too).
    const scope = this.user && this.user.role === 'department' ? new Set(this.user.categories || []) : null;
    const allowed = (c) => !scope || scope.has(c.code) || c.code === p.category;
    els.category = h('select#e-category', h('option', { value: '' }, '请选择行业领域'),
      cat.groups.map((g) => {
        const cs = cat.categories.filter((c) => c.group === g.code && allowed(c));
        return cs.length ? h('optgroup', { label: g.label }, cs.map((c) => h('option', { value: c.code, selected: c.code === p.category }, c.label))) : null;
      }));
    els.sub = h('select#e-sub');
    els.region = h('select#e-region');
    els.regionAuto = h('span.auto-note', '');
    els.address = input('e-address', p.address, { maxlength: 200 });
    els.publicLabel = input('e-public-label', p.public_label, { maxlength: 200, placeholder: '如：户外广告牌（抚仙路东段）' });
    els.accidents = h('div.checks#e-accidents', cat.accident_types.map((t) =>
      h('label.check', h('input', { type: 'checkbox', value: t.code, checked: (p.accident_types || []).includes(t.code), onchange: () => (this.dirty = true) }), t.label)));
    els.mhs = h('select#e-mhs', h('option', { value: '' }, '否'), Object.entries(HAZARD_LEVELS).map(([k, v]) => h('option', { value: k, selected: p.major_hazard_source && String(p.major_hazard_source.level) === k }, `是，${v}`)));
    els.factors = h('textarea#e-factors', { rows: 2, maxlength: 2000, oninput: () => (this.dirty = true) }, p.major_risk_factors || '');
    els.method = h('select#e-method',
      h('option', { value: 'LS', selected: a.method === 'LS' }, '风险矩阵法 R = L × S'),
      h('option', { value: 'LEC', selected: a.method === 'LEC' }, '作业条件危险性分析法 D = L × E × C'));
    const ls = method('LS').inputs;
    const lec = method('LEC').inputs;
    els.likelihood = h('select#e-likelihood', opts(ls.likelihood || [1, 2, 3, 4, 5], a.likelihood ?? 3));
    els.severity = h('select#e-severity', opts(ls.severity || [1, 2, 3, 4, 5], a.severity ?? 3));
    els.l = h('select#e-l', opts(lec.l || [0.1, 0.2, 0.5, 1, 3, 6, 10], a.l ?? 1));
    els.e = h('select#e-e', opts(lec.e || [0.5, 1, 2, 3, 6, 10], a.e ?? 3));
    els.c = h('select#e-c', opts(lec.c || [1, 3, 7, 15, 40, 100], a.c ?? 7));
    els.direct = h('input#e-direct', { type: 'checkbox', checked: !!p.direct_major_reason });
    els.reason = h('textarea#e-reason', { rows: 2, maxlength: 2000, placeholder: '如：一级重大危险源周边 500 米内有学校', hidden: !p.direct_major_reason }, p.direct_major_reason || '');
    els.preview = h('div.grade-preview', { 'aria-live': 'polite' });
    els.controls = {};
    for (const g of CONTROL_GROUPS) {
      els.controls[g.code] = h(`textarea#e-controls-${g.code}`, { rows: 2, placeholder: '每行一条措施', oninput: () => (this.dirty = true) }, ((p.controls && p.controls[g.code]) || []).join('\n'));
    }
    const depts = [...new Set(cat.categories.map((c) => c.department).filter(Boolean))];
    els.dept = input('e-dept', p.responsible_department, { list: 'e-dept-list', maxlength: 200 });
    els.dept.addEventListener('input', () => (this.deptTouched = true));
    els.unit = input('e-unit', p.responsible_unit, { maxlength: 200 });
    els.person = input('e-person', p.contact_person, { maxlength: 200 });
    els.phone = input('e-phone', p.contact_phone, { maxlength: 40 });
    els.radius = input('e-radius', p.influence_radius_m ?? '', { type: 'number', min: 0, step: 10, placeholder: '米' });
    els.assessedBy = input('e-assessed-by', p.assessed_by, { maxlength: 200 });
    // Dates are China's calendar days (UTC+8); assessed_at is stored as that day's start.
    els.assessedAt = input('e-assessed-at', p.assessed_at ? chinaDay(p.assessed_at) : '', { type: 'date' });
    // 下次复核 is the server's: the last review (评估时间) plus the cadence of the current grade.
    els.nextReview = input('e-next-review', p.next_review_due || '', { type: 'date' });
    els.nextReview.readOnly = true;
    els.nextReview.tabIndex = -1;
    // Saving never approves: 审核通过 is a separate step, by someone else. Editing an approved
    // unit makes a new draft revision; the approved one stays public until it is approved.
    const cur = p.status === 'submitted' ? 'submitted' : 'draft';
    els.status = h('select#e-status', [['draft', `保存为${STATUS.draft}`], ['submitted', `保存并提交审核（${STATUS.submitted}）`]].map(([k, v]) => h('option', { value: k, selected: cur === k }, v)));
    els.geomType = h('select#e-geomtype', Object.entries({ Point: '点', LineString: '线', Polygon: '面' }).map(([k, v]) => h('option', { value: k }, v)));
    els.crs = h('select#e-crs', INPUT_CRS.map((c) => h('option', { value: c.code, selected: c.code === this.crs }, c.label)));
    els.coords = h('textarea#e-coords', { rows: 4, placeholder: '每行一个顶点：经度, 纬度\n例如 102.908, 24.672', spellcheck: false });
    els.converted = h('div.hint.converted');
    els.geomInfo = h('span.geom-info', '尚未设置位置');
    els.general = h('div.form-errors', { role: 'alert', hidden: true });
    els.conflict = h('div.conflict', { role: 'alert', hidden: true });
    els.save = h('button.btn.btn-primary', { type: 'submit' }, this.id ? '保存修改' : '保存');
    els.geomWarn = h('div.geom-warning#e-geom-warning', { role: 'alert', hidden: true });
    els.checklist = h('div.editor-checklist#e-checklist', { 'aria-live': 'polite' });
    els.downgrade = h('textarea#e-downgrade-reason', { rows: 2, maxlength: 500, placeholder: '如：已完成整改，储量减半并加装喷淋系统', oninput: () => { this.dirty = true; this.clearError('downgrade_reason'); } });
    els.downgradeGrades = h('div.grade-compare');
    els.downgradeBox = h('div.downgrade-box', { hidden: true },
      els.downgradeGrades,
      this.field('downgrade_reason', '降级理由', els.downgrade, { required: true, wide: true, hint: '本版等级低于已审核的版本，须说明理由，审核人会看到' }));

    // Wiring.
    const fillSub = () => {
      const c = cat.categories.find((x) => x.code === els.category.value);
      replace(els.sub, h('option', { value: '' }, '—'), ((c && c.sub_categories) || []).map((s) => h('option', { value: s, selected: s === p.sub_category }, s)));
      if (c && !this.deptTouched) els.dept.value = c.department || '';
    };
    els.category.addEventListener('change', () => {
      this.dirty = true;
      fillSub();
      this.clearError('category');
    });
    fillSub();
    this.regionsP.then((r) => {
      const opt = (f, level) => h('option', { value: f.properties.code, selected: f.properties.code === p.region_code, class: `lvl-${level}` },
        (level === 'street' ? '\u3000' : level === 'community' ? '\u3000\u3000' : '') + f.properties.name);
      // A department user places units inside its regions only (the server checks too): the
      // regions above them show, greyed, to keep the tree readable.
      const prefixes = this.user && this.user.role === 'department' ? this.user.regions || [] : null;
      const inside = (code) => !prefixes || prefixes.some((x) => code.startsWith(x)) || code === p.region_code;
      const above = (code) => prefixes && prefixes.some((x) => x.startsWith(code));
      const scoped = (f, level) => {
        const code = f.properties.code;
        if (inside(code)) return opt(f, level);
        if (above(code)) {
          const o = opt(f, level);
          o.disabled = true;
          return o;
        }
        return null;
      };
      const items = [h('option', { value: '' }, '请选择所属区域')];
      for (const d of r.district.features) {
        items.push(scoped(d, 'district'));
        for (const s of r.street.features.filter((x) => x.properties.code.startsWith(d.properties.code))) {
          items.push(scoped(s, 'street'));
          for (const c of r.community.features.filter((x) => x.properties.code.startsWith(s.properties.code))) items.push(scoped(c, 'community'));
        }
      }
      replace(els.region, items);
      if (p.region_code) els.region.value = p.region_code;
      else if (this.layer) this.detectRegion(this.geometry());
    });
    els.region.addEventListener('change', () => {
      this.regionTouched = true;
      this.dirty = true;
      els.regionAuto.textContent = '';
    });
    const showMethod = () => {
      const ls = els.method.value === 'LS';
      this.form.querySelector('.method-LS').hidden = !ls;
      this.form.querySelector('.method-LEC').hidden = ls;
    };
    for (const el of [els.method, els.likelihood, els.severity, els.l, els.e, els.c]) {
      el.addEventListener('change', () => {
        this.dirty = true;
        showMethod();
        this.preview();
      });
    }
    els.direct.addEventListener('change', () => {
      els.reason.hidden = !els.direct.checked;
      this.dirty = true;
      this.preview();
    });
    els.reason.addEventListener('input', () => {
      this.dirty = true;
      this.preview();
    });
    els.crs.addEventListener('change', () => {
      this.crs = els.crs.value;
      this.writeCoordinates();
    });

    const section = (title, ...children) => h('fieldset.form-section', h('legend', title), children);
    this.form = h('form.editor-form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); this.save(); } },
      els.conflict,
      els.general,
      section('位置',
        h('div.draw-tools', { dataset: { field: 'geometry' } },
          h('div.btn-group',
            h('button.btn.btn-small', { type: 'button', dataset: { draw: 'point' }, onclick: () => this.draw('CircleMarker') }, '画点'),
            h('button.btn.btn-small', { type: 'button', dataset: { draw: 'line' }, onclick: () => this.draw('Line') }, '画线'),
            h('button.btn.btn-small', { type: 'button', dataset: { draw: 'polygon' }, onclick: () => this.draw('Polygon') }, '画面')),
          els.geomInfo,
          els.geomWarn,
          h('div.field-error', { role: 'alert' })),
        h('details.coord-input', { open: false },
          h('summary', '输入坐标'),
          h('div.coord-grid',
            this.field('coords_type', '几何类型', els.geomType),
            this.field('coords_crs', '坐标系', els.crs, { hint: '高德、腾讯为 GCJ-02，百度为 BD-09，保存时一律转换为 WGS84' })),
          els.coords,
          h('div.coord-actions', h('button.btn.btn-small', { type: 'button', onclick: () => this.applyCoordinates(), dataset: { action: 'apply-coords' } }, '应用坐标')),
          els.converted)),
      section('基本信息',
        h('div.form-grid',
          this.field('code', '编号', els.code, { required: true }),
          this.field('name', '名称', els.name, { required: true }),
          this.field('category', '行业领域', els.category, { required: true }),
          this.field('sub_category', '子类', els.sub),
          this.field('region_code', h('span', '所属区域', els.regionAuto), els.region, { required: true, wide: true }),
          this.field('address', '地址', els.address, { wide: true }),
          this.field('public_label', h('span', '公开名称', h('span.auto-note', '公众地图上显示；不填则不显示名称')), els.publicLabel, { wide: true }))),
      section('风险评估',
        this.field('accident_types', '可能导致的事故类型', els.accidents, { wide: true }),
        h('div.form-grid',
          this.field('major_hazard_source', '重大危险源', els.mhs),
          this.field('assessment.method', '评估方法', els.method)),
        h('div.form-grid.method-LS', { hidden: a.method === 'LEC' },
          this.field('assessment.likelihood', '可能性 L（1–5）', els.likelihood),
          this.field('assessment.severity', '严重性 S（1–5）', els.severity)),
        h('div.form-grid.three.method-LEC', { hidden: a.method !== 'LEC' },
          this.field('assessment.l', '事故发生可能性 L', els.l),
          this.field('assessment.e', '暴露频繁程度 E', els.e),
          this.field('assessment.c', '后果严重程度 C', els.c)),
        this.field('direct_major_reason', h('span', els.direct, ' 直接判定为重大风险'), els.reason, { wide: true }),
        els.preview,
        els.downgradeBox,
        this.field('major_risk_factors', '主要风险因素', els.factors, { wide: true })),
      section('管控措施', CONTROL_GROUPS.map((g) => this.field(`controls.${g.code}`, g.label, els.controls[g.code], { wide: true }))),
      section('责任与范围',
        h('datalist#e-dept-list', depts.map((d) => h('option', { value: d }))),
        h('div.form-grid',
          this.field('responsible_department', '监管部门', els.dept, { hint: '默认为行业领域的主管部门' }),
          this.field('responsible_unit', '责任单位', els.unit),
          this.field('contact_person', '联系人', els.person),
          this.field('contact_phone', '联系电话', els.phone),
          this.field('influence_radius_m', '影响半径（米）', els.radius),
          this.field('assessed_by', '评估单位', els.assessedBy),
          this.field('assessed_at', '评估时间', els.assessedAt),
          this.field('next_review_due', '下次复核', els.nextReview, { hint: '保存时按评估时间和当前风险等级的复核周期自动计算' }),
          this.field('status', '保存后状态', els.status, { hint: p.status === 'approved' ? '该单元已审核：保存的修改成为新的草稿，审核通过前公众版仍显示已审核的版本' : null }))),
      els.checklist,
      h('div.form-actions', els.save, h('button.btn', { type: 'button', onclick: () => this.close() }, '取消')),
    );
    // Any field changed makes the form dirty (the status, coordinate system and typed,
    // not yet applied, coordinates are not the unit's fields).
    const touched = (e) => {
      if (![els.status, els.crs, els.geomType, els.coords].includes(e.target)) this.dirty = true;
      this.updateChecklist();
    };
    this.form.addEventListener('input', touched);
    this.form.addEventListener('change', touched);
    this.updateChecklist();
    replace(this.drawer,
      h('div.panel-head', h('div.panel-title', h('h2', this.id ? `编辑风险单元` : '新增风险单元'), this.id ? h('span.muted', ` 第 ${p.version} 版`) : null),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×')),
      h('div.panel-body.editor-body', this.form));
  }

  assessment() {
    const e = this.els;
    return e.method.value === 'LS'
      ? { method: 'LS', likelihood: Number(e.likelihood.value), severity: Number(e.severity.value) }
      : { method: 'LEC', l: Number(e.l.value), e: Number(e.e.value), c: Number(e.c.value) };
  }

  directReason() {
    return this.els.direct.checked ? this.els.reason.value.trim() || null : null;
  }

  async evaluate() {
    const seq = (this.evalSeq = (this.evalSeq || 0) + 1);
    const el = this.els.preview;
    try {
      const r = await this.api.evaluate(this.assessment(), this.directReason());
      if (seq !== this.evalSeq) return;
      const g = grade(r.grade);
      el.style.borderColor = g.outline;
      el.style.background = g.fill + '22';
      replace(el, h('div.preview-head', h('span', '预评等级'), badge(r.grade, true), r.risk_value != null ? h('span.risk-value', `风险值 ${r.risk_value}`) : null),
        h('p', (r.explanation && r.explanation.text) || ''));
      el.dataset.grade = r.grade;
      this.updateDowngrade();
    } catch (e) {
      if (seq !== this.evalSeq) return;
      replace(el, h('p.error', `无法预评：${e.message}`));
      delete el.dataset.grade;
    }
  }

  /** approvedGrade is the grade of the unit's approved revision, '' if it has none (known). */
  approvedGrade() {
    const p = this.feature ? this.feature.properties : null;
    // The preview is the assessment's grade (固有): compared with the approved one's, not with
    // its current grade, which open hidden dangers or conflicts may have raised.
    if (p && p.status === 'approved') return p.inherent_grade || p.grade;
    const ap = this.review && this.review.approved && this.review.approved.properties;
    return (ap && ap.inherent_grade) || (this.review && this.review.approved_grade) || '';
  }

  /** updateDowngrade asks for a reason (降级理由) while the previewed grade is below the approved one. */
  updateDowngrade() {
    const now = this.els.preview.dataset.grade;
    const old = this.approvedGrade();
    const down = lowered(now, old);
    this.els.downgradeBox.hidden = !down;
    if (down) {
      replace(this.els.downgradeGrades, h('span.muted', '已审核版本 '), badge(old, true), h('span.arrow', ' → '), h('span.muted', '本版 '), badge(now, true), h('strong', '（降级）'));
    }
  }

  /** updateChecklist shows what 提交审核 still needs, and says it on the save button. */
  updateChecklist() {
    const e = this.els;
    const lines = (t) => t.value.split('\n').map((x) => x.trim()).filter(Boolean);
    const controls = {};
    for (const g of CONTROL_GROUPS) controls[g.code] = lines(e.controls[g.code]);
    const missing = missingItems({ controls, responsible_unit: e.unit.value, contact_person: e.person.value, contact_phone: e.phone.value, assessed_at: e.assessedAt.value });
    const submitting = e.status.value === 'submitted';
    e.checklist.dataset.complete = missing.length ? '0' : '1';
    replace(e.checklist,
      h('strong', '提交审核前的检查：'),
      missing.length ? `尚缺 ${missing.length} 项——${missing.map((m) => m.label).join('、')}` : '管控措施、责任单位、联系人、联系电话和评估时间均已填写。');
    this.missing = missing;
    if (!e.save.disabled) {
      e.save.textContent = submitting ? (missing.length ? `保存并提交审核（尚缺 ${missing.length} 项）` : '保存并提交审核') : this.id ? '保存修改' : '保存';
    }
    e.save.title = submitting && missing.length ? `提交审核前请填写：${missing.map((m) => m.label).join('、')}` : '';
  }

  collect() {
    const e = this.els;
    const base = this.feature ? { ...this.feature.properties } : {};
    const lines = (t) => t.value.split('\n').map((s) => s.trim()).filter(Boolean);
    const controls = {};
    for (const g of CONTROL_GROUPS) controls[g.code] = lines(e.controls[g.code]);
    const radius = e.radius.value.trim();
    return {
      type: 'Feature',
      geometry: this.geometry(),
      properties: {
        ...base,
        code: e.code.value.trim(),
        name: e.name.value.trim(),
        category: e.category.value,
        sub_category: e.sub.value,
        region_code: e.region.value,
        address: e.address.value.trim(),
        public_label: e.publicLabel.value.trim(),
        accident_types: [...e.accidents.querySelectorAll('input:checked')].map((i) => i.value),
        major_hazard_source: e.mhs.value ? { level: Number(e.mhs.value) } : null,
        major_risk_factors: e.factors.value.trim(),
        assessment: this.assessment(),
        direct_major_reason: this.directReason(),
        controls,
        responsible_department: e.dept.value.trim(),
        responsible_unit: e.unit.value.trim(),
        contact_person: e.person.value.trim(),
        contact_phone: e.phone.value.trim(),
        influence_radius_m: radius === '' ? 0 : Number(radius),
        assessed_by: e.assessedBy.value.trim(),
        assessed_at: e.assessedAt.value ? `${e.assessedAt.value}T00:00:00+08:00` : null,
        next_review_due: null, // computed by the server
        status: e.status.value,
        ...(this.els.downgradeBox.hidden ? {} : { downgrade_reason: e.downgrade.value.trim() }),
      },
    };
  }

  // ---- errors ----

  fieldEl(name) {
    let n = name;
    while (n) {
      const el = this.form.querySelector(`[data-field="${CSS.escape(n)}"]`);
      if (el) return el;
      n = n.includes('.') ? n.slice(0, n.lastIndexOf('.')) : '';
    }
    return null;
  }

  showFieldError(name, message) {
    const el = this.fieldEl(name);
    if (!el) return false;
    el.classList.add('has-error');
    const box = el.querySelector('.field-error');
    const prev = box.textContent;
    box.textContent = prev ? `${prev}；${message}` : message;
    if (!this.firstError) this.firstError = el;
    return true;
  }

  clearError(name) {
    const el = this.form && this.fieldEl(name);
    if (!el) return;
    el.classList.remove('has-error');
    el.querySelector('.field-error').textContent = '';
  }

  clearErrors() {
    for (const el of this.form.querySelectorAll('.has-error')) el.classList.remove('has-error');
    for (const el of this.form.querySelectorAll('.field-error')) el.textContent = '';
    this.els.general.hidden = true;
    this.els.conflict.hidden = true;
    this.firstError = null;
  }

  showErrors(err) {
    const rest = [];
    // The server may find a downgrade the preview did not (its grades count the raises): the
    // reason's field shows then.
    if ((err.fields || []).some((f) => f.field === 'downgrade_reason')) this.els.downgradeBox.hidden = false;
    for (const f of err.fields || []) {
      const label = FIELD_LABELS[f.field] || f.field;
      if (!this.showFieldError(f.field, f.message)) rest.push(`${label}：${f.message}`);
    }
    const summary = (err.fields || []).length ? `有 ${(err.fields || []).length} 处需要修改，见标红的字段。` : err.message;
    replace(this.els.general, h('strong', '未能保存：'), summary, rest.length ? h('ul', rest.map((r) => h('li', r))) : null);
    this.els.general.hidden = false;
    (this.firstError || this.els.general).scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  showConflict() {
    replace(this.els.conflict,
      h('strong', '该单元已被其他人修改。'),
      h('p', `您编辑的是第 ${this.feature.properties.version} 版，服务器上已有更新的版本，为避免覆盖他人的修改，本次未保存。`),
      h('div.conflict-actions',
        h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { action: 'reload' }, onclick: () => this.reload() }, '重新加载最新版本'),
        h('button.btn.btn-small', { type: 'button', onclick: () => (this.els.conflict.hidden = true) }, '暂不处理')));
    this.els.conflict.hidden = false;
    this.els.conflict.scrollIntoView({ block: 'center' });
  }

  async reload() {
    try {
      const res = await this.api.unit(this.id);
      this.dirty = false;
      const layer = this.layer;
      if (layer) {
        if (layer.pm) layer.pm.disable();
        layer.remove();
        this.layer = null;
      }
      this.open(res.data, res.etag);
      toast('已加载最新版本，请重新修改后保存。', 'info');
    } catch (e) {
      toast(`无法加载最新版本：${e.message}`, 'error');
    }
  }

  async save() {
    this.clearErrors();
    const f = this.collect();
    let bad = false;
    if (!f.geometry) bad = this.showFieldError('geometry', '请在地图上绘制位置，或输入坐标') || true;
    if (!f.properties.code) bad = this.showFieldError('code', '请填写编号') || true;
    if (!f.properties.name) bad = this.showFieldError('name', '请填写名称') || true;
    if (!f.properties.category) bad = this.showFieldError('category', '请选择行业领域') || true;
    if (!f.properties.region_code) bad = this.showFieldError('region_code', '请选择所属区域') || true;
    if (f.properties.status === 'submitted') {
      for (const m of this.missing || []) bad = this.showFieldError(m.field, `提交审核前请填写${m.label}`) || true;
    }
    if (!this.els.downgradeBox.hidden && !f.properties.downgrade_reason) bad = this.showFieldError('downgrade_reason', '等级低于已审核的版本，请填写降级理由') || true;
    if (bad) {
      replace(this.els.general, h('strong', '请补全标红的字段。'));
      this.els.general.hidden = false;
      (this.firstError || this.els.general).scrollIntoView({ block: 'center' });
      return;
    }
    // Nothing changed (an approved unit saved as a draft counts as unchanged): no request,
    // no new version, and the user is told why the version number stays.
    const was = this.feature && this.feature.properties;
    const unchangedBefore = !!this.id && !this.dirty;
    if (this.id && !this.dirty && was && (f.properties.status === was.status || (was.status === 'approved' && f.properties.status === 'draft'))) {
      this.close(true);
      toast(`内容没有变化，未生成新版本（仍为第 ${was.version} 版）。`, 'info', 6000);
      this.onSaved(this.feature, { told: true });
      return;
    }
    if (this.placeProblem && this.placeProblem.kind === 'city' && !window.confirm(`${this.placeProblem.text}\n仍要保存吗？`)) return;
    this.els.save.disabled = true;
    this.els.save.textContent = '正在保存…';
    try {
      const res = this.id ? await this.api.updateUnit(this.id, f, this.etag) : await this.api.createUnit(f);
      const edited = was && was.version;
      const now = res.data.properties;
      this.dirty = false;
      this.close(true);
      // An unchanged save writes no new version, and a status change alone does: say which,
      // rather than let the number puzzle.
      let told = true;
      if (edited && now.version === edited) toast(`内容没有变化，未生成新版本（仍为第 ${edited} 版）。`, 'info', 6000);
      else if (edited && unchangedBefore) toast(`内容没有变化，只有状态改为${STATUS[now.status] || now.status}：状态变更记为第 ${now.version} 版。`, 'info', 6000);
      else told = false;
      this.onSaved(res.data, { told });
    } catch (e) {
      if (!(e instanceof ApiError)) {
        this.showErrors({ message: `网络错误：${e.message}` });
      } else if (e.status === 412) {
        this.showConflict();
      } else if (e.status === 409 && !(e.fields || []).length) {
        this.showErrors({ message: e.message, fields: /code|编号/i.test(e.message) ? [{ field: 'code', message: e.message }] : [] });
      } else {
        this.showErrors(e);
      }
    } finally {
      if (this.els.save) {
        this.els.save.disabled = false;
        this.updateChecklist();
      }
    }
  }
}

