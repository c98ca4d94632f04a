package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"os"
	"testing"
	"time"
)

func TestScanExp(t *testing.T) {
	if os.Getenv("EXP_SCAN") == "" {
		t.Skip()
	}
	ctx := context.Background()
	s, err := Open(ctx, "/tmp/gk/bulk.gpkg")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := "SELECT " + unitColumns + " FROM risk_units WHERE status <> 'retired' ORDER BY id"
	// 1: database/sql with RawBytes
	start := time.Now()
	rows, _ := s.r.QueryContext(ctx, q)
	cols := make([]any, 31)
	raw := make([]sql.RawBytes, 31)
	for i := range cols {
		cols[i] = &raw[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(cols...); err != nil {
			t.Fatal(err)
		}
		n++
	}
	rows.Close()
	t.Logf("database/sql RawBytes: %d rows %v (%.0f/s)", n, time.Since(start), float64(n)/time.Since(start).Seconds())
	// 2: raw driver
	start = time.Now()
	c, _ := s.r.Conn(ctx)
	n = 0
	c.Raw(func(dc any) error {
		qc := dc.(driver.QueryerContext)
		r, err := qc.QueryContext(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		dest := make([]driver.Value, 31)
		for {
			if err := r.Next(dest); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return r.Close()
	})
	c.Close()
	t.Logf("raw driver: %d rows %v (%.0f/s)", n, time.Since(start), float64(n)/time.Since(start).Seconds())
	// 3: full
	start = time.Now()
	n = 0
	for _, err := range s.Units(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	t.Logf("Units: %d rows %v (%.0f/s)", n, time.Since(start), float64(n)/time.Since(start).Seconds())
}
