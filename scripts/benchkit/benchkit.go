// Package benchkit holds what the make bench programs under scripts/ share: API tokens for
// the requests they time, the real server in a process of its own, and a process's memory
// as /proc reports it.
package benchkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"riskmap/pkg/riskmap"
)

// TokenStore is what the tokens are written to: either store (PostGIS or GeoPackage).
type TokenStore interface {
	CreateUserRecorded(ctx context.Context, u *riskmap.User, rec riskmap.AccessRecordFunc) error
	CreateAPIToken(ctx context.Context, t *riskmap.APIToken) error
}

// Token adds an expert (named prefix-…) with an API token to the store and returns the
// Authorization header value that uses it: every timed request pays for authentication as
// a real client's does.
func Token(ctx context.Context, store TokenStore, prefix string) (string, error) {
	auth, err := Tokens(ctx, store, prefix, riskmap.RoleExpert, riskmap.TokenScopeFull)
	if err != nil {
		return "", err
	}
	return auth[0], nil
}

// Tokens adds a user of role (named prefix-…) with an API token of each scope
// (riskmap.TokenScopeFull, TokenScopeReadings for a device token …) and returns the
// Authorization header values that use them, in the order of scopes.
func Tokens(ctx context.Context, store TokenStore, prefix, role string, scopes ...string) ([]string, error) {
	secrets := make([]string, len(scopes))
	for i := range scopes {
		secrets[i] = riskmap.APITokenPrefix + riskmap.NewToken()
	}
	u := &riskmap.User{Name: prefix + "-" + riskmap.HashToken(secrets[0])[:8], Role: role, PasswordHash: "$argon2id$unused", CreatedAt: time.Now()}
	if err := store.CreateUserRecorded(ctx, u, nil); err != nil {
		return nil, err
	}
	out := make([]string, len(scopes))
	for i, scope := range scopes {
		if err := store.CreateAPIToken(ctx, &riskmap.APIToken{Name: "make bench", UserID: u.ID, TokenHash: riskmap.HashToken(secrets[i]),
			CreatedBy: "make bench", CreatedAt: time.Now(), Scope: scope}); err != nil {
			return nil, err
		}
		out[i] = "Bearer " + secrets[i]
	}
	return out, nil
}

// Server is a running riskmap serve, in a process of its own.
type Server struct {
	Cmd  *exec.Cmd
	Base string // http://127.0.0.1:port
	// Log is the file of its standard error and output (remove it when done).
	Log *os.File
	// Started is how long it took to answer /readyz.
	Started time.Duration
}

var addrRE = regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)

// Serve starts bin serve --db db --listen 127.0.0.1:0 (and args), its environment's
// RISKMAP_DB, RISKMAP_LISTEN and RISKMAP_READ_DB cleared, and waits until /readyz answers
// 200 (at most 5 minutes).
func Serve(bin, db string, args ...string) (*Server, error) {
	logf, err := os.CreateTemp("", "bench-serve-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, args...)...)
	dieWithParent(cmd)
	cmd.Env = append(os.Environ(), "RISKMAP_DB=", "RISKMAP_LISTEN=", "RISKMAP_READ_DB=")
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Cmd: cmd, Log: logf}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			s.Base = "http://" + m[1]
			break
		}
	}
	go io.Copy(logf, stdout)
	if s.Base == "" {
		cmd.Process.Kill()
		cmd.Wait()
		b, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("riskmap serve 没有说明监听地址就退出了：\n%s", b)
	}
	for {
		res, err := http.Get(s.Base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Since(t0) > 5*time.Minute {
			s.Stop()
			return nil, errors.New("riskmap serve 5 分钟内未就绪（/readyz）")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Started = time.Since(t0)
	return s, nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 30 s) and closes its log. It may be
// called more than once.
func (s *Server) Stop() {
	if s.Cmd.ProcessState != nil {
		return
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.Cmd.Process.Kill()
		<-done
	}
	s.Log.Close()
}

// ErrorLines returns the server log's ERROR lines (at most max of them) and their count.
func (s *Server) ErrorLines(max int) ([]string, int) {
	b, _ := os.ReadFile(s.Log.Name())
	var lines []string
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "level=ERROR") {
			n++
			if len(lines) < max {
				lines = append(lines, l)
			}
		}
	}
	return lines, n
}

// StatusMB returns a field of /proc/PID/status (VmRSS, VmHWM: resident now, at its peak)
// in MB; pid 0 is this process. 0 when it cannot be read.
func StatusMB(pid int, field string) float64 {
	file := "/proc/self/status"
	if pid != 0 {
		file = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, _ := os.ReadFile(file)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
