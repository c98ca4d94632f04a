package spatialindex

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// testClock is a clock at 10:00 in China on day, which setDay moves to another day; the
// encoder reads it too (featurejson.Now) until the test ends.
func testClock(t *testing.T, day string) (now func() time.Time, setDay func(string)) {
	var clock atomic.Int64 // Unix seconds
	now = func() time.Time { return time.Unix(clock.Load(), 0) }
	setDay = func(s string) {
		d, _ := time.Parse(time.DateOnly, s)
		clock.Store(d.Add(2 * time.Hour).Unix())
	}
	setDay(day)
	old := featurejson.Now
	featurejson.Now = now
	t.Cleanup(func() { featurejson.Now = old })
	return now, setDay
}

// A unit due for review on a day reads "current" that day and "overdue" from the next,
// though nothing is written: the index brings its Feature to the new day by itself.
func TestRedateOnANewDay(t *testing.T) {
	now, setDay := testClock(t, "2026-12-06")

	due := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	dueToday := unit(1, 1, riskmap.GradeRed, orb.Point{102.9, 24.6})
	dueToday.NextReviewDue = &due
	never := unit(2, 1, riskmap.GradeBlue, orb.Point{102.91, 24.61})

	ix := New(featurejson.Encoder(), nil)
	ix.SetRedater(featurejson.Redate, now)
	done := make(chan struct{}, 1)
	ix.redateHit = func() { done <- struct{}{} }
	var changes []Change
	ix.OnChange(func(ch Change) { changes = append(changes, ch) })
	if _, err := ix.Load(context.Background(), seq(dueToday, never)); err != nil {
		t.Fatal(err)
	}
	state := func(id int64) string {
		f, _ := ix.Snapshot().Get(id)
		switch {
		case bytes.Contains(f.JSON(), []byte(`"review_state":"current","review_overdue":false`)):
			return "current"
		case bytes.Contains(f.JSON(), []byte(`"review_state":"overdue","review_overdue":true`)):
			return "overdue"
		case bytes.Contains(f.JSON(), []byte(`"review_state":"never","review_overdue":false`)):
			return "never"
		}
		return string(f.JSON())
	}
	if state(1) != "current" || state(2) != "never" {
		t.Fatalf("on the due day: %s, %s", state(1), state(2))
	}
	changes = nil
	setDay("2026-12-07")
	ix.Snapshot() // the first look on the new day starts the redating
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no redating on a new day")
	}
	if state(1) != "overdue" || state(2) != "never" {
		t.Fatalf("the next day: %s, %s", state(1), state(2))
	}
	if len(changes) != 1 || changes[0].After.ID != 1 {
		t.Fatalf("one change, for unit 1: %+v", changes)
	}
	// The redated Feature is what encoding on that day gives.
	f, _ := ix.Snapshot().Get(1)
	if want := featurejson.Encode(dueToday); !bytes.Equal(f.JSON(), want) {
		t.Fatalf("redated:\n%s\nencoded:\n%s", f.JSON(), want)
	}
	if n := ix.Redate(); n != 0 {
		t.Fatalf("a second Redate on the same day changed %d", n)
	}
}

// Redating reads the documents without holding up writers: a unit written while it runs
// keeps what its write encoded, the others are redated, and every Feature ends as encoding
// on the new day gives it.
func TestRedateWithWritesMeanwhile(t *testing.T) {
	now, setDay := testClock(t, "2026-12-06")

	due := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	latest := map[int64]*riskmap.Unit{}
	var us []*riskmap.Unit
	for id := int64(1); id <= 3000; id++ {
		u := unit(id, 1, riskmap.GradeRed, orb.Point{102.9 + float64(id)*1e-5, 24.6})
		u.NextReviewDue = &due
		us = append(us, u)
		latest[id] = u
	}
	ix := New(featurejson.Encoder(), nil)
	ix.SetHead(Head{Write: featurejson.AppendFeatureHead, Len: featurejson.FeatureHeadLen}) // as serve keeps documents: without their heads
	ix.SetRedater(featurejson.Redate, now)
	if _, err := ix.Load(context.Background(), seq(us...)); err != nil {
		t.Fatal(err)
	}
	setDay("2026-12-07")
	writes := make(chan *riskmap.Unit, 300)
	for id := int64(1); id <= 3000; id += 10 {
		u := *latest[id]
		u.Version, u.Name = 2, "改名"
		latest[id] = &u
		writes <- &u
	}
	close(writes)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for u := range writes {
			if _, err := ix.Apply(u); err != nil {
				t.Error(err)
			}
		}
	}()
	ix.Redate()
	<-done
	ix.Redate()
	snap := ix.Snapshot()
	for id, u := range latest {
		f, _ := snap.Get(id)
		if want := featurejson.Encode(u); !bytes.Equal(f.JSON(), want) {
			t.Fatalf("unit %d:\n%s\nwant\n%s", id, f.JSON(), want)
		}
	}
}
