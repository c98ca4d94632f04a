// The offline basemap of `riskmap serve --basemap FILE.mbtiles` in a real browser: GDAL
// makes the MBTiles (a raster from a GeoTIFF, a vector one from GeoJSON), and both maps
// draw it as their default basemap from /basemap/, with no request leaving the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launch, openPage, waitInteractive, waitTiles, screenshot } from './harness.mjs';

// The raster's colour, which the map must show.
const COLOUR = [90, 160, 90];

let dir;
let browser;

/** gdal runs a GDAL command; a missing GDAL fails the test (scripts/install-deps.sh installs gdal-bin). */
function gdal(cmd, ...args) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed (is gdal-bin installed? scripts/install-deps.sh installs it): ${e.stderr || e.message}`);
  }
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'riskmap-basemap-'));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** rasterMBTiles is a one-colour raster over the demo city, as GDAL writes MBTiles. */
function rasterMBTiles() {
  const tif = path.join(dir, 'city.tif');
  const mb = path.join(dir, 'city.mbtiles');
  gdal('gdal_create', '-of', 'GTiff', '-outsize', '1024', '1024', '-bands', '3', ...COLOUR.flatMap((c) => ['-burn', String(c)]),
    '-a_srs', 'EPSG:4326', '-a_ullr', '102.5', '25.0', '103.3', '24.3', tif);
  gdal('gdal_translate', '-q', '-of', 'MBTiles', '-co', 'NAME=澄江影像', tif, mb);
  gdal('gdaladdo', '-q', mb, '2', '4', '8');
  return mb;
}

function vectorMBTiles() {
  const src = path.join(dir, 'roads.geojson');
  const mb = path.join(dir, 'roads.mbtiles');
  const lines = [];
  for (let i = 0; i < 12; i++) lines.push({ type: 'Feature', properties: { name: `路${i}` }, geometry: { type: 'LineString', coordinates: [[102.7 + i * 0.04, 24.4], [102.7 + i * 0.04, 24.9]] } });
  writeFileSync(src, JSON.stringify({ type: 'FeatureCollection', features: lines }));
  gdal('ogr2ogr', '-f', 'MBTILES', mb, src, '-dsco', 'MINZOOM=6', '-dsco', 'MAXZOOM=14', '-dsco', 'NAME=澄江道路');
  return mb;
}

/** basemapRequests records the answers to /basemap/ tile requests. */
function recordBasemap(page) {
  const seen = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/basemap/')) seen.push({ path: u.pathname, status: r.status(), type: r.headers()['content-type'] });
  });
  return seen;
}

test('a raster MBTiles is the default basemap of both maps, drawn from /basemap/', async () => {
  const srv = await startServer({ args: ['--basemap', rasterMBTiles()] });
  try {
    for (const p of ['/public', '/']) {
      const page = await openPage(browser, srv.url);
      const seen = recordBasemap(page);
      await page.goto(srv.url + p);
      await waitInteractive(page);
      await waitTiles(page);
      assert.equal(await page.getAttribute('#map', 'data-basemap'), 'mbtiles', `${p}: the MBTiles is the default`);
      const labels = await page.$$eval('.leaflet-control-layers-base label', (ls) => ls.map((l) => l.textContent.trim()));
      assert.ok(labels.includes('离线街道底图（澄江影像）'), labels.join('|'));
      await page.waitForFunction(() => {
        const imgs = [...document.querySelectorAll('.basemap-mbtiles img.leaflet-tile-loaded')];
        return imgs.length > 0 && imgs.every((i) => i.complete);
      }, null, { timeout: 20_000 });
      const tiles = seen.filter((s) => /^\/basemap\/\d+\/\d+\/\d+\.png$/.test(s.path));
      assert.ok(tiles.some((t) => t.status === 200 && t.type === 'image/png'), JSON.stringify(seen.slice(0, 5)));
      // The tiles are drawn: a loaded tile's middle has the raster's colour.
      const px = await page.evaluate(() => {
        const img = [...document.querySelectorAll('.basemap-mbtiles img.leaflet-tile-loaded')].find((i) => i.naturalWidth > 0);
        const c = document.createElement('canvas');
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return [...ctx.getImageData(c.width / 2, c.height / 2, 1, 1).data];
      });
      assert.deepEqual(px.slice(0, 3), COLOUR, `${p}: the tile is the raster's colour`);
      // The region outlines are drawn over it, the names too, and nothing left the server.
      assert.ok((await page.$$('.leaflet-basemapLines-pane path')).length > 0, 'region outlines over the basemap');
      assert.ok((await page.$$('.region-label')).length > 0, 'region names over the basemap');
      assert.deepEqual(page.external, []);
      await screenshot(page, `basemap-raster${p === '/' ? '-internal' : '-public'}.png`);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  } finally {
    await srv.stop();
  }
});

test('a vector MBTiles is drawn through VectorGrid', async () => {
  const srv = await startServer({ args: ['--basemap', vectorMBTiles()] });
  try {
    const page = await openPage(browser, srv.url);
    const seen = recordBasemap(page);
    await page.goto(srv.url + '/public');
    await waitInteractive(page);
    assert.equal(await page.getAttribute('#map', 'data-basemap'), 'mbtiles');
    await page.waitForFunction(() => document.querySelectorAll('.basemap-mbtiles canvas').length > 0, null, { timeout: 20_000 });
    await page.waitForTimeout(500);
    assert.ok(seen.some((s) => /\.pbf$/.test(s.path) && s.status === 200 && s.type === 'application/vnd.mapbox-vector-tile'), JSON.stringify(seen.slice(0, 5)));
    // Some canvas tile has the roads' grey on it.
    const drawn = await page.evaluate(() => [...document.querySelectorAll('.basemap-mbtiles canvas')].some((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
      return false;
    }));
    assert.ok(drawn, 'the vector tiles are drawn');
    await screenshot(page, 'basemap-vector-public.png');
    assert.deepEqual(page.external, []);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await srv.stop();
  }
});
