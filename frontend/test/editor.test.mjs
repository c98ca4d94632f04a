// Expert entry in a real browser: drawing and saving, typed coordinates in GCJ-02, data as
// text (XSS), server validation next to the field, the 412 conflict, and read-only users.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, openInternalMap, waitInteractive, waitLegend, waitTiles, screenshot, api, USERS } from './harness.mjs';
import { gcj02ToWgs84 } from '../src/lib/coords.js';

let srv;
let browser;
let fills;
const XSS = '<img src=x onerror="window.__xss=1;alert(1)">';

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

function openMap() {
  return openInternalMap(browser, srv.url);
}

/** emptySpot finds a place inside the city with no unit within about 300 m. */
async function emptySpot() {
  const streets = (await api(srv.url, 'GET', '/api/v1/regions?level=community')).body.features;
  for (const f of streets) {
    const ring = f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates[0][0] : f.geometry.coordinates[0];
    const xs = ring.map((p) => p[0]);
    const ys = ring.map((p) => p[1]);
    const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
    const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
    const d = 0.003;
    const near = (await api(srv.url, 'GET', `/api/v1/units?bbox=${cx - d},${cy - d},${cx + d},${cy + d}&limit=1`)).body;
    if (near.numberMatched === 0) return [cx, cy];
  }
  throw new Error('no empty spot');
}

async function fillBasics(page, { code, name, category = 'hazardous_chemicals' }) {
  await page.fill('#e-code', code);
  await page.fill('#e-name', name);
  await page.selectOption('#e-category', category);
}

