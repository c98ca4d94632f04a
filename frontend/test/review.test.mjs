// The review desk (审核) in a real browser: retirement through review (申请注销 by one user,
// 同意注销 by another), approving with the revision compared to the approved one and a
// comment, the lowered grade's reason, the submission checklist, an unchanged save, the
// status outlines on the map, a place outside the city or the department's regions, and the
// unit being edited drawn above the tiles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openInternalMap, waitTiles, screenshot, api, login, USERS } from './harness.mjs';

let srv;
let browser;
let expert;
let dept;

before(async () => {
  srv = await startServer();
  browser = await launch();
  expert = await login(srv.url, USERS.expert.name, USERS.expert.password);
  assert.equal(expert.status, 200);
  // A department user: 应急局, hazardous chemicals, the whole county.
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'yjj-review', role: 'department', department: '应急局', categories: ['hazardous_chemicals'], regions: ['530481'], password: 'dept-pass-0003' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  dept = await login(srv.url, 'yjj-review', 'dept-pass-0003');
  assert.equal(dept.status, 200);
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** approvedUnits are approved demo units of hazardous chemicals, red first. */
async function approvedUnits() {
  const fs = (await api(srv.url, 'GET', '/api/v1/units?status=approved&category=hazardous_chemicals&limit=50')).body.features;
  return fs.sort((a, b) => (a.properties.grade === 'red' ? -1 : 0) - (b.properties.grade === 'red' ? -1 : 0));
}

let taken = 0;
/** freshUnit is an approved demo unit no other test has used. */
async function freshUnit(pred = () => true) {
  const fs = (await approvedUnits()).filter(pred);
  assert.ok(fs.length > taken, 'enough approved demo units');
  return fs[taken++];
}

async function openUnit(page, code) {
  await page.fill('.search-input', code);
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer section.review');
}

async function pendingCount(page) {
  await page.waitForFunction(() => document.querySelector('#btn-pending')?.dataset.count != null);
  return Number(await page.getAttribute('#btn-pending', 'data-count'));
}

test('retiring an approved unit is a request with a reason that another reviewer approves', async () => {
  const u = await freshUnit((f) => f.properties.grade === 'red');
  // The department user asks; a reason is required.
  const dp = await openInternalMap(browser, srv.url, { as: dept });
  await openUnit(dp, u.properties.code);
  await dp.click('#drawer [data-action=retire]');
  await dp.click('#drawer [data-action=confirm-retire]');
  assert.match(await dp.textContent('#drawer .reject-box .field-error'), /请填写注销理由/);
  await dp.fill('#retire-reason', '企业已整体搬迁');
  await dp.click('#drawer [data-action=confirm-retire]');
  await dp.waitForSelector('#drawer .retire-badge');
  assert.match(await dp.textContent('#drawer .panel-title'), /待审核[\s\S]*注销待审核/);
  assert.match(await dp.textContent('#drawer .retire-request'), /yjj-review[\s\S]*企业已整体搬迁/);
  await screenshot(dp, 'review-retire-requested.png');
  assert.deepEqual(dp.errors, []);
  await dp.context().close();
  // It stays in the approved register (the public map) until the request is approved.
  assert.equal((await api(srv.url, 'GET', `/public/api/v1/units/${u.id}`, undefined, {}, { as: null })).status, 200);

  // The expert finds it in the review queue and approves the retirement.
  const ep = await openInternalMap(browser, srv.url, { as: expert });
  const waiting = await pendingCount(ep);
  assert.ok(waiting >= 1, `the request counts in 待审核: ${waiting}`);
  await ep.click('#btn-pending');
  await ep.waitForFunction(() => document.querySelector('#f-status')?.value === 'submitted');
  await openUnit(ep, u.properties.code);
  assert.match(await ep.textContent('#drawer [data-action=approve]'), /同意注销/);
  await ep.click('#drawer [data-action=approve]');
  assert.match(await ep.textContent('#drawer .approve-box'), /确认同意注销[\s\S]*企业已整体搬迁/);
  await ep.fill('#approve-comment', '已现场核实');
  await ep.click('#drawer [data-action=confirm-approve]');
  await ep.waitForFunction(() => document.querySelector('#drawer')?.dataset.status === 'retired');
  assert.equal((await api(srv.url, 'GET', `/api/v1/units/${u.id}`)).body.properties.status, 'retired');
  const rv = (await api(srv.url, 'GET', `/api/v1/units/${u.id}/review`)).body;
  assert.equal(rv.comment, '已现场核实');
  assert.deepEqual(ep.errors, []);
  await ep.context().close();
});

test('the requester cannot approve its own retirement request, and rejecting keeps the unit', async () => {
  const u = await freshUnit();
  const page = await openInternalMap(browser, srv.url, { as: expert });
  await openUnit(page, u.properties.code);
  await page.click('#drawer [data-action=retire]');
  await page.fill('#retire-reason', '重复登记');
  await page.click('#drawer [data-action=confirm-retire]');
  await page.waitForSelector('#drawer .retire-badge');
  assert.equal(await page.$('#drawer [data-action=approve]'), null, 'no approving one\'s own request');
  await page.context().close();
  // The administrator rejects it: the unit is approved again.
  const ap = await openInternalMap(browser, srv.url);
  await openUnit(ap, u.properties.code);
  assert.match(await ap.textContent('#drawer [data-action=reject]'), /驳回注销/);
  await ap.click('#drawer [data-action=reject]');
  await ap.fill('#reject-reason', '并非重复，保留');
  await ap.click('#drawer [data-action=confirm-reject]');
  await ap.waitForFunction(() => document.querySelector('#drawer')?.dataset.status === 'approved' && document.querySelector('#drawer section.review'));
  assert.equal(await ap.$('#drawer .retire-badge'), null);
  assert.match(await ap.textContent('#drawer section.review'), /审核意见[\s\S]*并非重复，保留/);
  assert.deepEqual(ap.errors, []);
  await ap.context().close();
});

test('approving shows the fields changed against the approved version, the grades side by side with the reason, and takes a comment', async () => {
  const u = await freshUnit((f) => f.properties.grade === 'red' || f.properties.grade === 'orange');
  const cur = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  const old = cur.body.properties;
  // The administrator lowers it to blue with a reason and a new address, and submits.
  const body = { ...cur.body, properties: { ...old, status: 'submitted', address: '整改后的新地址 1 号', assessment: { method: 'LS', likelihood: 1, severity: 1 }, direct_major_reason: null, downgrade_reason: '已拆除两座储罐' } };
  const put = await api(srv.url, 'PUT', `/api/v1/units/${u.id}`, body, { 'If-Match': cur.etag });
  assert.equal(put.status, 200, JSON.stringify(put.body));

  const ep = await openInternalMap(browser, srv.url, { as: expert });
  await openUnit(ep, u.properties.code);
  assert.match(await ep.textContent('#drawer section.review'), /等级变化[\s\S]*降级理由：已拆除两座储罐/);
  await ep.click('#drawer [data-action=approve]');
  const box = '#drawer .approve-box';
  await ep.waitForSelector(`${box} .review-diff`);
  assert.equal(await ep.getAttribute(`${box} .grade-compare`, 'data-lowered'), '1');
  const badges = await ep.$$eval(`${box} .grade-compare .grade-badge`, (bs) => bs.map((b) => [b.textContent, getComputedStyle(b).backgroundColor]));
  assert.equal(badges.length, 2);
  assert.notEqual(badges[0][1], badges[1][1], 'the two grades in their colours');
  assert.match(badges[1][0], /低风险/);
  assert.match(await ep.textContent(`${box} .grade-compare`), /降级理由：已拆除两座储罐/);
  const addr = await ep.$eval(`${box} tr[data-field=address]`, (tr) => [tr.querySelector('.old').textContent, tr.querySelector('.new').textContent]);
  assert.deepEqual(addr, [old.address || '—', '整改后的新地址 1 号']);
  assert.equal(await ep.$(`${box} tr[data-field=name]`), null, 'unchanged fields are not listed');
  await screenshot(ep, 'review-approve-diff.png');
  await ep.fill('#approve-comment', '整改材料齐全，同意降级');
  await ep.click('#drawer [data-action=confirm-approve]');
  await ep.waitForFunction(() => document.querySelector('#drawer')?.dataset.status === 'approved' && document.querySelector('#drawer section.review'));
  assert.match(await ep.textContent('#drawer section.review'), /审核意见[\s\S]*整改材料齐全，同意降级/);
  assert.deepEqual(ep.errors, []);
  await ep.context().close();
});

test('the editor asks for a reason when the grade falls below the approved one', async () => {
  const u = await freshUnit((f) => f.properties.grade === 'red' || f.properties.grade === 'orange');
  const page = await openInternalMap(browser, srv.url);
  await openUnit(page, u.properties.code);
  await page.click('#drawer [data-action=edit]');
  await page.waitForSelector('.editor-form');
  assert.equal(await page.isVisible('#e-downgrade-reason'), false);
  await page.selectOption('#e-method', 'LS');
  await page.uncheck('#e-direct');
  await page.selectOption('#e-likelihood', '1');
  await page.selectOption('#e-severity', '1');
  await page.waitForSelector('#e-downgrade-reason', { state: 'visible' });
  assert.match(await page.textContent('.downgrade-box .grade-compare'), /已审核版本[\s\S]*本版[\s\S]*低风险[\s\S]*降级/);
  await page.click('.form-actions .btn-primary');
  assert.match(await page.textContent('[data-field=downgrade_reason] .field-error'), /降级理由/);
  await page.fill('#e-downgrade-reason', '储量已减半');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('#drawer .unit-name');
  const rv = (await api(srv.url, 'GET', `/api/v1/units/${u.id}/review`)).body;
  assert.equal(rv.status, 'draft');
  assert.equal(rv.downgrade_reason, '储量已减半');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the checklist says what submission still needs, in the form and in details', async () => {
  const u = await freshUnit();
  const cur = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  // A draft revision without a contact phone or PPE measures.
  const props = { ...cur.body.properties, status: 'draft', contact_phone: '', controls: { ...cur.body.properties.controls, ppe: [] } };
  assert.equal((await api(srv.url, 'PUT', `/api/v1/units/${u.id}`, { ...cur.body, properties: props }, { 'If-Match': cur.etag })).status, 200);
  const page = await openInternalMap(browser, srv.url);
  await openUnit(page, u.properties.code);
  assert.equal(await page.getAttribute('#drawer .submit-checklist', 'data-complete'), '0');
  assert.match(await page.textContent('#drawer .submit-checklist > p'), /尚缺 2 项：个体防护措施、联系电话/);
  assert.equal(await page.isDisabled('#drawer [data-action=submit]'), true);
  assert.match(await page.textContent('#drawer [data-action=submit]'), /尚缺 2 项/);
  await page.click('#drawer [data-action=edit]');
  await page.waitForSelector('.editor-form');
  await page.selectOption('#e-status', 'submitted');
  assert.match(await page.textContent('#e-checklist'), /尚缺 2 项[\s\S]*个体防护措施、联系电话/);
  assert.match(await page.textContent('.form-actions .btn-primary'), /提交审核（尚缺 2 项）/);
  let sent = 0;
  page.on('request', (r) => r.method() === 'PUT' && sent++);
  await page.click('.form-actions .btn-primary');
  assert.match(await page.textContent('[data-field="controls.ppe"] .field-error'), /个体防护措施/);
  assert.match(await page.textContent('[data-field=contact_phone] .field-error'), /联系电话/);
  assert.equal(sent, 0, 'nothing is sent while the unit is incomplete');
  await page.fill('#e-controls-ppe', '配备防毒面具');
  await page.fill('#e-phone', '0877-6000000');
  assert.equal(await page.getAttribute('#e-checklist', 'data-complete'), '1');
  await page.click('.form-actions .btn-primary');
  await page.waitForFunction(() => document.querySelector('#drawer')?.dataset.status === 'submitted');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('saving an unchanged unit makes no new version and says so', async () => {
  const u = await freshUnit();
  const before = (await api(srv.url, 'GET', `/api/v1/units/${u.id}`)).body.properties.version;
  const page = await openInternalMap(browser, srv.url);
  await openUnit(page, u.properties.code);
  await page.click('#drawer [data-action=edit]');
  await page.waitForSelector('.editor-form');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('#drawer .unit-name');
  await page.waitForFunction(() => [...document.querySelectorAll('.toast')].some((t) => t.textContent.includes('未生成新版本')));
  const after = (await api(srv.url, 'GET', `/api/v1/units/${u.id}`)).body.properties;
  assert.equal(after.version, before);
  assert.equal(after.status, 'approved', 'an unchanged approved unit stays approved');
  // A draft submitted without a change: the status change alone makes the new version, and the page says so.
  const cur = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  assert.equal((await api(srv.url, 'PUT', `/api/v1/units/${u.id}`, { ...cur.body, properties: { ...cur.body.properties, status: 'draft', address: '草稿地址 2 号' } }, { 'If-Match': cur.etag })).status, 200);
  await page.click('#drawer .icon-btn');
  await openUnit(page, u.properties.code);
  await page.click('#drawer [data-action=edit]');
  await page.waitForSelector('.editor-form');
  await page.selectOption('#e-status', 'submitted');
  await page.click('.form-actions .btn-primary');
  await page.waitForFunction(() => [...document.querySelectorAll('.toast')].some((t) => /只有状态改为待审核：状态变更记为第 \d+ 版/.test(t.textContent)));
  const submitted = (await api(srv.url, 'GET', `/api/v1/units/${u.id}`)).body.properties;
  assert.equal(submitted.status, 'submitted');
  assert.equal(submitted.version, before + 2);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the map draws drafts dotted and submitted units dashed; the internal tiles carry the status, the public ones do not', async () => {
  const u = await freshUnit();
  const cur = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  assert.equal((await api(srv.url, 'PUT', `/api/v1/units/${u.id}`, { ...cur.body, properties: { ...cur.body.properties, status: 'draft', address: '草稿地址' } }, { 'If-Match': cur.etag })).status, 200);
  const page = await openInternalMap(browser, srv.url);
  const [lon, lat] = u.geometry.type === 'Point' ? u.geometry.coordinates : (u.geometry.coordinates[0][0].length ? u.geometry.coordinates[0][0] : u.geometry.coordinates[0]);
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 17, { animate: false }), [lon, lat]);
  await waitTiles(page);
  const seen = await page.evaluate((id) => {
    const out = { statuses: [], dash: null };
    for (const r of Object.values(window.riskmap.units.layer._vectorTiles)) {
      for (const { feature } of Object.values(r._features)) {
        if (feature.properties.cluster) continue;
        out.statuses.push(feature.properties.status);
        if (feature.properties.id === id) out.dash = feature._path && feature._path.getAttribute('stroke-dasharray');
      }
    }
    return out;
  }, u.id);
  assert.ok(seen.statuses.includes('approved'), `statuses: ${seen.statuses}`);
  assert.ok(seen.dash && seen.dash !== 'none', `the draft's outline is dotted: ${seen.dash}`);
  await screenshot(page, 'review-status-outlines.png');
  await page.context().close();
  const pub = await fetch(`${srv.url}/public/tiles/units.json`).then((r) => r.json());
  assert.equal(pub.vector_layers[0].fields.status, undefined, 'the public tiles carry no status');
  const internal = (await api(srv.url, 'GET', '/tiles/units.json')).body;
  assert.equal(internal.vector_layers[0].fields.status, 'String');
});

test('a place outside the city or the department\'s regions is flagged while drawing and before saving', async () => {
  const page = await openInternalMap(browser, srv.url, { as: dept });
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  // Typed coordinates in Beijing, far outside the city.
  await page.click('.coord-input summary');
  await page.selectOption('#e-geomtype', 'Point');
  await page.fill('#e-coords', '116.397, 39.909');
  await page.click('[data-action=apply-coords]');
  await page.waitForSelector('#e-geom-warning:not([hidden])');
  assert.equal(await page.getAttribute('#e-geom-warning', 'data-kind'), 'city');
  assert.match(await page.textContent('#e-geom-warning'), /超出本市范围/);
  await page.fill('#e-code', 'E2E-FAR-0001');
  await page.fill('#e-name', '远在北京的单元');
  await page.selectOption('#e-category', 'hazardous_chemicals');
  const regions = (await api(srv.url, 'GET', '/api/v1/regions?level=community')).body.features;
  await page.selectOption('#e-region', regions[0].properties.code);
  let sent = 0;
  page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/api/v1/units') && sent++);
  await page.click('.form-actions .btn-primary');
  await page.waitForTimeout(300);
  assert.ok(page.dialogs.some((d) => /超出本市范围[\s\S]*仍要保存吗/.test(d)), `asked before saving: ${page.dialogs}`);
  assert.equal(sent, 0, 'declining the question saves nothing');
  // Drawing a point inside the city clears it; the editing pane lies above the unit tiles.
  const box = await page.$eval('#map', (m) => m.getBoundingClientRect().toJSON());
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 15, { animate: false }), regions[0].geometry.type === 'Polygon' ? regions[0].geometry.coordinates[0][0] : regions[0].geometry.coordinates[0][0][0]);
  const inside = await page.evaluate((g) => {
    const ring = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0];
    const xs = ring.map((p) => p[0]);
    const ys = ring.map((p) => p[1]);
    return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
  }, regions[0].geometry);
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 16, { animate: false }), inside);
  await page.click('[data-draw=point]');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() => document.querySelector('#e-geom-warning')?.hidden);
  const z = await page.evaluate(() => [Number(getComputedStyle(window.riskmap.map.getPane('editing')).zIndex), Number(getComputedStyle(window.riskmap.map.getPane('units')).zIndex)]);
  assert.ok(z[0] > z[1], `the unit being edited is drawn above the tiles: ${z}`);
  assert.ok(await page.$('.leaflet-editing-pane path'), 'the drawn point lies in the editing pane');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** inRing reports whether point p lies inside the ring (even-odd). */
