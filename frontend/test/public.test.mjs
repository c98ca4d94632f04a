// The public map (/public) in a real browser: no login, no editing, only public fields
// from /public/... endpoints, light enough for the whole city.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startServer, launch, openPage, waitInteractive, waitLegend, waitTiles, screenshot, paneFills, recordFigures, api } from './harness.mjs';

// What the public may see of a unit (and the cluster points' counts, and the geometry type
// the page adds to each tile feature itself).
const PUBLIC = new Set(['id', 'code', 'public_label', 'category', 'category_label', 'grade', 'grade_label', 'region_code', 'region_name']);
const TILE_EXTRA = new Set(['$type', 'name' /* the public label */, 'cluster', 'count', 'red', 'orange', 'yellow', 'blue']);
const BUDGET = 300 * 1024;

let srv;
let browser;
let fills;

before(async () => {
  srv = await startServer();
  browser = await launch();
  const g = (await api(srv.url, 'GET', '/public/api/v1/grading')).body;
  fills = Object.fromEntries(g.grades.map((x) => [x.code, x.fill.toLowerCase()]));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** openPublic loads /public, recording every same-origin response. */
async function openPublic() {
  const page = await openPage(browser, srv.url);
  page.responsesSeen = [];
  page.on('response', (r) => page.responsesSeen.push(r));
  await page.goto(srv.url + '/public');
  const tti = await waitInteractive(page);
  await waitTiles(page);
  await waitLegend(page);
  return { page, tti };
}

test('the public page is light: JS + CSS within budget, no editor', async () => {
  const { page, tti } = await openPublic();
  let gz = 0;
  let raw = 0;
  const files = [];
  for (const r of page.responsesSeen) {
    const u = new URL(r.url());
    if (!/\.(js|css)$/.test(u.pathname)) continue;
    const body = await r.body();
    raw += body.length;
    const z = gzipSync(body, { level: 9 }).length;
    gz += z;
    files.push(`${u.pathname} ${z}`);
    const text = body.toString('utf8');
    assert.ok(!/leaflet-pm|geoman/i.test(text), `${u.pathname} must not carry the editor`);
  }
  console.log(`# public page JS + CSS: ${(gz / 1024).toFixed(1)} KB gzipped (${(raw / 1024).toFixed(1)} KB raw) in ${files.length} files; interactive in ${Math.round(tti)} ms`);
  recordFigures({
    public_page_js_css_gzip_bytes: gz,
    public_page_js_css_gzip_kb: Number((gz / 1024).toFixed(1)),
    public_page_js_css_raw_bytes: raw,
    public_page_files: files,
    public_map_interactive_ms: Math.round(tti),
  });
  assert.ok(gz <= BUDGET, `public JS + CSS is ${gz} bytes gzipped; the budget is ${BUDGET}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the public page reads only /public endpoints and shows no internal field', async () => {
  const { page } = await openPublic();
  // Only the page, its assets and /public/... were asked for.
  for (const r of page.responsesSeen) {
    const u = new URL(r.url());
    assert.ok(u.pathname === '/public' || u.pathname.startsWith('/public/') || u.pathname.startsWith('/assets/'), `requested ${u.pathname}`);
  }
  assert.deepEqual(page.external, []);
  // Every unit in the JSON it read carries public fields only.
  for (const r of page.responsesSeen) {
    const u = new URL(r.url());
    if (!u.pathname.startsWith('/public/api/v1/units')) continue;
    const body = await r.json();
    for (const f of body.features || [body]) for (const k of Object.keys(f.properties || {})) assert.ok(PUBLIC.has(k), `${u.pathname}: property ${k} is not public`);
  }
  // And so does every feature of the unit tiles it drew.
  const tileKeys = await page.evaluate(() => {
    const keys = new Set();
    for (const r of Object.values(window.riskmap.units.layer._vectorTiles)) for (const { feature } of Object.values(r._features)) for (const k of Object.keys(feature.properties)) keys.add(k);
    return [...keys];
  });
  assert.ok(tileKeys.length > 0);
  for (const k of tileKeys) assert.ok(PUBLIC.has(k) || TILE_EXTRA.has(k), `tile property ${k} is not public`);
  const drawn = await paneFills(page, 'units');
  for (const [g, f] of Object.entries(fills)) assert.ok(drawn[f] > 0, `${g} drawn`);
  assert.equal(await page.$('#btn-new'), null, 'no entry form');
  await screenshot(page, 'public-unit-map.png');

  // Search by code flies to a unit and shows its public card; nothing internal is on the page.
  const pub = (await api(srv.url, 'GET', '/public/api/v1/units?limit=1&q=CJ-WHP-0002')).body.features[0];
  const internal = (await api(srv.url, 'GET', `/api/v1/units/${pub.id}`)).body.properties;
  await page.fill('.search-input', pub.properties.code);
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.public-card');
  const card = await page.textContent('.public-card');
  assert.ok(card.includes(pub.properties.code) && card.includes(pub.properties.grade_label) && card.includes(pub.properties.category_label));
  await page.waitForTimeout(500);
  const all = await page.evaluate(() => document.body.innerText);
  for (const k of ['name', 'address', 'responsible_unit', 'contact_person', 'contact_phone', 'major_risk_factors']) {
    const v = internal[k];
    if (v) assert.ok(!all.includes(v), `internal ${k} "${v}" must not show`);
  }
  for (const label of ['责任单位', '联系人', '联系电话', '管控措施', '地址']) assert.ok(!all.includes(label), `no ${label} on the public page`);
  await screenshot(page, 'public-unit-card.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the public search finds units by code but never by their internal name', async () => {
  const internal = (await api(srv.url, 'GET', '/api/v1/units?limit=1&q=CJ-WHP-0002')).body.features[0];
  const byName = (await api(srv.url, 'GET', `/public/api/v1/units?limit=5&q=${encodeURIComponent(internal.properties.name)}`)).body;
  assert.equal(byName.numberMatched, 0, 'a name must not be discoverable through the public search');
  const byCode = (await api(srv.url, 'GET', '/public/api/v1/units?limit=5&q=CJ-WHP-0002')).body;
  assert.equal(byCode.numberMatched, 1);
});

test('the public map says who publishes it and the hotline to call', async () => {
  const { page } = await openPublic();
  const cfg = (await api(srv.url, 'GET', '/public/api/v1/ui-config', undefined, {}, { as: null })).body;
  assert.equal(cfg.publisher.hotline, '12350');
  const text = await page.textContent('.public-contact');
  assert.ok(text.includes(`发布单位：${cfg.publisher.name}`) && text.includes('安全生产举报投诉热线：12350'), text);
  assert.equal(await page.getAttribute('.public-contact a', 'href'), 'tel:12350');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the public search finds places by name and shows them whole', async () => {
  const { page } = await openPublic();
  await page.fill('.search-input', '双树村');
  await page.waitForSelector('.search-place');
  assert.match(await page.textContent('.search-place'), /地点[\s\S]*双树村[\s\S]*社区/);
  await page.keyboard.press('Enter');
  const village = (await api(srv.url, 'GET', '/public/api/v1/regions?level=community', undefined, {}, { as: null })).body.features.find((f) => f.properties.name === '双树村');
  await page.waitForFunction((g) => window.riskmap.map.getBounds().contains(L.geoJSON(g).getBounds()) && window.riskmap.map.getZoom() >= 13, village.geometry, { timeout: 5000 });
  // The demo city's units have public labels (公开名称): 加油站 finds the filling stations by them.
  await page.fill('.search-input', '加油站');
  await page.waitForSelector('.search-item');
  assert.match(await page.textContent('.search-item'), /加油站（/);
  // Nothing found says so in words.
  await page.fill('.search-input', '不存在的地名');
  await page.waitForSelector('.search-empty');
  assert.match(await page.textContent('.search-empty'), /没有找到匹配的地点或风险单元/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the public regional map colours regions', async () => {
  const { page } = await openPublic();
  await page.click('.modes [data-mode=regions]');
  await page.click('.level-switch [data-level=community]');
  await waitTiles(page, 'regions');
  const drawn = await paneFills(page, 'regions');
  const allowed = new Set(Object.values(fills));
  assert.ok(Object.values(drawn).reduce((a, b) => a + b, 0) >= 10, JSON.stringify(drawn));
  for (const f of Object.keys(drawn)) assert.ok(allowed.has(f));
  // A street's card says in plain words what it holds; the formula waits behind a fold.
  await page.click('.level-switch [data-level=street]');
  await waitTiles(page, 'regions');
  const street = (await api(srv.url, 'GET', '/public/api/v1/regions?level=street', undefined, {}, { as: null })).body.features.find((f) => f.properties.counts && f.properties.counts.red > 0);
  const at = await page.evaluate((g) => {
    const m = window.riskmap.map;
    const b = L.geoJSON(g).getBounds();
    m.fitBounds(b, { animate: false });
    const c = b.getCenter();
    const p = m.latLngToContainerPoint(c);
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, street.geometry);
  await page.waitForTimeout(400);
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('.leaflet-popup .public-card .plain');
  assert.match(await page.textContent('.leaflet-popup .plain'), /^本街道（乡镇）(有(重大|较大|一般|低)风险 \d+ 处|暂无公布的风险点)/);
  assert.equal(await page.isVisible('.leaflet-popup details.explanation p'), false, 'the formula is folded');
  await screenshot(page, 'public-regional-community.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the public page works on a phone screen', async () => {
  const page = await openPage(browser, srv.url, { width: 390, height: 844 });
  await page.goto(srv.url + '/public');
  await waitInteractive(page);
  await waitTiles(page);
  await waitLegend(page);
  // The legend starts folded: a line of counts that leaves the map to the map.
  const folded = await page.$eval('.legend', (l) => l.getBoundingClientRect().toJSON());
  assert.ok(await page.$eval('.legend', (l) => l.classList.contains('collapsed')), 'folded on a phone');
  assert.ok(folded.height <= 90 && folded.width <= 240, `folded legend ${folded.width}×${folded.height}`);
  assert.equal(await page.isVisible('.legend-note'), false);
  await screenshot(page, 'public-phone.png');
  await page.click('.legend-title');
  assert.equal(await page.getAttribute('.legend-title', 'aria-expanded'), 'true');
  assert.ok(await page.isVisible('.legend-total'), 'unfolded: the total shows');
  // The unfolded legend covers nothing anyone reads: the publisher's line steps aside…
  const legendBox = await page.$eval('.legend', (l) => l.getBoundingClientRect().toJSON());
  const contactBox = await page.$eval('.public-contact', (c) => c.getBoundingClientRect().toJSON());
  const overlaps = legendBox.left < contactBox.right && contactBox.left < legendBox.right && legendBox.top < contactBox.bottom && contactBox.top < legendBox.bottom;
  assert.ok(!overlaps || !(await page.isVisible('.public-contact')), 'the legend does not cover the publisher');
  await page.click('.legend-title');
  assert.equal(await page.getAttribute('.legend-title', 'aria-expanded'), 'false');
  // …and comes back when it is folded.
  assert.ok(await page.isVisible('.public-contact'), 'the publisher shows with the legend folded');
  // Nothing is wider than the screen.
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390, 'no horizontal scroll');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a unit popup says what its grade means and what to do near it (防范提示)', async () => {
  const { page } = await openPublic();
  const { tips } = (await api(srv.url, 'GET', '/public/api/v1/ui-config', undefined, {}, { as: null })).body;
  const pub = (await api(srv.url, 'GET', '/public/api/v1/units?limit=1&q=CJ-WHP-0002', undefined, {}, { as: null })).body.features[0];
  assert.equal(pub.properties.category, 'hazardous_chemicals');
  await page.fill('.search-input', pub.properties.code);
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.leaflet-popup .public-card[data-id="${pub.id}"] .public-tip`);
  const advice = await page.textContent('.leaflet-popup .public-tip');
  assert.equal(advice, `防范提示：${tips.categories.hazardous_chemicals}`);
  assert.match(advice, /远离明火/);
  const meaning = await page.textContent('.leaflet-popup .public-tip-grade');
  assert.equal(meaning, tips.grades[pub.properties.grade]);
  assert.ok(meaning.startsWith(pub.properties.grade_label), `${meaning} names the grade ${pub.properties.grade_label}`);
  await screenshot(page, 'public-unit-tips.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** openPublicAt opens /public in a browser whose position is at (null: no permission to ask). */
async function openPublicAt(at, grant = true) {
  const page = await openPage(browser, srv.url, { contextOptions: { geolocation: at || undefined, permissions: grant ? ['geolocation'] : [] } });
  await page.goto(srv.url + '/public');
  await waitInteractive(page);
  return page;
}

test('我的位置 centres the map on the visitor and lists the published units nearest first', async () => {
  const fc = (await api(srv.url, 'GET', '/public/api/v1/units?limit=200', undefined, {}, { as: null })).body;
  const unit = fc.features.find((f) => f.geometry.type === 'Point');
  const [longitude, latitude] = unit.geometry.coordinates;
  const page = await openPublicAt({ latitude, longitude, accuracy: 30 });
  await page.click('.locate-button');
  await page.waitForSelector('.nearby-item');
  const items = await page.$$eval('.nearby-item', (els) => els.map((e) => ({ id: e.dataset.id, grade: e.dataset.grade, name: e.querySelector('.nearby-name').textContent, d: e.querySelector('.nearby-distance').textContent, colour: getComputedStyle(e.querySelector('.swatch')).backgroundColor })));
  assert.match(await page.textContent('.nearby-title'), /附近 1 公里内的风险单元（\d+ 个/);
  assert.equal(items[0].d, '不到 10 米');
  assert.ok(items.some((i) => i.id === String(unit.id) && i.d === '不到 10 米'), `the unit where the visitor stands comes first: ${unit.id} ${JSON.stringify(items.slice(0, 3))}`);
  // Nearest first, all within 1 km, each with its grade's colour and its public name or code.
  const metres = items.map((i) => (i.d === '不到 10 米' ? 0 : i.d.endsWith('公里') ? parseFloat(i.d) * 1000 : parseFloat(i.d)));
  assert.deepEqual(metres, [...metres].sort((a, b) => a - b));
  assert.ok(metres.every((m) => m <= 1000), metres.join(','));
  const byId = new Map(fc.features.map((f) => [String(f.id), f]));
  for (const i of items) {
    const f = byId.get(i.id);
    if (f) assert.equal(i.name, f.properties.public_label || f.properties.code);
  }
  const rgb = (hex) => `rgb(${[1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)).join(', ')})`;
  for (const i of items) assert.equal(i.colour, rgb(fills[i.grade]), `${i.name} in its grade's colour`);
  // The map is centred on the position, which is marked.
  const centre = await page.evaluate(() => window.riskmap.map.getCenter());
  assert.ok(Math.abs(centre.lat - latitude) < 0.001 && Math.abs(centre.lng - longitude) < 0.001, JSON.stringify(centre));
  assert.ok(await page.$('.locate-here'), 'the position is marked');
  await screenshot(page, 'public-locate.png');
  // A unit of the list flies there and opens its card.
  const last = items[items.length - 1];
  await page.click(`.nearby-item[data-id="${last.id}"]`);
  await page.waitForSelector(`.leaflet-popup .public-card[data-id="${last.id}"]`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('我的位置 says why when it cannot: permission refused, or outside the city', async () => {
  const denied = await openPublicAt(null, false);
  await denied.click('.locate-button');
  await denied.waitForSelector('.nearby-error');
  assert.match(await denied.textContent('.nearby-error'), /没有允许本页面使用位置信息/);
  assert.equal(await denied.$('.locate-here'), null);
  assert.deepEqual(denied.errors, []);
  await denied.context().close();

  const beijing = await openPublicAt({ latitude: 39.9042, longitude: 116.4074 });
  const before = await beijing.evaluate(() => window.riskmap.map.getCenter());
  await beijing.click('.locate-button');
  await beijing.waitForSelector('.nearby-error');
  assert.match(await beijing.textContent('.nearby-error'), /不在本地图的范围内/);
  assert.deepEqual(await beijing.evaluate(() => window.riskmap.map.getCenter()), before, 'the map stays on the city');
  // The panel closes.
  await beijing.click('.nearby-close');
  assert.equal(await beijing.isVisible('.nearby'), false);
  assert.deepEqual(beijing.errors, []);
  await beijing.context().close();
});

/** labelBoxes are the region labels on screen, with their rectangles. */
async function labelBoxes(page) {
  return page.$$eval('.region-label', (els) => els.map((e) => ({ level: e.className.replace(/.*region-label-(\w+).*/, '$1'), code: e.dataset.code, text: e.textContent, r: e.getBoundingClientRect().toJSON() })));
}

function assertNoOverlap(boxes) {
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i].r, boxes[j].r];
      const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      assert.ok(!overlap, `${boxes[i].text} and ${boxes[j].text} overlap`);
    }
  }
}

test('street and community names show at the zooms where they fit, inside their regions and never on each other', async () => {
  const { page } = await openPublic();
  const regions = {};
  for (const level of ['street', 'community']) regions[level] = (await api(srv.url, 'GET', `/public/api/v1/regions?level=${level}`, undefined, {}, { as: null })).body.features;
  const check = async (level, zoom) => {
    const f = regions[level].find((x) => x.properties.name === (level === 'street' ? regions.street[0].properties.name : x.properties.name));
    await page.evaluate(([g, z]) => window.riskmap.map.setView(L.geoJSON(g).getBounds().getCenter(), z, { animate: false }), [f.geometry, zoom]);
    await page.waitForTimeout(300);
    const boxes = await labelBoxes(page);
    const mine = boxes.filter((b) => b.level === level);
    assert.ok(mine.length > 0, `${level} names at zoom ${zoom}`);
    assert.deepEqual([...new Set(boxes.map((b) => b.level))], [level], `only ${level} names at zoom ${zoom}`);
    assertNoOverlap(boxes);
    // Each name is its region's, at a point inside it.
    const inside = await page.evaluate(([boxes, feats]) => boxes.map((b) => {
      const f = feats.find((x) => x.properties.code === b.code);
      const m = window.riskmap.map;
      const r = m.getContainer().getBoundingClientRect();
      const ll = m.containerPointToLatLng([b.r.x + b.r.width / 2 - r.left, b.r.y + b.r.height / 2 - r.top]);
      const pt = [ll.lng, ll.lat];
      const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
      const inRing = ([x, y], ring) => {
        let c = false;
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i];
          const [xj, yj] = ring[j];
          if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
        }
        return c;
      };
      return { text: b.text, name: f.properties.name, inside: polys.some((p) => inRing(pt, p[0])) };
    }), [mine, regions[level]]);
    for (const x of inside) {
      assert.equal(x.text, x.name);
      assert.ok(x.inside, `${x.name} is placed inside its region`);
    }
    return mine.length;
  };
  const streets = await check('street', 12);
  const communities = await check('community', 15);
  console.log(`# region names: ${streets} streets at zoom 12, ${communities} communities at zoom 15`);
  await screenshot(page, 'public-region-names.png');
  // Farther out, the small communities are too small for their names: none crowd the map.
  await page.evaluate(() => window.riskmap.map.setZoom(14, { animate: false }));
  await page.waitForTimeout(300);
  const at14 = (await labelBoxes(page)).filter((b) => b.level === 'community').length;
  assert.ok(at14 <= communities * 2 + 5, `zoom 14: ${at14} community names`);
  assertNoOverlap(await labelBoxes(page));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('我的位置 on a phone: the list fits the screen under the map controls', async () => {
  const fc = (await api(srv.url, 'GET', '/public/api/v1/units?limit=50', undefined, {}, { as: null })).body;
  const [longitude, latitude] = fc.features.find((f) => f.geometry.type === 'Point').geometry.coordinates;
  const page = await openPage(browser, srv.url, { width: 390, height: 844, contextOptions: { geolocation: { latitude, longitude }, permissions: ['geolocation'] } });
  await page.goto(srv.url + '/public');
  await waitInteractive(page);
  await page.click('.locate-button');
  await page.waitForSelector('.nearby-item');
  const r = await page.$eval('.nearby', (e) => e.getBoundingClientRect().toJSON());
  assert.ok(r.left >= 0 && r.right <= 390 && r.bottom <= 844, JSON.stringify(r));
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390, 'no horizontal scroll');
  await screenshot(page, 'public-locate-phone.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
