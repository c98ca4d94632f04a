// Builds dist/: index.html (internal application), public.html (public map) and assets/,
// bundled by esbuild with content-hashed names so /assets/* can be cached for ever. The
// public page's entry shares no module with the editor, so it never loads leaflet-geoman.
import * as esbuild from 'esbuild';
import { readFile, writeFile, rm, mkdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(here, 'dist');
const assets = path.join(dist, 'assets');

await rm(assets, { recursive: true, force: true });
for (const f of ['index.html', 'public.html', 'manifest.json']) await rm(path.join(dist, f), { force: true });
await mkdir(assets, { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: 'src/app/main.js', public: 'src/public/main.js' },
  absWorkingDir: here,
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15', 'edge100'],
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  outdir: assets,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  // Every file name carries its content hash, so the server may cache /assets/* for ever.
  // (Leaflet's default marker icon, found by file name, is never used: units are drawn as
  // vectors and geoman's handles are CSS.)
  assetNames: '[name]-[hash]',
  loader: { '.png': 'file', '.svg': 'file' },
  metafile: true,
  logLevel: 'warning',
});

// prefetch.js starts the first API requests while the modules load: a classic script (not
// inline, for the Content-Security-Policy's script-src 'self'), run before the bundle.
const pre = await esbuild.build({
  entryPoints: { prefetch: 'src/prefetch.js' },
  absWorkingDir: here,
  bundle: false,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15', 'edge100'],
  minify: true,
  outdir: assets,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const prefetchFile = Object.keys(pre.metafile.outputs).find((k) => k.endsWith('.js'));

// The files each page loads: its entry, the chunks it imports statically, and its CSS.
function pageFiles(entry) {
  const outs = result.metafile.outputs;
  const key = Object.keys(outs).find((k) => outs[k].entryPoint === entry && k.endsWith('.js'));
  const js = new Set();
  const walk = (k) => {
    if (js.has(k)) return;
    js.add(k);
    for (const imp of outs[k].imports || []) if (imp.kind === 'import-statement') walk(imp.path);
  };
  walk(key);
  const css = outs[key].cssBundle ? [outs[key].cssBundle] : [];
  return { entry: key, js: [...js], css };
}

const rel = (k) => '/' + path.relative(dist, path.resolve(here, k)).split(path.sep).join('/');
const manifest = {};
for (const [page, entry] of [['index', 'src/app/main.js'], ['public', 'src/public/main.js']]) {
  const files = pageFiles(entry);
  let html = await readFile(path.join(here, 'src', `${page}.html`), 'utf8');
  const preload = files.js.filter((k) => k !== files.entry).map((k) => `<link rel="modulepreload" href="${rel(k)}">`);
  html = html.replace('<!--CSS-->', [...files.css.map((k) => `<link rel="stylesheet" href="${rel(k)}">`), ...preload].join('\n'));
  html = html.replace('<!--PREFETCH-->', `<script src="${rel(prefetchFile)}"></script>`);
  html = html.replace('<!--JS-->', `<script type="module" src="${rel(files.entry)}"></script>`);
  await writeFile(path.join(dist, `${page}.html`), html);
  let gz = 0;
  let raw = 0;
  for (const k of [prefetchFile, ...files.js, ...files.css]) {
    const b = await readFile(path.resolve(here, k));
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  manifest[page] = { js: [prefetchFile, ...files.js].map(rel), css: files.css.map(rel), bytes: raw, gzip_bytes: gz };
  console.log(`${page}.html: ${files.js.length} JS + ${files.css.length} CSS files, ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped (initial load)`);
}
await writeFile(path.join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
