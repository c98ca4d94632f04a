// The internal application on a phone (390×844, touch) as each role, and the desktop
// layout at 1366×800 unchanged: no panel makes the page scroll sideways, every visible
// control lies on the screen (or in a box that scrolls), is at least 40 px and is not
// covered, and the key actions can be tapped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, login, api, authHeaders, USERS, ARTIFACTS, waitInteractive, waitTiles, waitLegend } from './harness.mjs';
import { fillTemplate } from './xlsx.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };
const DESKTOP = { viewport: { width: 1366, height: 800 } };

let srv;
let browser;
const sessions = {};
let unit; // an approved unit every role may see
let template; // the import template, filled in for the import dialog

before(async () => {
  srv = await startServer();
  browser = await launch();
  const cats = (await api(srv.url, 'GET', '/api/v1/categories')).body.categories;
  const scope = cats.filter((c) => c.department === '住建局').map((c) => c.code);
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'zhujian-phone', role: 'department', department: '住建局', categories: scope, regions: ['530481'], password: 'dept-pass-0003' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  sessions.admin = srv.admin;
  const tpl = await fetch(srv.url + '/api/v1/templates/units.xlsx', { headers: authHeaders(srv.admin) });
  template = Buffer.from(await tpl.arrayBuffer());
  sessions.expert = await login(srv.url, USERS.expert.name, USERS.expert.password);
  sessions.department = await login(srv.url, 'zhujian-phone', 'dept-pass-0003');
  for (const [role, s] of Object.entries(sessions)) assert.equal(s.status ?? 200, 200, `${role} logs in`);
  const fc = (await api(srv.url, 'GET', `/api/v1/units?limit=500&category=${scope.join(',')}&status=approved`)).body;
  unit = fc.features.find((f) => f.geometry.type === 'Point');
  assert.ok(unit, 'a unit of the department');
  // A hidden danger of that unit, for its details on a phone.
  const day = (n) => new Date(Date.now() + 8 * 3600 * 1000 + n * 86400000).toISOString().slice(0, 10);
  const hz = await api(srv.url, 'POST', '/api/v1/hazards', { unit_id: unit.id, level: 'major', description: '手机检查隐患：脚手架连墙件缺失', found_at: day(0), source: 'inspection',
    responsible_unit: '某建设公司', responsible_person: '责任人乙', measures: '补设连墙件', deadline: day(10) });
  assert.equal(hz.status, 201, JSON.stringify(hz.body));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** open opens the internal map as session s on a device and waits for it to be drawn. */
async function open(s, device) {
  const context = await browser.newContext({ ...device, locale: 'zh-CN', acceptDownloads: true });
  const i = s.cookie.indexOf('=');
  await context.addCookies([{ name: s.cookie.slice(0, i), value: s.cookie.slice(i + 1), url: srv.url, httpOnly: true, sameSite: 'Strict' }]);
  await context.route('**/*', (route) => (route.request().url().startsWith(srv.url) ? route.continue() : route.abort('internetdisconnected')));
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.stack || String(e)));
  page.on('dialog', (d) => d.accept().catch(() => {}));
  await page.goto(srv.url + '/');
  await waitInteractive(page);
  await waitTiles(page);
  await waitLegend(page);
  return page;
}

/**
 * layoutProblems lists what is wrong with the page as it shows now: the page wider than the
 * screen, a visible control off the screen (a control in a box that scrolls counts where
 * the box is), smaller than 40 px on a phone, or covered by something else.
 */