function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** innerPoint is a point inside a region: its bbox centre, or a vertex-mean fallback searched on a grid. */
function innerPoint(g) {
  const rings = g.type === 'Polygon' ? [g.coordinates[0]] : g.coordinates.map((p) => p[0]);
  const ring = rings[0];
  const xs = ring.map((p) => p[0]);
  const ys = ring.map((p) => p[1]);
  for (let i = 1; i < 20; i++) {
    for (let j = 1; j < 20; j++) {
      const p = [Math.min(...xs) + ((Math.max(...xs) - Math.min(...xs)) * i) / 20, Math.min(...ys) + ((Math.max(...ys) - Math.min(...ys)) * j) / 20];
      if (inRing(p, ring) && (i >= 8 || j >= 8)) return p;
    }
  }
  throw new Error('no inner point');
}

test('a department user drawing outside its regions is warned at the first vertex', async () => {
  const streets = (await api(srv.url, 'GET', '/api/v1/regions?level=street')).body.features.filter((f) => f.geometry);
  assert.ok(streets.length >= 2);
  const [mine, other] = streets;
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'yjj-street', role: 'department', department: '应急局', categories: ['hazardous_chemicals'], regions: [mine.properties.code], password: 'dept-pass-0004' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const s = await login(srv.url, 'yjj-street', 'dept-pass-0004');
  const page = await openInternalMap(browser, srv.url, { as: s });
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  const [lon, lat] = innerPoint(other.geometry);
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 16, { animate: false }), [lon, lat]);
  const box = await page.$eval('#map', (m) => m.getBoundingClientRect().toJSON());
  await page.click('[data-draw=polygon]');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('#e-geom-warning:not([hidden])');
  assert.equal(await page.getAttribute('#e-geom-warning', 'data-kind'), 'scope');
  assert.match(await page.textContent('#e-geom-warning'), new RegExp(`不在您管辖的区域（${mine.properties.name}）之内`));
  await screenshot(page, 'review-outside-scope.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
