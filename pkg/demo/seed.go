package demo

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"iter"

	"github.com/paulmach/orb"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
)

// SiteStore is what loading the demo city needs of a store: its reference layers.
type SiteStore interface {
	PutRegions(ctx context.Context, rs []*riskmap.Region) error
	AddProtectiveTargets(ctx context.Context, ts []*riskmap.ProtectiveTarget) error
	AddShelters(ctx context.Context, ss []*riskmap.Shelter) error
}

// UnitLoader adds many units in one go, grading and checking each: register.Service.
type UnitLoader interface {
	BulkCreate(ctx context.Context, units iter.Seq[*riskmap.Unit], progress func(int)) (int, error)
}

// Loaded counts what Load put into the store.
type Loaded struct {
	Regions, Units, Targets, Shelters int
}

// Load puts the demo city of fsys into an empty store: regions, protective targets,
// shelters, then the units through units, which grades and checks each. The first bad
// unit stops the load; its message names the feature.
func Load(ctx context.Context, fsys fs.FS, store SiteStore, units UnitLoader) (Loaded, error) {
	var n Loaded
	var err error
	var regions []*riskmap.Region
	loadRegions := func(fsys fs.FS) ([]*riskmap.Region, error) {
		var err error
		regions, err = LoadRegions(fsys)
		return regions, err
	}
	if n.Regions, err = put(ctx, fsys, "演示城市的区域", loadRegions, store.PutRegions); err != nil {
		return n, err
	}
	// A site is stored under the finest region holding it (a grid), as the sites service
	// files every site it writes, so that the first edit of a demo site moves nothing.
	locate := regiongrade.Containing(regions)
	finest := func(code *string, g orb.Geometry) {
		if p, ok := sites.RepresentativePoint(g); ok {
			if c := locate(p); c != "" {
				*code = c
			}
		}
	}
	loadTargets := func(fsys fs.FS) ([]*riskmap.ProtectiveTarget, error) {
		ts, err := LoadTargets(fsys)
		for _, t := range ts {
			finest(&t.RegionCode, t.Geometry)
		}
		return ts, err
	}
	loadShelters := func(fsys fs.FS) ([]*riskmap.Shelter, error) {
		ss, err := LoadShelters(fsys)
		for _, s := range ss {
			finest(&s.RegionCode, s.Geometry)
		}
		return ss, err
	}
	if n.Targets, err = put(ctx, fsys, "演示城市的防护目标", loadTargets, store.AddProtectiveTargets); err != nil {
		return n, err
	}
	if n.Shelters, err = put(ctx, fsys, "演示城市的避难场所", loadShelters, store.AddShelters); err != nil {
		return n, err
	}
	f, err := fsys.Open(UnitsFile)
	if err != nil {
		return n, err
	}
	defer f.Close()
	var decodeErr error
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.Units, err = units.BulkCreate(loadCtx, func(yield func(*riskmap.Unit) bool) {
		for u, err := range featurejson.DecodeUnits(bufio.NewReaderSize(f, 1<<16)) {
			if err != nil {
				decodeErr = err
				cancel()
				return
			}
			if !yield(u) {
				return
			}
		}
	}, nil)
	if decodeErr != nil {
		err = decodeErr
	}
	if err != nil {
		return n, fmt.Errorf("演示城市的风险单元：%v", riskmap.ErrorMessage(err))
	}
	return n, nil
}

// put reads one reference layer of fsys with load and stores it with store.
func put[T any](ctx context.Context, fsys fs.FS, what string, load func(fs.FS) ([]T, error), store func(context.Context, []T) error) (int, error) {
	items, err := load(fsys)
	if err == nil {
		err = store(ctx, items)
	}
	if err != nil {
		return 0, fmt.Errorf("%s：%v", what, err)
	}
	return len(items), nil
}
