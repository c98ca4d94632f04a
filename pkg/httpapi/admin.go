package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// Administration: users, API tokens and the audit log, for admins only (the route rules
// say so; the handlers do not check again), and the names of people (姓名, 单位) for
// everyone logged in.

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
	s.route(http.MethodGet, api+"/audit.csv", adminOnly, s.exportAuditCSV)
	s.route(http.MethodGet, api+"/audit.xlsx", adminOnly, s.exportAuditXLSX)
	s.route(http.MethodGet, api+"/people", loggedIn, s.listPeople)
	s.route(http.MethodPost, api+"/publications", adminOnly, s.publish)
	s.route(http.MethodGet, api+"/publications", loggedIn, s.listPublications)
	s.route(http.MethodGet, api+"/publications/preview", adminOnly, s.previewPublication)
	s.route(http.MethodGet, api+"/publications/:n", loggedIn, s.getPublication)
	s.route(http.MethodGet, api+"/publications/:a/diff/:b", loggedIn, s.diffPublications)
}

// auditRecords is what a user, session or token write keeps in its transaction: the
// request's audit row, as the audit middleware would write it for status. Call written
// after the write succeeds.
func (s *Server) auditRecords(c echo.Context, a *auditRecord, status int) *riskmap.WriteRecords {
	return &riskmap.WriteRecords{Audit: s.auditEntry(c, a, status)}
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
	f, err := auditFilter(c.QueryParams(), true)
	if err != nil {
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
