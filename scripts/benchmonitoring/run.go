package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"riskmap/pkg/config"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// newService is the monitoring service as cmd/riskmap wires it: units from a map (the
// index's facts), alarm conditions written through the register (the unit's grade follows
// an open orange or red alarm), loaded from the store.
func newService(ctx context.Context, st monitoring.Store, mc *monitoring.Config, units map[int64]monitoring.UnitRef, reg *register.Service) *monitoring.Service {
	svc := monitoring.NewService(st, mc, func(id int64) (monitoring.UnitRef, bool) {
		u, ok := units[id]
		return u, ok
	})
	svc.Conditions = func(ctx context.Context, id int64, conds []riskmap.Condition) error {
		_, err := reg.SetConditions(ctx, id, riskmap.ConditionAlarm, conds)
		return err
	}
	svc.Logger = discard
	must(svc.Load(ctx))
	return svc
}

// normalValue is a point's value in the stream: well below the yellow threshold (25 %LEL).
func normalValue(b, k int) float64 { return float64((b*7+k*13)%150) / 10 }

// alarmValue is above the red threshold (50 %LEL).
const alarmValue = 62.5

// batchReadings is batch b of the stream: o.batch readings of consecutive normal points (a
// point comes back every len(normal)/batch batches), all at time at.
func batchReadings(w *world, o opts, b int, at time.Time) []monitoring.Reading {
	rs := make([]monitoring.Reading, o.batch)
	for k := range rs {
		rs[k] = monitoring.Reading{PointID: w.normal[(b*o.batch+k)%len(w.normal)], Time: at, Value: normalValue(b, k)}
	}
	return rs
}

// tally sums what IngestReadings answered.
type tally struct {
	sent, accepted, dup, late, refused atomic.Int64
	mu                                 sync.Mutex
	calls                              []time.Duration
	errs                               atomic.Int64
	firstErr                           atomic.Value
}

func (t *tally) ingest(ctx context.Context, svc *monitoring.Service, rs []monitoring.Reading) {
	t0 := time.Now()
	res, err := svc.IngestReadings(ctx, rs)
	d := time.Since(t0)
	t.sent.Add(int64(len(rs)))
	if err != nil {
		if t.errs.Add(1) == 1 {
			t.firstErr.Store(err.Error())
		}
		return
	}
	t.accepted.Add(int64(res.Accepted))
	t.dup.Add(int64(res.Duplicates))
	t.late.Add(int64(res.Late))
	t.refused.Add(int64(len(res.Refused)))
	t.mu.Lock()
	t.calls = append(t.calls, d)
	t.mu.Unlock()
}

// runResult is what measure found.
type runResult struct {
	achieved, burst float64
	// cpuPerReading is the CPU time (this process and postgres) per reading of the paced run.
	cpuPerReading time.Duration
}

