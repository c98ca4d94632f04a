package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/accounts"
	"riskmap/pkg/riskmap"
)

// Users and API tokens: the handlers parse the request, call pkg/accounts, which owns the
// use cases, and shape the JSON. The routes are in adminRoutes (admins only).

// userView is the JSON of a user for admins: its fields, its profile (姓名, 单位, phone),
// and more.
type userView struct {
	ID int64 `json:"id"`
	userFields
	userProfile
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// userProfile says who a user is. The phone is for admins only: GET /api/v1/people names
// people to everyone without it.
type userProfile struct {
	DisplayName  string `json:"display_name"`
	Organisation string `json:"organisation"`
	Phone        string `json:"phone"`
}

func viewUser(u *riskmap.User) userView {
	return userView{ID: u.ID, userFields: userJSON(u), Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC(),
		userProfile: userProfile{DisplayName: u.DisplayName, Organisation: u.Organisation, Phone: u.Phone}}
}

// personView is how a person is named to every logged-in user: login, 姓名 and 单位; no
// phone, role, scope or disabled flag.
type personView struct {
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	Organisation string `json:"organisation"`
}

// listPeople answers GET /api/v1/people: every user's login, 姓名 and 单位, so that the
// application names people ("审核人 李明（云南省安全生产专家库）") rather than logins.
func (s *Server) listPeople(c echo.Context) error {
	ps, err := s.accounts.People(c.Request().Context())
	return listJSON(c, "people", ps, err, func(p accounts.Person) personView {
		return personView{Username: p.Name, DisplayName: p.DisplayName, Organisation: p.Organisation}
	})
}

func (s *Server) listUsers(c echo.Context) error {
	us, err := s.accounts.Users(c.Request().Context())
	return listJSON(c, "users", us, err, viewUser)
}

// listJSON answers a list read: {"key": [view(item)…]}, or err.
func listJSON[T, V any](c echo.Context, key string, items []T, err error, view func(T) V) error {
	if err != nil {
		return err
	}
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = view(it)
	}
	return c.JSON(http.StatusOK, map[string]any{key: out})
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

func (s *Server) createUser(c echo.Context) error {
	a := auditOf(c)
	a.action, a.targetType = "user.create", "user"
	// Flat, not embedding userFields and userProfile: a field of the wrong type is named
	// "name", not "userFields.name".
	var req struct {
		Name         string   `json:"name"`
		Role         string   `json:"role"`
		Department   string   `json:"department"`
		Categories   []string `json:"categories"`
		Regions      []string `json:"regions"`
		Password     *string  `json:"password"`
		DisplayName  string   `json:"display_name"`
		Organisation string   `json:"organisation"`
		Phone        string   `json:"phone"`
	}
	if err := s.decode(c, &req); err != nil {
		return err
	}
	a.targetID = clip(req.Name)
	u := &riskmap.User{Name: req.Name, Role: req.Role, Department: req.Department, Categories: req.Categories, Regions: req.Regions,
		DisplayName: req.DisplayName, Organisation: req.Organisation, Phone: req.Phone}
	pw, err := s.accounts.Create(c.Request().Context(), u, req.Password, func(ch accounts.Change) (*riskmap.WriteRecords, error) {
		w := *a // the request's own row keeps what was known before the write (see recorded)
		w.after = viewUser(ch.After)
		return s.auditRecords(c, &w, http.StatusCreated), nil
	})
	if err != nil {
		return err
	}
	written(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"user": viewUser(u), "password": pw})
}

// userByParam returns the user the path names and starts the audit row of action on it.
func (s *Server) userByParam(c echo.Context, action string) (*riskmap.User, *auditRecord, error) {
	name := c.Param("name")
	a := auditOf(c)
	a.action, a.targetType, a.targetID = action, "user", clip(name)
	u, err := s.accounts.User(c.Request().Context(), name)
	return u, a, err
}

func (s *Server) patchUser(c echo.Context) error {
	u, a, err := s.userByParam(c, "user.update")
	if err != nil {
		return err
	}
	var up riskmap.UserUpdate
	if err := s.decode(c, &up); err != nil {
		return err
	}
	if err := s.accounts.Update(c.Request().Context(), userOf(c), u, up, func(ch accounts.Change) (*riskmap.WriteRecords, error) {
		w := *a // the request's own row keeps what was known before the write (see recorded)
		w.before, w.after = viewUser(ch.Before), viewUser(ch.After)
		return s.auditRecords(c, &w, http.StatusOK), nil
	}); err != nil {
		return err
	}
	written(c)
	return c.JSON(http.StatusOK, map[string]any{"user": viewUser(u)})
}

func (s *Server) resetPassword(c echo.Context) error {
	u, a, err := s.userByParam(c, "user.password")
	if err != nil {
		return err
	}
	var req struct {
		Password *string `json:"password"`
	}
	if b, _ := s.readOptionalBody(c); len(b) > 0 {
		if err := json.Unmarshal(b, &req); err != nil {
			return riskmap.Errorf(riskmap.EINVALID, `请发送 {"password": "…"}，或不带请求体以自动生成`)
		}
	}
	pw, err := s.accounts.ResetPassword(c.Request().Context(), u, req.Password, func(accounts.Change) (*riskmap.WriteRecords, error) {
		a.detail = "已重置密码，该用户的会话全部结束"
		return s.auditRecords(c, a, http.StatusOK), nil
	})
	if err != nil {
		a.detail = "" // rolled back: the failure's row says what went wrong instead
		return err
	}
	written(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"password": pw})
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
	ts, err := s.accounts.Tokens(c.Request().Context())
	return listJSON(c, "tokens", ts, err, viewToken)
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
	t := &riskmap.APIToken{Name: req.Name, UserName: req.User, Scope: req.Scope}
	secret, err := s.accounts.CreateToken(c.Request().Context(), userOf(c), t, func(ch accounts.Change) (*riskmap.WriteRecords, error) {
		w := *a // the request's own row keeps what was known before the write (see recorded)
		w.targetID, w.after = strconv.FormatInt(ch.Token.ID, 10), viewToken(ch.Token)
		return s.auditRecords(c, &w, http.StatusCreated), nil
	})
	if err != nil {
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
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有 API 令牌 %q", clip(c.Param("id")))
	}
	if err := s.accounts.RevokeToken(c.Request().Context(), id, func(accounts.Change) (*riskmap.WriteRecords, error) {
		return s.auditRecords(c, a, http.StatusNoContent), nil
	}); err != nil {
		return err
	}
	written(c)
	return c.NoContent(http.StatusNoContent)
}
