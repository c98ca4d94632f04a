// The browser-test harness: it starts the built riskmap binary on a fresh demo store and
// drives Debian's chromium through playwright-core. It builds nothing itself: RISKMAP_BIN
// names the binary (default ../bin/riskmap, which `make build` writes after the front end).
//
// Every server gets two users before it starts (USERS: an administrator and an expert),
// and the harness logs the administrator in once: api() and openPage() use that session
// unless told otherwise ({ as: null } for anonymous, or another login()).
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

export const BIN = path.resolve(frontendDir, process.env.RISKMAP_BIN || '../bin/riskmap');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** run runs the binary to completion, with input on its stdin. */
function run(args, input = null) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { stdio: [input == null ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`riskmap ${args.join(' ')}: exit ${code}: ${err}`))));
    if (input != null) p.stdin.end(input);
  });
}

/** The users every test server has (added with `riskmap user add` before it serves). */
export const USERS = {
  admin: { name: 'admin', role: 'admin', password: 'admin-pass-0001' },
  expert: { name: 'zhuanjia', role: 'expert', password: 'expert-pass-0001' },
};

// The session api() and openPage() use by default, by server URL.
const defaultSessions = new Map();

/**
 * startServer runs `riskmap serve --demo` on a fresh store and a free port and resolves
 * when it serves. With synthetic set, that many deterministic synthetic units are added to
 * the demo city first (dense enough for the tiles to carry clusters). args are further
 * flags of `riskmap serve` (e.g. ['--basemap', file]).
 */
export async function startServer({ synthetic = 0, args = [] } = {}) {
  if (!existsSync(BIN)) throw new Error(`no riskmap binary at ${BIN}: run "make build" or set RISKMAP_BIN`);
  const dir = mkdtempSync(path.join(tmpdir(), 'riskmap-browser-'));
  const db = path.join(dir, 't.gpkg');
  // The demo city (and its publication 1), then the users.
  await run(['seed', '--db', db, '--demo']);
  if (synthetic) await run(['seed', '--db', db, '--synthetic', String(synthetic), '--seed', '7']);
  for (const u of Object.values(USERS)) await run(['user', 'add', '--db', db, '--name', u.name, '--role', u.role, '--password-stdin'], u.password + '\n');
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`riskmap did not start in 60 s\n${out}\n${err}`)), 60_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /riskmap 已启动：(http:\/\/\S+?\/)/.exec(out);
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
  const base = url.replace(/\/$/, '');
  const admin = await login(base, USERS.admin.name, USERS.admin.password);
  if (admin.status !== 200) throw new Error(`the harness could not log in as ${USERS.admin.name}: ${admin.status} ${JSON.stringify(admin.body)}`);
  defaultSessions.set(base, admin);
  return {
    url: base,
    db,
    admin,
    async stop() {
      defaultSessions.delete(base);
      proc.kill('SIGTERM');
      await new Promise((res) => (proc.exitCode !== null ? res() : proc.once('exit', res)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * login logs in through POST /api/v1/session and returns {status, body, cookie, csrf,
 * user, retryAfter}: cookie is "name=value" of the session cookie, for api() and openPage().
 */
export async function login(base, username, password) {
  const res = await fetch(base + '/api/v1/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  const set = res.headers.getSetCookie ? res.headers.getSetCookie() : [res.headers.get('set-cookie')].filter(Boolean);
  const ck = set.map((c) => c.split(';')[0]).find((c) => /^(__Host-)?riskmap_session=./.test(c)) || '';
  return { status: res.status, body, cookie: ck, csrf: body && body.csrf_token, user: body && body.user, retryAfter: res.headers.get('retry-after') };
}

/** authHeaders are the headers that make a request as session s (a login()). */
export function authHeaders(s, method = 'GET') {
  if (!s) return {};
  const h = { Cookie: s.cookie };
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) h['X-CSRF-Token'] = s.csrf;
  return h;
}

/** sessionFor is the session a call uses: opts.as if given (null: anonymous), else the server's administrator. */
function sessionFor(origin, opts) {
  if (opts && 'as' in opts) return opts.as;
  return defaultSessions.get(origin.replace(/\/$/, '')) || null;
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
 * must show the map works without it), and accepts downloads. contextOptions are further
 * options of the browser context (e.g. geolocation and permissions).
 */
export async function openPage(browser, origin, { width = 1366, height = 768, contextOptions = {}, ...opts } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'zh-CN', acceptDownloads: true, ...contextOptions });
  const s = sessionFor(origin, opts);
  if (s && s.cookie) {
    const i = s.cookie.indexOf('=');
    await context.addCookies([{ name: s.cookie.slice(0, i), value: s.cookie.slice(i + 1), url: origin, httpOnly: true, sameSite: 'Strict' }]);
  }
  // Content-Security-Policy violations, as the page's securitypolicyviolation events report them.
  const csp = [];
  await context.exposeBinding('__riskmapCsp', (_src, v) => csp.push(v));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__riskmapCsp({ directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample, page: location.pathname }));
  });
  const page = await context.newPage();
  page.errors = [];
  page.consoleErrors = [];
  page.external = [];
  page.dialogs = [];
  page.csp = csp;
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
export async function openInternalMap(browser, url, opts = {}) {
  const page = await openPage(browser, url, opts);
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

/**
 * api calls the server's JSON API from the test (not the page), as the server's
 * administrator unless opts.as names another session (a login()) or null (anonymous).
 */
export async function api(base, method, p, body, headers = {}, opts = {}) {
  const res = await fetch(base + p, {
    method,
    headers: { 'Content-Type': 'application/json', ...authHeaders(sessionFor(base, opts), method), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, etag: res.headers.get('etag'), headers: res.headers, body: json };
}

/**
 * typedTextContrast types text into the field sel and returns the WCAG contrast ratio of its
 * text colour against its background colour (both as the browser computes them).
 */
export async function typedTextContrast(page, sel, text) {
  await page.fill(sel, text);
  return page.$eval(sel, (el) => {
    const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const cs = getComputedStyle(el);
    const [a, b] = [lum(rgb(cs.color)), lum(rgb(cs.backgroundColor))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}
