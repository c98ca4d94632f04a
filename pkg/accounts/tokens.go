package accounts

import (
	"context"

	"riskmap/pkg/riskmap"
)

// Tokens returns every API token, newest first.
func (s *Service) Tokens(ctx context.Context) ([]*riskmap.APIToken, error) {
	return s.Store.APITokens(ctx)
}

// CreateToken stores the new token t (Name, Scope, and UserName: the user it acts as; a
// scrape token, which reads metrics only, and a device token, which writes readings only,
// may leave it empty to act as by) made by by, and
// returns its secret, which is shown once and never kept. EINVALID for an invalid token or
// a user that does not exist or is disabled.
func (s *Service) CreateToken(ctx context.Context, by *riskmap.User, t *riskmap.APIToken, rec Recorder) (string, error) {
	if t.UserName == "" && (t.Scope == riskmap.TokenScopeMetrics || t.Scope == riskmap.TokenScopeReadings) && by != nil {
		t.UserName = by.Name // a scrape token reads metrics only, whoever it names; a device token writes as its maker
	}
	if err := t.Validate(); err != nil {
		return "", err
	}
	u, err := s.Store.UserByName(ctx, t.UserName)
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
			return "", riskmap.Errorf(riskmap.EINVALID, "user：没有用户 %q", clip(t.UserName))
		}
		return "", err
	}
	if u.Disabled {
		return "", riskmap.Errorf(riskmap.EINVALID, "user：用户 %q 已停用", clip(t.UserName))
	}
	secret := riskmap.APITokenPrefix + riskmap.NewToken()
	t.UserID, t.UserName, t.TokenHash, t.CreatedAt = u.ID, u.Name, riskmap.HashToken(secret), s.now()
	if by != nil {
		t.CreatedBy = by.Name
	}
	if err := s.Store.CreateAPITokenRecorded(ctx, t, records(Change{Token: t}, rec)); err != nil {
		return "", err
	}
	return secret, nil
}

// RevokeToken revokes the token id; ENOTFOUND if there is none. Requests with it fail at
// once.
func (s *Service) RevokeToken(ctx context.Context, id int64, rec Recorder) error {
	if err := s.Store.RevokeAPITokenRecorded(ctx, id, s.now(), records(Change{}, rec)); err != nil {
		return err
	}
	s.forget()
	return nil
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return s
}
