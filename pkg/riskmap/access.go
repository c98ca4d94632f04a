package riskmap

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"time"

	"github.com/paulmach/orb"
)

// LoginAttempt is a login one replica saw, as it tells the others (their throttles count
// it too).
type LoginAttempt struct {
	Account string `json:"account"` // the name tried
	Addr    string `json:"addr"`    // the client's address
	// Proven says that the browser had logged in to the account before (a device cookie).
	Proven bool `json:"proven,omitempty"`
	// OK says that the attempt succeeded.
	OK bool `json:"ok,omitempty"`
}

// Session is a logged-in browser. Only the SHA-256 of its token is stored, so a copy of
// the database does not hand out sessions.
type Session struct {
	// TokenHash is the hex SHA-256 of the cookie's token.
	TokenHash string
	UserID    int64
	// CSRF is the token a cookie-authenticated write must echo in X-CSRF-Token.
	CSRF       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session, whatever its activity.
	ExpiresAt  time.Time
	ClientAddr string
	UserAgent  string
}

// APIToken lets a script act as a user with Authorization: Bearer. Only its hash is kept.
type APIToken struct {
	ID         int64
	Name       string
	UserID     int64
	UserName   string // filled in by APITokens and APITokenByHash
	TokenHash  string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// Scope narrows what the token may do below its user's role: TokenScopeFull acts as
	// the user, TokenScopeMetrics may only read /metrics and /readyz, TokenScopeReadings
	// (a device token) may only write readings, in its user's scope.
	Scope string
}

// Token scopes.
const (
	TokenScopeFull    = ""
	TokenScopeMetrics = "metrics"
	// TokenScopeReadings is a device token (设备令牌): a gateway or a sensor writes the
	// readings of the monitoring points its user may edit, and can do nothing else.
	TokenScopeReadings = "readings"
)

// ValidTokenScope reports whether s is a scope a token may have.
func ValidTokenScope(s string) bool {
	return s == TokenScopeFull || s == TokenScopeMetrics || s == TokenScopeReadings
}

// Audit outcomes.
const (
	OutcomeOK     = "ok"     // the request did what it asked
	OutcomeDenied = "denied" // refused for want of rights: 401, 403, a 404 that hides, 429
	OutcomeFailed = "failed" // refused for bad input or state: 4xx, or a server error
)

// AuditEntry is one row of the append-only 操作日志.
type AuditEntry struct {
	ID         int64
	At         time.Time // UTC
	Actor      string    // user name, or "" for anonymous; the name tried for a failed login
	Role       string
	Action     string // e.g. "unit.update", "session.login", "publication.create", "deny"
	Outcome    string
	Status     int // HTTP status of the response
	Method     string
	Path       string
	ClientAddr string
	TargetType string // "unit", "user", "token", "publication", "session" or ""
	TargetID   string
	Detail     string
	// Before and After are JSON of the object changed (nil when there is none).
	Before json.RawMessage
	After  json.RawMessage
	// Count is how many requests the row stands for: refusals of anonymous requests that
	// repeat (same client address, route, status and outcome within a minute) are folded
	// into one row. 0 is taken as 1.
	Count int
	// LastAt is when the last of the Count requests came (UTC); zero when Count is 1.
	LastAt time.Time
}

// AuditFilter selects audit rows, newest first.
type AuditFilter struct {
	Actor      string
	Action     string // a prefix: "unit." selects every unit action
	Outcome    string
	TargetType string
	TargetID   string
	Since      time.Time // inclusive; zero means no bound
	Until      time.Time // exclusive; zero means no bound
	BeforeID   int64     // paging: only rows with a smaller id; 0 means from the newest
	Limit      int       // 0 means 100
}

// ApprovedUnit is what the approved register keeps of a unit's last approved revision:
// the fields a publication carries. The working copy of the unit may have moved on to a
// new draft; the approved revision stays until that draft is approved in turn.
type ApprovedUnit struct {
	UnitID  int64
	Version int64 // the unit's version that was approved
	Code    string
	Name    string // internal: shown in diffs to logged-in users, never to the public
	PublicTexts
	Category   string
	RegionCode string
	Grade      Grade
	RiskValue  float64
	Geometry   orb.Geometry
	ApprovedBy string
	ApprovedAt time.Time
}

