package postgis

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
)

// Reading all units back must reach 100,000 units a second on two cores that the database
// shares. pgx's Scan costs a string allocation per text column and reflection-driven
// plans per value; decoding the wire values of a row directly is about twice as fast. The
// fast path checks the columns' types and formats first and the caller falls back to Scan
// when they are not the expected ones.

// The wire format of each column of selectUnit, in order.
type wireKind uint8

const (
	wInt8 wireKind = iota + 1
	wInt2
	wFloat8
	wText
	wTextArray
	wJSONB
	wTimestamptz
	wDate
	wBytea
)

var unitWire = [...]struct {
	oid    uint32
	format int16
	kind   wireKind
}{
	{pgtype.Int8OID, pgtype.BinaryFormatCode, wInt8}, // id
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // code
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // name
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // category
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // sub_category
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // region_code
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // address
	{pgtype.TextArrayOID, pgtype.BinaryFormatCode, wTextArray},
	{pgtype.Int2OID, pgtype.BinaryFormatCode, wInt2},
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // major_risk_factors
	{pgtype.JSONBOID, pgtype.TextFormatCode, wJSONB}, // assessment
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // direct_major_reason
	{pgtype.Float8OID, pgtype.BinaryFormatCode, wFloat8},
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // grade
	{pgtype.JSONBOID, pgtype.TextFormatCode, wJSONB}, // grade_explanation
	{pgtype.JSONBOID, pgtype.TextFormatCode, wJSONB}, // controls
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // responsible_department
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // responsible_unit
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // contact_person
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // contact_phone
	{pgtype.Float8OID, pgtype.BinaryFormatCode, wFloat8},
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // status
	{pgtype.Int8OID, pgtype.BinaryFormatCode, wInt8},
	{pgtype.TimestamptzOID, pgtype.BinaryFormatCode, wTimestamptz},
	{pgtype.TimestamptzOID, pgtype.BinaryFormatCode, wTimestamptz},
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // assessed_by
	{pgtype.TimestamptzOID, pgtype.BinaryFormatCode, wTimestamptz},
	{pgtype.DateOID, pgtype.BinaryFormatCode, wDate},
	{pgtype.ByteaOID, pgtype.BinaryFormatCode, wBytea},
}

// rawUnitOK reports whether the result columns are what decodeUnitRow reads.
func rawUnitOK(fds []pgconn.FieldDescription) bool {
	if len(fds) != len(unitWire) {
		return false
	}
	for i, fd := range fds {
		w := unitWire[i]
		if fd.DataTypeOID != w.oid || fd.Format != w.format {
			return false
		}
	}
	return true
}

var errWire = errors.New("unexpected value on the wire")

