// Package benchkit holds what the make bench programs under scripts/ share: an API token
// for the requests they time, and a process's memory as /proc reports it.
package benchkit

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

// Token adds an expert (named prefix-…) with an API token to the store and returns the
// Authorization header value that uses it: every timed request pays for authentication as
// a real client's does.
func Token(ctx context.Context, store *postgis.Store, prefix string) (string, error) {
	secret := riskmap.APITokenPrefix + riskmap.NewToken()
	u := &riskmap.User{Name: prefix + "-" + riskmap.HashToken(secret)[:8], Role: riskmap.RoleExpert, PasswordHash: "$argon2id$unused", CreatedAt: time.Now()}
	if err := store.CreateUserRecorded(ctx, u, nil); err != nil {
		return "", err
	}
	if err := store.CreateAPIToken(ctx, &riskmap.APIToken{Name: "make bench", UserID: u.ID, TokenHash: riskmap.HashToken(secret),
		CreatedBy: "make bench", CreatedAt: time.Now()}); err != nil {
		return "", err
	}
	return "Bearer " + secret, nil
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
