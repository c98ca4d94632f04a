package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// Reading the whole register back (Units, at every start) must reach 100,000 units a
// second on two cores. Stepping SQLite (modernc's translation of it runs as Go) and
// decoding a row cost about the same, a few µs each, and one connection can only be
// stepped by one goroutine at a time. So Units reads on two reader
// connections, each stepping and decoding its own ranges of ids, and the caller's goroutine
// takes the ranges in order, so units still arrive ordered by id.
//
// Both connections read one snapshot: each holds a read transaction, and PRAGMA
// data_version shows whether anything was committed between the start of the first and
// the start of the second.
//
// A row is read as ten values rather than thirty-one: the driver costs about 0.15 µs per
// column (a call into SQLite under its mutex, a Go string and an interface for it), so the
// text columns come packed by concat_ws with NUL separators into two strings, which the
// unit's fields are cut from. The first holds the few fields that a spatial index keeps
// (code, name, category, region, department), so that what it keeps does not hold on to
// the JSON documents of the second. A row whose packed text does not split as expected (a
// value containing a NUL character) or that holds anything else unusual is read again the
// ordinary way, which gives the same unit or the same error as GetUnit.

const (
	// readbackPage is the width of the id ranges and the most units sent at once.
	readbackPage = 1024
	// readbackAhead is how many pages each worker may have ready beyond the one the
	// consumer is on.
	readbackAhead = 2
	// snapshotTries is how often Units tries to start both connections on one snapshot
	// before it reads on one connection only (writes kept committing in between).
	snapshotTries = 3
)

// readbackSQL reads the units of the range [?1, ?2) that are not retired.
var readbackSQL = `SELECT id,
    concat_ws(char(0), code, name, category, region_code, responsible_department),
    concat_ws(char(0), sub_category, address, major_risk_factors, direct_major_reason, grade,
        responsible_unit, contact_person, contact_phone, status, created_at, updated_at, assessed_by,
        accident_types, assessment, grade_explanation, controls` + unitcodec.PublicColumns("") + `,
        coalesce(inherent_grade, ''), coalesce(conditions, ''), coalesce(identified_at, '')),
    major_hazard_level, risk_value, influence_radius_m, version, CAST(assessed_at AS TEXT),
    CAST(next_review_due AS TEXT), geom, open_hazards
FROM risk_units WHERE status <> 'retired' AND id >= ? AND id < ? ORDER BY id`

// Positions in a readbackSQL row, and in its two packed strings.
const (
	rbID = iota
	rbIdent
	rbRest
	rbHazardLevel
	rbRiskValue
	rbInfluenceRadius
	rbVersion
	rbAssessedAt
	rbNextReviewDue
	rbGeom
	rbOpenHazards
	rbColumns
)

const (
	idCode = iota
	idName
	idCategory
	idRegionCode
	idDepartment
	identFields
)

const (
	restSubCategory = iota
	restAddress
	restMajorRiskFactors
	restDirectMajorReason
	restGrade
	restResponsibleUnit
	restContactPerson
	restContactPhone
	restStatus
	restCreatedAt
	restUpdatedAt
	restAssessedBy
	restAccidentTypes
	restAssessment
	restExplanation
	restControls
	restFields // the public texts follow, then restDynamic
)

// The dynamic columns packed after the public texts, "" for NULL.
const (
	restInherent = iota
	restConditions
	restIdentifiedAt
	restDynamic
)

// readerConn is a reading connection held by Units, in a read transaction once begun.
type readerConn struct {
	c        *sql.Conn
	inTx     bool
	released bool
}

// readBack is the body of Units.
func (s *Store) readBack(ctx context.Context, yield func(*riskmap.Unit, error) bool) {
	// Two connections, unless that would leave no reader free for others, the loop body
	// included (another Units may hold two already). The reading connections are held
	// until the iteration ends.
	workers := 2
	if st := s.r.Stats(); st.MaxOpenConnections > 0 && st.MaxOpenConnections-st.InUse < 3 {
		workers = 1
	}
	var all []*readerConn
	defer func() {
		for _, rc := range all {
			rc.release()
		}
	}()
	for range workers {
		c, err := s.r.Conn(ctx)
		if err != nil {
			yield(nil, s.dbErr(err, "list units"))
			return
		}
		all = append(all, &readerConn{c: c})
	}
	plan, n, err := beginSnapshot(ctx, all)
	if err != nil {
		yield(nil, s.dbErr(err, "list units"))
		return
	}
	if plan == nil {
		return // no units at all
	}
	for _, rc := range all[n:] {
		rc.release() // writes kept committing: one connection reads everything
	}
	conns := all[:n]
	read := func(w int, stop <-chan struct{}, out chan<- unitcodec.Page) {
		err := conns[w].c.Raw(func(dc any) error {
			return s.readRanges(ctx, dc, stop, plan, w, n, out)
		})
		if err != nil && ctx.Err() == nil {
			select {
			case out <- unitcodec.Page{Err: s.dbErr(err, "list units")}:
			case <-stop:
			}
		}
	}
	fail := func(err error) error { return s.dbErr(err, "list units") }
	// No statement outlives the iteration, or the transactions it reads in.
	unitcodec.ReadInOrder(ctx, plan, n, readbackAhead, read, yield, fail)
}

