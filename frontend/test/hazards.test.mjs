// Hidden dangers (隐患) in a real browser: the whole loop 登记 → 上报 → 整改 → 验收 → 销号 with
// photos before and after, a failed acceptance and the 复查意见 of someone other than the
// rectifier; the unit red on the map while its major hidden danger is open and its own
// colour again once it is closed; the map's 仅看有未销号隐患的单元; a citizen's report on
// /public becoming a hidden danger of a unit (and never showing its words to anyone but
// staff); a department user seeing only its own department's hidden dangers in the list,
// the supervision view and the charts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { startServer, launch, openPage, openInternalMap, waitTiles, screenshot, api, login, USERS } from './harness.mjs';

let srv;
let browser;
let expert;
let dept;
let fills; // grade → fill colour

before(async () => {
  srv = await startServer();
  browser = await launch();
  expert = await login(srv.url, USERS.expert.name, USERS.expert.password);
  assert.equal(expert.status, 200);
  // A department user: 应急局, hazardous chemicals, the whole county.
  const made = await api(srv.url, 'POST', '/api/v1/users', { name: 'yjj-hazards', role: 'department', department: '应急局', categories: ['hazardous_chemicals'], regions: ['530481'], password: 'dept-pass-0014' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  dept = await login(srv.url, 'yjj-hazards', 'dept-pass-0014');
  assert.equal(dept.status, 200);
  const g = (await api(srv.url, 'GET', '/api/v1/grading')).body;
  fills = Object.fromEntries(g.grades.map((x) => [x.code, x.fill.toLowerCase()]));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

// ---- small pictures, made here ----

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** png is a w×h RGB picture in one colour with a diagonal stripe. */
function png(w, h, [r, g, b]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      const stripe = Math.abs(x - y) < 4;
      raw[o] = stripe ? 255 : r;
      raw[o + 1] = stripe ? 255 : g;
      raw[o + 2] = stripe ? 255 : b;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
/** jpeg is a picture drawn by the browser and encoded as JPEG. */
async function jpeg(page, colour) {
  const b64 = await page.evaluate((colour) => {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const x = c.getContext('2d');
    x.fillStyle = colour;
    x.fillRect(0, 0, 64, 48);
    x.fillStyle = '#fff';
    x.fillRect(10, 10, 20, 20);
    return c.toDataURL('image/jpeg', 0.9).split(',')[1];
  }, colour);
  return Buffer.from(b64, 'base64');
}

// ---- helpers ----

const day = (offset) => {
  const d = new Date(Date.now() + 8 * 3600 * 1000 + offset * 86400000);
  return d.toISOString().slice(0, 10);
};

let taken = new Set();
/** freshUnit is an approved demo Point unit of category with no open hidden danger, of grade g (if given), not used before. */
async function freshUnit({ category = 'hazardous_chemicals', g = null } = {}) {
  const fc = (await api(srv.url, 'GET', `/api/v1/units?status=approved&category=${category}&limit=500${g ? `&grade=${g}` : ''}`)).body;
  const f = fc.features.find((x) => x.geometry.type === 'Point' && !taken.has(x.id) && !(x.properties.open_hazards > 0) && x.properties.grade !== 'red');
  assert.ok(f, `an approved ${category} unit without open hidden dangers`);
  taken.add(f.id);
  return f;
}

async function openUnit(page, code) {
  await page.fill('.search-input', code);
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer .unit-hazards');
}

/** tileUnit is what the unit's feature in the drawn tiles says: its grade, open hidden dangers and fill. */
async function tileUnit(page, code) {
  await waitTiles(page);
  return page.evaluate((code) => {
    for (const r of Object.values(window.riskmap.units.layer._vectorTiles)) {
      for (const { feature } of Object.values(r._features)) {
        if (feature.properties.code !== code) continue;
        const fill = feature._path && feature._path.isConnected ? feature._path.getAttribute('fill') : null;
        return { grade: feature.properties.grade, open_hazards: feature.properties.open_hazards, fill: fill && fill.toLowerCase(), inherent: feature.properties.inherent_grade };
      }
    }
    return null;
  }, code);
}

/**
 * waitTileGrade waits until the unit's tile feature has grade g and, when open is given,
 * open hidden dangers (open_hazards > 0) or none: a tile drawn between two writes may show
 * the grade already and the count not yet.
 */
async function waitTileGrade(page, code, g, open) {
  await page.waitForFunction(([code, g, open]) => {
    const lyr = window.riskmap.units.layer;
    if (!Object.values(lyr._tiles).every((t) => t.loaded)) return false;
    for (const r of Object.values(lyr._vectorTiles)) {
      for (const { feature } of Object.values(r._features)) {
        if (feature.properties.code !== code) continue;
        return feature.properties.grade === g && (open == null || (feature.properties.open_hazards > 0) === open);
      }
    }
    return false;
  }, [code, g, open], { timeout: 15_000 });
  return tileUnit(page, code);
}

async function closePanel(page) {
  await page.click('#hazards .admin-head .icon-btn');
  await page.waitForSelector('#hazards', { state: 'hidden' });
}

/** act clicks a hidden danger's action, writes the note (if any) and confirms; it waits for the new status. */
async function act(page, action, note, status) {
  await page.click(`#hazards [data-action=${action}]`);
  await page.waitForSelector('#hazards .hz-action-box:not([hidden]) #hz-note');
  if (note != null) await page.fill('#hz-note', note);
  await page.click('#hazards .hz-action-box [data-action=confirm]');
  if (status) await page.waitForSelector(`#hazards .hz-detail[data-status=${status}]`);
}

/** openHazard opens a hidden danger by its code from the list of 隐患排查. */
async function openHazard(page, code) {
  if (!(await page.isVisible('#hazards'))) await page.click('#btn-hazards');
  await page.click('#hazards .admin-tabs [data-tab=list]');
  await page.selectOption('#hz-f-status', '');
  await page.fill('#hz-f-q', code);
  await page.waitForSelector(`#hazards table.hz-table tr[data-code="${code}"]`);
  await page.click(`#hazards table.hz-table tr[data-code="${code}"]`);
  await page.waitForSelector(`#hazards .hz-detail[data-id]`);
}

test('a major hidden danger goes the whole loop with photos, and its unit is red on the map until it is closed', async () => {
  const u = await freshUnit({ g: 'yellow' }).catch(() => freshUnit());
  const own = u.properties.grade;
  const code = u.properties.code;
  const page = await openInternalMap(browser, srv.url);
  await openUnit(page, code);
  assert.equal(await page.getAttribute('#drawer .grade-pair', 'data-current'), own);
  assert.equal(await page.getAttribute('#drawer .grade-pair', 'data-raised'), '0');
  const before = await tileUnit(page, code);
  assert.equal(before.grade, own);
  assert.equal(before.fill, fills[own]);

  // 登记: from the unit's details; the form knows the unit and its responsible unit.
  await page.click('#drawer [data-action=new-hazard]');
  await page.waitForSelector('#hazards .hz-form');
  assert.equal(await page.getAttribute('#hazards .hz-picker', 'data-unit-id'), String(u.id));
  // What the form says before it asks: the description and the deadline are required.
  await page.click('#hazards [data-action=save-hazard]');
  assert.match(await page.textContent('#hazards .field-error[data-for=description]'), /请填写隐患描述/);
  await page.selectOption('#hz-level', 'major');
  await page.fill('#hz-description', '储罐区可燃气体报警器失效，防火堤有裂缝');
  await page.fill('#hz-location', '2 号储罐区东侧');
  await page.fill('#hz-responsible-person', '张安全');
  if (!(await page.inputValue('#hz-responsible-unit'))) await page.fill('#hz-responsible-unit', '某化工有限公司');
  await page.fill('#hz-measures', '更换报警器，修补防火堤');
  // The server's problem, next to its field: a deadline before the day it was found.
  await page.fill('#hz-deadline', day(-3));
  await page.click('#hazards [data-action=save-hazard]');
  await page.waitForSelector('#hazards .field-error[data-for=deadline]:not(:empty)');
  assert.match(await page.textContent('#hazards .field-error[data-for=deadline]'), /\p{Script=Han}/u);
  assert.equal((await api(srv.url, 'GET', `/api/v1/units/${u.id}/hazards`)).body.numberMatched, 0, 'nothing registered');
  await page.fill('#hz-deadline', day(30));
  for (const [k, v] of [['responsibility', '总经理负总责'], ['measures', '更换报警器、修补防火堤'], ['funds', '20 万元'], ['time_limit', '30 日内'], ['plan', '泄漏专项应急预案']]) await page.fill(`#hz-five-${k}`, v);
  await page.click('#hazards [data-action=save-hazard]');
  await page.waitForSelector('#hazards .hz-detail[data-status=registered]');
  const hcode = (await page.textContent('#hazards .hz-code')).trim();
  assert.match(hcode, /^YH-/);
  assert.match(await page.textContent('#hazards .hz-five'), /总经理负总责[\s\S]*20 万元/);

  // A photo before: PNG made here; the server keeps it re-encoded and shows it.
  await page.setInputFiles('#hz-photo-before', { name: '整改前.png', mimeType: 'image/png', buffer: png(120, 80, [200, 40, 40]) });
  await page.waitForSelector('#hazards .hz-photos[data-stage=before] img');
  await page.waitForFunction(() => document.querySelector('#hazards .hz-photos[data-stage=before] img')?.naturalWidth > 0);

  // The unit is red now: its details say both grades and why, the tile is red and marked.
  await closePanel(page);
  const red = await waitTileGrade(page, code, 'red');
  assert.ok(red.open_hazards >= 1, JSON.stringify(red));
  assert.equal(red.fill, fills.red);
  await openUnit(page, code);
  assert.equal(await page.getAttribute('#drawer .grade-pair', 'data-current'), 'red');
  assert.equal(await page.getAttribute('#drawer .grade-pair', 'data-inherent'), own);
  assert.match(await page.textContent('#drawer .dynamic-explanation'), new RegExp(`存在未销号重大隐患 ${hcode}`));
  assert.match(await page.textContent('#drawer .unit-hazards'), new RegExp(hcode));
  assert.ok((await page.$$('.leaflet-units-pane path.hazard-mark')).length >= 1, 'the mark of open hidden dangers');

  // 上报 → 整改中 → 验收, with the photo after.
  await page.click('#drawer .unit-hazards li button.linklike');
  await page.waitForSelector('#hazards .hz-detail[data-status=registered]');
  await act(page, 'to-reported', '已告知企业，要求限期整改', 'reported');
  await act(page, 'to-rectifying', null, 'rectifying');
  await page.setInputFiles('#hz-photo-after', { name: '整改后.jpg', mimeType: 'image/jpeg', buffer: await jpeg(page, '#2a8a3a') });
  await page.waitForSelector('#hazards .hz-photos[data-stage=after] img');
  await act(page, 'to-accepted', '已更换报警器并修补防火堤', 'accepted');
  // The rectifier may not close it.
  assert.equal(await page.$('#hazards [data-action=to-closed]'), null, 'no 销号 by the rectifier');
  await screenshot(page, 'hazard-accepted.png');
  assert.deepEqual(page.errors, []);

  // The expert: a failed acceptance needs its reason.
  const ep = await openInternalMap(browser, srv.url, { as: expert });
  await openHazard(ep, hcode);
  await ep.click('#hazards [data-action=to-rectifying]');
  await ep.click('#hazards .hz-action-box [data-action=confirm]');
  assert.match(await ep.textContent('#hazards .hz-action-box .field-error'), /请填写不通过的原因/);
  await ep.fill('#hz-note', '防火堤裂缝未修补');
  await ep.click('#hazards .hz-action-box [data-action=confirm]');
  await ep.waitForSelector('#hazards .hz-detail[data-status=rectifying]');

  // Rectified again by the administrator; closed by the expert with the 复查意见.
  await page.reload();
  await page.waitForFunction(() => window.__riskmapInteractive);
  await openHazard(page, hcode);
  await act(page, 'to-accepted', '防火堤已修补', 'accepted');
  await ep.reload();
  await ep.waitForFunction(() => window.__riskmapInteractive);
  await openHazard(ep, hcode);
  await ep.click('#hazards [data-action=to-closed]');
  await ep.click('#hazards .hz-action-box [data-action=confirm]');
  assert.match(await ep.textContent('#hazards .hz-action-box .field-error'), /请填写复查意见/);
  await ep.fill('#hz-note', '经现场复查，整改到位，同意销号');
  await ep.click('#hazards .hz-action-box [data-action=confirm]');
  await ep.waitForSelector('#hazards .hz-detail[data-status=closed]');

  // The history: who, when and every note.
  const history = await ep.textContent('#hazards .hz-timeline');
  for (const s of ['已告知企业', '防火堤裂缝未修补', '经现场复查，整改到位，同意销号', '上传']) assert.ok(history.includes(s), `history has ${s}: ${history}`);
  assert.ok((await ep.$$('#hazards .hz-timeline li')).length >= 8);
  assert.equal((await ep.$$('#hazards .hz-photos img')).length, 2, 'both photos');
  await screenshot(ep, 'hazard-detail.png');
  assert.deepEqual(ep.errors, []);
  await ep.context().close();

  // The unit has its own colour again.
  await page.click('#hazards .admin-head .icon-btn');
  await page.fill('.search-input', code);
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  const back = await waitTileGrade(page, code, own, false);
  assert.equal(back.fill, fills[own]);
  assert.ok(!(back.open_hazards > 0));
  await page.waitForSelector('#drawer .grade-pair');
  assert.equal(await page.getAttribute('#drawer .grade-pair', 'data-current'), own);
  assert.equal(await page.$('#drawer .dynamic-explanation'), null);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the map marks units with open hidden dangers, and 仅看有未销号隐患的单元 shows only them', async () => {
  const u = await freshUnit();
  const made = await api(srv.url, 'POST', '/api/v1/hazards', { unit_id: u.id, level: 'general', description: '消防器材过期', found_at: day(0), source: 'inspection',
    responsible_unit: '某公司', responsible_person: '赵责任', measures: '更换', deadline: day(10) });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const page = await openInternalMap(browser, srv.url);
  await openUnit(page, u.properties.code);
  await waitTiles(page);
  const t = await tileUnit(page, u.properties.code);
  assert.equal(t.open_hazards, 1, JSON.stringify(t));
  assert.equal(t.grade, u.properties.grade, 'a general hidden danger does not raise the grade');
  assert.ok((await page.$$('.leaflet-units-pane path.hazard-mark')).length >= 1, 'the mark of open hidden dangers');
  // The filter: only units with open hidden dangers, on the map and in the count.
  await page.check('#f-open-hazards');
  await waitTiles(page);
  const shown = await page.evaluate(() => {
    const out = [];
    for (const r of Object.values(window.riskmap.units.layer._vectorTiles)) for (const { feature } of Object.values(r._features)) {
      if (feature._path && feature._path.isConnected && feature._path.getAttribute('fill') !== 'none') out.push(Number(feature.properties.open_hazards) || 0);
    }
    return out;
  });
  assert.ok(shown.length >= 1 && shown.every((n) => n > 0), `only units with open hidden dangers: ${shown}`);
  const n = (await api(srv.url, 'GET', '/api/v1/units?open_hazards=true&limit=1')).body.numberMatched;
  assert.ok(n >= 1);
  await page.waitForFunction((n) => document.querySelector('.matched')?.textContent.includes(`${n.toLocaleString('zh-CN')} 个风险单元`), n);
  await page.uncheck('#f-open-hazards');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a citizen\'s report on /public becomes a hidden danger of a unit; its words reach staff only, as text', async () => {
  const u = await freshUnit();
  const [lon, lat] = u.geometry.coordinates;
  const words = `消防通道被杂物堵塞 <img src=x onerror="window.__pwned=1"> ${Date.now()}`;
  const pub = await openPage(browser, srv.url, { as: null });
  await pub.goto(srv.url + '/public');
  await pub.waitForFunction(() => window.__riskmapInteractive, null, { timeout: 30_000 });
  await pub.click('#btn-report');
  await pub.waitForSelector('#report .report-form');
  await pub.waitForSelector('#rp-category optgroup', { state: 'attached' });
  // What it needs before it is sent.
  await pub.click('[data-action=submit-report]');
  assert.match(await pub.textContent('#report .field-error[data-for=lon]'), /请在地图上点击选择隐患位置/);
  // The place: a click on the map near the unit.
  await pub.evaluate(([lat, lon]) => window.riskmap.map.setView([lat, lon], 17, { animate: false }), [lat, lon]);
  const pt = await pub.evaluate(([lat, lon]) => {
    const m = window.riskmap.map;
    const p = m.latLngToContainerPoint([lat, lon]);
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + p.x + 25, y: r.top + p.y + 25 };
  }, [lat, lon]);
  await pub.mouse.click(pt.x, pt.y);
  await pub.waitForSelector('.report-place[data-set="1"]');
  await pub.selectOption('#rp-category', 'hazardous_chemicals');
  await pub.fill('#rp-description', words);
  await pub.fill('#rp-contact', '13800000000');
  await pub.setInputFiles('#rp-photo', { name: '随手拍.png', mimeType: 'image/png', buffer: png(160, 120, [240, 160, 0]) });
  await screenshot(pub, 'report-form.png');
  await pub.click('[data-action=submit-report]');
  await pub.waitForSelector('#rp-tracking');
  const number = (await pub.textContent('#rp-tracking')).trim();
  assert.match(number, /^JB\d{8}[0-9A-Z]{8}$/);
  await screenshot(pub, 'report-tracking-number.png');
  await pub.click('[data-action=track-this]');
  await pub.waitForSelector('.track-result');
  assert.match(await pub.textContent('.track-result'), /已受理/);
  const shown = await pub.textContent('#report');
  assert.ok(!shown.includes('消防通道') && !shown.includes('13800000000'), 'the tracking page shows no report text');
  // A number that is not there.
  await pub.fill('#rp-track-number', 'JB20200101ABCDEFGH');
  await pub.click('[data-action=track]');
  await pub.waitForSelector('.track-out .field-error');
  assert.match(await pub.textContent('.track-out'), /没有找到/);
  // Nothing of it on the public map's units.
  const listed = (await api(srv.url, 'GET', `/public/api/v1/units?q=${encodeURIComponent('消防通道被杂物堵塞')}`, undefined, {}, { as: null })).body;
  assert.equal((listed.features || []).length, 0);
  assert.deepEqual(pub.errors, []);

  // Staff find it in 举报受理, see its photo and its words as text, and turn it into a hidden danger.
  const page = await openInternalMap(browser, srv.url);
  await page.click('#btn-hazards');
  await page.click('#hazards .admin-tabs [data-tab=reports]');
  const row = `#hazards table.hz-report-table tr:has(td:text-is("${number}"))`;
  await page.waitForSelector(row);
  await page.click(row);
  await page.waitForSelector('#hazards .hz-report[data-status=received]');
  assert.ok((await page.textContent('#hazards .hz-report-text')).includes('<img src=x'), 'the words as text');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$('#hazards img[src="x"]'), null);
  assert.match(await page.textContent('#hazards .hz-report'), /13800000000/);
  await page.waitForFunction(() => document.querySelector('#hazards .hz-report img')?.naturalWidth > 0);
  await page.waitForSelector('#hz-report-map .hz-report-mark');
  await page.click('#hazards [data-action=convert]');
  await page.fill('#hz-cv-unit', u.properties.code);
  await page.waitForSelector('#hazards .hz-pick-list li[data-id]');
  await page.click('#hazards .hz-pick-list li[data-id]');
  await page.fill('#hz-cv-deadline', day(15));
  await page.fill('#hz-cv-responsible-unit', '某化工有限公司');
  await page.fill('#hz-cv-responsible-person', '李整改');
  await page.fill('#hz-cv-measures', '清理通道杂物');
  await page.click('#hazards [data-action=confirm-convert]');
  await page.waitForSelector('#hazards .hz-detail[data-status=registered]');
  const hcode = (await page.textContent('#hazards .hz-code')).trim();
  assert.match(await page.textContent('#hazards .hz-detail'), /举报/);
  assert.match(await page.textContent('#hazards .hz-detail'), new RegExp(u.properties.code));
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // The citizen reads that it became a hidden danger.
  await pub.fill('#rp-track-number', number);
  await pub.click('[data-action=track]');
  await pub.waitForSelector('.track-result[data-status=converted]');
  assert.match(await pub.textContent('.track-result'), new RegExp(`已转为隐患|${hcode}`));
  await pub.context().close();
});

test('a department user sees only its own department\'s hidden dangers: list, supervision and charts', async () => {
  // One hidden danger of 应急局 (hazardous chemicals) and one of another department, both overdue.
  const mine = await freshUnit();
  const cats = (await api(srv.url, 'GET', '/api/v1/categories')).body.categories;
  const other = cats.find((c) => c.department && c.department !== '应急局' && c.code !== 'hazardous_chemicals');
  const ou = (await api(srv.url, 'GET', `/api/v1/units?status=approved&category=${other.code}&limit=50`)).body.features.find((f) => !taken.has(f.id));
  assert.ok(ou, `a unit of ${other.department}`);
  taken.add(ou.id);
  const make = async (unit, text) => {
    const r = await api(srv.url, 'POST', '/api/v1/hazards', {
      unit_id: unit.id, level: 'major', description: text, location: '', found_at: day(-40), found_by: '检查组', source: 'inspection',
      responsible_unit: '责任单位', responsible_person: '责任人', measures: '整改', deadline: day(-5), five: null,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.properties || r.body;
  };
  const a = await make(mine, '本部门的逾期隐患');
  const b = await make(ou, '其他部门的逾期隐患');
  assert.equal(b.department === '应急局', false);

  const page = await openInternalMap(browser, srv.url, { as: dept });
  await page.click('#btn-hazards');
  await page.waitForSelector('#hazards .hz-list-status[data-count]');
  const depts = await page.$$eval('#hazards table.hz-table tbody tr[data-id] td[data-label=监管部门]', (tds) => [...new Set(tds.map((t) => t.textContent))]);
  assert.deepEqual(depts.filter((d) => d !== '应急局'), [], `only 应急局: ${depts}`);
  const codes = await page.$$eval('#hazards table.hz-table tbody tr[data-code]', (trs) => trs.map((t) => t.dataset.code));
  assert.ok(codes.includes(a.code), 'its own hidden danger is listed');
  assert.ok(!codes.includes(b.code), 'another department\'s is not');
  await page.fill('#hz-f-q', b.code);
  await page.waitForFunction(() => document.querySelector('#hazards .hz-list-status')?.dataset.count === '0');
  // The department filter offers only its own department.
  const offered = await page.$$eval('#hz-f-department option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(offered, ['应急局']);

  await page.click('#hazards .admin-tabs [data-tab=supervision]');
  await page.waitForSelector('#hazards .hz-count-cards');
  const overdue = await page.$$eval('#hazards [data-list=overdue] tr[data-code]', (trs) => trs.map((t) => t.dataset.code));
  assert.ok(overdue.includes(a.code) && !overdue.includes(b.code), `overdue: ${overdue}`);
  const supDepts = await page.$$eval('#hazards [data-list] td[data-label=监管部门]', (tds) => [...new Set(tds.map((t) => t.textContent).filter(Boolean))]);
  assert.deepEqual(supDepts.filter((d) => d !== '应急局'), [], `supervision: ${supDepts}`);
  const byDept = await page.$$eval('#hazards [data-list=by_department] tr[data-key]', (trs) => trs.map((t) => t.dataset.key));
  assert.deepEqual(byDept.filter((d) => d !== '应急局'), [], `by department: ${byDept}`);
  assert.ok(Number(await page.getAttribute('#hazards [data-count=overdue]', 'data-n')) >= 1);
  await screenshot(page, 'hazards-supervision-department.png');

  await page.click('#hazards .admin-tabs [data-tab=charts]');
  await page.waitForSelector('#hazards [data-chart=major-department][data-values]');
  const chartDepts = JSON.parse(await page.getAttribute('#hazards [data-chart=major-department]', 'data-values')).map((r) => r[0]);
  assert.deepEqual(chartDepts.filter((d) => d !== '应急局'), [], `charts: ${chartDepts}`);
  assert.ok(chartDepts.includes('应急局'));
  await page.waitForSelector('#hazards [data-chart=major-department] canvas');
  // The other department's hidden danger, asked for by id: not found.
  const direct = await api(srv.url, 'GET', `/api/v1/hazards/${b.id}`, undefined, {}, { as: dept });
  assert.ok([403, 404].includes(direct.status), `GET another department's: ${direct.status}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the supervision view and the charts for the whole city, and the list exported as CSV', async () => {
  const page = await openInternalMap(browser, srv.url);
  await page.click('#btn-hazards');
  // 导出 CSV: the server's file of what the filters select (逾期 here), in Chinese.
  await page.check('#hz-f-overdue');
  await page.waitForFunction(() => document.querySelector('#hazards [data-action=hazards-csv]')?.href.includes('overdue=true'));
  const n = (await api(srv.url, 'GET', '/api/v1/hazards?status=registered,reported,rectifying,accepted&overdue=true&limit=1')).body.numberMatched;
  await page.waitForFunction((n) => document.querySelector('#hazards .hz-list-status')?.dataset.count === String(n), n);
  assert.ok(n > 0, 'the demo city has overdue hidden dangers');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#hazards [data-action=hazards-csv]')]);
  const csv = readFileSync(await download.path(), 'utf8').replace(/^\ufeff/, '');
  const lines = csv.trim().split(/\r?\n/);
  assert.match(lines[0], /编号/);
  assert.equal(lines.length - 1, n, 'one line per overdue hidden danger');
  await page.click('#hazards .admin-tabs [data-tab=supervision]');
  await page.waitForSelector('#hazards .hz-count-cards');
  assert.match(await page.textContent('#hazards .hz-scope'), /全市/);
  for (const k of ['overdue', 'due_soon', 'supervised', 'reviews_overdue', 'reidentify_overdue']) assert.ok(await page.$(`#hazards [data-count=${k}]`), k);
  await screenshot(page, 'hazards-supervision.png');
  await page.click('#hazards .admin-tabs [data-tab=charts]');
  await page.waitForSelector('#hazards [data-chart=rate][data-values]');
  await page.waitForSelector('#hazards [data-chart=rate] canvas');
  await screenshot(page, 'hazards-charts.png');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.csp, []);
  await page.context().close();
});

test('on a phone the report form fits the screen, its fields take a finger, and the map above it picks the place', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3, locale: 'zh-CN' });
  await context.route('**/*', (route) => (route.request().url().startsWith(srv.url) ? route.continue() : route.abort('internetdisconnected')));
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(srv.url + '/public');
  await page.waitForFunction(() => window.__riskmapInteractive, null, { timeout: 30_000 });
  await page.tap('#btn-report');
  await page.waitForSelector('#report .report-form');
  const box = await page.$eval('#report', (el) => el.getBoundingClientRect().toJSON());
  assert.ok(box.left >= 0 && box.right <= 390.5 && box.bottom <= 844.5 && box.top > 200, `the panel: ${JSON.stringify(box)}`);
  assert.ok(await page.evaluate(() => document.scrollingElement.scrollWidth <= innerWidth), 'nothing scrolls sideways');
  const small = await page.$$eval('#report select, #report textarea, #report input:not([type=file])', (els) => els.filter((el) => el.checkVisibility() && (parseFloat(getComputedStyle(el).fontSize) < 16 || el.getBoundingClientRect().height < 39.5)).map((el) => el.id));
  assert.deepEqual(small, [], 'fields of 16 px and 40 px or more');
  const m = await page.$eval('#map', (el) => el.getBoundingClientRect().toJSON());
  await page.touchscreen.tap(m.left + m.width / 2, Math.min(box.top - 60, m.top + (box.top - m.top) / 2));
  await page.waitForSelector('.report-place[data-set="1"]');
  await screenshot(page, 'phone-report-form.png');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an extension is asked for and approved by another user, a major hidden danger is put under supervision, and an edit saves', async () => {
  const u = await freshUnit();
  const made = await api(srv.url, 'POST', '/api/v1/hazards', { unit_id: u.id, level: 'major', description: '液氨管道阀门泄漏', found_at: day(0), source: 'self_inspection',
    responsible_unit: '某冷链公司', responsible_person: '王责任', measures: '更换阀门', deadline: day(10) });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const hcode = (made.body.properties || made.body).code;
  const page = await openInternalMap(browser, srv.url);
  await openHazard(page, hcode);
  // 申请延期: a date and a reason.
  await page.click('#hazards [data-action=extension]');
  await page.fill('#hz-ext-deadline', day(40));
  await page.fill('#hz-note', '阀门需从厂家订货，到货需 30 天');
  await page.click('#hazards .hz-action-box [data-action=confirm]');
  await page.waitForSelector('#hazards .hz-extension');
  assert.match(await page.textContent('#hazards .hz-extension'), new RegExp(`${day(40)}[\\s\\S]*阀门需从厂家订货`));
  assert.equal(await page.$('#hazards [data-action=extension-approve]'), null, 'not by the one who asked');
  // 编辑: the description; the deadline cannot be changed here.
  await page.click('#hazards [data-action=edit-hazard]');
  await page.waitForSelector('#hazards .hz-form');
  assert.equal(await page.isDisabled('#hz-deadline'), true);
  await page.fill('#hz-description', '液氨管道阀门泄漏（已临时封堵）');
  await page.click('#hazards [data-action=save-hazard]');
  await page.waitForSelector('#hazards .hz-detail');
  assert.match(await page.textContent('#hazards .hz-detail'), /已临时封堵/);
  await page.context().close();

  // The expert approves the extension and puts it under the city's supervision.
  const ep = await openInternalMap(browser, srv.url, { as: expert });
  await openHazard(ep, hcode);
  await ep.click('#hazards [data-action=extension-approve]');
  await ep.click('#hazards .hz-action-box [data-action=confirm]');
  await ep.waitForFunction((d) => !document.querySelector('#hazards .hz-extension') && document.querySelector('#hazards .hz-detail')?.textContent.includes(d), day(40));
  await ep.click('#hazards [data-action=supervise]');
  await ep.selectOption('#hz-sup-by', 'city');
  await ep.fill('#hz-note', '限 40 日内完成整改，每周报告进度');
  await ep.click('#hazards .hz-action-box [data-action=confirm]');
  await ep.waitForSelector('#hazards .hz-supervised-badge');
  assert.match(await ep.textContent('#hazards .hz-supervision'), /市级挂牌督办[\s\S]*限 40 日内完成整改/);
  const history = await ep.textContent('#hazards .hz-timeline');
  for (const s of ['阀门需从厂家订货', '限 40 日内完成整改']) assert.ok(history.includes(s), `history has ${s}: ${history}`);
  // It is in the supervision view's list of supervised major hidden dangers.
  await ep.click('#hazards .admin-tabs [data-tab=supervision]');
  await ep.waitForSelector(`#hazards [data-list=supervised] tr[data-code="${hcode}"]`);
  assert.deepEqual(ep.errors, []);
  await ep.context().close();
});
