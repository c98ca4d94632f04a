// The internal map application (GET /): the login, the four-colour unit and regional maps,
// filters, search, unit details with review (提交审核 / 审核通过 / 退回), the register
// table, statistics, expert entry and, for administrators, the 系统管理 panels.
import L from '../lib/leaflet.js';
import 'leaflet/dist/leaflet.css';
import '../css/base.css';
import '../css/app.css';
import { Api } from '../lib/api.js';
import { $, h, replace, toast } from '../lib/dom.js';
import { GRADE_CODES, grade, swatch, badge } from '../lib/grades.js';
import { createMapApp, highlighter } from '../lib/mapbase.js';
import { searchBox, flyToFeature, regionPlaces, flyToPlace } from '../lib/search.js';
import { levelLabel } from '../lib/regionlayer.js';
import { filterParams, UnitLayer, unitStyle } from '../lib/unitlayer.js';
import { renderUnit, renderRegion } from './details.js';
import { ensureSession, showLogin, renderUser } from './session.js';
import { STATUS } from '../lib/labels.js';
import { RegisterTable } from './table.js';
import { ImportDialog, reportLinks } from './documents.js';
import { StatsView } from './stats.js';
import { setupLayout } from './layout.js';
import { AnalysisLayers } from './analysis.js';
import { Monitoring } from './monitoring.js';

const api = new Api('');
const drawer = $('#drawer');
const bottom = $('#bottom');
let app;
let catalog = { groups: [], categories: [], accident_types: [] };
let regionNames = new Map();
let editor = null; // the entry form, loaded on first use
let admin = null; // the 系统管理 panels, loaded on first use (administrators only)
let hazards = null; // 隐患排查治理 (hazards.js), loaded on first use
let highlight;
let session = null; // GET /api/v1/session: {user: {name, role, department, categories, regions}, …}
let relogin = null;
let layout = null; // the phone layout (layout.js): menu, filters panel, bottom sheet
let analysis = null; // the analysis layers and the selected unit's influence range (analysis.js)
let sites = null; // 空间分析: conflict table, targets and shelters (sites.js), loaded on first use
let monitoring = null; // 监测预警: the event stream, the alarm panel, the units' 监测点 (monitoring.js)

/** inScope mirrors the server's scope rule for a department user (categories × region prefixes). */
function inScope(u, category, regionCode) {
  if (!u || u.role !== 'department') return true;
  return (u.categories || []).includes(category) && (u.regions || []).some((r) => String(regionCode || '').startsWith(r));
}

/** mayEdit is what the page assumes before the unit's review record says (the server decides). */
function mayEdit(p) {
  return !!(app && app.cfg.editable && session && inScope(session.user, p.category, p.region_code));
}

const ctx = {
  categoryLabel: (code) => (catalog.categories.find((c) => c.code === code) || {}).label || code || '',
  accidentLabel: (code) => (catalog.accident_types.find((c) => c.code === code) || {}).label || code,
  regionName: (code) => {
    if (!code) return '';
    const chain = [];
    for (const len of [6, 9, 12]) {
      if (code.length >= len && regionNames.has(code.slice(0, len))) chain.push(regionNames.get(code.slice(0, len)));
    }
    return chain.length ? `${chain.join(' / ')}（${code}）` : code;
  },
};

function openDrawer(kind) {
  drawer.hidden = false;
  drawer.dataset.kind = kind;
  document.body.classList.add('drawer-open');
  app && app.map.invalidateSize();
}

function closeDrawer() {
  if (editor && editor.active && !editor.close()) return;
  if (sites && sites.active && !sites.closeForm()) return;
  drawer.hidden = true;
  drawer.replaceChildren();
  delete drawer.dataset.unitId;
  document.body.classList.remove('drawer-open');
  highlight && highlight.clear();
  analysis && analysis.clearSelection();
  app && app.map.invalidateSize();
}