// begin starts a read transaction; the first read fixes its snapshot.
func (rc *readerConn) begin(ctx context.Context) error {
	if _, err := rc.c.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	rc.inTx = true
	return nil
}

// end ends the read transaction, if any.
func (rc *readerConn) end() error {
	if !rc.inTx {
		return nil
	}
	// Not the caller's context: it may have ended, and the transaction must end anyway.
	if _, err := rc.c.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		return err
	}
	rc.inTx = false
	return nil
}

// release ends the transaction and gives the connection back to the pool, or discards it
// when the transaction cannot be ended: a pooled connection left in a read transaction
// would answer from an old snapshot for ever.
func (rc *readerConn) release() {
	if rc.released {
		return
	}
	rc.released = true
	if err := rc.end(); err != nil {
		_ = rc.c.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = rc.c.Close()
}

// snapshotHook, set by tests, runs when the first connection's snapshot has started and
// the others' have not.
var snapshotHook func()

// beginSnapshot starts read transactions on conns that see one snapshot and returns the
// plan of ranges (nil when there are no units) and how many of the connections to read
// on: all of them, or the first only if writes kept committing while they started.
func beginSnapshot(ctx context.Context, conns []*readerConn) ([]unitcodec.IDRange, int, error) {
	first, rest := conns[0], conns[1:]
	for try := 0; ; try++ {
		parallel := len(rest) > 0 && try < snapshotTries
		// data_version changes when another connection commits. Read on the last
		// connection before the first one's snapshot starts and again as the last one's
		// starts, it tells whether every snapshot in between is the same.
		var before, after int64
		check := conns[len(conns)-1]
		if parallel {
			if err := check.c.QueryRowContext(ctx, "PRAGMA data_version").Scan(&before); err != nil {
				return nil, 0, err
			}
		}
		if err := first.begin(ctx); err != nil {
			return nil, 0, err
		}
		var lo, hi sql.NullInt64
		if err := first.c.QueryRowContext(ctx, "SELECT min(id), max(id) FROM risk_units").Scan(&lo, &hi); err != nil {
			return nil, 0, err
		}
		var plan []unitcodec.IDRange
		if lo.Valid && hi.Valid {
			plan = unitcodec.ReadbackPlan(lo.Int64, hi.Int64, readbackPage)
		}
		if !parallel {
			return plan, 1, nil
		}
		if snapshotHook != nil {
			snapshotHook()
		}
		for _, rc := range rest {
			if err := rc.begin(ctx); err != nil {
				return nil, 0, err
			}
			if rc != check {
				// Any read starts the snapshot.
				if _, err := rc.c.ExecContext(ctx, "SELECT 1 FROM risk_units LIMIT 1"); err != nil {
					return nil, 0, err
				}
			}
		}
		if err := check.c.QueryRowContext(ctx, "PRAGMA data_version").Scan(&after); err != nil {
			return nil, 0, err
		}
		if before == after {
			return plan, len(conns), nil
		}
		for _, rc := range conns {
			if err := rc.end(); err != nil {
				return nil, 0, err
			}
		}
	}
}

// readRanges reads ranges w, w+workers, … of plan on the driver connection dc and sends
// their pages to out, until the last range, an error, stop or ctx's end. The error it
// returns is sent by its caller.
func (s *Store) readRanges(ctx context.Context, dc any, stop <-chan struct{}, plan []unitcodec.IDRange, w, workers int, out chan<- unitcodec.Page) error {
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return errors.New("gpkg: the driver connection cannot prepare statements")
	}
	stmt, err := pc.PrepareContext(ctx, readbackSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	sq, ok := stmt.(driver.StmtQueryContext)
	if !ok {
		return errors.New("gpkg: the driver statement cannot query")
	}
	send := func(p unitcodec.Page) bool {
		select {
		case out <- p:
			return true
		case <-stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
	var dec readbackDecoder
	v := make([]driver.Value, rbColumns)
	for k := w; k < len(plan); k += workers {
		r := plan[k]
		rows, err := sq.QueryContext(ctx, []driver.NamedValue{{Ordinal: 1, Value: r.Lo}, {Ordinal: 2, Value: r.Hi}})
		if err != nil {
			return err
		}
		page := make([]*riskmap.Unit, 0, min(readbackPage, r.Hi-r.Lo))
		for {
			err := rows.Next(v)
			if err == io.EOF {
				break
			}
			if err != nil {
				rows.Close()
				if ctx.Err() == nil { // else readBack reports the context's end
					send(unitcodec.Page{Units: page, Err: s.dbErr(err, "list units")})
				}
				return nil
			}
			u, ok := dec.unit(v)
			if !ok {
				if u, err = rereadUnit(ctx, dc, v[rbID]); err != nil {
					rows.Close()
					send(unitcodec.Page{Units: page, Err: err})
					return nil
				}
			}
			page = append(page, u)
			if len(page) == readbackPage {
				if !send(unitcodec.Page{Units: page}) {
					rows.Close()
					return nil
				}
				page = make([]*riskmap.Unit, 0, readbackPage)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if !send(unitcodec.Page{Units: page, Last: true}) {
			return nil
		}
	}
	return nil
}

// rereadUnit reads the unit with the given id the ordinary way, in the same transaction.
func rereadUnit(ctx context.Context, dc any, id driver.Value) (*riskmap.Unit, error) {
	qc, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, errors.New("gpkg: the driver connection cannot query")
	}
	rows, err := qc.QueryContext(ctx, "SELECT "+unitColumns+" FROM risk_units WHERE id = ?", []driver.NamedValue{{Ordinal: 1, Value: id}})
	if err != nil {
		return nil, fmt.Errorf("gpkg: list units: %w", err)
	}
	defer rows.Close()
	v := make([]driver.Value, rowColumns)
	if err := rows.Next(v); err != nil {
		return nil, fmt.Errorf("gpkg: list units: read unit %v again: %w", id, err)
	}
	d := rowDecoder{v: v}
	return d.unit()
}

// readbackDecoder decodes readbackSQL rows. It reports false for anything it does not
// take as the store writes it; the row is then read again the ordinary way.
type readbackDecoder struct {
	ident [identFields]string
	rest  []string // restFields, then the public texts
}

// split cuts s at NUL characters into exactly len(parts) parts.
func split(s string, parts []string) bool {
	last := len(parts) - 1
	for i := range last {
		j := strings.IndexByte(s, 0)
		if j < 0 {
			return false
		}
		parts[i], s = s[:j], s[j+1:]
	}
	if strings.IndexByte(s, 0) >= 0 {
		return false
	}
	parts[last] = s
	return true
}

func (d *readbackDecoder) unit(v []driver.Value) (*riskmap.Unit, bool) {
	id, ok := v[rbID].(int64)
	if !ok {
		return nil, false
	}
	ident, ok1 := v[rbIdent].(string)
	rest, ok2 := v[rbRest].(string)
	if d.rest == nil {
		d.rest = make([]string, restFields+len(riskmap.PublicTextFields)+restDynamic)
	}
	if !ok1 || !ok2 || !split(ident, d.ident[:]) || !split(rest, d.rest) {
		return nil, false
	}
	risk, ok1 := number(v[rbRiskValue])
	radius, ok2 := number(v[rbInfluenceRadius])
	version, ok3 := v[rbVersion].(int64)
	created, ok4 := fastTime(d.rest[restCreatedAt])
	updated, ok5 := fastTime(d.rest[restUpdatedAt])
	geom, ok6 := v[rbGeom].([]byte)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return nil, false
	}
	u := &riskmap.Unit{
		ID: id, Code: d.ident[idCode], Name: d.ident[idName], Category: d.ident[idCategory],
		SubCategory: d.rest[restSubCategory], RegionCode: d.ident[idRegionCode], Address: d.rest[restAddress],
		MajorRiskFactors: d.rest[restMajorRiskFactors], DirectMajorReason: d.rest[restDirectMajorReason],
		RiskValue: risk, Grade: unitcodec.InternGrade(d.rest[restGrade]),
		ResponsibleDepartment: d.ident[idDepartment], ResponsibleUnit: d.rest[restResponsibleUnit],
		ContactPerson: d.rest[restContactPerson], ContactPhone: d.rest[restContactPhone],
		InfluenceRadiusM: radius, Status: unitcodec.InternStatus(d.rest[restStatus]),
		Version: version, CreatedAt: created, UpdatedAt: updated,
		AssessedBy: d.rest[restAssessedBy],
	}
	for i, f := range riskmap.PublicTextFields {
		*f.Of(&u.PublicTexts) = d.rest[restFields+i]
	}
	if !d.dynamic(u, v[rbOpenHazards]) {
		return nil, false
	}
	switch h := v[rbHazardLevel].(type) {
	case nil:
	case int64:
		u.MajorHazardSource = &riskmap.MajorHazardSource{Level: int(h)}
	default:
		return nil, false
	}
	// The JSON documents of the row share one reader, so their string lists one array.
	var jr unitcodec.Reader
	var err error
	if s := d.rest[restAccidentTypes]; s != "[]" {
		if u.AccidentTypes, err = jr.Strings(s); err != nil {
			return nil, false
		}
	}
	if jr.Assessment(d.rest[restAssessment], &u.Assessment) != nil ||
		jr.Explanation(d.rest[restExplanation], &u.Explanation) != nil ||
		jr.Controls(d.rest[restControls], &u.Controls) != nil {
		return nil, false
	}
	if v[rbAssessedAt] != nil || v[rbNextReviewDue] != nil {
		// Both times of a unit in one allocation.
		times := new([2]time.Time)
		if a := v[rbAssessedAt]; a != nil {
			s, ok := a.(string)
			if times[0], ok = fastTimeOK(s, ok); !ok {
				return nil, false
			}
			u.AssessedAt = &times[0]
		}
		if n := v[rbNextReviewDue]; n != nil {
			s, ok := n.(string)
			if times[1], ok = fastDateOK(s, ok); !ok {
				return nil, false
			}
			u.NextReviewDue = &times[1]
		}
	}
	if u.Geometry, err = decodeStored(geom); err != nil {
		return nil, false
	}
	return u, true
}

// dynamic sets the dynamic fields of u (whose grade is set) from the packed text and the
// open_hazards column.
func (d *readbackDecoder) dynamic(u *riskmap.Unit, openHazards driver.Value) bool {
	open, ok := openHazards.(int64)
	if !ok {
		return false
	}
	dyn := d.rest[restFields+len(riskmap.PublicTextFields):]
	var identified *time.Time
	if s := dyn[restIdentifiedAt]; s != "" {
		t, ok := fastDate(s)
		if !ok {
			return false
		}
		identified = &t
	}
	return unitcodec.SetDynamic(u, dyn[restInherent], dyn[restConditions], int(open), identified) == nil
}

// number reads a REAL column as rowDecoder.float does.
func number(v driver.Value) (float64, bool) {
	switch f := v.(type) {
	case float64:
		return f, true
	case int64:
		return float64(f), true
	}
	return 0, false
}

// fastTime parses a DATETIME in the form the store writes, "2006-01-02T15:04:05.000Z",
// giving what parseTime gives; false for any other text, which parseTime then reads (or
// refuses).
func fastTime(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return time.Time{}, false
	}
	y, ok1 := atoi(s[0:4])
	mo, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:10])
	h, ok4 := atoi(s[11:13])
	mi, ok5 := atoi(s[14:16])
	sec, ok6 := atoi(s[17:19])
	ms, ok7 := atoi(s[20:23])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || !validDate(y, mo, d) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ms*1_000_000, time.UTC), true
}

func fastTimeOK(s string, ok bool) (time.Time, bool) {
	if !ok {
		return time.Time{}, false
	}
	return fastTime(s)
}

// fastDate parses a DATE, "2006-01-02", giving what time.Parse(dateLayout, s) gives.
func fastDate(s string) (time.Time, bool) {
	if len(s) != len(dateLayout) || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := atoi(s[0:4])
	mo, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:10])
	if !ok1 || !ok2 || !ok3 || !validDate(y, mo, d) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
}

func fastDateOK(s string, ok bool) (time.Time, bool) {
	if !ok {
		return time.Time{}, false
	}
	return fastDate(s)
}

// readTime is parseTime with the common form read by fastTime.
func readTime(s string) (time.Time, error) {
	if t, ok := fastTime(s); ok {
		return t, nil
	}
	return parseTime(s)
}

// atoi reads decimal digits only.
func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}
