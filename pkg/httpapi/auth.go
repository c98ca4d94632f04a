package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/password"
	"riskmap/pkg/riskmap"
)

// AuthConfig tunes sessions, tokens and login throttling. Zero values take the defaults.
type AuthConfig struct {
	// SessionIdle ends a session this long after its last request (default 30 minutes).
	SessionIdle time.Duration
	// SessionMax ends a session this long after login, however busy (default 12 hours).
	SessionMax time.Duration
	// TrustedProxies are the networks of reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Empty: the client address is the socket's.
	TrustedProxies []*net.IPNet
	// LoginWindow, LoginFailuresPerAccount and LoginFailuresPerAddr bound failed logins:
	// past the limit within the window, logins for that account or from that address get
	// 429 until the window has passed (defaults 15 minutes, 5 and 20).
	LoginWindow             time.Duration
	LoginFailuresPerAccount int
	LoginFailuresPerAddr    int
}

func (a *AuthConfig) defaults() {
	if a.SessionIdle <= 0 {
		a.SessionIdle = 30 * time.Minute
	}
	if a.SessionMax <= 0 {
		a.SessionMax = 12 * time.Hour
	}
	if a.LoginWindow <= 0 {
		a.LoginWindow = 15 * time.Minute
	}
	if a.LoginFailuresPerAccount <= 0 {
		a.LoginFailuresPerAccount = 5
	}
	if a.LoginFailuresPerAddr <= 0 {
		a.LoginFailuresPerAddr = 20
	}
}

// Cookie names: __Host- (Secure, Path=/, no Domain) when served over TLS; browsers refuse
// that prefix over plain HTTP, where the plain name is used.
const (
	cookieSecure = "__Host-riskmap_session"
	cookiePlain  = "riskmap_session"
	csrfHeader   = "X-CSRF-Token"
	tokenPrefix  = "rmk_"
)

// principal is who is asking: a user through a session cookie or an API token, or nobody.
type principal struct {
	user    *riskmap.User
	session *riskmap.Session
	token   *riskmap.APIToken
	// ended is set when a cookie or token was presented but is no longer valid.
	ended string
}

const (
	ctxPrincipal = "riskmap.principal"
	ctxAudit     = "riskmap.audit"
)

func principalOf(c echo.Context) *principal {
	if p, ok := c.Get(ctxPrincipal).(*principal); ok {
		return p
	}
	return &principal{}
}

// userOf returns the logged-in user, or nil for the public.
func userOf(c echo.Context) *riskmap.User { return principalOf(c).user }

// scoped returns the department user whose scope limits the request, or nil when the
// requester sees the whole register.
func scoped(c echo.Context) *riskmap.User {
	if u := userOf(c); u != nil && u.Role == riskmap.RoleDepartment {
		return u
	}
	return nil
}

// rule is what a route demands of its caller.
type rule int

const (
	anyone     rule = iota + 1 // the public included
	loggedIn                   // any active user
	editor                     // admin, expert, department (objects further limited by scope)
	reviewer                   // admin, expert
	adminOnly                  // admin
	monitoring                 // admin, or a scrape token (scope "metrics")
)

func (r rule) allows(u *riskmap.User) bool {
	switch r {
	case anyone:
		return true
	case loggedIn, editor:
		return u != nil
	case reviewer:
		return u != nil && (u.Role == riskmap.RoleAdmin || u.Role == riskmap.RoleExpert)
	case adminOnly, monitoring:
		return riskmap.CanAdminister(u)
	}
	return false
}

// allowsScope reports whether a token of the scope may use a route of rule r: a scrape
// token reads the metrics and the health of the server, nothing else.
func (r rule) allowsScope(scope, path string) bool {
	if scope != riskmap.TokenScopeMetrics {
		return true
	}
	return r == monitoring || path == "/readyz"
}

// route registers a handler with the rule every request to it must meet. Every route goes
// through here: New refuses to build a server with a route that has no rule.
func (s *Server) route(method, path string, r rule, h echo.HandlerFunc) {
	s.rules[method+" "+path] = r
	s.echo.Add(method, path, h)
	if method == http.MethodGet {
		s.rules[http.MethodHead+" "+path] = r
		s.echo.Add(http.MethodHead, path, h)
	}
}

// String names a rule as the docs and tests do.
func (r rule) String() string {
	switch r {
	case anyone:
		return "anyone"
	case loggedIn:
		return "loggedIn"
	case editor:
		return "editor"
	case reviewer:
		return "reviewer"
	case adminOnly:
		return "adminOnly"
	case monitoring:
		return "monitoring"
	}
	return "none"
}

