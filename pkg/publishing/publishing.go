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
	// NewIndex makes an empty index for the public view (public fields only); the approved
	// register is loaded into it to count units by region.
	NewIndex func() *spatialindex.Index
}

// New returns the publishing service of a store.
func New(store Store, regions []regiongrade.Region, rule config.RegionRule, newIndex func() *spatialindex.Index) *Service {
	return &Service{Store: store, Regions: regions, Rule: rule, NewIndex: newIndex}
}

// Publish checks p.Note and creates the next publication from the approved register, with
// what rec returns (the audit row, the answer kept for an Idempotency-Key; nil: nothing) in
// its transaction. It sets p.Number, p.CreatedAt (when zero), p.UnitCount and p.Regions, and
// returns the public index holding the publication's units. EINVALID for a note that is
// too long; ECONFLICT when another publication took the number and the retry failed too.
func (s *Service) Publish(ctx context.Context, p *riskmap.Publication, rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) (*spatialindex.Index, error) {
	if err := CheckNote(p.Note); err != nil {
		return nil, err
	}
	var ix *spatialindex.Index
	err := s.Store.PublishRecorded(ctx, p, func(units []*riskmap.ApprovedUnit) (json.RawMessage, error) {
		// The store may call this again (a publication made at the same time took the
		// number): each call starts from an empty index.
		ix = s.NewIndex()
		return Summarize(ctx, ix, s.Regions, s.Rule, units)
	}, rec)
	if err != nil {
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
	regions, err := Summarize(ctx, s.NewIndex(), s.Regions, s.Rule, units)
	if err != nil {
		return nil, nil, err
	}
	return units, regions, nil
}

// Latest returns the latest publication and a new public index holding its units, unless
// its number is not above have (the number of the publication already served; 0: none):
// then it returns nil and no error. ENOTFOUND when nothing has been published.
func (s *Service) Latest(ctx context.Context, have int64) (*riskmap.Publication, *spatialindex.Index, error) {
	p, err := s.Store.LatestPublication(ctx)
	if err != nil {
		return nil, nil, err
	}
	if p.Number <= have {
		return nil, nil, nil
	}
	ix := s.NewIndex()
	if _, err := ix.Load(ctx, publicationUnits(s.Store.PublicationUnits(ctx, p.Number))); err != nil {
		return nil, nil, err
	}
	return p, ix, nil
}

// Summarize loads the approved register into ix (an empty public index) and returns the
// regional grades computed from it, as a publication keeps them.
func Summarize(ctx context.Context, ix *spatialindex.Index, regions []regiongrade.Region, rule config.RegionRule, units []*riskmap.ApprovedUnit) (json.RawMessage, error) {
	if _, err := ix.Load(ctx, approvedUnits(units)); err != nil {
		return nil, err
	}
	return json.Marshal(regiongrade.Compute(regions, ix.Snapshot().RegionTotals(), rule))
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
