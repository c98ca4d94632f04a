package riskmap

import "strings"

// The rules of who may do what with a unit. The HTTP layer decides who is asking and which
// routes a role may call at all; these decide, object by object, what that person may read
// and change. A nil *User is nobody: the public.

// CanReadInternal reports whether u may see every field of a unit of category in region:
// admins and experts everywhere, department users inside their scope.
func CanReadInternal(u *User, category, regionCode string) bool {
	return u != nil && !u.Disabled && u.InScope(category, regionCode)
}

// CanEdit reports whether u may create, change, submit or retire a unit of category in
// region. Every role edits, a department user only inside its scope (the unit before and
// after the edit must both lie inside it).
func CanEdit(u *User, category, regionCode string) bool {
	if u == nil || u.Disabled {
		return false
	}
	switch u.Role {
	case RoleAdmin, RoleExpert:
		return true
	case RoleDepartment:
		return u.InScope(category, regionCode)
	}
	return false
}

// CanReview reports whether u may approve or reject a revision whose author is author: an
// expert or admin other than the author (审核 needs a second pair of eyes). A revision
// written by the system (seed, import) has no author.
func CanReview(u *User, author string) bool {
	if u == nil || u.Disabled {
		return false
	}
	if u.Role != RoleAdmin && u.Role != RoleExpert {
		return false
	}
	return author == "" || author != u.Name
}

// CanAdminister reports whether u may manage users and API tokens, publish, and read the
// audit log.
func CanAdminister(u *User) bool {
	return u != nil && !u.Disabled && u.Role == RoleAdmin
}

// CanReadSite reports whether u may see a protective target or shelter in region: admins
// and experts everywhere; department users inside their regions (a code under one of their
// region prefixes), or everywhere when they have no regions.
func CanReadSite(u *User, regionCode string) bool {
	if u == nil || u.Disabled {
		return false
	}
	switch u.Role {
	case RoleAdmin, RoleExpert:
		return true
	case RoleDepartment:
		if len(u.Regions) == 0 {
			return true
		}
		for _, p := range u.Regions {
			if strings.HasPrefix(regionCode, p) {
				return true
			}
		}
	}
	return false
}

// CanEditSite reports whether u may create, change or delete a site in region: the same
// scope as reading (the site before and after the edit must both lie in it).
func CanEditSite(u *User, regionCode string) bool { return CanReadSite(u, regionCode) }
