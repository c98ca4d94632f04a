// Low-zoom aggregates: where a tile would hold too many units the server sends cluster
// points, drawn as counts in the colour of their highest grade.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, waitInteractive, waitTiles, waitLegend, screenshot, api } from './harness.mjs';

let srv;
let browser;
let fills;

before(async () => {
  srv = await startServer({ synthetic: 8000 });
  browser = await launch();
  const g = (await api(srv.url, 'GET', '/api/v1/grading')).body;
  fills = Object.fromEntries(g.grades.map((x) => [x.code, x.fill.toLowerCase()]));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

function clusters(page) {
  return page.$$eval('.leaflet-clusters-pane .cluster', (els) =>
    els.map((e) => ({
      count: Number(e.dataset.count),
      red: Number(e.dataset.red),
      orange: Number(e.dataset.orange),
      yellow: Number(e.dataset.yellow),
      blue: Number(e.dataset.blue),
      text: e.textContent,
      fill: getComputedStyle(e).backgroundColor,
    })),
  );
}

const rgb = (hex) => {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${n >> 16}, ${(n >> 8) & 255}, ${n & 255})`;
};

test('dense areas show cluster counts coloured by their highest grade', async () => {
  const page = await openPage(browser, srv.url);
  await page.goto(srv.url + '/');
  await waitInteractive(page);
  await waitTiles(page);
  await waitLegend(page);
  const cs = await clusters(page);
  assert.ok(cs.length > 5, `clusters drawn: ${cs.length}`);
  for (const c of cs) {
    const top = ['red', 'orange', 'yellow', 'blue'].find((g) => c[g] > 0);
    assert.equal(c.fill, rgb(fills[top]), `a cluster with ${JSON.stringify(c)} is drawn in its highest grade`);
    assert.equal(c.count, c.red + c.orange + c.yellow + c.blue);
    assert.equal(c.text, String(c.count), 'it shows its count');
  }
  await screenshot(page, 'internal-clusters.png');

  // A grade filter recounts the clusters: only blue left, every cluster blue.
  for (const g of ['red', 'orange', 'yellow']) await page.click(`.grade-chip[data-grade=${g}] input`);
  await waitTiles(page);
  await page.waitForFunction(() => [...document.querySelectorAll('.leaflet-clusters-pane .cluster')].every((e) => e.dataset.grade === 'blue'));
  const blue = await clusters(page);
  assert.ok(blue.length > 0);
  for (const c of blue) {
    assert.equal(c.fill, rgb(fills.blue));
    assert.equal(c.text, String(c.blue), 'the count of blue units only');
  }
  await screenshot(page, 'internal-clusters-blue.png');

  // Clicking a cluster zooms in.
  const z = await page.evaluate(() => window.riskmap.map.getZoom());
  const box = await page.$eval('.leaflet-clusters-pane .cluster', (t) => {
    const b = t.getBoundingClientRect();
    return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
  });
  await page.mouse.click(box.x, box.y);
  await page.waitForFunction((z) => window.riskmap.map.getZoom() > z, z);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
