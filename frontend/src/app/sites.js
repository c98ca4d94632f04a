// 空间分析: the city-wide conflict table (冲突清单: hazardous units against the protective
// targets inside their influence ranges, filtered by region, department, grade and kind, with
// its CSV), and the management of 防护目标 and 应急避难场所 — their lists, details (in the
// drawer, with a target's threatening units), creation by drawing on the map (leaflet-geoman,
// as the units' entry form) or typing coordinates, editing and deleting with If-Match, the
// server's problems under their fields. Loaded on first use. Every value is text.
import L from '../lib/leaflet.js';
import '@geoman-io/leaflet-geoman-free';
import '@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css';
import { h, replace, toast, fmtNumber, debounce } from '../lib/dom.js';
import { badge, grade, GRADE_CODES } from '../lib/grades.js';
import { ApiError, query } from '../lib/api.js';
import { fmtDate } from '../lib/labels.js';
import { TARGET_KINDS, SHELTER_KINDS, fmtMetres, fmtArea, targetKind, shelterKind, shelterRows, TARGET_COLOUR, SHELTER_COLOUR } from '../lib/sites.js';
import '../css/hazards.css';
import '../css/sites.css';

const TABS = [
  { code: 'conflicts', label: '冲突清单' },
  { code: 'protective-targets', label: '防护目标' },
  { code: 'shelters', label: '应急避难场所' },
];

/** SITE describes the two kinds of site: names, kinds and form fields. */
const SITE = {
  'protective-targets': { label: '防护目标', kinds: TARGET_KINDS, colour: TARGET_COLOUR },
  shelters: { label: '应急避难场所', kinds: SHELTER_KINDS, colour: SHELTER_COLOUR },
};

/** FIELD_NAMES name the API's fields in Chinese, for problems without a field of their own. */
const FIELD_NAMES = {
  name: '名称', kind: '类型', people: '人数', address: '地址', geometry: '位置', region_code: '所属区域',
  capacity: '容纳人数', effective_area_m2: '有效避难面积', service_radius_m: '服务半径',
};

const EDIT_PANE = 'editing';
const EDIT_STYLE = { color: '#0a84ff', weight: 3, fillColor: '#0a84ff', fillOpacity: 0.15, pane: EDIT_PANE };
const POINT_STYLE = { radius: 8, color: '#0a84ff', weight: 3, fillColor: '#ffffff', fillOpacity: 0.9, pane: EDIT_PANE };

function kv(label, ...value) {
  const v = value.flat().filter((x) => x != null && x !== '');
  return h('div.kv', h('dt', label), h('dd', v.length ? v : '—'));
}

/** cell is a table cell named for the phone's cards (data-label). */
function cell(label, value, cls) {
  const empty = value == null || value === '' || (Array.isArray(value) && !value.length);
  return h('td', { class: cls || null, dataset: empty ? { label, empty: '1' } : { label } }, empty ? '' : value);
}

/** twoStep makes a button ask once more before it acts, without a dialog. */
function twoStep(label, confirmLabel, action, cls = '', name = '') {
  let armed = false;
  let timer;
  const btn = h(`button.btn.btn-small${cls}`, { type: 'button', dataset: name ? { action: name } : null }, label);
  btn.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      btn.textContent = confirmLabel;
      btn.classList.add('armed');
      timer = setTimeout(() => {
        armed = false;
        btn.textContent = label;
        btn.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(timer);
    btn.disabled = true;
    await action();
    btn.disabled = false;
  });
  return btn;
}

/** regionOptions fills a select with districts and their streets (a department sees its own). */
function regionOptions(sel, regionsP, user, current) {
  regionsP.then((r) => {
    const visible = (code) => user.role !== 'department' || !(user.regions || []).length || (user.regions || []).some((x) => code.startsWith(x) || x.startsWith(code));
    for (const d of r.district.features.filter((x) => visible(x.properties.code))) {
      sel.appendChild(h('option', { value: d.properties.code, selected: current === d.properties.code }, d.properties.name));
      for (const s of r.street.features.filter((x) => x.properties.code.startsWith(d.properties.code) && visible(x.properties.code))) {
        sel.appendChild(h('option', { value: s.properties.code, selected: current === s.properties.code }, `　${s.properties.name}`));
      }
    }
  });
}

