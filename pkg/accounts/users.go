package accounts

import (
	"context"
	"strings"

	"riskmap/pkg/password"
	"riskmap/pkg/riskmap"
)

// Users returns every user, ordered by name.
func (s *Service) Users(ctx context.Context) ([]*riskmap.User, error) { return s.Store.Users(ctx) }

// Person is how a user is named to everyone who logs in: its login, 姓名 and 单位; never
// its phone, role, scope or whether it is disabled.
type Person struct {
	Name         string
	DisplayName  string
	Organisation string
}

// People returns every user as a Person, ordered by login, disabled ones included: they
// still name the records they wrote.
func (s *Service) People(ctx context.Context) ([]Person, error) {
	us, err := s.Store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Person, len(us))
	for i, u := range us {
		out[i] = Person{Name: u.Name, DisplayName: u.DisplayName, Organisation: u.Organisation}
	}
	return out, nil
}

// tidy trims the spaces around a user's profile, as people type them.
func tidy(u *riskmap.User) {
	u.DisplayName, u.Organisation, u.Phone = strings.TrimSpace(u.DisplayName), strings.TrimSpace(u.Organisation), strings.TrimSpace(u.Phone)
}

// User returns the user named name; ENOTFOUND if there is none.
func (s *Service) User(ctx context.Context, name string) (*riskmap.User, error) {
	return s.Store.UserByName(ctx, name)
}

// Create stores the new user u with the password pw, or a generated one when pw is nil
// or empty, and returns the password. EINVALID for a weak password or an invalid user
// (checked in that order), ECONFLICT for a name taken, EUNAVAILABLE when no password hash
// can be computed now.
func (s *Service) Create(ctx context.Context, u *riskmap.User, pw *string, rec Recorder) (string, error) {
	p, err := s.setPassword(ctx, u, pw)
	if err != nil {
		return "", err
	}
	u.CreatedAt = s.now()
	tidy(u)
	if err := u.Validate(s.Catalog); err != nil {
		return "", err
	}
	// The user and its audit row commit together.
	if err := s.Store.CreateUserRecorded(ctx, u, records(Change{After: u}, rec)); err != nil {
		return "", err
	}
	return p, nil
}

// Update changes u (from User) as up says (its profile, role, department, scope, or
// whether it is disabled), on behalf of by (nil: the system). ECONFLICT
// when an admin would disable itself or take away its own admin role, EINVALID when the
// user would be invalid. A disabled user is cut off at once: its sessions end with the
// change, in its transaction with its audit row (its tokens stop working because every
// request checks the user).
func (s *Service) Update(ctx context.Context, by, u *riskmap.User, up riskmap.UserUpdate, rec Recorder) error {
	if by != nil && u.ID == by.ID && ((up.Disabled != nil && *up.Disabled) || (up.Role != nil && *up.Role != riskmap.RoleAdmin)) {
		return riskmap.Errorf(riskmap.ECONFLICT, "不能停用自己或取消自己的管理员角色；请另一位管理员操作")
	}
	before := *u
	up.Apply(u)
	tidy(u)
	if err := u.Validate(s.Catalog); err != nil {
		return err
	}
	if _, err := s.Store.UpdateUserRecorded(ctx, u, u.Disabled, records(Change{Before: &before, After: u}, rec)); err != nil {
		return err
	}
	s.forget() // role, scope or disabled changed: no request may use the old ones
	return nil
}

// ResetPassword gives u (from User) the password pw, or a generated one when pw is nil or
// empty, ends its sessions, and returns the password.
func (s *Service) ResetPassword(ctx context.Context, u *riskmap.User, pw *string, rec Recorder) (string, error) {
	p, err := s.setPassword(ctx, u, pw)
	if err != nil {
		return "", err
	}
	// The new password, the end of the user's sessions and the audit row commit together.
	if _, err := s.Store.UpdateUserRecorded(ctx, u, true, records(Change{After: u}, rec)); err != nil {
		return "", err
	}
	s.forget()
	return p, nil
}

// setPassword sets u's password hash to that of pw (checked), or of a generated password
// when pw is nil or empty, and returns the password.
func (s *Service) setPassword(ctx context.Context, u *riskmap.User, pw *string) (string, error) {
	p, err := newPassword(pw)
	if err != nil {
		return "", err
	}
	hash := password.Hash
	if s.Hash != nil {
		hash = func(pw string) (string, error) { return s.Hash(ctx, pw) }
	}
	if u.PasswordHash, err = hash(p); err != nil {
		return "", err
	}
	return p, nil
}

// newPassword returns the password asked for (checked) or a generated one.
func newPassword(pw *string) (string, error) {
	if pw == nil || *pw == "" {
		return password.Generate(), nil
	}
	if err := password.Check(*pw); err != nil {
		return "", riskmap.Errorf(riskmap.EINVALID, "%s", riskmap.TextOf(err))
	}
	return *pw, nil
}
