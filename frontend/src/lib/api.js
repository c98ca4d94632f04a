// The HTTP API of riskmap (/api/v1 for the internal application, /public/api/v1 for the
// public map). Errors come back as ApiError carrying the server's code, message and field
// problems, so forms can show each problem next to its field.

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.fields = e.fields || [];
  }
}

export class Api {
  /** base is '' for the internal application and '/public' for the public map. */
  constructor(base = '') {
    this.base = base;
    this.api = `${base}/api/v1`;
  }

  async request(method, path, { body, headers = {}, signal } = {}) {
    const init = { method, headers: { Accept: 'application/json, application/geo+json', ...headers }, signal, credentials: 'same-origin' };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = path.startsWith('/units') ? 'application/geo+json' : 'application/json';
    }
    let res = method === 'GET' ? await prefetched(this.api + path) : null;
    if (!res) res = await fetch(this.api + path, init);
    let data = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return { data, etag: res.headers.get('ETag'), status: res.status };
  }

  async get(path, opts) {
    return (await this.request('GET', path, opts)).data;
  }

  /** units lists units; params are the filters of GET /units (bbox, category, grade, region, q, limit, cursor). */
  units(params, signal) {
    return this.get('/units?' + query(params), { signal });
  }

  /** next follows a next link the server returned (absolute URL of the same origin). */
  async next(url, signal) {
    const u = new URL(url, location.href);
    const res = await fetch(u.pathname + u.search, { signal, credentials: 'same-origin' });
    const data = await res.json();
    if (!res.ok) throw new ApiError(res.status, data);
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

  /** uiConfig is the deployment's settings for the page; the defaults apply where the server has none. */
  async uiConfig() {
    const defaults = { tianditu_key: '', public: this.base === '/public', editable: this.base !== '/public', user: null };
    try {
      const res = (await prefetched(this.api + '/ui-config')) || (await fetch(this.api + '/ui-config', { credentials: 'same-origin' }));
      if (!res.ok) return defaults;
      return { ...defaults, ...(await res.json()) };
    } catch {
      return defaults;
    }
  }
}

/**
 * prefetched hands out, once, a response the page's inline script already asked for; it
 * returns a promise of the Response (null if that request failed) or undefined.
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