async function showUnit(id, { fly = false } = {}) {
  if (editor && editor.active) return;
  if (sites && sites.active) return;
  if (monitoring && monitoring.picking) return; // a point's place is being picked on the map
  analysis.clearSelection();
  openDrawer('unit');
  replace(drawer, h('div.panel-loading', '正在加载…'));
  let res;
  let review;
  let unitHazards;
  try {
    [res, review, unitHazards] = await Promise.all([api.unit(id), api.review(id).catch(() => null), api.unitHazards(id, { limit: 100 }).catch(() => null)]);
  } catch (e) {
    replace(drawer, h('div.panel-error', e.status === 403 || e.status === 404 ? '该单元不在您的管辖范围内，或已不存在。' : `无法加载单元：${e.message}`));
    return;
  }
  const f = res.data;
  // The influence range is drawn by the analysis as a ground-distance buffer, with the
  // unit's conflict lines; its 安全距离冲突 section fills in when they come.
  highlight.show(f, 0);
  const conflicts = analysis.selectUnit(f, { onTarget: (c) => sitePanel().then((p) => p.showSite('protective-targets', c.target.id, { fly: true })) });
  if (fly) flyToFeature(app.map, f);
  else layout.reveal(f); // on a phone, not under the sheet
  renderUnit(drawer, f, {
    ...ctx,
    editable: app.cfg.editable,
    canEdit: app.cfg.editable && (review ? !!review.can_edit : mayEdit(f.properties)),
    review,
    onClose: closeDrawer,
    onZoom: () => {
      layout.setSheet('half'); // on a phone the map shows above the details
      flyToFeature(app.map, f);
    },
    onEdit: () => openEditor(f, res.etag),
    hazards: unitHazards,
    conflicts,
    monitoring: monitoring ? monitoring.unitSection(f, { canEdit: app.cfg.editable && inScope(session.user, f.properties.category, f.properties.region_code) && f.properties.status !== 'retired' }) : null,
    onHazard: (hid) => hazardPanel().then((p) => p.showHazard(hid)),
    onNewHazard: f.properties.status !== 'retired' && inScope(session.user, f.properties.category, f.properties.region_code)
      ? () => hazardPanel().then((p) => p.newHazard(f))
      : null,
    onReview: (action, reason) => reviewUnit(f, res.etag, action, reason),
  });
  drawer.dataset.unitId = String(f.id);
  drawer.dataset.status = f.properties.status || '';
}

const REVIEW_DONE = { submit: '已提交审核', approve: '审核通过', reject: '已退回修改', retire: '注销' };

/** reviewUnit submits, approves or rejects the shown revision (If-Match: its ETag). */
async function reviewUnit(f, etag, action, reason) {
  for (const b of drawer.querySelectorAll('.panel-actions button, .reject-box button')) b.disabled = true;
  try {
    const res = await api.reviewAction(f.id, action, etag, reason && typeof reason === 'object' ? reason : action === 'reject' ? (reason ? { reason } : {}) : undefined);
    const p = (res.data && res.data.properties) || {};
    toast(`${REVIEW_DONE[action]}：${p.name || f.properties.name}（${STATUS[p.status] || p.status || ''}）`, 'ok');
    app.refreshData();
    if (refreshMatched) refreshMatched();
    refreshPending();
    table.reloadIfOpen();
  } catch (e) {
    if (e.status === 412) toast('该单元已被其他人修改，已加载最新版本，请核对后再操作。', 'error', 6000);
    else if (e.status === 403) toast(`无权执行该操作：${e.message}`, 'error', 6000);
    else toast(`操作失败：${e.message}`, 'error', 6000);
  }
  if (drawer.dataset.unitId === String(f.id) && drawer.dataset.kind === 'unit') showUnit(f.id);
}

async function showRegion(p) {
  openDrawer('region');
  replace(drawer, h('div.panel-loading', '正在加载…'));
  try {
    const f = await api.region(p.code);
    renderRegion(drawer, f, { onClose: closeDrawer, levelLabel });
    highlight.show(f, 0);
  } catch (e) {
    replace(drawer, h('div.panel-error', `无法加载区域：${e.message}`));
  }
}

async function openEditor(feature, etag) {
  if (!app.cfg.editable) return;
  if (!editor) {
    const mod = await import('./editor.js');
    editor = new mod.Editor({ api, app, catalog, regionsP: app.regionsP, ctx, drawer, onSaved, onClosed, user: session.user });
  }
  highlight.clear();
  analysis.clearSelection();
  openDrawer('editor');
  editor.open(feature, etag);
}

