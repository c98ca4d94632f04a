package demo

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"iter"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
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
func Load(ctx context.Context, fsys fs.FS, sites SiteStore, units UnitLoader) (Loaded, error) {
	var n Loaded
	regions, err := LoadRegions(fsys)
	if err == nil {
		err = sites.PutRegions(ctx, regions)
	}
	if err != nil {
		return n, fmt.Errorf("demo regions: %v", err)
	}
	n.Regions = len(regions)
	targets, err := LoadTargets(fsys)
	if err == nil {
		err = sites.AddProtectiveTargets(ctx, targets)
	}
	if err != nil {
		return n, fmt.Errorf("demo protective targets: %v", err)
	}
	n.Targets = len(targets)
	shelters, err := LoadShelters(fsys)
	if err == nil {
		err = sites.AddShelters(ctx, shelters)
	}
	if err != nil {
		return n, fmt.Errorf("demo shelters: %v", err)
	}
	n.Shelters = len(shelters)
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
		return n, fmt.Errorf("demo units: %v", riskmap.ErrorMessage(err))
	}
	return n, nil
}
