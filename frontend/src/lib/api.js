// The HTTP API of riskmap (/api/v1 for the internal application, /public/api/v1 for the
// public map). Errors come back as ApiError carrying the server's code, message and field
// problems, so forms can show each problem next to its field.
//
// The session: the server keeps it in an HttpOnly cookie; the CSRF token it hands out with
// the session lives here, in memory only (never in localStorage), and goes with every write
// as X-CSRF-Token.

/** LANG is the language of the server's messages the page asks for: the page is Chinese. */
const LANG = 'zh-CN';

export class ApiError extends Error {
  constructor(status, body, headers) {
    const e = (body && body.error) || {};
    super(e.message || `请求失败（HTTP ${status}）`);
    this.status = status;
    this.code = e.code || '';
    this.fields = e.fields || [];
    const ra = headers && headers.get('Retry-After');
    this.retryAfter = ra && /^\d+$/.test(ra.trim()) ? Number(ra) : null;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class Api {
  /** base is '' for the internal application and '/public' for the public map. */
  constructor(base = '') {
    this.base = base;
    this.api = `${base}/api/v1`;
    this.csrf = null;
    // onUnauthorized(error) is called when a request made while logged in comes back 401
    // (the session ended or expired); the application shows the login form again.
    this.onUnauthorized = null;
  }

  /** setCsrf keeps the session's CSRF token (null after logout). */
  setCsrf(token) {
    this.csrf = token || null;
  }

  async request(method, path, { body, headers = {}, signal, raw = false } = {}) {
    // The page is Chinese whatever the browser prefers: so are the server's messages.
    const init = { method, headers: { Accept: 'application/json, application/geo+json', 'Accept-Language': LANG, ...headers }, signal, credentials: 'same-origin' };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = /^\/(units|protective-targets|shelters)\b/.test(path) ? 'application/geo+json' : 'application/json';
    }
    if (UNSAFE.has(method) && this.csrf) init.headers['X-CSRF-Token'] = this.csrf;
    let res = method === 'GET' ? await prefetched(this.api + path) : null;
    // A prefetched request that failed, or was refused before the login, is asked again.
    if (!res || (res.status === 401 && path !== '/session')) res = await fetch(this.api + path, init);
    if (raw) return res;
    let data = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const err = new ApiError(res.status, data, res.headers);
      if (res.status === 401 && this.csrf && this.onUnauthorized && path !== '/session') this.onUnauthorized(err);
      throw err;
    }
    return { data, etag: res.headers.get('ETag'), status: res.status };
  }

  async get(path, opts) {
    return (await this.request('GET', path, opts)).data;
  }
  async post(path, body, opts = {}) {
    return (await this.request('POST', path, { ...opts, body })).data;
  }

  /** units lists units; params are the filters of GET /units (bbox, category, grade, region, q, limit, cursor). */
  units(params, signal) {
    return this.get('/units?' + query(params), { signal });
  }

  /** next follows a next link the server returned (absolute URL of the same origin). */
  async next(url, signal) {
    const u = new URL(url, location.href);
    const res = await fetch(u.pathname + u.search, { signal, credentials: 'same-origin', headers: { 'Accept-Language': LANG } });
    const data = await res.json();
    if (!res.ok) throw new ApiError(res.status, data, res.headers);
    return data;
  }

  unit(id) {
    return this.request('GET', `/units/${encodeURIComponent(id)}`);
  }
  createUnit(feature) {
    return this.request('POST', '/units', { body: feature });
  }
  updateUnit(id, feature, etag) {
    return this.request('PUT', `/units/${encodeURIComponent(id)}`, { body: feature, headers: { 'If-Match': etag } });
  }

  // ---- review: draft → submitted → approved ----

  review(id) {
    return this.get(`/units/${encodeURIComponent(id)}/review`);
  }
  /** reviewAction is submit, approve or reject; etag is the unit's (If-Match). */
  reviewAction(id, action, etag, body) {
    return this.request('POST', `/units/${encodeURIComponent(id)}/${action}`, { body, headers: etag ? { 'If-Match': etag } : {} });
  }

  categories() {
    return this.get('/categories');
  }
  grading() {
    return this.get('/grading');
  }
  evaluate(assessment, directMajorReason, signal) {
    return this.request('POST', '/grading/evaluate', {
      body: { assessment, direct_major_reason: directMajorReason || null },
      signal,
    }).then((r) => r.data);
  }
  regions(level) {
    return this.get('/regions' + (level ? '?level=' + encodeURIComponent(level) : ''));
  }
  region(code) {
    return this.get('/regions/' + encodeURIComponent(code));
  }
  stats(params) {
    return this.get('/stats?' + query(params));
  }

