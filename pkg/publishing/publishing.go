// Package publishing owns publishing (发布): freezing the approved register and its regional
// grades into a numbered, immutable publication, which /public serves. The HTTP API and the
// command line both publish through it, with the same checks.
package publishing

import (
	"context"
	"encoding/json"
	"iter"
	"unicode/utf8"

	"riskmap/pkg/config"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// MaxNoteLen is the longest note (发布说明) a publication takes, in characters.
const MaxNoteLen = riskmap.MaxShortTextLen * 4

// CheckNote refuses a note longer than MaxNoteLen.
func CheckNote(note string) error {
	if utf8.RuneCountInString(note) > MaxNoteLen {
		return riskmap.Errorf(riskmap.EINVALID, "发布说明最多 %d 个字", MaxNoteLen)
	}
	return nil
}

// Store is what publishing needs of a store: its publications and the approved register.
type Store interface {
	riskmap.PublicationStore
	ApprovedUnits(ctx context.Context) iter.Seq2[*riskmap.ApprovedUnit, error]
}

// Service publishes the approved register of a store.
type Service struct {
	Store Store
	// Regions are the regions whose grades a publication keeps (regiongrade.Prepare).
	Regions []regiongrade.Region
	Rule    config.RegionRule
	// NewIndex makes an empty index for the public view (public fields only).
	NewIndex func() *spatialindex.Index

	// locate finds the grid a unit is counted in, as the public index does; gridKey names
	// those grids (regiongrade.GridKey).
	locate  spatialindex.Locator
	gridKey string
}

// New returns the publishing service of a store.
func New(store Store, regions []regiongrade.Region, rule config.RegionRule, newIndex func() *spatialindex.Index) *Service {
	raw := make([]*riskmap.Region, len(regions))
	for i, r := range regions {
		raw[i] = r.Region
	}
	return &Service{Store: store, Regions: regions, Rule: rule, NewIndex: newIndex,
		locate: regiongrade.Locator(raw), gridKey: regiongrade.GridKey(raw)}
}

// Publish checks p.Note and creates the next publication from the approved register, with
// what rec returns (the audit row, the answer kept for an Idempotency-Key; nil: nothing) in
// its transaction. Only what changed since the latest publication is written, and the
// regional grades are counted from the latest's counts and the change. It sets p.Number,
// p.CreatedAt (when zero), p.UnitCount and p.Regions, and returns the change (Advance
// brings the public index to it). EINVALID for a note that is too long; ECONFLICT when
// another publication took the number and the retry failed too.
func (s *Service) Publish(ctx context.Context, p *riskmap.Publication, rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) (*riskmap.PublicationChange, error) {
	if err := CheckNote(p.Note); err != nil {
		return nil, err
	}
	return s.Store.PublishRecorded(ctx, p, s.summarize, rec)
}

// keptCounts is what a publication keeps for the next one's regional grades: its units
// counted by counting region (spatialindex.Feature.CountCode) and grade, in the grids
// named by Grids.
type keptCounts struct {
	Grids string            `json:"grids"`
	Units map[string][4]int `json:"units"`
}

// summarize counts the publication's units, from the previous publication's counts and
// the change when they were kept for the same grids, else from the whole register, and
// computes the regional grades from the counts.
func (s *Service) summarize(ch *riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
	counts := map[string][4]int{}
	var kept keptCounts
	switch {
	case ch.Previous == nil:
		s.count(counts, ch.Added, 1)
	case len(ch.Previous.Counts) > 0 && json.Unmarshal(ch.Previous.Counts, &kept) == nil && kept.Grids == s.gridKey && kept.Units != nil:
		counts = kept.Units
		s.count(counts, ch.Removed, -1)
		s.count(counts, ch.Added, 1)
	default:
		all, err := ch.Register()
		if err != nil {
			return nil, err
		}
		s.count(counts, all, 1)
	}
	regions, err := json.Marshal(regiongrade.Compute(s.Regions, counts, s.Rule))
	if err != nil {
		return nil, err
	}
	keep, err := json.Marshal(keptCounts{Grids: s.gridKey, Units: counts})
	if err != nil {
		return nil, err
	}
	return &riskmap.PublicationSummary{Regions: regions, Counts: keep}, nil
}

// count adds d for each unit to its counting region's count of its grade, as the public
// index counts it, and drops counts that reach zero.
func (s *Service) count(counts map[string][4]int, units []*riskmap.ApprovedUnit, d int) {
	for _, a := range units {
		gi := a.Grade.Rank() - 1
		if gi < 0 {
			continue
		}
		code := spatialindex.CountCode(a.RegionCode, a.Geometry, s.locate)
		c := counts[code]
		c[gi] += d
		if c == ([4]int{}) {
			delete(counts, code)
		} else {
			counts[code] = c
		}
	}
}

// Forker is the public index of a publication, which the next publication's index is
// forked from (*spatialindex.Index).
type Forker interface {
	Fork() *spatialindex.Index
}

// Advance returns the public index of publication p, whose change ch is, made from cur,
// the index of the publication before it: a fork of cur with the change applied, sharing
// every unchanged unit with cur. The first publication's units (the whole change) are
// loaded into a new index; without cur, so are p's units, read from the store.
func (s *Service) Advance(ctx context.Context, cur Forker, p *riskmap.Publication, ch *riskmap.PublicationChange) (*spatialindex.Index, error) {
	switch {
	case ch.Previous == nil:
		return s.load(ctx, approvedUnits(ch.Added))
	case cur == nil:
		return s.load(ctx, publicationUnits(s.Store.PublicationUnits(ctx, p.Number)))
	}
	return apply(cur, ch)
}

func (s *Service) load(ctx context.Context, units iter.Seq2[*riskmap.Unit, error]) (*spatialindex.Index, error) {
	ix := s.NewIndex()
	if _, err := ix.Load(ctx, units); err != nil {
		return nil, err
	}
	return ix, nil
}

func apply(cur Forker, ch *riskmap.PublicationChange) (*spatialindex.Index, error) {
	removed := make([]int64, len(ch.Removed))
	for i, a := range ch.Removed {
		removed[i] = a.UnitID
	}
	added := make([]*riskmap.Unit, len(ch.Added))
	for i, a := range ch.Added {
		added[i] = a.Unit()
	}
	ix := cur.Fork()
	if err := ix.Replace(removed, added); err != nil {
		return nil, err
	}
	return ix, nil
}

// Preview returns what publishing now would publish, writing nothing: the approved
// register and the regional grades computed from it, as Publish would keep them.
func (s *Service) Preview(ctx context.Context) ([]*riskmap.ApprovedUnit, json.RawMessage, error) {
	var units []*riskmap.ApprovedUnit
	for a, err := range s.Store.ApprovedUnits(ctx) {
		if err != nil {
			return nil, nil, err
		}
		units = append(units, a)
	}
	counts := map[string][4]int{}
	s.count(counts, units, 1)
	regions, err := json.Marshal(regiongrade.Compute(s.Regions, counts, s.Rule))
	if err != nil {
		return nil, nil, err
	}
	return units, regions, nil
}

// Latest returns the latest publication and its public index, unless its number is not
// above have (the number of the publication cur holds; 0: none): then it returns nil and
// no error. With cur, the index is a fork of cur brought forward by the change between the
// two publications; without, the publication's units loaded into a new index. ENOTFOUND
// when nothing has been published.
func (s *Service) Latest(ctx context.Context, have int64, cur Forker) (*riskmap.Publication, *spatialindex.Index, error) {
	p, err := s.Store.LatestPublication(ctx)
	if err != nil {
		return nil, nil, err
	}
	if p.Number <= have {
		return nil, nil, nil
	}
	if cur != nil && have > 0 {
		ch, err := s.Store.PublicationChanges(ctx, have, p.Number)
		if err != nil {
			return nil, nil, err
		}
		ix, err := apply(cur, ch)
		return p, ix, err
	}
	ix, err := s.load(ctx, publicationUnits(s.Store.PublicationUnits(ctx, p.Number)))
	if err != nil {
		return nil, nil, err
	}
	return p, ix, nil
}

func approvedUnits(units []*riskmap.ApprovedUnit) iter.Seq2[*riskmap.Unit, error] {
	return func(yield func(*riskmap.Unit, error) bool) {
		for _, a := range units {
			if !yield(a.Unit(), nil) {
				return
			}
		}
	}
}

func publicationUnits(units iter.Seq2[*riskmap.ApprovedUnit, error]) iter.Seq2[*riskmap.Unit, error] {
	return func(yield func(*riskmap.Unit, error) bool) {
		for a, err := range units {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(a.Unit(), nil) {
				return
			}
		}
	}
}
