package riskmap

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Users: the type, its validation, its scope, its changes and its store. pkg/accounts owns
// its use cases; the README's "Adding a concept" takes users as the example.

// UserUpdate is a change to a user: nil fields stay as they are.
type UserUpdate struct {
	DisplayName  *string   `json:"display_name"`
	Organisation *string   `json:"organisation"`
	Phone        *string   `json:"phone"`
	Role         *string   `json:"role"`
	Department   *string   `json:"department"`
	Categories   *[]string `json:"categories"`
	Regions      *[]string `json:"regions"`
	Disabled     *bool     `json:"disabled"`
}

// Apply sets the fields of u that up changes. Call Validate after.
func (up UserUpdate) Apply(u *User) {
	if up.DisplayName != nil {
		u.DisplayName = *up.DisplayName
	}
	if up.Organisation != nil {
		u.Organisation = *up.Organisation
	}
	if up.Phone != nil {
		u.Phone = *up.Phone
	}
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

// Roles of users.
const (
	RoleAdmin      = "admin"
	RoleExpert     = "expert"
	RoleDepartment = "department"
)

// RoleLabel is a role in Chinese: 管理员, 评估专家, 行业部门.
func RoleLabel(role string) string {
	switch role {
	case RoleAdmin:
		return "管理员"
	case RoleExpert:
		return "评估专家"
	case RoleDepartment:
		return "行业部门"
	}
	return role
}

// ValidRole reports whether s is a role.
func ValidRole(s string) bool {
	return s == RoleAdmin || s == RoleExpert || s == RoleDepartment
}

// User is a person who logs in. A department user's scope is a set of category codes and a
// set of region-code prefixes. Name is the login; DisplayName (姓名), Organisation (单位)
// and Phone say who the person is: wherever a person is named, the application shows
// "姓名（单位）" (PersonLabel), the login only when no name is given.
type User struct {
	ID           int64
	Name         string
	DisplayName  string
	Organisation string
	Phone        string
	Role         string
	Department   string
	Categories   []string
	Regions      []string
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
}

// Validate checks a user before it is stored.
func (u *User) Validate(cat *Catalog) error {
	var p Problems
	checkText(&p, "name", u.Name, 64, true)
	checkText(&p, "display_name", u.DisplayName, MaxDisplayName, false)
	checkText(&p, "organisation", u.Organisation, MaxOrganisation, false)
	if !ValidPhone(u.Phone) {
		p.Add("phone", "应为电话号码（数字，可含 +、-、空格、括号和“转”分机，最多 %d 个字符），收到 %q", MaxPhone, clip(u.Phone))
	}
	if !ValidRole(u.Role) {
		p.Add("role", "应为 admin（管理员）、expert（评估专家）或 department（行业部门），收到 %q", clip(u.Role))
	}
	for _, c := range u.Categories {
		if _, ok := cat.Category(c); !ok {
			p.Add("categories", "未知的行业领域 %q", clip(c))
		}
	}
	for _, r := range u.Regions {
		if r == "" || len(r) > 12 || !allDigits(r) {
			p.Add("regions", "%q 不是区划代码前缀（数字，最多 12 位）", clip(r))
		}
	}
	if u.Role == RoleDepartment && len(u.Categories) == 0 {
		p.Add("categories", "行业部门用户至少需要一个管辖行业领域")
	}
	if u.Role == RoleDepartment && len(u.Regions) == 0 {
		p.Add("regions", "行业部门用户至少需要一个管辖区域（区划代码前缀）")
	}
	if u.PasswordHash == "" {
		p.Add("password", "必填")
	}
	return p.Err()
}

// Lengths of a user's profile.
const (
	MaxDisplayName  = 64
	MaxOrganisation = 100
	MaxPhone        = 32
)

// ValidPhone reports whether s is empty or a telephone number as people write them: digits,
// at least three, with +, -, spaces, parentheses and an extension (转, ext) allowed.
func ValidPhone(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > MaxPhone || !utf8.ValidString(s) {
		return false
	}
	digits := 0
	for _, r := range strings.NewReplacer("转", "", "ext", "", "EXT", "").Replace(s) {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == '-' || r == ' ' || r == '(' || r == ')' || r == '（' || r == '）':
		default:
			return false
		}
	}
	return digits >= 3
}

// PersonLabel names a user as people know it: "姓名（单位）", "姓名" without a unit, and the
// login when no name is given.
func (u *User) PersonLabel() string {
	return PersonLabel(u.Name, u.DisplayName, u.Organisation)
}

// PersonLabel is User.PersonLabel of a login, a name and a unit.
func PersonLabel(login, displayName, organisation string) string {
	displayName, organisation = strings.TrimSpace(displayName), strings.TrimSpace(organisation)
	switch {
	case displayName == "":
		return login
	case organisation == "":
		return displayName
	}
	return displayName + "（" + organisation + "）"
}

// InScope reports whether a unit of category in region regionCode lies in the user's
// scope. Admins and experts see the whole register; a department user's scope is its
// categories crossed with its region-code prefixes (GB/T 2260 codes nest, so 530481 covers
// every town, community and grid under it).
func (u *User) InScope(category, regionCode string) bool {
	if u == nil {
		return false
	}
	if u.Role != RoleDepartment {
		return true
	}
	if !slices.Contains(u.Categories, category) {
		return false
	}
	for _, p := range u.Regions {
		if strings.HasPrefix(regionCode, p) {
			return true
		}
	}
	return false
}

// UserStore keeps users. Every store passes the same contract tests (pkg/storetest).
type UserStore interface {
	// UserByName returns a user; ENOTFOUND if there is none.
	UserByName(ctx context.Context, name string) (*User, error)
	// UserByID returns a user; ENOTFOUND if there is none.
	UserByID(ctx context.Context, id int64) (*User, error)
	// Users returns every user, ordered by name.
	Users(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	// UpdateUser replaces display name, organisation, phone, role, department, categories,
	// regions, password hash and disabled of the user u.ID. ENOTFOUND if there is none.
	UpdateUser(ctx context.Context, u *User) error

	// CreateUserRecorded stores a new user (ECONFLICT if the name is taken) and keeps what
	// rec returns (the audit row) in the same transaction: both commit or neither does. A
	// nil rec records nothing.
	CreateUserRecorded(ctx context.Context, u *User, rec AccessRecordFunc) error
	// UpdateUserRecorded is UpdateUser that, when endSessions is set, also ends every
	// session of the user (a disabled user, a reset password) in the same transaction, and
	// returns how many there were.
	UpdateUserRecorded(ctx context.Context, u *User, endSessions bool, rec AccessRecordFunc) (int, error)
}