  // ---- hidden dangers (隐患), supervision (督办) and reports (举报) ----

  /** hazards lists hidden dangers (GeoJSON; filters unit, status, level, overdue, due_within, supervised, region, department, category, bbox, q, limit). */
  hazards(params, signal) {
    return this.get('/hazards?' + query(params), { signal });
  }
  hazard(id) {
    return this.request('GET', `/hazards/${encodeURIComponent(id)}`);
  }
  createHazard(body) {
    return this.post('/hazards', body);
  }
  updateHazard(id, patch, etag) {
    return this.request('PATCH', `/hazards/${encodeURIComponent(id)}`, { body: patch, headers: etag ? { 'If-Match': etag } : {} }).then((r) => r.data);
  }
  transition(id, to, note) {
    return this.post(`/hazards/${encodeURIComponent(id)}/transitions`, { to, note: note || '' });
  }
  hazardHistory(id) {
    return this.get(`/hazards/${encodeURIComponent(id)}/history`);
  }
  hazardPhotos(id) {
    return this.get(`/hazards/${encodeURIComponent(id)}/photos`);
  }
  /** uploadPhoto sends one photo (a File or Blob) of stage before/after (multipart). */
  uploadPhoto(id, stage, file) {
    const fd = new FormData();
    fd.append('stage', stage);
    fd.append('photo', file, file.name || 'photo');
    return this.form(`/hazards/${encodeURIComponent(id)}/photos`, fd);
  }
  requestExtension(id, deadline, reason) {
    return this.post(`/hazards/${encodeURIComponent(id)}/extension`, { deadline, reason });
  }
  decideExtension(id, approve, note) {
    return this.post(`/hazards/${encodeURIComponent(id)}/extension/decision`, { approve, note: note || '' });
  }
  supervise(id, by, note) {
    return this.post(`/hazards/${encodeURIComponent(id)}/supervision`, { by, note: note || '' });
  }
  unitHazards(id, params = {}) {
    return this.get(`/units/${encodeURIComponent(id)}/hazards?` + query(params));
  }
  hazardStats(by, params = {}) {
    return this.get('/hazards/stats?' + query({ ...params, by }));
  }
  supervision() {
    return this.get('/supervision');
  }
  reports(params = {}) {
    return this.get('/reports?' + query(params));
  }
  report(id) {
    return this.get(`/reports/${encodeURIComponent(id)}`);
  }
  reportPhotos(id) {
    return this.get(`/reports/${encodeURIComponent(id)}/photos`);
  }
  convertReport(id, body) {
    return this.post(`/reports/${encodeURIComponent(id)}/convert`, body);
  }
  dismissReport(id, reason) {
    return this.post(`/reports/${encodeURIComponent(id)}/dismiss`, { reason });
  }
  /** submitReport sends a citizen's report (public page): multipart with the photo, JSON without. */
  submitReport(fields, photo) {
    if (!photo) return this.post('/reports', fields);
    const fd = new FormData();
    for (const [k, v] of Object.entries(fields)) if (v != null && v !== '') fd.append(k, String(v));
    fd.append('photo', photo, photo.name || 'photo');
    return this.form('/reports', fd);
  }
  trackReport(number) {
    return this.get(`/reports/${encodeURIComponent(number)}`);
  }