function onClosed() {
  drawer.hidden = true;
  drawer.replaceChildren();
  document.body.classList.remove('drawer-open');
  app.map.invalidateSize();
}

/** onSaved follows a save; told: the editor has said already what it did (nothing changed). */
function onSaved(f, { told = false } = {}) {
  if (!told) toast(`已保存：${f.properties.name}（${grade(f.properties.grade).label}）`, 'ok');
  refreshPending();
  if (refreshOverdue) refreshOverdue();
  app.refreshData();
  analysis.refresh();
  if (refreshMatched) refreshMatched();
  table.reloadIfOpen();
  showUnit(f.id);
}

/** sitePanel loads 空间分析 (the conflict table, targets and shelters) on first use. */
async function sitePanel() {
  if (!sites) {
    const mod = await import('./sites.js');
    sites = new mod.SitesPanel({
      api, session, app, ctx, drawer, regionsP: app.regionsP, getCatalog: () => catalog, highlight, analysis,
      editable: !!app.cfg.editable,
      openDrawer: (kind) => {
        analysis.clearSelection();
        highlight.clear();
        openDrawer(kind);
      },
      closeDrawer,
      onUnit: (id) => {
        sites.close();
        app.setMode('units');
        showUnit(id, { fly: true });
      },
      // A target or shelter changed: so may the conflicts, the coverage and the grades.
      onChanged: () => {
        analysis.refresh();
        app.refreshData();
        if (refreshMatched) refreshMatched();
      },
    });
    window.riskmapSites = sites; // for the browser tests
  }
  return sites;
}

// ---- the sidebar: layers and filters ----