test('drawing a polygon and saving creates a unit that appears in its grade colour', async () => {
  const [lon, lat] = await emptySpot();
  const page = await openMap();
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 17, { animate: false }), [lon, lat]);
  await waitTiles(page);
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  const box = await page.$eval('#map', (m) => m.getBoundingClientRect().toJSON());
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.click('[data-draw=polygon]');
  const corners = [[-60, -40], [60, -40], [60, 40], [-60, 40]];
  for (const [dx, dy] of corners) {
    await page.mouse.click(cx + dx, cy + dy);
    await page.waitForTimeout(120);
  }
  await page.mouse.click(cx - 60, cy - 40); // back on the first vertex closes the ring
  await page.waitForFunction(() => document.querySelector('.geom-info').textContent.includes('面'));
  await fillBasics(page, { code: 'E2E-POLY-0001', name: 'E2E 测试 液氨储罐区' });
  // The region is found from where the polygon lies.
  await page.waitForFunction(() => document.querySelector('#e-region').value !== '');
  // LS 5 × 5 = 25: red, previewed live before saving.
  await page.selectOption('#e-likelihood', '5');
  await page.selectOption('#e-severity', '5');
  await page.waitForFunction(() => document.querySelector('.grade-preview').dataset.grade === 'red');
  assert.match(await page.textContent('.grade-preview'), /重大风险[\s\S]*25/);
  await page.check('#e-accidents input[value=fire]');
  await page.fill('#e-controls-engineering', '设置可燃气体报警仪\n储罐区设置防火堤');
  await page.fill('#e-unit', '澄江测试化工有限公司');
  assert.equal(await page.inputValue('#e-dept'), '应急局', 'department defaulted from the category');
  await page.fill('#e-radius', '500');
  await page.fill('#e-public-label', '液氨储罐区（测试路）');
  await page.fill('#e-assessed-at', '2026-11-20');
  // 下次复核 is computed: read-only in the form.
  assert.equal(await page.getAttribute('#e-next-review', 'readonly'), '');
  await screenshot(page, 'editor-polygon-form.png');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('#drawer .unit-name');
  assert.equal(await page.textContent('#drawer .unit-name'), 'E2E 测试 液氨储罐区');

  const saved = (await api(srv.url, 'GET', '/api/v1/units?q=E2E-POLY-0001')).body.features[0];
  assert.equal(saved.geometry.type, 'Polygon');
  assert.equal(saved.properties.grade, 'red');
  assert.ok(/^\d{12}$/.test(saved.properties.region_code), `community found: ${saved.properties.region_code}`);
  assert.deepEqual(saved.properties.controls.engineering, ['设置可燃气体报警仪', '储罐区设置防火堤']);
  assert.equal(saved.properties.responsible_department, '应急局');
  assert.equal(saved.properties.public_label, '液氨储罐区（测试路）');
  assert.equal(saved.properties.assessed_at, '2026-11-19T16:00:00Z', 'the assessment day in China time');
  // A red unit is reviewed every 3 months (config review_months): from the day of its
  // assessment in China.
  assert.equal(saved.properties.next_review_due, '2027-02-20');
  assert.match(await page.textContent('#drawer'), /评估时间[\s\S]*2026-11-20[\s\S]*下次复核[\s\S]*2027-02-20/);
  assert.match(await page.textContent('#drawer'), /公开名称[\s\S]*液氨储罐区（测试路）/);

  // The map now draws it, red.
  await page.click('#drawer .icon-btn');
  await waitTiles(page);
  const ring = saved.geometry.coordinates[0];
  const mid = [ring.slice(0, -1).reduce((a, p) => a + p[0], 0) / (ring.length - 1), ring.slice(0, -1).reduce((a, p) => a + p[1], 0) / (ring.length - 1)];
  const at = await page.evaluate(([lon, lat]) => {
    const m = window.riskmap.map;
    const p = m.latLngToContainerPoint([lat, lon]);
    const r = m.getContainer().getBoundingClientRect();
    return [r.left + p.x, r.top + p.y];
  }, mid);
  await page.waitForFunction(([x, y, red]) => document.elementsFromPoint(x, y).some((e) => e.closest('.leaflet-units-pane') && (e.getAttribute('fill') || '').toLowerCase() === red), [at[0], at[1], fills.red], { timeout: 10_000 });
  await screenshot(page, 'editor-polygon-saved.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the point tool says in plain Chinese what to do', async () => {
  const page = await openMap();
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  await page.click('[data-draw=point]');
  const box = await page.$eval('#map', (m) => m.getBoundingClientRect().toJSON());
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.move(box.x + box.width / 2 + 20, box.y + box.height / 2 + 10);
  await page.waitForSelector('.leaflet-tooltip');
  const hint = await page.$$eval('.leaflet-tooltip', (ts) => ts.map((t) => t.textContent).join(' '));
  assert.match(hint, /点击地图放置点位/);
  assert.doesNotMatch(hint, /圆形/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('coordinates typed in GCJ-02 are converted to WGS 84 on input', async () => {
  const page = await openMap();
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  await page.click('.coord-input summary');
  await page.selectOption('#e-geomtype', 'Point');
  await page.selectOption('#e-crs', 'GCJ02');
  const gcj = [102.9135, 24.6695];
  await page.fill('#e-coords', `${gcj[0]}, ${gcj[1]}`);
  await page.click('[data-action=apply-coords]');
  await page.waitForFunction(() => document.querySelector('.converted').textContent.includes('WGS84'));
  await fillBasics(page, { code: 'E2E-GCJ-0001', name: 'E2E 高德坐标加油站', category: 'hazardous_chemicals' });
  await page.waitForFunction(() => document.querySelector('#e-region').value !== '');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('#drawer .unit-name');
  const saved = (await api(srv.url, 'GET', '/api/v1/units?q=E2E-GCJ-0001')).body.features[0];
  const want = gcj02ToWgs84(gcj);
  const got = saved.geometry.coordinates;
  assert.ok(Math.abs(got[0] - want[0]) < 1e-6 && Math.abs(got[1] - want[1]) < 1e-6, `stored ${got}, want ${want}`);
  assert.ok(Math.abs(got[0] - gcj[0]) > 1e-3, 'the offset was removed');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a unit named like HTML shows exactly that text everywhere', async () => {
  const created = await api(srv.url, 'POST', '/api/v1/units', {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [102.9112, 24.6731] },
    properties: {
      code: 'E2E-XSS-0001',
      name: XSS,
      category: 'crowded_places',
      region_code: '530481001',
      address: '<b>粗体</b>地址',
      responsible_unit: '<script>window.__xss=2</script>',
      assessment: { method: 'LS', likelihood: 2, severity: 2 },
      controls: { engineering: ['<svg onload="window.__xss=3">'], management: [], training: [], ppe: [], emergency: [] },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const page = await openMap();
  await page.fill('.search-input', 'E2E-XSS');
  await page.waitForSelector('.search-item');
  assert.ok((await page.textContent('.search-results')).includes(XSS));
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer .unit-name');
  assert.equal(await page.textContent('#drawer .unit-name'), XSS);
  const drawer = await page.textContent('#drawer');
  assert.ok(drawer.includes('<b>粗体</b>地址'));
  assert.ok(drawer.includes('<script>window.__xss=2</script>'));
  assert.ok(drawer.includes('<svg onload="window.__xss=3">'));
  // The register table and its hover tip too: the units in view, where the search flew.
  await page.click('#btn-register');
  await page.click('.bottom-head label.check input');
  await page.waitForSelector(`table.register tr[data-id="${created.body.id}"]`);
  assert.ok((await page.textContent(`table.register tr[data-id="${created.body.id}"]`)).includes(XSS));
  await page.waitForTimeout(300);
  assert.equal(await page.$$eval('#drawer img, .search-results img, table.register img, #drawer b, #drawer script', (e) => e.length), 0, 'no element made from data');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(page.dialogs, []);
  await screenshot(page, 'xss-as-text.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('validation errors from the server are shown next to the field they name', async () => {
  const page = await openMap();
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  await page.click('.coord-input summary');
  await page.selectOption('#e-geomtype', 'Point');
  await page.fill('#e-coords', '102.9, 24.66');
  await page.click('[data-action=apply-coords]');
  await fillBasics(page, { code: 'E2E-BAD-0001', name: 'E2E 校验' });
  await page.waitForFunction(() => document.querySelector('#e-region').value !== '');
  await page.fill('#e-radius', '99999999');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('[data-field=influence_radius_m].has-error');
  const msg = await page.textContent('[data-field=influence_radius_m] .field-error');
  assert.match(msg, /metres|米/);
  assert.ok(await page.isVisible('.form-errors'));
  // Required fields are checked before sending.
  await page.fill('#e-radius', '100');
  await page.fill('#e-name', '');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('[data-field=name].has-error');
  await screenshot(page, 'editor-validation.png');
  // A register number that another unit holds: said in Chinese, under 编号.
  await page.fill('#e-name', 'E2E 校验');
  await page.fill('#e-code', 'CJ-WHP-0001');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('[data-field=code].has-error');
  const taken = await page.textContent('[data-field=code] .field-error');
  assert.match(taken, /编号 "CJ-WHP-0001" 已被另一个未注销的风险单元使用/);
  assert.doesNotMatch(taken, /\b(the|unit|code|exists)\b/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a stale edit gets the 412 conflict and can reload the newer version', async () => {
  const u = (await api(srv.url, 'GET', '/api/v1/units?q=CJ-WHP-0003')).body.features[0];
  const page = await openMap();
  await page.fill('.search-input', 'CJ-WHP-0003');
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer [data-action=edit]');
  await page.click('#drawer [data-action=edit]');
  await page.waitForSelector('.editor-form');
  assert.equal(await page.inputValue('#e-name'), u.properties.name);
  // Someone else saves first.
  const cur = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  // (Saved as a draft: only review approves.)
  const theirs = { ...cur.body, properties: { ...cur.body.properties, name: u.properties.name + '（他人已修改）', status: 'draft' } };
  const put = await api(srv.url, 'PUT', `/api/v1/units/${u.id}`, theirs, { 'If-Match': cur.etag });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await page.fill('#e-address', '我的修改');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('.conflict:not([hidden])');
  assert.match(await page.textContent('.conflict'), /已被其他人修改/);
  await screenshot(page, 'editor-conflict.png');
  const after = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  assert.equal(after.body.properties.address, u.properties.address, 'nothing overwritten');
  await page.click('.conflict [data-action=reload]');
  await page.waitForFunction((n) => document.querySelector('#e-name')?.value === n, theirs.properties.name);
  // Saving the reloaded version works.
  await page.fill('#e-address', '我的修改');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('#drawer .unit-name');
  const final = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  assert.equal(final.body.properties.address, '我的修改');
  assert.equal(final.body.properties.name, theirs.properties.name);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a read-only deployment shows no entry form and no edit button', async () => {
  const page = await openPage(browser, srv.url);
  await page.route('**/api/v1/ui-config', (r) => r.fulfill({ json: { tianditu_key: '', editable: false } }));
  await page.goto(srv.url + '/');
  await waitInteractive(page);
  assert.equal(await page.isVisible('#btn-new'), false);
  assert.match(await page.textContent('#user'), /只读/);
  assert.match(await page.textContent('#user'), new RegExp(`${USERS.admin.name}[\\s\\S]*管理员`));
  await page.fill('.search-input', 'CJ-WHP-0001');
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer .unit-name');
  assert.equal(await page.$('#drawer [data-action=edit]'), null);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