  /** form POSTs multipart form data (the browser writes its Content-Type) and returns the JSON answer. */
  async form(path, fd) {
    const headers = { Accept: 'application/json', 'Accept-Language': LANG };
    if (this.csrf) headers['X-CSRF-Token'] = this.csrf;
    const res = await fetch(this.api + path, { method: 'POST', body: fd, headers, credentials: 'same-origin' });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const err = new ApiError(res.status, data, res.headers);
      if (res.status === 401 && this.csrf && this.onUnauthorized) this.onUnauthorized(err);
      throw err;
    }
    return data;
  }

  // ---- the session ----

  /** session returns {user, csrf_token, expires_at} or throws ApiError 401. */
  async session() {
    const s = await this.get('/session');
    this.setCsrf(s.csrf_token);
    return s;
  }
  async login(username, password) {
    const s = await this.post('/session', { username, password });
    this.setCsrf(s.csrf_token);
    return s;
  }
  async logout() {
    try {
      await this.request('DELETE', '/session');
    } finally {
      this.setCsrf(null);
    }
  }

  // ---- administration (admin) ----

  users() {
    return this.get('/users');
  }
  createUser(u) {
    return this.post('/users', u);
  }
  updateUser(name, patch) {
    return this.request('PATCH', `/users/${encodeURIComponent(name)}`, { body: patch }).then((r) => r.data);
  }
  resetPassword(name, password) {
    return this.post(`/users/${encodeURIComponent(name)}/password`, password ? { password } : {});
  }
  tokens() {
    return this.get('/tokens');
  }
  createToken(name, user, scope) {
    return this.post('/tokens', scope ? { name, user, scope } : { name, user });
  }
  revokeToken(id) {
    return this.request('DELETE', `/tokens/${encodeURIComponent(id)}`);
  }
  audit(params) {
    return this.get('/audit?' + query(params));
  }
  publications() {
    return this.get('/publications');
  }
  publish(note) {
    return this.post('/publications', { note });
  }
  /** publicationPreview is what publishing now would change against the latest publication. */
  publicationPreview() {
    return this.get('/publications/preview');
  }
  publicationDiff(a, b) {
    return this.get(`/publications/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`);
  }

  // ---- protective targets (防护目标), shelters (应急避难场所) and the analyses ----

  /** sites lists protective targets (kind 'protective-targets') or shelters ('shelters'): bbox, kind, region, q, limit, offset. */
  sites(kind, params = {}, signal) {
    return this.get(`/${kind}?` + query(params), { signal });
  }
  site(kind, id) {
    return this.request('GET', `/${kind}/${encodeURIComponent(id)}`);
  }
  createSite(kind, feature) {
    return this.request('POST', `/${kind}`, { body: feature });
  }
  updateSite(kind, id, feature, etag) {
    return this.request('PUT', `/${kind}/${encodeURIComponent(id)}`, { body: feature, headers: { 'If-Match': etag } });
  }
  deleteSite(kind, id, etag) {
    return this.request('DELETE', `/${kind}/${encodeURIComponent(id)}`, { headers: { 'If-Match': etag } });
  }
  /** unitConflicts is {unit_id, hazardous, influence_radius_m, radius_source, conflicts}. */
  unitConflicts(id) {
    return this.get(`/units/${encodeURIComponent(id)}/conflicts`);
  }
  targetConflicts(id) {
    return this.get(`/protective-targets/${encodeURIComponent(id)}/conflicts`);
  }
  /** conflicts is the city-wide table {total, items, links} (region, department, grade, kind, bbox, limit, offset; f=geojson: lines). */
  conflicts(params = {}, signal) {
    return this.get('/conflicts?' + query(params), { signal });
  }
  shelterCoverage(level = 'street') {
    return this.get('/shelter-coverage?level=' + encodeURIComponent(level));
  }
  /** shelters is the public shelter list (a FeatureCollection; /public only). */
  shelters(params = {}) {
    return this.get('/shelters?' + query(params));
  }
  /** nearestShelter is {from, nearest, nearby} for a point (/public only). */
  nearestShelter(lon, lat) {
    return this.get('/shelters/nearest?' + query({ lon, lat }));
  }

  // ---- the public map ----

  /** publication is the latest publication {number, created_at, unit_count}, or null before the first. */
  async publication() {
    try {
      return await this.get('/publication');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  /** tileJSON reads a TileJSON document (e.g. /public/tiles/units.json). */
  async tileJSON(path) {
    const res = (await prefetched(path)) || (await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
    if (!res.ok) throw new ApiError(res.status, null, res.headers);
    return res.json();
  }

  /** uiConfig is the deployment's settings for the page; the defaults apply where the server has none. */
  async uiConfig() {
    const defaults = { tianditu_key: '', public: this.base === '/public', editable: this.base !== '/public', user: null };
    try {
      let res = await prefetched(this.api + '/ui-config');
      if (!res || !res.ok) res = await fetch(this.api + '/ui-config', { credentials: 'same-origin' });
      if (!res.ok) return defaults;
      return { ...defaults, ...(await res.json()) };
    } catch {
      return defaults;
    }
  }
}

/**
 * prefetched hands out, once, a response that prefetch.js (loaded by the page before the
 * bundle) already asked for; it returns a promise of the Response (null if that request
 * failed) or undefined.
 */
function prefetched(url) {
  const store = window.__riskmapPrefetch;
  if (!store || !(url in store)) return undefined;
  const p = store[url];
  delete store[url];
  return p;
}

/** query writes URL parameters, leaving out empty ones and joining lists with commas. */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v == null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  return q.toString();
}
