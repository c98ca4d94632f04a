package postgis

import (
	"encoding/binary"
	"math"
	"time"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// Seeding a million units is bounded by CPU on a two-core machine that the database
// shares, so the bulk load writes PostgreSQL's binary COPY format itself: no []any per
// row, no per-value encode plans, and the three JSON documents appended by
// pkg/unitcodec, as CreateUnit writes them. The column order is unitColumns.

// copyHeader starts a binary COPY stream: the signature, no flags, no header extension.
var copyHeader = []byte("PGCOPY\n\377\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyTrailer ends it.
var copyTrailer = []byte{0xff, 0xff}

// appendUnitRow appends the COPY row of u, with version 1 and both timestamps now.
func appendUnitRow(b []byte, u *riskmap.Unit, now time.Time) ([]byte, error) {
	g, err := encodeEWKB(u.Geometry)
	if err != nil {
		return b, riskmap.Errorf(riskmap.EINVALID, "风险单元 %q 的位置：%v", u.Code, err)
	}
	if err := unitcodec.Finite(&u.Assessment, &u.Explanation); err != nil {
		return b, riskmap.Errorf(riskmap.EINVALID, "风险单元 %q：%v", u.Code, err)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(unitColumns)+len(riskmap.PublicTextFields)+unitcodec.NumDynamic))
	b = appendText(b, u.Code)
	b = appendText(b, u.Name)
	b = appendText(b, u.Category)
	b = appendText(b, u.SubCategory)
	b = appendText(b, u.RegionCode)
	b = appendText(b, u.Address)
	b = appendTextArray(b, u.AccidentTypes)
	if u.MajorHazardSource != nil {
		b = binary.BigEndian.AppendUint32(b, 2)
		b = binary.BigEndian.AppendUint16(b, uint16(int16(u.MajorHazardSource.Level)))
	} else {
		b = appendNull(b)
	}
	b = appendText(b, u.MajorRiskFactors)
	b = appendText(b, u.Assessment.Method)
	b = appendJSON(b, func(b []byte) []byte { return unitcodec.AppendAssessment(b, &u.Assessment, unitcodec.Stored) })
	b = appendText(b, u.DirectMajorReason)
	b = appendFloat8(b, u.RiskValue)
	b = appendText(b, string(u.Grade))
	b = appendText(b, u.Grade.Label())
	b = appendJSON(b, func(b []byte) []byte { return unitcodec.AppendExplanation(b, &u.Explanation, unitcodec.Stored) })
	b = appendJSON(b, func(b []byte) []byte { return unitcodec.AppendControls(b, &u.Controls, unitcodec.Stored) })
	b = appendText(b, u.ResponsibleDepartment)
	b = appendText(b, u.ResponsibleUnit)
	b = appendText(b, u.ContactPerson)
	b = appendText(b, u.ContactPhone)
	b = appendFloat8(b, u.InfluenceRadiusM)
	status := u.Status
	if status == "" {
		status = riskmap.StatusDraft
	}
	b = appendText(b, string(status))
	b = appendInt8(b, 1)
	b = appendTimestamptz(b, now)
	b = appendTimestamptz(b, now)
	b = appendText(b, u.AssessedBy)
	if u.AssessedAt != nil {
		b = appendTimestamptz(b, *u.AssessedAt)
	} else {
		b = appendNull(b)
	}
	if u.NextReviewDue != nil {
		b = appendDate(b, *u.NextReviewDue)
	} else {
		b = appendNull(b)
	}
	// The geometry type's binary input reads EWKB.
	b = binary.BigEndian.AppendUint32(b, uint32(len(g)))
	b = append(b, g...)
	for _, f := range riskmap.PublicTextFields {
		b = appendText(b, *f.Of(&u.PublicTexts))
	}
	// The dynamic columns (unitcodec.DynamicColumns).
	if u.InherentGrade != "" {
		b = appendText(b, string(u.InherentGrade))
	} else {
		b = appendNull(b)
	}
	if c := unitcodec.EncodeConditions(u.Conditions); c != "" {
		// jsonb's binary form is a format version byte, 1, and the JSON text.
		b = binary.BigEndian.AppendUint32(b, uint32(len(c)+1))
		b = append(append(b, 1), c...)
	} else {
		b = appendNull(b)
	}
	b = binary.BigEndian.AppendUint32(b, 4)
	b = binary.BigEndian.AppendUint32(b, uint32(int32(u.OpenHazards)))
	if u.IdentifiedAt != nil {
		b = appendDate(b, *u.IdentifiedAt)
	} else {
		b = appendNull(b)
	}
	return b, nil
}

func appendNull(b []byte) []byte { return binary.BigEndian.AppendUint32(b, math.MaxUint32) }

func appendText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendInt8(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func appendFloat8(b []byte, v float64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
}

// appendTimestamptz writes microseconds since 2000-01-01 UTC, truncating as pgx does.
func appendTimestamptz(b []byte, t time.Time) []byte {
	return appendInt8(b, t.Unix()*1_000_000+int64(t.Nanosecond())/1000-pgEpochMicros)
}

// appendDate writes the calendar day of t, in t's own location, as days since 2000-01-01.
func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400 - 10957
	b = binary.BigEndian.AppendUint32(b, 4)
	return binary.BigEndian.AppendUint32(b, uint32(int32(days)))
}

// textOID is the element type of text[].
const textOID = 25

// appendTextArray writes a one-dimensional text[]; nil is the empty array, as the column
// is NOT NULL.
func appendTextArray(b []byte, ss []string) []byte {
	if len(ss) == 0 {
		b = binary.BigEndian.AppendUint32(b, 12)
		b = binary.BigEndian.AppendUint32(b, 0) // dimensions
		b = binary.BigEndian.AppendUint32(b, 0) // no nulls
		return binary.BigEndian.AppendUint32(b, textOID)
	}
	size := 20
	for _, s := range ss {
		size += 4 + len(s)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, textOID)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ss)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, s := range ss {
		b = appendText(b, s)
	}
	return b
}

// appendJSON writes a json value: its length and the JSON text that doc appends. (The
// binary form of json is its text; jsonb's would start with a format version byte.)
func appendJSON(b []byte, doc func([]byte) []byte) []byte {
	at := len(b)
	b = doc(append(b, 0, 0, 0, 0))
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}