// AccessRules lists every route ("METHOD /path") with the name of its rule: anyone,
// loggedIn, editor, reviewer or adminOnly.
func (s *Server) AccessRules() map[string]string {
	out := make(map[string]string, len(s.rules))
	for k, r := range s.rules {
		out[k] = r.String()
	}
	return out
}

func (s *Server) checkRules() {
	for _, rt := range s.echo.Routes() {
		if _, ok := s.rules[rt.Method+" "+rt.Path]; !ok && rt.Method != echo.RouteNotFound {
			panic("httpapi: route " + rt.Method + " " + rt.Path + " has no access rule")
		}
	}
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// isTLS reports whether the client reached us over TLS, directly or through a trusted proxy.
func (s *Server) isTLS(c echo.Context) bool {
	r := c.Request()
	if r.TLS != nil {
		return true
	}
	if len(s.cfg.Auth.TrustedProxies) > 0 && s.fromTrustedProxy(r) {
		return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	}
	return false
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range s.cfg.Auth.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// authenticate finds who is asking and enforces the route's rule and, for writes made
// with a session cookie, the CSRF token. It is the one place where access to a route is
// decided; handlers only narrow what an allowed caller sees to its scope.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, known := s.rules[c.Request().Method+" "+c.Path()]
		if !known {
			return next(c) // Echo's own 404 and 405
		}
		p, err := s.identify(c)
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		if p.token != nil && !r.allowsScope(p.token.Scope, c.Path()) {
			return riskmap.Errorf(riskmap.EFORBIDDEN, "此 API 令牌仅用于监控，只能读取 /metrics 与 /readyz")
		}
		if !r.allows(p.user) && !(r == monitoring && p.token != nil && p.token.Scope == riskmap.TokenScopeMetrics) {
			if p.user == nil {
				msg := "log in first (POST /api/v1/session), or send Authorization: Bearer with an API token"
				if p.ended != "" {
					msg = p.ended + "; log in again"
				}
				return riskmap.Errorf(riskmap.EUNAUTHORIZED, "%s", msg)
			}
			return riskmap.Errorf(riskmap.EFORBIDDEN, "your role (%s) may not %s %s", p.user.Role, c.Request().Method, c.Path())
		}
		// Logging in again (which rotates the session) needs no token: it proves itself with
		// the password, and login checks where it comes from itself.
		if p.session != nil && isUnsafe(c.Request().Method) && !(c.Request().Method == http.MethodPost && c.Path() == "/api/v1/session") {
			if err := s.checkCSRF(c, p.session); err != nil {
				return err
			}
		}
		return next(c)
	}
}

func (s *Server) checkCSRF(c echo.Context, sess *riskmap.Session) error {
	got := c.Request().Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return riskmap.Errorf(riskmap.EFORBIDDEN, "a write with a session cookie must send the session's %s header (from POST or GET /api/v1/session)", csrfHeader)
	}
	return s.checkOrigin(c)
}

// checkOrigin refuses a request a browser sent from another origin.
func (s *Server) checkOrigin(c echo.Context) error {
	if o := c.Request().Header.Get("Origin"); o != "" {
		scheme := "http"
		if s.isTLS(c) {
			scheme = "https"
		}
		if o != scheme+"://"+c.Request().Host {
			return riskmap.Errorf(riskmap.EFORBIDDEN, "cross-origin request from %s refused", clip(o))
		}
	}
	return nil
}

// authCacheTTL is how long a looked-up credential is trusted without asking the store
// again: it spares the map's tile requests two queries each. Logout, disabling a user,
// resetting a password and revoking a token clear this process's cache at once; another
// replica notices within the TTL.
const authCacheTTL = 2 * time.Second

type authCache struct {
	mu sync.Mutex
	m  map[string]authEntry
}

type authEntry struct {
	p  *principal
	at time.Time
}

func (a *authCache) get(key string, now time.Time) *principal {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.m[key]
	if !ok || now.Sub(e.at) >= authCacheTTL || now.Before(e.at) {
		return nil
	}
	return e.p
}

func (a *authCache) put(key string, p *principal, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil || len(a.m) > 10000 {
		a.m = map[string]authEntry{}
	}
	a.m[key] = authEntry{p: p, at: now}
}

// clear forgets every cached credential: something that ends sessions happened.
func (a *authCache) clear() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m = nil
}