/** lineBounds are the Leaflet bounds of a conflict's line. */
function lineBounds(c) {
  const pts = ((c.line && c.line.coordinates) || []).map(([lon, lat]) => [lat, lon]);
  return pts.length ? L.latLngBounds(pts) : null;
}

export class SitesPanel {
  /**
   * app: the map application; ctx: lookups (regionName); drawer: #drawer; openDrawer(kind)
   * and closeDrawer() from the application; onUnit(id): show a unit; onChanged(kind): a site
   * was written (the layers and conflicts reload); highlight: the application's highlighter;
   * analysis: the analysis layers; editable: the user may write sites.
   */
  constructor(opts) {
    Object.assign(this, opts);
    this.map = this.app.map;
    this.el = h('section#analysis-panel.admin.sites-panel', { hidden: true, role: 'dialog', 'aria-label': '空间分析' });
    document.body.appendChild(this.el);
    this.tab = 'conflicts';
    this.cf = { region: '', department: '', grade: '', kind: '' };
    this.sf = { 'protective-targets': { kind: '', region: '', q: '' }, shelters: { kind: '', region: '', q: '' } };
    this.active = false; // the site form is open in the drawer
    this.onKey = (e) => {
      if (e.key === 'Escape' && !e.target.closest('input, textarea, select')) this.close();
    };
    if (!this.map.pm) this.map.pm = new L.PM.Map(this.map);
    if (!this.map.getPane(EDIT_PANE)) this.map.createPane(EDIT_PANE).style.zIndex = 590;
    this.map.on('pm:create', (e) => {
      if (!this.active) return;
      // Rebuilt from its geometry: the units' editor (if loaded) drops layers it did not ask for.
      const g = e.layer.toGeoJSON(15).geometry;
      e.layer.remove();
      this.setGeometry(g, true);
    });
  }

  get user() {
    return this.session.user;
  }

  toggle() {
    if (this.el.hidden) this.open();
    else this.close();
  }

  open(tab) {
    if (tab) this.tab = tab;
    this.el.hidden = false;
    document.body.classList.add('analysis-open');
    document.addEventListener('keydown', this.onKey);
    this.render();
  }

  close() {
    this.el.hidden = true;
    document.body.classList.remove('analysis-open');
    document.removeEventListener('keydown', this.onKey);
  }

