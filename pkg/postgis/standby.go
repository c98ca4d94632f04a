package postgis

import "context"

// Reading from a hot standby (serve --read-db): a reader that learns of a commit on the
// primary reads it from the standby only once the standby has replayed the primary's
// write-ahead log that far.

// WALPosition is how far the primary has written its write-ahead log (pg_current_wal_lsn),
// in bytes: every transaction committed before the call lies below it.
func (s *Store) WALPosition(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint").Scan(&n); err != nil {
		return 0, dbError("wal position", err)
	}
	return n, nil
}

// ReplayedPosition is how far a standby has replayed the primary's write-ahead log
// (pg_last_wal_replay_lsn), in bytes; on a primary, its own position.
func (s *Store) ReplayedPosition(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, "SELECT (coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn()) - '0/0'::pg_lsn)::bigint").Scan(&n)
	if err != nil {
		return 0, dbError("replayed position", err)
	}
	return n, nil
}
