package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
)

// run runs one command to completion, as the binary would, and returns its output.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), &out, &errb
	m.Getenv = func(string) string { return "" }
	if err = m.ParseFlags(args); err == nil {
		err = m.Run(context.Background())
		if cerr := m.Close(); err == nil {
			err = cerr
		}
	}
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, err := run(t, "", args...)
	if err != nil {
		t.Fatalf("riskmap %s: %v\n%s", strings.Join(args, " "), err, errs)
	}
	return out
}

// serve starts "riskmap serve" on a free port and returns its base URL and output.
func serve(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	m := NewMain()
	m.Stdout, m.Stderr = out, io.Discard
	m.Getenv = func(string) string { return "" }
	if err := m.ParseFlags(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		m.Close()
	})
	return "http://" + m.Addr.String(), out
}

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeFirstStartGeoPackage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "riskmap.gpkg")
	base, out := serve(t, "--demo", "--db", db)
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	text := out.String()
	if !strings.Contains(text, "已载入演示城市澄江市") || !strings.Contains(text, "riskmap 已启动："+base) {
		t.Fatalf("first start must say it loaded the demo city and where it serves:\n%s", text)
	}
	pw := regexp.MustCompile(`请以 admin 登录，密码 (\S+?)（`).FindStringSubmatch(text)
	if pw == nil || len(pw[1]) < 12 {
		t.Fatalf("first start must print a generated admin password:\n%s", text)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the GeoPackage file must be created: %v", err)
	}
	s, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if u, err := s.UserByName(context.Background(), "admin"); err != nil || u.DisplayName != "系统管理员" || u.Role != riskmap.RoleAdmin {
		t.Fatalf("the first admin: %+v (%v), want 姓名 系统管理员", u, err)
	}
}

func TestServeSecondStartKeepsData(t *testing.T) {
	db := demoGPKG(t, "riskmap.gpkg")
	mustRun(t, "user", "add", "--db", db, "--name", "admin", "--role", "admin")
	_, out := serve(t, "--demo", "--db", db)
	if s := out.String(); strings.Contains(s, "密码") || strings.Contains(s, "正在载入演示城市") {
		t.Fatalf("a later start must neither reload the demo nor print a password:\n%s", s)
	}
}

func TestSeedDemoAndSyntheticGeoPackage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.gpkg")
	out := mustRun(t, "seed", "--db", db, "--demo")
	if !strings.Contains(out, "个风险单元") {
		t.Fatalf("seed --demo output: %s", out)
	}
	if _, _, err := run(t, "", "seed", "--db", db, "--demo"); err == nil || !strings.Contains(err.Error(), "空的数据库") {
		t.Fatalf("seeding the demo twice must be refused, got %v", err)
	}
	mustRun(t, "seed", "--db", db, "--synthetic", "300", "--seed", "7")
	if _, _, err := run(t, "", "seed", "--db", db, "--synthetic", "10", "--seed", "7"); err == nil || !strings.Contains(err.Error(), "--seed") {
		t.Fatalf("the same seed twice must be refused with a hint, got %v", err)
	}

	// Same seed in another store: the same units.
	db2 := filepath.Join(dir, "r2.gpkg")
	mustRun(t, "seed", "--db", db2, "--synthetic", "300", "--seed", "7")
	a := synthetic(t, db, 300)
	b := synthetic(t, db2, 300)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("--synthetic with the same seed must give the same units; unit %d: %s vs %s", i, a[i], b[i])
		}
	}
}

// synthetic returns a fingerprint of the synthetic units of a store.
func synthetic(t *testing.T, db string, want int) []string {
	t.Helper()
	s, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	us, _, err := s.FindUnits(context.Background(), riskmap.UnitFilter{Q: "SYN"})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != want {
		t.Fatalf("want %d synthetic units, got %d", want, len(us))
	}
	var out []string
	grades := map[riskmap.Grade]int{}
	for _, u := range us {
		b, _ := json.Marshal([]any{u.Code, u.Name, u.Category, u.Grade, u.RegionCode, u.Geometry})
		out = append(out, string(b))
		grades[u.Grade]++
		if u.Explanation.Text == "" {
			t.Fatalf("synthetic unit %s has no grade explanation", u.Code)
		}
	}
	if len(grades) != 4 {
		t.Fatalf("synthetic units must cover all four grades, got %v", grades)
	}
	return out
}

