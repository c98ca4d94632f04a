package riskmap

// The user itself (User, Validate, InScope) is in region.go and access.go, its store in
// store.go (UserStore) and access.go (AccessStore); pkg/accounts owns its use cases.

// UserUpdate is a change to a user: nil fields stay as they are.
type UserUpdate struct {
	Role       *string   `json:"role"`
	Department *string   `json:"department"`
	Categories *[]string `json:"categories"`
	Regions    *[]string `json:"regions"`
	Disabled   *bool     `json:"disabled"`
}

// Apply sets the fields of u that up changes. Call Validate after.
func (up UserUpdate) Apply(u *User) {
	if up.Role != nil {
		u.Role = *up.Role
	}
	if up.Department != nil {
		u.Department = *up.Department
	}
	if up.Categories != nil {
		u.Categories = *up.Categories
	}
	if up.Regions != nil {
		u.Regions = *up.Regions
	}
	if up.Disabled != nil {
		u.Disabled = *up.Disabled
	}
}
