package hazards

import (
	"sync"
	"time"
)

// Limiter throttles an anonymous write per client: at most PerMinute in any minute and
// PerDay in any day. It keeps, in memory, the times of each client's recent writes.
type Limiter struct {
	PerMinute, PerDay int
	mu                sync.Mutex
	seen              map[string][]time.Time
	sweep             time.Time
}

// NewLimiter makes a limiter of perMinute and perDay writes per client.
func NewLimiter(perMinute, perDay int) *Limiter {
	return &Limiter{PerMinute: perMinute, PerDay: perDay, seen: map[string][]time.Time{}}
}

// Public report limits per client address.
const (
	ReportsPerMinute = 5
	ReportsPerDay    = 30
)

// Allow counts a write of client at now if the limits allow it. Otherwise it counts
// nothing and says how long the client must wait.
func (l *Limiter) Allow(client string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]time.Time{}
	}
	if now.Sub(l.sweep) > time.Hour {
		l.sweep = now
		for k, ts := range l.seen {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= 24*time.Hour {
				delete(l.seen, k)
			}
		}
	}
	ts := l.seen[client]
	// Forget what is older than a day.
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= 24*time.Hour {
		i++
	}
	ts = ts[i:]
	if l.PerDay > 0 && len(ts) >= l.PerDay {
		l.seen[client] = ts
		return false, ts[len(ts)-l.PerDay].Add(24 * time.Hour).Sub(now)
	}
	if l.PerMinute > 0 && len(ts) >= l.PerMinute {
		if first := ts[len(ts)-l.PerMinute]; now.Sub(first) < time.Minute {
			l.seen[client] = ts
			return false, first.Add(time.Minute).Sub(now)
		}
	}
	l.seen[client] = append(ts, now)
	return true, 0
}
