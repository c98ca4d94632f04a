package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

// TestIdempotencyKey: a creating write sent again with the same Idempotency-Key gets the
// first answer and writes nothing; the same key with another request is refused; keys are
// per user.
func TestIdempotencyKey(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			body := feature("IDEM-1", "幂等测试", 102.91, 24.67, 2, 2)
			key := []string{"Idempotency-Key", "5b0c7c1e-2f7a-4c55-9d43-000000000001"}
			first := e.do("POST", "/api/v1/units", body, append(e.as("expert1"), key...)...)
			if first.code != 201 {
				t.Fatalf("create: %d %s", first.code, first.body)
			}
			t.Run("RetryReplaysOK", func(t *testing.T) {
				again := e.do("POST", "/api/v1/units", body, append(e.as("expert1"), key...)...)
				if again.code != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
					again.header.Get("Location") != first.header.Get("Location") || again.header.Get("ETag") != first.header.Get("ETag") {
					t.Fatalf("retry: %d %v %s", again.code, again.header, again.body)
				}
				us, _, err := e.store.FindUnits(context.Background(), riskmap.UnitFilter{Q: "IDEM-1"})
				if err != nil || len(us) != 1 {
					t.Fatalf("one unit, got %d (%v)", len(us), err)
				}
				es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "unit.create", TargetType: "unit", TargetID: strconv.FormatInt(us[0].ID, 10)})
				if err != nil || len(es) != 1 {
					t.Fatalf("one unit.create row, got %d (%v)", len(es), err)
				}
			})
			t.Run("ErrOtherRequestSameKey", func(t *testing.T) {
				other := feature("IDEM-2", "另一个", 102.91, 24.67, 2, 2)
				r := e.do("POST", "/api/v1/units", other, append(e.as("expert1"), key...)...)
				if r.code != 422 || !strings.Contains(string(r.body), "Idempotency-Key") {
					t.Fatalf("same key, other body: %d %s", r.code, r.body)
				}
				if us, _, _ := e.store.FindUnits(context.Background(), riskmap.UnitFilter{Q: "IDEM-2"}); len(us) != 0 {
					t.Fatal("the refused request must write nothing")
				}
			})
			t.Run("KeysArePerUserOK", func(t *testing.T) {
				// Another user's request with the same key is a request of its own: it writes
				// (and here meets the code taken by the first).
				r := e.do("POST", "/api/v1/units", body, append(e.as("expert2"), key...)...)
				if r.code != 409 || r.header.Get("Idempotent-Replayed") != "" {
					t.Fatalf("another user's key: %d %s", r.code, r.body)
				}
			})
			t.Run("LostAnswerRetryOK", func(t *testing.T) {
				// The client sends its create and goes away without reading the answer; the
				// server finishes the write all the same, and the retry with the same key
				// returns that unit.
				body := feature("IDEM-LOST", "丢失应答", 102.91, 24.67, 2, 2)
				conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(conn, "POST /api/v1/units HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nIdempotency-Key: lost-1\r\n"+
					"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", e.tokens["expert1"], len(body), body)
				conn.Close()
				time.Sleep(200 * time.Millisecond)
				r := e.do("POST", "/api/v1/units", body, append(e.as("expert1"), "Idempotency-Key", "lost-1")...)
				if r.code != 201 {
					t.Fatalf("the retry: %d %s", r.code, r.body)
				}
				us, _, err := e.store.FindUnits(context.Background(), riskmap.UnitFilter{Q: "IDEM-LOST"})
				if err != nil || len(us) != 1 {
					t.Fatalf("one unit, got %d (%v)", len(us), err)
				}
				es, _ := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "unit.create", TargetType: "unit", TargetID: strconv.FormatInt(us[0].ID, 10)})
				if len(es) != 1 {
					t.Fatalf("one unit.create row, got %d", len(es))
				}
				if r.header.Get("Idempotent-Replayed") != "true" {
					t.Fatal("the first request, whose client went away, must have been written")
				}
			})
			t.Run("PublicationRetryReplaysOK", func(t *testing.T) {
				pk := []string{"Idempotency-Key", "pub-once"}
				before, _ := e.store.Publications(context.Background())
				one := e.do("POST", "/api/v1/publications", `{"note":"幂等发布"}`, pk...)
				two := e.do("POST", "/api/v1/publications", `{"note":"幂等发布"}`, pk...)
				if one.code != 201 || two.code != 201 || !bytes.Equal(one.body, two.body) || two.header.Get("Idempotent-Replayed") != "true" ||
					two.header.Get("Location") != one.header.Get("Location") {
					t.Fatalf("publish twice with one key: %d %s / %d %s", one.code, one.body, two.code, two.body)
				}
				after, _ := e.store.Publications(context.Background())
				if len(after) != len(before)+1 {
					t.Fatalf("one publication, not %d", len(after)-len(before))
				}
				es, _ := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "publication.create", TargetID: strconv.FormatInt(after[0].Number, 10)})
				if len(es) != 1 || es[0].Status != 201 || es[0].After == nil {
					t.Fatalf("one publication.create row: %+v", es)
				}
			})
			t.Run("ErrBadKey", func(t *testing.T) {
				r := e.do("POST", "/api/v1/units", body, append(e.as("expert1"), "Idempotency-Key", strings.Repeat("k", 256))...)
				if r.code != 400 {
					t.Fatalf("a 256-character key: %d %s", r.code, r.body)
				}
			})
			t.Run("WithoutKeyConflict", func(t *testing.T) {
				r := e.do("POST", "/api/v1/units", body, e.as("expert1")...)
				if r.code != 409 {
					t.Fatalf("the same unit again without a key: %d %s", r.code, r.body)
				}
			})
		})
	}
}

