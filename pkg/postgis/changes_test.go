package postgis

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// Publishing compares only the units whose approved row changed since the publication before
// (approved_changes, sql/postgis/017), and a change committed while a publication runs is
// left for the next one, never lost.
func TestPublishTakesLoggedChanges(t *testing.T) {
	ctx := context.Background()
	t.Run("Contract", func(t *testing.T) {
		s := openStore(t)
		storetest.PublishTakesLoggedChanges(t, s, storetest.ChangeLog{
			Exec: func(q string, args ...any) error {
				_, err := s.pool.Exec(ctx, q, args...)
				return err
			},
			Logged: func() (n int, err error) {
				err = s.pool.QueryRow(ctx, "SELECT count(*) FROM approved_changes").Scan(&n)
				return n, err
			},
		})
	})
	t.Run("OKWriterOpenDuringPublish", func(t *testing.T) {
		s := openStore(t)
		var ids []int64
		for i := range 3 {
			u := storetest.NewUnit(fmt.Sprintf("OW-%d", i), orb.Point{102.9, 24.6 + float64(i)*0.001})
			if err := s.CreateUnit(ctx, u); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		publish := func() []int64 {
			t.Helper()
			added, _ := storetest.PublishedChange(t, s)
			return added
		}
		// newVersionOpen writes a new approved version of a unit in a transaction it leaves
		// open, for the caller to commit.
		newVersionOpen := func(id int64) pgx.Tx {
			t.Helper()
			tx, err := s.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tx.Rollback(ctx) })
			if _, err := tx.Exec(ctx, "UPDATE approved_units SET version = version + 1 WHERE unit_id = $1", id); err != nil {
				t.Fatal(err)
			}
			return tx
		}
		publish()
		if _, err := s.pool.Exec(ctx, "UPDATE approved_units SET version = version + 1 WHERE unit_id = $1", ids[0]); err != nil {
			t.Fatal(err)
		}
		// A new version of the second unit, written by a transaction still open when the
		// publication runs.
		tx := newVersionOpen(ids[1])
		if got := publish(); !slices.Equal(got, ids[:1]) {
			t.Fatalf("while the writer is open: added %v, want %v", got, ids[:1])
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if got := publish(); !slices.Equal(got, ids[1:2]) {
			t.Fatalf("after the writer committed: added %v, want %v", got, ids[1:2])
		}
		// The same after a bulk load whose "everything" the publication takes while the
		// writer is open (a writer that saw that 0 and logged nothing was lost once).
		if _, err := s.BulkInsertUnits(ctx, slices.Values([]*riskmap.Unit{storetest.NewUnit("OW-BULK", orb.Point{102.95, 24.6})}), nil); err != nil {
			t.Fatal(err)
		}
		tx2 := newVersionOpen(ids[2])
		publish() // the whole register, without the open writer's change
		if err := tx2.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if got := publish(); !slices.Equal(got, ids[2:3]) {
			t.Fatalf("after the writer open across a bulk load's publication committed: added %v, want %v", got, ids[2:3])
		}
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM approved_units a FULL JOIN
			(SELECT * FROM publication_units WHERE publication = (SELECT max(number) FROM publications)) p ON p.unit_id = a.unit_id
			WHERE a.version IS DISTINCT FROM p.version OR a.grade IS DISTINCT FROM p.grade`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the latest publication differs from the approved register in %d units (%v)", n, err)
		}
	})
}
