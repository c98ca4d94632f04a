// Package webauth says who is asking an HTTP request and keeps browsers' sessions: it reads
// the session cookie, a bearer API token or an API token sent by HTTP Basic, trusts what it
// looked up for a moment (the auth cache), checks the CSRF token and the origin of writes
// made with a cookie, and guards logins (the throttle, the device cookie, the argon2 gate).
// It decides nothing about routes: the HTTP API holds the route table and its access rules
// and asks this package who the caller is.
package webauth

import (
	"context"
	"log/slog"
	"net"
	"time"

	"riskmap/pkg/riskmap"
)

// Config tunes sessions, tokens and login throttling. Zero values take the defaults.
type Config struct {
	// SessionIdle ends a session this long after its last request (default 30 minutes).
	SessionIdle time.Duration
	// SessionMax ends a session this long after login, however busy (default 12 hours).
	SessionMax time.Duration
	// TrustedProxies are the networks of reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Empty: the client address is the socket's.
	TrustedProxies []*net.IPNet
	// LoginWindow, LoginFailuresPerAccount and LoginFailuresPerAddr bound failed logins:
	// past the limit within the window, logins for that account or from that address get
	// 429 until the window has passed (defaults 15 minutes, 5 and 20).
	LoginWindow             time.Duration
	LoginFailuresPerAccount int
	LoginFailuresPerAddr    int
}

func (a *Config) defaults() {
	orDefault(&a.SessionIdle, 30*time.Minute)
	orDefault(&a.SessionMax, 12*time.Hour)
	orDefault(&a.LoginWindow, 15*time.Minute)
	orDefault(&a.LoginFailuresPerAccount, 5)
	orDefault(&a.LoginFailuresPerAddr, 20)
}

// orDefault sets a setting that is zero or less to its default.
func orDefault[T time.Duration | int](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Store is what identification and logins need of the store.
type Store interface {
	UserByName(ctx context.Context, name string) (*riskmap.User, error)
	UserByID(ctx context.Context, id int64) (*riskmap.User, error)
	APITokenByHash(ctx context.Context, hash string) (*riskmap.APIToken, error)
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
	SessionByHash(ctx context.Context, hash string) (*riskmap.Session, error)
	TouchSession(ctx context.Context, hash string, at time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	CreateSessionRecorded(ctx context.Context, s *riskmap.Session, replaces string, rec riskmap.AccessRecordFunc) error
	DeleteSessionRecorded(ctx context.Context, hash string, rec riskmap.AccessRecordFunc) error
}

// LoginAnnouncer is a store shared by replicas (PostGIS) that can tell the others of a
// login attempt, so that the throttle counts a guess on every replica at once: each
// replica hears the others' attempts and passes them to Auth.HearLogin.
type LoginAnnouncer interface {
	AnnounceLogin(ctx context.Context, a riskmap.LoginAttempt) error
}

// Auth identifies callers and keeps their sessions. One serves a whole server; it is safe
// for concurrent use.
type Auth struct {
	cfg       Config
	store     Store
	deviceKey []byte
	logger    *slog.Logger
	clock     func() time.Time
	cache     cache
	throttle  *throttle
	hashes    *hashGate
}

// New makes the Auth of a server. deviceKey signs device cookies (every replica must have
// the same; empty: a random key for this process); now is the clock (nil: time.Now).
func New(cfg Config, store Store, deviceKey []byte, logger *slog.Logger, now func() time.Time) *Auth {
	cfg.defaults()
	if len(deviceKey) == 0 {
		deviceKey = []byte(riskmap.NewToken())
	}
	if logger == nil {
		logger = slog.Default()
	}
	// Made now, in the background, so that the first login of an unknown name takes no
	// longer than the others (a longer one would tell, once per replica, that it is unknown).
	go dummyHash()
	return &Auth{cfg: cfg, store: store, deviceKey: deviceKey, logger: logger, clock: now,
		throttle: newThrottle(cfg), hashes: newHashGate(0, 0)}
}

func (a *Auth) now() time.Time {
	if a.clock != nil {
		return a.clock().UTC()
	}
	return time.Now().UTC()
}

// Principal is who is asking: a user through a session cookie or an API token, or nobody.
type Principal struct {
	User    *riskmap.User
	Session *riskmap.Session
	Token   *riskmap.APIToken
	// Ended is set when a cookie or token was presented but is no longer valid: why
	// (EndedSession, EndedExpired, EndedDisabled).
	Ended string
}

// Why a presented session is no longer valid (Principal.Ended).
const (
	EndedSession  = "会话已结束"
	EndedExpired  = "会话已过期"
	EndedDisabled = "账号已停用"
)
