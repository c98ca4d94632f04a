package register

import "riskmap/pkg/riskmap"

// Indexer is what the service needs of the index that reads are served from
// (spatialindex.Index). Every unit write reaches the index through the service: its own
// writes before their methods return, so that the writer's next read sees them, and the
// writes another replica (or psql, or QGIS) made through ApplyStored and RemoveErased.
// Bulk loads (BulkCreate, and loading the index whole at start) do not go through it.
type Indexer interface {
	// Apply brings a unit as stored into the index: inserted or replaced when its version
	// is newer than the indexed one, taken out when it is retired. It reports whether
	// anything changed.
	Apply(u *riskmap.Unit) (bool, error)
	// ApplyAll applies units as Apply does, one after the other, with one change of the
	// index for them all (a catch-up's batch). It returns how many changed the index.
	ApplyAll(us []*riskmap.Unit) (int, error)
	// Remove takes a unit out whatever its version.
	Remove(id int64) bool
}

// IndexError is a write that was stored but did not reach the index.
type IndexError struct{ Err error }

func (e *IndexError) Error() string { return "the write was stored but not indexed: " + e.Err.Error() }
func (e *IndexError) Unwrap() error { return e.Err }

// index brings a unit the service stored into the index, if it has one.
func (s *Service) index(u *riskmap.Unit) error {
	if s.Index == nil || u == nil {
		return nil
	}
	if _, err := s.Index.Apply(u); err != nil {
		return &IndexError{Err: err}
	}
	return nil
}

// ApplyStored brings a unit written elsewhere (another replica, or by hand) into the index,
// as read from the store, the way the service's own writes reach it. A version older than,
// or as old as, the indexed one changes nothing. It reports whether the index changed.
func (s *Service) ApplyStored(u *riskmap.Unit) (bool, error) {
	if s.Index == nil {
		return false, nil
	}
	return s.Index.Apply(u)
}

// ApplyStoredAll is ApplyStored for a batch of units read from the store together (a
// catch-up of what other replicas wrote): the index changes once for them all. It returns
// how many changed the index.
func (s *Service) ApplyStoredAll(us []*riskmap.Unit) (int, error) {
	if s.Index == nil {
		return 0, nil
	}
	return s.Index.ApplyAll(us)
}

// RemoveErased takes a unit erased from the store (by hand: riskmap itself never erases
// one) out of the index. It reports whether it was there.
func (s *Service) RemoveErased(id int64) bool {
	if s.Index == nil {
		return false
	}
	return s.Index.Remove(id)
}