function buildSidebar() {
  // A department user's filters offer only what its scope holds: its categories, their groups
  // and departments, and its regions (with the regions above them, to choose from).
  const u = session.user;
  const scoped = u.role === 'department';
  const cats = scoped ? catalog.categories.filter((c) => (u.categories || []).includes(c.code)) : catalog.categories;
  const regionVisible = (code) => !scoped || (u.regions || []).some((r) => code.startsWith(r) || r.startsWith(code));
  const groupSel = h('select#f-group', { 'aria-label': '行业大类' }, h('option', { value: '' }, '全部大类'),
    catalog.groups.filter((g) => cats.some((c) => c.group === g.code)).map((g) => h('option', { value: g.code }, g.label)));
  const catSel = h('select#f-category', { 'aria-label': '行业领域' });
  const deptSel = h('select#f-department', { 'aria-label': '监管部门' }, h('option', { value: '' }, '全部部门'),
    [...new Set(cats.map((c) => c.department).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'zh-CN')).map((d) => h('option', { value: d }, d)));
  const districtSel = h('select#f-district', { 'aria-label': '区县' });
  const streetSel = h('select#f-street', { 'aria-label': '街道（乡镇）' });
  const communitySel = h('select#f-community', { 'aria-label': '社区（村）' });
  const statusSel = h('select#f-status', { 'aria-label': '审核状态' }, h('option', { value: '' }, '全部状态'),
    [['submitted', '待审核'], ['draft', '草稿'], ['approved', '已审核']].map(([v, l]) => h('option', { value: v }, l)));
  // Reviews overdue (下次复核 in the past): a filter, with how many there are in scope.
  const overdueBox = h('input#f-overdue', { type: 'checkbox' });
  // Units with open hidden dangers (未销号隐患): a filter; the map marks them anyway.
  const hazardBox = h('input#f-open-hazards', { type: 'checkbox' });
  const overdueCount = h('span.overdue-count', '');
  const gradeBoxes = GRADE_CODES.map((code) =>
    h('label.grade-chip', { dataset: { grade: code } },
      h('input', { type: 'checkbox', checked: true, value: code, name: 'grade' }),
      swatch(code, 'dot'), h('span', grade(code).short_label)));
  const matched = h('div.matched', '');

  const fillCategories = () => {
    const g = groupSel.value;
    replace(catSel, h('option', { value: '' }, g ? '该大类全部领域' : '全部领域'),
      catalog.groups.filter((x) => !g || x.code === g).map((grp) =>
        cats.some((c) => c.group === grp.code) ? h('optgroup', { label: grp.label }, cats.filter((c) => c.group === grp.code).map((c) => h('option', { value: c.code }, c.label))) : null));
  };
  const fillRegions = async () => {
    const r = await app.regionsP;
    const opts = (fc, prefix) => fc.features.filter((f) => (!prefix || f.properties.code.startsWith(prefix)) && regionVisible(f.properties.code)).map((f) => h('option', { value: f.properties.code }, f.properties.name));
    const d = districtSel.value;
    const s = streetSel.value;
    if (!districtSel.options.length) replace(districtSel, h('option', { value: '' }, '全部区县'), opts(r.district));
    replace(streetSel, h('option', { value: '' }, '全部街道（乡镇）'), opts(r.street, d));
    streetSel.value = s && s.startsWith(d) ? s : '';
    const c = communitySel.value;
    replace(communitySel, h('option', { value: '' }, '全部社区（村）'), streetSel.value ? opts(r.community, streetSel.value) : []);
    communitySel.value = c && streetSel.value && c.startsWith(streetSel.value) ? c : '';
    communitySel.disabled = !streetSel.value;
  };

  const apply = async () => {
    const grades = gradeBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    const g = groupSel.value;
    const dept = deptSel.value;
    const cat = catSel.value;
    // The department filter is the categories the department supervises by default.
    let cats = null;
    if (g || dept || cat) {
      cats = catalog.categories.filter((c) => (!g || c.group === g) && (!dept || c.department === dept) && (!cat || c.code === cat)).map((c) => c.code);
    }
    const region = communitySel.value || streetSel.value || districtSel.value || '';
    const empty = grades.length === 0 || (cats != null && cats.length === 0);
    const statuses = statusSel.value ? [statusSel.value] : null;
    const overdue = overdueBox.checked;
    const openHazards = hazardBox.checked;
    app.setFilters({ grades, categories: cats, region, statuses, overdue, openHazards, empty });
    document.body.dataset.filtered = grades.length < 4 || cats || region || statuses || overdue || openHazards ? '1' : '';
    table.reloadIfOpen();
    stats.reloadIfOpen();
    if (empty) {
      matched.textContent = '筛选结果：0 个风险单元';
      return;
    }
    try {
      const fc = await api.units({ ...filterParams(app.state.filters), limit: 1 });
      matched.textContent = `筛选结果：${fc.numberMatched.toLocaleString('zh-CN')} 个风险单元`;
    } catch {
      matched.textContent = '';
    }
  };
  refreshMatched = async () => {
    if (app.state.filters.empty) return;
    try {
      const fc = await api.units({ ...filterParams(app.state.filters), limit: 1 });
      matched.textContent = `筛选结果：${fc.numberMatched.toLocaleString('zh-CN')} 个风险单元`;
    } catch {
      /* keep the last count */
    }
  };
  groupSel.addEventListener('change', () => { fillCategories(); apply(); });
  for (const el of [catSel, deptSel, statusSel, overdueBox, hazardBox, ...gradeBoxes.map((l) => l.querySelector('input'))]) el.addEventListener('change', apply);
  // The review queue (待审核) in the header: choosing it filters to the submitted units and
  // opens the register table on them.
  showPending = () => {
    statusSel.value = 'submitted';
    apply();
    if (!table.open) table.toggle();
  };
  // Choosing a region filters to it and shows it whole; clearing one shows its parent.
  const zoomToChosen = async () => {
    const r = await app.regionsP;
    const code = communitySel.value || streetSel.value || districtSel.value;
    const fs = code ? [...r.community.features, ...r.street.features, ...r.district.features].filter((f) => f.properties.code === code) : r.district.features;
    if (!fs.length) return;
    const b = L.geoJSON({ type: 'FeatureCollection', features: fs }).getBounds();
    if (b.isValid()) app.map.flyToBounds(b, { padding: [20, 20], duration: 0.5 });
  };
  const regionChanged = () => fillRegions().then(apply).then(zoomToChosen);
  districtSel.addEventListener('change', regionChanged);
  streetSel.addEventListener('change', regionChanged);
  communitySel.addEventListener('change', () => apply().then(zoomToChosen));
  fillCategories();
  fillRegions();
  refreshOverdue = async () => {
    try {
      const n = (await api.units({ overdue: 'true', limit: 1 })).numberMatched;
      overdueCount.textContent = `（${n.toLocaleString('zh-CN')}）`;
      overdueCount.title = `下次复核日期已过的单元：${n.toLocaleString('zh-CN')} 个`;
    } catch {
      /* keep the last count */
    }
  };
  refreshOverdue();

  const reset = () => {
    groupSel.value = '';
    fillCategories();
    catSel.value = '';
    deptSel.value = '';
    districtSel.value = '';
    streetSel.value = '';
    communitySel.value = '';
    statusSel.value = '';
    overdueBox.checked = false;
    hazardBox.checked = false;
    for (const l of gradeBoxes) l.querySelector('input').checked = true;
    fillRegions().then(apply);
  };

  replace(
    $('#sidebar'),
    h('section.side-section',
      h('h2', '风险等级'),
      h('div.grade-chips', gradeBoxes)),
    h('section.side-section',
      h('h2', '行业领域'),
      h('label.field', h('span', '大类'), groupSel),
      h('label.field', h('span', '领域'), catSel),
      h('label.field', h('span', '监管部门'), deptSel)),
    h('section.side-section',
      h('h2', '审核状态'),
      h('label.field', h('span', '状态'), statusSel),
      h('label.check.overdue-filter', overdueBox, '仅看逾期未复核', overdueCount),
      h('p.hint.status-key', '地图上单元的轮廓：实线为已审核，虚线为待审核，点线为草稿。')),
    h('section.side-section',
      h('h2', '隐患'),
      h('label.check.hazard-filter', hazardBox, '仅看有未销号隐患的单元'),
      h('p.hint.hazard-key', '有未销号隐患的单元在地图上加深色外圈；未销号重大隐患使单元当前等级上调（默认为重大）。')),
    h('section.side-section',
      h('h2', '所属区域'),
      h('label.field', h('span', '区县'), districtSel),
      h('label.field', h('span', '街道'), streetSel),
      h('label.field', h('span', '社区'), communitySel)),
    // 空间分析: the analysis layers and the panel (冲突清单, 防护目标, 应急避难场所).
    analysis.sideSection(async (tab) => {
      if (admin) admin.close();
      if (hazards) hazards.close();
      if (monitoring) monitoring.close();
      layout.setFilters(false); // on a phone the filters panel slides away
      (await sitePanel()).open(tab);
    }),
    // The 城市安全风险评估报告 and the map as an image, for the filters above (and the view).
    h('section.side-section.side-reports',
      h('h2', '评估报告与地图图片'),
      h('div.report-links', reportLinks(app, () => filterParams(app.state.filters))),
      h('p.hint', '报告按上方筛选条件和您的管辖范围生成；地图图片为当前视图范围。')),
    h('section.side-section.side-foot', matched, h('button.btn.btn-small', { type: 'button', onclick: reset }, '重置筛选'),
      h('p.hint', '筛选作用于单元四色图、图例计数、风险清单和统计分析。区域四色图按全部单元汇总。'),
      session.user.role === 'department'
        ? h('p.hint.scope-note', '实色为本部门管辖范围内的单元；范围外已发布的单元以淡色、虚线显示（公众版信息）。区域四色图为已发布的区域等级。')
        : null),
  );
  apply();
}