// measure runs the paced stream with the alarms, the unpaced burst, counts the readings
// back and times the chart.
func measure(ctx context.Context, w *world, cfg *config.Config, o opts, duration time.Duration, cpuprofile string) runResult {
	var out runResult
	svc := w.svc
	var tl tally
	nBatches := int(int64(o.rate) * int64(duration/time.Millisecond) / 1000 / int64(o.batch))
	per := time.Duration(float64(time.Second) * float64(o.batch) / float64(o.rate))

	// Alarm latency: the open event of each point sent a red value.
	events, stop := svc.Subscribe()
	var mu sync.Mutex
	sentAt := map[int64]time.Time{}
	var lat []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			if ev.Kind != monitoring.EventOpen {
				continue
			}
			now := time.Now()
			mu.Lock()
			if t0, ok := sentAt[ev.Alarm.PointID]; ok {
				lat = append(lat, now.Sub(t0))
				delete(sentAt, ev.Alarm.PointID)
			}
			mu.Unlock()
		}
	}()

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer f.Close()
	}
	meter := newDBMeter(ctx, w.dsn)
	defer meter.Close(ctx)
	meter.Start(ctx)
	cpu0 := cpuTime()
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				tl.ingest(ctx, svc, batchReadings(w, o, b, start.Add(time.Duration(b)*per)))
			}
		}()
	}
	// The alarms: every second, alarmsPerSec spare points get a red value, each in a call
	// of its own.
	alarmsDone := make(chan struct{})
	var alarmWG sync.WaitGroup
	spare := 0
	alarmsSent := 0
	go func() {
		defer close(alarmsDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			if time.Since(start) >= duration {
				return
			}
			for range o.alarmsPerSec {
				if spare >= len(w.spare) {
					return
				}
				p := w.spare[spare]
				spare++
				alarmsSent++
				alarmWG.Add(1)
				go func() {
					defer alarmWG.Done()
					now := time.Now()
					mu.Lock()
					sentAt[p] = now
					mu.Unlock()
					tl.ingest(ctx, svc, []monitoring.Reading{{PointID: p, Time: now, Value: alarmValue}})
				}()
			}
		}
	}()
	var maxLag time.Duration
	for b := range nBatches {
		due := start.Add(time.Duration(b) * per)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		jobs <- b
		maxLag = max(maxLag, time.Since(due))
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	<-alarmsDone
	alarmWG.Wait()
	cpu, pgCPU := cpuTime()-cpu0, meter.Since(ctx)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	// Events may still be on their way: wait up to 5 s for the last ones.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(sentAt)
		mu.Unlock()
		if n == 0 {
			break
		}
	}
	stop()
	<-done

	sent := tl.sent.Load()
	out.achieved = float64(tl.accepted.Load()) / elapsed.Seconds()
	out.cpuPerReading = (cpu + pgCPU) / time.Duration(max(1, tl.accepted.Load()))
	kept := "✔ kept up"
	if elapsed > duration+duration/50+time.Second || maxLag > 2*time.Second {
		kept = "✘ fell behind"
	}
	add(fmt.Sprintf("持续写入 sustained ingest (%d/s paced, IngestReadings)", o.rate),
		fmt.Sprintf("%s over %.1f s, %s (pacer's max lag %s); batch acknowledged p50 %s, p99 %s; CPU %.1f s riskmap + %.1f s postgres (%.1f µs a reading)",
			rate(out.achieved), elapsed.Seconds(), kept, ms(maxLag), ms(quantile(tl.calls, 0.5)), ms(quantile(tl.calls, 0.99)),
			cpu.Seconds(), pgCPU.Seconds(), float64(out.cpuPerReading.Nanoseconds())/1000),
		fmt.Sprintf("≥ %s/s", thousands(int64(o.rate))))
	if n := tl.errs.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "benchmonitoring: %d calls failed, the first: %v\n", n, tl.firstErr.Load())
	}
	mu.Lock()
	missing := len(sentAt)
	mu.Unlock()
	add("报警时延 alarm latency (Ingest → Subscribe, under load)",
		fmt.Sprintf("p50 %s, p99 %s, max %s (%d alarms, %d without an event)", ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99)),
			ms(quantile(lat, 1)), len(lat), missing),
		"p99 ≤ 1 s")

	// The ceiling: the same batches, unpaced.
	if o.burst > 0 {
		var bt tally
		bstart := time.Now()
		next := atomic.Int64{}
		var bwg sync.WaitGroup
		for range o.workers {
			bwg.Add(1)
			go func() {
				defer bwg.Done()
				for time.Since(bstart) < o.burst {
					b := int(next.Add(1)) - 1
					bt.ingest(ctx, svc, batchReadings(w, o, b, bstart.Add(time.Duration(b)*per)))
				}
			}()
		}
		bwg.Wait()
		bel := time.Since(bstart)
		out.burst = float64(bt.accepted.Load()) / bel.Seconds()
		add(fmt.Sprintf("服务上限 service ceiling (unpaced, %s)", o.burst), fmt.Sprintf("%s, batch acknowledged p50 %s", rate(out.burst), ms(quantile(bt.calls, 0.5))), "")
		sent += bt.sent.Load()
		tl.accepted.Add(bt.accepted.Load())
		tl.dup.Add(bt.dup.Load())
		tl.refused.Add(bt.refused.Load())
		tl.late.Add(bt.late.Load())
	}

	// Count back.
	t0 := time.Now()
	var stored int64
	from, to := start.Add(-time.Hour), time.Now().Add(time.Hour)
	for _, ids := range [][]int64{w.normal, w.spare} {
		for _, p := range ids {
			ss, err := w.store.Readings(ctx, p, from, to, monitoring.StepRaw)
			must(err)
			stored += int64(len(ss))
		}
	}
	want := tl.accepted.Load()
	verdict := "✔ none lost"
	if stored != want || tl.refused.Load() > 0 || tl.dup.Load() > 0 {
		verdict = "✘"
	}
	add("数回 counted back from the store", fmt.Sprintf("%s stored of %s sent, %s accepted (%d duplicates, %d late, %d refused) %s; counted in %.1f s",
		thousands(stored), thousands(sent), thousands(want), tl.dup.Load(), tl.late.Load(), tl.refused.Load(), verdict, time.Since(t0).Seconds()),
		"none lost")

	chart(ctx, w, o, meter)
	return out
}

