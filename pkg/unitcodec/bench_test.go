package unitcodec

import (
	"encoding/binary"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"riskmap/pkg/riskmap"
)

// The documents of a unit as a store writes them.
var benchDocuments = [...]string{
	`{"method":"LS","likelihood":4,"severity":5}`,
	`{"method":"LS","inputs":{"likelihood":4,"severity":5},"value":20,"rule":"R ≥ 20 → 重大","text":"风险矩阵 R = 4 × 5 = 20 ≥ 20，判定为重大风险"}`,
	`{"engineering":["储罐区设置可燃气体检测报警","设置防火堤"],"management":["落实动火作业审批"],"training":["每季度开展一次应急演练"],"ppe":["配备正压式空气呼吸器"],"emergency":["编制专项应急预案"]}`,
}

// BenchmarkReader decodes the three documents of a unit, as read-back does for every unit:
// Checked as the GeoPackage reads, Trusted as PostGIS reads from a UTF-8 server.
func BenchmarkReader(b *testing.B) {
	for _, trusted := range []bool{false, true} {
		name := "Checked"
		if trusted {
			name = "Trusted"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				r := Reader{Trusted: trusted}
				var a riskmap.Assessment
				var e riskmap.Explanation
				var c riskmap.Controls
				if r.Assessment(benchDocuments[0], &a) != nil || r.Explanation(benchDocuments[1], &e) != nil ||
					r.Controls(benchDocuments[2], &c) != nil {
					b.Fatal("cannot decode")
				}
			}
		})
	}
}

// BenchmarkReadWKB decodes a unit's polygon as each store reads it.
func BenchmarkReadWKB(b *testing.B) {
	poly := orb.Polygon{make(orb.Ring, 0, 33)}
	for i := range 32 {
		poly[0] = append(poly[0], orb.Point{102.9 + float64(i%7)/1e3, 24.6 + float64(i/7)/1e3})
	}
	poly[0] = append(poly[0], poly[0][0])
	le, _ := wkb.Marshal(poly, binary.LittleEndian)
	b.Run("GeoPackage", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, err := ReadWKB(le); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PostGIS", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, ok := ReadPlainWKB(le); !ok {
				b.Fatal("not plain")
			}
		}
	})
}