async function logout() {
  if (editor && editor.active && !editor.close()) return;
  if (monitoring) monitoring.stop();
  try {
    await api.logout();
  } catch {
    /* the session may have ended already */
  }
  location.replace('/');
}

/** sessionEnded shows the login form over the page when a request comes back 401. */
function sessionEnded() {
  if (relogin) return;
  relogin = showLogin(api, { notice: '登录已失效，请重新登录。' }).then((s) => {
    relogin = null;
    if (!session || s.user.name !== session.user.name) {
      location.reload();
      return;
    }
    session = s;
    // What failed while logged out loads again; so does the event stream.
    if (monitoring) monitoring.start();
    app.refreshData();
    if (refreshMatched) refreshMatched();
    table.reloadIfOpen();
    stats.reloadIfOpen();
  });
}

/**
 * addPublicLayer shows a department user, under its own units, the published units outside
 * its scope as the public sees them: paler, dashed, with only the public fields.
 */
function addPublicLayer() {
  const u = session.user;
  let outside;
  const layer = new UnitLayer(app.map, {
    base: '/public',
    pane: 'publicUnits',
    zIndex: 415,
    clusters: false,
    style: (p, z, f) => {
      if (p.cluster || f.openHazards || inScope(u, p.category, p.region_code)) return [];
      const s = unitStyle(p, z, f);
      const fade = (x) => ({ ...x, opacity: 0.55, fillOpacity: Math.min(0.3, x.fillOpacity ?? 0.3), dashArray: p.$type === 1 ? null : '4 3' });
      return Array.isArray(s) ? s.map(fade) : fade(s);
    },
    onUnit: (p, latlng) => {
      outside = L.popup({ maxWidth: 280, className: 'public-popup' }).setLatLng(latlng).setContent(
        h('div.public-card', { dataset: { id: p.id } },
          h('div.public-card-head', badge(p.grade, true), ' ', h('span.muted', '公开信息 · 不在本部门管辖范围')),
          h('dl.kv-list',
            h('div.kv', h('dt', '编号'), h('dd', p.code || '—')),
            h('div.kv', h('dt', '行业领域'), h('dd', ctx.categoryLabel(p.category))),
            h('div.kv', h('dt', '所在区域'), h('dd', ctx.regionName(p.region_code) || '—'))))).openOn(app.map);
    },
  });
  app.addOverlay(layer);
  return layer;
}

