// The tiles decode with the reference JavaScript client, @mapbox/vector-tile: layer
// version 2, extent 4096, features with their grade, and clusters at low zoom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { startServer, authHeaders } from './harness.mjs';

function tileXY(lon, lat, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return [x, y];
}

test('unit and region tiles decode with @mapbox/vector-tile', async () => {
  const server = await startServer();
  try {
    // 凤麓街道, the city centre of the demo city.
    for (const [layer, z] of [['units', 14], ['units', 10], ['regions', 11]]) {
      const [x, y] = tileXY(102.9084, 24.6756, z);
      // The internal tiles need a login (the harness's administrator).
      const res = await fetch(`${server.url}/tiles/${layer}/${z}/${x}/${y}.pbf`, { headers: authHeaders(server.admin) });
      assert.equal(res.status, 200, `${layer} ${z}/${x}/${y}`);
      assert.equal(res.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
      const tile = new VectorTile(new Pbf(new Uint8Array(await res.arrayBuffer())));
      const l = tile.layers[layer];
      assert.ok(l, `layer ${layer} present`);
      assert.equal(l.version, 2);
      assert.equal(l.extent, 4096);
      assert.ok(l.length > 0, 'the tile has features');
      const grades = new Set();
      for (let i = 0; i < l.length; i++) {
        const f = l.feature(i);
        assert.ok(['red', 'orange', 'yellow', 'blue'].includes(f.properties.grade), JSON.stringify(f.properties));
        grades.add(f.properties.grade);
        const gj = f.toGeoJSON(x, y, z);
        assert.ok(['Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon'].includes(gj.geometry.type));
        if (layer === 'units' && !f.properties.cluster) {
          assert.ok(Number.isInteger(f.properties.id) && f.properties.name && f.properties.category);
        }
      }
      assert.ok(grades.size >= 1);
    }
  } finally {
    await server.stop();
  }
});
