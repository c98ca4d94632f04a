package webauth

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"riskmap/pkg/password"
	"riskmap/pkg/riskmap"
)

// hashGate bounds the password hashes computed at once. Each argon2id hash takes 64 MiB and
// a core for a moment, so a flood of logins (from many addresses, for names that need not
// exist) would otherwise take all memory: at most one hash per core runs, a short queue
// waits, and a request past the queue gets 503 with Retry-After at once.
type hashGate struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	maxWait time.Duration
}

// newHashGate makes a gate of n slots (default: GOMAXPROCS) and a queue of q waiters
// (default 8 per slot).
func newHashGate(n, q int) *hashGate {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if q <= 0 {
		q = 8 * n
	}
	return &hashGate{slots: make(chan struct{}, n), queue: int64(q), maxWait: 30 * time.Second}
}

// ErrBusy is the answer (503; the HTTP API adds Retry-After) when the queue is full or the wait too long.
var ErrBusy = riskmap.Errorf(riskmap.EUNAVAILABLE, "登录请求过多，服务器正忙，请稍后重试")

// run computes f in a slot, waiting for one in the queue if needed.
func (g *hashGate) run(ctx context.Context, f func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		if g.waiting.Add(1) > g.queue {
			g.waiting.Add(-1)
			return ErrBusy
		}
		t := time.NewTimer(g.maxWait)
		select {
		case g.slots <- struct{}{}:
			g.waiting.Add(-1)
			t.Stop()
		case <-t.C:
			g.waiting.Add(-1)
			return ErrBusy
		case <-ctx.Done():
			g.waiting.Add(-1)
			t.Stop()
			return ErrBusy
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}

// HashPassword hashes a new password in a slot of the gate that bounds the hashes computed
// at once; ErrBusy when none is free in time.
func (a *Auth) HashPassword(ctx context.Context, pw string) (string, error) {
	var hash string
	var err error
	if gerr := a.hashes.run(ctx, func() { hash, err = password.Hash(pw) }); gerr != nil {
		return "", gerr
	}
	return hash, err
}