// Unit returns the approved revision as a unit carrying only its published fields.
func (a *ApprovedUnit) Unit() *Unit {
	return &Unit{
		ID: a.UnitID, Version: a.Version, Code: a.Code, Name: a.Name, PublicTexts: a.PublicTexts, Category: a.Category,
		RegionCode: a.RegionCode, Grade: a.Grade, RiskValue: a.RiskValue, Geometry: a.Geometry,
		Status: StatusApproved,
	}
}

// Publication is an immutable, numbered snapshot of the approved register and the regional
// grades computed from it. /public serves the latest.
type Publication struct {
	Number    int64
	CreatedAt time.Time
	CreatedBy string
	Note      string
	UnitCount int
	// Regions is the JSON array of the regional grades at publication time (regiongrade
	// summaries), kept as published.
	Regions json.RawMessage
	// Counts is what the next publication's regional grades start from (the publishing
	// service's unit counts; nil for publications made before they were kept). Stores fill
	// it in only for PublicationChange.Previous.
	Counts json.RawMessage
}

// LoggedChangesSuffice reports whether a publication compares only the units its store's
// change log names (approved_changes), not the whole approved register: when the latest
// publication took the log before it (logged), no bulk load marked everything changed, and
// the units named are few against the register's count (more is cheaper compared whole).
func LoggedChangesSuffice(logged, everything bool, named, count int) bool {
	return logged && !everything && named <= max(1000, count/20)
}

// PublicationChange is what a publication changes from the one before it (Publish), or
// what changed between two publications (PublicationChanges).
type PublicationChange struct {
	// Previous is the publication before (Publish; nil for the first), with its Counts.
	Previous *Publication
	// Added are the units the later publication holds at a version the earlier did not:
	// new units and new versions of units.
	Added []*ApprovedUnit
	// Removed are the units the earlier publication held at a version the later does not:
	// units no longer approved and the old versions of changed ones.
	Removed []*ApprovedUnit
	// Register reads the whole approved register being published, in the publication's
	// transaction (Publish only), for a summary that cannot start from Previous's counts.
	Register func() ([]*ApprovedUnit, error)
}

// PublicationSummary is what a publication keeps besides its units.
type PublicationSummary struct {
	Regions json.RawMessage // the regional grades (a JSON array)
	Counts  json.RawMessage // what the next publication's summary starts from (nil: nothing)
}

// Summarizer computes a publication's summary from what it changes; stores call it inside
// the publication's transaction.
type Summarizer func(*PublicationChange) (*PublicationSummary, error)

// Summarize calls a store's Publish summarizer and checks what it returns: no function or
// no regions is an empty list, invalid JSON an error.
func Summarize(ch *PublicationChange, summarize Summarizer) (*PublicationSummary, error) {
	if summarize == nil {
		return &PublicationSummary{Regions: json.RawMessage("[]")}, nil
	}
	sum, err := summarize(ch)
	if err != nil {
		return nil, err
	}
	if sum == nil {
		sum = &PublicationSummary{}
	}
	if len(sum.Regions) == 0 {
		sum.Regions = json.RawMessage("[]")
	}
	if !json.Valid(sum.Regions) || (len(sum.Counts) > 0 && !json.Valid(sum.Counts)) {
		return nil, errors.New("publish: the summary is not valid JSON")
	}
	return sum, nil
}

// UnitAuthor records who wrote and who reviewed the current revision of a unit.
type UnitAuthor struct {
	UnitID      int64
	CreatedBy   string
	UpdatedBy   string // author of the current revision; may not approve it
	SubmittedBy string
	SubmittedAt *time.Time
	ReviewedBy  string
	ReviewedAt  *time.Time
	// ApprovedVersion is the version of the last approved revision, 0 if none.
	ApprovedVersion int64
	ReviewNotes
}

