package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"riskmap/pkg/monitoring"
	"riskmap/scripts/benchkit"
)

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

// body is the JSON of POST /api/v1/readings: [{"point": id, "time": RFC 3339, "value": v}].
func body(rs []monitoring.Reading) []byte {
	b := make([]byte, 0, len(rs)*72)
	b = append(b, '[')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"point":`...)
		b = strconv.AppendInt(b, r.PointID, 10)
		b = append(b, `,"time":"`...)
		b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","value":`...)
		b = strconv.AppendFloat(b, r.Value, 'g', -1, 64)
		b = append(b, '}')
	}
	return append(b, ']')
}

// client sends requests to the server.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{MaxIdleConns: 2 * conns, MaxIdleConnsPerHost: 2 * conns, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// ingestAnswer is the answer of POST /api/v1/readings.
type ingestAnswer struct {
	Accepted   int               `json:"accepted"`
	Duplicates int               `json:"duplicates"`
	Late       int               `json:"late"`
	Refused    []json.RawMessage `json:"refused"`
}

// post sends a body of readings with the device token.
func (c *client) post(ctx context.Context, auth string, b []byte) (*ingestAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/readings", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST /api/v1/readings: %d %s", res.StatusCode, bytes.TrimSpace(raw[:min(len(raw), 300)]))
	}
	var a ingestAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("POST /api/v1/readings: %v", err)
	}
	return &a, nil
}

// get requests path with the reader's token (and Accept-Encoding accept, when not empty)
// and returns the body as sent.
func (c *client) get(ctx context.Context, auth, path, accept string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", auth)
	if accept != "" {
		req.Header.Set("Accept-Encoding", accept)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, "", err
	}
	if res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %d %s", path, res.StatusCode, bytes.TrimSpace(raw[:min(len(raw), 300)]))
	}
	return raw, res.Header.Get("Content-Encoding"), nil
}

// tally sums what the server answered.
type tally struct {
	sent, accepted, dup, late, refused atomic.Int64
	mu                                 sync.Mutex
	calls                              []time.Duration
	errs                               atomic.Int64
	firstErr                           atomic.Value
}

// send posts rs and counts the answer; it reports whether the server accepted every one.
func (t *tally) send(ctx context.Context, c *client, auth string, rs []monitoring.Reading) bool {
	b := body(rs)
	t0 := time.Now()
	a, err := c.post(ctx, auth, b)
	d := time.Since(t0)
	t.sent.Add(int64(len(rs)))
	if err != nil {
		if t.errs.Add(1) == 1 {
			t.firstErr.Store(err.Error())
		}
		return false
	}
	t.accepted.Add(int64(a.Accepted))
	t.dup.Add(int64(a.Duplicates))
	t.late.Add(int64(a.Late))
	t.refused.Add(int64(len(a.Refused)))
	t.mu.Lock()
	t.calls = append(t.calls, d)
	t.mu.Unlock()
	return a.Accepted == len(rs)
}

func (t *tally) addTo(o *tally) {
	o.sent.Add(t.sent.Load())
	o.accepted.Add(t.accepted.Load())
	o.dup.Add(t.dup.Load())
	o.late.Add(t.late.Load())
	o.refused.Add(t.refused.Load())
	o.errs.Add(t.errs.Load())
	if e := t.firstErr.Load(); e != nil && o.firstErr.Load() == nil {
		o.firstErr.Store(e)
	}
}

// sseEvent is one event read off the stream and when it was read.
type sseEvent struct {
	name string
	data []byte
	at   time.Time
}

// followEvents opens GET /api/v1/events with auth and hands every event to on, from a
// goroutine of its own, until ctx is done; it returns once the stream's snapshot has come
// (the server subscribes to the alarms before it: nothing after it is missed). done is
// closed when the stream ends; err then says why (nil when ctx ended it).
func followEvents(ctx context.Context, base, auth string, on func(sseEvent)) (done <-chan struct{}, err *error) {
	req, e := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/events", nil)
	must(e)
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "text/event-stream")
	res, e := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	must(e)
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		must(fmt.Errorf("GET /api/v1/events: %d %s", res.StatusCode, b))
	}
	ch := make(chan struct{})
	ready := make(chan struct{})
	var readErr error
	go func() {
		defer close(ch)
		defer res.Body.Close()
		r := bufio.NewReaderSize(res.Body, 1<<20)
		var ev sseEvent
		snapshot := false
		for {
			line, e := r.ReadBytes('\n')
			if e != nil {
				if ctx.Err() == nil {
					readErr = fmt.Errorf("the event stream ended: %v", e)
				}
				if !snapshot {
					close(ready)
				}
				return
			}
			line = bytes.TrimRight(line, "\r\n")
			switch {
			case len(line) == 0:
				if ev.name != "" || ev.data != nil {
					ev.at = time.Now()
					if ev.name == "snapshot" && !snapshot {
						snapshot = true
						close(ready)
					}
					on(ev)
				}
				ev = sseEvent{}
			case line[0] == ':':
			case bytes.HasPrefix(line, []byte("event: ")):
				ev.name = string(line[len("event: "):])
			case bytes.HasPrefix(line, []byte("data: ")):
				ev.data = append(ev.data, line[len("data: "):]...)
			}
		}
	}()
	<-ready
	if readErr != nil {
		must(readErr)
	}
	return ch, &readErr
}

