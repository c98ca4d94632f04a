package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoginFloodMemory is issue 11's defect 5: every login attempt ran argon2id with
// 64 MiB, unbounded, so 40 addresses × 40 names in parallel took the server to 2.6 GiB. The
// server under test is the real binary (built here without the race detector, whose shadow
// memory would swamp the figure), and its peak RSS is read from /proc after 200 parallel bad
// logins from 40 loopback addresses, under the per-address limit.
func TestLoginFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := builtBinary(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "flood.gpkg"))
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2", "RISKMAP_DB=", "RISKMAP_LISTEN=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := ""
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = "http://" + m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("the server did not say where it serves")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	before := peakRSS(t, cmd.Process.Pid)

	const clients, addrs = 200, 40
	codes := make([]int, clients)
	retry := make([]string, clients)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%addrs))}
			tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: local}).DialContext}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
			<-start
			body := fmt.Sprintf(`{"username":"nobody-%d","password":"wrong password %d"}`, i, i)
			req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/api/v1/session", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			res, err := cl.Do(req)
			if err != nil {
				t.Errorf("login %d: %v", i, err)
				return
			}
			res.Body.Close()
			codes[i], retry[i] = res.StatusCode, res.Header.Get("Retry-After")
		}()
	}
	close(start)
	wg.Wait()
	peak := peakRSS(t, cmd.Process.Pid)
	count := map[int]int{}
	for i, c := range codes {
		count[c]++
		if c == 503 && retry[i] == "" {
			t.Errorf("login %d: 503 without Retry-After", i)
		}
		if c != 401 && c != 503 {
			t.Errorf("login %d: %d, want 401 (wrong password) or 503 (busy, try again)", i, c)
		}
	}
	t.Logf("200 parallel bad logins: %v; peak RSS %d MiB (%d MiB before)", count, peak>>20, before>>20)
	if count[401] == 0 {
		t.Error("no login was checked at all")
	}
	// One argon2id hash takes 64 MiB; at most one per core runs at once. Unbounded, 200
	// would need 12.5 GiB.
	if peak > 640<<20 {
		t.Fatalf("peak RSS %d MiB under 200 parallel bad logins, want < 640 MiB", peak>>20)
	}
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
