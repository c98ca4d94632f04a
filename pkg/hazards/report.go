package hazards

import (
	"time"

	"github.com/paulmach/orb"
)

// Report statuses.
const (
	ReportReceived  = "received"  // 已受理: waiting for staff
	ReportConverted = "converted" // 已转为隐患
	ReportDismissed = "dismissed" // 不予立案, with a reason
)

// Report is a citizen's hazard report (随手拍 / 安全隐患举报), an anonymous write from
// /public. Nothing in it reaches the public map; the citizen reads back only its status by
// its tracking number.
type Report struct {
	ID             int64
	TrackingNumber string // JB<yyyymmdd><8 random base32 characters>, unguessable
	Point          orb.Point
	Category       string // a category code of the catalog
	Description    string
	Contact        string // optional; staff only
	// RegionCode is the finest region holding Point, found on receipt; it puts the report in
	// the scope of the departments of that region.
	RegionCode string
	Department string // the category's department
	ClientHash string // a keyed hash of the client's address, for rate limits; never shown
	Status     string
	// HazardID is the hidden danger it became; Reason why it was dismissed.
	HazardID  int64
	Reason    string
	HandledBy string
	HandledAt *time.Time
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}