let table;
let stats;

/** hazardPanel loads 隐患排查治理 on first use. */
async function hazardPanel() {
  if (!hazards) {
    const mod = await import('./hazards.js');
    hazards = new mod.HazardPanel({
      api, session, ctx, regionsP: app.regionsP, getCatalog: () => catalog,
      // A hidden danger changed: the unit's grade and mark may have, and so the map.
      onChanged: () => {
        app.refreshData();
        if (refreshMatched) refreshMatched();
        table.reloadIfOpen();
        if (!drawer.hidden && drawer.dataset.kind === 'unit' && drawer.dataset.unitId) showUnit(drawer.dataset.unitId);
      },
      onUnit: (id) => {
        hazards.close();
        app.setMode('units');
        showUnit(id, { fly: true });
      },
      supervisionExtra: monitoring ? () => monitoring.statsCard() : null,
    });
  }
  return hazards;
}
let refreshMatched = null;
let showPending = null;
let refreshOverdue = null;

/** refreshPending writes the number of units waiting for review on the header's 待审核 button. */
async function refreshPending() {
  const btn = $('#btn-pending');
  if (!btn || btn.hidden) return;
  try {
    const n = (await api.units({ status: 'submitted', limit: 1 })).numberMatched;
    btn.querySelector('.pending-count').textContent = n.toLocaleString('zh-CN');
    btn.dataset.count = String(n);
    btn.classList.toggle('has-pending', n > 0);
  } catch {
    /* keep the last count */
  }
}