// cutProxy is a TCP proxy on loopback in front of PostgreSQL that the test can cut: every
// open connection is closed and new ones are refused until it is restored. The machine's
// PostgreSQL keeps serving the other tests.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *cutProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *cutProxy) pipe(c net.Conn) {
	if !p.track(c) {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(s) {
		c.Close()
		if s != nil {
			s.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); done <- struct{}{} }()
	go func() { io.Copy(c, s); done <- struct{}{} }()
	<-done
	c.Close()
	s.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestWritesSurviveDatabaseOutage: 64 clients create units over loopback against a server
// on PostGIS while PostgreSQL goes away for 3 s mid-run (a proxy in front of it cuts every
// connection). Afterwards every 201 has its unit, its author and its one unit.create audit
// row, and every other answer was one the client could retry with the same
// Idempotency-Key: the retry returns the unit, written once, never 409 "code already used".
func TestWritesSurviveDatabaseOutage(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	store, err := postgis.OpenConfig(context.Background(), postgis.Config{DSN: u.String(), MaxConns: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := newEnv(t, store)

	const clients, perClient = 64, 8
	type outcome struct {
		code   string
		status int // 0: no answer
		id     string
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
	)
	codeOf := func(c, i int) string { return fmt.Sprintf("OUT-%02d-%02d", c, i) }
	post := func(hc *http.Client, code string) (int, []byte, http.Header) {
		body := feature(code, "断库测试单元 "+code, 102.90+float64(len(code)%7)*0.001, 24.67, 3, 3)
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/units", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tokens["expert1"])
		req.Header.Set("Idempotency-Key", "key-"+code)
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, nil
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b, res.Header
	}
	idOf := func(b []byte) string {
		var f struct {
			ID json.Number `json:"id"`
		}
		_ = json.Unmarshal(b, &f)
		return f.ID.String()
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 20 * time.Second}
			<-start
			for i := range perClient {
				code := codeOf(c, i)
				status, b, _ := post(hc, code)
				mu.Lock()
				outcomes = append(outcomes, outcome{code: code, status: status, id: idOf(b)})
				mu.Unlock()
				time.Sleep(time.Duration(450+c%7*30) * time.Millisecond)
			}
		}()
	}
	close(start)
	time.Sleep(1200 * time.Millisecond)
	proxy.cut()
	time.Sleep(3 * time.Second)
	proxy.restore()
	wg.Wait()

	acked := map[string]string{} // code → id answered with 201
	var failed []string
	byStatus := map[int]int{}
	for _, o := range outcomes {
		byStatus[o.status]++
		if o.status == 201 {
			acked[o.code] = o.id
			continue
		}
		if o.status != 0 && o.status != 503 {
			t.Errorf("%s: a client must be told 201 or 503 (or nothing), got %d", o.code, o.status)
		}
		failed = append(failed, o.code)
	}
	t.Logf("answers during the run: %v", byStatus)
	if len(failed) == 0 {
		t.Fatal("the outage refused no request: the test proves nothing")
	}
	if len(acked) == 0 {
		t.Fatal("no request succeeded")
	}

	// Every refused client retries with the same key; the retry returns the unit.
	hc := &http.Client{Timeout: 20 * time.Second}
	replayed := 0
	for _, code := range failed {
		var status int
		var b []byte
		var h http.Header
		for try := 0; try < 20; try++ {
			if status, b, h = post(hc, code); status != 503 && status != 0 {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if status != 201 {
			t.Errorf("%s: the retry with the same Idempotency-Key must return the unit, got %d %s", code, status, b)
			continue
		}
		if h.Get("Idempotent-Replayed") == "true" {
			replayed++ // written by the first request, whose answer was lost
		}
		acked[code] = idOf(b)
	}
	t.Logf("%d refused requests retried, %d of them had been written (answer replayed)", len(failed), replayed)

	// The store holds exactly the acknowledged units, each once, with author and audit row.
	ctx := context.Background()
	units, _, err := store.FindUnits(ctx, riskmap.UnitFilter{Q: "OUT-"})
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != clients*perClient {
		t.Errorf("want %d units, got %d", clients*perClient, len(units))
	}
	for _, un := range units {
		id := strconv.FormatInt(un.ID, 10)
		if acked[un.Code] != id {
			t.Errorf("unit %s (id %s) in the store, but the client was given id %q", un.Code, id, acked[un.Code])
		}
		a, err := store.UnitAuthor(ctx, un.ID)
		if err != nil || a.CreatedBy != "expert1" || a.UpdatedBy != "expert1" {
			t.Errorf("unit %s: author %+v (%v)", un.Code, a, err)
		}
		es, err := store.AuditEntries(ctx, riskmap.AuditFilter{Action: "unit.create", TargetType: "unit", TargetID: id})
		if err != nil || len(es) != 1 || es[0].Status != 201 || es[0].Actor != "expert1" || es[0].After == nil {
			t.Errorf("unit %s: want one unit.create row with status 201, got %d (%v)", un.Code, len(es), err)
		}
	}
}
