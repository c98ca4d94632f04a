// The browser-test harness: it starts the built riskmap binary on a fresh demo store and
// drives Debian's chromium through playwright-core. It builds nothing itself: RISKMAP_BIN
// names the binary (default ../bin/riskmap, which `make build` writes after the front end).
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const frontendDir = path.resolve(here, '..');
export const ARTIFACTS = path.resolve(frontendDir, '..', 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const BIN = path.resolve(frontendDir, process.env.RISKMAP_BIN || '../bin/riskmap');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** run runs the binary to completion. */
function run(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`riskmap ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

/**
 * startServer runs `riskmap serve --demo` on a fresh store and a free port and resolves
 * when it serves. With synthetic set, that many deterministic synthetic units are added to
 * the demo city first (dense enough for the tiles to carry clusters).
 */
export async function startServer({ synthetic = 0 } = {}) {
  if (!existsSync(BIN)) throw new Error(`no riskmap binary at ${BIN}: run "make build" or set RISKMAP_BIN`);
  const dir = mkdtempSync(path.join(tmpdir(), 'riskmap-browser-'));
  const db = path.join(dir, 't.gpkg');
  if (synthetic) {
    await run(['seed', '--db', db, '--demo']);
    await run(['seed', '--db', db, '--synthetic', String(synthetic), '--seed', '7']);
  }
  const proc = spawn(BIN, ['serve', '--demo', '--db', db, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`riskmap did not start in 60 s\n${out}\n${err}`)), 60_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /riskmap is serving at (http:\/\/\S+?\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.stderr.on('data', (d) => (err += d));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`riskmap exited with ${code}\n${out}\n${err}`));
    });
  });
  // The index loads in the background after the line is printed.
  for (let i = 0; i < 200; i++) {
    const r = await fetch(url + 'readyz').catch(() => null);
    if (r && r.ok) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    url: url.replace(/\/$/, ''),
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((res) => (proc.exitCode !== null ? res() : proc.once('exit', res)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--headless'],
  });
}

/**
 * openPage opens a 1366×768 page that records page errors and console errors, answers
 * every request to another host with a network error (tests never need the internet, and
 * must show the map works without it), and accepts downloads.
 */
export async function openPage(browser, origin, { width = 1366, height = 768 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'zh-CN', acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.consoleErrors = [];
  page.external = [];
  page.dialogs = [];
  page.on('pageerror', (e) => page.errors.push(e.stack || String(e)));
  page.on('console', (m) => m.type() === 'error' && page.consoleErrors.push(m.text()));
  page.on('dialog', (d) => {
    page.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    page.external.push(u);
    return route.abort('internetdisconnected');
  });
  return page;
}

/** waitInteractive waits until the map says it is interactive and returns the time from navigation start. */
/** openInternalMap opens the internal map and waits until its tiles and legend are drawn. */
export async function openInternalMap(browser, url) {
  const page = await openPage(browser, url);
  await page.goto(url + '/');
  await waitInteractive(page);
  await waitTiles(page);
  await waitLegend(page);
  return page;
}

export async function waitInteractive(page) {
  await page.waitForFunction(() => window.__riskmapInteractive, null, { timeout: 30_000 });
  return page.evaluate(() => window.__riskmapInteractive);
}

/** waitLegend waits until the legend has counted what is in view. */
export async function waitLegend(page) {
  await page.waitForFunction(() => document.querySelector('.legend')?.dataset.ready === '1' && !document.querySelector('.legend').textContent.includes('…'), null, { timeout: 20_000 });
}

/** waitTiles waits until the units layer has no tile loading. */
export async function waitTiles(page, layer = 'units') {
  await page.waitForFunction((l) => {
    const lyr = window.riskmap && window.riskmap[l].layer;
    if (!lyr || !lyr._map) return false;
    return Object.values(lyr._tiles).every((t) => t.loaded);
  }, layer, { timeout: 20_000 });
  await page.waitForTimeout(150);
}

export async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file });
  return file;
}

/** recordFigures merges measured figures into test-artifacts/figures.json for the README. */
export function recordFigures(figures) {
  const file = path.join(ARTIFACTS, 'figures.json');
  let cur = {};
  try {
    cur = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    /* first figure */
  }
  const machine = { cpus: cpus().length, load_average_1m: Number(loadavg()[0].toFixed(2)), measured_at: new Date().toISOString() };
  writeFileSync(file, JSON.stringify({ ...cur, ...figures, machine }, null, 2) + '\n');
}

/** The fill colours drawn in a pane, as a count per colour (lower case). */
export async function paneFills(page, pane) {
  return page.evaluate((pane) => {
    const out = {};
    for (const p of document.querySelectorAll(`.leaflet-${pane}-pane path`)) {
      const f = (p.getAttribute('fill') || 'none').toLowerCase();
      if (f === 'none') continue;
      out[f] = (out[f] || 0) + 1;
    }
    return out;
  }, pane);
}

/** api calls the server's JSON API from the test (not the page). */
export async function api(base, method, p, body, headers = {}) {
  const res = await fetch(base + p, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), body: text ? JSON.parse(text) : null };
}