function layoutProblems(page, { phone = true, width = phone ? 390 : 1366 } = {}) {
  return page.evaluate(([phone, width]) => {
    const vw = innerWidth;
    const vh = innerHeight;
    const out = [];
    const se = document.scrollingElement;
    if (vw !== width) out.push(`the layout viewport is ${vw} px wide, not ${width}`);
    if (se.scrollWidth > vw) out.push(`the page is ${se.scrollWidth} px wide on a ${vw} px screen`);
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} “${(el.textContent || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 16)}”`;
    // The nearest ancestor that scrolls along an axis (and has something to scroll).
    const scroller = (el, axis) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const cs = getComputedStyle(a);
        const o = axis === 'x' ? cs.overflowX : cs.overflowY;
        if ((o === 'auto' || o === 'scroll') && (axis === 'x' ? a.scrollWidth > a.clientWidth : a.scrollHeight > a.clientHeight)) return a;
      }
      return null;
    };
    const sel = 'button, input, select, textarea, a.btn, .leaflet-control-zoom a, .leaflet-control-layers-toggle';
    for (const el of document.querySelectorAll(sel)) {
      if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const sx = scroller(el, 'x');
      const sy = scroller(el, 'y');
      const bx = sx ? sx.getBoundingClientRect() : r;
      const by = sy ? sy.getBoundingClientRect() : r;
      if (bx.left < -0.5 || bx.right > vw + 0.5) out.push(`${name(el)} is off the screen sideways (${Math.round(bx.left)}…${Math.round(bx.right)})`);
      if (by.top < -0.5 || by.bottom > vh + 0.5) out.push(`${name(el)} is off the screen (${Math.round(by.top)}…${Math.round(by.bottom)})`);
      if (phone) {
        const check = el.type === 'checkbox' || el.type === 'radio';
        const t = check ? el.closest('label') || el : el;
        const tr = t.getBoundingClientRect();
        if (tr.height < 39.5 || (!check && tr.width < 39.5)) out.push(`${name(t)} is ${Math.round(tr.width)}×${Math.round(tr.height)} px, under 40`);
      }
      // Not covered: checked where the control stays put (not in a box that scrolls).
      if (!sx && !sy && r.left >= 0 && r.right <= vw && r.top >= 0 && r.bottom <= vh) {
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        // Under an open panel (the sheet on the whole screen, the menu's scrim, a drop-down
        // menu, a dialog) is not covered by mistake.
        const panel = hit && hit.closest('#drawer, #admin, #hazards, .sidebar, #scrim, #topmenu, .login-screen, .menu-items, .modal-backdrop');
        if (hit && !el.contains(hit) && !hit.contains(el) && !(panel && !panel.contains(el))) out.push(`${name(el)} is covered by ${name(hit)}`);
      }
    }
    return out;
  }, [phone, width]);
}

async function assertLayout(page, what, opts) {
  const p = await layoutProblems(page, opts);
  assert.deepEqual(p, [], `${what}: ${p.join('; ')}`);
}

/** fontSizes are the computed font sizes of the visible fields under root. */
function smallFields(page, root) {
  return page.$$eval(`${root} input:not([type=checkbox]):not([type=radio]), ${root} select, ${root} textarea`, (els) =>
    els.filter((el) => el.checkVisibility()).map((el) => [el.id || el.name || el.className, parseFloat(getComputedStyle(el).fontSize)]).filter(([, s]) => s < 16));
}

/** menu taps an action in the header's menu (☰). */
async function menu(page, sel) {
  await page.tap('#btn-menu');
  await page.waitForSelector('#topmenu', { state: 'visible' });
  await page.tap(sel);
  assert.equal(await page.isVisible('#topmenu'), false, 'the menu closes on an action');
}

/** shownAbove says whether a vertex of unit lies inside the map as it shows (above the sheet). */
function shownAbove(page, unit) {
  let c = unit.geometry.coordinates;
  while (Array.isArray(c[0])) c = c[0];
  return page.evaluate(([lon, lat]) => {
    const m = window.riskmap.map;
    const p = m.latLngToContainerPoint([lat, lon]);
    const r = m.getContainer().getBoundingClientRect();
    const sheet = document.querySelector('#drawer').getBoundingClientRect();
    return p.x >= 0 && p.x <= r.width && p.y >= 0 && r.top + p.y <= Math.min(r.bottom, sheet.top);
  }, c);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name) });
}

for (const role of ['admin', 'expert', 'department']) {
  test(`on a phone as ${role}: map, menu, filters, details, entry, register, statistics and the regional map fit the screen`, async () => {
    const page = await open(sessions[role], PHONE);
    const shots = role === 'admin';

    // The map fills the screen under a header that fits.
    await assertLayout(page, 'the map');
    const header = await page.$eval('.topbar', (el) => el.getBoundingClientRect().height);
    assert.ok(header <= 110, `the header is ${header} px high`);
    const mapBox = await page.$eval('#map', (el) => el.getBoundingClientRect());
    assert.ok(mapBox.width === 390 && mapBox.height > 844 - header - 10, `the map is ${mapBox.width}×${mapBox.height}`);
    assert.equal(await page.isVisible('#sidebar-panel'), false, 'the filters wait behind their button');
    assert.equal(await page.isVisible('#btn-register'), false, 'the actions wait in the menu');
    if (shots) await shot(page, 'phone-map.png');
    // The zoom buttons are near the thumb and zoom the map.
    const z0 = await page.evaluate(() => window.riskmap.map.getZoom());
    await page.tap('.leaflet-control-zoom-in');
    await page.waitForFunction((z) => window.riskmap.map.getZoom() > z, z0);

    // The menu: every action and the user.
    await page.tap('#btn-menu');
    await page.waitForSelector('#topmenu', { state: 'visible' });
    await assertLayout(page, 'the menu');
    assert.equal(await page.isVisible('#btn-logout'), true);
    assert.equal(await page.isVisible('#btn-admin'), role === 'admin');
    assert.equal(await page.isVisible('#btn-pending'), role !== 'department');
    await page.tap('#btn-menu');
    await page.waitForSelector('#topmenu', { state: 'hidden' });

    // The filters slide over, filter, and close.
    await page.tap('#btn-filters');
    await page.waitForFunction(() => document.querySelector('#sidebar-panel').getBoundingClientRect().left >= 0);
    await page.waitForTimeout(250);
    await assertLayout(page, 'the filters');
    assert.deepEqual(await smallFields(page, '#sidebar'), [], 'fields at 16 px or more');
    await page.tap('.grade-chip[data-grade="blue"]');
    await page.waitForFunction(() => document.body.dataset.filtered === '1');
    await page.tap('.grade-chip[data-grade="blue"]');
    await page.waitForFunction(() => document.body.dataset.filtered === '');
    await page.tap('#btn-sidebar-close');
    await page.waitForSelector('#sidebar-panel', { state: 'hidden' });

    // Details of a unit: a sheet under the map, expandable to the whole screen.
    await page.tap('.search-input');
    await page.fill('.search-input', unit.properties.code);
    await page.waitForSelector('.search-item');
    await page.tap('.search-item');
    await page.waitForSelector('#drawer .unit-name');
    await page.waitForTimeout(700); // the map flies to it
    await assertLayout(page, 'the details');
    assert.ok(await shownAbove(page, unit), 'the unit shows on the map above the sheet');
    const half = await page.$eval('#drawer', (el) => el.getBoundingClientRect());
    assert.ok(half.top > 300 && half.bottom <= 844.5, `the sheet takes the lower part of the screen (${half.top}…${half.bottom})`);
    if (shots) await shot(page, 'phone-details.png');
    await page.tap('.sheet-grip');
    await page.waitForFunction(() => document.querySelector('#drawer').getBoundingClientRect().top <= 0);
    await assertLayout(page, 'the details on the whole screen');
    assert.equal(await page.isVisible('#drawer [data-action="edit"]'), true, '编辑 is within reach');
    // 定位 brings the map back above the sheet.
    await page.tap('#drawer .panel-actions .btn');
    await page.waitForFunction(() => document.querySelector('#drawer').getBoundingClientRect().top > 300);
    await page.tap('#drawer .panel-head .icon-btn');
    await page.waitForSelector('#drawer', { state: 'hidden' });
    // A unit tapped low on the map is not hidden by the sheet that opens.
    const low = await page.evaluate(([lon, lat]) => {
      const m = window.riskmap.map;
      m.setView([lat, lon], 18, { animate: false });
      m.panBy([0, -0.3 * m.getSize().y], { animate: false });
      const p = m.latLngToContainerPoint([lat, lon]);
      const r = m.getContainer().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    }, unit.geometry.coordinates);
    assert.ok(low.y > 640, `the unit is low on the screen (${low.y})`);
    await waitTiles(page);
    await page.touchscreen.tap(low.x, low.y);
    await page.waitForSelector('#drawer .unit-name');
    await page.waitForTimeout(400);
    assert.equal(await page.textContent('#drawer .unit-name'), unit.properties.name);
    assert.ok(await shownAbove(page, unit), 'the tapped unit moves up above the sheet');
    await page.tap('#drawer .panel-head .icon-btn');
    await page.waitForSelector('#drawer', { state: 'hidden' });

    if (role === 'expert') {
      // Review from the phone: 审核通过 and 退回 within reach, the reason box fits.
      const waiting = (await api(srv.url, 'GET', '/api/v1/units?limit=1&status=submitted')).body.features[0];
      await page.tap('.search-input');
      await page.fill('.search-input', waiting.properties.code);
      await page.waitForSelector('.search-item');
      await page.tap('.search-item');
      await page.waitForSelector('#drawer [data-action="approve"]');
      await page.waitForTimeout(700);
      await assertLayout(page, 'a unit waiting for review');
      await page.tap('#drawer [data-action="reject"]');
      await page.waitForSelector('#reject-reason', { state: 'visible' });
      await assertLayout(page, 'the reason to send a unit back');
      await page.tap('.reject-actions .btn:not(.btn-warn)');
      await page.waitForSelector('#reject-reason', { state: 'hidden' });
      await page.tap('#drawer .panel-head .icon-btn');
      await page.waitForSelector('#drawer', { state: 'hidden' });
    }

    // The entry form on the whole screen; drawing a point folds it away, then it comes back.
    await menu(page, '#btn-new');
    await page.waitForSelector('.editor-form');
    await page.waitForFunction(() => document.querySelector('#drawer').getBoundingClientRect().top <= 0);
    await assertLayout(page, 'the entry form');
    assert.deepEqual(await smallFields(page, '#drawer'), [], 'no field under 16 px (iOS would zoom in)');
    if (shots) await shot(page, 'phone-entry.png');
    await page.tap('[data-draw="point"]');
    await page.waitForFunction(() => document.body.classList.contains('drawing'));
    const free = await page.$eval('#map', (el) => el.getBoundingClientRect());
    assert.ok(free.height > 550, `the map is free to draw on (${free.height} px high)`);
    await assertLayout(page, 'drawing');
    const c = { x: free.left + free.width / 2, y: free.top + free.height / 2 };
    await page.touchscreen.tap(c.x, c.y);
    await page.waitForFunction(() => !document.body.classList.contains('drawing'));
    assert.match(await page.textContent('.geom-info'), /已绘制点/);
    await page.waitForFunction(() => document.querySelector('#drawer').getBoundingClientRect().top <= 0);
    if (role === 'admin') {
      // A line: its vertices tapped on the map, the grip finishes it.
      await page.tap('[data-draw="line"]');
      await page.waitForFunction(() => document.body.classList.contains('drawing'));
      assert.match(await page.getAttribute('.sheet-grip', 'aria-label'), /点此完成/);
      const m = await page.$eval('#map', (el) => el.getBoundingClientRect());
      await page.touchscreen.tap(m.left + m.width * 0.3, m.top + m.height * 0.4);
      await page.touchscreen.tap(m.left + m.width * 0.7, m.top + m.height * 0.5);
      await page.tap('.sheet-grip');
      await page.waitForFunction(() => !document.body.classList.contains('drawing'));
      assert.match(await page.textContent('.geom-info'), /已绘制线/);
    }
    // Its fields take a finger and the keyboard.
    await page.tap('#e-name');
    await page.fill('#e-name', '手机录入测试');
    await page.tap('.sheet-grip');
    await page.waitForFunction(() => document.body.classList.contains('sheet-mini'));
    await assertLayout(page, 'the entry form folded');
    await page.tap('.sheet-grip');
    await page.waitForFunction(() => document.body.classList.contains('sheet-full'));
    await page.tap('.form-actions .btn:not(.btn-primary)'); // 取消 (the dialog is accepted)
    await page.waitForSelector('#drawer', { state: 'hidden' });

    // The register: a card per unit, nothing scrolling sideways, ordered by the 排序 menu;
    // rows open details; export.
    await menu(page, '#btn-register');
    await page.waitForSelector('table.register tbody tr[data-id]');
    await assertLayout(page, 'the register');
    const wrap = await page.$eval('.table-wrap', (el) => ({ sw: el.scrollWidth, cw: el.clientWidth }));
    assert.ok(wrap.sw <= wrap.cw + 1, `the register fits its sheet (${wrap.sw} > ${wrap.cw})`);
    const card = await page.$eval('table.register tbody tr[data-id]', (tr) => {
      const r = tr.getBoundingClientRect();
      const shown = (k) => { const td = tr.querySelector(`td[data-key=${k}]`); return td && td.offsetParent !== null ? td.textContent : null; };
      return { right: r.right, grade: shown('grade'), status: shown('status'), due: shown('next_review_due') };
    });
    assert.ok(card.right <= 390 && card.grade && /^状态：|待审核|已审核|草稿/.test(card.status || '') , JSON.stringify(card));
    await page.selectOption('.bottom-head .sort-select', 'risk_value:-1');
    const values = await page.$$eval('table.register tbody tr[data-id] td[data-key=risk_value]', (tds) => tds.slice(0, 10).map((td) => Number(td.textContent)));
    assert.deepEqual(values, [...values].sort((a, b) => b - a), 'sorted by 风险值, highest first');
    if (shots) await shot(page, 'phone-register.png');
    const [download] = await Promise.all([page.waitForEvent('download'), page.tap('[data-action="csv"]')]);
    assert.match(download.suggestedFilename(), /^风险清单-\d{8}\.csv$/);
    // The 导出 Excel menu and the import dialog (full screen), with a workbook's problems.
    await page.tap('#bottom [data-menu=export] summary');
    await page.waitForSelector('#bottom [data-action=xlsx-dual]', { state: 'visible' });
    await assertLayout(page, 'the export menu');
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.tap('#bottom [data-action=xlsx]')]);
    assert.match(xlsx.suggestedFilename(), /\.xlsx$/);
    await page.waitForSelector('#bottom [data-action=xlsx]', { state: 'hidden' });
    await page.tap('#bottom [data-action=import]');
    await page.waitForSelector('.import-dialog input[type=file]');
    await assertLayout(page, 'the import dialog');
    await page.setInputFiles('.import-dialog input[type=file]', { name: '风险清单.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: fillTemplate(template, [{ 风险编号: `PHONE-IMP-${role}`, 风险点名称: '手机导入', 行政区划: '530481001003', 行业领域: '危险化学品', 评估方法: 'LS', '可能性L（LS）': 3, '严重性S（LS）': 3, 风险等级: '低风险', 经度: 102.9, 纬度: 24.65 }]) });
    await page.tap('.import-dialog [data-action=upload]');
    await page.waitForSelector('.import-dialog[data-status=checked]', { timeout: 30_000 });
    await assertLayout(page, 'the import problems');
    if (shots) await shot(page, 'phone-import.png');
    await page.tap('.import-dialog [data-action=cancel]');
    await page.waitForSelector('.import-dialog', { state: 'detached' });
    await page.tap('table.register tbody tr[data-id]');
    await page.waitForSelector('#drawer .unit-name');
    await assertLayout(page, 'details over the register');
    await page.tap('#drawer .panel-head .icon-btn');
    await page.waitForSelector('table.register', { state: 'visible' });
    await page.tap('.bottom-head .icon-btn');
    await page.waitForSelector('#bottom', { state: 'hidden' });

    // Statistics.
    await menu(page, '#btn-stats');
    await page.waitForSelector('.stat-card.total');
    await assertLayout(page, 'the statistics');
    await page.tap('.bottom-head .icon-btn');
    await page.waitForSelector('#bottom', { state: 'hidden' });

    // The regional map, its level switch and a region's details.
    await page.tap('[data-mode="regions"]');
    await page.waitForSelector('.level-switch', { state: 'visible' });
    await page.tap('.level-switch [data-level="district"]');
    await waitTiles(page, 'regions');
    await assertLayout(page, 'the regional map');
    const m = await page.$eval('#map', (el) => el.getBoundingClientRect());
    await page.touchscreen.tap(m.left + m.width / 2, m.top + m.height / 2);
    await page.waitForSelector('#drawer .region-name');
    await assertLayout(page, 'a region');
    await page.tap('#drawer .panel-head .icon-btn');
    await page.tap('[data-mode="units"]');

    // 隐患排查治理 on the whole screen: its tables are cards, a hidden danger's details and
    // the 登记隐患 form fit, and so do supervision, reports and the charts.
    await menu(page, '#btn-hazards');
    await page.waitForSelector('#hazards .hz-list-status[data-count]');
    await assertLayout(page, '隐患台账');
    assert.deepEqual(await smallFields(page, '#hazards .hz-filters'), [], 'hazard filters at 16 px or more');
    const hzSideways = () => page.$$eval('#hazards table.admin-table', (ts) => ts.filter((t) => t.offsetParent !== null && t.getBoundingClientRect().right > innerWidth + 0.5).length);
    assert.equal(await hzSideways(), 0, '隐患台账 fits the screen');
    {
      await page.waitForSelector('#hazards table.hz-table tr[data-id]');
      await page.tap('#hazards table.hz-table tr[data-id]');
      await page.waitForSelector('#hazards .hz-detail .hz-steps');
      await assertLayout(page, '隐患详情');
      if (shots) await shot(page, 'phone-hazard-detail.png');
      await page.tap('#hazards [data-action=back]');
    }
    await page.tap('#hazards [data-action=new-hazard]');
    await page.waitForSelector('#hazards .hz-form');
    await assertLayout(page, '登记隐患');
    assert.deepEqual(await smallFields(page, '#hazards .hz-form'), [], 'form fields at 16 px or more');
    for (const tab of ['supervision', 'reports', 'charts']) {
      await page.tap(`#hazards .admin-tabs [data-tab="${tab}"]`);
      await page.waitForSelector(`#hazards[data-tab="${tab}"] ${tab === 'charts' ? '[data-chart=rate][data-values]' : 'table.admin-table'}`);
      await assertLayout(page, `隐患 ${tab}`);
      assert.equal(await hzSideways(), 0, `隐患 ${tab} fits the screen`);
      if (shots && tab === 'supervision') await shot(page, 'phone-supervision.png');
    }
    await page.tap('#hazards .admin-head .icon-btn');
    await page.waitForSelector('#hazards', { state: 'hidden' });

    if (role === 'admin') {
      // 系统管理 on the whole screen: users, audit, publications.
      await menu(page, '#btn-admin');
      await page.waitForSelector('#admin table.admin-table');
      await assertLayout(page, '用户管理');
      // Each table's rows are cards: nothing in 系统管理 scrolls sideways, not even inside a box.
      const sideways = () => page.$$eval('#admin table.admin-table', (ts) => ts.filter((t) => t.offsetParent !== null && t.getBoundingClientRect().right > innerWidth + 0.5).length);
      assert.equal(await sideways(), 0, '用户管理 fits the screen');
      for (const tab of ['tokens', 'audit', 'publish']) {
        await page.tap(`#admin .admin-tabs [data-tab="${tab}"]`);
        await page.waitForSelector(`#admin[data-tab="${tab}"] table.admin-table`);
        await assertLayout(page, `系统管理 ${tab}`);
        assert.equal(await sideways(), 0, `系统管理 ${tab} fits the screen`);
        if (tab === 'audit') await shot(page, 'phone-admin-audit.png');
      }
      await page.tap('#admin .admin-head .icon-btn');
      await page.waitForSelector('#admin', { state: 'hidden' });
    }
    assert.deepEqual(page.errors, [], 'page errors');
    await page.context().close();
  });
}