// identify reads the bearer token or session cookie. A credential that is no longer valid
// leaves the request anonymous (the public pages still work) and says why.
func (s *Server) identify(c echo.Context) (*principal, error) {
	key := c.Request().Header.Get("Authorization")
	if strings.HasPrefix(key, "Basic ") && isUnsafe(c.Request().Method) {
		return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "HTTP Basic 仅用于只读访问（如 QGIS 读取 /ogc）；写操作请使用 Authorization: Bearer <API 令牌>")
	}
	if key == "" {
		key = "cookie " + s.sessionCookie(c)
	}
	if key == "cookie " {
		return &principal{}, nil
	}
	now := s.now()
	if p := s.auth.get(key, now); p != nil {
		// The idle and absolute limits hold however recently the session was looked up.
		if p.session == nil || (now.Before(p.session.ExpiresAt) && now.Sub(p.session.LastSeenAt) < s.cfg.Auth.SessionIdle) {
			return p, nil
		}
	}
	p, err := s.lookup(c, now)
	if err == nil && p.user != nil {
		s.auth.put(key, p, now)
	}
	return p, err
}

func (s *Server) lookup(c echo.Context, now time.Time) (*principal, error) {
	ctx := c.Request().Context()
	if h := c.Request().Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			tok, ok = basicToken(h)
		}
		if !ok || tok == "" {
			return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\"")
		}
		t, err := s.cfg.Store.APITokenByHash(ctx, tokenHash(strings.TrimSpace(tok)))
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND || (err == nil && t.RevokedAt != nil) {
			return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "the API token is unknown or revoked")
		}
		if err != nil {
			return nil, err
		}
		u, err := s.cfg.Store.UserByID(ctx, t.UserID)
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND || (err == nil && u.Disabled) {
			return nil, riskmap.Errorf(riskmap.EUNAUTHORIZED, "the API token's user is disabled")
		}
		if err != nil {
			// The store did not answer: that says nothing about the token (503, not 401).
			return nil, err
		}
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
			if err := s.cfg.Store.TouchAPIToken(ctx, t.ID, now); err != nil {
				s.cfg.Logger.Warn("touching an API token", "err", err)
			}
		}
		return &principal{user: u, token: t}, nil
	}
	ck := s.sessionCookie(c)
	if ck == "" {
		return &principal{}, nil
	}
	hash := tokenHash(ck)
	sess, err := s.cfg.Store.SessionByHash(ctx, hash)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return &principal{ended: "your session has ended"}, nil
	}
	if err != nil {
		return nil, err
	}
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.Auth.SessionIdle {
		if err := s.cfg.Store.DeleteSession(ctx, hash); err != nil {
			s.cfg.Logger.Warn("deleting an expired session", "err", err)
		}
		return &principal{ended: "your session has expired"}, nil
	}
	u, err := s.cfg.Store.UserByID(ctx, sess.UserID)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND || (err == nil && u.Disabled) {
		return &principal{ended: "your account is disabled"}, nil
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.cfg.Store.TouchSession(ctx, hash, now); err != nil {
			s.cfg.Logger.Warn("touching a session", "err", err)
		} else {
			sess.LastSeenAt = now
		}
	}
	return &principal{user: u, session: sess}, nil
}

// sessionCookie returns the session token the request carries. Over TLS only the __Host-
// cookie counts: a plain-named cookie could have been planted by a sibling domain or over
// plain HTTP.
func (s *Server) sessionCookie(c echo.Context) string {
	names := []string{cookieSecure, cookiePlain}
	if s.isTLS(c) {
		names = names[:1]
	}
	for _, name := range names {
		if ck, err := c.Cookie(name); err == nil && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

func (s *Server) setSessionCookie(c echo.Context, value string, expires time.Time) {
	ck := &http.Cookie{Name: cookiePlain, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode}
	if s.isTLS(c) {
		ck.Name, ck.Secure = cookieSecure, true
	}
	if value == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
	}
	c.SetCookie(ck)
}

// sessionUser is the JSON of the logged-in user.
type sessionUser struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Department string   `json:"department"`
	Categories []string `json:"categories"`
	Regions    []string `json:"regions"`
}

