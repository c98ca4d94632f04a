// The register's documents in a real browser: the Excel 风险清单 out (the register's 导出 Excel
// menu and the import template) and in (a workbook with mistakes → its problems by row and
// column and the marked copy; the fixed workbook → progress → 确认导入 → the new drafts in
// the register; a long check cancelled, nothing written), the 城市安全风险评估报告 as PDF and
// Word, and the map as an image (internal and public). The test workbooks are the server's
// own template, filled in here (test/xlsx.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { startServer, launch, openPage, openInternalMap, screenshot, api, authHeaders, frontendDir } from './harness.mjs';
import { fillTemplate, readZip, cellComments, workbookText } from './xlsx.mjs';

let srv;
let browser;
let template;

before(async () => {
  srv = await startServer();
  browser = await launch();
  const res = await fetch(srv.url + '/api/v1/templates/units.xlsx', { headers: authHeaders(srv.admin) });
  assert.equal(res.status, 200);
  template = Buffer.from(await res.arrayBuffer());
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** fetchDownload asks for a download's address again as the administrator: {type, bytes}. */
async function fetchDownload(download) {
  const u = new URL(download.url());
  const res = await fetch(srv.url + u.pathname + u.search, { headers: authHeaders(srv.admin) });
  assert.equal(res.status, 200, `${u.pathname}${u.search}: ${res.status}`);
  return { type: res.headers.get('content-type') || '', bytes: Buffer.from(await res.arrayBuffer()), url: u };
}

/** A unit of the template: new code, in 龙街街道's first community, hazardous chemicals, LS 3×4. */
const row = (code, extra = {}) => ({
  风险编号: code,
  风险点名称: `导入测试加油站 ${code}`,
  '所在位置/地址': '澄江市凤麓街道测试路 1 号',
  行政区划: '530481001003',
  行业领域: '危险化学品',
  评估方法: 'LS',
  '可能性L（LS）': 3,
  '严重性S（LS）': 4,
  责任部门: '应急局',
  责任单位: '测试石油有限公司',
  经度: 102.905,
  纬度: 24.655,
  ...extra,
});

async function countUnits(q) {
  const r = await api(srv.url, 'GET', `/api/v1/units?q=${encodeURIComponent(q)}&limit=1`);
  assert.equal(r.status, 200);
  return r.body.numberMatched;
}

async function openRegister(page) {
  await page.click('#btn-register');
  await page.waitForSelector('#bottom table.register tbody tr');
}

async function chooseWorkbook(page, name, buffer) {
  await page.click('#bottom [data-action=import]');
  await page.waitForSelector('.import-dialog input[type=file]');
  await page.setInputFiles('.import-dialog input[type=file]', { name, mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer });
  await page.click('.import-dialog [data-action=upload]');
}

test('the register exports the Excel 风险清单 with the filters, by 行业大类, as the 双清单, and the template', async () => {
  const page = await openInternalMap(browser, srv.url);
  // Only 重大 and 较大: the export follows the filters.
  for (const g of ['yellow', 'blue']) await page.click(`.grade-chip[data-grade=${g}] input`);
  await openRegister(page);
  const items = [['xlsx', null], ['xlsx-sheets', 'sheets=category'], ['xlsx-dual', 'with=hazards'], ['template', null]];
  for (const [action, param] of items) {
    await page.click('#bottom [data-menu=export] summary');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#bottom [data-action=${action}]`)]);
    assert.match(download.suggestedFilename(), /\.xlsx$/, action);
    const got = await fetchDownload(download);
    assert.match(got.type, /spreadsheetml\.sheet/, action);
    assert.equal(got.bytes.subarray(0, 2).toString('latin1'), 'PK', action);
    const parts = readZip(got.bytes);
    assert.ok(parts.has('xl/workbook.xml'), action);
    if (param) assert.ok(got.url.search.includes(param), `${action}: ${got.url.search}`);
    if (action !== 'template') assert.match(decodeURIComponent(got.url.search), /grade=red,orange/, `${action} carries the grade filter: ${got.url.search}`);
    const sheets = [...parts.get('xl/workbook.xml').toString('utf8').matchAll(/<sheet\b[^>]*name="([^"]+)"/g)].map((m) => m[1]);
    if (action === 'xlsx-dual') assert.ok(sheets.includes('隐患清单'), `双清单 has the 隐患清单 sheet: ${sheets}`);
    if (action === 'xlsx-sheets') assert.ok(sheets.length > 1, `one sheet per 行业大类: ${sheets}`);
    if (action === 'template') assert.ok(sheets.includes('说明'), `the template has its instructions: ${sheets}`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an import with mistakes lists them by row and column with the marked copy; fixed, it is checked with progress, confirmed and the drafts are in the register', async () => {
  const before = await countUnits('CJ-IMP-');
  assert.equal(before, 0);
  const bad = fillTemplate(template, [
    row('CJ-IMP-0001', { 风险等级: '低风险' }), // a grade typed in (3×4 is 较大)
    row('CJ-IMP-0002', { '可能性L（LS）': '很可能' }), // text in a number column
    row('CJ-IMP-0003', { 评估日期: '下周三' }), // not a date
  ]);
  const page = await openInternalMap(browser, srv.url);
  await openRegister(page);
  await chooseWorkbook(page, '风险清单-有错.xlsx', bad);
  await page.waitForSelector('.import-dialog[data-status=checked]', { timeout: 30_000 });
  const problems = await page.$$eval('.import-problems tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const has = (r, col, re) => problems.some(([row, c, msg]) => row === `第 ${r} 行` && c === col && re.test(msg));
  assert.ok(has(4, '风险等级', /不接受手填等级/), JSON.stringify(problems));
  assert.ok(has(5, '可能性L（LS）', /./), JSON.stringify(problems));
  assert.ok(has(6, '评估日期', /./), JSON.stringify(problems));
  for (const [, , msg] of problems) assert.match(msg, /[\u4e00-\u9fff]/, `a problem in Chinese: ${msg}`);
  assert.equal(await page.isDisabled('.import-dialog [data-action=commit]'), true, 'no 确认导入 while there are problems');
  assert.match(await page.textContent('.import-dialog [data-key=problems] .n'), /^[1-9]/);
  await screenshot(page, 'import-problems.png');
  copyFileSync(path.join(frontendDir, '..', 'test-artifacts', 'import-problems.png'), path.join(frontendDir, 'screenshots', 'import-problems.png'));

  // The marked copy: the same workbook with a note on each bad cell.
  const [marked] = await Promise.all([page.waitForEvent('download'), page.click('.import-dialog [data-action=errors]')]);
  const copy = readFileSync(await marked.path());
  assert.equal(copy.subarray(0, 2).toString('latin1'), 'PK');
  const notes = cellComments(copy);
  assert.ok(notes.some((n) => /^[A-Z]+5$/.test(n.ref) && /数字/.test(n.text)), `row 5's L is marked: ${JSON.stringify(notes)}`);
  assert.ok(notes.some((n) => /^[A-Z]+6$/.test(n.ref) && /日期/.test(n.text)), `row 6's date is marked: ${JSON.stringify(notes)}`);
  // The typed grade is found by the register's check, after the cells are read: the copy
  // names it (on the cell or in the row's note).
  assert.match(workbookText(copy), /不接受手填等级/);

  // Fixed: checked, then 确认导入, then written.
  await page.click('.import-dialog [data-action=again]');
  const good = fillTemplate(template, [row('CJ-IMP-0001'), row('CJ-IMP-0002', { '可能性L（LS）': 2 }), row('CJ-IMP-0003', { 评估日期: '2026年12月6日' })]);
  await page.setInputFiles('.import-dialog input[type=file]', { name: '风险清单.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: good });
  await page.click('.import-dialog [data-action=upload]');
  await page.waitForSelector('.import-dialog[data-status=checked]', { timeout: 30_000 });
  assert.match(await page.textContent('.import-progress-text'), /已检查 3 \/ 3 行/);
  assert.equal(await page.getAttribute('.import-progress', 'max'), '3');
  assert.equal(await page.$eval('.import-progress', (p) => p.value), 3);
  assert.equal(await page.textContent('.import-dialog [data-key=creates] .n'), '3');
  assert.equal(await page.textContent('.import-dialog [data-key=updates] .n'), '0');
  assert.equal(await page.$('.import-problems'), null);
  assert.equal(await countUnits('CJ-IMP-'), 0, 'nothing is written before 确认导入');
  await page.click('.import-dialog [data-action=commit]');
  await page.waitForSelector('.import-dialog[data-status=done]', { timeout: 30_000 });
  assert.match(await page.textContent('.import-progress-text'), /已写入 3 \/ 3 行/);
  assert.match(await page.textContent('.import-result'), /新增 3 个草稿/);
  assert.equal(await countUnits('CJ-IMP-'), 3);
  await page.click('.import-dialog [data-action=close]');
  assert.equal(await page.$('.import-dialog'), null);
  // The register shows them as 草稿.
  await page.selectOption('#f-status', 'draft');
  // Where they are (the demo city has drafts of its own): 仅当前视图范围 around the import's place.
  await page.evaluate(() => window.riskmap.map.setView([24.655, 102.905], 18, { animate: false }));
  await page.check('#bottom .bottom-head input[type=checkbox]');
  await page.waitForFunction(() => [...document.querySelectorAll('#bottom table.register tbody tr')].filter((tr) => /CJ-IMP-000[123]/.test(tr.textContent)).length === 3, null, { timeout: 15_000 });
  const statuses = await page.$$eval('#bottom table.register tbody tr', (trs) => trs.filter((tr) => /CJ-IMP-/.test(tr.textContent)).map((tr) => tr.querySelector('[data-key=status]').textContent));
  assert.deepEqual(statuses, ['草稿', '草稿', '草稿']);
  const grades = await api(srv.url, 'GET', '/api/v1/units?q=CJ-IMP-0001&limit=5');
  const want = await api(srv.url, 'POST', '/api/v1/grading/evaluate', { assessment: { method: 'LS', likelihood: 3, severity: 4 } });
  assert.ok(want.body.grade, JSON.stringify(want.body));
  assert.equal(grades.body.features.find((f) => f.properties.code === 'CJ-IMP-0001').properties.grade, want.body.grade, 'the grade is computed from L×S');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an import cancelled while it is being checked writes nothing', async () => {
  // Enough rows for the check to take a while.
  const rows = Array.from({ length: 40000 }, (_, i) => row(`CJ-BIG-${String(i + 1).padStart(5, '0')}`, { 经度: 102.85 + (i % 200) * 0.0005, 纬度: 24.6 + Math.floor(i / 200) * 0.0005 }));
  const big = fillTemplate(template, rows);
  const page = await openInternalMap(browser, srv.url);
  await openRegister(page);
  let jobId = null;
  page.on('response', async (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/imports') jobId = (await r.json().catch(() => ({}))).id;
  });
  await chooseWorkbook(page, '大清单.xlsx', big);
  await page.waitForSelector('.import-dialog[data-status=checking]', { timeout: 60_000 });
  // The progress bar shows rows checked out of the total.
  await page.waitForFunction(() => /已检查 [\d,]+( \/ [\d,]+)? 行/.test(document.querySelector('.import-progress-text')?.textContent || ''));
  const [del] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'DELETE' && /\/api\/v1\/imports\//.test(r.url())),
    page.click('.import-dialog [data-action=cancel]'),
  ]);
  assert.ok(del.status() < 300, `DELETE answered ${del.status()}`);
  assert.equal(await page.$('.import-dialog'), null);
  assert.ok(jobId);
  const job = await api(srv.url, 'GET', `/api/v1/imports/${jobId}`);
  assert.ok(job.status === 404 || job.body.status === 'cancelled', JSON.stringify(job.body).slice(0, 300));
  assert.equal(await countUnits('CJ-BIG-'), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the report buttons download the 城市安全风险评估报告 as PDF and Word, and the map as an image', async () => {
  const page = await openInternalMap(browser, srv.url);
  const [pdf] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('[data-action=report-pdf]')]);
  const p = await fetchDownload(pdf);
  assert.match(p.type, /^application\/pdf/);
  assert.equal(readFileSync(await pdf.path()).subarray(0, 4).toString('latin1'), '%PDF');
  assert.match(pdf.suggestedFilename(), /\.pdf$/);

  const [docx] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('[data-action=report-docx]')]);
  const d = await fetchDownload(docx);
  assert.match(d.type, /wordprocessingml\.document/);
  const zip = readZip(readFileSync(await docx.path()));
  assert.match(zip.get('word/document.xml').toString('utf8'), /风险评估报告/);

  // The map as an image: the view's box and size, the unit map.
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=map-png]')]);
  const m = await fetchDownload(png);
  assert.equal(m.type, 'image/png');
  assert.equal(m.bytes.subarray(1, 4).toString('latin1'), 'PNG');
  const size = await page.evaluate(() => window.riskmap.map.getSize());
  assert.equal(m.url.searchParams.get('width'), String(size.x));
  assert.equal(m.url.searchParams.get('height'), String(size.y));
  assert.equal(m.url.searchParams.get('layer'), 'units');
  assert.equal(m.url.searchParams.get('bbox').split(',').length, 4);
  // The PNG is the size asked for.
  assert.equal(m.bytes.readUInt32BE(16), size.x);
  assert.equal(m.bytes.readUInt32BE(20), size.y);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  if (existsSync('/tmp/report-page.png')) copyFileSync('/tmp/report-page.png', path.join(frontendDir, 'screenshots', 'report-page.png'));
});

test('the public map offers its image for download', async () => {
  const page = await openPage(browser, srv.url, { as: null });
  await page.goto(srv.url + '/public');
  await page.waitForFunction(() => window.__riskmapInteractive, null, { timeout: 30_000 });
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=map-png]')]);
  const u = new URL(png.url());
  assert.equal(u.pathname, '/public/api/v1/map.png');
  const res = await fetch(srv.url + u.pathname + u.search);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(Buffer.from(await res.arrayBuffer()).subarray(1, 4).toString('latin1'), 'PNG');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
