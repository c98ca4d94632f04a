package webauth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// Cookie names: __Host- (Secure, Path=/, no Domain) when served over TLS; browsers refuse
// that prefix over plain HTTP, where the plain name is used.
const (
	cookieSecure = "__Host-riskmap_session"
	cookiePlain  = "riskmap_session"
	// csrfHeader carries the session's CSRF token on a write made with the cookie.
	csrfHeader = "X-CSRF-Token"
)

// IsTLS reports whether the client reached us over TLS, directly or through a trusted proxy.
func (a *Auth) IsTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if len(a.cfg.TrustedProxies) > 0 && a.FromTrustedProxy(r) {
		return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	}
	return false
}

// FromTrustedProxy reports whether the request's socket is one of the trusted proxies.
func (a *Auth) FromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range a.cfg.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// IsUnsafe reports whether a method may change something (and so needs CSRF protection).
func IsUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// CheckCSRF checks a write made with the session's cookie: it must send the session's
// CSRF token and not come from another origin.
func (a *Auth) CheckCSRF(c echo.Context, sess *riskmap.Session) error {
	got := c.Request().Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return riskmap.Errorf(riskmap.EFORBIDDEN, "使用会话 Cookie 的写请求须带会话的 %s 请求头（见 POST 或 GET /api/v1/session）", csrfHeader)
	}
	return a.CheckOrigin(c)
}

// CheckOrigin refuses a request a browser sent from another origin.
func (a *Auth) CheckOrigin(c echo.Context) error {
	if o := c.Request().Header.Get("Origin"); o != "" {
		scheme := "http"
		if a.IsTLS(c.Request()) {
			scheme = "https"
		}
		if o != scheme+"://"+c.Request().Host {
			return riskmap.Errorf(riskmap.EFORBIDDEN, "拒绝来自 %s 的跨站请求", clip(o))
		}
	}
	return nil
}

// cacheTTL is how long a looked-up credential is trusted without asking the store
// again: it spares the map's tile requests two queries each. Logout, disabling a user,
// resetting a password and revoking a token clear this process's cache at once, and every
// other replica's as soon as the store's notice of the change reaches it (PostgreSQL
// NOTIFY, which calls Forget there); the TTL bounds it only when a notice is lost.
//
// Past the TTL a cached credential is still what the store said last: while the store
// does not answer (PostgreSQL down), a session or token verified before stays valid in
// memory up to its idle and absolute limits, so that reads, tiles and lists go on from the
// index for logged-in users too (issue 18); writes fail with 503 anyway.
const cacheTTL = 2 * time.Second

type cache struct {
	mu sync.Mutex
	m  map[string]cacheEntry
	// forgotten is closed when the cache is next forgotten (nil: nobody asked yet).
	forgotten chan struct{}
}

type cacheEntry struct {
	p  *Principal
	at time.Time
}

func (a *cache) get(key string, now time.Time) *Principal {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.m[key]
	if !ok || now.Sub(e.at) >= cacheTTL || now.Before(e.at) {
		return nil
	}
	return e.p
}

// last is the credential cached under key however old, or nil.
func (a *cache) last(key string) *Principal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[key].p
}

// epoch is the channel the cache's next Forget closes: a lookup that began before a Forget
// must not be cached after it (it may have read what the Forget was about), nor may a long
// request trust its caller past it.
func (a *cache) epoch() chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.forgotten == nil {
		a.forgotten = make(chan struct{})
	}
	return a.forgotten
}

// put caches p under key, unless the cache was forgotten since epoch (nil: put anyway).
func (a *cache) put(key string, p *Principal, now time.Time, since chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if since != nil && since != a.forgotten {
		return
	}
	if a.m == nil || len(a.m) > 10000 {
		a.m = map[string]cacheEntry{}
	}
	a.m[key] = cacheEntry{p: p, at: now}
}

// Forget forgets every cached credential: something that ends sessions or changes a
// user's rights happened (a user disabled or changed, a password reset, a token revoked).
// It is how a change made on this replica, and one another replica announced (NOTIFY), cuts
// off the credentials it concerns: the cached ones at once, and open event streams, which
// wait on Forgotten, as soon as they have looked their caller up again.
func (a *Auth) Forget() {
	a.cache.mu.Lock()
	defer a.cache.mu.Unlock()
	a.cache.m = nil
	if a.cache.forgotten != nil {
		close(a.cache.forgotten)
		a.cache.forgotten = nil
	}
}

// Forgotten is closed at the next Forget: a request that lasts (the event stream) takes it
// before it looks its caller up (Reidentify), and looks it up again when it closes.
func (a *Auth) Forgotten() <-chan struct{} { return a.cache.epoch() }

// Identify reads the bearer token or session cookie. A credential that is no longer valid
// leaves the request anonymous (the public pages still work) and says why.
func (a *Auth) Identify(c echo.Context) (*Principal, error) {
	return a.identify(c.Request().Context(), c, true)
}

// Reidentify is Identify for a request that lasts (the event stream), asking again who its
// credential names now: the same cache and lookup, but it is not activity. A session's
// idle limit counts from its last request, so an open stream does not keep a session alive,
// nor does it mark a token used; and what it looks up is not cached, so that the next
// request of the credential looks it up itself and counts.
func (a *Auth) Reidentify(ctx context.Context, c echo.Context) (*Principal, error) {
	return a.identify(ctx, c, false)
}

// InLimits reports whether p's session (if it is one) is within its idle and absolute
// limits now.
func (a *Auth) InLimits(p *Principal) bool { return a.inLimits(p, a.now()) }

