package httpapi

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/webauth"
)

// AuthConfig tunes sessions, tokens and login throttling (see webauth.Config).
type AuthConfig = webauth.Config

const (
	ctxPrincipal = "riskmap.principal"
	ctxAudit     = "riskmap.audit"
)

// principalOf is who is asking, as authenticate found.
func principalOf(c echo.Context) *webauth.Principal {
	if p, ok := c.Get(ctxPrincipal).(*webauth.Principal); ok {
		return p
	}
	return &webauth.Principal{}
}

// userOf returns the logged-in user, or nil for the public.
func userOf(c echo.Context) *riskmap.User { return principalOf(c).User }

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
	anyone    rule = iota + 1 // the public included
	loggedIn                  // any active user
	editor                    // admin, expert, department (objects further limited by scope)
	reviewer                  // admin, expert
	adminOnly                 // admin
	scrape                    // admin, or a scrape token (scope "metrics"); named "monitoring"
	ingest                    // writes of readings: editors, and device tokens (scope "readings")
)

func (r rule) allows(u *riskmap.User) bool {
	switch r {
	case anyone:
		return true
	case loggedIn, editor, ingest:
		return u != nil
	case reviewer:
		return u != nil && (u.Role == riskmap.RoleAdmin || u.Role == riskmap.RoleExpert)
	case adminOnly, scrape:
		return riskmap.CanAdminister(u)
	}
	return false
}

// allowsScope reports whether a token of the scope may use a route of rule r: a scrape
// token reads the metrics and the health of the server, a device token writes readings,
// nothing else.
func (r rule) allowsScope(scope, path string) bool {
	switch scope {
	case riskmap.TokenScopeMetrics:
		return r == scrape || path == "/readyz"
	case riskmap.TokenScopeReadings:
		return r == ingest
	}
	return true
}

// scopeRefusal is the 403 of a token used outside its scope.
func scopeRefusal(scope string) error {
	if scope == riskmap.TokenScopeReadings {
		return riskmap.Errorf(riskmap.EFORBIDDEN, "此 API 令牌为设备令牌，只能写入监测读数（POST /api/v1/readings 及 SensorThings 的 Observations）")
	}
	return riskmap.Errorf(riskmap.EFORBIDDEN, "此 API 令牌仅用于监控，只能读取 /metrics 与 /readyz")
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
	case scrape:
		return "monitoring"
	case ingest:
		return "ingest"
	}
	return "none"
}

// AccessRules lists every route ("METHOD /path") with the name of its rule: anyone,
// loggedIn, editor, reviewer, adminOnly, monitoring or ingest.
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

// isTLS reports whether the client reached us over TLS, directly or through a trusted proxy.
func (s *Server) isTLS(c echo.Context) bool { return s.auth.IsTLS(c.Request()) }

func (s *Server) fromTrustedProxy(r *http.Request) bool { return s.auth.FromTrustedProxy(r) }

// authenticate finds who is asking and enforces the route's rule and, for writes made
// with a session cookie, the CSRF token. It is the one place where access to a route is
// decided; handlers only narrow what an allowed caller sees to its scope.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, known := s.rules[c.Request().Method+" "+c.Path()]
		if !known {
			return next(c) // Echo's own 404 and 405
		}
		p, err := s.auth.Identify(c)
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		if p.Token != nil && !r.allowsScope(p.Token.Scope, c.Path()) {
			return scopeRefusal(p.Token.Scope)
		}
		if !r.allows(p.User) && !(r == scrape && p.Token != nil && p.Token.Scope == riskmap.TokenScopeMetrics) {
			if p.User == nil {
				switch p.Ended {
				case "":
					return riskmap.Errorf(riskmap.EUNAUTHORIZED, "请先登录（POST /api/v1/session），或以 Authorization: Bearer 发送 API 令牌")
				case webauth.EndedExpired:
					return riskmap.Errorf(riskmap.EUNAUTHORIZED, "会话已过期；请重新登录")
				case webauth.EndedDisabled:
					return riskmap.Errorf(riskmap.EUNAUTHORIZED, "账号已停用；请重新登录")
				}
				return riskmap.Errorf(riskmap.EUNAUTHORIZED, "会话已结束；请重新登录")
			}
			return riskmap.Errorf(riskmap.EFORBIDDEN, "您的角色（%s）无权执行 %s %s", riskmap.RoleLabel(p.User.Role), c.Request().Method, c.Path())
		}
		// Logging in again (which rotates the session) needs no token: it proves itself with
		// the password, and login checks where it comes from itself.
		// A citizen's report (POST /public/api/v1/reports) is anonymous whoever sends it: it
		// uses nobody's session, so a session cookie sent along needs no token either.
		if p.Session != nil && webauth.IsUnsafe(c.Request().Method) && !(c.Request().Method == http.MethodPost && (c.Path() == "/api/v1/session" || c.Path() == "/public/api/v1/reports")) {
			if err := s.auth.CheckCSRF(c, p.Session); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// userFields is the JSON of a user: of the logged-in one, inside an admin's userView, and
// of a new user sent to POST /api/v1/users, the only place where Password is set (an
// answer never carries it).
type userFields struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Department string   `json:"department"`
	Categories []string `json:"categories"`
	Regions    []string `json:"regions"`
	Password   *string  `json:"password,omitempty"`
}