func TestUserAdd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "u.gpkg")
	out, _, err := run(t, "a-long-enough-password\n", "user", "add", "--db", db, "--name", "zhujian", "--role", "department",
		"--department", "住建局", "--categories", "construction,old_buildings", "--regions", "530481001", "--password-stdin")
	if err != nil || !strings.Contains(out, "已创建用户 zhujian") || strings.Contains(out, "密码") {
		t.Fatalf("user add: %v %q", err, out)
	}
	out = mustRun(t, "user", "add", "--db", db, "--name", "liexp", "--role", "expert",
		"--display-name", "李明", "--organisation", "云南省安全生产专家库", "--phone", "13800001111")
	if !strings.Contains(out, "已创建用户 liexp（expert）：李明（云南省安全生产专家库）") {
		t.Fatalf("user add with a profile: %q", out)
	}
	out = mustRun(t, "user", "add", "--db", db, "--name", "expert1", "--role", "expert")
	if !regexp.MustCompile(`初始密码：\S{20}`).MatchString(out) {
		t.Fatalf("without --password-stdin a password is generated and printed once: %q", out)
	}
	cases := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"ErrDuplicate", "", []string{"--name", "zhujian", "--role", "admin"}, "zhujian"},
		{"ErrRole", "", []string{"--name", "x", "--role", "root"}, "role"},
		{"ErrDepartmentNeedsScope", "", []string{"--name", "d", "--role", "department"}, "categories"},
		{"ErrUnknownCategory", "", []string{"--name", "d", "--role", "department", "--categories", "nope", "--regions", "53"}, "nope"},
		{"ErrPhone", "", []string{"--name", "q", "--role", "expert", "--phone", "前台"}, "phone"},
		{"ErrShortPassword", "short\n", []string{"--name", "p", "--role", "expert", "--password-stdin"}, "至少"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.stdin, append([]string{"user", "add", "--db", db}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(oneLine(err), "\n") {
				t.Fatalf("want a one-line error about %q, got %v", tc.want, err)
			}
		})
	}
}

func TestRegrade(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "g.gpkg")
	mustRun(t, "seed", "--db", db, "--synthetic", "400", "--seed", "3")
	out := mustRun(t, "regrade", "--db", db)
	if !strings.Contains(out, "复核 400 个风险单元，0 个的等级或说明有变化") {
		t.Fatalf("regrading with unchanged thresholds changes nothing: %s", out)
	}
	cfg := filepath.Join(dir, "strict.json")
	if err := os.WriteFile(cfg, []byte(`{"grading":{
		"ls":{"bands":[{"grade":"red","min":10},{"grade":"orange","min":6},{"grade":"yellow","min":3},{"grade":"blue","min":1}]},
		"lec":{"bands":[{"grade":"red","above":160},{"grade":"orange","above":70},{"grade":"yellow","above":20},{"grade":"blue","above":0}]},
		"review_months":{"red":1,"orange":3,"yellow":6,"blue":12}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	before := grades(t, db)
	out = mustRun(t, "regrade", "--db", db, "--config", cfg)
	after := grades(t, db)
	if after[riskmap.GradeRed] <= before[riskmap.GradeRed] || strings.Contains(out, "，0 个的等级或说明有变化") {
		t.Fatalf("stricter thresholds must raise grades: before %v after %v (%s)", before, after, out)
	}
}

func grades(t *testing.T, db string) map[riskmap.Grade]int {
	t.Helper()
	s, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[riskmap.Grade]int{}
	for u, err := range s.Units(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out[u.Grade]++
	}
	return out
}

func TestCommandLineErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"ErrNoCommand", nil, "没有给出命令"},
		{"ErrUnknownCommand", []string{"frobnicate"}, "未知命令"},
		{"ErrSeedNothing", []string{"seed"}, "两者之一"},
		{"ErrSeedBoth", []string{"seed", "--demo", "--synthetic", "5"}, "两者之一"},
		{"ErrUserNoAdd", []string{"user", "list"}, "user add"},
		{"ErrStray", []string{"migrate", "extra"}, "多余的参数"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain()
			m.Stdout, m.Stderr = io.Discard, io.Discard
			m.Getenv = func(string) string { return "" }
			err := m.ParseFlags(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
	t.Run("ErrReadDBWithGeoPackage", func(t *testing.T) {
		_, _, err := run(t, "", "serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "x.gpkg"), "--read-db", "postgres://127.0.0.1:5433/x")
		if err == nil || !strings.Contains(err.Error(), "--read-db 是 PostGIS 热备库") {
			t.Fatalf("want the read-db refusal, got %v", err)
		}
	})
	t.Run("ErrBadConfig", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "c.json")
		os.WriteFile(cfg, []byte(`{"grading": {"ls": 5}}`), 0o644)
		_, _, err := run(t, "", "migrate", "--db", filepath.Join(t.TempDir(), "x.gpkg"))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = run(t, "", "regrade", "--db", filepath.Join(t.TempDir(), "x.gpkg"), "--config", cfg)
		if err == nil || !strings.Contains(err.Error(), "c.json") {
			t.Fatalf("a bad config file must be named in the error, got %v", err)
		}
	})
	t.Run("ErrUnreachablePostgresHidesPassword", func(t *testing.T) {
		_, _, err := run(t, "", "migrate", "--db", "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2")
		if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "***") {
			t.Fatalf("want an error without the password, got %v", err)
		}
	})
}

func TestPostGIS(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "migrate", "--db", dsn)
	out := mustRun(t, "seed", "--db", dsn, "--demo")
	if !strings.Contains(out, "已载入演示城市") {
		t.Fatalf("seed --demo on PostGIS: %s", out)
	}
	mustRun(t, "seed", "--db", dsn, "--synthetic", "500", "--seed", "11")
	mustRun(t, "user", "add", "--db", dsn, "--name", "yingji", "--role", "department", "--categories", "hazardous_chemicals", "--regions", "530481")
	out = mustRun(t, "regrade", "--db", dsn)
	if !strings.Contains(out, "，0 个的等级或说明有变化") {
		t.Fatalf("regrade: %s", out)
	}
	base, _ := serve(t, "--db", dsn)
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz on PostGIS: %d", code)
	}
}
