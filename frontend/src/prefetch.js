// Starts the first API requests while the page's modules load (api.js picks them up from
// window.__riskmapPrefetch). A classic script of its own, not an inline one: the pages run
// under a Content-Security-Policy with script-src 'self'.
(function () {
  var pub = location.pathname === '/public' || location.pathname.indexOf('/public/') === 0;
  var base = pub ? '/public' : '';
  var store = (window.__riskmapPrefetch = {});
  function get(u, after) {
    var go = function (ok) {
      if (!ok) return null;
      return fetch(u, { credentials: 'same-origin', headers: { Accept: 'application/json, application/geo+json', 'Accept-Language': 'zh-CN' } }).catch(function () { return null; });
    };
    store[u] = after ? after.then(function (r) { return go(r && r.ok); }) : go(true);
  }
  get(base + '/api/v1/ui-config');
  get(base + '/api/v1/grading');
  var regionsAfter = null;
  if (pub) {
    get('/public/api/v1/publication');
    get('/public/tiles/units.json');
    get('/public/tiles/regions.json');
  } else {
    // The internal regions need a session: ask for them only once it is known there is one.
    get('/api/v1/session');
    regionsAfter = store['/api/v1/session'];
  }
  ['district', 'street', 'community'].forEach(function (l) {
    get(base + '/api/v1/regions?level=' + l, regionsAfter);
  });
})();
