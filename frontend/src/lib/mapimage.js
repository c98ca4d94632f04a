// The map as an image: GET {base}/api/v1/map.png draws the four-colour map on the server
// (no browser needed) for the view's box and size, the units or the regional map.
import { query } from './api.js';

/**
 * mapImageURL is the address of the image of what app.map shows now: its box, its size in
 * pixels (16 to 4096, the server's limits), the layer of the map's mode and filters (the
 * unit map's; none for the public page).
 */
export function mapImageURL(app, base = '', filters = {}) {
  const map = app.map;
  const b = map.getBounds();
  const c = (v, lo, hi) => Math.max(lo, Math.min(hi, v)).toFixed(6);
  const size = map.getSize();
  const side = (n) => Math.max(16, Math.min(4096, Math.round(n)));
  const regions = app.state.mode === 'regions';
  return `${base}/api/v1/map.png?${query({
    ...(regions ? {} : filters),
    layer: regions ? 'regions' : 'units',
    bbox: [c(b.getWest(), -180, 180), c(b.getSouth(), -85, 85), c(b.getEast(), -180, 180), c(b.getNorth(), -85, 85)].join(','),
    width: side(size.x),
    height: side(size.y),
  })}`;
}

/** imageLink is a link to the image that follows the view (its address is set when it is used). */
export function imageLink(a, url) {
  const set = () => (a.href = url());
  for (const ev of ['mouseenter', 'focus', 'pointerdown', 'click']) a.addEventListener(ev, set);
  set();
  return a;
}