async function main() {
  session = await ensureSession(api);
  api.onUnauthorized = sessionEnded;
  document.body.dataset.role = session.user.role || '';
  app = await createMapApp(api, {
    onUnit: (p) => showUnit(p.id),
    onRegion: (p) => showRegion(p),
    // A region's drawer and highlight belong to the regional map.
    onMode: (mode) => mode !== 'regions' && drawer.dataset.kind === 'region' && !drawer.hidden && closeDrawer(),
  });
  window.riskmap = app; // for the browser tests and the curious
  layout = setupLayout({ map: app.map, drawer });
  highlight = highlighter(app.map);
  analysis = new AnalysisLayers({
    api, app,
    onUnit: (id) => {
      app.map.closePopup();
      showUnit(id);
    },
    onSite: (kind, f) => sitePanel().then((p) => p.showSite(kind, f)),
  });
  const catP = api.categories().then((c) => (catalog = c));
  app.regionsP.then((r) => {
    for (const fc of Object.values(r)) for (const f of fc.features) regionNames.set(f.properties.code, f.properties.name);
  });
  renderUser($('#user'), session, { editable: app.cfg.editable, onLogout: logout });
  $('#btn-new').hidden = !app.cfg.editable;
  if (session.user.role === 'department') app.publicUnits = addPublicLayer();
  if (session.user.role === 'admin') {
    const btn = $('#btn-admin');
    btn.hidden = false;
    btn.addEventListener('click', async () => {
      if (!admin) {
        const mod = await import('./admin.js');
        admin = new mod.AdminPanel({ api, session, ctx, getCatalog: () => catalog, onPublished: () => app.refreshData() });
      }
      if (hazards) hazards.close();
      if (sites) sites.close();
      if (monitoring) monitoring.close();
      admin.toggle();
    });
  }
  $('#search-slot').appendChild(
    searchBox(api, {
      placeholder: '搜索地点、单元名称或编号',
      places: regionPlaces(app.regionsP, levelLabel),
      onPlace: (place) => flyToPlace(app.map, place),
      describe: (f) => [f.properties.name, `${f.properties.code} · ${ctx.categoryLabel(f.properties.category)}`],
      onPick: (f) => {
        app.setMode('units');
        flyToFeature(app.map, f);
        showUnit(f.id);
      },
    }),
  );
  // Who may write units may import them from the Excel 风险清单.
  const importer = app.cfg.editable
    ? new ImportDialog({
      api,
      onDone: () => {
        app.refreshData();
        if (refreshMatched) refreshMatched();
        table.reloadIfOpen();
        refreshPending();
      },
    })
    : null;
  window.riskmapImport = importer; // for the browser tests
  table = new RegisterTable({ api, app, bottom, ctx, onRow: (f) => { flyToFeature(app.map, f); showUnit(f.id); }, onImport: importer ? () => importer.open() : null });
  stats = new StatsView({ api, app, bottom, ctx, getCatalog: () => catalog });
  $('#btn-register').addEventListener('click', () => { stats.close(); table.toggle(); });
  $('#btn-stats').addEventListener('click', () => { table.close(); stats.toggle(); });
  $('#btn-new').addEventListener('click', () => openEditor(null, null));
  $('#btn-hazards').addEventListener('click', async () => {
    if (admin) admin.close();
    if (sites) sites.close();
    if (monitoring) monitoring.close();
    (await hazardPanel()).toggle();
  });
  // 监测预警: live alarms on the map and in the header, the panel 报警.
  monitoring = new Monitoring({
    api, app, session, ctx,
    onUnit: (id) => {
      app.setMode('units');
      showUnit(id, { fly: true });
    },
    onHazard: (hid) => hazardPanel().then((p) => p.showHazard(hid)),
    onPanel: () => {
      if (admin) admin.close();
      if (sites) sites.close();
      if (hazards) hazards.close();
    },
    // A unit's grade changed (an alarm raised or released it): its details follow, unless
    // a form is open in them.
    onGrade: (id) => {
      table.reloadIfOpen();
      if (refreshMatched) refreshMatched();
      if (!drawer.hidden && drawer.dataset.kind === 'unit' && drawer.dataset.unitId === String(id) && !drawer.querySelector('form, .reject-box:not([hidden])')) showUnit(id);
    },
  });
  window.riskmapMonitoring = monitoring; // for the browser tests
  monitoring.start();
  $('#btn-alarms').addEventListener('click', () => monitoring.toggle());

  // Reviewers (experts and admins) see the review queue and its count.
  const pending = $('#btn-pending');
  pending.hidden = !['expert', 'admin'].includes(session.user.role);
  pending.addEventListener('click', () => showPending && showPending());
  refreshPending();
  setInterval(refreshPending, 60 * 1000);
  await catP;
  buildSidebar();
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !drawer.hidden && !['editor', 'site-editor'].includes(drawer.dataset.kind)) closeDrawer();
  });
}

main().catch((e) => {
  console.error(e);
  toast(`页面初始化失败：${e.message}`, 'error', 10000);
});
