package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/password"
	"riskmap/pkg/riskmap"
)

// Administration: users, API tokens and the audit log, for admins only (the route rules
// say so; the handlers do not check again).

func (s *Server) adminRoutes() {
	const api = "/api/v1"
	s.route(http.MethodGet, api+"/users", adminOnly, s.listUsers)
	s.route(http.MethodPost, api+"/users", adminOnly, s.createUser)
	s.route(http.MethodPatch, api+"/users/:name", adminOnly, s.patchUser)
	s.route(http.MethodPost, api+"/users/:name/password", adminOnly, s.resetPassword)
	s.route(http.MethodGet, api+"/tokens", adminOnly, s.listTokens)
	s.route(http.MethodPost, api+"/tokens", adminOnly, s.createToken)
	s.route(http.MethodDelete, api+"/tokens/:id", adminOnly, s.revokeToken)
	s.route(http.MethodGet, api+"/audit", adminOnly, s.listAudit)
	s.route(http.MethodPost, api+"/publications", adminOnly, s.publish)
	s.route(http.MethodGet, api+"/publications", loggedIn, s.listPublications)
	s.route(http.MethodGet, api+"/publications/:n", loggedIn, s.getPublication)
	s.route(http.MethodGet, api+"/publications/:a/diff/:b", loggedIn, s.diffPublications)
}

type userView struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Role       string    `json:"role"`
	Department string    `json:"department"`
	Categories []string  `json:"categories"`
	Regions    []string  `json:"regions"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"created_at"`
}

func viewUser(u *riskmap.User) userView {
	return userView{ID: u.ID, Name: u.Name, Role: u.Role, Department: u.Department, Categories: nonNilStrings(u.Categories),
		Regions: nonNilStrings(u.Regions), Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC()}
}

func (s *Server) listUsers(c echo.Context) error {
	us, err := s.cfg.Store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]userView, len(us))
	for i, u := range us {
		out[i] = viewUser(u)
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

func (s *Server) decode(c echo.Context, v any) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return decodeError(err)
	}
	return nil
}

// newPassword returns the password asked for (checked) or a generated one.
func newPassword(pw *string) (string, error) {
	if pw == nil || *pw == "" {
		return password.Generate(), nil
	}
	if err := password.Check(*pw); err != nil {
		return "", riskmap.Errorf(riskmap.EINVALID, "password: %s", err.Error())
	}
	return *pw, nil
}

func (s *Server) createUser(c echo.Context) error {
	a := auditOf(c)
	a.action, a.targetType = "user.create", "user"
	var req struct {
		Name       string   `json:"name"`
		Role       string   `json:"role"`
		Department string   `json:"department"`
		Categories []string `json:"categories"`
		Regions    []string `json:"regions"`
		Password   *string  `json:"password"`
	}
	if err := s.decode(c, &req); err != nil {
		return err
	}
	a.targetID = clip(req.Name)
	pw, err := newPassword(req.Password)
	if err != nil {
		return err
	}
	hash, err := s.auth.HashPassword(c.Request().Context(), pw)
	if err != nil {
		return err
	}
	u := &riskmap.User{Name: req.Name, Role: req.Role, Department: req.Department, Categories: req.Categories,
		Regions: req.Regions, PasswordHash: hash, CreatedAt: s.now()}
	if err := u.Validate(s.cfg.Catalog); err != nil {
		return err
	}
	// The user and its audit row commit together.
	if err := s.cfg.Store.CreateUserRecorded(c.Request().Context(), u, func() (*riskmap.WriteRecords, error) {
		a.after = viewUser(u)
		return s.auditRecords(c, a, http.StatusCreated), nil
	}); err != nil {
		return err
	}
	written(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"user": viewUser(u), "password": pw})
}

func (s *Server) userByParam(c echo.Context) (*riskmap.User, error) {
	name := c.Param("name")
	a := auditOf(c)
	a.targetType, a.targetID = "user", clip(name)
	return s.cfg.Store.UserByName(c.Request().Context(), name)
}

