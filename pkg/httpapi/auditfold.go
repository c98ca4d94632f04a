package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"riskmap/pkg/riskmap"
)

// Folding repeated refusals. A scanner refused again and again must not grow the audit log
// at will, yet every refusal stays counted. The first refusal of an anonymous request from
// one client address on one route with one status and outcome (and, for failed logins,
// one account name) is written at once, as every other row; the repeats of the next minute are
// counted in memory and written as one row whose count says how many they were, when the
// minute is over (noticed by the next refusal or by a look at the audit log) or when the
// server stops (FlushAudit). So one address on one route leaves at most two rows a minute,
// and the counts of the rows add up to the refusals. Requests of logged-in users never
// fold: each is one row.
//
// The rows stay append-only: nothing is ever updated. A process that dies without
// FlushAudit loses the count of its last minute's repeats, never a first refusal.

// foldWindow is how long repeats of one refusal are folded into one row.
const foldWindow = time.Minute

// maxFolds bounds the refusals followed at once; past it every fold is written out.
const maxFolds = 10000

type foldKey struct {
	addr, method, route, outcome, actor string
	status                              int
}

type fold struct {
	start  time.Time           // of the window: its first refusal, written at once
	repeat *riskmap.AuditEntry // the repeats so far, nil before the first
}

type auditFolds struct {
	mu    sync.Mutex
	open  map[foldKey]*fold
	swept time.Time
}

// keyOf is the fold of a refusal of a request to route (the route's pattern, "" for a path
// no route matches, so that a scanner's made-up paths fold too). A failed login keeps the
// account name tried apart (20 an address in 15 minutes at most); the throttle's 429s
// fold whatever name they tried.
func keyOf(e *riskmap.AuditEntry, route string) foldKey {
	k := foldKey{addr: e.ClientAddr, method: e.Method, route: route, outcome: e.Outcome, actor: e.Actor, status: e.Status}
	if e.Status == http.StatusTooManyRequests {
		k.actor = ""
	}
	return k
}

// add takes a refusal of a request to route. It reports whether e is the first of its
// window, to be written now, and returns the rows of windows that have closed.
func (f *auditFolds) add(e *riskmap.AuditEntry, route string) (first bool, due []*riskmap.AuditEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open == nil {
		f.open = map[foldKey]*fold{}
	}
	now := e.At
	if now.Sub(f.swept) >= foldWindow/4 || len(f.open) >= maxFolds {
		due = f.take(now, len(f.open) >= maxFolds)
		f.swept = now
	}
	k := keyOf(e, route)
	fd := f.open[k]
	if fd != nil && now.Sub(fd.start) >= foldWindow {
		if fd.repeat != nil {
			due = append(due, fd.repeat)
		}
		fd = nil
	}
	if fd == nil {
		f.open[k] = &fold{start: now}
		return true, due
	}
	if fd.repeat == nil {
		r := *e
		r.Count, r.LastAt = 1, now
		r.Detail = strings.TrimSuffix("重复的拒绝（同一地址、同一路由 1 分钟内）；"+e.Detail, "；")
		fd.repeat = &r
	} else {
		fd.repeat.Count++
		fd.repeat.LastAt = now
		if fd.repeat.Actor != e.Actor {
			fd.repeat.Actor = "" // the repeats tried more than one account name
		}
		if fd.repeat.Path != e.Path {
			fd.repeat.Path = "" // and, without a route, more than one path
		}
	}
	return false, due
}

// take removes the windows that have closed at now (all of them when all is set) and
// returns the rows of their repeats.
func (f *auditFolds) take(now time.Time, all bool) []*riskmap.AuditEntry {
	var due []*riskmap.AuditEntry
	for k, fd := range f.open {
		if all || now.Sub(fd.start) >= foldWindow {
			if fd.repeat != nil {
				due = append(due, fd.repeat)
			}
			delete(f.open, k)
		}
	}
	return due
}

// foldRefusal writes or counts an anonymous refusal of a request to route, and writes the
// rows of the windows that have closed.
func (s *Server) foldRefusal(ctx context.Context, e *riskmap.AuditEntry, route string) {
	first, due := s.folds.add(e, route)
	if first {
		due = append(due, e)
	}
	s.appendAudit(ctx, due)
}

// flushFolds writes the rows of the windows that have closed at now, or of all windows.
func (s *Server) flushFolds(ctx context.Context, all bool) error {
	s.folds.mu.Lock()
	due := s.folds.take(s.now(), all)
	s.folds.mu.Unlock()
	return s.appendAudit(ctx, due)
}

func (s *Server) appendAudit(ctx context.Context, es []*riskmap.AuditEntry) error {
	var first error
	for _, e := range es {
		if err := s.cfg.Store.AppendAudit(ctx, e); err != nil {
			s.cfg.Logger.Error("writing the audit log", "action", e.Action, "count", e.Count, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// FlushAudit writes the counts of the refusals folded so far. Call it when the server
// stops, after the last request: no refusal goes uncounted.
func (s *Server) FlushAudit(ctx context.Context) error {
	if s.cfg.Store == nil {
		return nil
	}
	return s.flushFolds(ctx, true)
}