// runResult is what measure found.
type runResult struct {
	achieved, burst float64
	// cpuPerReading is the CPU time (the server and postgres) per reading of the paced run.
	cpuPerReading time.Duration
	// start is when the first reading was sent; sent, the readings sent (paced, alarms and
	// unpaced) and their counts in the answers.
	start time.Time
	sent  tally
}

// measure starts the server on w, follows its event stream, runs the paced stream with the
// alarms and the unpaced burst, times the chart and stops the server.
func measure(ctx context.Context, w *world, o opts, duration time.Duration, perf string) *runResult {
	srv, err := benchkit.Serve(o.bin, w.db)
	must(err)
	atExit(func() { srv.Stop(); os.Remove(srv.Log.Name()) })
	defer os.Remove(srv.Log.Name())
	pid := srv.Cmd.Process.Pid
	fmt.Printf("%s: riskmap serve (pid %d) ready in %.1f s at %s, RSS %.0f MB\n", w.name, pid, srv.Started.Seconds(), srv.Base,
		benchkit.StatusMB(pid, "VmRSS"))
	c := newClient(srv.Base, o.senders)
	out := &runResult{}

	// Alarm latency: the open event of each point sent a red value, read off the stream.
	var mu sync.Mutex
	sentAt := map[int64]time.Time{}
	var lat []time.Duration
	counts := map[string]int{}
	sctx, stopStream := context.WithCancel(ctx)
	streamDone, streamErr := followEvents(sctx, srv.Base, w.reader, func(ev sseEvent) {
		key := ev.name
		if ev.name == "alarm" {
			var m struct {
				Kind  string `json:"kind"`
				Alarm struct {
					PointID int64 `json:"point_id"`
				} `json:"alarm"`
			}
			if err := json.Unmarshal(ev.data, &m); err != nil {
				return
			}
			key += " " + m.Kind
			if m.Kind == string(monitoring.EventOpen) {
				mu.Lock()
				if t0, ok := sentAt[m.Alarm.PointID]; ok {
					lat = append(lat, ev.at.Sub(t0))
					delete(sentAt, m.Alarm.PointID)
				}
				mu.Unlock()
			}
		}
		mu.Lock()
		counts[key]++
		mu.Unlock()
	})

	var tl tally
	nBatches := int(int64(o.rate) * int64(duration/time.Millisecond) / 1000 / int64(o.batch))
	per := time.Duration(float64(time.Second) * float64(o.batch) / float64(o.rate))
	meter := newDBMeter(ctx, w.dsn)
	defer meter.Close(ctx)
	meter.Start(ctx)
	var perfCmd *osexec.Cmd
	if perf != "" {
		perfCmd = osexec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", perf)
		perfCmd.Stdout, perfCmd.Stderr = os.Stderr, os.Stderr
		must(perfCmd.Start())
		atExit(func() { perfCmd.Process.Signal(os.Interrupt) })
	}
	cpu0, self0 := procCPU(pid), cpuTime()
	start := time.Now().UTC().Truncate(time.Millisecond)
	out.start = start
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range o.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				tl.send(ctx, c, w.device, batchReadings(w, o, b, start.Add(time.Duration(b)*per)))
			}
		}()
	}
	// The alarms: every second, alarmsPerSec spare points get a red value, each in a
	// request of its own; the crossing's time is when the request is sent.
	var at tally
	alarmsDone := make(chan struct{})
	var alarmWG sync.WaitGroup
	spare := 0
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
				alarmWG.Add(1)
				go func() {
					defer alarmWG.Done()
					now := time.Now()
					mu.Lock()
					sentAt[p] = now
					mu.Unlock()
					if !at.send(ctx, c, w.device, []monitoring.Reading{{PointID: p, Time: now, Value: alarmValue}}) {
						mu.Lock()
						delete(sentAt, p) // counted as failed, not as an alarm without an event
						mu.Unlock()
					}
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
	cpu, pgCPU, self := procCPU(pid)-cpu0, meter.Since(ctx), cpuTime()-self0
	if perfCmd != nil {
		perfCmd.Process.Signal(os.Interrupt)
		perfCmd.Wait()
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

	out.achieved = float64(tl.accepted.Load()) / elapsed.Seconds()
	out.cpuPerReading = (cpu + pgCPU) / time.Duration(max(1, tl.accepted.Load()))
	// Kept up: at least 98 % of the rate over the run, the pacer never 2 s late.
	kept := "✔ kept up"
	if out.achieved < 0.98*float64(o.rate) || maxLag > 2*time.Second {
		kept = "✘ fell behind"
	}
	pgPart := ""
	if w.dsn != "" {
		pgPart = fmt.Sprintf(" + %.1f s postgres", pgCPU.Seconds())
	}
	add(fmt.Sprintf("持续写入 sustained ingest over HTTP (POST /api/v1/readings, %s/s paced)", thousands(int64(o.rate))),
		fmt.Sprintf("%s over %.1f s, %s (pacer's max lag %s); request answered p50 %s, p99 %s; CPU %.1f s server%s (%.1f µs a reading), the bench's clients %.1f s",
			rate(out.achieved), elapsed.Seconds(), kept, ms(maxLag), ms(quantile(tl.calls, 0.5)), ms(quantile(tl.calls, 0.99)),
			cpu.Seconds(), pgPart, float64(out.cpuPerReading.Nanoseconds())/1000, self.Seconds()),
		fmt.Sprintf("≥ %s/s", thousands(int64(o.rate))))
	if kept != "✔ kept up" {
		fmt.Fprintf(os.Stderr, "benchmonitoring: %s did not keep up with %d readings/s\n", w.name, o.rate)
	}
	mu.Lock()
	missing := len(sentAt)
	nLat := len(lat)
	latency := fmt.Sprintf("p50 %s, p99 %s, max %s (%d alarms, %d without an event, %d requests failed)", ms(quantile(lat, 0.5)),
		ms(quantile(lat, 0.99)), ms(quantile(lat, 1)), nLat, missing, at.errs.Load())
	mu.Unlock()
	verdict := "p99 ≤ 1 s"
	add("报警时延 alarm latency (request sent → open alarm read off GET /api/v1/events, under load)", latency, verdict)
	if missing > 0 || at.errs.Load() > 0 || nLat == 0 {
		failed = true
	}

	// The ceiling: the same batches, unpaced.
	if o.burst > 0 {
		var bt tally
		bstart := time.Now().UTC().Truncate(time.Millisecond)
		var next atomic.Int64
		var bwg sync.WaitGroup
		for range o.senders {
			bwg.Add(1)
			go func() {
				defer bwg.Done()
				for time.Since(bstart) < o.burst {
					b := int(next.Add(1)) - 1
					bt.send(ctx, c, w.device, batchReadings(w, o, b, bstart.Add(time.Duration(b)*per)))
				}
			}()
		}
		bwg.Wait()
		bel := time.Since(bstart)
		out.burst = float64(bt.accepted.Load()) / bel.Seconds()
		add(fmt.Sprintf("HTTP 上限 server's ceiling over HTTP (unpaced, %s)", o.burst),
			fmt.Sprintf("%s, request answered p50 %s", rate(out.burst), ms(quantile(bt.calls, 0.5))), "")
		bt.addTo(&out.sent)
	}
	tl.addTo(&out.sent)
	at.addTo(&out.sent)

	chart(ctx, w, c, pid, meter)

	stopStream()
	<-streamDone
	if *streamErr != nil {
		fmt.Fprintln(os.Stderr, "benchmonitoring:", *streamErr)
		failed = true
	}
	mu.Lock()
	fmt.Printf("  events read off the stream: %v\n", counts)
	mu.Unlock()
	if lines, n := srv.ErrorLines(5); n > 0 {
		fmt.Printf("  the server logged %d ERROR lines, the first:\n", n)
		for _, l := range lines {
			fmt.Println("    " + l)
		}
		failed = true
	}
	hwm := benchkit.StatusMB(pid, "VmHWM")
	srv.Stop()
	fmt.Printf("  server stopped (peak RSS %.0f MB)\n", hwm)
	return out
}

// countBack counts every reading of the stream's points back from the store (the server
// has stopped) and compares with what the answers accepted.
func countBack(ctx context.Context, w *world, st monitoring.Store, run *runResult) {
	t0 := time.Now()
	var stored int64
	from, to := run.start.Add(-time.Hour), time.Now().Add(time.Hour)
	for _, ids := range [][]int64{w.normal, w.spare} {
		for _, p := range ids {
			ss, err := st.Readings(ctx, p, from, to, monitoring.StepRaw)
			must(err)
			stored += int64(len(ss))
		}
	}
	t := &run.sent
	want := t.accepted.Load()
	verdict := "✔ none lost"
	if stored != want || want != t.sent.Load() || t.refused.Load() > 0 || t.dup.Load() > 0 || t.errs.Load() > 0 {
		verdict = "✘"
		failed = true
	}
	add("数回 counted back from the store (the server stopped)",
		fmt.Sprintf("%s stored of %s sent, %s accepted by the answers (%d duplicates, %d late, %d refused, %d requests failed) %s; counted in %.1f s",
			thousands(stored), thousands(t.sent.Load()), thousands(want), t.dup.Load(), t.late.Load(), t.refused.Load(), t.errs.Load(), verdict,
			time.Since(t0).Seconds()),
		"none lost")
	if n := t.errs.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "benchmonitoring: %d requests failed, the first: %v\n", n, t.firstErr.Load())
	}
}

