package storetest

import (
	"bytes"
	"sync"
	"testing"

	"riskmap/pkg/riskmap"
)

// testEdge covers what the hardened edge keeps in the store: token scopes and the server's
// own secrets.
func testEdge(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "admin")
	t.Run("TokenScopeRoundTripOK", func(t *testing.T) {
		tok := &riskmap.APIToken{Name: "prometheus", UserID: u.ID, TokenHash: "th-metrics", CreatedBy: "admin", Scope: riskmap.TokenScopeMetrics}
		must(t, s.CreateAPIToken(ctx(), tok))
		got, err := s.APITokenByHash(ctx(), "th-metrics")
		must(t, err)
		if got.Scope != riskmap.TokenScopeMetrics {
			t.Fatalf("scope: got %q, want %q", got.Scope, riskmap.TokenScopeMetrics)
		}
		full := &riskmap.APIToken{Name: "脚本", UserID: u.ID, TokenHash: "th-full", CreatedBy: "admin"}
		must(t, s.CreateAPIToken(ctx(), full))
		got, err = s.APITokenByHash(ctx(), "th-full")
		must(t, err)
		if got.Scope != riskmap.TokenScopeFull {
			t.Fatalf("a token made without a scope acts as its user: got scope %q", got.Scope)
		}
	})
	t.Run("ErrUnknownScope", func(t *testing.T) {
		wantCode(t, s.CreateAPIToken(ctx(), &riskmap.APIToken{Name: "x", UserID: u.ID, TokenHash: "th-x", Scope: "root"}), riskmap.EINVALID)
	})
	t.Run("ServerSecretStableOK", func(t *testing.T) {
		// Replicas asking at once must all get the one secret that is kept.
		const n = 8
		got := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := s.ServerSecret(ctx(), "device-cookie")
				if err != nil {
					t.Error(err)
				}
				got[i] = b
			}()
		}
		wg.Wait()
		for i := range got {
			if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
				t.Fatalf("secret %d: %x, want the same 32 bytes as %x", i, got[i], got[0])
			}
		}
		other, err := s.ServerSecret(ctx(), "another")
		must(t, err)
		if bytes.Equal(other, got[0]) {
			t.Fatal("two secrets must differ")
		}
	})
}
