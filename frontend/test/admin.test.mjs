// 系统管理 and review in a real browser: users and the audit log, API tokens, review of a
// unit (提交审核 / 退回 / 审核通过 by someone other than its author), and publication: the
// public page shows only what was published, and the diff between two publications.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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
  await page.check('#u-regions input[value="530481"]');
  await page.click('[data-action=create-user]');
  await page.waitForSelector('table.users tr[data-user="ui-dept-01"]');
  const made = (await api(srv.url, 'GET', '/api/v1/users')).body.users.find((u) => u.name === 'ui-dept-01');
  assert.deepEqual(made.categories, [construction.code]);
  assert.deepEqual(made.regions, ['530481']);
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

/** namedAdmin is a second administrator with a name and a unit, logged in. */
let namedAdminP = null;
function namedAdmin() {
  namedAdminP ||= (async () => {
    const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'ui-admin-wang', role: 'admin', display_name: '王立新', organisation: '澄江市应急管理局', phone: '0877-6691234', password: 'wang-pass-00001' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const s = await login(srv.url, 'ui-admin-wang', 'wang-pass-00001');
    assert.equal(s.status, 200);
    return s;
  })();
  return namedAdminP;
}

test('users have 姓名, 单位 and phone: given at creation, shown in the list, and people are named by them in the audit log', async () => {
  const wang = await namedAdmin();
  const page = await openInternalMap(browser, srv.url, { as: wang });
  await openAdmin(page, 'users');
  await page.fill('#u-name', 'liexp');
  await page.fill('#u-display-name', '李明');
  await page.fill('#u-organisation', '云南省安全生产专家库');
  await page.fill('#u-phone', '138 0000 1111');
  await page.selectOption('#u-role', 'expert');
  await page.click('[data-action=create-user]');
  await page.waitForSelector('.secret-box .secret');
  assert.match(await page.textContent('.secret-box'), /已创建用户 李明（云南省安全生产专家库）（评估专家）/);
  const row = 'table.users tr[data-user="liexp"]';
  await page.waitForSelector(row);
  assert.match(await page.textContent(row), /liexp[\s\S]*李明（云南省安全生产专家库）[\s\S]*138 0000 1111[\s\S]*评估专家/);
  // A phone that is not one is refused, in Chinese, next to nothing else changed.
  await page.fill('#u-name', 'ui-bad-phone');
  await page.fill('#u-phone', '找前台');
  await page.click('[data-action=create-user]');
  await page.waitForSelector('#user-form .form-errors:not([hidden])');
  assert.match(await page.textContent('#user-form .form-errors'), /电话：应为电话号码/);
  assert.equal((await api(srv.url, 'GET', '/api/v1/users')).body.users.some((u) => u.name === 'ui-bad-phone'), false);

  // Everyone logged in may read the names, never the phones.
  const people = await api(srv.url, 'GET', '/api/v1/people', undefined, {}, { as: expert });
  assert.equal(people.status, 200);
  assert.deepEqual(people.body.people.find((p) => p.username === 'liexp'), { username: 'liexp', display_name: '李明', organisation: '云南省安全生产专家库' });
  assert.ok(!JSON.stringify(people.body).includes('1111'), 'no phone');

  // 操作日志: the actor and the user created are named, the login is the actor's tooltip.
  await page.click('.admin-tabs [data-tab=audit]');
  await page.selectOption('#a-action', 'user.create');
  await page.selectOption('#a-outcome', 'ok');
  await page.click('[data-action=audit-search]');
  await page.waitForFunction(() => { const rs = [...document.querySelectorAll('table.audit tbody tr[data-id]')]; return rs.length > 0 && rs.every((r) => r.dataset.action === 'user.create' && r.dataset.outcome === 'ok'); });
  const first = await page.textContent('table.audit tbody tr[data-id]');
  assert.match(first, /王立新（澄江市应急管理局）[\s\S]*新增用户[\s\S]*用户 李明（云南省安全生产专家库）/);
  assert.doesNotMatch(first, /ui-admin-wang/);
  assert.equal(await page.getAttribute('table.audit tbody tr[data-id] td:nth-child(2) span', 'title'), 'ui-admin-wang');
  await screenshot(page, 'admin-people.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a department\'s scope is edited after its creation: the category picker, the region tree, and the change in the audit log', async () => {
  const cat = (await api(srv.url, 'GET', '/api/v1/categories')).body;
  const whp = cat.categories.find((c) => c.code === 'hazardous_chemicals');
  const mine = cat.categories.filter((c) => c.department === whp.department).map((c) => c.code).sort();
  const streets = (await api(srv.url, 'GET', '/api/v1/regions?level=street')).body.features.map((f) => f.properties);
  const fenglu = streets.find((s) => s.name === '凤麓街道') || streets[0];
  const other = streets.find((s) => s !== fenglu && s.parent_code === fenglu.parent_code);
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'ui-dept-edit', role: 'department', department: whp.department, categories: ['hazardous_chemicals'], regions: [fenglu.code], password: 'dept-edit-pass-01' });
  assert.equal(made.status, 201, JSON.stringify(made.body));

  const page = await openInternalMap(browser, srv.url);
  await openAdmin(page, 'users');
  await page.click('table.users tr[data-user="ui-dept-edit"] [data-action=edit]');
  await page.waitForSelector('#user-edit-form #ue-regions li[data-code]');
  // The form holds the user as it is: its category ticked, its street chosen and named.
  assert.deepEqual(await page.$$eval('#ue-categories input:checked', (is) => is.map((i) => i.value)), ['hazardous_chemicals']);
  assert.equal(await page.textContent('#ue-regions .rp-chosen .rp-chip'), `${fenglu.name}×`);
  // A department without a region is refused, in Chinese, and nothing changes.
  await page.click(`#ue-regions .rp-chip[data-code="${fenglu.code}"] .rp-remove`);
  assert.match(await page.textContent('#ue-regions .rp-chosen'), /尚未选择区域/);
  await page.click('[data-action=save-user]');
  await page.waitForSelector('#user-edit-form .form-errors:not([hidden])');
  assert.match(await page.textContent('#user-edit-form .form-errors'), /管辖区域：行业部门用户至少需要一个管辖区域/);
  assert.deepEqual((await api(srv.url, 'GET', '/api/v1/users')).body.users.find((u) => u.name === 'ui-dept-edit').regions, [fenglu.code]);
  await page.check(`#ue-regions li[data-code="${fenglu.code}"] > .rp-row input`);
  // 部门默认 ticks the department's categories.
  await page.click('#user-edit-form [data-action=dept-defaults]');
  assert.deepEqual((await page.$$eval('#ue-categories input:checked', (is) => is.map((i) => i.value))).sort(), mine);
  // The tree: search by name, tick another street; ticking the district covers both.
  await page.fill('#ue-regions .rp-search', other.name.slice(0, 2));
  await page.waitForSelector(`#ue-regions li[data-code="${other.code}"]`);
  assert.equal(await page.$(`#ue-regions li[data-code="${fenglu.code}"]`) === null || other.name.slice(0, 2) === fenglu.name.slice(0, 2), true, 'the search narrows the tree');
  await page.check(`#ue-regions li[data-code="${other.code}"] > .rp-row input`);
  await page.fill('#ue-regions .rp-search', '');
  assert.deepEqual(await page.$$eval('#ue-regions .rp-chip', (cs) => cs.map((c) => c.dataset.code)).then((x) => x.sort()), [fenglu.code, other.code].sort());
  await page.check(`#ue-regions li[data-code="${fenglu.parent_code}"] > .rp-row input`);
  assert.deepEqual(await page.$$eval('#ue-regions .rp-chip', (cs) => cs.map((c) => c.dataset.code)), [fenglu.parent_code]);
  assert.equal(await page.isDisabled(`#ue-regions li[data-code="${fenglu.code}"] > .rp-row input`), true, 'covered by the district');
  // Un-tick the district by its chip, keep the two streets.
  await page.click(`#ue-regions .rp-chip[data-code="${fenglu.parent_code}"] .rp-remove`);
  await page.check(`#ue-regions li[data-code="${fenglu.code}"] > .rp-row input`);
  await page.check(`#ue-regions li[data-code="${other.code}"] > .rp-row input`);
  await page.fill('#ue-display-name', '张卫');
  await screenshot(page, 'admin-user-edit.png');
  await page.click('[data-action=save-user]');
  await page.waitForSelector('#user-edit-form', { state: 'detached' });
  const after = (await api(srv.url, 'GET', '/api/v1/users')).body.users.find((u) => u.name === 'ui-dept-edit');
  assert.deepEqual(after.categories.sort(), mine);
  assert.deepEqual(after.regions.sort(), [fenglu.code, other.code].sort());
  assert.equal(after.display_name, '张卫');
  await page.waitForFunction((n) => document.querySelector('table.users tr[data-user="ui-dept-edit"]')?.textContent.includes(n), other.name);

  // The audit log shows the scope before and after, by name.
  await page.click('.admin-tabs [data-tab=audit]');
  await page.selectOption('#a-action', 'user.update');
  await page.click('[data-action=audit-search]');
  await page.waitForFunction(() => { const rs = [...document.querySelectorAll('table.audit tbody tr[data-id]')]; return rs.length > 0 && rs.every((r) => r.dataset.action === 'user.update'); });
  const row = 'table.audit tbody tr[data-id]';
  assert.match(await page.textContent(row), /修改用户[\s\S]*用户 张卫/);
  await page.click(`${row} details.audit-json summary`);
  const changes = await page.$$eval(`${row} table.audit-changes tbody tr`, (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  const byField = Object.fromEntries(changes.map(([k, a, b]) => [k, [a, b]]));
  const [was, now] = byField['管辖区域'];
  assert.ok(was.includes(fenglu.name) && !was.includes(other.name) && now.includes(fenglu.name) && now.includes(other.name), `管辖区域：${was} → ${now}`);
  assert.equal(byField['管辖行业领域'][0], whp.label);
  assert.equal(byField['管辖行业领域'][1].split('、').length, mine.length);
  assert.equal(byField['姓名'][1], '张卫');
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // The department works in its new scope: its entry form offers both streets, nothing else.
  const dept = await login(srv.url, 'ui-dept-edit', 'dept-edit-pass-01');
  const dp = await openInternalMap(browser, srv.url, { as: dept });
  await dp.click('#btn-new');
  await dp.waitForFunction(() => document.querySelectorAll('#e-region option').length > 1);
  const choosable = await dp.$$eval('#e-region option', (os) => os.filter((o) => o.value && !o.disabled).map((o) => o.value));
  assert.ok(choosable.includes(fenglu.code) && choosable.includes(other.code), `regions offered: ${choosable}`);
  assert.ok(choosable.every((c) => c.startsWith(fenglu.code) || c.startsWith(other.code)), `regions offered: ${choosable}`);
  assert.deepEqual(dp.errors, []);
  await dp.context().close();
});

test('on a phone (390 px) the region picker fits the screen and finds a community by name', async () => {
  const communities = (await api(srv.url, 'GET', '/api/v1/regions?level=community')).body.features.map((f) => f.properties);
  const c = communities[0];
  const page = await openInternalMap(browser, srv.url, { width: 390, height: 844 });
  await page.evaluate(() => document.querySelector('#btn-admin').click());
  await page.waitForSelector('.admin[data-tab=users]');
  await page.selectOption('#u-role', 'department');
  await page.waitForSelector('#u-regions li[data-code]');
  const box = await page.$eval('#u-regions', (el) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, width: window.innerWidth }; });
  assert.ok(box.left >= 0 && box.right <= box.width, `the picker fits: ${JSON.stringify(box)}`);
  const overflow = await page.$eval('#user-form', (f) => f.scrollWidth - f.clientWidth);
  assert.ok(overflow <= 1, `the form does not scroll sideways (${overflow} px)`);
  await page.fill('#u-regions .rp-search', c.name);
  await page.waitForSelector(`#u-regions li[data-code="${c.code}"]`);
  await page.check(`#u-regions li[data-code="${c.code}"] > .rp-row input`);
  assert.equal(await page.textContent(`#u-regions .rp-chip[data-code="${c.code}"]`), `${c.name}×`);
  const chip = await page.$eval(`#u-regions .rp-chip[data-code="${c.code}"] .rp-remove`, (b) => { const r = b.getBoundingClientRect(); return r.width >= 24 && r.height >= 24; });
  assert.ok(chip, 'the remove button is large enough to tap');
  await screenshot(page, 'admin-region-picker-390.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the audit log exports as CSV and Excel with the panel\'s filters', async () => {
  const page = await openInternalMap(browser, srv.url);
  await openAdmin(page, 'audit');
  await page.selectOption('#a-action', 'user.');
  await page.selectOption('#a-outcome', 'ok');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=audit-export-csv]')]);
  assert.equal(csv.suggestedFilename(), '操作日志.csv');
  const text = await readFile(await csv.path(), 'utf8');
  assert.ok(text.startsWith('\ufeff'), 'a byte-order mark for spreadsheet programs');
  const lines = text.slice(1).trim().split(/\r?\n/);
  assert.match(lines[0], /^记录编号,时间（北京时间）,操作人,登录名,角色,操作,结果,/);
  assert.ok(lines.length > 2, `${lines.length} lines`);
  for (const l of lines.slice(1)) assert.match(l, /,(新增用户|修改用户|重置密码),成功,/, l);
  assert.ok(lines.some((l) => l.includes('新增用户') && l.includes('用户 李明（云南省安全生产专家库）')) || !lines.some((l) => l.includes('liexp')), 'people by name');
  // The same rows the panel shows.
  await page.waitForFunction(() => { const rs = [...document.querySelectorAll('table.audit tbody tr[data-id]')]; return rs.length > 0 && rs.every((r) => r.dataset.action.startsWith('user.') && r.dataset.outcome === 'ok'); });
  const shown = await page.$$eval('table.audit tbody tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
  assert.deepEqual(lines.slice(1, 1 + shown.length).map((l) => l.split(',')[0]), shown);
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=audit-export-xlsx]')]);
  assert.equal(xlsx.suggestedFilename(), '操作日志.xlsx');
  const book = await readFile(await xlsx.path());
  assert.equal(book.subarray(0, 2).toString(), 'PK', 'a zip: an Office Open XML workbook');
  assert.ok(book.includes('xl/worksheets/sheet1.xml'), 'with a worksheet');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the audit log says a unit\'s change and a review comment in words, not codes or JSON', async () => {
  const near = (await api(srv.url, 'GET', '/api/v1/units?limit=1&q=CJ-WHP-0002')).body.features[0];
  const made = await api(srv.url, 'POST', '/api/v1/units', {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [near.geometry.coordinates[0] + 0.0021, near.geometry.coordinates[1] + 0.0007] },
    properties: { code: 'E2E-AUDIT-0001', name: '操作日志测试单元', category: 'hazardous_chemicals', region_code: near.properties.region_code,
      accident_types: ['fire'], assessment: { method: 'LS', likelihood: 3, severity: 3 }, ...COMPLETE, status: 'submitted' },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  // Sent back (退回) rather than approved, so that the publication test's diff stays its own.
  const back = await api(srv.url, 'POST', `/api/v1/units/${made.body.id}/reject`, { comment: '请补充评估依据' }, { 'If-Match': made.etag }, { as: expert });
  assert.equal(back.status, 200, JSON.stringify(back.body));

  const page = await openInternalMap(browser, srv.url);
  await openAdmin(page, 'audit');
  await page.waitForSelector('table.audit tbody tr[data-id]');
  // The review: 审核意见 in words.
  const review = page.locator('table.audit tbody tr[data-action="unit.reject"]', { hasText: 'E2E-AUDIT-0001' }).first();
  await review.waitFor();
  const said = await review.textContent();
  assert.match(said, /审核意见：请补充评估依据/);
  assert.doesNotMatch(said, /\{"comment"/);
  // The creation: every field and value in Chinese.
  const creation = page.locator('table.audit tbody tr[data-action="unit.create"]', { hasText: 'E2E-AUDIT-0001' }).first();
  await creation.locator('details.audit-json summary').click();
  const changes = await creation.locator('table.audit-changes').textContent();
  for (const want of ['行业领域', '危险化学品', '风险等级', '一般风险', '状态', '待审核', '评估', '风险矩阵', 'L = 3，S = 3', '管控措施', '工程技术措施：可燃气体报警', '事故类型', '火灾']) {
    assert.ok(changes.includes(want), `修改前后 says ${want}: ${changes}`);
  }
  for (const raw of ['hazardous_chemicals', 'yellow', 'submitted', '{"', 'risk_value', 'public_label', 'controls']) {
    assert.ok(!changes.includes(raw), `修改前后 shows the raw ${raw}: ${changes}`);
  }
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
