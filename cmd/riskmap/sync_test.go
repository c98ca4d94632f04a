package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"riskmap/pkg/spatialindex"
)

// TestLogIndexErrors: a catch-up batch's units that could not be indexed are logged one a
// line with their ids, ten at most, then how many more.
func TestLogIndexErrors(t *testing.T) {
	var buf bytes.Buffer
	f := &follower{logger: slog.New(slog.NewTextHandler(&buf, nil))}
	f.logIndexErrors(nil)
	if buf.Len() != 0 {
		t.Fatalf("nothing failed, nothing logged: %q", buf.String())
	}
	var errs []error
	for id := int64(1); id <= 12; id++ {
		errs = append(errs, &spatialindex.UnitError{ID: id, Err: errors.New("编码失败")})
	}
	f.logIndexErrors(errors.Join(errs...))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 11 {
		t.Fatalf("want 10 lines and a count, got %d:\n%s", len(lines), buf.String())
	}
	for i, l := range lines[:10] {
		if !strings.Contains(l, fmt.Sprintf("unit=%d ", i+1)) || !strings.Contains(l, "编码失败") {
			t.Fatalf("line %d does not name its unit and error: %s", i, l)
		}
	}
	if !strings.Contains(lines[10], "more=2") {
		t.Fatalf("the rest counted: %s", lines[10])
	}
}
