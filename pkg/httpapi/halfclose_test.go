package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"riskmap/pkg/riskmap"
)

// halfClosed sends a raw HTTP/1.1 request over a new TCP connection, half-closes it (the
// client will send nothing more, which makes the server cancel the request's context),
// and reads the answer.
func halfClosed(t *testing.T, addr, method, path, body string, headers ...string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, addr)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s: no answer: %v", method, path, err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(rb)
}

// TestHalfClosedClientsKeepTheirAuditRows: clients on loopback that send their request and
// half-close the socket still read their answer; the server must still write the audit row
// of every refusal and finish every write it answers, though the request's context is
// cancelled: a refused request, a login and a unit created, 20 times each, at once.
func TestHalfClosedClientsKeepTheirAuditRows(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			addr := strings.TrimPrefix(e.srv.URL, "http://")
			const n = 20
			var wg sync.WaitGroup
			errs := make(chan string, 4*n)
			// Logins one after another: parallel ones would be throttled, each counted as a
			// failure until its password is checked.
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					if code, body := halfClosed(t, addr, "POST", "/api/v1/session", `{"username":"expert2","password":"`+testPassword+`"}`); code != 200 {
						errs <- fmt.Sprintf("a half-closed login: %d %s", code, body)
					}
				}
			}()
			for i := range n {
				wg.Add(3)
				go func() {
					defer wg.Done()
					if code, body := halfClosed(t, addr, "GET", "/api/v1/users", "", "Authorization", "Bearer "+e.tokens["expert1"]); code != 403 {
						errs <- fmt.Sprintf("GET /api/v1/users as expert1: %d %s", code, body)
					}
				}()
				go func() {
					defer wg.Done()
					if code, body := halfClosed(t, addr, "GET", "/api/v1/units", "", "Authorization", fmt.Sprintf("Bearer rmk_bogus_%d", i)); code != 401 {
						errs <- fmt.Sprintf("GET /api/v1/units with a bad token: %d %s", code, body)
					}
				}()
				go func() {
					defer wg.Done()
					f := feature(fmt.Sprintf("HALF-%02d", i), "半关闭连接写入", 102.91, 24.67, 2, 3)
					if code, body := halfClosed(t, addr, "POST", "/api/v1/units", f, "Authorization", "Bearer "+e.tokens["expert1"]); code != 201 {
						errs <- fmt.Sprintf("a half-closed create: %d %s", code, body)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Error(msg)
			}
			if err := e.api.FlushAudit(context.Background()); err != nil {
				t.Fatal(err)
			}
			es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, x := range es {
				count[x.Action+" "+x.Outcome+" "+x.Actor] += x.Count
			}
			for what, want := range map[string]int{
				"get /api/v1/users denied expert1": n, // a logged-in user's refusals: a row each
				"get /api/v1/units denied ":        n, // anonymous refusals, folded but counted
				"session.login ok expert2":         n,
				"unit.create ok expert1":           n,
			} {
				if count[what] != want {
					t.Errorf("%s: want %d audited, got %d (all: %v)", what, want, count[what], count)
				}
			}
			us, _, err := e.store.FindUnits(context.Background(), riskmap.UnitFilter{Q: "HALF-"})
			if err != nil || len(us) != n {
				t.Errorf("want %d units written, got %d (%v)", n, len(us), err)
			}
		})
	}
}
