// The coordinate converter against the npm package gcoord, to ≤ 1e-6° (about 0.1 m).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import gcoord from 'gcoord';
import { wgs84ToGcj02, gcj02ToWgs84, gcj02ToBd09, bd09ToGcj02, wgs84ToBd09, bd09ToWgs84, toWgs84, fromWgs84, inChina } from '../src/lib/coords.js';

const TOL = 1e-6;

// A deterministic spread of points over China (and a few outside, where nothing moves).
function points() {
  const out = [
    [102.908, 24.672], // 澄江
    [116.397428, 39.90923], // 北京
    [121.473701, 31.230416], // 上海
    [113.264385, 23.129112], // 广州
    [87.617733, 43.792818], // 乌鲁木齐
    [126.642464, 45.756967], // 哈尔滨
    [91.132212, 29.660361], // 拉萨
    [110.33119, 20.031971], // 海口
  ];
  let s = 42;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 500; i++) out.push([73.5 + rnd() * 61.5, 18 + rnd() * 35]);
  return out;
}

function close(a, b, what, tol = TOL) {
  assert.ok(Math.abs(a[0] - b[0]) <= tol && Math.abs(a[1] - b[1]) <= tol, `${what}: got ${a}, expected ${b}`);
}

test('WGS84 → GCJ-02 and back agree with gcoord', () => {
  for (const p of points()) {
    close(wgs84ToGcj02(p), gcoord.transform(p, gcoord.WGS84, gcoord.GCJ02), `WGS84→GCJ02 ${p}`);
    close(gcj02ToWgs84(p), gcoord.transform(p, gcoord.GCJ02, gcoord.WGS84), `GCJ02→WGS84 ${p}`);
  }
});

test('GCJ-02 ↔ BD-09 and BD-09 → WGS84 agree with gcoord', () => {
  for (const p of points()) {
    close(gcj02ToBd09(p), gcoord.transform(p, gcoord.GCJ02, gcoord.BD09), `GCJ02→BD09 ${p}`);
    close(bd09ToGcj02(p), gcoord.transform(p, gcoord.BD09, gcoord.GCJ02), `BD09→GCJ02 ${p}`);
    close(bd09ToWgs84(p), gcoord.transform(p, gcoord.BD09, gcoord.WGS84), `BD09→WGS84 ${p}`);
    close(wgs84ToBd09(p), gcoord.transform(p, gcoord.WGS84, gcoord.BD09), `WGS84→BD09 ${p}`);
  }
});

test('round trips return the input', () => {
  // GCJ-02 is inverted by iteration, so its round trip is exact. Baidu's published BD-09
  // inverse is itself an approximation (gcoord's too): its round trip is good to 2e-6°.
  const BD_TOL = 2e-6;
  for (const p of points()) {
    close(gcj02ToWgs84(wgs84ToGcj02(p)), p, `GCJ02 round trip ${p}`, 1e-9);
    close(bd09ToWgs84(wgs84ToBd09(p)), p, `BD09 round trip ${p}`, BD_TOL);
    for (const crs of ['WGS84', 'GCJ02', 'BD09']) close(toWgs84(fromWgs84(p, crs), crs), p, `${crs} round trip ${p}`, BD_TOL);
  }
});

test('the offset is hundreds of metres in China and zero outside', () => {
  const p = [102.908, 24.672];
  const g = wgs84ToGcj02(p);
  const dx = (g[0] - p[0]) * 111320 * Math.cos((p[1] * Math.PI) / 180);
  const dy = (g[1] - p[1]) * 110540;
  const d = Math.hypot(dx, dy);
  assert.ok(d > 100 && d < 1000, `GCJ-02 offset at 澄江 is ${d.toFixed(0)} m`);
  assert.equal(inChina(2.35, 48.85), false);
  assert.deepEqual(wgs84ToGcj02([2.35, 48.85]), [2.35, 48.85]);
  assert.deepEqual(gcj02ToWgs84([2.35, 48.85]), [2.35, 48.85]);
});