test('at 1366×800 the desktop layout is unchanged: header actions in a row, sidebar, drawer, entry form, bottom panel and 系统管理 as before', async () => {
  for (const role of ['admin', 'department']) {
    const page = await open(sessions[role], DESKTOP);
    await assertLayout(page, `the map as ${role}`, { phone: false });
    assert.equal(await page.isVisible('#btn-menu'), false, 'no menu button');
    assert.equal(await page.isVisible('#btn-filters'), false, 'no filters button');
    assert.equal(await page.isVisible('#btn-register'), true);
    assert.equal(await page.isVisible('#btn-logout'), true);
    const header = await page.$eval('.topbar', (el) => el.getBoundingClientRect().height);
    assert.equal(header, 52);
    const side = await page.$eval('#sidebar-panel', (el) => el.getBoundingClientRect());
    assert.deepEqual([side.left, side.width], [0, 236]);
    await page.click('#btn-register');
    await page.waitForSelector('table.register tbody tr[data-id]');
    await page.click('table.register tbody tr[data-id]');
    await page.waitForSelector('#drawer .unit-name');
    const drawer = await page.$eval('#drawer', (el) => el.getBoundingClientRect());
    assert.deepEqual([drawer.width, drawer.right], [400, 1366]);
    assert.equal(await page.isVisible('.sheet-grip'), false, 'no grip');
    const bottom = await page.$eval('#bottom', (el) => el.getBoundingClientRect());
    assert.ok(bottom.height > 200 && bottom.right === 1366 - 400, 'the register under the map, beside the drawer');
    await assertLayout(page, `details and register as ${role}`, { phone: false });
    await page.click('#btn-stats');
    await page.waitForSelector('.stat-card.total');
    await assertLayout(page, `statistics as ${role}`, { phone: false });
    await page.click('#btn-new');
    await page.waitForSelector('.editor-form');
    const form = await page.$eval('#drawer', (el) => el.getBoundingClientRect());
    assert.deepEqual([form.width, form.right], [400, 1366], 'the entry form beside the map');
    await assertLayout(page, `the entry form as ${role}`, { phone: false });
    await page.click('.form-actions .btn:not(.btn-primary)');
    await page.waitForSelector('#drawer', { state: 'hidden' });
    if (role === 'admin') {
      await page.click('#btn-admin');
      for (const tab of ['users', 'audit', 'publish']) {
        await page.click(`#admin .admin-tabs [data-tab="${tab}"]`);
        await page.waitForSelector(`#admin[data-tab="${tab}"] table.admin-table`);
        await assertLayout(page, `系统管理 ${tab}`, { phone: false });
      }
      const top = await page.$eval('#admin', (el) => el.getBoundingClientRect().top);
      assert.equal(top, 52, '系统管理 under the header');
    }
    assert.deepEqual(page.errors, [], 'page errors');
    await page.context().close();
  }
});

