package webauth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/password"
	"riskmap/pkg/riskmap"
)

// dummyHash is verified against when the user does not exist, so that a login for an
// unknown name takes as long as a wrong password. Made when a server's Auth is made (New),
// not when the package loads: every command (publish, seed, migrate) would pay an argon2id
// hash, about 0.2 s and 64 MB, for nothing.
var dummyHash = sync.OnceValue(func() string {
	h, _ := password.Hash("riskmap-dummy-password-for-timing")
	return h
})

// LoginRefused is a login CheckLogin refused: why, for the audit log, and when the account
// or the address is past its limit, how long the client must wait (Wait > 0, 429).
type LoginRefused struct {
	Reason string
	Wait   time.Duration
	Err    error // the error to answer with when Wait is 0
}

func (e *LoginRefused) Error() string {
	if e.Wait > 0 {
		return fmt.Sprintf(TooManyLogins, e.WaitSeconds())
	}
	return e.Err.Error()
}

func (e *LoginRefused) Unwrap() error { return e.Err }

// TooManyLogins is the message of a refused login that must wait (429): its argument is
// WaitSeconds.
const TooManyLogins = "该账号或该地址登录失败次数过多，请 %d 秒后再试"

// WaitSeconds is how many whole seconds the client must wait (at least 1).
func (e *LoginRefused) WaitSeconds() int { return int(e.Wait/time.Second) + 1 }

// CheckLogin checks a name and password: the throttle first (a proven device is not held
// back by its address), then the argon2id hash, in a slot of the gate. It returns the user,
// or a *LoginRefused (throttled, server busy, wrong name or password, account disabled), or
// the store's error.
func (a *Auth) CheckLogin(c echo.Context, name, pw string) (*riskmap.User, error) {
	ctx := c.Request().Context()
	addr := c.RealIP()
	attempt := a.now()
	proven := a.provenDevice(c, name, attempt)
	if wait := a.throttle.begin(name, addr, proven, attempt); wait > 0 {
		return nil, &LoginRefused{Reason: "登录失败次数过多，已暂时限制", Wait: wait}
	}
	u, err := a.store.UserByName(ctx, name)
	if err != nil && riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
		return nil, err
	}
	ok := false
	// At most one hash per core runs at once; a flood past the queue gets 503 at once. The
	// attempt stays counted: a guess refused for want of time is still a guess.
	if err := a.hashes.run(ctx, func() {
		if u != nil {
			ok, _ = password.Verify(u.PasswordHash, pw)
		} else {
			_, _ = password.Verify(dummyHash(), pw)
		}
	}); err != nil {
		return nil, &LoginRefused{Reason: "服务器繁忙", Err: err}
	}
	if !ok || u.Disabled {
		a.announce(ctx, riskmap.LoginAttempt{Account: name, Addr: addr, Proven: proven})
		reason := "用户名或密码错误"
		if ok && u.Disabled {
			reason = "账号已停用"
		}
		return nil, &LoginRefused{Reason: reason, Err: riskmap.Errorf(riskmap.EUNAUTHORIZED, "用户名或密码错误，或账号已停用")}
	}
	a.throttle.succeed(name, addr, attempt)
	a.announce(ctx, riskmap.LoginAttempt{Account: name, Addr: addr, OK: true})
	return u, nil
}

// announce tells the other replicas of a login attempt, when the store is shared; a
// failure to do so is logged, never the login's concern.
func (a *Auth) announce(ctx context.Context, at riskmap.LoginAttempt) {
	if ann, ok := a.store.(LoginAnnouncer); ok {
		if err := ann.AnnounceLogin(ctx, at); err != nil {
			a.logger.Warn("announcing a login attempt to other replicas", "err", err)
		}
	}
}

// HearLogin takes a login attempt another replica made (LoginAnnouncer): a failure counts
// against the account and (unless proven) the address here too, as if it had been made
// here now; a success forgives the account's failures.
func (a *Auth) HearLogin(at riskmap.LoginAttempt) {
	if at.OK {
		a.throttle.forgive(at.Account)
		return
	}
	a.throttle.count(at.Account, at.Addr, at.Proven, a.now())
}

