// The spatial analyses in a real browser: a unit's influence range drawn as a ground-distance
// buffer with its conflict lines; moving the unit away from the school clears its conflict on
// screen; the shelter coverage map with its legend; protective targets created, refused (400),
// edited and deleted through 空间分析; the public map's shelters and 最近的避难场所.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, openInternalMap, waitInteractive, waitTiles, screenshot, api } from './harness.mjs';

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

/** offset moves [lon, lat] by east and north metres. */
function offset([lon, lat], east, north) {
  return [lon + east / (111320 * Math.cos((lat * Math.PI) / 180)), lat + north / 110574];
}

/** metres between two [lon, lat] points (haversine). */
function metres([lon1, lat1], [lon2, lat2]) {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

/**
 * emptySpots are n community centres, 2 km apart, with no protective target within about
 * 600 m (twice the test unit's radius) and no unit within about 150 m (a click there hits
 * the test's own unit).
 */
async function emptySpots(n) {
  const fc = (await api(srv.url, 'GET', '/api/v1/regions?level=community')).body.features;
  for (const [du, dt] of [[0.003, 0.008], [0.0015, 0.006]]) {
    const out = [];
    for (const f of fc) {
      const ring = f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates[0][0] : f.geometry.coordinates[0];
      const xs = ring.map((p) => p[0]);
      const ys = ring.map((p) => p[1]);
      const c = [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
      const box = (d) => `${c[0] - d},${c[1] - d},${c[0] + d},${c[1] + d}`;
      const units = (await api(srv.url, 'GET', `/api/v1/units?bbox=${box(du)}&limit=1`)).body.numberMatched;
      const targets = (await api(srv.url, 'GET', `/api/v1/protective-targets?bbox=${box(dt)}&limit=1`)).body.numberMatched;
      if (units === 0 && targets === 0 && out.every((o) => metres(o, c) > 2000)) {
        c.code = f.properties.code;
        out.push(c);
      }
      if (out.length === n) return out;
    }
  }
  throw new Error(`no ${n} empty spots`);
}

/** clickAt clicks the map at [lon, lat]. */
async function clickAt(page, [lon, lat]) {
  const [x, y] = await page.evaluate(([lon, lat]) => {
    const m = window.riskmap.map;
    const p = m.latLngToContainerPoint([lat, lon]);
    const r = m.getContainer().getBoundingClientRect();
    return [r.left + p.x, r.top + p.y];
  }, [lon, lat]);
  await page.mouse.click(x, y);
}

/** showOverlay ticks a layer of the map's layers control by its Chinese name. */
async function showOverlay(page, name) {
  await page.hover('.leaflet-control-layers');
  await page.locator('.leaflet-control-layers-overlays label', { hasText: name }).locator('input').check();
  await page.mouse.move(5, 400);
}

/** openPanel opens 空间分析 on a tab from the sidebar. */
async function openPanel(page, action) {
  await page.click(`.side-analysis [data-action=${action}]`);
  await page.waitForSelector('#analysis-panel:not([hidden])');
}

let spots;
let unit; // the test's hazardous unit (a draft), 300 m influence radius
let school; // a school 120 m east of it

test('a selected unit shows its influence range as a ground-distance buffer, with its conflict lines', async () => {
  spots = await emptySpots(2);
  const region = spots[0].code;
  const made = await api(srv.url, 'POST', '/api/v1/units', {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: spots[0] },
    properties: { code: 'E2E-CONFLICT-0001', name: '安全距离测试加油站', category: 'hazardous_chemicals', region_code: region, influence_radius_m: 300, assessment: { method: 'LS', likelihood: 3, severity: 3 } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  unit = made.body;
  const at = offset(spots[0], 120, 0);
  const t = await api(srv.url, 'POST', '/api/v1/protective-targets', {
    type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { name: '安全距离测试小学', kind: 'school', people: 860, address: '测试路 1 号' },
  });
  assert.equal(t.status, 201, JSON.stringify(t.body));
  school = t.body;
  const res = (await api(srv.url, 'GET', `/api/v1/units/${unit.id}/conflicts`)).body;
  assert.equal(res.hazardous, true, JSON.stringify(res));
  assert.ok(res.conflicts.some((c) => c.target.id === school.id), JSON.stringify(res));

  const page = await openInternalMap(browser, srv.url);
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 17, { animate: false }), spots[0]);
  await waitTiles(page);
  await clickAt(page, spots[0]);
  await page.waitForSelector('#drawer .unit-name');
  assert.equal(await page.textContent('#drawer .unit-name'), '安全距离测试加油站');
  // The buffer: a polygon 600 m across (east–west and north–south), not a circle of degrees.
  await page.waitForSelector('.leaflet-highlight-pane path.influence-buffer');
  const size = await page.evaluate(() => {
    const m = window.riskmap.map;
    let b = null;
    window.riskmapAnalysis.selection.eachLayer((l) => {
      if (l.getBounds && l.eachLayer) l.eachLayer((x) => x.options.className === 'influence-buffer' && (b = x.getBounds()));
    });
    const c = b.getCenter();
    return { ew: m.distance([c.lat, b.getWest()], [c.lat, b.getEast()]), ns: m.distance([b.getSouth(), c.lng], [b.getNorth(), c.lng]) };
  });
  assert.ok(Math.abs(size.ew - 600) < 12 && Math.abs(size.ns - 600) < 12, `buffer ${JSON.stringify(size)}`);
  // Its conflict line, to the school, and the details' 安全距离冲突 section.
  await page.waitForSelector(`.leaflet-highlight-pane path.conflict-line[data-target="${school.id}"]`, { state: 'attached' });
  await page.waitForSelector('.unit-conflicts[data-state="done"]');
  const section = await page.textContent('.unit-conflicts');
  assert.match(section, /安全距离冲突[\s\S]*影响半径 300 米（单元填报）/);
  assert.match(section, /安全距离测试小学[\s\S]*学校[\s\S]*860[\s\S]*1[12]\d 米/);
  // The city-wide layer draws the same conflict.
  await showOverlay(page, '安全距离冲突');
  await page.waitForSelector(`.leaflet-conflicts-pane path.conflict-line[data-unit="${unit.id}"][data-target="${school.id}"]`, { state: 'attached' });
  await screenshot(page, 'analysis-buffer.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('moving the unit away from the school in the entry form clears its conflict on screen', async () => {
  assert.ok(unit && school, 'the previous test made the unit and the school');
  const page = await openInternalMap(browser, srv.url);
  await showOverlay(page, '安全距离冲突');
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 17, { animate: false }), spots[0]);
  await waitTiles(page);
  await page.waitForSelector(`.leaflet-conflicts-pane path.conflict-line[data-unit="${unit.id}"]`, { state: 'attached' });
  await clickAt(page, spots[0]);
  await page.waitForSelector(`.leaflet-highlight-pane path.conflict-line[data-target="${school.id}"]`, { state: 'attached' });
  await page.click('#drawer [data-action=edit]');
  await page.waitForSelector('.editor-form');
  await page.click('details.coord-input summary');
  const far = spots[1];
  await page.selectOption('#e-geomtype', 'Point');
  await page.fill('#e-coords', `${far[0].toFixed(6)}, ${far[1].toFixed(6)}`);
  await page.click('[data-action=apply-coords]');
  await page.click('.form-actions .btn-primary');
  // Saved: the details again, at the new place, with no conflict — without a reload.
  await page.waitForSelector('#drawer .unit-name, .editor-form .form-errors:not([hidden])');
  // (The form's errors are read only when the save failed: reading them when the form has
  // closed would wait out Playwright's 30 s for an element that is gone.)
  if (!(await page.$('#drawer .unit-name'))) assert.fail(`not saved: ${await page.textContent('.editor-form .form-errors')}`);
  await page.waitForSelector('.unit-conflicts[data-state="done"]');
  assert.equal(await page.$(`.leaflet-highlight-pane path.conflict-line[data-target="${school.id}"]`), null);
  assert.doesNotMatch(await page.textContent('.unit-conflicts'), /安全距离测试小学/);
  assert.match(await page.textContent('.unit-conflicts'), /影响范围内没有学校、医院等防护目标/);
  // The city-wide layer forgets it too, wherever the map is.
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 16, { animate: false }), spots[0]);
  await page.waitForFunction((id) => !document.querySelector(`.leaflet-conflicts-pane path.conflict-line[data-unit="${id}"]`), unit.id, { timeout: 10_000 });
  const res = (await api(srv.url, 'GET', `/api/v1/units/${unit.id}/conflicts`)).body;
  assert.deepEqual(res.conflicts, []);
  await screenshot(page, 'analysis-moved.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the shelter coverage map colours streets and districts by shortfall, with its legend', async () => {
  const streets = (await api(srv.url, 'GET', '/api/v1/shelter-coverage?level=street')).body;
  assert.ok(streets.features.length > 0);
  assert.ok(streets.features.some((f) => f.properties.class === 'short' || f.properties.class === 'severe'), 'the demo city has a street short of shelter area');
  const page = await openInternalMap(browser, srv.url);
  await page.check('#layer-coverage');
  await page.waitForSelector('.coverage-legend');
  await page.waitForFunction((n) => document.querySelectorAll('.leaflet-coverage-pane path.coverage-area').length === n, streets.features.length);
  const legend = await page.textContent('.coverage-legend');
  for (const w of ['避难场所覆盖', '达标', '不足', '严重不足', '无人口数据', '1.5 平方米']) assert.ok(legend.includes(w), `legend says ${w}: ${legend}`);
  // Each street in its class's colour (not a grade's), counted in the legend.
  const colours = { ok: '#2ca25f', short: '#9e9ac8', severe: '#54278f', no_data: '#cccccc' };
  const drawn = await page.$$eval('.leaflet-coverage-pane path.coverage-area', (ps) => ps.map((p) => ({ code: p.dataset.code, cls: p.dataset.class, fill: p.getAttribute('fill') })));
  for (const f of streets.features) {
    const d = drawn.find((x) => x.code === f.properties.code);
    assert.ok(d, `street ${f.properties.code} drawn`);
    assert.equal(d.fill, colours[f.properties.class]);
  }
  for (const [cls, colour] of Object.entries(colours)) {
    const n = streets.features.filter((f) => f.properties.class === cls).length;
    assert.equal(await page.textContent(`.coverage-legend [data-class="${cls}"] .legend-count`), String(n), `${cls} counted`);
    assert.ok(colour);
  }
  // A street's popup says its figures in words.
  const worst = streets.features.find((f) => f.properties.class === 'severe') || streets.features.find((f) => f.properties.class === 'short') || streets.features[0];
  await page.evaluate((code) => {
    window.riskmapAnalysis.coverage.eachLayer((g) => g.eachLayer((l) => l.feature.properties.code === code && l.openPopup()));
  }, worst.properties.code);
  await page.waitForSelector(`.leaflet-popup .coverage-card[data-code="${worst.properties.code}"]`);
  const card = await page.textContent('.leaflet-popup .coverage-card');
  assert.ok(card.includes(worst.properties.explanation), card);
  assert.match(card, /常住人口[\s\S]*有效避难面积[\s\S]*人均[\s\S]*服务半径内人口/);
  await screenshot(page, 'analysis-coverage.png');
  // The district level: one region per district.
  const districts = (await api(srv.url, 'GET', '/api/v1/shelter-coverage?level=district')).body;
  await page.click('.coverage-levels [data-level=district]');
  await page.waitForFunction((n) => document.querySelectorAll('.leaflet-coverage-pane path.coverage-area').length === n, districts.features.length);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('protective targets: created on the map, a 400 shown under its field, edited and deleted', async () => {
  const [spot] = await emptySpots(1);
  const page = await openInternalMap(browser, srv.url);
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 16, { animate: false }), spot);
  await openPanel(page, 'open-conflicts');
  await page.waitForSelector('#analysis-panel table.conflicts-table');
  await page.click('#analysis-panel [data-tab="protective-targets"]');
  await page.waitForSelector('#analysis-panel table.sites-table tbody tr[data-id]');
  await page.click('[data-action=new-site]');
  await page.waitForSelector('.site-form');
  await page.click('.site-form [data-draw=point]');
  await clickAt(page, spot);
  await page.waitForFunction(() => /已设置点位/.test(document.querySelector('.site-form .geom-info').textContent));
  await page.fill('#st-name', 'E2E 测试幼儿园');
  await page.selectOption('#st-kind-input', 'kindergarten');
  await page.fill('#st-people', '0');
  await page.fill('#st-address', '测试街 8 号');
  await page.click('[data-action=save-site]');
  // The server refuses a target without people: its message under 人数, nothing stored.
  await page.waitForFunction(() => document.querySelector('.field-error[data-for="people"]')?.textContent.length > 0);
  assert.match(await page.textContent('.field-error[data-for="people"]'), /人数/);
  assert.match(await page.textContent('.site-form .form-errors'), /未能保存/);
  assert.equal((await api(srv.url, 'GET', '/api/v1/protective-targets?q=E2E 测试幼儿园')).body.numberMatched, 0);
  await page.fill('#st-people', '320');
  await page.click('[data-action=save-site]');
  await page.waitForSelector('#drawer .site-name');
  assert.equal(await page.textContent('#drawer .site-name'), 'E2E 测试幼儿园');
  assert.match(await page.textContent('#drawer'), /幼儿园[\s\S]*320 人[\s\S]*测试街 8 号[\s\S]*第 1 版/);
  const saved = (await api(srv.url, 'GET', '/api/v1/protective-targets?q=E2E 测试幼儿园')).body.features[0];
  assert.equal(saved.properties.people, 320);
  assert.ok(Math.abs(saved.geometry.coordinates[0] - spot[0]) < 0.0002 && Math.abs(saved.geometry.coordinates[1] - spot[1]) < 0.0002, JSON.stringify(saved.geometry));
  // 编辑: a new name, saved with If-Match (version 2).
  await page.click('#drawer [data-action=edit-site]');
  await page.waitForSelector('.site-form');
  await page.fill('#st-name', 'E2E 测试幼儿园（新址）');
  await page.click('[data-action=save-site]');
  await page.waitForFunction(() => document.querySelector('#drawer .site-name')?.textContent === 'E2E 测试幼儿园（新址）');
  assert.match(await page.textContent('#drawer'), /第 2 版/);
  // 删除 asks once more, then deletes.
  await page.click('#drawer [data-action=delete-site]');
  assert.match(await page.textContent('#drawer [data-action=delete-site]'), /确认删除/);
  await page.click('#drawer [data-action=delete-site]');
  await page.waitForSelector('#drawer', { state: 'hidden' });
  assert.equal((await api(srv.url, 'GET', `/api/v1/protective-targets/${saved.id}`)).status, 404);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the conflict table: filtered, exported, and a row shows the conflict on the map', async () => {
  const all = (await api(srv.url, 'GET', '/api/v1/conflicts?limit=500')).body;
  assert.ok(all.total > 0, 'the demo city has conflicts');
  const page = await openInternalMap(browser, srv.url);
  await openPanel(page, 'open-conflicts');
  await page.waitForFunction((n) => document.querySelector('#analysis-panel .hz-list-status')?.dataset.count === String(n), all.total);
  const rows = await page.$$eval('table.conflicts-table tbody tr[data-unit]', (rs) => rs.length);
  assert.equal(rows, Math.min(all.total, 200));
  await page.selectOption('#cf-grade', 'red');
  const red = (await api(srv.url, 'GET', '/api/v1/conflicts?grade=red&limit=1')).body.total;
  await page.waitForFunction((n) => document.querySelector('#analysis-panel .hz-list-status')?.dataset.count === String(n), red);
  assert.match(await page.getAttribute('[data-action=conflicts-csv]', 'href'), /^\/api\/v1\/conflicts\.csv\?grade=red$/);
  await page.selectOption('#cf-grade', '');
  if (all.total > 0) {
    const first = all.items[0];
    await page.waitForSelector(`table.conflicts-table tbody tr[data-unit="${first.unit.id}"]`);
    await page.click(`table.conflicts-table tbody tr[data-unit="${first.unit.id}"][data-target="${first.target.id}"]`);
    await page.waitForSelector('#analysis-panel', { state: 'hidden' });
    await page.waitForSelector(`.leaflet-highlight-pane path.conflict-line[data-target="${first.target.id}"]`, { state: 'attached' });
    assert.equal(await page.getAttribute('#drawer', 'data-unit-id'), String(first.unit.id));
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a shelter of the list opens its details with its service radius drawn on the ground', async () => {
  const fc = (await api(srv.url, 'GET', '/api/v1/shelters?kind=emergency&limit=1')).body;
  const f = fc.features[0];
  const page = await openInternalMap(browser, srv.url);
  await openPanel(page, 'open-shelters');
  await page.fill('#st-q', f.properties.name);
  await page.waitForFunction((id) => {
    const rows = document.querySelectorAll('#analysis-panel table.sites-table tbody tr[data-id]');
    return rows.length === 1 && rows[0].dataset.id === String(id);
  }, f.id);
  await page.click(`#analysis-panel table.sites-table tbody tr[data-id="${f.id}"]`);
  await page.waitForSelector('#drawer .site-name');
  assert.equal(await page.textContent('#drawer .site-name'), f.properties.name);
  assert.match(await page.textContent('#drawer'), /紧急避难场所[\s\S]*容纳人数[\s\S]*有效避难面积[\s\S]*服务半径/);
  await page.waitForSelector('.leaflet-highlight-pane path.service-buffer');
  const across = await page.evaluate(() => {
    const m = window.riskmap.map;
    let b = null;
    window.riskmapAnalysis.selection.eachLayer((l) => l.eachLayer && l.eachLayer((x) => x.options.className === 'service-buffer' && (b = x.getBounds())));
    const c = b.getCenter();
    return m.distance([c.lat, b.getWest()], [c.lat, b.getEast()]);
  });
  const r = f.properties.service_radius_m;
  assert.ok(Math.abs(across - 2 * r) < 0.02 * 2 * r + 5, `service area ${across} m across for a radius of ${r} m`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// ---- the public map ----

test('the public map shows the shelters and finds the nearest from a clicked point and from the visitor', async () => {
  const fc = (await api(srv.url, 'GET', '/public/api/v1/shelters', undefined, {}, { as: null })).body;
  assert.ok(fc.features.length > 0);
  const point = fc.features.find((f) => f.geometry.type === 'Point');
  const here = offset(point.geometry.coordinates, 0, 150);
  const page = await openPage(browser, srv.url, { as: null, contextOptions: { geolocation: { longitude: here[0], latitude: here[1], accuracy: 20 }, permissions: ['geolocation'] } });
  await page.goto(srv.url + '/public');
  await waitInteractive(page);
  await page.waitForFunction((n) => document.querySelector('#map').dataset.shelters === String(n), fc.features.length);
  assert.equal(await page.$$eval('.leaflet-shelters-pane [data-shelter]', (ps) => ps.length), fc.features.length);
  // A shelter's popup: type, capacity, effective area, service radius.
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 16, { animate: false }), point.geometry.coordinates);
  await page.locator(`.leaflet-shelters-pane [data-shelter="${point.id}"]`).click({ force: true });
  await page.waitForSelector(`.leaflet-popup .shelter-card[data-id="${point.id}"]`);
  const card = await page.textContent('.leaflet-popup .shelter-card');
  assert.match(card, /类型[\s\S]*(紧急|固定|中心)避难场所[\s\S]*容纳人数[\s\S]*有效避难面积[\s\S]*服务半径/);
  await page.evaluate(() => window.riskmap.map.closePopup());

  // 最近的避难场所 from a point clicked on the map, 150 m north of a shelter.
  await page.evaluate(([lon, lat]) => window.riskmap.map.setView([lat, lon], 16, { animate: false }), here);
  await page.click('.shelter-button');
  await page.click('[data-action=shelter-pick]');
  const picked = await page.evaluate(([lon, lat]) => {
    const m = window.riskmap.map;
    const p = m.latLngToContainerPoint([lat, lon]);
    const ll = m.containerPointToLatLng(p);
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y, lon: ll.lng, lat: ll.lat };
  }, here);
  await page.mouse.click(picked.x, picked.y);
  await page.waitForSelector('.shelter-nearest');
  // The point the page asked about (the click's, rounded to 1e-6°), near the one aimed at.
  const from = await page.$eval('.shelter-finder', (e) => [Number(e.dataset.lon), Number(e.dataset.lat)]);
  assert.ok(metres(from, [picked.lon, picked.lat]) < 5, `${from} ~ ${picked.lon},${picked.lat}`);
  const want = (await api(srv.url, 'GET', `/public/api/v1/shelters/nearest?lon=${from[0]}&lat=${from[1]}`, undefined, {}, { as: null })).body;
  assert.equal(await page.getAttribute('.shelter-nearest', 'data-id'), String(want.nearest.shelter.id));
  const text = await page.textContent('.shelter-nearest');
  assert.match(text, /直线距离 [\d.]+ (米|公里)|就在避难场所范围内/);
  if (want.nearest.distance_m > 0) assert.ok(text.includes(`方向：${want.nearest.direction}`), text);
  assert.match(await page.getAttribute('.shelter-nearest [data-nav=amap]', 'href'), /^https:\/\/uri\.amap\.com\/marker\?position=/);
  assert.match(await page.getAttribute('.shelter-nearest [data-nav=geo]', 'href'), /^geo:/);
  assert.match(await page.textContent('.shelter-within'), new RegExp(`1 公里内的避难场所（${want.nearby.length} 处）`));
  assert.equal(await page.$$eval('.shelter-finder .shelter-item', (els) => els.length), want.nearby.length);
  assert.ok(await page.$('.shelter-route'), 'a line to the shelter');
  await screenshot(page, 'public-nearest-shelter.png');

  // The city's shelters as a table (分布表): every one, a row shows it on the map.
  await page.click('.shelter-finder .nearby-close');
  await page.click('.shelter-button');
  await page.click('[data-action=shelter-list]');
  await page.waitForSelector('.shelter-table tbody tr');
  assert.equal(await page.$$eval('.shelter-table tbody tr[data-id]', (rs) => rs.length), fc.features.length);
  assert.match(await page.textContent('.shelter-finder'), new RegExp(`共 ${fc.features.length} 处，可容纳 [\\d,]+ 人`));
  await page.click(`.shelter-table tbody tr[data-id="${point.id}"]`);
  await page.waitForSelector(`.leaflet-popup .shelter-card[data-id="${point.id}"]`);

  // And from the visitor's own position.
  await page.click('.shelter-finder .nearby-close');
  await page.click('.shelter-button');
  await page.click('[data-action=shelter-locate]');
  await page.waitForSelector('.shelter-nearest');
  const mine = (await api(srv.url, 'GET', `/public/api/v1/shelters/nearest?lon=${here[0].toFixed(6)}&lat=${here[1].toFixed(6)}`, undefined, {}, { as: null })).body;
  assert.equal(await page.getAttribute('.shelter-nearest', 'data-id'), String(mine.nearest.shelter.id));
  assert.match(await page.textContent('.shelter-finder'), /从您的位置出发/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('最近的避难场所 on a phone: the panel fits the screen', async () => {
  const fc = (await api(srv.url, 'GET', '/public/api/v1/shelters', undefined, {}, { as: null })).body;
  const here = offset(fc.features[0].geometry.type === 'Point' ? fc.features[0].geometry.coordinates : fc.features.find((f) => f.geometry.type === 'Point').geometry.coordinates, 200, 0);
  const page = await openPage(browser, srv.url, { as: null, width: 390, height: 844, contextOptions: { isMobile: true, hasTouch: true, geolocation: { longitude: here[0], latitude: here[1] }, permissions: ['geolocation'] } });
  await page.goto(srv.url + '/public');
  await waitInteractive(page);
  await page.tap('.shelter-button');
  await page.tap('[data-action=shelter-locate]');
  await page.waitForSelector('.shelter-nearest');
  const box = await page.$eval('.shelter-finder', (e) => e.getBoundingClientRect().toJSON());
  assert.ok(box.left >= 0 && box.right <= 390 && box.bottom <= 844, JSON.stringify(box));
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scroll');
  await screenshot(page, 'public-nearest-shelter-phone.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('空间分析 on a phone: the panel, its tables and the site form fit the screen', async () => {
  const page = await openPage(browser, srv.url, { width: 390, height: 844, contextOptions: { isMobile: true, hasTouch: true } });
  await page.goto(srv.url + '/');
  await waitInteractive(page);
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await page.tap('#btn-filters');
  await page.waitForSelector('.side-analysis [data-action=open-conflicts]', { state: 'visible' });
  const cb = await page.$eval('.side-analysis .layer-check', (e) => e.getBoundingClientRect().height);
  assert.ok(cb >= 40, `layer checkboxes are ${cb} px tall`);
  await page.tap('.side-analysis [data-action=open-conflicts]');
  await page.waitForSelector('#analysis-panel table.conflicts-table tbody tr');
  assert.equal(await wide(), true, 'no sideways scroll with the conflict table');
  const row = await page.$eval('#analysis-panel table.conflicts-table tbody tr', (e) => e.getBoundingClientRect().toJSON());
  assert.ok(row.right <= 390, `a conflict fits as a card: ${JSON.stringify(row)}`);
  await page.tap('#analysis-panel [data-tab="shelters"]');
  await page.waitForSelector('#analysis-panel table.sites-table tbody tr[data-id]');
  assert.equal(await wide(), true, 'no sideways scroll with the shelter list');
  await screenshot(page, 'phone-analysis-panel.png');
  await page.tap('[data-action=new-site]');
  await page.waitForSelector('.site-form');
  assert.equal(await wide(), true, 'no sideways scroll with the site form');
  const save = await page.$eval('[data-action=save-site]', (e) => e.getBoundingClientRect().toJSON());
  assert.ok(save.height >= 40 && save.right <= 390, JSON.stringify(save));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
