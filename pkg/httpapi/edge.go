package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/webauth"
)

// ContentSecurityPolicy is sent with every response. The pages run under it with no
// violation (a browser test checks): scripts and styles only from the server itself,
// basemap images from 天地图 and OpenStreetMap, nothing framed.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob: https://*.tianditu.gov.cn https://tile.openstreetmap.org; connect-src 'self'; font-src 'self' data:; " +
	"worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secureHeaders sets the security headers of every response, errors included.
func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// 天地图 checks the origin of a browser key, so cross-origin requests keep it.
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.isTLS(c) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// guardPath refuses, before routing, paths that try to smuggle a separator or a parent
// directory past the router: an encoded slash or backslash, a "." or ".." segment, a NUL.
// The router matches the raw path, so "/api%2Fv1/units" could never reach a route anyway;
// refusing them outright keeps every rule keyed on one spelling of each path.
func (s *Server) guardPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		raw := strings.ToLower(r.URL.RawPath)
		if raw == "" {
			raw = strings.ToLower(r.URL.EscapedPath())
		}
		bad := strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%00") ||
			strings.ContainsAny(r.URL.Path, "\\\x00")
		for _, seg := range strings.Split(r.URL.Path, "/") {
			if seg == "." || seg == ".." {
				bad = true
			}
		}
		if bad {
			auditOf(c).denied = true
			return riskmap.Errorf(riskmap.EINVALID, "路径不能含编码的斜杠、反斜杠或 . 与 .. 段")
		}
		return next(c)
	}
}

// auditRecord is what the request's audit row will say; handlers fill in the action,
// target and before/after of what they change.
type auditRecord struct {
	action     string
	actor      string // set for logins, where nobody is logged in yet
	role       string
	targetType string
	targetID   string
	detail     string
	before     any
	after      any
	denied     bool // a refusal the status alone does not show (a hiding 404)
	skip       bool
	err        error
	written    bool
}

func auditOf(c echo.Context) *auditRecord {
	if a, ok := c.Get(ctxAudit).(*auditRecord); ok {
		return a
	}
	a := &auditRecord{}
	c.Set(ctxAudit, a)
	return a
}

// noAudit lists writes that change nothing (the grade calculator) and so leave no row
// unless refused.
// Readings (POST /api/v1/readings, and SensorThings' Observations and CreateObservations,
// the same readings from gateways that speak it) come from devices every few seconds: the
// audit log keeps their refusals, not every batch.
var noAudit = map[string]bool{"POST /api/v1/grading/evaluate": true, "POST /api/v1/readings": true,
	"POST " + staBase + "/Observations": true, "POST " + staBase + "/CreateObservations": true}

// A request's work does not die with the client's connection. A client that sends its
// request and half-closes its socket still reads the answer, but the server sees the end
// of its input and cancels the request's context: a token lookup would fail and the
// refusal it leads to lose its audit row, a login answer 500, a write be cut off between
// its commit and its answer. So every request runs under a context the client's going
// away does not cancel; a client that is really gone makes the writing of the answer fail,
// which ends a long read.
const (
	// writeTimeout bounds a write request (POST, PUT, PATCH, DELETE) from its start:
	// once begun it runs to its end, commit or rollback, whether the client stays or not.
	writeTimeout = 30 * time.Second
	// auditTimeout bounds the writing of one audit row.
	auditTimeout = 5 * time.Second
)

// audit writes the request's one audit row, if it has one: every write (POST, PUT, PATCH,
// DELETE) and every refused request. The row is written just before the response's
// header, so a client that sees the response finds its row; a write that keeps its row
// in its own transaction (recorded) has written it already. Repeated refusals of
// anonymous requests are folded (auditfold.go).
func (s *Server) audit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := auditOf(c)
		r := c.Request()
		c.Set(ctxClient, r.Context()) // an event stream ends with its client (events.go)
		ctx := context.WithoutCancel(r.Context())
		if webauth.IsUnsafe(r.Method) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, writeTimeout)
			defer cancel()
		}
		c.SetRequest(r.WithContext(ctx))
		c.Response().Before(func() { s.writeAudit(c, a) })
		return next(c)
	}
}

// auditContext is the context of an audit write: the request's values, not its end.
func auditContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.Request().Context()), auditTimeout)
}

func (s *Server) writeAudit(c echo.Context, a *auditRecord) {
	if a.written {
		return
	}
	a.written = true
	e := s.auditEntry(c, a, c.Response().Status)
	if e == nil || s.cfg.Store == nil {
		return
	}
	ctx, cancel := auditContext(c)
	defer cancel()
	if principalOf(c).User == nil && e.Outcome == riskmap.OutcomeDenied {
		s.foldRefusal(ctx, e, c.Path())
		return
	}
	if err := s.cfg.Store.AppendAudit(ctx, e); err != nil {
		s.cfg.Logger.Error("writing the audit log", "action", e.Action, "err", err)
	}
}

// auditEntry is the audit row of the request answered with status, or nil when the
// request has none.
func (s *Server) auditEntry(c echo.Context, a *auditRecord, status int) *riskmap.AuditEntry {
	r := c.Request()
	denied := a.denied || status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests
	// A write leaves a row; one of noAudit only when it is refused (4xx, 5xx).
	write := webauth.IsUnsafe(r.Method) && (!noAudit[r.Method+" "+c.Path()] || status >= 400) &&
		status != http.StatusNotFound && status != http.StatusMethodNotAllowed
	if a.skip || (!denied && !write) {
		return nil
	}
	e := &riskmap.AuditEntry{At: s.now(), Status: status, Method: clip(r.Method), Path: clip(r.URL.Path),
		ClientAddr: c.RealIP(), Action: a.action, TargetType: a.targetType, TargetID: a.targetID, Detail: a.detail}
	if p := principalOf(c); p.User != nil {
		e.Actor, e.Role = p.User.Name, p.User.Role
	} else {
		e.Actor, e.Role = a.actor, a.role
	}
	if e.Action == "" {
		e.Action = strings.ToLower(methodLabel(r.Method)) + " " + c.Path()
		if c.Path() == "" {
			e.Action = strings.ToLower(methodLabel(r.Method)) + " " + clip(r.URL.Path)
		}
	}
	switch {
	case denied:
		e.Outcome = riskmap.OutcomeDenied
	case status >= 400:
		e.Outcome = riskmap.OutcomeFailed
	default:
		e.Outcome = riskmap.OutcomeOK
	}
	if e.Detail == "" && a.err != nil && status < 500 {
		e.Detail = clip(riskmap.ErrorMessage(a.err))
		var own *httpError
		if errors.As(a.err, &own) {
			e.Detail = clip(own.Error())
		}
	}
	if p := principalOf(c); p.Token != nil {
		// Who holds a token is not who it names: say which token acted.
		e.Detail = strings.TrimSuffix("API 令牌 #"+strconv.FormatInt(p.Token.ID, 10)+"（"+clip(p.Token.Name)+"）；"+e.Detail, "；")
	}
	if status < 400 {
		e.Before, e.After = rawJSON(a.before), rawJSON(a.after)
	}
	return e
}

// rawJSON encodes an audit before/after value; []byte is taken as JSON already.
func rawJSON(v any) json.RawMessage {
	switch v := v.(type) {
	case nil:
		return nil
	case []byte:
		return v
	case json.RawMessage:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