func (s *Server) patchUser(c echo.Context) error {
	auditOf(c).action = "user.update"
	u, err := s.userByParam(c)
	if err != nil {
		return err
	}
	var req struct {
		Role       *string   `json:"role"`
		Department *string   `json:"department"`
		Categories *[]string `json:"categories"`
		Regions    *[]string `json:"regions"`
		Disabled   *bool     `json:"disabled"`
	}
	if err := s.decode(c, &req); err != nil {
		return err
	}
	before := viewUser(u)
	me := userOf(c)
	if u.ID == me.ID && ((req.Disabled != nil && *req.Disabled) || (req.Role != nil && *req.Role != riskmap.RoleAdmin)) {
		return riskmap.Errorf(riskmap.ECONFLICT, "you may not disable yourself or take away your own admin role; ask another admin")
	}
	if req.Role != nil {
		u.Role = *req.Role
	}
	if req.Department != nil {
		u.Department = *req.Department
	}
	if req.Categories != nil {
		u.Categories = *req.Categories
	}
	if req.Regions != nil {
		u.Regions = *req.Regions
	}
	if req.Disabled != nil {
		u.Disabled = *req.Disabled
	}
	if err := u.Validate(s.cfg.Catalog); err != nil {
		return err
	}
	// A disabled user is cut off at once: its sessions end with the change, in its
	// transaction with its audit row (its tokens stop working because every request checks
	// the user).
	a := auditOf(c)
	_, err = s.cfg.Store.UpdateUserRecorded(c.Request().Context(), u, u.Disabled, func() (*riskmap.WriteRecords, error) {
		a.before, a.after = before, viewUser(u)
		return s.auditRecords(c, a, http.StatusOK), nil
	})
	if err != nil {
		return err
	}
	written(c)
	s.auth.Forget() // role, scope or disabled changed: no request may use the old ones
	return c.JSON(http.StatusOK, map[string]any{"user": viewUser(u)})
}

func (s *Server) resetPassword(c echo.Context) error {
	auditOf(c).action = "user.password"
	u, err := s.userByParam(c)
	if err != nil {
		return err
	}
	var req struct {
		Password *string `json:"password"`
	}
	if b, _ := s.readOptionalBody(c); len(b) > 0 {
		if err := json.Unmarshal(b, &req); err != nil {
			return riskmap.Errorf(riskmap.EINVALID, `send {"password": "…"} or nothing to have one generated`)
		}
	}
	pw, err := newPassword(req.Password)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = s.auth.HashPassword(c.Request().Context(), pw); err != nil {
		return err
	}
	// The new password, the end of the user's sessions and the audit row commit together.
	a := auditOf(c)
	_, err = s.cfg.Store.UpdateUserRecorded(c.Request().Context(), u, true, func() (*riskmap.WriteRecords, error) {
		a.detail = "password reset; sessions ended"
		return s.auditRecords(c, a, http.StatusOK), nil
	})
	if err != nil {
		a.detail = "" // rolled back: the failure's row says what went wrong instead
		return err
	}
	written(c)
	s.auth.Forget()
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"password": pw})
}

// auditRecords is what a user, session or token write keeps in its transaction: the
// request's audit row, as the audit middleware would write it for status. Call written
// after the write succeeds.
func (s *Server) auditRecords(c echo.Context, a *auditRecord, status int) *riskmap.WriteRecords {
	return &riskmap.WriteRecords{Audit: s.auditEntry(c, a, status)}
}

