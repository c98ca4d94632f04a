package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"riskmap/pkg/httpapi"
	"riskmap/pkg/riskmap"
)

// deniedOf returns the denied rows of one action, oldest first.
func (e *env) deniedOf(t *testing.T, action string) []*riskmap.AuditEntry {
	t.Helper()
	es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: action, Outcome: riskmap.OutcomeDenied, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*riskmap.AuditEntry
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Action == action {
			out = append(out, es[i])
		}
	}
	return out
}

func sumCounts(es []*riskmap.AuditEntry) int {
	n := 0
	for _, x := range es {
		n += x.Count
	}
	return n
}

// TestScannerRefusalsFold: a scanner's 1,000 refused requests from one address, sent by 8
// concurrent clients, leave a bounded number of rows whose counts add up to 1,000; the
// admin's audit API shows the counts; a logged-in user's refusals are a row each.
func TestScannerRefusalsFold(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			const clients, each = 8, 125
			var wg sync.WaitGroup
			errs := make(chan int, clients*each)
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range each {
						res, err := http.Get(e.srv.URL + "/api/v1/units?limit=1")
						if err != nil {
							errs <- 0
							continue
						}
						res.Body.Close()
						if res.StatusCode != 401 {
							errs <- res.StatusCode
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for code := range errs {
				t.Fatalf("a refused scan answered %d", code)
			}
			const action = "get /api/v1/units"
			if rows := e.deniedOf(t, action); len(rows) != 1 || rows[0].Count != 1 || rows[0].ClientAddr != "127.0.0.1" {
				t.Fatalf("the first refusal is written at once, the repeats are counted: %d rows", len(rows))
			}
			// The admin's view writes the counts of closed minutes only; at shutdown all.
			if err := e.api.FlushAudit(context.Background()); err != nil {
				t.Fatal(err)
			}
			rows := e.deniedOf(t, action)
			if len(rows) != 2 || sumCounts(rows) != clients*each {
				t.Fatalf("want 2 rows counting %d refusals, got %d rows counting %d", clients*each, len(rows), sumCounts(rows))
			}
			if r := rows[1]; r.Count != clients*each-1 || r.LastAt.Before(r.At) || r.Status != 401 || r.Method != "GET" {
				t.Fatalf("the repeats' row: %+v", r)
			}

			var list struct {
				Entries []struct {
					Action string     `json:"action"`
					Count  int        `json:"count"`
					LastAt *time.Time `json:"last_at"`
				} `json:"entries"`
			}
			r := e.do("GET", "/api/v1/audit?outcome=denied&limit=1000", "")
			if r.code != 200 {
				t.Fatalf("audit API: %d %s", r.code, r.body)
			}
			if err := json.Unmarshal(r.body, &list); err != nil {
				t.Fatal(err)
			}
			n, withLast := 0, 0
			for _, x := range list.Entries {
				if x.Action == action {
					n += x.Count
					if x.LastAt != nil {
						withLast++
					}
				}
			}
			if n != clients*each || withLast != 1 {
				t.Fatalf("the audit API counts %d refusals (%d rows with last_at)", n, withLast)
			}

			t.Run("MadeUpPathsFoldOK", func(t *testing.T) {
				// Refused before routing (an encoded slash): no route, so every made-up
				// path of one address folds into one row.
				for i := range 200 {
					res, err := http.Get(e.srv.URL + "/probe%2F" + strconv.Itoa(i))
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					if res.StatusCode != 400 {
						t.Fatalf("an encoded slash: %d", res.StatusCode)
					}
				}
				if err := e.api.FlushAudit(context.Background()); err != nil {
					t.Fatal(err)
				}
				es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "get /probe", Outcome: riskmap.OutcomeDenied, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if len(es) != 2 || sumCounts(es) != 200 {
					t.Fatalf("want 2 rows counting 200, got %d rows counting %d", len(es), sumCounts(es))
				}
			})
			t.Run("LoggedInRefusalsDoNotFoldOK", func(t *testing.T) {
				for range 30 {
					if r := e.do("GET", "/api/v1/users", "", e.as("expert1")...); r.code != 403 {
						t.Fatalf("expert reads users: %d", r.code)
					}
				}
				rows := e.deniedOf(t, "get /api/v1/users")
				if len(rows) != 30 || sumCounts(rows) != 30 {
					t.Fatalf("want 30 rows of one, got %d rows counting %d", len(rows), sumCounts(rows))
				}
			})
		})
	}
}

// TestFoldWindowCloses: repeats are folded for a minute from the first refusal; the next
// refusal after it writes the minute's count and starts a new minute, and the admin's
// audit view writes the counts of minutes that have closed.
func TestFoldWindowCloses(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	e := newEnvWith(t, gpkgStore(t), func(c *httpapi.Config) { c.Now = clk.now })
	const action = "get /api/v1/stats"
	refuse := func(n int) {
		for range n {
			if r := e.do("GET", "/api/v1/stats", "", "Authorization", ""); r.code != 401 {
				t.Fatalf("anonymous stats: %d", r.code)
			}
			clk.add(time.Second)
		}
	}
	refuse(5) // 08:00:00 written, 08:00:01–04 counted
	clk.add(time.Minute)
	refuse(3) // closes the first minute: its 4 repeats are written; 08:01:05 written, 2 counted
	rows := e.deniedOf(t, action)
	if len(rows) != 3 || rows[0].Count != 1 || rows[1].Count != 4 || rows[2].Count != 1 {
		t.Fatalf("after the first minute: %d rows %v", len(rows), counts(rows))
	}
	if want := time.Date(2026, 11, 26, 8, 0, 4, 0, time.UTC); !rows[1].LastAt.Equal(want) {
		t.Fatalf("the repeats' last_at: want %v, got %v", want, rows[1].LastAt)
	}
	clk.add(2 * time.Minute)
	if r := e.do("GET", "/api/v1/audit", ""); r.code != 200 {
		t.Fatalf("audit API: %d", r.code)
	}
	if rows := e.deniedOf(t, action); len(rows) != 4 || sumCounts(rows) != 8 {
		t.Fatalf("the audit view writes the closed minute's count: %d rows %v", len(rows), counts(rows))
	}
}

func counts(es []*riskmap.AuditEntry) []int {
	out := make([]int, len(es))
	for i, x := range es {
		out[i] = x.Count
	}
	return out
}