type sessionBody struct {
	User      sessionUser `json:"user"`
	CSRFToken string      `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time  `json:"expires_at,omitempty"`
	Via       string      `json:"via"`
}

func userJSON(u *riskmap.User) sessionUser {
	return sessionUser{Name: u.Name, Role: u.Role, Department: u.Department,
		Categories: nonNilStrings(u.Categories), Regions: nonNilStrings(u.Regions)}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// dummyHash is verified against when the user does not exist, so that a login for an
// unknown name takes as long as a wrong password.
var dummyHash, _ = password.Hash("riskmap-dummy-password-for-timing")

// login checks a name and password and starts a new session. Any session the browser
// still presented is ended first: a login always rotates the token.
func (s *Server) login(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	// A form on another site could post a login (login CSRF: the victim would work in the
	// attacker's account). Browsers send Origin with such posts, and a form cannot send JSON.
	if err := s.checkOrigin(c); err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type")); mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			message: `log in with Content-Type: application/json and {"username": "…", "password": "…"}`}
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Username == "" || req.Password == "" {
		return riskmap.Errorf(riskmap.EINVALID, `send {"username": "…", "password": "…"}`)
	}
	if len(req.Username) > 200 || len(req.Password) > 1024 {
		return riskmap.Errorf(riskmap.EINVALID, "用户名或密码过长")
	}
	ctx := c.Request().Context()
	au := auditOf(c)
	au.action, au.actor, au.targetType, au.targetID = "session.login", clip(req.Username), "user", clip(req.Username)
	addr := c.RealIP()
	attempt := s.now()
	if wait := s.throttle.begin(req.Username, addr, s.provenDevice(c, req.Username, attempt), attempt); wait > 0 {
		secs := int(wait/time.Second) + 1
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		au.detail = "throttled"
		return &httpError{status: http.StatusTooManyRequests, code: "too_many_requests",
			message: "too many failed logins for this account or from this address; try again in " + strconv.Itoa(secs) + " s"}
	}
	u, err := s.cfg.Store.UserByName(ctx, req.Username)
	if err != nil && riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
		return err
	}
	ok := false
	// At most one hash per core runs at once; a flood past the queue gets 503 at once. The
	// attempt stays counted: a guess refused for want of time is still a guess.
	if err := s.hashes.run(ctx, func() {
		if u != nil {
			ok, _ = password.Verify(u.PasswordHash, req.Password)
		} else {
			_, _ = password.Verify(dummyHash, req.Password)
		}
	}); err != nil {
		au.detail = "server busy"
		retryAfter(c, time.Second)
		return err
	}
	if !ok || u.Disabled {
		if ok && u.Disabled {
			au.detail = "account disabled"
		} else {
			au.detail = "wrong name or password"
		}
		return riskmap.Errorf(riskmap.EUNAUTHORIZED, "wrong user name or password, or the account is disabled")
	}
	s.throttle.succeed(req.Username, addr, attempt)
	replaces := ""
	if old := s.sessionCookie(c); old != "" {
		replaces = tokenHash(old)
	}
	now := s.now()
	tok := randomToken()
	sess := &riskmap.Session{TokenHash: tokenHash(tok), UserID: u.ID, CSRF: randomToken(), CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(s.cfg.Auth.SessionMax), ClientAddr: addr, UserAgent: clip(c.Request().UserAgent())}
	au.role = u.Role
	// The old session's end, the new session and the session.login row commit together.
	if err := s.cfg.Store.CreateSessionRecorded(ctx, sess, replaces, func() (*riskmap.WriteRecords, error) {
		return s.auditRecords(c, au, http.StatusOK), nil
	}); err != nil {
		return err
	}
	written(c)
	if replaces != "" {
		s.auth.clear()
	}
	s.setSessionCookie(c, tok, sess.ExpiresAt)
	s.rememberDevice(c, u.Name, now)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, sessionBody{User: userJSON(u), CSRFToken: sess.CSRF, ExpiresAt: &sess.ExpiresAt, Via: "session"})
}

// whoami tells the page who is logged in. It is not a refusal when nobody is: 401 here is
// an answer, not a denied request, so it is not audited.
func (s *Server) whoami(c echo.Context) error {
	p := principalOf(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	if p.user == nil {
		auditOf(c).skip = true
		msg := "not logged in"
		if p.ended != "" {
			msg = p.ended
		}
		return riskmap.Errorf(riskmap.EUNAUTHORIZED, "%s", msg)
	}
	b := sessionBody{User: userJSON(p.user), Via: "token"}
	if p.session != nil {
		b.Via, b.CSRFToken, b.ExpiresAt = "session", p.session.CSRF, &p.session.ExpiresAt
	}
	return c.JSON(http.StatusOK, b)
}

func (s *Server) logout(c echo.Context) error {
	au := auditOf(c)
	au.action = "session.logout"
	if p := principalOf(c); p.session != nil {
		// The session's end and its session.logout row commit together.
		if err := s.cfg.Store.DeleteSessionRecorded(c.Request().Context(), p.session.TokenHash, func() (*riskmap.WriteRecords, error) {
			return s.auditRecords(c, au, http.StatusNoContent), nil
		}); err != nil {
			return err
		}
		written(c)
		s.auth.clear()
	}
	s.setSessionCookie(c, "", time.Time{})
	return c.NoContent(http.StatusNoContent)
}

// basicToken reads an API token sent as the password of HTTP Basic authentication, for
// clients that can send nothing else: QGIS 3.22's authentication methods have no bearer
// header, but its Basic method works with any user name and the token as the password.
// Only reads take it (identify refuses Basic on writes), and no password is ever accepted
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
	if !ok || !strings.HasPrefix(pw, tokenPrefix) {
		return "", false
	}
	return pw, true
}
