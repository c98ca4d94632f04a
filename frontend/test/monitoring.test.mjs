// 监测预警 in a real browser (one test drives it with `riskmap simulate --scenario gas-leak`,
// the others post readings themselves): a gas point of the demo city reads over its red threshold (POST
// /api/v1/readings with a device token made in 系统管理's token form), and on the map that
// is open — without a reload — its unit gets a pulsing red ring and turns red; the header
// counts the alarm; the unit's 监测点 shows the point red with its chart; in the panel 报警
// the alarm is acknowledged (确认) and disposed (处置, with the action taken); normal
// readings close it, and the unit's colour comes back, still without a reload. Also: a
// point added, edited and deleted in the unit details, the alarm statistics in 督办 and in
// 报警 → 报警统计 (charts by department and by region, named), the sound toggle remembered,
// and the panel on a 375 px phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, launch, openInternalMap, screenshot, api, login, USERS, BIN } from './harness.mjs';

let srv;
let browser;
let fills; // grade → fill colour
let device; // a device token's Authorization header (scope readings)

before(async () => {
  srv = await startServer();
  browser = await launch();
  const g = (await api(srv.url, 'GET', '/api/v1/grading')).body;
  fills = Object.fromEntries(g.grades.map((x) => [x.code, x.fill.toLowerCase()]));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/**
 * gasPoint is a gas point of the demo at a point unit (a gas station) that is not red and
 * has no red or orange alarm. (Points never heard from go offline three intervals after the
 * server starts: a blue offline alarm, which raises no grade, may be open.)
 */
async function gasPoint() {
  const r = await api(srv.url, 'GET', '/api/v1/monitoring-points?kind=gas');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (const p of r.body.items) {
    if (p.level === 'red' || p.level === 'orange' || taken.has(p.unit_id)) continue;
    const u = (await api(srv.url, 'GET', `/api/v1/units/${p.unit_id}`)).body;
    if (u.geometry.type === 'Point' && u.properties.grade !== 'red') {
      taken.add(p.unit_id);
      return { point: p, unit: u };
    }
  }
  // None fits: one is added to an approved point unit (the kind's thresholds, 25 / 50 %LEL).
  const fc = (await api(srv.url, 'GET', '/api/v1/units?status=approved&limit=200')).body;
  const u = fc.features.find((f) => f.geometry.type === 'Point' && f.properties.grade !== 'red' && !taken.has(f.id));
  taken.add(u.id);
  const made = await api(srv.url, 'POST', '/api/v1/monitoring-points', { code: `JC-T-${u.id}`, unit_id: u.id, kind: 'gas', location: u.geometry.coordinates, interval_s: 60, thresholds: { upper: { yellow: 25, red: 50 } } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return { point: made.body, unit: u };
}
const taken = new Set();

/** ringLevel is the level of the unit's ring on the map ('' without one). */
function ringLevel(page, id) {
  return page.evaluate((id) => document.querySelector(`.alarm-ring[data-unit="${id}"]`)?.dataset.level || '', id);
}

/** readings POSTs [{point, time, value}] with the device token. */
async function post(items) {
  const r = await api(srv.url, 'POST', '/api/v1/readings', items, device, { as: null });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.refused, [], JSON.stringify(r.body));
  return r.body;
}

/** openUnit opens a unit's details through the search box and waits for its 监测点. */
async function openUnit(page, code) {
  await page.fill('.search-input', code);
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer .mon-points .mon-point-list, #drawer .mon-points p.muted:not(:has-text("正在加载"))');
}

/** tileGrade waits until the unit's feature in the drawn tiles has grade g and returns its fill. */
async function tileGrade(page, id, g) {
  await page.waitForFunction(([id, g]) => {
    const lyr = window.riskmap.units.layer;
    for (const r of Object.values(lyr._vectorTiles)) {
      const d = r._features[id];
      if (d && d.feature.properties.grade === g && d.feature._path && d.feature._path.isConnected) return true;
    }
    return false;
  }, [id, g], { timeout: 15_000 });
  return page.evaluate((id) => {
    for (const r of Object.values(window.riskmap.units.layer._vectorTiles)) {
      const d = r._features[id];
      if (d && d.feature._path && d.feature._path.isConnected) return (d.feature._path.getAttribute('fill') || '').toLowerCase();
    }
    return null;
  }, id);
}

test('a device token is made in 系统管理 with the scope 设备（只写读数）', async () => {
  const page = await openInternalMap(browser, srv.url);
  await page.click('#btn-admin');
  await page.click('.admin-tabs [data-tab=tokens]');
  await page.waitForSelector('#t-user option[value="admin"]', { state: 'attached' });
  await page.fill('#t-name', '燃气监测网关');
  await page.selectOption('#t-user', 'admin');
  await page.selectOption('#t-scope', 'readings');
  await page.click('[data-action=create-token]');
  await page.waitForSelector('.secret-box .secret');
  assert.match(await page.textContent('.secret-box'), /设备令牌/);
  const secret = (await page.textContent('.secret-box .secret')).trim();
  device = { Authorization: `Bearer ${secret}` };
  await page.waitForSelector('table.tokens tr[data-token]:has-text("燃气监测网关")');
  assert.match(await page.textContent('table.tokens tr[data-token]:has-text("燃气监测网关")'), /设备（只写读数）/);
  // The device may write readings and nothing else.
  assert.equal((await api(srv.url, 'GET', '/api/v1/units?limit=1', undefined, device, { as: null })).status, 403);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a gas leak turns its unit red on the open map without a reload; 确认 and 处置 in 报警; normal readings bring its colour back', async () => {
  assert.ok(device, 'the device token of the first test');
  const { point, unit } = await gasPoint();
  const before = unit.properties.grade;
  const page = await openInternalMap(browser, srv.url);
  await page.waitForFunction(() => document.body.dataset.events === 'open', null, { timeout: 15_000 });
  await page.evaluate(() => (window.__notReloaded = true));
  await openUnit(page, unit.properties.code);
  await page.waitForSelector(`#drawer .mon-point-list li[data-id="${point.id}"]`);
  assert.equal(await tileGrade(page, unit.id, before), fills[before]);
  assert.notEqual(await ringLevel(page, unit.id), 'red', 'no red ring before');

  // The leak: 62 %LEL, over the red threshold (50).
  const t0 = Date.now() - 60_000;
  await post([{ point: point.id, time: new Date(t0).toISOString(), value: 12 }, { point: point.id, time: new Date(t0 + 30_000).toISOString(), value: 62 }]);
  await page.waitForSelector(`.alarm-ring[data-unit="${unit.id}"][data-level="red"]`, { timeout: 10_000 });
  assert.equal(await tileGrade(page, unit.id, 'red'), fills.red, 'the unit is red on the map');
  await page.waitForFunction(() => Number(document.querySelector('#btn-alarms .alarm-count').dataset.count) >= 1);
  await page.waitForSelector(`#drawer .mon-point-list li[data-id="${point.id}"][data-level="red"]`);
  await page.waitForSelector('#drawer .mon-chart-wrap[data-samples]:not([data-samples="0"]) canvas');
  assert.ok(await page.$('#drawer .mon-th-key [data-level="red"]'), 'the red threshold is keyed under the chart');
  await screenshot(page, 'monitoring-alarm-map.png');
  await page.$eval('#drawer .mon-points', (el) => el.scrollIntoView());
  await screenshot(page, 'monitoring-unit-chart.png');

  // 确认 and 处置 in the panel.
  await page.click('#btn-alarms');
  const row = `#alarms table.mon-table tr[data-unit="${unit.id}"][data-level="red"]`;
  await page.waitForSelector(`${row}[data-status="active"]`);
  assert.match(await page.textContent(row), /62(\.0+)? %LEL/);
  assert.match(await page.textContent(row), /红色预警/);
  await page.click(`${row} [data-action=acknowledge]`);
  await page.waitForSelector(`${row}[data-status="acknowledged"]`);
  await page.click(`${row} [data-action=dispose]`);
  await page.waitForSelector('#alarms .mon-action-box:not([hidden]) #mon-note');
  await page.click('#alarms [data-action=confirm-dispose]');
  assert.match(await page.textContent('#alarms .mon-action-box .field-error'), /请填写处置措施/);
  await page.fill('#mon-note', '已关闭进气阀门，通风后复测');
  await page.click('#alarms [data-action=confirm-dispose]');
  await page.waitForSelector(`${row}[data-status="disposed"]`);
  await screenshot(page, 'monitoring-alarm-panel.png');
  const stored = (await api(srv.url, 'GET', `/api/v1/alarms?point=${point.id}&open=1`)).body.items[0];
  assert.equal(stored.status, 'disposed');
  assert.equal(stored.action, '已关闭进气阀门，通风后复测');

  // Back to normal: the alarm closes and the unit's colour comes back.
  await post([{ point: point.id, time: new Date(t0 + 45_000).toISOString(), value: 3 }, { point: point.id, time: new Date(t0 + 50_000).toISOString(), value: 2 }]);
  await page.waitForFunction((id) => document.querySelector(`.alarm-ring[data-unit="${id}"]`)?.dataset.level !== 'red', unit.id, { timeout: 10_000 });
  await page.waitForSelector(row, { state: 'detached' });
  await page.click('#alarms .admin-head .icon-btn');
  assert.equal(await tileGrade(page, unit.id, before), fills[before], 'the unit has its colour again');
  assert.ok(await page.evaluate(() => window.__notReloaded), 'the page was not reloaded');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.csp, []);
  await page.context().close();
});

test('riskmap simulate drives a gas leak over red: the unit turns red on the open map, is acknowledged and disposed in 报警, and its colour comes back when the leak is over', async () => {
  assert.ok(device, 'the device token of the first test');
  const { point, unit } = await gasPoint();
  const before = unit.properties.grade;
  const page = await openInternalMap(browser, srv.url);
  await page.waitForFunction(() => document.body.dataset.events === 'open', null, { timeout: 15_000 });
  await page.evaluate(() => (window.__notReloaded = true));
  assert.equal(await tileGrade(page, unit.id, before), fills[before]);

  // The simulator, as an operator runs it: the whole demo's points, the leak on this one
  // (rising over 30 ticks of 150 ms, holding 30, falling over 20).
  let out = '';
  const sim = spawn(BIN, ['simulate', '--db', srv.db, '--url', srv.url, '--token', device.Authorization.slice(7),
    '--scenario', 'gas-leak', '--point', point.code, '--every', '150ms', '--duration', '60s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  sim.stdout.on('data', (b) => (out += b));
  sim.stderr.on('data', (b) => (out += b));
  try {
    await page.waitForSelector(`.alarm-ring[data-unit="${unit.id}"][data-level="red"]`, { timeout: 45_000 });
    assert.match(out, new RegExp(`情景 燃气泄漏：.*${point.code}`), out);
    assert.equal(await tileGrade(page, unit.id, 'red'), fills.red, 'the unit is red on the map');
    await page.click('#btn-alarms');
    const row = `#alarms table.mon-table tr[data-unit="${unit.id}"][data-level="red"]`;
    await page.waitForSelector(`${row}[data-status="active"]`);
    await page.click(`${row} [data-action=acknowledge]`);
    await page.waitForSelector(`${row}[data-status="acknowledged"]`);
    await page.click(`${row} [data-action=dispose]`);
    await page.fill('#mon-note', '切断气源，现场通风，复测正常后恢复营业');
    await page.click('#alarms [data-action=confirm-dispose]');
    await page.waitForSelector(`${row}[data-status="disposed"]`);
    // The leak falls back to normal: the disposed alarm closes, the grade comes back.
    await page.waitForSelector(row, { state: 'detached', timeout: 45_000 });
    await page.click('#alarms .admin-head .icon-btn');
    assert.equal(await tileGrade(page, unit.id, before), fills[before], 'the unit has its colour again');
    const closed = (await api(srv.url, 'GET', `/api/v1/alarms?point=${point.id}&status=closed`)).body.items;
    assert.ok(closed.some((a) => a.action === '切断气源，现场通风，复测正常后恢复营业'), JSON.stringify(closed));
  } finally {
    sim.kill();
  }
  assert.ok(await page.evaluate(() => window.__notReloaded), 'the page was not reloaded');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a point is added, edited and deleted in the unit details; the supervision view has the alarm statistics', async () => {
  const { unit } = await gasPoint();
  const page = await openInternalMap(browser, srv.url);
  await openUnit(page, unit.properties.code);
  await page.click('#drawer [data-action=new-point]');
  await page.waitForSelector('#drawer .mon-point-form #mon-p-kind option[value="gas"]', { state: 'attached' });
  await page.selectOption('#mon-p-kind', 'gas');
  // The kind's defaults come in: 25 / 50 %LEL and the unit's centre.
  assert.equal(await page.inputValue('#mon-p-upper-red'), '50');
  assert.equal(await page.inputValue('#mon-p-upper-yellow'), '25');
  assert.notEqual(await page.inputValue('#mon-p-lon'), '');
  await page.fill('#mon-p-code', 'JC-UI-1');
  // Thresholds out of order are refused under their field.
  await page.fill('#mon-p-upper-orange', '60');
  await page.click('#drawer [data-action=save-point]');
  await page.waitForSelector('#drawer .mon-point-form .form-errors:not([hidden]) li[data-for="thresholds.upper.red"]');
  await page.fill('#mon-p-upper-orange', '40');
  await page.click('#drawer [data-action=save-point]');
  await page.waitForSelector('#drawer .mon-point-list li[data-code="JC-UI-1"]');
  const made = (await api(srv.url, 'GET', `/api/v1/units/${unit.id}/monitoring-points`)).body.items.find((p) => p.code === 'JC-UI-1');
  assert.equal(made.thresholds.upper.orange, 40);
  await page.click('#drawer .mon-point-list li[data-code="JC-UI-1"] [data-action=edit-point]');
  await page.waitForSelector('#drawer .mon-point-form');
  await page.fill('#mon-p-interval', '120');
  await page.click('#drawer [data-action=save-point]');
  await page.waitForSelector('#drawer .mon-point-list li[data-code="JC-UI-1"]');
  assert.equal((await api(srv.url, 'GET', `/api/v1/monitoring-points/${made.id}`)).body.interval_s, 120);
  await page.click('#drawer .mon-point-list li[data-code="JC-UI-1"] [data-action=delete-point]');
  await page.click('#drawer .mon-point-list li[data-code="JC-UI-1"] [data-action=delete-point]');
  await page.waitForSelector('#drawer .mon-point-list li[data-code="JC-UI-1"]', { state: 'detached' });
  assert.equal((await api(srv.url, 'GET', `/api/v1/monitoring-points/${made.id}`)).status, 404);

  // 督办 has the alarm statistics (the first test's alarm was disposed: 100 %). The alarms
  // so far (more may open while the page loads: points fall silent) name the departments and
  // the streets (乡镇/街道) the charts by 监管部门 and by 区域 must show, by name.
  const alarms = (await api(srv.url, 'GET', '/api/v1/alarms?limit=1000')).body.items;
  assert.ok(alarms.length > 0, 'the first test left an alarm');
  const streets = new Map((await api(srv.url, 'GET', '/api/v1/regions?level=street')).body.features.map((f) => [f.properties.code, f.properties.name]));
  const wantStreets = new Set(alarms.map((a) => streets.get(a.region_code.slice(0, 9))));
  const wantDepartments = new Set(alarms.map((a) => a.department));
  assert.ok(![...wantStreets].includes(undefined), 'every alarmed unit lies in a street of the demo');
  await page.click('#btn-hazards');
  await page.click('#hazards .admin-tabs [data-tab=supervision]');
  await page.waitForSelector('#hazards [data-card="alarm-stats"] [data-count="disposal-rate"]');
  assert.match(await page.textContent('#hazards [data-card="alarm-stats"]'), /报警处置率[\s\S]*平均确认时间|平均确认时间[\s\S]*报警处置率/);
  await page.waitForSelector('#hazards [data-chart="alarms-level"][data-values]');
  const chart = async (root, key) => {
    const box = page.locator(`${root} [data-chart="${key}"][data-values]`);
    return { title: await box.locator('h3').textContent(), labels: JSON.parse(await box.getAttribute('data-values')).map((r) => r[0]) };
  };
  const dep = await chart('#hazards', 'alarms-department');
  assert.equal(dep.title, '报警处置率（按监管部门）');
  for (const d of wantDepartments) assert.ok(dep.labels.includes(d), `the chart by department lacks ${d}: ${dep.labels}`);
  const reg = await chart('#hazards', 'alarms-region');
  for (const st of wantStreets) assert.ok(reg.labels.includes(st), `the chart by region lacks ${st}: ${reg.labels}`);
  assert.ok(reg.labels.every((l) => !/\d/.test(l)), `the chart by region shows codes: ${reg.labels}`);
  // The sound toggle is off at first, and remembered.
  await page.click('#hazards .admin-head .icon-btn');
  await page.click('#btn-alarms');
  assert.equal(await page.isChecked('#mon-sound'), false);
  await page.check('#mon-sound');
  assert.equal(await page.evaluate(() => localStorage.getItem('riskmap.alarmSound')), '1');
  await page.reload();
  await page.waitForFunction(() => window.riskmapMonitoring);
  await page.click('#btn-alarms');
  assert.equal(await page.isChecked('#mon-sound'), true);
  // 报警 → 报警统计 is the same card, with the chart by department.
  await page.click('#alarms [data-tab=stats]');
  const tab = await chart('#alarms', 'alarms-department');
  for (const d of wantDepartments) assert.ok(tab.labels.includes(d), `报警统计 by department lacks ${d}: ${tab.labels}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('on a 375 px phone the alarm panel opens from the menu and fits the screen', async () => {
  const page = await openInternalMap(browser, srv.url, { width: 375, height: 812, contextOptions: { isMobile: true, hasTouch: true } });
  await page.click('#btn-menu');
  await page.click('#btn-alarms');
  await page.waitForSelector('#alarms:not([hidden]) #mon-f-status');
  await page.waitForSelector('#alarms .hz-list-status[data-count]');
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(wide <= 375, `the page is ${wide} px wide`);
  const box = await page.locator('#mon-sound').boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 375, 'the sound toggle is on the screen');
  await screenshot(page, 'phone-alarms.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a yellow alarm becomes a hidden danger of its unit in one step (转为隐患), which opens', async () => {
  assert.ok(device, 'the device token of the first test');
  const { point, unit } = await gasPoint();
  // Now: `riskmap simulate` (an earlier test) fed every demo point until a moment ago, and a
  // reading older than a point's newest is stored but not evaluated (late).
  const res = await post([{ point: point.id, time: new Date().toISOString(), value: 31 }]);
  assert.equal(res.late, 0, 'the reading is evaluated, not late');
  const page = await openInternalMap(browser, srv.url);
  await page.click('#btn-alarms');
  const row = `#alarms table.mon-table tr[data-unit="${unit.id}"][data-level="yellow"]`;
  await page.waitForSelector(row);
  await page.click(`${row} [data-action=to-hazard]`);
  await page.waitForSelector('#hazards .hz-detail[data-id]');
  assert.match(await page.textContent('#hazards .hz-detail'), /监测报警/);
  // The point may also have an offline alarm, the unit the demo's hidden dangers.
  const a = (await api(srv.url, 'GET', `/api/v1/alarms?point=${point.id}&open=1`)).body.items.find((x) => x.rule === 'threshold');
  assert.equal(a.status, 'acknowledged', 'an active alarm is acknowledged when it becomes a hidden danger');
  const hz = (await api(srv.url, 'GET', `/api/v1/units/${unit.id}/hazards`)).body;
  const made = hz.features.filter((f) => f.properties.alarm_id === a.id);
  assert.equal(made.length, 1, 'one hidden danger names the alarm');
  assert.equal(made[0].properties.level, 'general');
  assert.equal(made[0].properties.source, 'monitoring');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a session that ends while the map is open ends its event stream, and the login form shows', async () => {
  // A session of its own (the harness's is shared by the other tests).
  const mine = await login(srv.url, USERS.admin.name, USERS.admin.password);
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  const page = await openInternalMap(browser, srv.url, { as: mine });
  await page.waitForFunction(() => document.body.dataset.events === 'open', null, { timeout: 20_000 });
  // Logged out elsewhere (another tab): the server ends the stream; its reconnection is
  // refused 401, and the page asks for the login instead of retrying in silence.
  const out = await api(srv.url, 'DELETE', '/api/v1/session', undefined, {}, { as: mine });
  assert.equal(out.status, 204, JSON.stringify(out.body));
  await page.waitForSelector('.login-screen #login-user', { timeout: 30_000 });
  assert.match(await page.textContent('.login-box'), /登录已失效/);
  assert.notEqual(await page.evaluate(() => document.body.dataset.events), 'open');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