func (a *Auth) identify(ctx context.Context, c echo.Context, touch bool) (*Principal, error) {
	key := c.Request().Header.Get("Authorization")
	if strings.HasPrefix(key, "Basic ") && IsUnsafe(c.Request().Method) {
		return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "HTTP Basic 仅用于只读访问（如 QGIS 读取 /ogc）；写操作请使用 Authorization: Bearer <API 令牌>")
	}
	if key == "" {
		key = "cookie " + a.sessionCookie(c)
	}
	if key == "cookie " {
		return &Principal{}, nil
	}
	now := a.now()
	if p := a.cache.get(key, now); p != nil && a.inLimits(p, now) {
		return p, nil
	}
	since := a.cache.epoch()
	p, err := a.lookup(ctx, c, now, touch)
	if err == nil && p.User != nil && touch {
		a.cache.put(key, p, now, since)
	}
	if err != nil && riskmap.ErrorCode(err) != riskmap.EUNAUTHORIZED {
		// The store did not answer: what it said last about this credential holds.
		if last := a.cache.last(key); last != nil && a.inLimits(last, now) {
			return last, nil
		}
	}
	return p, err
}

// inLimits reports whether a cached principal's session is within its idle and absolute
// limits (a token has none): they hold however recently it was looked up.
func (a *Auth) inLimits(p *Principal, now time.Time) bool {
	return p.Session == nil || (now.Before(p.Session.ExpiresAt) && now.Sub(p.Session.LastSeenAt) < a.cfg.SessionIdle)
}

// lookup asks the store who the request's credential names; touch records the use (a
// session's last request, a token's last use).
func (a *Auth) lookup(ctx context.Context, c echo.Context, now time.Time, touch bool) (*Principal, error) {
	if h := c.Request().Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			tok, ok = basicToken(h)
		}
		if !ok || tok == "" {
			return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "Authorization 应为 \"Bearer <API 令牌>\"")
		}
		t, err := a.store.APITokenByHash(ctx, riskmap.HashToken(strings.TrimSpace(tok)))
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND || (err == nil && t.RevokedAt != nil) {
			return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "API 令牌不存在或已吊销")
		}
		if err != nil {
			return nil, err
		}
		u, err := a.store.UserByID(ctx, t.UserID)
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND || (err == nil && u.Disabled) {
			return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "API 令牌所属用户已停用")
		}
		if err != nil {
			// The store did not answer: that says nothing about the token (503, not 401).
			return nil, err
		}
		if touch && (t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute) {
			if err := a.store.TouchAPIToken(ctx, t.ID, now); err != nil {
				a.logger.Warn("touching an API token", "err", err)
			}
		}
		return &Principal{User: u, Token: t}, nil
	}
	ck := a.sessionCookie(c)
	if ck == "" {
		return &Principal{}, nil
	}
	hash := riskmap.HashToken(ck)
	sess, err := a.store.SessionByHash(ctx, hash)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return &Principal{Ended: EndedSession}, nil
	}
	if err != nil {
		return nil, err
	}
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= a.cfg.SessionIdle {
		if err := a.store.DeleteSession(ctx, hash); err != nil {
			a.logger.Warn("deleting an expired session", "err", err)
		}
		return &Principal{Ended: EndedExpired}, nil
	}
	u, err := a.store.UserByID(ctx, sess.UserID)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND || (err == nil && u.Disabled) {
		return &Principal{Ended: EndedDisabled}, nil
	}
	if err != nil {
		return nil, err
	}
	if touch && now.Sub(sess.LastSeenAt) > time.Minute {
		if err := a.store.TouchSession(ctx, hash, now); err != nil {
			a.logger.Warn("touching a session", "err", err)
		} else {
			sess.LastSeenAt = now
		}
	}
	return &Principal{User: u, Session: sess}, nil
}

// basicToken reads an API token sent as the password of HTTP Basic authentication, for
// clients that can send nothing else: QGIS 3.22's authentication methods have no bearer
// header, but its Basic method works with any user name and the token as the password.
// Only reads take it (Identify refuses Basic on writes), and no password is ever accepted
// this way: the server never asks for Basic (no WWW-Authenticate), so a browser never
// offers it on its own.
func basicToken(h string) (string, bool) {
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", false
	}
	_, pw, ok := strings.Cut(string(b), ":")
	if !ok || !strings.HasPrefix(pw, riskmap.APITokenPrefix) {
		return "", false
	}
	return pw, true
}

// cookieValue returns the value of the first of the cookies secure (over TLS, the only one
// that counts: a plain-named cookie could have been planted by a sibling domain or over
// plain HTTP) or plain the request carries.
func (a *Auth) cookieValue(c echo.Context, secure, plain string) string {
	names := []string{secure, plain}
	if a.IsTLS(c.Request()) {
		names = names[:1]
	}
	for _, name := range names {
		if ck, err := c.Cookie(name); err == nil && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

// setCookie sets an HttpOnly, SameSite=Strict cookie at /, named secure (and Secure) over
// TLS and plain otherwise.
func (a *Auth) setCookie(c echo.Context, ck *http.Cookie, secure, plain string) {
	ck.Name, ck.Path, ck.HttpOnly, ck.SameSite = plain, "/", true, http.SameSiteStrictMode
	if a.IsTLS(c.Request()) {
		ck.Name, ck.Secure = secure, true
	}
	c.SetCookie(ck)
}

// sessionCookie returns the session token the request carries.
func (a *Auth) sessionCookie(c echo.Context) string {
	return a.cookieValue(c, cookieSecure, cookiePlain)
}

func (a *Auth) setSessionCookie(c echo.Context, value string, expires time.Time) {
	ck := &http.Cookie{Value: value}
	if value == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
	}
	a.setCookie(c, ck, cookieSecure, cookiePlain)
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return s
}