// chart stores chartDays of one-a-minute readings of the two chart points, then times the
// chart of the whole period from the minute rollups, the raw rows and the hour rollups.
// The first point's readings are written in order, 5000 a batch, so its minutes lie side by
// side in the rollup table; the second's are dealt to the batches at random, so that
// consecutive minutes lie on different pages, as the minutes of a point among thousands
// reporting at once do (each minute's buckets of every point are written together).
func chart(ctx context.Context, w *world, o opts, meter *dbMeter) {
	end := time.Now().UTC().Truncate(time.Minute)
	from := end.AddDate(0, 0, -o.chartDays)
	n := int(end.Sub(from) / time.Minute)
	seed := func(point int64, spread bool) time.Duration {
		rs := make([]monitoring.Reading, n)
		for i := range rs {
			rs[i] = monitoring.Reading{PointID: point, Time: from.Add(time.Duration(i) * time.Minute), Value: 5 + float64(i%600)/100}
		}
		if spread {
			r := rand.New(rand.NewPCG(17, 17))
			r.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		}
		t0 := time.Now()
		for i := 0; i < n; i += 5000 {
			_, _, err := w.store.AppendReadings(ctx, rs[i:min(n, i+5000)])
			must(err)
		}
		return time.Since(t0)
	}
	seeded := seed(w.chart, false)
	seed(w.spread, true)
	if w.dsn != "" {
		// What autovacuum does soon after a load: without statistics the planner guesses a
		// handful of rows and sorts 43,200 on disk.
		must(exec(ctx, w.dsn, "ANALYZE readings_1m, readings_1h, readings"))
	}
	// timeIt is the median of 20 calls, and the CPU time (this process and postgres) a call
	// took on average, which grows less than the wall clock when other jobs share the machine.
	timeIt := func(point int64, step monitoring.Step) (time.Duration, int, time.Duration) {
		var ds []time.Duration
		got := 0
		meter.Start(ctx)
		cpu0 := cpuTime()
		for range 20 {
			t := time.Now()
			ss, err := w.store.Readings(ctx, point, from, end, step)
			must(err)
			ds = append(ds, time.Since(t))
			got = len(ss)
		}
		return quantile(ds, 0.5), got, (cpuTime() - cpu0 + meter.Since(ctx)) / 20
	}
	m, mn, mc := timeIt(w.chart, monitoring.StepMinute)
	sm, _, smc := timeIt(w.spread, monitoring.StepMinute)
	raw, rn, rc := timeIt(w.chart, monitoring.StepRaw)
	h, hn, hc := timeIt(w.chart, monitoring.StepHour)
	h30, h30n, h30c := timeIt(w.chart, monitoring.Step30Minutes)
	s30, _, s30c := timeIt(w.spread, monitoring.Step30Minutes)
	add(fmt.Sprintf("%d 天曲线 %d-day chart of one point, the 1m rollups merged into 30m (what the API sends), median of 20", o.chartDays, o.chartDays),
		fmt.Sprintf("%s, CPU %s a call (%d samples from %s minutes)", ms(h30), ms(h30c), h30n, thousands(int64(mn))), "< 50 ms")
	add("  the same, the minutes spread over the table (as live data lies)", fmt.Sprintf("%s, CPU %s", ms(s30), ms(s30c)), "< 50 ms")
	add("  every 1m rollup sent as it is", fmt.Sprintf("%s, CPU %s a call (%s samples; %s readings stored in %.1f s)", ms(m), ms(mc), thousands(int64(mn)), thousands(int64(n)), seeded.Seconds()), "")
	add("  the same, the minutes spread", fmt.Sprintf("%s, CPU %s", ms(sm), ms(smc)), "")
	add("  the same from the raw rows", fmt.Sprintf("%s, CPU %s (%s rows)", ms(raw), ms(rc), thousands(int64(rn))), "")
	add("  the same from the 1h rollups", fmt.Sprintf("%s, CPU %s (%d samples)", ms(h), ms(hc), hn), "")
}
