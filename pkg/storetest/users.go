package storetest

import (
	"slices"
	"testing"

	"riskmap/pkg/riskmap"
)

// Users (riskmap.UserStore): what every store must do.

func testUsers(t *testing.T, open Opener) {
	s := open(t)
	u := &riskmap.User{Name: "zhujian", Role: riskmap.RoleDepartment, Department: "住建局",
		Categories: []string{"construction", "old_buildings"}, Regions: []string{"530481001"}, PasswordHash: "$argon2id$v=19$x",
		DisplayName: "赵敏", Organisation: "澄江市住房和城乡建设局", Phone: "0877-6691234"}
	must(t, s.CreateUserRecorded(ctx(), u, nil))
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Fatalf("CreateUserRecorded must set id and created_at: %+v", u)
	}
	got, err := s.UserByName(ctx(), "zhujian")
	must(t, err)
	if got.Role != u.Role || !slices.Equal(got.Categories, u.Categories) || !slices.Equal(got.Regions, u.Regions) ||
		got.PasswordHash != u.PasswordHash || got.Department != "住建局" || got.Disabled ||
		got.DisplayName != "赵敏" || got.Organisation != "澄江市住房和城乡建设局" || got.Phone != "0877-6691234" {
		t.Fatalf("user round trip: %+v", got)
	}
	wantCode(t, s.CreateUserRecorded(ctx(), &riskmap.User{Name: "zhujian", Role: riskmap.RoleAdmin, PasswordHash: "h"}, nil), riskmap.ECONFLICT)
	_, err = s.UserByName(ctx(), "nobody")
	wantCode(t, err, riskmap.ENOTFOUND)
	n, err := s.CountUsers(ctx())
	must(t, err)
	if n != 1 {
		t.Fatalf("want 1 user, got %d", n)
	}
}

func testUserAdmin(t *testing.T, open Opener) {
	s := open(t)
	for _, n := range []string{"carol", "张三", "Alice", "bob"} {
		mustUser(t, s, n)
	}
	t.Run("UsersOrderedByName", func(t *testing.T) {
		us, err := s.Users(ctx())
		must(t, err)
		var names []string
		for _, u := range us {
			names = append(names, u.Name)
		}
		// Byte order in both stores, whatever the database's collation.
		if want := []string{"Alice", "bob", "carol", "张三"}; !slices.Equal(names, want) {
			t.Fatalf("Users: want %v, got %v", want, names)
		}
	})
	t.Run("UserByIDOK", func(t *testing.T) {
		byName, err := s.UserByName(ctx(), "张三")
		must(t, err)
		byID, err := s.UserByID(ctx(), byName.ID)
		must(t, err)
		if byID.Name != "张三" || byID.PasswordHash != byName.PasswordHash || !byID.CreatedAt.Equal(byName.CreatedAt) {
			t.Fatalf("UserByID: %+v, want %+v", byID, byName)
		}
	})
	t.Run("ErrUserByIDNotFound", func(t *testing.T) {
		_, err := s.UserByID(ctx(), 999999)
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("UpdateUserOK", func(t *testing.T) {
		u, err := s.UserByName(ctx(), "bob")
		must(t, err)
		created := u.CreatedAt
		u.Role, u.Department = riskmap.RoleDepartment, "应急局"
		u.Categories, u.Regions = []string{"hazardous_chemicals", "gas"}, []string{"530481", "530402"}
		u.PasswordHash, u.Disabled = "$argon2id$v=19$new", true
		u.DisplayName, u.Organisation, u.Phone = "李卫东", "澄江市应急管理局", "13800001111"
		must(t, s.UpdateUser(ctx(), u))
		got, err := s.UserByID(ctx(), u.ID)
		must(t, err)
		if got.Name != "bob" || got.Role != riskmap.RoleDepartment || got.Department != "应急局" ||
			!slices.Equal(got.Categories, u.Categories) || !slices.Equal(got.Regions, u.Regions) ||
			got.PasswordHash != "$argon2id$v=19$new" || !got.Disabled || !got.CreatedAt.Equal(created) ||
			got.DisplayName != "李卫东" || got.Organisation != "澄江市应急管理局" || got.Phone != "13800001111" {
			t.Fatalf("after UpdateUser: %+v", got)
		}
		// Clearing the lists and enabling again.
		got.Categories, got.Regions, got.Disabled, got.Role = nil, nil, false, riskmap.RoleAdmin
		got.DisplayName, got.Organisation, got.Phone = "", "", ""
		must(t, s.UpdateUser(ctx(), got))
		again, err := s.UserByName(ctx(), "bob")
		must(t, err)
		if len(again.Categories) != 0 || len(again.Regions) != 0 || again.Disabled || again.Role != riskmap.RoleAdmin ||
			again.DisplayName != "" || again.Organisation != "" || again.Phone != "" {
			t.Fatalf("after clearing: %+v", again)
		}
	})
	t.Run("ErrUpdateUserNotFound", func(t *testing.T) {
		err := s.UpdateUser(ctx(), &riskmap.User{ID: 999999, Name: "ghost", Role: riskmap.RoleAdmin, PasswordHash: "h"})
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("ErrUpdateUserBadRole", func(t *testing.T) {
		u, err := s.UserByName(ctx(), "carol")
		must(t, err)
		u.Role = "superuser"
		wantCode(t, s.UpdateUser(ctx(), u), riskmap.EINVALID)
	})
}