test('between a phone and a desktop (a tablet, a phone on its side) the header folds its actions into the menu', async () => {
  for (const [width, height] of [[1024, 768], [844, 390]]) {
    const page = await open(sessions.admin, { viewport: { width, height } });
    await assertLayout(page, `${width}×${height}`, { phone: false, width });
    assert.equal(await page.isVisible('#btn-register'), false, 'the actions wait in the menu');
    assert.equal(await page.isVisible('#btn-filters'), false, 'the filters stay beside the map');
    await page.click('#btn-menu');
    await assertLayout(page, `the menu at ${width}×${height}`, { phone: false, width });
    await page.click('#btn-register');
    await page.waitForSelector('table.register tbody tr[data-id]');
    await assertLayout(page, `the register at ${width}×${height}`, { phone: false, width });
    assert.deepEqual(page.errors, [], 'page errors');
    await page.context().close();
  }
});

test('on a phone the login fits the screen and leads to the map', async () => {
  const context = await browser.newContext({ ...PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(srv.url + '/');
  await page.waitForSelector('#login-user');
  await assertLayout(page, 'the login');
  assert.deepEqual(await smallFields(page, '.login-screen'), [], 'no field under 16 px');
  await page.tap('#login-user');
  await page.fill('#login-user', USERS.expert.name);
  await page.fill('#login-pass', USERS.expert.password);
  await page.tap('.login-submit');
  await waitInteractive(page);
  await waitLegend(page);
  await assertLayout(page, 'the map after the login');
  await context.close();
});