// StartSession starts a session for u, whom CheckLogin let in, and sets its cookie and the
// device cookie. Any session the browser still presented ends in the same transaction: a
// login always rotates the token. rec builds the session.login audit row.
func (a *Auth) StartSession(c echo.Context, u *riskmap.User, rec riskmap.AccessRecordFunc) (*riskmap.Session, error) {
	replaces := ""
	if old := a.sessionCookie(c); old != "" {
		replaces = riskmap.HashToken(old)
	}
	now := a.now()
	tok := riskmap.NewToken()
	sess := &riskmap.Session{TokenHash: riskmap.HashToken(tok), UserID: u.ID, CSRF: riskmap.NewToken(), CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(a.cfg.SessionMax), ClientAddr: c.RealIP(), UserAgent: clip(c.Request().UserAgent())}
	// The old session's end, the new session and the session.login row commit together.
	if err := a.store.CreateSessionRecorded(c.Request().Context(), sess, replaces, rec); err != nil {
		return nil, err
	}
	if replaces != "" {
		a.Forget()
	}
	a.setSessionCookie(c, tok, sess.ExpiresAt)
	a.rememberDevice(c, u.Name, now)
	return sess, nil
}

// EndSession ends sess (nil: the request had none), with the session.logout row rec
// builds in the same transaction, and clears the browser's session cookie.
func (a *Auth) EndSession(c echo.Context, sess *riskmap.Session, rec riskmap.AccessRecordFunc) error {
	if sess != nil {
		if err := a.store.DeleteSessionRecorded(c.Request().Context(), sess.TokenHash, rec); err != nil {
			return err
		}
		a.Forget()
	}
	a.setSessionCookie(c, "", time.Time{})
	return nil
}

// throttle counts failed logins per account and per client address in a sliding window.
// It lives in the process; with a shared store each replica also counts the attempts the
// others announce (Auth.HearLogin).
type throttle struct {
	mu        sync.Mutex
	window    time.Duration
	perAcct   int
	perAddr   int
	byAccount map[string][]time.Time
	byAddr    map[string][]time.Time
}

func newThrottle(a Config) *throttle {
	return &throttle{window: a.LoginWindow, perAcct: a.LoginFailuresPerAccount, perAddr: a.LoginFailuresPerAddr,
		byAccount: map[string][]time.Time{}, byAddr: map[string][]time.Time{}}
}

func (t *throttle) prune(m map[string][]time.Time, k string, now time.Time) []time.Time {
	v := m[k]
	i := 0
	for i < len(v) && now.Sub(v[i]) >= t.window {
		i++
	}
	v = v[i:]
	if len(v) == 0 {
		delete(m, k)
		return nil
	}
	m[k] = v
	return v
}

// begin starts a login attempt for account from addr. It returns how long the client
// must wait when the account or the address is past its limit; otherwise it counts the
// attempt as a failure at once, before the (slow) password check, so that parallel guesses
// are counted too, and returns 0. succeed takes the count back. A proven attempt comes from
// a browser that has logged in to this account before (a device cookie): it is neither held
// back by nor counted against the address, so that one office behind one address is not
// locked out by guesses from a neighbour; the account's own limit holds for everyone.
func (t *throttle) begin(account, addr string, proven bool, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := account // exact, as the store compares names
	var wait time.Duration
	if v := t.prune(t.byAccount, k, now); len(v) >= t.perAcct {
		wait = max(wait, t.window-now.Sub(v[len(v)-t.perAcct]))
	}
	if v := t.prune(t.byAddr, addr, now); len(v) >= t.perAddr && !proven {
		wait = max(wait, t.window-now.Sub(v[len(v)-t.perAddr]))
	}
	if wait > 0 {
		return wait
	}
	t.add(account, addr, proven, now)
	return 0
}

// forgive forgets the account's failures (a login to it succeeded, here or elsewhere).
func (t *throttle) forgive(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byAccount, account)
}

// count counts a failed attempt made elsewhere (another replica).
func (t *throttle) count(account, addr string, proven bool, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(t.byAccount, account, now)
	t.prune(t.byAddr, addr, now)
	t.add(account, addr, proven, now)
}

// add counts an attempt; t.mu is held.
func (t *throttle) add(account, addr string, proven bool, now time.Time) {
	t.byAccount[account] = append(t.byAccount[account], now)
	if !proven {
		t.byAddr[addr] = append(t.byAddr[addr], now)
	}
	if len(t.byAddr) > 100000 || len(t.byAccount) > 100000 { // a flood must not grow memory without end
		for a := range t.byAddr {
			t.prune(t.byAddr, a, now)
		}
		for a := range t.byAccount {
			t.prune(t.byAccount, a, now)
		}
	}
}

// succeed takes back the attempt a successful login counted: the account's failures are
// forgiven, the address keeps its earlier ones.
func (t *throttle) succeed(account, addr string, at time.Time) {
	t.forgive(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.byAddr[addr]
	for i := len(v) - 1; i >= 0; i-- {
		if v[i].Equal(at) {
			t.byAddr[addr] = append(v[:i:i], v[i+1:]...)
			break
		}
	}
}
