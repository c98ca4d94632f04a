// The language sweep: as each role (admin, expert, department user, the public), open every
// panel and dialog the app has and read every visible text and every title, placeholder and
// aria-label; a sentence in Latin letters (two Latin words in a row, such as "Loading tiles"
// or "no results") fails, save the proper nouns and formats of ALLOWED. Errors the server
// answers through the UI (a taken register number, impossible coordinates) must be shown in
// Chinese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, openInternalMap, waitTiles, waitLegend, screenshot, api, login, authHeaders, USERS } from './harness.mjs';
import { fillTemplate } from './xlsx.mjs';

let srv;
let browser;
let expert;
let dept;
let template; // the import template, filled in by the import dialog's sweep

// Proper nouns, formats and units that may stand in Latin letters among Chinese.
const ALLOWED = [
  /OGC API(\s*[–-]\s*Features)?/g,
  /OpenStreetMap( contributors)?/g,
  /Leaflet/g,
  /\bGeoJSON\b|\bCSV\b|\bxlsx\b|\bQGIS\b|\bMVT\b|\bGDAL\b|\bGeoPackage\b|\bPostGIS\b/g,
  /\b(GCJ|WGS)-?\d+\b/g,
  /\b[A-Z]{1,6}(-[A-Z0-9]{1,8})+\b/g, // unit codes, CJ-WHP-0001, E2E-…
  /\b(km²?|m²?|ha)\b/g,
  /\bAPI\b|\bURL\b|\bJSON\b|\bHTTP\b|\bID\b/g,
  /\bLS\b|\bLEC\b/g,
  /\b(CLI )?riskmap( [a-z][a-z-]*)+( --?[a-z][a-z-]*)*/g, // a command line in the audit log
];

/** latinSentences returns the Latin-letter sentences of a text: two Latin words in a row. */
export function latinSentences(text) {
  let s = text;
  for (const re of ALLOWED) s = s.replace(re, ' ');
  // Words apart by spaces (after punctuation or not); unit.create, a machine code, is one word.
  return s.match(/[A-Za-z][A-Za-z'’]+(?:[,.;:!?]?\s+[A-Za-z][A-Za-z'’]+)+/g) || [];
}

/** texts collects what the page shows: visible text nodes, options of visible selects, and the title, placeholder and aria-label of visible elements. */
function texts(page) {
  return page.evaluate(() => {
    const out = [];
    const shown = (el) => {
      for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
        if (e.hidden) return false;
        const cs = getComputedStyle(e);
        if (cs.display === 'none' || cs.visibility === 'hidden') return false;
      }
      return true;
    };
    const where = (el) => {
      const bits = [];
      for (let e = el; e && e !== document.body && bits.length < 4; e = e.parentElement) {
        bits.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : ''));
      }
      return bits.join(' > ');
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(p.tagName)) continue;
      const t = n.textContent.trim();
      if (!t) continue;
      if (p.tagName === 'OPTION' ? !shown(p.closest('select') || p) : !shown(p)) continue;
      out.push({ text: t, where: where(p) });
    }
    for (const el of document.querySelectorAll('[title],[placeholder],[aria-label],[alt]')) {
      if (!shown(el)) continue;
      for (const a of ['title', 'placeholder', 'aria-label', 'alt']) {
        const v = el.getAttribute(a);
        if (v) out.push({ text: v, where: `${where(el)} @${a}` });
      }
    }
    out.push({ text: document.title, where: 'title' });
    return out;
  });
}

/** sweep adds to found the Latin sentences the page shows now, with where they are. */
async function sweep(page, found, label) {
  for (const { text, where } of await texts(page)) {
    for (const s of latinSentences(text)) found.add(`${label}: "${s}" in «${text.slice(0, 120)}» at ${where}`);
  }
}

/** step runs an action that opens a panel and sweeps what it shows; a panel that cannot be opened is reported too. */
async function step(page, found, label, action) {
  try {
    await action();
  } catch (e) {
    found.add(`${label}: could not be opened: ${String(e.message).split('\n')[0]}`);
    await screenshot(page, `language-${label.replace(/\W+/g, '-')}.png`).catch(() => {});
    return;
  }
  await page.waitForTimeout(150);
  await sweep(page, found, label);
}

