// Command nationalplan puts figures on issue 18's plan for national scale: 100 million
// units across 300 cities. It measures one city on this machine — synthetic units
// (pkg/synth, the demo county) loaded into a register index and a public index as serve
// keeps them, RSS read from /proc/self/status after a forced GC, and every non-empty public
// tile rendered and gzipped as a CDN would store it — then spreads the country's units over
// cities of Zipf-distributed sizes and packs one process per city onto machines like this
// one. The README's "National scale" section prints its output.
//
//	go run ./scripts/nationalplan [--sample 300000] [--units 100000000] [--cities 300]
package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/synth"
	"riskmap/pkg/tiles"
	"riskmap/scripts/benchkit"
)

func main() {
	sample := flag.Int("sample", 300_000, "units of the city measured here")
	total := flag.Int("units", 100_000_000, "units in the country")
	cities := flag.Int("cities", 300, "cities (prefecture level)")
	provinces := flag.Int("provinces", 31, "provinces")
	zipf := flag.Float64("zipf", 0.5, "exponent of the cities' sizes by rank (0.5: the largest city holds 3 % of the units, as 重庆 holds 2.3 % of the people)")
	machineGB := flag.Float64("machine-gb", 24, "memory of one machine, GB")
	fill := flag.Float64("fill", 0.75, "share of a machine's memory the indexes may take (the rest: GC headroom, PostgreSQL's client buffers, the OS)")
	rowBytes := flag.Float64("row-bytes", 1460, "PostgreSQL bytes per unit, table and indexes (risk_units of a 200,000-unit synthetic database: 292 MB)")
	flag.Parse()

	m := measure(*sample)
	fmt.Printf("### One city measured (%d synthetic units, %s)\n\n", *sample, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| what | measured |")
	fmt.Println("|---|---|")
	fmt.Printf("| register index: load, RSS after a forced GC | %.1f s, %.0f MB (%.0f bytes a unit) |\n", m.loadRegister.Seconds(), mb(m.registerBytes), m.registerBytes/float64(*sample))
	fmt.Printf("| public index beside it | %.1f s, %.0f MB more (%.0f bytes a unit) |\n", m.loadPublic.Seconds(), mb(m.publicBytes), m.publicBytes/float64(*sample))
	fmt.Printf("| non-empty public tiles z6–16 | %d tiles, %.1f MB gzipped, rendered in %.1f s |\n", m.tiles, mb(float64(m.tileBytes)), m.render.Seconds())
	for _, z := range []int{12, 14, 16} {
		fmt.Printf("| … at z%d | %d tiles, %.1f MB |\n", z, m.byZoom[z].n, mb(float64(m.byZoom[z].bytes)))
	}

	// The country: city sizes by rank, Zipf with the given exponent, summing to total.
	w := make([]float64, *cities)
	var sum float64
	for i := range w {
		w[i] = math.Pow(float64(i+1), -*zipf)
		sum += w[i]
	}
	sizes := make([]int, *cities)
	for i := range w {
		sizes[i] = int(math.Round(w[i] / sum * float64(*total)))
	}
	perUnit := (m.registerBytes + m.publicBytes) / float64(*sample)
	loadPerUnit := (m.loadRegister + m.loadPublic).Seconds() / float64(*sample)
	capacity := *machineGB * 1e9 * *fill
	// Provinces: cities dealt out by rank, snaking, so that each gets large and small ones.
	prov := make([]int, *provinces)
	for i, n := range sizes {
		r, k := i / *provinces, i%*provinces
		if r%2 == 1 {
			k = *provinces - 1 - k
		}
		prov[k] += n
	}
	slices.SortFunc(prov, func(a, b int) int { return cmp.Compare(b, a) })
	machines := pack(sizes, perUnit, capacity)
	median := sizes[len(sizes)/2]
	fmt.Printf("\n### %s units across %d cities (Zipf %.2f), one process per city on %.0f GB 2-core machines\n\n", thousands(*total), *cities, *zipf, *machineGB)
	fmt.Println("| what | figure |")
	fmt.Println("|---|---|")
	fmt.Printf("| largest city / median / smallest | %s / %s / %s units |\n", thousands(sizes[0]), thousands(median), thousands(sizes[len(sizes)-1]))
	fmt.Printf("| largest city's process: both indexes, their build from memory (a start also reads the units from PostgreSQL) | %.1f GB, %.0f s |\n", float64(sizes[0])*perUnit/1e9, float64(sizes[0])*loadPerUnit)
	fmt.Printf("| largest province as one process | %s units, %.1f GB |\n", thousands(prov[0]), float64(prov[0])*perUnit/1e9)
	fmt.Printf("| units one machine holds (%.0f %% of %.0f GB for the indexes) | %s |\n", *fill*100, *machineGB, thousands(int(capacity/perUnit)))
	fmt.Printf("| machines for the country's index processes (first fit, largest city first) | %d |\n", machines)
	fmt.Printf("| PostgreSQL: the register's tables | %.0f GB (%.0f bytes a unit); by city, median %.2f GB |\n", float64(*total)**rowBytes/1e9, *rowBytes, float64(median)**rowBytes/1e9)
	tileScale := float64(*total) / float64(*sample)
	fmt.Printf("| public tiles z6–16 of one publication of every city, gzipped (the city's bytes scaled by units: a tile's bytes follow its features; the count of tiles follows a city's area) | %.0f GB |\n",
		float64(m.tileBytes)*tileScale/1e9)
}

type zoomTiles struct{ n, bytes int }

type measured struct {
	loadRegister, loadPublic, render time.Duration
	registerBytes, publicBytes       float64
	tiles, tileBytes                 int
	byZoom                           map[int]zoomTiles
}

// measure loads n synthetic units into a register index and a public index, as serve does,
// and renders every non-empty public tile of z6–16.
func measure(n int) measured {
	regions, err := demo.LoadRegions(geodata.FS)
	must(err)
	cfg := config.Default()
	// The units come from the generator as each index loads, as they come from the store in
	// serve: nothing but the indexes stays in memory. The generator's own time is taken out.
	g, err := synth.New(regions, cfg.Catalog, nil)
	must(err)
	seq := func(yield func(*riskmap.Unit, error) bool) {
		id := int64(0)
		for u := range g.Units(1, n) {
			id++
			u.ID, u.Version = id, 1
			if !yield(u, nil) {
				return
			}
		}
	}
	var m measured
	t0 := time.Now()
	count := 0
	for range seq {
		count++
	}
	gen := time.Since(t0)
	if count != n {
		must(fmt.Errorf("合成数据只生成了 %d 个单元", count))
	}
	locate := regiongrade.Locator(regions)
	base := rss()
	// The two indexes serve keeps (cmd/riskmap: the register's, and the public one of
	// public labels and public fields).
	reg := spatialindex.New(featurejson.Encoder(), locate)
	reg.SetHead(spatialindex.Head{Write: featurejson.AppendFeatureHead, Len: featurejson.FeatureHeadLen})
	t0 = time.Now()
	_, err = reg.Load(context.Background(), seq)
	must(err)
	m.loadRegister = time.Since(t0) - gen
	after := rss()
	m.registerBytes = after - base
	pub := spatialindex.NewPublic(featurejson.PublicWriter(cfg.Catalog, regions), locate)
	pub.ShareWith(reg) // as serve keeps them: what is unchanged since the publication, once
	t0 = time.Now()
	_, err = pub.Load(context.Background(), seq)
	must(err)
	m.loadPublic = time.Since(t0) - gen
	m.publicBytes = rss() - after
	runtime.KeepAlive(reg)

	snap := pub.Snapshot()
	min, max := snap.Bounds()
	m.byZoom = map[int]zoomTiles{}
	t0 = time.Now()
	for z := maptile.Zoom(6); z <= 16; z++ {
		a, b := maptile.At(orb.Point{min[0], max[1]}, z), maptile.At(orb.Point{max[0], min[1]}, z)
		for x := a.X; x <= b.X; x++ {
			for y := a.Y; y <= b.Y; y++ {
				raw, nf, err := tiles.RenderUnits(snap, maptile.New(x, y, z), tiles.Options{})
				must(err)
				if nf == 0 {
					continue
				}
				gz := gzLen(raw)
				m.tiles++
				m.tileBytes += gz
				zt := m.byZoom[int(z)]
				zt.n++
				zt.bytes += gz
				m.byZoom[int(z)] = zt
			}
		}
	}
	m.render = time.Since(t0)
	runtime.KeepAlive(pub)
	return m
}

// pack places cities (their units) on machines of the given capacity in bytes, largest
// first, each on the first machine with room, and returns how many machines it took.
func pack(sizes []int, perUnit, capacity float64) int {
	s := slices.Clone(sizes)
	slices.SortFunc(s, func(a, b int) int { return cmp.Compare(b, a) })
	var free []float64
	for _, n := range s {
		need := float64(n) * perUnit
		placed := false
		for i := range free {
			if free[i] >= need {
				free[i] -= need
				placed = true
				break
			}
		}
		if !placed {
			free = append(free, capacity-need)
		}
	}
	return len(free)
}

// rss is the process's resident set after a forced GC, in bytes.
func rss() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	mb := benchkit.StatusMB(0, "VmRSS")
	if mb == 0 {
		must(fmt.Errorf("/proc/self/status 中没有 VmRSS"))
	}
	return mb * 1024 * 1024
}

func gzLen(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

func mb(b float64) float64 { return b / 1e6 }

// thousands writes n with thin separators: 100,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "nationalplan:", err)
		os.Exit(1)
	}
}
