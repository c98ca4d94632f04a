package riskmap

import (
	"context"
	"encoding/json"
	"time"
)

// IdempotencyTTL is how long a response kept for an Idempotency-Key answers a retry.
const IdempotencyTTL = 24 * time.Hour

// IdempotentResponse is the answer to a creating write made with an Idempotency-Key header,
// kept in the write's own transaction: a client that lost the answer retries with the same
// key and the same request and gets this answer again, without a second write.
type IdempotentResponse struct {
	// Scope is whose key it is (the user's name): two users may use the same key.
	Scope string
	Key   string
	// RequestHash is the hex SHA-256 of the request (method, path, body); the same key with
	// another request is refused.
	RequestHash string
	Status      int
	ContentType string
	Location    string
	ETag        string
	Body        []byte
	CreatedAt   time.Time // UTC
	ExpiresAt   time.Time // UTC; an expired response answers nothing and is removed
}

// WriteRecords is what a write keeps with it in the same transaction, so that the answer
// the client gets is the truth whether or not it hears it: a write that commits has its
// author record, its audit row and its kept answer; one that does not has none of them.
type WriteRecords struct {
	// Author is the unit's author record (as SetUnitAuthor writes it); the store sets its
	// UnitID.
	Author *UnitAuthor
	// Audit is the write's audit row; the store sets its ID (and At, when zero).
	Audit *AuditEntry
	// Response is the answer kept for the write's Idempotency-Key. A key the scope already
	// holds (not expired) is ECONFLICT and rolls the write back.
	Response *IdempotentResponse
}

// RecordFunc builds the records of a unit write from the unit as written (ID, Version and
// times set). The store calls it inside the write's transaction, after the unit is written;
// an error rolls the write back. It may return nil.
type RecordFunc func(u *Unit) (*WriteRecords, error)

// AccessRecordFunc builds the records of a write of a user, a session or an API token (its
// audit row; never an author record). The store calls it inside the write's transaction,
// after the write, with the written object's ID and times set; an error rolls the write
// back. It may return nil.
type AccessRecordFunc func() (*WriteRecords, error)

// IdempotencyStore keeps the answers of writes made with an Idempotency-Key. They are
// written with their writes (WriteRecords.Response).
type IdempotencyStore interface {
	// IdempotentResponse returns the answer kept for scope and key that has not expired at
	// now; ENOTFOUND if there is none.
	IdempotentResponse(ctx context.Context, scope, key string, now time.Time) (*IdempotentResponse, error)
}

// Keep writes the audit row and the kept answer of r (nil keeps nothing) with a store's two
// writers, inside the transaction they write to.
func (r *WriteRecords) Keep(audit func(*AuditEntry) error, answer func(*IdempotentResponse) error) error {
	if r == nil {
		return nil
	}
	if r.Audit != nil {
		if err := audit(r.Audit); err != nil {
			return err
		}
	}
	if r.Response != nil {
		return answer(r.Response)
	}
	return nil
}

// RecordPublication calls rec (nil records nothing) with the publication as written: p with
// its number, time, unit count and regional grades.
func RecordPublication(rec func(*Publication) (*WriteRecords, error), p *Publication, number int64, created time.Time, units int, regions json.RawMessage) (*WriteRecords, error) {
	if rec == nil {
		return nil, nil
	}
	done := *p
	done.Number, done.CreatedAt, done.UnitCount, done.Regions = number, created, units, regions
	return rec(&done)
}