before(async () => {
  srv = await startServer();
  browser = await launch();
  expert = await login(srv.url, USERS.expert.name, USERS.expert.password);
  assert.equal(expert.status, 200);
  const cats = (await api(srv.url, 'GET', '/api/v1/categories')).body.categories;
  const scope = cats.filter((c) => c.department === '住建局').map((c) => c.code);
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'lang-dept', role: 'department', department: '住建局', categories: scope, regions: ['530481'], password: 'dept-pass-0009' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  dept = await login(srv.url, 'lang-dept', 'dept-pass-0009');
  assert.equal(dept.status, 200);
  const tpl = await fetch(srv.url + '/api/v1/templates/units.xlsx', { headers: authHeaders(srv.admin) });
  assert.equal(tpl.status, 200);
  template = Buffer.from(await tpl.arrayBuffer());
  // One unit waiting for review, so that the review desk has something to show.
  const near = (await api(srv.url, 'GET', '/api/v1/units?limit=1&q=CJ-WHP-0002')).body.features[0];
  const sub = await api(srv.url, 'POST', '/api/v1/units', {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [near.geometry.coordinates[0] + 0.0013, near.geometry.coordinates[1] + 0.0005] },
    // Complete, as a submission must be (five control groups, responsible unit, contact, assessment date).
    properties: { code: 'LANG-REVIEW-0001', name: '语言检查待审核单元', category: 'hazardous_chemicals', region_code: near.properties.region_code, assessment: { method: 'LS', likelihood: 3, severity: 3 },
      controls: { engineering: ['可燃气体报警'], management: ['安全操作规程'], training: ['岗前培训'], ppe: ['防护服'], emergency: ['应急预案'] },
      responsible_unit: '某化工有限公司', contact_person: '联系人甲', contact_phone: '0877-1234567', assessed_at: '2026-11-01T00:00:00Z', status: 'submitted' },
  }, {}, { as: expert });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  // A hidden danger every role sees (a unit of 住建局 in the county) and a citizen's report,
  // so that the hazard panels have rows and details to show.
  const zj = (await api(srv.url, 'GET', `/api/v1/units?status=approved&limit=1&category=${scope.join(',')}`)).body.features[0];
  const day = (n) => new Date(Date.now() + 8 * 3600 * 1000 + n * 86400000).toISOString().slice(0, 10);
  const hz = await api(srv.url, 'POST', '/api/v1/hazards', { unit_id: zj.id, level: 'major', description: '语言检查隐患', found_at: day(0), source: 'inspection',
    responsible_unit: '某建设公司', responsible_person: '责任人甲', measures: '整改', deadline: day(20) });
  assert.equal(hz.status, 201, JSON.stringify(hz.body));
  const [lon, lat] = zj.geometry.type === 'Point' ? zj.geometry.coordinates : [102.9, 24.67];
  const rp = await api(srv.url, 'POST', '/public/api/v1/reports', { lon, lat, category: zj.properties.category, description: '语言检查举报', contact: '' }, {}, { as: null });
  assert.equal(rp.status, 201, JSON.stringify(rp.body));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** internalPanels opens every panel of the internal app the session may see. */
async function internalPanels(page, found, role) {
  const visible = async (sel) => (await page.$(sel)) !== null && (await page.isVisible(sel));
  await sweep(page, found, `${role} map`);
  await step(page, found, `${role} layers`, async () => {
    await page.hover('.leaflet-control-layers');
    await page.waitForSelector('.leaflet-control-layers-expanded', { timeout: 3000 });
  });
  await page.mouse.move(600, 400);
  await step(page, found, `${role} regional map`, async () => {
    await page.click('.modes [data-mode=regions]');
    await page.waitForTimeout(800);
    if (await visible('.level-switch [data-level=street]')) await page.click('.level-switch [data-level=street]');
    await page.waitForTimeout(500);
  });
  await step(page, found, `${role} unit map`, async () => {
    await page.click('.modes [data-mode=units]');
    await waitTiles(page);
    await waitLegend(page);
  });
  await step(page, found, `${role} register`, async () => {
    await page.click('#btn-register');
    await page.waitForSelector('table.register tbody tr[data-id]', { timeout: 15_000 });
  });
  // The register's documents: the 导出 Excel menu, the report links, the import dialog with
  // the problems of a workbook with mistakes (and the server's answer to a file that is not
  // a workbook).
  await step(page, found, `${role} export menu`, async () => {
    await page.click('#bottom [data-menu=export] summary');
    await page.waitForSelector('#bottom [data-action=xlsx-dual]', { state: 'visible' });
  });
  await page.click('#bottom .bottom-head h2');
  if (await visible('#bottom [data-action=import]')) {
    await step(page, found, `${role} import dialog`, async () => {
      await page.click('#bottom [data-action=import]');
      await page.waitForSelector('.import-dialog input[type=file]');
    });
    await step(page, found, `${role} import of a file that is not a workbook`, async () => {
      await page.setInputFiles('.import-dialog input[type=file]', { name: 'notes.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: Buffer.from('just some text, not a zip') });
      await page.click('.import-dialog [data-action=upload]');
      await page.waitForSelector('.import-dialog .import-error, .import-dialog[data-status=checked], .import-dialog[data-status=failed]', { timeout: 15_000 });
    });
    await step(page, found, `${role} import problems`, async () => {
      if (await visible('.import-dialog [data-action=again]')) await page.click('.import-dialog [data-action=again]');
      const wb = fillTemplate(template, [{ 风险编号: 'LANG-IMP-0001', 风险点名称: '语言检查导入', 行政区划: '530481001003', 行业领域: '危险化学品', 评估方法: 'LS', '可能性L（LS）': 'three', '严重性S（LS）': 3, 风险等级: '低风险', 经度: 102.9, 纬度: 24.65 }]);
      await page.setInputFiles('.import-dialog input[type=file]', { name: '风险清单.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: wb });
      await page.click('.import-dialog [data-action=upload]');
      await page.waitForSelector('.import-dialog .import-problems tbody tr', { timeout: 30_000 });
    });
    if (await visible('.import-dialog')) await page.click('.import-dialog [data-action=cancel], .import-dialog [data-action=close]');
  }
  await step(page, found, `${role} statistics`, async () => {
    await page.click('#btn-stats');
    await page.waitForSelector('.chart .bar-row', { timeout: 15_000 });
  });
  await step(page, found, `${role} search and details`, async () => {
    await page.fill('.search-input', 'CJ-');
    await page.waitForSelector('.search-item');
    await sweep(page, found, `${role} search list`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#drawer .unit-name');
  });
  await step(page, found, `${role} search without result`, async () => {
    await page.fill('.search-input', 'zzqq 不存在');
    await page.waitForSelector('.search-empty', { timeout: 5000 });
  });
  await page.fill('.search-input', '');
  if (await visible('#btn-pending')) {
    await step(page, found, `${role} review desk`, async () => {
      await page.click('#btn-pending');
      await page.waitForFunction(() => document.querySelector('#f-status')?.value === 'submitted', null, { timeout: 10_000 });
      // The queue's rows are swept when they come; the review itself must open.
      await page.waitForSelector('table.register tbody tr[data-id]', { timeout: 15_000 }).catch(() => {});
      await sweep(page, found, `${role} review queue`);
      await page.fill('.search-input', 'LANG-REVIEW-0001');
      await page.waitForSelector('.search-item');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#drawer section.review', { timeout: 10_000 });
    });
  }
  if (await visible('#btn-new')) {
    await step(page, found, `${role} entry form`, async () => {
      await page.click('#btn-new');
      await page.waitForSelector('.editor-form');
      if (await visible('.coord-input summary')) await page.click('.coord-input summary');
    });
  }
  // 隐患排查治理: every tab, a hidden danger's details and the 登记隐患 form.
  for (const tab of ['list', 'supervision', 'reports', 'charts']) {
    await step(page, found, `${role} hazards ${tab}`, async () => {
      if (!(await visible('#hazards .admin-tabs'))) await page.click('#btn-hazards');
      await page.click(`#hazards .admin-tabs [data-tab=${tab}]`);
      await page.waitForSelector(`#hazards[data-tab=${tab}]`);
      if (tab === 'list') await page.waitForSelector('#hazards .hz-list-status[data-count]', { timeout: 10_000 });
      if (tab === 'supervision') await page.waitForSelector('#hazards .hz-count-cards', { timeout: 10_000 });
      if (tab === 'reports') await page.waitForSelector('#hazards table.hz-report-table', { timeout: 10_000 });
      if (tab === 'charts') await page.waitForSelector('#hazards [data-chart=rate][data-values]', { timeout: 15_000 });
    });
  }
  await step(page, found, `${role} hazard details`, async () => {
    await page.click('#hazards .admin-tabs [data-tab=list]');
    await page.waitForSelector('#hazards table.hz-table tr[data-id]', { timeout: 10_000 });
    await page.click('#hazards table.hz-table tr[data-id]');
    await page.waitForSelector('#hazards .hz-detail .hz-timeline, #hazards .hz-detail .hz-steps', { timeout: 10_000 });
    const first = await page.$('#hazards .hz-actions button[data-action]');
    if (first) await first.click();
  });
  await step(page, found, `${role} hazard form`, async () => {
    await page.click('#hazards .admin-tabs [data-tab=list]');
    await page.click('#hazards [data-action=new-hazard]');
    await page.waitForSelector('#hazards .hz-form');
    await page.selectOption('#hz-level', 'major');
    await page.click('#hazards [data-action=save-hazard]');
    await page.waitForSelector('#hazards .field-error[data-for=unit_id]:not(:empty)');
  });
  if (await visible('#hazards')) await page.click('#hazards .admin-head .icon-btn');
  if (await visible('#btn-admin')) {
    for (const tab of ['users', 'tokens', 'audit', 'publish']) {
      await step(page, found, `${role} admin ${tab}`, async () => {
        if (!(await visible('#admin .admin-tabs'))) await page.click('#btn-admin');
        await page.click(`#admin .admin-tabs [data-tab=${tab}]`);
        await page.waitForSelector(`.admin[data-tab=${tab}]`);
        await page.waitForTimeout(600);
        if (tab === 'audit' && (await visible('[data-action=audit-search]'))) {
          await page.click('[data-action=audit-search]');
          await page.waitForSelector('table.audit tbody tr[data-id]', { timeout: 10_000 });
        }
        if (tab === 'publish') await page.waitForSelector('table.publications tr[data-number]', { timeout: 10_000 });
      });
    }
  }
}

for (const [role, who] of [['admin', () => undefined], ['expert', () => expert], ['department', () => dept]]) {
  test(`every panel the ${role} opens speaks Chinese`, async () => {
    const s = who();
    const page = await openInternalMap(browser, srv.url, s ? { as: s } : {});
    const found = new Set();
    await internalPanels(page, found, role);
    assert.deepEqual([...found], [], `Latin sentences on screen:\n${[...found].join('\n')}`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('the login screen speaks Chinese, and says a wrong password in Chinese', async () => {
  const page = await openPage(browser, srv.url, { as: null });
  await page.goto(srv.url + '/');
  await page.waitForSelector('.login-screen #login-user');
  const found = new Set();
  await sweep(page, found, 'login');
  await page.fill('#login-user', 'admin');
  await page.fill('#login-pass', 'wrong-password-1');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.login-error:not([hidden])');
  await sweep(page, found, 'login error');
  assert.match(await page.textContent('.login-error'), /\p{Script=Han}/u);
  assert.deepEqual([...found], [], `Latin sentences on screen:\n${[...found].join('\n')}`);
  await page.context().close();
});

test('the public map, its legend, search and popup speak Chinese', async () => {
  const page = await openPage(browser, srv.url, { as: null });
  await page.goto(srv.url + '/public');
  await page.waitForFunction(() => window.__riskmapInteractive, null, { timeout: 30_000 });
  await page.waitForTimeout(800);
  const found = new Set();
  await sweep(page, found, 'public map');
  await step(page, found, 'public legend', async () => {
    if (await page.$('.legend-title')) await page.click('.legend-title');
  });
  await step(page, found, 'public layers', async () => {
    await page.hover('.leaflet-control-layers');
    await page.waitForSelector('.leaflet-control-layers-expanded', { timeout: 3000 });
  });
  await page.mouse.move(600, 400);
  await step(page, found, 'public search and popup', async () => {
    await page.fill('.search-input', 'CJ-WHP-0002');
    await page.waitForSelector('.search-item');
    await sweep(page, found, 'public search list');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.public-card');
  });
  await step(page, found, 'public search without result', async () => {
    await page.fill('.search-input', 'zzqq 不存在');
    await page.waitForSelector('.search-empty');
  });
  await step(page, found, 'public report form', async () => {
    await page.click('#btn-report');
    await page.waitForSelector('#report .report-form');
    await page.click('[data-action=submit-report]');
    await page.waitForSelector('#report .field-error[data-for=lon]:not(:empty)');
  });
  await step(page, found, 'public report tracking', async () => {
    await page.click('#report [data-tab=track]');
    await page.fill('#rp-track-number', 'JB20200101ABCDEFGH');
    await page.click('[data-action=track]');
    await page.waitForSelector('.track-out .field-error');
  });
  assert.deepEqual([...found], [], `Latin sentences on screen:\n${[...found].join('\n')}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('errors the server answers through the entry form are shown in Chinese', async () => {
  const page = await openInternalMap(browser, srv.url);
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  await page.click('.coord-input summary');
  await page.selectOption('#e-geomtype', 'Point');
  // Impossible coordinates: said in Chinese, wherever the form says it.
  await page.fill('#e-coords', '999, 999');
  await page.click('[data-action=apply-coords]');
  await page.waitForTimeout(300);
  const found = new Set();
  await sweep(page, found, 'bad coordinates');
  await page.fill('#e-coords', '102.9, 24.66');
  await page.click('[data-action=apply-coords]');
  await page.fill('#e-code', 'CJ-WHP-0001');
  await page.fill('#e-name', '语言检查');
  await page.selectOption('#e-category', 'hazardous_chemicals');
  await page.waitForFunction(() => document.querySelector('#e-region').value !== '');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('[data-field=code].has-error');
  const taken = await page.textContent('[data-field=code] .field-error');
  assert.match(taken, /\p{Script=Han}/u);
  assert.deepEqual(latinSentences(taken), []);
  await sweep(page, found, 'taken code');
  // A radius the server refuses.
  await page.fill('#e-code', 'LANG-RADIUS-0001');
  await page.fill('#e-radius', '99999999');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('[data-field=influence_radius_m].has-error');
  assert.match(await page.textContent('[data-field=influence_radius_m] .field-error'), /\p{Script=Han}/u);
  await sweep(page, found, 'radius refused');
  assert.deepEqual([...found], [], `Latin sentences on screen:\n${[...found].join('\n')}`);
  await page.context().close();
});

test('a browser that prefers English still gets the server messages in Chinese: the UI asks for zh-CN', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1366, height: 768 } });
  const ck = srv.admin.cookie;
  const i = ck.indexOf('=');
  await context.addCookies([{ name: ck.slice(0, i), value: ck.slice(i + 1), url: srv.url, httpOnly: true, sameSite: 'Strict' }]);
  await context.route('**/*', (route) => (route.request().url().startsWith(srv.url) ? route.continue() : route.abort('internetdisconnected')));
  const page = await context.newPage();
  await page.goto(srv.url + '/');
  await page.waitForFunction(() => window.__riskmapInteractive, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => navigator.language), 'en-US');
  await page.click('#btn-new');
  await page.waitForSelector('.editor-form');
  await page.click('.coord-input summary');
  await page.selectOption('#e-geomtype', 'Point');
  await page.fill('#e-coords', '102.9, 24.66');
  await page.click('[data-action=apply-coords]');
  await page.fill('#e-code', 'CJ-WHP-0001');
  await page.fill('#e-name', '语言检查');
  await page.selectOption('#e-category', 'hazardous_chemicals');
  await page.waitForFunction(() => document.querySelector('#e-region').value !== '');
  await page.click('.form-actions .btn-primary');
  await page.waitForSelector('[data-field=code].has-error');
  const taken = await page.textContent('[data-field=code] .field-error');
  assert.match(taken, /已被另一个未注销的风险单元使用/);
  await context.close();
});

test('the Latin-sentence rule: what it catches and what it lets through', () => {
  assert.deepEqual(latinSentences('Loading tiles'), ['Loading tiles']);
  assert.deepEqual(latinSentences('没有结果 no results'), ['no results']);
  assert.deepEqual(latinSentences('导出 GeoJSON、CSV；OGC API – Features 供 QGIS 使用'), []);
  assert.deepEqual(latinSentences('编号 CJ-WHP-0001，影响半径 2 km'), []);
  assert.deepEqual(latinSentences('Leaflet | © OpenStreetMap contributors'), []);
  assert.deepEqual(latinSentences('admin'), []);
  assert.deepEqual(latinSentences('unit.create'), []);
  assert.deepEqual(latinSentences('CLI riskmap user add'), []);
  assert.deepEqual(latinSentences('Close popup'), ['Close popup']);
});
