package main

import (
	"context"
	"time"

	"riskmap/pkg/sites"
)

// sitesSyncEvery is how often a replica looks for the targets and shelters other replicas
// wrote (a count over both tables when nothing changed).
const sitesSyncEvery = 2 * time.Second

// syncSites brings the sites other replicas write into s (its layers and its listeners)
// until ctx ends, in the background; the function it returns waits for that to stop.
func (m *Main) syncSites(ctx context.Context, s *sites.Service) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(sitesSyncEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := s.Sync(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				m.logger.Warn("reading the sites other replicas wrote", "err", err)
			case n > 0:
				m.logger.Info("sites written by other replicas", "changed", n)
			}
		}
	}()
	return func() { <-done }
}