// AccessStore keeps sessions and API tokens (users: UserStore).
type AccessStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns a session; ENOTFOUND if there is none.
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	// TouchSession sets a session's LastSeenAt.
	TouchSession(ctx context.Context, hash string, at time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	// DeleteUserSessions ends every session of a user and returns how many there were.
	DeleteUserSessions(ctx context.Context, userID int64) (int, error)
	// DeleteSessionsBefore removes sessions whose ExpiresAt or LastSeenAt+idle is past.
	DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error)

	// CreateAPIToken stores a token and sets its ID.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// APITokenByHash returns a token, revoked or not; ENOTFOUND if there is none.
	APITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// APITokens returns every token, newest first.
	APITokens(ctx context.Context) ([]*APIToken, error)
	// RevokeAPIToken sets RevokedAt; ENOTFOUND if there is no such token.
	RevokeAPIToken(ctx context.Context, id int64, at time.Time) error
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error

	// ServerSecret returns the secret named name, made (32 random bytes) and stored on the
	// first call; every replica on the store gets the same one.
	ServerSecret(ctx context.Context, name string) ([]byte, error)

	// The …Recorded methods are the writes above that also keep what rec returns (the
	// audit row) in the write's own transaction: the change and its row commit together or
	// not at all. A nil rec records nothing.

	// CreateSessionRecorded is CreateSession that first ends the session whose token hash
	// is replaces ("" for none; one that has ended already is no error): a login rotates
	// the browser's token.
	CreateSessionRecorded(ctx context.Context, s *Session, replaces string, rec AccessRecordFunc) error
	// DeleteSessionRecorded is DeleteSession (a logout).
	DeleteSessionRecorded(ctx context.Context, hash string, rec AccessRecordFunc) error
	CreateAPITokenRecorded(ctx context.Context, t *APIToken, rec AccessRecordFunc) error
	RevokeAPITokenRecorded(ctx context.Context, id int64, at time.Time, rec AccessRecordFunc) error
}

// AuditStore keeps the append-only audit log. Neither store lets a row be changed or
// removed, not even through SQL.
type AuditStore interface {
	// AppendAudit stores an entry and sets its ID (and At, when zero).
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditEntries returns the entries the filter selects, newest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// ReviewStore keeps the review state of units and the approved register.
//
// The store maintains the approved register itself: CreateUnit, UpdateUnit and
// BulkInsertUnits of a unit whose Status is approved put that revision into it (replacing
// the unit's earlier approved revision); RetireUnit takes the unit out. A unit whose new
// revision is draft or submitted keeps its earlier approved revision there.
type ReviewStore interface {
	// SetUnitAuthor records who submitted and reviewed the unit's current revision and its
	// approved version. CreatedBy and UpdatedBy are written only when the unit has no
	// record yet: the store records them itself, with the revision, from Unit.Author.
	SetUnitAuthor(ctx context.Context, a *UnitAuthor) error
	// UnitAuthor returns a unit's author record; a unit written by seed or bulk load has
	// an empty one (not ENOTFOUND).
	UnitAuthor(ctx context.Context, unitID int64) (*UnitAuthor, error)
	// ApprovedUnits streams the approved register, ordered by unit id.
	ApprovedUnits(ctx context.Context) iter.Seq2[*ApprovedUnit, error]
}

// PublicationStore keeps the immutable publications.
type PublicationStore interface {
	// Publish creates the next publication: in one transaction it finds what changed in
	// the approved register since the latest publication, calls summarize with it (to
	// compute the regional grades kept with the publication), numbers the publication and
	// writes the change: the units withdrawn leave, the units added enter; the unchanged
	// stay as they are. It sets p.Number, p.CreatedAt (when zero), p.UnitCount and
	// p.Regions, and returns the change.
	Publish(ctx context.Context, p *Publication, summarize Summarizer) (*PublicationChange, error)
	// PublishRecorded is Publish that also keeps what rec returns (the audit row, the
	// answer for an Idempotency-Key; not an author) in the publication's transaction. rec
	// sees the publication numbered; it may be called again if the number was taken
	// meanwhile, and so may summarize.
	PublishRecorded(ctx context.Context, p *Publication, summarize Summarizer, rec func(*Publication) (*WriteRecords, error)) (*PublicationChange, error)
	// PublicationChanges returns what changed from publication from (0: nothing
	// published) to the later publication to: Added and Removed, each ordered by unit id.
	// ENOTFOUND if either does not exist; EINVALID unless from < to.
	PublicationChanges(ctx context.Context, from, to int64) (*PublicationChange, error)
	// LatestPublication returns the highest-numbered publication; ENOTFOUND if none.
	LatestPublication(ctx context.Context) (*Publication, error)
	// GetPublication returns one publication; ENOTFOUND if there is none.
	GetPublication(ctx context.Context, number int64) (*Publication, error)
	// Publications returns every publication, newest first.
	Publications(ctx context.Context) ([]*Publication, error)
	// PublicationUnits streams the units of a publication, ordered by unit id.
	PublicationUnits(ctx context.Context, number int64) iter.Seq2[*ApprovedUnit, error]
}
