package accounts_test

import (
	"context"
	"path/filepath"
	"testing"

	"riskmap/pkg/accounts"
	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/riskmap"
)

// newService is a service on a fresh GeoPackage with one admin, "root"; forgotten counts
// the calls of Forget.
func newService(t *testing.T) (svc *accounts.Service, root *riskmap.User, forgotten *int) {
	t.Helper()
	ctx := context.Background()
	store, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "accounts.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	svc = &accounts.Service{Store: store, Catalog: config.Default().Catalog, Forget: func() { n++ }}
	root = &riskmap.User{Name: "root", Role: riskmap.RoleAdmin}
	if _, err := svc.Create(ctx, root, nil, nil); err != nil {
		t.Fatal(err)
	}
	return svc, root, &n
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if riskmap.ErrorCode(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		svc, _, _ := newService(t)
		var recorded *riskmap.User
		u := &riskmap.User{Name: "yjj", Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"}, Regions: []string{"530481"}}
		pw, err := svc.Create(ctx, u, nil, func(ch accounts.Change) (*riskmap.WriteRecords, error) {
			recorded = ch.After
			return nil, nil
		})
		if err != nil || pw == "" {
			t.Fatalf("%q %v", pw, err)
		}
		if recorded == nil || recorded.ID == 0 {
			t.Fatalf("the recorder did not see the stored user: %+v", recorded)
		}
		if got, err := svc.User(ctx, "yjj"); err != nil || got.PasswordHash == "" || got.PasswordHash == pw {
			t.Fatalf("stored: %+v %v", got, err)
		}
	})
	t.Run("ErrWeakPassword", func(t *testing.T) {
		svc, _, _ := newService(t)
		short := "abc"
		_, err := svc.Create(ctx, &riskmap.User{Name: "x", Role: riskmap.RoleExpert}, &short, nil)
		wantCode(t, err, riskmap.EINVALID)
		_, err = svc.User(ctx, "x")
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("ErrDepartmentWithoutScope", func(t *testing.T) {
		svc, _, _ := newService(t)
		_, err := svc.Create(ctx, &riskmap.User{Name: "x", Role: riskmap.RoleDepartment}, nil, nil)
		wantCode(t, err, riskmap.EINVALID)
	})
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	yes, expert := true, riskmap.RoleExpert
	t.Run("ErrLockingOneselfOut", func(t *testing.T) {
		svc, root, forgotten := newService(t)
		for _, up := range []riskmap.UserUpdate{{Disabled: &yes}, {Role: &expert}} {
			wantCode(t, svc.Update(ctx, root, root, up, nil), riskmap.ECONFLICT)
		}
		if *forgotten != 0 {
			t.Fatal("a refused change cleared the auth cache")
		}
	})
	t.Run("OK", func(t *testing.T) {
		svc, root, forgotten := newService(t)
		u := &riskmap.User{Name: "zj", Role: riskmap.RoleExpert}
		if _, err := svc.Create(ctx, u, nil, nil); err != nil {
			t.Fatal(err)
		}
		var ch accounts.Change
		if err := svc.Update(ctx, root, u, riskmap.UserUpdate{Disabled: &yes}, func(c accounts.Change) (*riskmap.WriteRecords, error) {
			ch = c
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
		if ch.Before.Disabled || !ch.After.Disabled || *forgotten != 1 {
			t.Fatalf("before %v after %v, forgotten %d", ch.Before.Disabled, ch.After.Disabled, *forgotten)
		}
		if got, _ := svc.User(ctx, "zj"); !got.Disabled {
			t.Fatal("not stored")
		}
	})
}

func TestProfile(t *testing.T) {
	ctx := context.Background()
	t.Run("OKKeptTrimmedAndNamedToEveryone", func(t *testing.T) {
		svc, root, _ := newService(t)
		u := &riskmap.User{Name: "liexp", Role: riskmap.RoleExpert, DisplayName: " 李明 ", Organisation: "云南省安全生产专家库", Phone: "13800001111"}
		if _, err := svc.Create(ctx, u, nil, nil); err != nil {
			t.Fatal(err)
		}
		org := "澄江市应急管理局"
		if err := svc.Update(ctx, root, u, riskmap.UserUpdate{Organisation: &org}, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.User(ctx, "liexp")
		if got.DisplayName != "李明" || got.Organisation != org || got.Phone != "13800001111" || got.PersonLabel() != "李明（澄江市应急管理局）" {
			t.Fatalf("%+v", got)
		}
		ps, err := svc.People(ctx)
		if err != nil || len(ps) != 2 || ps[0] != (accounts.Person{Name: "liexp", DisplayName: "李明", Organisation: org}) || ps[1].Name != "root" {
			t.Fatalf("%+v %v", ps, err)
		}
	})
	t.Run("ErrBadPhoneChangesNothing", func(t *testing.T) {
		svc, root, _ := newService(t)
		bad := "call me"
		wantCode(t, svc.Update(ctx, root, root, riskmap.UserUpdate{Phone: &bad}, nil), riskmap.EINVALID)
		if got, _ := svc.User(ctx, "root"); got.Phone != "" {
			t.Fatalf("stored %q", got.Phone)
		}
	})
}

func TestCreateToken(t *testing.T) {
	ctx := context.Background()
	t.Run("OKScrapeTokenActsAsItsMaker", func(t *testing.T) {
		svc, root, _ := newService(t)
		tok := &riskmap.APIToken{Name: "prometheus", Scope: riskmap.TokenScopeMetrics}
		secret, err := svc.CreateToken(ctx, root, tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok.UserName != "root" || tok.CreatedBy != "root" || tok.ID == 0 || tok.TokenHash != riskmap.HashToken(secret) {
			t.Fatalf("%+v", tok)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		svc, root, _ := newService(t)
		_, err := svc.CreateToken(ctx, root, &riskmap.APIToken{Name: "x", UserName: "nobody"}, nil)
		wantCode(t, err, riskmap.EINVALID)
	})
	t.Run("ErrRevokedUnknown", func(t *testing.T) {
		svc, _, forgotten := newService(t)
		wantCode(t, svc.RevokeToken(ctx, 99, nil), riskmap.ENOTFOUND)
		if *forgotten != 0 {
			t.Fatal("a refused revocation cleared the auth cache")
		}
	})
}
