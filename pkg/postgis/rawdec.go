package postgis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
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
	wJSON
	wTimestamptz
	wDate
	wBytea
	wInt4
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
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // major_risk_factors
	{pgtype.JSONOID, pgtype.TextFormatCode, wJSON}, // assessment
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // direct_major_reason
	{pgtype.Float8OID, pgtype.BinaryFormatCode, wFloat8},
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // grade
	{pgtype.JSONOID, pgtype.TextFormatCode, wJSON}, // grade_explanation
	{pgtype.JSONOID, pgtype.TextFormatCode, wJSON}, // controls
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // responsible_department
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // responsible_unit
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // contact_person
	{pgtype.TextOID, pgtype.TextFormatCode, wText}, // contact_phone
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

// dynamicWire is the wire format of the dynamic columns (unitcodec.DynamicColumns) that
// follow the public texts.
var dynamicWire = [...]struct {
	oid    uint32
	format int16
	kind   wireKind
}{
	{pgtype.TextOID, pgtype.TextFormatCode, wText},   // inherent_grade
	{pgtype.JSONOID, pgtype.TextFormatCode, wJSON},   // conditions (jsonb)
	{pgtype.Int4OID, pgtype.BinaryFormatCode, wInt4}, // open_hazards
	{pgtype.DateOID, pgtype.BinaryFormatCode, wDate}, // identified_at
}

// rawUnitOK reports whether the result columns are what decodeUnitRow reads: unitWire,
// then the public texts as text, then dynamicWire.
func rawUnitOK(fds []pgconn.FieldDescription) bool { return columnsAre(fds, unitRowWire) }

// unitRowWire is the wire format of each column of a selectUnit row.
var unitRowWire = func() []wireCol {
	var cols []wireCol
	for _, w := range unitWire {
		cols = append(cols, wireCol{w.oid, w.format})
	}
	for range riskmap.PublicTextFields {
		cols = append(cols, wireCol{publicWire.oid, publicWire.format})
	}
	for _, w := range dynamicWire {
		cols = append(cols, wireCol{w.oid, w.format})
	}
	return cols
}()

// publicWire is the wire format of the public texts that follow unitWire.
var publicWire = unitWire[1]

var errWire = errors.New("unexpected value on the wire")

// wireCol is a result column's type and format as a fast decoder reads it.
type wireCol struct {
	oid    uint32
	format int16
}

// columnsAre reports whether the result columns fds are want, in order. A jsonb column
// where json is wanted (before 003_json_columns) prints the same text.
func columnsAre(fds []pgconn.FieldDescription, want []wireCol) bool {
	if len(fds) != len(want) {
		return false
	}
	for i, fd := range fds {
		oid := fd.DataTypeOID
		if oid == pgtype.JSONBOID && want[i].oid == pgtype.JSONOID {
			oid = pgtype.JSONOID
		}
		if oid != want[i].oid || fd.Format != want[i].format {
			return false
		}
	}
	return true
}

// decodeUnitRow decodes the wire values of one selectUnit row. The text of the row is
// copied into two strings, which the string fields, including those read from the JSON
// documents, are cut from; so a row costs a handful of allocations. The first string holds
// only the code and name, which a spatial index keeps of a unit with its category, region
// and department (new strings here; decodeRow's interner, when reading the register back,
// shares them among the units of the read), so that
// what it keeps does not hold on to the documents; grade and status are the package
// constants. (A unit keeps its whole text alive for as long as any of its
// other strings lives; that is the size of the unit anyway.)
func decodeUnitRow(vals [][]byte) (*riskmap.Unit, error) { return decodeRow(vals, false, nil) }

// identColumn marks the columns of selectUnit whose text goes into the first string (code,
// name); internColumn those whose few distinct values (category, region code, department)
// are shared by every unit that has them (interner).
var (
	identColumn  = [len(unitWire)]bool{1: true, 2: true}
	internColumn = [len(unitWire)]bool{3: true, 5: true, 16: true}
)

// interner hands out one string for each distinct value it is given, up to internMax of
// them: a million units name a few dozen categories, a few hundred regions and departments,
// and the index keeps each unit's. One per reading goroutine (not safe for concurrent use);
// nil gives a new string each time.
type interner struct{ m map[string]string }

const internMax = 4096

func newInterner() *interner { return &interner{m: map[string]string{}} }

func (in *interner) get(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < internMax {
		in.m[s] = s
	}
	return s
}

