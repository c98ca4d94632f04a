// Package accounts owns the use cases of users and API tokens: creating, changing,
// disabling and listing users, resetting their passwords, and creating, listing and
// revoking API tokens. It validates (riskmap.User.Validate, riskmap.APIToken.Validate),
// hashes passwords, refuses an admin locking itself out, and writes each change with its
// audit record in one transaction through the store's …Recorded methods. Who may call it
// is the caller's business: the HTTP API lets admins only.
package accounts

import (
	"context"
	"time"

	"riskmap/pkg/riskmap"
)

// Store is what the service needs of the store (riskmap.UserStore and riskmap.AccessStore).
type Store interface {
	UserByName(ctx context.Context, name string) (*riskmap.User, error)
	Users(ctx context.Context) ([]*riskmap.User, error)
	CreateUserRecorded(ctx context.Context, u *riskmap.User, rec riskmap.AccessRecordFunc) error
	UpdateUserRecorded(ctx context.Context, u *riskmap.User, endSessions bool, rec riskmap.AccessRecordFunc) (int, error)
	APITokens(ctx context.Context) ([]*riskmap.APIToken, error)
	CreateAPITokenRecorded(ctx context.Context, t *riskmap.APIToken, rec riskmap.AccessRecordFunc) error
	RevokeAPITokenRecorded(ctx context.Context, id int64, at time.Time, rec riskmap.AccessRecordFunc) error
}

// Service runs the use cases of users and API tokens.
type Service struct {
	Store   Store
	Catalog *riskmap.Catalog
	// Hash hashes a new password; nil is password.Hash. The HTTP API passes its gate's
	// (webauth.Auth.HashPassword), which bounds the hashes computed at once.
	Hash func(ctx context.Context, pw string) (string, error)
	// Forget is called after a change that must cut off credentials at once (a user
	// changed or disabled, a password reset, a token revoked): the HTTP API's auth cache
	// forgets what it trusted. nil: nothing to forget.
	Forget func()
	// Now returns the current time; nil is time.Now.
	Now func() time.Time
}

// Change is what a write did: the user before and after (nil when there is none), or the
// token written.
type Change struct {
	Before *riskmap.User
	After  *riskmap.User
	Token  *riskmap.APIToken
}

// Recorder builds what a write keeps with it (the audit row) from the change as written.
// The store calls it inside the write's transaction; an error rolls the write back. nil
// records nothing.
type Recorder func(ch Change) (*riskmap.WriteRecords, error)

// records is the store's AccessRecordFunc of a write: rec called with ch, whose pointers
// the store has filled in (ids) by then.
func records(ch Change, rec Recorder) riskmap.AccessRecordFunc {
	if rec == nil {
		return nil
	}
	return func() (*riskmap.WriteRecords, error) { return rec(ch) }
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) forget() {
	if s.Forget != nil {
		s.Forget()
	}
}