type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	User       string     `json:"user"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Scope      string     `json:"scope"`
}

func viewToken(t *riskmap.APIToken) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, User: t.UserName, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt.UTC(),
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt, Scope: t.Scope}
}

func (s *Server) listTokens(c echo.Context) error {
	ts, err := s.cfg.Store.APITokens(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]tokenView, len(ts))
	for i, t := range ts {
		out[i] = viewToken(t)
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) createToken(c echo.Context) error {
	a := auditOf(c)
	a.action, a.targetType = "token.create", "token"
	var req struct {
		Name  string `json:"name"`
		User  string `json:"user"`
		Scope string `json:"scope"`
	}
	if err := s.decode(c, &req); err != nil {
		return err
	}
	var p riskmap.Problems
	if req.Name == "" || len([]rune(req.Name)) > 64 {
		p.Add("name", "is required, at most 64 characters")
	}
	if !riskmap.ValidTokenScope(req.Scope) {
		p.Add("scope", "应为空（以该用户身份操作）或 \"metrics\"（只能读取 /metrics 与 /readyz）")
	}
	if req.User == "" && req.Scope == riskmap.TokenScopeMetrics {
		req.User = userOf(c).Name // a scrape token reads metrics only, whoever it names
	}
	if req.User == "" {
		p.Add("user", "names the user the token acts as")
	}
	if err := p.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.cfg.Store.UserByName(ctx, req.User)
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
			return riskmap.Errorf(riskmap.EINVALID, "user: no user %q", clip(req.User))
		}
		return err
	}
	if u.Disabled {
		return riskmap.Errorf(riskmap.EINVALID, "user: %q is disabled", clip(req.User))
	}
	secret := riskmap.APITokenPrefix + riskmap.NewToken()
	t := &riskmap.APIToken{Name: req.Name, UserID: u.ID, UserName: u.Name, TokenHash: riskmap.HashToken(secret),
		CreatedBy: userOf(c).Name, CreatedAt: s.now(), Scope: req.Scope}
	if err := s.cfg.Store.CreateAPITokenRecorded(ctx, t, func() (*riskmap.WriteRecords, error) {
		a.targetID, a.after = strconv.FormatInt(t.ID, 10), viewToken(t)
		return s.auditRecords(c, a, http.StatusCreated), nil
	}); err != nil {
		a.targetID = "" // rolled back: the id names no token
		return err
	}
	written(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"token": viewToken(t), "secret": secret})
}

func (s *Server) revokeToken(c echo.Context) error {
	a := auditOf(c)
	a.action, a.targetType, a.targetID = "token.revoke", "token", clip(c.Param("id"))
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return riskmap.Errorf(riskmap.ENOTFOUND, "no token %q", clip(c.Param("id")))
	}
	if err := s.cfg.Store.RevokeAPITokenRecorded(c.Request().Context(), id, s.now(), func() (*riskmap.WriteRecords, error) {
		return s.auditRecords(c, a, http.StatusNoContent), nil
	}); err != nil {
		return err
	}
	written(c)
	s.auth.Forget()
	return c.NoContent(http.StatusNoContent)
}

type auditView struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role"`
	Action     string          `json:"action"`
	Outcome    string          `json:"outcome"`
	Status     int             `json:"status"`
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	ClientAddr string          `json:"client_addr"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Detail     string          `json:"detail"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	// Count is how many requests the row stands for (folded refusals); LastAt is when the
	// last of them came, null for a row of one request.
	Count  int        `json:"count"`
	LastAt *time.Time `json:"last_at"`
}

func (s *Server) listAudit(c echo.Context) error {
	q := c.QueryParams()
	var p riskmap.Problems
	f := riskmap.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Outcome: q.Get("outcome"),
		TargetType: q.Get("target_type"), TargetID: q.Get("target_id"), Limit: 100}
	if f.Outcome != "" && f.Outcome != riskmap.OutcomeOK && f.Outcome != riskmap.OutcomeDenied && f.Outcome != riskmap.OutcomeFailed {
		p.Add("outcome", "must be ok, denied or failed")
	}
	for _, k := range []string{"since", "until"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				p.Add(k, "must be an RFC 3339 time such as 2026-11-26T08:00:00Z")
			} else if k == "since" {
				f.Since = t
			} else {
				f.Until = t
			}
		}
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			p.Add("before", "must be an audit row id")
		}
		f.BeforeID = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			p.Add("limit", "must be a whole number from 1 to 1000")
		}
		f.Limit = n
	}
	if err := p.Err(); err != nil {
		return err
	}
	// The counts of refusals whose minute is over are written before the log is read.
	if err := s.flushFolds(c.Request().Context(), false); err != nil {
		return err
	}
	es, err := s.cfg.Store.AuditEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]auditView, len(es))
	for i, e := range es {
		out[i] = auditView{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Role: e.Role, Action: e.Action, Outcome: e.Outcome,
			Status: e.Status, Method: e.Method, Path: e.Path, ClientAddr: e.ClientAddr, TargetType: e.TargetType,
			TargetID: e.TargetID, Detail: e.Detail, Before: e.Before, After: e.After, Count: max(e.Count, 1)}
		if !e.LastAt.IsZero() {
			t := e.LastAt.UTC()
			out[i].LastAt = &t
		}
	}
	var next *int64
	if len(es) == f.Limit && len(es) > 0 {
		n := es[len(es)-1].ID
		next = &n
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"entries": out, "next_before": next})
}