type sessionBody struct {
	User      userFields `json:"user"`
	CSRFToken string     `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Via       string     `json:"via"`
}

func userJSON(u *riskmap.User) userFields {
	return userFields{Name: u.Name, Role: u.Role, Department: u.Department,
		Categories: nonNilStrings(u.Categories), Regions: nonNilStrings(u.Regions)}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// login checks a name and password and starts a new session. Any session the browser
// still presented is ended first: a login always rotates the token.
func (s *Server) login(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	// A form on another site could post a login (login CSRF: the victim would work in the
	// attacker's account). Browsers send Origin with such posts, and a form cannot send JSON.
	if err := s.auth.CheckOrigin(c); err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type")); mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			message: `登录请使用 Content-Type: application/json，发送 {"username": "…", "password": "…"}`}
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Username == "" || req.Password == "" {
		return riskmap.Errorf(riskmap.EINVALID, `请发送 {"username": "…", "password": "…"}`)
	}
	if len(req.Username) > 200 || len(req.Password) > 1024 {
		return riskmap.Errorf(riskmap.EINVALID, "用户名或密码过长")
	}
	au := auditOf(c)
	au.action, au.actor, au.targetType, au.targetID = "session.login", clip(req.Username), "user", clip(req.Username)
	u, err := s.auth.CheckLogin(c, req.Username, req.Password)
	if refused := (*webauth.LoginRefused)(nil); errors.As(err, &refused) {
		au.detail = refused.Reason
		if refused.Wait > 0 {
			retryAfter(c, refused.Wait)
			return &httpError{status: http.StatusTooManyRequests, code: "too_many_requests", message: webauth.TooManyLogins, args: []any{refused.WaitSeconds()}}
		}
	}
	if err != nil {
		return err
	}
	au.role = u.Role
	sess, err := s.auth.StartSession(c, u, func() (*riskmap.WriteRecords, error) {
		return s.auditRecords(c, au, http.StatusOK), nil
	})
	if err != nil {
		return err
	}
	written(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, sessionBody{User: userJSON(u), CSRFToken: sess.CSRF, ExpiresAt: &sess.ExpiresAt, Via: "session"})
}

// whoami tells the page who is logged in. It is not a refusal when nobody is: 401 here is
// an answer, not a denied request, so it is not audited.
func (s *Server) whoami(c echo.Context) error {
	p := principalOf(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	if p.User == nil {
		auditOf(c).skip = true
		msg := "not logged in"
		if p.Ended != "" {
			msg = p.Ended
		}
		return riskmap.Errorf(riskmap.EUNAUTHORIZED, "%s", msg)
	}
	b := sessionBody{User: userJSON(p.User), Via: "token"}
	if p.Session != nil {
		b.Via, b.CSRFToken, b.ExpiresAt = "session", p.Session.CSRF, &p.Session.ExpiresAt
	}
	return c.JSON(http.StatusOK, b)
}

func (s *Server) logout(c echo.Context) error {
	au := auditOf(c)
	au.action = "session.logout"
	// The session's end and its session.logout row commit together.
	sess := principalOf(c).Session
	if err := s.auth.EndSession(c, sess, func() (*riskmap.WriteRecords, error) {
		return s.auditRecords(c, au, http.StatusNoContent), nil
	}); err != nil {
		return err
	}
	if sess != nil {
		written(c)
	}
	return c.NoContent(http.StatusNoContent)
}