// decodeUnitRow decodes the wire values of one selectUnit row. All text of the row,
// including the JSON documents the string fields are cut from, is copied into one string,
// so a row costs a handful of allocations. (A unit therefore keeps its whole text alive
// for as long as any of its strings lives; that is the size of the unit anyway.)
func decodeUnitRow(vals [][]byte) (*riskmap.Unit, error) {
	if len(vals) != len(unitWire) {
		return nil, errWire
	}
	// One string holding every text-like value, in column order.
	total := 0
	for i, w := range unitWire {
		switch w.kind {
		case wText, wJSONB, wTextArray:
			total += len(vals[i])
		}
	}
	var sb strings.Builder
	sb.Grow(total)
	for i, w := range unitWire {
		switch w.kind {
		case wText, wJSONB, wTextArray:
			sb.Write(vals[i])
		}
	}
	all := sb.String()

	u := &riskmap.Unit{}
	off := 0
	text := func(i int) (string, []byte) { // the string and bytes of text-like column i
		b := vals[i]
		s := all[off : off+len(b)]
		off += len(b)
		return s, b
	}
	str := func(i int) (string, error) {
		if vals[i] == nil {
			return "", errWire
		}
		s, _ := text(i)
		return s, nil
	}
	var err error
	if u.ID, err = int8At(vals[0]); err != nil {
		return nil, fmt.Errorf("id: %w", err)
	}
	for i, dst := range []*string{&u.Code, &u.Name, &u.Category, &u.SubCategory, &u.RegionCode, &u.Address} {
		if *dst, err = str(1 + i); err != nil {
			return nil, fmt.Errorf("column %d: %w", 1+i, err)
		}
	}
	{
		s, b := text(7)
		if u.AccidentTypes, err = textArray(b, s); err != nil {
			return nil, fmt.Errorf("accident_types: %w", err)
		}
	}
	if b := vals[8]; b != nil {
		if len(b) != 2 {
			return nil, fmt.Errorf("major_hazard_level: %w", errWire)
		}
		u.MajorHazardSource = &riskmap.MajorHazardSource{Level: int(int16(binary.BigEndian.Uint16(b)))}
	}
	if u.MajorRiskFactors, err = str(9); err != nil {
		return nil, err
	}
	if s, b := text(10); !(&jsonReader{b: b, s: s}).assessment(&u.Assessment) {
		u.Assessment = riskmap.Assessment{}
		if err := json.Unmarshal(b, &u.Assessment); err != nil {
			return nil, fmt.Errorf("unit %d: assessment: %w", u.ID, err)
		}
	}
	if u.DirectMajorReason, err = str(11); err != nil {
		return nil, err
	}
	if u.RiskValue, err = float8At(vals[12]); err != nil {
		return nil, fmt.Errorf("risk_value: %w", err)
	}
	grade, err := str(13)
	if err != nil {
		return nil, err
	}
	u.Grade = riskmap.Grade(grade)
	if s, b := text(14); !(&jsonReader{b: b, s: s}).explanation(&u.Explanation) {
		u.Explanation = riskmap.Explanation{}
		if err := json.Unmarshal(b, &u.Explanation); err != nil {
			return nil, fmt.Errorf("unit %d: grade_explanation: %w", u.ID, err)
		}
	}
	if s, b := text(15); !(&jsonReader{b: b, s: s}).controls(&u.Controls) {
		u.Controls = riskmap.Controls{}
		if err := json.Unmarshal(b, &u.Controls); err != nil {
			return nil, fmt.Errorf("unit %d: controls: %w", u.ID, err)
		}
	}
	for i, dst := range []*string{&u.ResponsibleDepartment, &u.ResponsibleUnit, &u.ContactPerson, &u.ContactPhone} {
		if *dst, err = str(16 + i); err != nil {
			return nil, fmt.Errorf("column %d: %w", 16+i, err)
		}
	}
	if u.InfluenceRadiusM, err = float8At(vals[20]); err != nil {
		return nil, fmt.Errorf("influence_radius_m: %w", err)
	}
	status, err := str(21)
	if err != nil {
		return nil, err
	}
	u.Status = riskmap.Status(status)
	if u.Version, err = int8At(vals[22]); err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	if u.CreatedAt, err = timestamptzAt(vals[23]); err != nil {
		return nil, fmt.Errorf("created_at: %w", err)
	}
	if u.UpdatedAt, err = timestamptzAt(vals[24]); err != nil {
		return nil, fmt.Errorf("updated_at: %w", err)
	}
	if u.AssessedBy, err = str(25); err != nil {
		return nil, err
	}
	if b := vals[26]; b != nil {
		t, err := timestamptzAt(b)
		if err != nil {
			return nil, fmt.Errorf("assessed_at: %w", err)
		}
		u.AssessedAt = &t
	}
	if b := vals[27]; b != nil {
		t, err := dateAt(b)
		if err != nil {
			return nil, fmt.Errorf("next_review_due: %w", err)
		}
		u.NextReviewDue = &t
	}
	if u.Geometry, err = decodeWKB(vals[28]); err != nil {
		return nil, fmt.Errorf("unit %d: geometry: %w", u.ID, err)
	}
	return u, nil
}

func int8At(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, errWire
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func float8At(b []byte) (float64, error) {
	if len(b) != 8 {
		return 0, errWire
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// Microseconds from the Unix epoch to 2000-01-01, PostgreSQL's epoch.
const pgEpochMicros = 946_684_800 * 1_000_000

// timestamptzAt decodes a finite binary timestamptz as UTC.
func timestamptzAt(b []byte) (time.Time, error) {
	if len(b) != 8 {
		return time.Time{}, errWire
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return time.Time{}, fmt.Errorf("infinite timestamps are not supported")
	}
	return time.UnixMicro(us + pgEpochMicros).UTC(), nil
}

// dateAt decodes a finite binary date as midnight UTC.
func dateAt(b []byte) (time.Time, error) {
	if len(b) != 4 {
		return time.Time{}, errWire
	}
	days := int32(binary.BigEndian.Uint32(b))
	if days == math.MaxInt32 || days == math.MinInt32 {
		return time.Time{}, fmt.Errorf("infinite dates are not supported")
	}
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days)), nil
}

// textArray decodes a binary one-dimensional text[] whose bytes are b and, as a string, s.
// An empty array is nil, like a unit without accident types.
func textArray(b []byte, s string) ([]string, error) {
	if len(b) < 12 {
		return nil, errWire
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	if ndim == 0 {
		return nil, nil
	}
	if ndim != 1 || len(b) < 20 {
		return nil, errWire
	}
	n := int(int32(binary.BigEndian.Uint32(b[12:])))
	if n < 0 || n > len(b) {
		return nil, errWire
	}
	out := make([]string, n)
	p := 20
	for i := range out {
		if p+4 > len(b) {
			return nil, errWire
		}
		l := int(int32(binary.BigEndian.Uint32(b[p:])))
		p += 4
		if l < 0 || p+l > len(b) { // a NULL element (l = -1) has no place in the list
			return nil, errWire
		}
		out[i] = s[p : p+l]
		p += l
	}
	return out, nil
}