// chart times the chart of the chart points over their whole period through GET
// /api/v1/monitoring-points/{id}/readings: every minute rollup (step=1m) without
// compression and as a browser asks, and the step the server picks (none asked for).
func chart(ctx context.Context, w *world, c *client, pid int, meter *dbMeter) {
	browser := "gzip, deflate, br, zstd" // what Chrome and Firefox send
	path := func(point int64, step string) string {
		q := url.Values{"from": {w.chartFrom.Format(time.RFC3339)}, "to": {w.chartTo.Format(time.RFC3339)}}
		if step != "" {
			q.Set("step", step)
		}
		return fmt.Sprintf("/api/v1/monitoring-points/%d/readings?%s", point, q.Encode())
	}
	// timeIt is the median of 20 requests (after one to warm up), the body's size as sent,
	// its samples and the CPU time (the server and postgres) a request took on average,
	// which grows less than the wall clock when other jobs share the machine.
	timeIt := func(point int64, step, accept string) (time.Duration, int, int, string, time.Duration) {
		raw, enc, err := c.get(ctx, w.reader, path(point, step), accept)
		must(err)
		var ds []time.Duration
		meter.Start(ctx)
		cpu0 := procCPU(pid)
		for range 20 {
			t := time.Now()
			raw, enc, err = c.get(ctx, w.reader, path(point, step), accept)
			must(err)
			ds = append(ds, time.Since(t))
		}
		cpu := (procCPU(pid) - cpu0 + meter.Since(ctx)) / 20
		n := -1
		if enc == "" {
			var a struct {
				Samples []json.RawMessage `json:"samples"`
			}
			must(json.Unmarshal(raw, &a))
			n = len(a.Samples)
		}
		return quantile(ds, 0.5), len(raw), n, enc, cpu
	}
	kb := func(n int) string { return fmt.Sprintf("%.0f kB", float64(n)/1000) }
	m, mb, mn, _, mc := timeIt(w.chart, "1m", "")
	z, zb, _, zenc, zc := timeIt(w.chart, "1m", browser)
	sm, _, _, _, smc := timeIt(w.spread, "1m", "")
	a, ab, an, _, ac := timeIt(w.chart, "", "")
	as, _, _, _, asc := timeIt(w.spread, "", "")
	if mn != w.chartN {
		fmt.Fprintf(os.Stderr, "benchmonitoring: the 1m chart has %d samples, not %d\n", mn, w.chartN)
		failed = true
	}
	days := int(w.chartTo.Sub(w.chartFrom).Hours() / 24)
	add(fmt.Sprintf("%d 天曲线 %d-day chart of one point over HTTP, step=1m (every 1m rollup), median of 20", days, days),
		fmt.Sprintf("%s, CPU %s a request (%s samples, %s of JSON; %s readings stored in %.1f s before the server started)",
			ms(m), ms(mc), thousands(int64(mn)), kb(mb), thousands(int64(w.chartN)), w.chartSeeded.Seconds()), "< 50 ms")
	add("  the same as a browser asks (Accept-Encoding: "+browser+")",
		fmt.Sprintf("%s, CPU %s (%s, %s)", ms(z), ms(zc), zenc, kb(zb)), "< 50 ms")
	add("  the same, the minutes spread over the table (as live data lies)", fmt.Sprintf("%s, CPU %s", ms(sm), ms(smc)), "< 50 ms")
	add("  no step asked: the server's pick (30m merged from the 1m rollups, the map's chart)",
		fmt.Sprintf("%s, CPU %s (%d samples, %s); minutes spread %s, CPU %s", ms(a), ms(ac), an, kb(ab), ms(as), ms(asc)), "")
}
