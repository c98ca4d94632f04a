package postgis

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
)

// A publication's units (and the approved register) are read at start into the public
// index: a million rows. As with the register's rows (rawdec.go), decoding their wire
// values directly costs a fraction of pgx's Scan (a string per text column, reflection per
// value); approvedPages falls back to Scan when the columns are not the expected ones.

// approvedWire is the wire format of each column of approvedColumns and publishedColumns:
// these, then the public texts (text, each).
var approvedWire = append([]wireCol{
	{pgtype.Int8OID, pgtype.BinaryFormatCode},        // unit_id
	{pgtype.Int8OID, pgtype.BinaryFormatCode},        // version
	{pgtype.TextOID, pgtype.TextFormatCode},          // code
	{pgtype.TextOID, pgtype.TextFormatCode},          // name
	{pgtype.TextOID, pgtype.TextFormatCode},          // category
	{pgtype.TextOID, pgtype.TextFormatCode},          // region_code
	{pgtype.TextOID, pgtype.TextFormatCode},          // grade
	{pgtype.Float8OID, pgtype.BinaryFormatCode},      // risk_value
	{pgtype.ByteaOID, pgtype.BinaryFormatCode},       // ST_AsBinary(geom)
	{pgtype.TextOID, pgtype.TextFormatCode},          // approved_by
	{pgtype.TimestamptzOID, pgtype.BinaryFormatCode}, // approved_at
}, publicTextCols()...)

func publicTextCols() []wireCol {
	cols := make([]wireCol, len(riskmap.PublicTextFields))
	for i := range cols {
		cols[i] = wireCol{pgtype.TextOID, pgtype.TextFormatCode}
	}
	return cols
}

// rawApprovedOK reports whether the result columns are what decodeApproved reads.
func rawApprovedOK(fds []pgconn.FieldDescription) bool { return columnsAre(fds, approvedWire) }

// decodeApproved decodes the wire values of one approved (or published) row: what
// scanApproved makes of it, with the code, name and public texts cut from one string and
// the category, region code, grade and approver shared through in.
func decodeApproved(vals [][]byte, in *interner) (*riskmap.ApprovedUnit, error) {
	if len(vals) != len(approvedWire) {
		return nil, errWire
	}
	for _, i := range []int{2, 3, 4, 5, 6, 9} {
		if vals[i] == nil {
			return nil, fmt.Errorf("column %d: %w", i, errWire)
		}
	}
	public := vals[len(vals)-len(riskmap.PublicTextFields):]
	n := len(vals[2]) + len(vals[3])
	for i, v := range public {
		if v == nil {
			return nil, fmt.Errorf("public text %d: %w", i, errWire)
		}
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	b.Write(vals[2])
	b.Write(vals[3])
	for _, v := range public {
		b.Write(v)
	}
	text, off := b.String(), 0
	cut := func(v []byte) string {
		off += len(v)
		return text[off-len(v) : off]
	}
	a := &riskmap.ApprovedUnit{Code: cut(vals[2]), Name: cut(vals[3])}
	for i, f := range riskmap.PublicTextFields {
		*f.Of(&a.PublicTexts) = cut(public[i])
	}
	var err error
	if a.UnitID, err = int8At(vals[0]); err != nil {
		return nil, fmt.Errorf("unit_id: %w", err)
	}
	if a.Version, err = int8At(vals[1]); err != nil {
		return nil, fmt.Errorf("unit %d: version: %w", a.UnitID, err)
	}
	a.Category, a.RegionCode = in.get(vals[4]), in.get(vals[5])
	a.Grade = riskmap.Grade(in.get(vals[6]))
	if a.RiskValue, err = float8At(vals[7]); err != nil {
		return nil, fmt.Errorf("unit %d: risk_value: %w", a.UnitID, err)
	}
	if a.Geometry, err = decodeWKB(vals[8]); err != nil {
		return nil, fmt.Errorf("unit %d: geometry: %w", a.UnitID, err)
	}
	a.ApprovedBy = in.get(vals[9])
	if vals[10] != nil {
		if a.ApprovedAt, err = timestamptzAt(vals[10]); err != nil {
			return nil, fmt.Errorf("unit %d: approved_at: %w", a.UnitID, err)
		}
	}
	return a, nil
}