// decodeRow is decodeUnitRow; utf8Server says that the values come from a server whose
// encoding is UTF-8, which has checked the text and JSON values (see unitcodec.Reader).
func decodeRow(vals [][]byte, utf8Server bool, in *interner) (*riskmap.Unit, error) {
	if len(vals) != len(unitRowWire) {
		return nil, errWire
	}
	public := vals[len(unitWire) : len(unitWire)+len(riskmap.PublicTextFields)]
	dyn := vals[len(unitWire)+len(riskmap.PublicTextFields):]
	// Two strings holding every text-like value, each in column order.
	var identLen, restLen int
	for i, w := range unitWire {
		switch {
		case w.kind != wText && w.kind != wJSON && w.kind != wTextArray, internColumn[i]:
		case identColumn[i]:
			identLen += len(vals[i])
		default:
			restLen += len(vals[i])
		}
	}
	for _, v := range public {
		restLen += len(v)
	}
	var ib, rb strings.Builder
	ib.Grow(identLen)
	rb.Grow(restLen)
	for i, w := range unitWire {
		switch {
		case w.kind != wText && w.kind != wJSON && w.kind != wTextArray, internColumn[i]:
		case identColumn[i]:
			ib.Write(vals[i])
		default:
			rb.Write(vals[i])
		}
	}
	for _, v := range public {
		rb.Write(v)
	}
	ident, rest := ib.String(), rb.String()

	u := &riskmap.Unit{}
	// The string lists of the controls share one backing array.
	jr := unitcodec.Reader{Trusted: utf8Server}
	identOff, restOff := 0, 0
	text := func(i int) (string, []byte) { // the string and bytes of text-like column i
		b := vals[i]
		if i < len(internColumn) && internColumn[i] {
			return in.get(b), b
		}
		if i < len(identColumn) && identColumn[i] {
			identOff += len(b)
			return ident[identOff-len(b) : identOff], b
		}
		restOff += len(b)
		return rest[restOff-len(b) : restOff], b
	}
	doc := func(i int) string { s, _ := text(i); return s }
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
	if err := jr.Assessment(doc(10), &u.Assessment); err != nil {
		return nil, fmt.Errorf("unit %d: assessment: %w", u.ID, err)
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
	u.Grade = unitcodec.InternGrade(grade)
	if err := jr.Explanation(doc(14), &u.Explanation); err != nil {
		return nil, fmt.Errorf("unit %d: grade_explanation: %w", u.ID, err)
	}
	if err := jr.Controls(doc(15), &u.Controls); err != nil {
		return nil, fmt.Errorf("unit %d: controls: %w", u.ID, err)
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
	u.Status = unitcodec.InternStatus(status)
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
	if vals[26] != nil || vals[27] != nil {
		times := new([2]time.Time) // both in one allocation
		if b := vals[26]; b != nil {
			if times[0], err = timestamptzAt(b); err != nil {
				return nil, fmt.Errorf("assessed_at: %w", err)
			}
			u.AssessedAt = &times[0]
		}
		if b := vals[27]; b != nil {
			if times[1], err = dateAt(b); err != nil {
				return nil, fmt.Errorf("next_review_due: %w", err)
			}
			u.NextReviewDue = &times[1]
		}
	}
	if u.Geometry, err = readWKB(vals[28]); err != nil {
		return nil, fmt.Errorf("unit %d: geometry: %w", u.ID, err)
	}
	for i, f := range riskmap.PublicTextFields {
		if *f.Of(&u.PublicTexts), err = str(len(unitWire) + i); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	if err := decodeDynamic(u, dyn); err != nil {
		return nil, fmt.Errorf("unit %d: %w", u.ID, err)
	}
	return u, nil
}

// decodeDynamic sets the dynamic fields of u from the wire values of its dynamic columns
// (dynamicWire). They are rare (most units have no open condition) and small, so they are
// not cut from the row's strings.
func decodeDynamic(u *riskmap.Unit, vals [][]byte) error {
	if len(vals[2]) != 4 {
		return fmt.Errorf("open_hazards: %w", errWire)
	}
	open := int(int32(binary.BigEndian.Uint32(vals[2])))
	var identified *time.Time
	if b := vals[3]; b != nil {
		t, err := dateAt(b)
		if err != nil {
			return fmt.Errorf("identified_at: %w", err)
		}
		identified = &t
	}
	inherent := ""
	if b := vals[0]; b != nil {
		inherent = string(unitcodec.InternGrade(string(b)))
	}
	if err := unitcodec.SetDynamic(u, inherent, string(vals[1]), open, identified); err != nil {
		return fmt.Errorf("conditions: %w", err)
	}
	return nil
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
