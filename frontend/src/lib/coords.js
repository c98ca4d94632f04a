// Converting coordinates copied from Chinese web maps to WGS 84 (= CGCS2000 to within
// centimetres), which is what riskmap stores. Amap (高德) and Tencent (腾讯) publish GCJ-02, a
// deliberately distorted datum; Baidu (百度) publishes BD-09, a further offset of GCJ-02. The
// forward GCJ-02 formula is the well-known public one (Krasovsky ellipsoid); its inverse has
// no closed form and is found by fixed-point iteration.

const A = 6378245.0; // semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02
const EE = 0.00669342162296594323; // its first eccentricity squared
const X_PI = (Math.PI * 3000.0) / 180.0;

/** inChina reports whether GCJ-02 applies: outside China's rough box the offset is zero. */
export function inChina(lon, lat) {
  return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

function transformLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function transformLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

/** wgs84ToGcj02 applies the GCJ-02 offset to a WGS 84 [lon, lat]. */
export function wgs84ToGcj02([lon, lat]) {
  if (!inChina(lon, lat)) return [lon, lat];
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  const dLat = (transformLat(lon - 105.0, lat - 35.0) * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  const dLon = (transformLon(lon - 105.0, lat - 35.0) * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lon + dLon, lat + dLat];
}

/**
 * gcj02ToWgs84 inverts wgs84ToGcj02. The offset changes slowly with position, so
 * repeatedly subtracting the error converges in a handful of steps; stopping at 1e-10°
 * (about 0.01 mm) makes the result exact for any practical purpose.
 */
export function gcj02ToWgs84([lon, lat]) {
  if (!inChina(lon, lat)) return [lon, lat];
  let x = lon;
  let y = lat;
  for (let i = 0; i < 30; i++) {
    const [gx, gy] = wgs84ToGcj02([x, y]);
    const dx = gx - lon;
    const dy = gy - lat;
    if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) break;
    x -= dx;
    y -= dy;
  }
  return [x, y];
}

/** bd09ToGcj02 removes Baidu's offset. */
export function bd09ToGcj02([lon, lat]) {
  const x = lon - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * X_PI);
  return [z * Math.cos(theta), z * Math.sin(theta)];
}

/** gcj02ToBd09 applies Baidu's offset to GCJ-02. */
export function gcj02ToBd09([lon, lat]) {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * X_PI);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

export const bd09ToWgs84 = (p) => gcj02ToWgs84(bd09ToGcj02(p));
export const wgs84ToBd09 = (p) => gcj02ToBd09(wgs84ToGcj02(p));

/** The coordinate systems a user can type coordinates in. */
export const INPUT_CRS = [
  { code: 'WGS84', label: 'WGS84 / CGCS2000（GPS、天地图）' },
  { code: 'GCJ02', label: 'GCJ-02（高德、腾讯）' },
  { code: 'BD09', label: 'BD-09（百度）' },
];

/** toWgs84 converts a [lon, lat] typed in crs (WGS84, GCJ02 or BD09) to WGS 84. */
export function toWgs84(p, crs) {
  switch (crs) {
    case 'GCJ02':
      return gcj02ToWgs84(p);
    case 'BD09':
      return bd09ToWgs84(p);
    default:
      return [p[0], p[1]];
  }
}

/** fromWgs84 converts a WGS 84 [lon, lat] to crs, to show stored coordinates the way a user typed them. */
export function fromWgs84(p, crs) {
  switch (crs) {
    case 'GCJ02':
      return wgs84ToGcj02(p);
    case 'BD09':
      return wgs84ToBd09(p);
    default:
      return [p[0], p[1]];
  }
}
