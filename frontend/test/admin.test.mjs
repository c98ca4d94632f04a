// 系统管理 and review in a real browser: users and the audit log, API tokens, review of a
// unit (提交审核 / 退回 / 审核通过 by someone other than its author), and publication: the
// public page shows only what was published, and the diff between two publications.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, openInternalMap, waitInteractive, waitTiles, screenshot, api, login, USERS } from './harness.mjs';

let srv;
let browser;
let expert;

/** COMPLETE are the fields a unit needs before it is submitted for review (提交审核). */
const COMPLETE = {
  controls: { engineering: ['可燃气体报警'], management: ['安全操作规程'], training: ['岗前培训'], ppe: ['防护服'], emergency: ['应急预案'] },
  responsible_unit: '测试责任单位', contact_person: '测试联系人', contact_phone: '0877-1234567', assessed_at: '2026-03-01T00:00:00Z',
};

before(async () => {
  srv = await startServer();
  browser = await launch();
  expert = await login(srv.url, USERS.expert.name, USERS.expert.password);
  assert.equal(expert.status, 200);
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function openAdmin(page, tab) {
  await page.click('#btn-admin');
  await page.click(`.admin-tabs [data-tab=${tab}]`);
  await page.waitForSelector(`.admin[data-tab=${tab}]`);
}

/** twoStep clicks a button that asks once more (停用 → 确认停用). */
async function twoStep(page, selector) {
  await page.click(selector);
  await page.click(selector);
}

test('a department user gets exactly the categories ticked: typing the department then clicking one ticks only that one', async () => {
  const cat = (await api(srv.url, 'GET', '/api/v1/categories')).body;
  const construction = cat.categories.find((c) => c.label === '建设施工');
  const mine = cat.categories.filter((c) => c.department === construction.department).map((c) => c.code).sort();
  assert.ok(mine.length > 1, 'the department supervises several categories');
  const page = await openInternalMap(browser, srv.url);
  await openAdmin(page, 'users');
  await page.fill('#u-name', 'ui-dept-01');
  await page.selectOption('#u-role', 'department');
  // The exact sequence: type the department, then click one category (the field loses focus on the click).
  await page.fill('#u-dept', construction.department);
  await page.click(`#u-categories input[value="${construction.code}"]`);
  assert.deepEqual(await page.$$eval('#u-categories input:checked', (is) => is.map((i) => i.value)), [construction.code]);
  await page.fill('#u-regions', '530481');
  await page.click('[data-action=create-user]');
  await page.waitForSelector('table.users tr[data-user="ui-dept-01"]');
  const made = (await api(srv.url, 'GET', '/api/v1/users')).body.users.find((u) => u.name === 'ui-dept-01');
  assert.deepEqual(made.categories, [construction.code]);
  // The department's defaults are one click away, and only on request.
  await page.fill('#u-name', 'ui-dept-02');
  await page.fill('#u-dept', construction.department);
  await page.click('[data-action=dept-defaults]');
  assert.deepEqual((await page.$$eval('#u-categories input:checked', (is) => is.map((i) => i.value))).sort(), mine);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the review queue: 待审核 counts the submitted units and shows them on the map and in the register', async () => {
  const near = (await api(srv.url, 'GET', '/api/v1/units?limit=1&q=CJ-WHP-0002')).body.features[0];
  const made = await api(srv.url, 'POST', '/api/v1/units', {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [near.geometry.coordinates[0] + 0.0011, near.geometry.coordinates[1] + 0.0004] },
    properties: { code: 'E2E-QUEUE-0001', name: '待审核队列测试单元', category: 'hazardous_chemicals', region_code: near.properties.region_code, assessment: { method: 'LS', likelihood: 3, severity: 3 }, status: 'submitted', ...COMPLETE },
  }, {}, { as: expert });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const waiting = (await api(srv.url, 'GET', '/api/v1/units?status=submitted&limit=1')).body.numberMatched;
  assert.ok(waiting >= 1);
  const page = await openInternalMap(browser, srv.url);
  await page.waitForFunction((n) => document.querySelector('#btn-pending')?.dataset.count === String(n), waiting);
  assert.match(await page.textContent('#btn-pending'), new RegExp(`待审核\\s*${waiting}`));
  await page.click('#btn-pending');
  assert.equal(await page.inputValue('#f-status'), 'submitted');
  await page.waitForFunction((n) => new RegExp(`共 ${n} 个单元`).test(document.querySelector('.table-status')?.textContent || ''), waiting);
  const statuses = await page.$$eval('table.register tbody tr[data-id]', (rs) => rs.map((r) => r.textContent));
  assert.ok(statuses.length === Math.min(waiting, 50) && statuses.every((t) => t.includes('待审核')), `rows: ${statuses.length}`);
  assert.match(await page.textContent('.matched'), new RegExp(`筛选结果：${waiting} 个风险单元`));
  await screenshot(page, 'review-queue.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an administrator creates a user, sees its password once, disables it, and finds it in the audit log', async () => {
  const page = await openInternalMap(browser, srv.url);
  await openAdmin(page, 'users');
  await page.waitForSelector(`table.users tr[data-user="${USERS.expert.name}"]`);
  await page.fill('#u-name', 'ui-expert-01');
  await page.selectOption('#u-role', 'expert');
  await page.fill('#u-dept', '应急局');
  assert.equal(await page.isVisible('#u-categories'), false, 'no scope for an expert');
  await page.click('[data-action=create-user]');
  await page.waitForSelector('.secret-box .secret');
  const password = await page.textContent('.secret-box .secret');
  assert.ok(password.length >= 10, `a generated password: ${password}`);
  await page.waitForSelector('table.users tr[data-user="ui-expert-01"]');
  assert.match(await page.textContent('table.users tr[data-user="ui-expert-01"]'), /评估专家[\s\S]*应急局[\s\S]*正常/);
  await screenshot(page, 'admin-users.png');
  // The password works, once the user is disabled no longer.
  assert.equal((await login(srv.url, 'ui-expert-01', password)).status, 200, 'the shown password logs in');
  await twoStep(page, 'table.users tr[data-user="ui-expert-01"] [data-action=disable]');
  await page.waitForSelector('table.users tr[data-user="ui-expert-01"].disabled');
  assert.equal((await login(srv.url, 'ui-expert-01', password)).status, 401, 'disabled');
  await page.click('table.users tr[data-user="ui-expert-01"] [data-action=enable]');
  await page.waitForSelector('table.users tr[data-user="ui-expert-01"]:not(.disabled)');
  // Reset: a new password, shown once; the old one no longer works.
  await twoStep(page, 'table.users tr[data-user="ui-expert-01"] [data-action=reset-password]');
  await page.waitForFunction((old) => { const s = document.querySelector('.admin-list .secret-box .secret'); return s && s.textContent !== old; }, password);
  const fresh = await page.textContent('.admin-list .secret-box .secret');
  assert.equal((await login(srv.url, 'ui-expert-01', password)).status, 401);
  assert.equal((await login(srv.url, 'ui-expert-01', fresh)).status, 200);

  // 操作日志: the creation, by whom, filtered by action.
  await page.click('.admin-tabs [data-tab=audit]');
  await page.waitForSelector('table.audit tbody tr[data-id]');
  await page.selectOption('#a-action', { label: '新增用户' });
  await page.click('[data-action=audit-search]');
  await page.waitForFunction(() => [...document.querySelectorAll('table.audit tbody tr[data-id]')].every((r) => r.dataset.action === 'user.create'));
  const row = await page.textContent('table.audit tbody tr[data-id]');
  assert.match(row, /admin[\s\S]*管理员[\s\S]*新增用户[\s\S]*成功[\s\S]*201[\s\S]*POST \/api\/v1\/users[\s\S]*用户 ui-expert-01/);
  assert.doesNotMatch(row, /user\.create/);
  // Outcome and actor filters; refused logins show as 拒绝.
  await page.selectOption('#a-action', 'session.login');
  await page.selectOption('#a-outcome', 'denied');
  await page.click('[data-action=audit-search]');
  await page.waitForFunction(() => { const rs = [...document.querySelectorAll('table.audit tbody tr[data-id]')]; return rs.length > 0 && rs.every((r) => r.dataset.outcome === 'denied' && r.dataset.action === 'session.login'); });
  assert.match(await page.textContent('table.audit tbody tr[data-id]'), /ui-expert-01[\s\S]*拒绝[\s\S]*401/);
  // A time range that ends before everything finds nothing.
  await page.selectOption('#a-outcome', '');
  await page.selectOption('#a-action', '');
  await page.fill('#a-until', '2020-01-01T00:00');
  await page.click('[data-action=audit-search]');
  await page.waitForFunction(() => document.querySelector('.audit-status')?.textContent.includes('没有符合条件的记录'));
  // 发布 is found by its name; the command line's own writes name it and its account.
  await page.fill('#a-until', '');
  await page.selectOption('#a-action', { label: '发布' });
  await page.click('[data-action=audit-search]');
  await page.waitForFunction(() => { const rs = [...document.querySelectorAll('table.audit tbody tr[data-id]')]; return rs.length > 0 && rs.every((r) => r.dataset.action === 'publication.create'); });
  assert.match(await page.textContent('table.audit tbody tr[data-id]'), /命令行（[^）]+）[\s\S]*命令行[\s\S]*发布[\s\S]*发布 第 1 期[\s\S]*演示城市首期发布/);
  await screenshot(page, 'admin-audit.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the audit log pages with next_before', async () => {
  // Enough rows for two pages of 50: a logged-in user's refused reads are a row each
  // (anonymous ones from one address fold into one row with a count).
  for (let i = 0; i < 60; i++) await api(srv.url, 'GET', '/api/v1/users', undefined, {}, { as: expert });
  const total = [];
  let before = null;
  do {
    const r = (await api(srv.url, 'GET', `/api/v1/audit?limit=50${before ? '&before=' + before : ''}`)).body;
    total.push(...r.entries);
    before = r.next_before;
  } while (before);
  assert.ok(total.length > 50, `${total.length} rows`);
  const page = await openInternalMap(browser, srv.url);
  await openAdmin(page, 'audit');
  await page.waitForSelector('table.audit tbody tr[data-id]');
  const first = await page.$$eval('table.audit tbody tr[data-id]', (rs) => rs.map((r) => Number(r.dataset.id)));
  assert.equal(first.length, 50);
  assert.deepEqual(first, [...first].sort((a, b) => b - a), 'newest first');
  await page.click('[data-action=audit-older]');
  await page.waitForFunction((top) => Number(document.querySelector('table.audit tbody tr[data-id]')?.dataset.id) < top, first[first.length - 1] + 1);
  const second = await page.$$eval('table.audit tbody tr[data-id]', (rs) => rs.map((r) => Number(r.dataset.id)));
  assert.ok(second.length > 0 && Math.max(...second) < Math.min(...first), 'the next page is older');
  assert.match(await page.textContent('.audit-status'), /第 2 页/);
  await page.click('[data-action=audit-newer]');
  await page.waitForFunction((top) => Number(document.querySelector('table.audit tbody tr[data-id]')?.dataset.id) === top, first[0]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('API tokens: the secret is shown once, works as Bearer, and stops working when revoked', async () => {
  const page = await openInternalMap(browser, srv.url);
  await openAdmin(page, 'tokens');
  await page.waitForSelector(`#t-user option[value="${USERS.expert.name}"]`, { state: 'attached' });
  await page.fill('#t-name', '数据同步脚本');
  await page.selectOption('#t-user', USERS.expert.name);
  await page.click('[data-action=create-token]');
  await page.waitForSelector('.secret-box .secret');
  const secret = await page.textContent('.secret-box .secret');
  assert.match(secret, /^rmk_/);
  const bearer = { Authorization: `Bearer ${secret}` };
  const ok = await api(srv.url, 'GET', '/api/v1/session', undefined, bearer, { as: null });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.user.name, USERS.expert.name);
  await page.waitForSelector('table.tokens tr[data-token]');
  const row = 'table.tokens tr[data-token]:has-text("数据同步脚本")';
  assert.match(await page.textContent(row), /数据同步脚本[\s\S]*zhuanjia[\s\S]*admin[\s\S]*有效/);
  await twoStep(page, `${row} [data-action=revoke]`);
  await page.waitForSelector(`${row}.disabled`);
  assert.match(await page.textContent(row), /已吊销/);
  assert.equal((await api(srv.url, 'GET', '/api/v1/session', undefined, bearer, { as: null })).status, 401, 'revoked');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** findUnit opens a unit's details through the search box. */
async function openUnit(page, code) {
  await page.fill('.search-input', code);
  await page.waitForSelector(`.search-item`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer section.review');
}

test('review: the author submits, cannot approve his own revision; an expert rejects, then approves', async () => {
  // The administrator (the harness's session) edits an approved unit: a new draft revision.
  const u = (await api(srv.url, 'GET', '/api/v1/units?limit=100&q=CJ-YHBZ')).body.features.find((f) => f.properties.status === 'approved');
  assert.ok(u, 'an approved unit');
  const cur = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  assert.equal(cur.body.properties.status, 'approved');
  const put = await api(srv.url, 'PUT', `/api/v1/units/${u.id}`, { ...cur.body, properties: { ...cur.body.properties, status: 'draft', address: '复核后的地址' } }, { 'If-Match': cur.etag });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.properties.status, 'draft');

  const page = await openInternalMap(browser, srv.url);
  await openUnit(page, u.properties.code);
  assert.equal(await page.getAttribute('#drawer .panel-title .status-badge', 'data-status'), 'draft');
  assert.match(await page.textContent('#drawer .panel-title .status-badge'), /草稿/);
  assert.equal(await page.$('#drawer [data-action=approve]'), null, 'a draft is not approved');
  await page.click('#drawer [data-action=submit]');
  await page.waitForFunction(() => document.querySelector('#drawer')?.dataset.status === 'submitted' && document.querySelector('#drawer section.review'));
  assert.match(await page.textContent('#drawer .panel-title'), /待审核/);
  assert.equal(await page.$('#drawer [data-action=approve]'), null, 'the author may not approve');
  assert.match(await page.textContent('#drawer section.review'), /提交人[\s\S]*admin/);
  await page.context().close();

  // An expert rejects it with a reason…
  const ep = await openInternalMap(browser, srv.url, { as: expert });
  assert.match(await ep.textContent('#user'), /zhuanjia[\s\S]*评估专家/);
  assert.equal(await ep.isVisible('#btn-admin'), false, 'experts have no 系统管理');
  await openUnit(ep, u.properties.code);
  await ep.waitForSelector('#drawer [data-action=approve]');
  await ep.click('#drawer [data-action=reject]');
  await ep.fill('#reject-reason', '请补充管控措施');
  await screenshot(ep, 'review-reject.png');
  await ep.click('#drawer [data-action=confirm-reject]');
  await ep.waitForFunction(() => document.querySelector('#drawer')?.dataset.status === 'draft' && document.querySelector('#drawer section.review'));
  assert.match(await ep.textContent('#drawer section.review'), /审核人[\s\S]*zhuanjia/);
  // …the author submits again (through the API), and the expert approves.
  const again = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  assert.equal((await api(srv.url, 'POST', `/api/v1/units/${u.id}/submit`, undefined, { 'If-Match': again.etag })).status, 200);
  await ep.click('#drawer .icon-btn');
  await openUnit(ep, u.properties.code);
  await ep.waitForSelector('#drawer [data-action=approve]');
  await ep.click('#drawer [data-action=approve]');
  await ep.click('#drawer [data-action=confirm-approve]'); // approving asks for confirmation (review.test.mjs)
  await ep.waitForFunction(() => document.querySelector('#drawer')?.dataset.status === 'approved' && document.querySelector('#drawer section.review'));
  assert.match(await ep.textContent('#drawer .panel-title'), /已审核/);
  const after = await api(srv.url, 'GET', `/api/v1/units/${u.id}`);
  assert.equal(after.body.properties.status, 'approved');
  assert.equal(after.body.properties.address, '复核后的地址');
  await screenshot(ep, 'review-approved.png');
  assert.deepEqual(ep.errors, []);
  await ep.context().close();
});

/** tileIds are the unit ids in the public tiles a page has drawn. */
function tileIds(page) {
  return page.evaluate(() => {
    const ids = new Set();
    for (const r of Object.values(window.riskmap.units.layer._vectorTiles)) for (const { feature } of Object.values(r._features)) if (!feature.properties.cluster) ids.add(feature.properties.id);
    return [...ids];
  });
}

/** openPublicAt opens /public at a place, recording the responses of its /public API. */
async function openPublicAt(lon, lat) {
  const page = await openPage(browser, srv.url, { as: null });
  page.seen = [];
  page.on('response', (r) => r.url().includes('/public/') && page.seen.push(r));
  await page.goto(srv.url + '/public');
  await waitInteractive(page);
  await waitTiles(page);
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 17, { animate: false }), [lon, lat]);
  await waitTiles(page);
  return page;
}

test('publication: an approved unit stays off /public until published; the diff shows what changed', async () => {
  const pub1 = (await api(srv.url, 'GET', '/public/api/v1/publication', undefined, {}, { as: null })).body;
  // A new unit with a distinctive name, approved after publication 1 (by the expert).
  const near = (await api(srv.url, 'GET', '/api/v1/units?limit=1&q=CJ-WHP-0002')).body.features[0];
  const [lon, lat] = [near.geometry.coordinates[0] + 0.0007, near.geometry.coordinates[1] + 0.0007];
  const NAME = '发布测试单元（未发布前不应公开）';
  const CODE = 'E2E-PUB-0001';
  const LABEL = '发布测试点（公开名称）';
  const made = await api(srv.url, 'POST', '/api/v1/units', {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: { code: CODE, name: NAME, public_label: LABEL, category: 'hazardous_chemicals', region_code: near.properties.region_code, assessment: { method: 'LS', likelihood: 5, severity: 5 }, status: 'submitted', ...COMPLETE, responsible_unit: '发布测试责任单位' },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const ap = await api(srv.url, 'POST', `/api/v1/units/${made.body.id}/approve`, undefined, { 'If-Match': made.etag }, { as: expert });
  assert.equal(ap.status, 200, JSON.stringify(ap.body));
  // And an existing published unit whose grade changes: yellow → red.
  const y = (await api(srv.url, 'GET', '/api/v1/units?limit=1&q=CJ-WHP-0003')).body.features[0];
  const ycur = await api(srv.url, 'GET', `/api/v1/units/${y.id}`);
  const from = ycur.body.properties.grade;
  const yput = await api(srv.url, 'PUT', `/api/v1/units/${y.id}`, { ...ycur.body, properties: { ...ycur.body.properties, status: 'submitted', assessment: { method: 'LS', likelihood: 5, severity: 5 }, direct_major_reason: null } }, { 'If-Match': ycur.etag });
  assert.equal(yput.status, 200, JSON.stringify(yput.body));
  assert.equal(yput.body.properties.grade, 'red');
  assert.notEqual(from, 'red');
  assert.equal((await api(srv.url, 'POST', `/api/v1/units/${y.id}/approve`, undefined, { 'If-Match': yput.etag }, { as: expert })).status, 200);

  // /public still shows publication 1: not the new unit, in its responses or its page.
  let page = await openPublicAt(lon, lat);
  assert.match(await page.textContent('#publication'), new RegExp(`第 ${pub1.number} 期 · 发布于 \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}`));
  const tj = await (page.seen.find((r) => r.url().endsWith('/public/tiles/units.json'))).json();
  assert.match(tj.tiles[0], new RegExp(`/public/tiles/${pub1.number}/units/`));
  const tileUrls = page.seen.map((r) => r.url()).filter((u) => /\/public\/tiles\/\d+\/units\/\d+\/\d+\/\d+/.test(u));
  assert.ok(tileUrls.length > 0 && tileUrls.every((u) => u.includes(`/public/tiles/${pub1.number}/units/`)), 'numbered tiles of the latest publication');
  assert.ok(!(await tileIds(page)).includes(made.body.id), 'not in the public tiles');
  await page.fill('.search-input', CODE);
  await page.waitForSelector('.search-empty');
  assert.match(await page.textContent('.search-results'), /没有找到/);
  for (const r of page.seen) {
    if (!/json/.test(r.headers()['content-type'] || '')) continue;
    const body = await r.json();
    const codes = (body.features || [body]).map((f) => f && f.properties && f.properties.code);
    assert.ok(!codes.includes(CODE), `${r.url()} must not carry the unpublished unit`);
    assert.ok(!JSON.stringify(body).includes(NAME), `${r.url()} must not carry its name`);
    assert.ok(!JSON.stringify(body).includes(LABEL), `${r.url()} must not carry its public label before publication`);
  }
  assert.ok(!(await page.evaluate(() => document.body.innerText)).includes(CODE));
  await page.context().close();

  // Publish from 系统管理 → 发布.
  const admin = await openInternalMap(browser, srv.url);
  await openAdmin(admin, 'publish');
  await admin.waitForSelector('table.publications tr[data-number]');
  await admin.fill('#p-note', '第二期：新增与复核');
  // Nothing is published before the admin has seen what will change.
  assert.equal(await admin.isDisabled('[data-action=publish]'), true, 'confirm waits for a preview');
  await admin.click('[data-action=preview]');
  await admin.waitForSelector('.preview-out .diff-part[data-part=added] table');
  assert.match(await admin.textContent('.preview-out .diff-summary'), new RegExp(`第 ${pub1.number} 期 → 本次发布：新增 1，移除 0，等级变化 1`));
  assert.match(await admin.textContent('.preview-out .diff-part[data-part=added]'), new RegExp(CODE));
  assert.equal((await api(srv.url, 'GET', '/public/api/v1/publication', undefined, {}, { as: null })).body.number, pub1.number, 'a preview publishes nothing');
  await screenshot(admin, 'admin-publish-preview.png');
  await admin.click('[data-action=publish]');
  await admin.waitForSelector('.notice-ok');
  const number = pub1.number + 1;
  assert.match(await admin.textContent('.notice-ok'), new RegExp(`已发布第 ${number} 期`));
  await admin.waitForSelector(`table.publications tr[data-number="${number}"]`);
  assert.match(await admin.textContent(`table.publications tr[data-number="${number}"]`), /第二期：新增与复核/);
  // The diff from the last publication: the new unit added, the grade change.
  await admin.waitForSelector('.diff-part[data-part=changed] table');
  assert.match(await admin.textContent('.diff-summary'), new RegExp(`第 ${pub1.number} 期 → 第 ${number} 期`));
  assert.match(await admin.textContent('.diff-part[data-part=added]'), new RegExp(`${CODE}[\\s\\S]*${NAME.slice(0, 6)}[\\s\\S]*重大风险`));
  const changed = `.diff-part[data-part=changed] tr[data-code="${y.properties.code}"]`;
  assert.equal(await admin.getAttribute(changed, 'data-from'), from);
  assert.equal(await admin.getAttribute(changed, 'data-to'), 'red');
  assert.match(await admin.textContent(changed), /→[\s\S]*重大风险/);
  // Comparing a publication with itself shows nothing.
  await admin.selectOption('#p-from', String(number));
  await admin.selectOption('#p-to', String(number));
  await admin.click('[data-action=diff]');
  await admin.waitForFunction(() => /新增 0，移除 0，等级变化 0/.test(document.querySelector('.diff-summary')?.textContent || ''));
  await admin.selectOption('#p-from', String(pub1.number));
  await admin.click('[data-action=diff]');
  await admin.waitForSelector(changed);
  await screenshot(admin, 'admin-publish-diff.png');
  assert.deepEqual(admin.errors, []);
  await admin.context().close();

  // /public now shows publication 2 and the unit, by code only.
  page = await openPublicAt(lon, lat);
  assert.match(await page.textContent('#publication'), new RegExp(`第 ${number} 期`));
  assert.ok((await tileIds(page)).includes(made.body.id), 'in the public tiles now');
  const tileUrls2 = page.seen.map((r) => r.url()).filter((u) => /\/public\/tiles\/\d+\/units\//.test(u));
  assert.ok(tileUrls2.length > 0 && tileUrls2.every((u) => u.includes(`/public/tiles/${number}/units/`)));
  await page.fill('.search-input', CODE);
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.leaflet-popup .public-card');
  await page.waitForFunction(() => /重大风险/.test(document.querySelector('.leaflet-popup .public-card').textContent));
  // The public label names the unit for citizens, once published.
  await page.waitForFunction((label) => document.querySelector('.leaflet-popup .public-card-title')?.textContent === label, LABEL);
  const body = await page.evaluate(() => document.body.innerText);
  assert.ok(body.includes(CODE));
  assert.ok(!body.includes(NAME) && !body.includes('发布测试责任单位'), 'internal fields stay internal');
  await screenshot(page, 'public-after-publish.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