  render() {
    this.body = h('div.admin-body.sites-body');
    replace(this.el,
      h('div.admin-head',
        h('h2', '空间分析'),
        h('nav.admin-tabs', { role: 'tablist' }, TABS.map((t) =>
          h('button', { type: 'button', role: 'tab', class: t.code === this.tab ? 'active' : null, 'aria-selected': String(t.code === this.tab), dataset: { tab: t.code }, onclick: () => this.open(t.code) }, t.label))),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×')),
      this.body);
    this.el.dataset.tab = this.tab;
    if (this.tab === 'conflicts') this.conflictsTab();
    else this.sitesTab(this.tab);
  }

  // ---- 冲突清单 ----

  departments() {
    const cat = this.getCatalog();
    const u = this.user;
    const cats = u.role === 'department' ? cat.categories.filter((c) => (u.categories || []).includes(c.code)) : cat.categories;
    return [...new Set(cats.map((c) => c.department).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'zh-CN'));
  }

  conflictParams() {
    const f = this.cf;
    return { region: f.region || null, department: f.department || null, grade: f.grade || null, kind: f.kind || null };
  }

  conflictsTab() {
    const f = this.cf;
    const set = (k) => (e) => {
      f[k] = e.target.value;
      this.loadConflicts();
    };
    const regionSel = h('select#cf-region', { onchange: set('region') }, h('option', { value: '' }, '全部区域'));
    regionOptions(regionSel, this.regionsP, this.user, f.region);
    this.cfStatus = h('div.hz-list-status', '正在加载…');
    this.cfCsv = h('a.btn.btn-small', { href: '/api/v1/conflicts.csv', download: '', dataset: { action: 'conflicts-csv' } }, '导出 CSV');
    this.cfOut = h('div.admin-list.conflict-list');
    replace(this.body,
      h('section.admin-section.hz-filters',
        h('p.hint', '易燃易爆、有毒有害类风险单元影响半径内的学校、幼儿园、医院、养老院和人员密集场所。按风险等级、人数、距离排序。'),
        h('div.hz-filter-row',
          h('label.form-field', h('span', '区域'), regionSel),
          h('label.form-field', h('span', '监管部门'), h('select#cf-department', { onchange: set('department') },
            h('option', { value: '' }, '全部部门'),
            this.departments().map((d) => h('option', { value: d, selected: f.department === d }, d)))),
          h('label.form-field', h('span', '风险等级'), h('select#cf-grade', { onchange: set('grade') },
            h('option', { value: '' }, '全部等级'),
            GRADE_CODES.map((g) => h('option', { value: g, selected: f.grade === g }, grade(g).label)))),
          h('label.form-field', h('span', '防护目标类型'), h('select#cf-kind', { onchange: set('kind') },
            h('option', { value: '' }, '全部类型'),
            Object.entries(TARGET_KINDS).map(([k, v]) => h('option', { value: k, selected: f.kind === k }, v)))),
          h('span.hz-spacer'),
          this.cfStatus,
          this.cfCsv)),
      h('section.admin-section', this.cfOut));
    this.loadConflicts();
  }

  async loadConflicts(more = false) {
    const seq = (this.cfSeq = (this.cfSeq || 0) + 1);
    const params = this.conflictParams();
    this.cfCsv.href = `/api/v1/conflicts.csv?${query(params)}`;
    const offset = more ? (this.cfRows || []).length : 0;
    let res;
    try {
      res = await this.api.conflicts({ ...params, limit: 200, offset: offset || null });
    } catch (e) {
      if (seq === this.cfSeq) this.cfStatus.textContent = `加载失败：${e.message}`;
      return;
    }
    if (seq !== this.cfSeq) return;
    this.cfRows = more ? (this.cfRows || []).concat(res.items || []) : res.items || [];
    const total = res.total ?? this.cfRows.length;
    this.cfStatus.textContent = `共 ${fmtNumber(total)} 处安全距离冲突`;
    this.cfStatus.dataset.count = String(total);
    replace(this.cfOut, this.conflictTable(this.cfRows),
      this.cfRows.length < total ? h('button.btn.btn-small', { type: 'button', onclick: () => this.loadConflicts(true) }, '加载更多') : null);
  }

  conflictTable(rows) {
    return h('table.admin-table.hz-table.conflicts-table',
      h('thead', h('tr', ['风险等级', '风险单元', '防护目标', '类型', '人数', '距离', '影响半径', '监管部门'].map((t) => h('th', t)))),
      h('tbody', rows.length ? rows.map((c) => {
        const go = () => this.goConflict(c);
        return h('tr', { dataset: { unit: c.unit.id, target: c.target.id }, tabindex: 0, onclick: go, onkeydown: (e) => e.key === 'Enter' && go() },
          cell('风险等级', badge(c.unit.grade, true)),
          cell('风险单元', `${c.unit.name || ''}${c.unit.code ? `（${c.unit.code}）` : ''}`, 'col-wrap'),
          cell('防护目标', c.target.name, 'col-wrap'),
          cell('类型', targetKind(c.target)),
          cell('人数', fmtNumber(c.target.people), 'num'),
          cell('距离', fmtMetres(c.distance_m), 'num nowrap'),
          cell('影响半径', fmtMetres(c.influence_radius_m), 'num nowrap'),
          cell('监管部门', c.unit.department));
      }) : h('tr', h('td.empty', { colspan: 8 }, '没有符合条件的安全距离冲突'))));
  }

  /** goConflict shows a conflict on the map: its line in view and its unit's details. */
  goConflict(c) {
    this.close();
    this.app.setMode('units');
    const b = lineBounds(c);
    if (b && b.isValid()) this.map.fitBounds(b.pad(0.6), { maxZoom: 17, animate: false });
    this.onUnit(c.unit.id);
  }

  // ---- 防护目标 / 应急避难场所: the lists ----

  sitesTab(kind) {
    const f = this.sf[kind];
    const S = SITE[kind];
    const set = (k) => (e) => {
      f[k] = e.target.value;
      this.loadSites(kind);
    };
    const regionSel = h('select#st-region', { onchange: set('region') }, h('option', { value: '' }, '全部区域'));
    regionOptions(regionSel, this.regionsP, this.user, f.region);
    const search = h('input#st-q', { type: 'search', placeholder: '名称或地址', value: f.q, 'aria-label': `搜索${S.label}` });
    search.addEventListener('input', debounce(() => {
      f.q = search.value.trim();
      this.loadSites(kind);
    }, 300));
    this.stStatus = h('div.hz-list-status', '正在加载…');
    this.stOut = h('div.admin-list.site-list');
    replace(this.body,
      h('section.admin-section.hz-filters',
        h('div.hz-filter-row',
          h('label.form-field', h('span', '类型'), h('select#st-kind', { onchange: set('kind') },
            h('option', { value: '' }, '全部类型'),
            Object.entries(S.kinds).map(([k, v]) => h('option', { value: k, selected: f.kind === k }, v)))),
          h('label.form-field', h('span', '区域'), regionSel),
          h('label.form-field.hz-search', h('span', '搜索'), search),
          h('span.hz-spacer'),
          this.stStatus,
          this.editable ? h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { action: 'new-site' }, onclick: () => this.newSite(kind) }, `＋ 新增${S.label}`) : null)),
      h('section.admin-section', this.stOut));
    this.loadSites(kind);
  }

  async loadSites(kind, more = false) {
    const seq = (this.stSeq = (this.stSeq || 0) + 1);
    const f = this.sf[kind];
    const offset = more ? (this.stRows || []).length : 0;
    let fc;
    try {
      fc = await this.api.sites(kind, { kind: f.kind || null, region: f.region || null, q: f.q || null, limit: 200, offset: offset || null });
    } catch (e) {
      if (seq === this.stSeq) this.stStatus.textContent = `加载失败：${e.message}`;
      return;
    }
    if (seq !== this.stSeq || this.tab !== kind) return;
    this.stRows = more ? (this.stRows || []).concat(fc.features || []) : fc.features || [];
    const total = fc.numberMatched ?? this.stRows.length;
    this.stStatus.textContent = `共 ${fmtNumber(total)} 个${SITE[kind].label}`;
    this.stStatus.dataset.count = String(total);
    replace(this.stOut, this.siteTable(kind, this.stRows),
      this.stRows.length < total ? h('button.btn.btn-small', { type: 'button', onclick: () => this.loadSites(kind, true) }, '加载更多') : null);
  }

  siteTable(kind, rows) {
    const region = (p) => p.region_name || this.ctx.regionName(p.region_code);
    const target = kind === 'protective-targets';
    const heads = target ? ['名称', '类型', '人数', '地址', '所在区域'] : ['名称', '类型', '容纳人数', '有效避难面积', '服务半径', '地址', '所在区域'];
    return h('table.admin-table.hz-table.sites-table',
      h('thead', h('tr', heads.map((t) => h('th', t)))),
      h('tbody', rows.length ? rows.map((f) => {
        const p = f.properties;
        const go = () => {
          this.close();
          this.showSite(kind, f, { fly: true });
        };
        return h('tr', { dataset: { id: f.id ?? p.id }, tabindex: 0, onclick: go, onkeydown: (e) => e.key === 'Enter' && go() },
          cell('名称', p.name, 'col-wrap'),
          cell('类型', target ? targetKind(p) : shelterKind(p)),
          target ? cell('人数', fmtNumber(p.people), 'num') : [
            cell('容纳人数', fmtNumber(p.capacity), 'num'),
            cell('有效避难面积', fmtArea(p.effective_area_m2), 'num nowrap'),
            cell('服务半径', fmtMetres(p.service_radius_m), 'num nowrap')],
          cell('地址', p.address, 'col-wrap'),
          cell('所在区域', region(p)));
      }) : h('tr', h('td.empty', { colspan: heads.length }, `没有符合条件的${SITE[kind].label}`))));
  }

  // ---- a site's details (the drawer) ----

  /** showSite opens a target's or shelter's details; f is a feature or an id. */
  async showSite(kind, f, { fly = false } = {}) {
    if (this.active) return;
    const id = typeof f === 'object' ? f.id ?? f.properties.id : f;
    this.openDrawer('site');
    const drawer = this.drawer;
    replace(drawer, h('div.panel-loading', '正在加载…'));
    let res;
    try {
      res = await this.api.site(kind, id);
    } catch (e) {
      replace(drawer, h('div.panel-error', e.status === 403 || e.status === 404 ? `该${SITE[kind].label}不在您的管辖范围内，或已不存在。` : `无法加载：${e.message}`));
      return;
    }
    const feature = res.data;
    const p = feature.properties;
    this.highlight.show(feature, 0);
    // A shelter's service radius, in metres on the ground, around its point or area.
    if (kind === 'shelters' && this.analysis) this.analysis.drawServiceArea(feature, Number(p.service_radius_m) || 0);
    const fit = () => {
      const b = L.geoJSON(feature.geometry).getBounds();
      if (b.isValid()) this.map.fitBounds(b, { maxZoom: 17, padding: [60, 60] });
    };
    if (fly) fit();
    const target = kind === 'protective-targets';
    const conflicts = target ? h('section.target-conflicts', { dataset: { state: 'loading' } }, h('h3', '安全距离冲突'), h('p.muted', '正在分析…')) : null;
    const del = this.editable ? twoStep('删除', '确认删除？再点一次', () => this.deleteSite(kind, feature, res.etag), '.btn-warn', 'delete-site') : null;
    replace(drawer,
      h('div.panel-head',
        h('div.panel-title', h('span.site-badge', { dataset: { site: kind, kind: p.kind || '' } }, target ? targetKind(p) : shelterKind(p)),
          h('h2.unit-name.site-name', { title: p.name }, p.name)),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.closeDrawer() }, '×')),
      h('div.panel-actions',
        h('button.btn.btn-small', { type: 'button', onclick: fit }, '定位'),
        this.editable ? h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { action: 'edit-site' }, onclick: () => this.editSite(kind, feature, res.etag) }, '编辑') : null,
        del),
      h('div.panel-body',
        h('section', h('h3', `${SITE[kind].label}信息`), h('dl.kv-list',
          target ? [
            kv('类型', targetKind(p)),
            kv('人数', p.people != null ? `${fmtNumber(p.people)} 人` : ''),
            kv('地址', p.address),
            kv('所在区域', p.region_name || this.ctx.regionName(p.region_code)),
          ] : shelterRows({ ...p, region_name: p.region_name || this.ctx.regionName(p.region_code) }),
          kv('版本', p.version != null ? `第 ${p.version} 版${p.updated_at ? ` · 更新于 ${fmtDate(p.updated_at)}` : ''}` : '')),
          target ? null : h('p.muted.service-note', '地图上的绿色虚线范围为服务半径（按实地距离）。')),
        conflicts));
    drawer.dataset.siteKind = kind;
    drawer.dataset.siteId = String(feature.id ?? p.id);
    if (target) this.fillTargetConflicts(conflicts, feature.id ?? p.id);
  }

  async fillTargetConflicts(section, id) {
    let res;
    try {
      res = await this.api.targetConflicts(id);
    } catch (e) {
      replace(section, h('h3', '安全距离冲突'), h('p.muted', `暂时无法取得分析结果：${e.message}`));
      return;
    }
    const list = res.conflicts || [];
    section.dataset.state = 'done';
    section.dataset.count = String(list.length);
    replace(section, h('h3', '安全距离冲突'),
      list.length
        ? [h('p', `位于 ${list.length} 个易燃易爆、有毒有害风险单元的影响范围内：`),
          h('ul.target-threats', list.map((c) => h('li',
            h('button.linklike', { type: 'button', dataset: { unit: c.unit.id }, onclick: () => this.onUnit(c.unit.id) },
              badge(c.unit.grade), ' ', `${c.unit.name || c.unit.code || ''}`),
            h('span.muted', ` · ${c.unit.category_label || ''} · 距离 ${fmtMetres(c.distance_m)}，影响半径 ${fmtMetres(c.influence_radius_m)}`))))]
        : h('p.conflict-none', '不在任何危险类风险单元的影响范围内。'));
  }

  async deleteSite(kind, feature, etag) {
    try {
      await this.api.deleteSite(kind, feature.id ?? feature.properties.id, etag);
    } catch (e) {
      if (e.status === 412) toast(`该${SITE[kind].label}已被其他人修改，请重新打开后再删除。`, 'error', 6000);
      else toast(`删除失败：${e.message}`, 'error', 6000);
      return;
    }
    toast(`已删除：${feature.properties.name}`, 'ok');
    this.closeDrawer();
    this.onChanged(kind);
  }

  // ---- the form: create and edit ----

  newSite(kind) {
    if (!this.editable) return;
    this.close();
    this.editSite(kind, null, null);
  }

  /** editSite opens the form in the drawer; feature null creates one. */
  editSite(kind, feature, etag) {
    this.active = true;
    this.dirty = false;
    this.kind = kind;
    this.feature = feature;
    this.etag = etag;
    this.layer = null;
    this.highlight.clear();
    this.openDrawer('site-editor');
    document.body.classList.add('editing');
    this.app.units.layer.options.interactive = false;
    this.build(kind, feature ? feature.properties : {});
    if (feature && feature.geometry) {
      this.setGeometry(feature.geometry, false);
      const b = this.layer && L.featureGroup([this.layer]).getBounds();
      if (b && b.isValid()) this.map.fitBounds(b, { maxZoom: 17, padding: [60, 60] });
    }
  }

  /** closeForm asks before dropping changes; it returns whether the form closed. */
  closeForm(force = false) {
    if (!this.active) return true;
    if (!force && this.dirty && !window.confirm('放弃尚未保存的修改？')) return false;
    this.active = false;
    this.map.pm.disableDraw();
    if (this.layer) {
      if (this.layer.pm) this.layer.pm.disable();
      this.layer.remove();
    }
    this.layer = null;
    document.body.classList.remove('editing');
    this.app.units.layer.options.interactive = true;
    return true;
  }

  field(name, label, control, { required = false, hint = null, wide = false } = {}) {
    if (!control.id) control.id = `st-${name.replace(/\W/g, '-')}`;
    return h(`div.form-field${wide ? '.wide' : ''}`, { dataset: { field: name } },
      h('label', { for: control.id }, label, required ? h('span.req', ' *') : null),
      control,
      hint ? h('div.hint', hint) : null,
      h('div.field-error', { role: 'alert', dataset: { for: name } }));
  }

  build(kind, p) {
    const S = SITE[kind];
    const target = kind === 'protective-targets';
    const els = (this.els = {});
    const touch = () => (this.dirty = true);
    const num = (id, v, attrs = {}) => h('input', { id, type: 'number', inputmode: 'decimal', value: v ?? '', ...attrs, oninput: touch });
    els.name = h('input#st-name', { value: p.name || '', maxlength: 200, oninput: touch });
    els.kind = h('select#st-kind-input', { onchange: touch }, h('option', { value: '' }, '请选择类型'),
      Object.entries(S.kinds).map(([k, v]) => h('option', { value: k, selected: p.kind === k }, v)));
    els.address = h('input#st-address', { value: p.address || '', maxlength: 200, oninput: touch });
    if (target) {
      els.people = num('st-people', p.people, { min: 1, step: 1 });
    } else {
      els.capacity = num('st-capacity', p.capacity, { min: 0, step: 1 });
      els.area = num('st-area', p.effective_area_m2, { min: 0, step: 'any' });
      els.radius = num('st-radius', p.service_radius_m, { min: 0, max: 50000, step: 'any' });
    }
    els.geomInfo = h('span.geom-info', '尚未设置位置');
    els.lon = num('st-lon', '', { step: 'any', placeholder: '如 102.9292' });
    els.lat = num('st-lat', '', { step: 'any', placeholder: '如 24.6759' });
    els.general = h('div.form-errors', { role: 'alert', hidden: true });
    els.save = h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'save-site' } }, this.feature ? '保存修改' : '保存');
    const section = (title, ...children) => h('fieldset.form-section', h('legend', title), children);
    this.form = h('form.editor-form.site-form', { novalidate: true, dataset: { site: kind }, onsubmit: (e) => { e.preventDefault(); this.save(); } },
      els.general,
      section('位置',
        h('div.draw-tools', { dataset: { field: 'geometry' } },
          h('div.btn-group',
            h('button.btn.btn-small', { type: 'button', dataset: { draw: 'point' }, onclick: () => this.draw('CircleMarker') }, '画点'),
            h('button.btn.btn-small', { type: 'button', dataset: { draw: 'polygon' }, onclick: () => this.draw('Polygon') }, target ? '画范围' : '画占地范围')),
          els.geomInfo,
          h('div.field-error', { role: 'alert', dataset: { for: 'geometry' } })),
        h('div.form-grid.coord-point',
          this.field('lon', '经度（WGS84）', els.lon),
          this.field('lat', '纬度（WGS84）', els.lat)),
        h('div.coord-actions', h('button.btn.btn-small', { type: 'button', dataset: { action: 'apply-point' }, onclick: () => this.applyPoint() }, '按坐标设置点位'))),
      section(`${S.label}信息`,
        h('div.form-grid',
          this.field('name', '名称', els.name, { required: true, wide: true }),
          this.field('kind', '类型', els.kind, { required: true }),
          target
            ? this.field('people', '人数', els.people, { required: true, hint: '在校师生、床位、常驻或高峰人数' })
            : [
              this.field('capacity', '容纳人数', els.capacity),
              this.field('effective_area_m2', '有效避难面积（平方米）', els.area, { hint: '不超过占地面积的 1.2 倍' }),
              this.field('service_radius_m', '服务半径（米）', els.radius, { hint: '留空或 0 则按类型的默认值' })],
          this.field('address', '地址', els.address, { wide: true }),
          h('div.field-error.wide', { role: 'alert', dataset: { for: 'region_code' } }))),
      h('div.form-actions', els.save, h('button.btn', { type: 'button', onclick: () => this.cancel() }, '取消')));
    replace(this.drawer,
      h('div.panel-head',
        h('div.panel-title', h('h2', this.feature ? `编辑${S.label}` : `新增${S.label}`)),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.cancel() }, '×')),
      h('div.panel-body.editor-body', this.form));
  }

  cancel() {
    if (!this.closeForm()) return;
    const f = this.feature;
    this.closeDrawer(true);
    if (f) this.showSite(this.kind, f);
  }

  draw(shape) {
    this.map.pm.disableDraw();
    this.map.pm.enableDraw(shape, shape === 'CircleMarker' ? { markerStyle: POINT_STYLE, pathOptions: POINT_STYLE } : { pathOptions: EDIT_STYLE });
  }

  /** setGeometry puts a geometry on the map as the one being edited (draggable). */
  setGeometry(g, fromDrawing) {
    const gj = L.geoJSON(g, { style: EDIT_STYLE, pointToLayer: (f, ll) => L.circleMarker(ll, POINT_STYLE) });
    const layer = gj.getLayers()[0];
    if (!layer) return;
    gj.removeLayer(layer);
    if (this.layer) {
      if (this.layer.pm) this.layer.pm.disable();
      this.layer.remove();
    }
    this.layer = layer;
    layer.addTo(this.map);
    if (layer.pm) layer.pm.enable({ allowSelfIntersection: false, draggable: true });
    layer.on('pm:edit pm:dragend pm:markerdragend pm:vertexadded pm:vertexremoved', () => {
      this.dirty = true;
      this.geometryChanged();
    });
    if (fromDrawing) this.dirty = true;
    this.geometryChanged();
  }

  geometry() {
    if (!this.layer) return null;
    const g = this.layer.toGeoJSON(15).geometry;
    const round = (c) => (typeof c[0] === 'number' ? [Math.round(c[0] * 1e7) / 1e7, Math.round(c[1] * 1e7) / 1e7] : c.map(round));
    return { type: g.type, coordinates: round(g.coordinates) };
  }

  geometryChanged() {
    const g = this.geometry();
    if (!g) return;
    this.els.geomInfo.textContent = g.type === 'Point' ? `已设置点位（${g.coordinates[0].toFixed(6)}, ${g.coordinates[1].toFixed(6)}）` : '已绘制范围';
    if (g.type === 'Point') {
      this.els.lon.value = g.coordinates[0].toFixed(7);
      this.els.lat.value = g.coordinates[1].toFixed(7);
    }
    this.setError('geometry', '');
  }

  applyPoint() {
    const lon = Number(this.els.lon.value);
    const lat = Number(this.els.lat.value);
    if (this.els.lon.value === '' || this.els.lat.value === '' || !Number.isFinite(lon) || !Number.isFinite(lat)) {
      this.setError('geometry', '请填写经度和纬度');
      return;
    }
    if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
      this.setError('geometry', '超出经纬度范围（经度 -180…180，纬度 -90…90）');
      return;
    }
    this.setGeometry({ type: 'Point', coordinates: [lon, lat] }, true);
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), 15));
  }

  setError(name, message) {
    const box = this.form && this.form.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`);
    if (!box) return false;
    box.textContent = message || '';
    const f = box.closest('.form-field');
    if (f) f.classList.toggle('has-error', !!message);
    return true;
  }

  showErrors(err) {
    for (const el of this.form.querySelectorAll('.field-error[data-for]')) el.textContent = '';
    for (const el of this.form.querySelectorAll('.has-error')) el.classList.remove('has-error');
    const rest = [];
    for (const f of err.fields || []) {
      const name = String(f.field || '');
      if (!this.setError(name, f.message) && !this.setError(name.split('.')[0], f.message)) rest.push(`${FIELD_NAMES[name] || name}：${f.message}`);
    }
    const n = (err.fields || []).length;
    replace(this.els.general, h('strong', '未能保存：'), n ? `有 ${n} 处需要修改，见标红的字段。` : err.message,
      rest.length ? h('ul', rest.map((r) => h('li', r))) : null);
    this.els.general.hidden = false;
    const first = this.form.querySelector('.has-error') || this.els.general;
    first.scrollIntoView({ block: 'center' });
  }

  collect() {
    const e = this.els;
    const n = (el) => (el.value.trim() === '' ? 0 : Number(el.value));
    const props = { name: e.name.value.trim(), kind: e.kind.value, address: e.address.value.trim() };
    if (this.kind === 'protective-targets') props.people = n(e.people);
    else Object.assign(props, { capacity: n(e.capacity), effective_area_m2: n(e.area), service_radius_m: n(e.radius) });
    return { type: 'Feature', geometry: this.geometry(), properties: props };
  }

  async save() {
    const f = this.collect();
    this.els.general.hidden = true;
    if (!f.geometry) {
      this.showErrors({ fields: [{ field: 'geometry', message: '请在地图上画点或范围，或输入坐标' }] });
      return;
    }
    const kind = this.kind;
    const S = SITE[kind];
    this.els.save.disabled = true;
    this.els.save.textContent = '正在保存…';
    let res;
    try {
      res = this.feature
        ? await this.api.updateSite(kind, this.feature.id ?? this.feature.properties.id, f, this.etag)
        : await this.api.createSite(kind, f);
    } catch (e) {
      this.els.save.disabled = false;
      this.els.save.textContent = this.feature ? '保存修改' : '保存';
      if (!(e instanceof ApiError)) this.showErrors({ message: `网络错误：${e.message}` });
      else if (e.status === 412) this.showErrors({ message: `该${S.label}已被其他人修改，本次未保存。请取消后重新打开再修改。` });
      else this.showErrors(e);
      return;
    }
    const saved = res.data;
    toast(`已保存：${saved.properties.name}`, 'ok');
    this.closeForm(true);
    this.onChanged(kind);
    this.closeDrawer(true);
    this.showSite(kind, saved);
  }
}
