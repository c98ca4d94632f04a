// Logging in and out, the Content-Security-Policy, and a department user's scope, in a real
// browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, openInternalMap, waitInteractive, waitTiles, waitLegend, screenshot, api, login, USERS } from './harness.mjs';

let srv;
let browser;

before(async () => {
  srv = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** logIn fills the login form. */
async function logIn(page, name, password) {
  await page.fill('#login-user', name);
  await page.fill('#login-pass', password);
  await page.click('.login-submit');
}

test('login: wrong password, then in; the CSRF token stays in memory; logout ends the session', async () => {
  const page = await openPage(browser, srv.url, { as: null });
  await page.goto(srv.url + '/');
  await page.waitForSelector('.login-screen #login-user');
  assert.match(await page.textContent('.login-box'), /用户名[\s\S]*密码[\s\S]*登录/);
  assert.equal(await page.evaluate(() => window.__riskmapInteractive), undefined, 'no map before the login');
  await screenshot(page, 'login.png');

  await logIn(page, USERS.admin.name, 'not-the-password');
  await page.waitForSelector('.login-error:not([hidden])');
  assert.match(await page.textContent('.login-error'), /密码错误/);
  assert.equal(await page.inputValue('#login-pass'), '', 'the wrong password is cleared');

  await logIn(page, USERS.admin.name, USERS.admin.password);
  await waitInteractive(page);
  await waitTiles(page);
  assert.equal(await page.$('.login-screen'), null);
  const user = await page.textContent('#user');
  assert.match(user, new RegExp(`${USERS.admin.name}[\\s\\S]*管理员[\\s\\S]*退出`));
  assert.equal(await page.isVisible('#btn-admin'), true, 'an administrator has 系统管理');

  // The session cookie is HttpOnly; the CSRF token is nowhere but in memory.
  const s = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.json()));
  assert.ok(s.csrf_token);
  assert.equal(await page.evaluate(() => document.cookie.includes('riskmap_session')), false, 'HttpOnly');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.ok(!stored.includes(s.csrf_token), 'the CSRF token is not stored');
  // Writes carry it: a write from the page without it is refused.
  const bare = await page.evaluate(() => fetch('/api/v1/grading/evaluate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ assessment: { method: 'LS', likelihood: 2, severity: 2 } }) }).then((r) => r.status));
  assert.equal(bare, 403, 'a write without X-CSRF-Token');
  const requests = [];
  page.on('request', (r) => r.method() !== 'GET' && requests.push({ url: r.url(), csrf: r.headers()['x-csrf-token'] }));
  await page.click('#btn-new');
  await page.waitForFunction(() => document.querySelector('.grade-preview')?.dataset.grade);
  const evalReq = requests.find((r) => r.url.endsWith('/api/v1/grading/evaluate'));
  assert.equal(evalReq && evalReq.csrf, s.csrf_token, 'the page sends X-CSRF-Token with its writes');
  await page.click('.form-actions button:has-text("取消")');

  const cookies = await page.context().cookies();
  const ck = cookies.find((c) => /riskmap_session$/.test(c.name));
  assert.ok(ck && ck.httpOnly && ck.sameSite === 'Strict', JSON.stringify(cookies));
  await page.click('#btn-logout');
  await page.waitForSelector('.login-screen #login-user');
  assert.equal(await page.evaluate(() => fetch('/api/v1/session').then((r) => r.status)), 401, 'the page is logged out');
  const old = { cookie: `${ck.name}=${ck.value}`, csrf: s.csrf_token };
  assert.equal((await api(srv.url, 'GET', '/api/v1/session', undefined, {}, { as: old })).status, 401, 'the old cookie is dead');
  assert.equal((await api(srv.url, 'GET', '/api/v1/units?limit=1', undefined, {}, { as: old })).status, 401);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a session that ends brings the login form back over the page; logging in carries on', async () => {
  const s = await login(srv.url, USERS.expert.name, USERS.expert.password);
  const page = await openInternalMap(browser, srv.url, { as: s });
  await page.click('#btn-register');
  await page.waitForSelector('table.register tbody tr[data-id]');
  await page.click('.grade-chip[data-grade=blue] input'); // state the page must keep
  // The session ends elsewhere (here: logged out through the API). A request the page had
  // in flight may already bring the login form up, so the next filter change is made
  // without a pointer (the form would rightly intercept it).
  assert.equal((await api(srv.url, 'DELETE', '/api/v1/session', undefined, {}, { as: s })).status, 204);
  await page.evaluate(() => document.querySelector('.grade-chip[data-grade=yellow] input').click());
  await page.waitForSelector('.login-screen .login-notice');
  assert.match(await page.textContent('.login-notice'), /登录已失效/);
  await logIn(page, USERS.expert.name, USERS.expert.password);
  await page.waitForSelector('.login-screen', { state: 'detached' });
  await page.waitForFunction(() => /共 [\d,]+ 个单元/.test(document.querySelector('.table-status')?.textContent || ''));
  assert.deepEqual(await page.evaluate(() => ['blue', 'yellow'].map((g) => window.riskmap.state.filters.grades.includes(g))), [false, false], 'the page kept its state');
  await waitTiles(page);
  assert.ok(await page.$$eval('.leaflet-units-pane path', (ps) => ps.length) > 0, 'tiles drawn again');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('too many failed logins: the form says to wait, with the server\'s Retry-After', async () => {
  const name = 'no-such-user';
  let last;
  for (let i = 0; i < 8; i++) {
    last = await login(srv.url, name, `wrong-${i}`);
    if (last.status === 429) break;
  }
  assert.equal(last.status, 429, 'the server throttles');
  const page = await openPage(browser, srv.url, { as: null });
  await page.goto(srv.url + '/');
  await page.waitForSelector('#login-user');
  await logIn(page, name, 'wrong-again');
  await page.waitForSelector('.login-error:not([hidden])');
  const text = await page.textContent('.login-error');
  assert.match(text, /尝试过多，请稍后再试/);
  assert.match(text, /\d+ 秒后可重试/, 'the wait from Retry-After');
  assert.equal(await page.isDisabled('.login-submit'), true, 'the button waits too');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the pages run under the Content-Security-Policy with no violation', async () => {
  const page = await openPage(browser, srv.url);
  const res = await page.goto(srv.url + '/');
  const csp = res.headers()['content-security-policy'];
  assert.ok(csp, 'the page has a Content-Security-Policy header');
  for (const d of ["script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) assert.ok(csp.includes(d), `${d} in ${csp}`);
  assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), 'no unsafe-inline or unsafe-eval');
  await waitInteractive(page);
  await waitTiles(page);
  await waitLegend(page);
  // A unit's details with its review, the hover tip, the basemap switcher.
  await page.fill('.search-input', 'CJ-WHP-0003');
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer .unit-name');
  await page.waitForSelector('#drawer section.review');
  await page.hover('.leaflet-control-layers');
  await page.waitForSelector('.leaflet-control-layers-expanded');
  await page.mouse.move(700, 400);
  // The regional map and a region's details.
  await page.click('.modes [data-mode=regions]');
  await waitTiles(page, 'regions');
  await page.click('.modes [data-mode=units]');
  // The editor with geoman's drawing toolbar at work.
  await page.click('#drawer .icon-btn');
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  await page.click('[data-draw=polygon]');
  const box = await page.$eval('#map', (m) => m.getBoundingClientRect().toJSON());
  for (const [dx, dy] of [[-50, -30], [50, -30], [50, 30]]) {
    await page.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2 + dy);
    await page.waitForTimeout(100);
  }
  await page.waitForSelector('.leaflet-marker-pane .marker-icon');
  await page.waitForFunction(() => document.querySelector('.grade-preview')?.dataset.grade);
  await screenshot(page, 'csp-editor.png');
  await page.evaluate(() => window.riskmap.map.pm.disableDraw());
  // 系统管理, every tab.
  await page.$eval('.form-actions button:not(.btn-primary)', (b) => b.click());
  await page.waitForSelector('.editor-form', { state: 'detached' });
  await page.click('#btn-admin');
  for (const tab of ['users', 'tokens', 'audit', 'publish']) {
    await page.click(`.admin-tabs [data-tab=${tab}]`);
    await page.waitForSelector(`.admin[data-tab=${tab}] table.admin-table`);
  }
  await page.click('.admin-head .icon-btn');

  // The public page, with a unit's popup.
  const pub = await openPage(browser, srv.url, { as: null });
  const pres = await pub.goto(srv.url + '/public');
  assert.equal(pres.headers()['content-security-policy'], csp, 'the same policy on /public');
  await waitInteractive(pub);
  await waitTiles(pub);
  await pub.fill('.search-input', 'CJ-WHP-0002');
  await pub.waitForSelector('.search-item');
  await pub.keyboard.press('Enter');
  await pub.waitForSelector('.leaflet-popup .public-card');
  await pub.waitForTimeout(300);

  assert.deepEqual(page.csp, [], `violations on /: ${JSON.stringify(page.csp)}`);
  assert.deepEqual(pub.csp, [], `violations on /public: ${JSON.stringify(pub.csp)}`);
  const consoleCsp = [...page.consoleErrors, ...pub.consoleErrors].filter((m) => /Content Security Policy/i.test(m));
  assert.deepEqual(consoleCsp, []);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(pub.errors, []);
  assert.deepEqual(page.external, []);
  await page.context().close();
  await pub.context().close();
});

test('a department user\'s filters and entry form offer only its categories and regions', async () => {
  const cats = (await api(srv.url, 'GET', '/api/v1/categories')).body.categories;
  const scope = cats.filter((c) => c.department === '住建局').map((c) => c.code);
  const street = (await api(srv.url, 'GET', '/api/v1/regions?level=street')).body.features[0].properties.code;
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'zhujian-street', role: 'department', department: '住建局', categories: scope, regions: [street], password: 'dept-pass-0002' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const dept = await login(srv.url, 'zhujian-street', 'dept-pass-0002');
  const page = await openInternalMap(browser, srv.url, { as: dept });
  const values = (sel) => page.$$eval(`${sel} option`, (os) => os.filter((o) => o.value && !o.disabled).map((o) => o.value));
  assert.deepEqual((await values('#f-category')).sort(), [...scope].sort());
  assert.deepEqual(await values('#f-department'), ['住建局']);
  assert.deepEqual(await values('#f-district'), [street.slice(0, 6)]);
  await page.selectOption('#f-district', street.slice(0, 6));
  await page.waitForFunction(() => document.querySelectorAll('#f-street option').length > 1);
  assert.deepEqual(await values('#f-street'), [street]);
  // The entry form: only the street and what lies inside it can be chosen.
  await page.click('#btn-new');
  await page.waitForFunction(() => document.querySelectorAll('#e-region option').length > 1);
  const choosable = await values('#e-region');
  assert.ok(choosable.length > 0 && choosable.every((c) => c.startsWith(street)), `regions offered: ${choosable}`);
  assert.ok((await values('#e-category')).every((c) => scope.includes(c)));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a department user sees only the units of its scope in the internal layer, and the public layer for the rest', async () => {
  const cats = (await api(srv.url, 'GET', '/api/v1/categories')).body.categories;
  const scope = cats.filter((c) => c.department === '住建局').map((c) => c.code);
  assert.ok(scope.length > 0);
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'zhujian-test', role: 'department', department: '住建局', categories: scope, regions: ['530481'], password: 'dept-pass-0001' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const dept = await login(srv.url, 'zhujian-test', 'dept-pass-0001');
  assert.equal(dept.status, 200);

  const all = (await api(srv.url, 'GET', '/api/v1/units?limit=1')).body.numberMatched;
  const mine = (await api(srv.url, 'GET', '/api/v1/units?limit=1', undefined, {}, { as: dept })).body.numberMatched;
  assert.ok(mine > 0 && mine < all, `the scope holds ${mine} of ${all} units`);

  const page = await openInternalMap(browser, srv.url, { as: dept });
  assert.match(await page.textContent('#user'), /zhujian-test[\s\S]*行业部门/);
  assert.equal(await page.isVisible('#btn-admin'), false, 'no 系统管理');
  const seen = await page.evaluate(() => {
    const out = { internal: [], public: [] };
    for (const [k, l] of [['internal', window.riskmap.units.layer], ['public', window.riskmap.publicUnits.layer]]) {
      for (const r of Object.values(l._vectorTiles)) {
        for (const { feature } of Object.values(r._features)) {
          const p = feature.properties;
          if (p.cluster) continue;
          out[k].push({ id: p.id, category: p.category, region_code: p.region_code, name: p.name });
        }
      }
    }
    return out;
  });
  assert.ok(seen.internal.length > 0, 'units drawn in the internal layer');
  for (const u of seen.internal) {
    assert.ok(scope.includes(u.category) && String(u.region_code).startsWith('530481'), `in scope: ${JSON.stringify(u)}`);
  }
  // The rest of the city is there as the public sees it: no names, drawn faded.
  const outside = seen.public.filter((u) => !scope.includes(u.category));
  assert.ok(outside.length > 0, 'the public layer shows units outside the scope');
  // Its names are the public labels (公开名称), never the internal names.
  for (const u of seen.public.filter((x) => x.name !== undefined).slice(0, 5)) {
    const full = (await api(srv.url, 'GET', `/api/v1/units/${u.id}`)).body.properties;
    assert.equal(u.name, full.public_label, `the public layer names unit ${u.id} by its public label`);
    assert.notEqual(u.name, full.name, 'never by its internal name');
  }
  const fades = await page.$$eval('.leaflet-publicUnits-pane path', (ps) => ps.filter((p) => p.getAttribute('fill') !== 'none').map((p) => Number(p.getAttribute('fill-opacity'))));
  assert.ok(fades.length > 0 && fades.every((o) => o <= 0.3), 'drawn faded');
  // The legend counts the scope only.
  const legendTotal = Number((await page.textContent('.legend-total .legend-count')).replace(/,/g, ''));
  assert.ok(legendTotal <= mine, `legend ${legendTotal} ≤ scope ${mine}`);
  await screenshot(page, 'department-map.png');

  // Out-of-scope units are not readable by id.
  const other = (await api(srv.url, 'GET', `/api/v1/units?limit=1&category=hazardous_chemicals`)).body.features[0];
  const r = await api(srv.url, 'GET', `/api/v1/units/${other.id}`, undefined, {}, { as: dept });
  assert.ok([403, 404].includes(r.status), `out of scope: ${r.status}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
