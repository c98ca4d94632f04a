package rtree

// riskmap's tests of its two changes (README.md): Pack, and a Delete that copies only the
// path to the item. make test runs them (go test github.com/tidwall/rtree from riskmap's
// module, through its replace).

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"testing"
)

type box struct{ min, max [2]float64 }

// clustered returns n boxes, points and small rectangles, in a few dense clusters, as a
// city's units are.
func clustered(r *rand.Rand, n int) []box {
	centres := [][2]float64{{102.9, 24.6}, {102.95, 24.65}, {103.0, 24.7}, {102.85, 24.55}}
	bs := make([]box, n)
	for i := range bs {
		c := centres[r.Intn(len(centres))]
		x, y := c[0]+r.NormFloat64()*0.01, c[1]+r.NormFloat64()*0.01
		w, h := 0.0, 0.0
		if r.Intn(3) == 0 {
			w, h = r.Float64()*0.002, r.Float64()*0.002
		}
		bs[i] = box{[2]float64{x, y}, [2]float64{x + w, y + h}}
	}
	return bs
}

func search(tr *RTreeG[int], b box) []int {
	var got []int
	tr.Search(b.min, b.max, func(_, _ [2]float64, i int) bool { got = append(got, i); return true })
	sort.Ints(got)
	return got
}

func brute(bs []box, alive map[int]bool, q box) []int {
	var want []int
	for i, b := range bs {
		if alive[i] && !(b.min[0] > q.max[0] || b.max[0] < q.min[0] || b.min[1] > q.max[1] || b.max[1] < q.min[1]) {
			want = append(want, i)
		}
	}
	sort.Ints(want)
	return want
}

// checkStructure checks what Insert, Delete and Search rely on: every branch's box of a child
// is the child's box, the tree's box the root's, every node sorted by min x as inserts keep
// it, every leaf at one depth, and the count right.
func checkStructure(t *testing.T, tr *RTreeG[int]) {
	t.Helper()
	b := &tr.base
	if b.root == nil {
		if b.count != 0 {
			t.Fatalf("no root, count %d", b.count)
		}
		return
	}
	if r := b.root.rect(); r != b.rect {
		t.Fatalf("tree box %v, root's %v", b.rect, r)
	}
	items, depth := 0, -1
	var walk func(nd *node[float64, int], d int)
	walk = func(nd *node[float64, int], d int) {
		for i := 1; i < int(nd.count); i++ {
			if nd.rects[i].min[0] < nd.rects[i-1].min[0] {
				t.Fatalf("a node's entries out of order at %d", i)
			}
		}
		if nd.leaf() {
			items += int(nd.count)
			if depth >= 0 && d != depth {
				t.Fatalf("leaves at depths %d and %d", depth, d)
			}
			depth = d
			return
		}
		for i, c := range nd.children()[:nd.count] {
			if c.rect() != nd.rects[i] {
				t.Fatalf("a branch holds box %v for a child of box %v", nd.rects[i], c.rect())
			}
			walk(c, d+1)
		}
	}
	walk(b.root, 0)
	if items != b.count {
		t.Fatalf("%d items in the leaves, count %d", items, b.count)
	}
}

// TestPack: a packed tree answers every search as the items say, at every size round a
// node's fill, keeps answering through inserts and deletes, and its nodes are nearly full.
func TestPack(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, packFill - 1, packFill, packFill + 1, packFill * packFill, 3001, 100_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			bs := clustered(r, n)
			// A fresh tree: Pack makes all it needs (Nearby's queue too).
			var fresh RTreeG[int]
			fresh.Pack(n, func(i int) (min, max [2]float64, data int) { return bs[i].min, bs[i].max, i })
			checkStructure(t, &fresh)
			seen, last := 0, -1.0
			fresh.Nearby(BoxDist[float64, int]([2]float64{102.9, 24.6}, [2]float64{102.9, 24.6}, nil),
				func(_, _ [2]float64, _ int, dist float64) bool {
					if dist < last {
						t.Fatalf("Nearby: %v after %v", dist, last)
					}
					seen, last = seen+1, dist
					return true
				})
			if seen != n {
				t.Fatalf("Nearby gave %d items of %d", seen, n)
			}
			var tr RTreeG[int]
			tr.Insert([2]float64{0, 0}, [2]float64{1, 1}, -1) // Pack replaces what was there
			tr.Pack(n, func(i int) (min, max [2]float64, data int) { return bs[i].min, bs[i].max, i })
			checkStructure(t, &tr)
			alive := map[int]bool{}
			for i := range bs {
				alive[i] = true
			}
			check := func(step string) {
				t.Helper()
				if tr.Len() != len(alive) {
					t.Fatalf("%s: Len %d, want %d", step, tr.Len(), len(alive))
				}
				for range 50 {
					x, y := 102.8+r.Float64()*0.25, 24.5+r.Float64()*0.25
					q := box{[2]float64{x, y}, [2]float64{x + r.Float64()*0.05, y + r.Float64()*0.05}}
					if got, want := search(&tr, q), brute(bs, alive, q); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("%s: search %v found %d items, want %d", step, q, len(got), len(want))
					}
				}
			}
			check("packed")
			if n >= packFill*packFill {
				leaves, items := 0, 0
				var walk func(nd *node[float64, int])
				walk = func(nd *node[float64, int]) {
					if nd.leaf() {
						leaves++
						items += int(nd.count)
						return
					}
					for _, c := range nd.children()[:nd.count] {
						walk(c)
					}
				}
				walk(tr.base.root)
				if fill := float64(items) / float64(leaves); fill < packFill-1 {
					t.Fatalf("%d items in %d leaves: %.1f a leaf, want about %d", items, leaves, fill, packFill)
				}
			}
			// Half deleted, as many inserted.
			for i := 0; i < n/2; i++ {
				tr.Delete(bs[i].min, bs[i].max, i)
				delete(alive, i)
			}
			more := clustered(r, n/2)
			for _, b := range more {
				bs = append(bs, b)
				alive[len(bs)-1] = true
				tr.Insert(b.min, b.max, len(bs)-1)
			}
			check("after deletes and inserts")
			checkStructure(t, &tr)
		})
	}
}

// TestDeleteCopiesThePath: after Copy, deleting an item copies the nodes on the path to it
// and no others; the copy taken before still holds every item.
func TestDeleteCopiesThePath(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	bs := clustered(r, 200_000)
	var tr RTreeG[int]
	for i, b := range bs {
		tr.Insert(b.min, b.max, i)
	}
	nodes := func(tr *RTreeG[int]) map[*node[float64, int]]bool {
		m := map[*node[float64, int]]bool{}
		var walk func(nd *node[float64, int])
		walk = func(nd *node[float64, int]) {
			m[nd] = true
			if !nd.leaf() {
				for _, c := range nd.children()[:nd.count] {
					walk(c)
				}
			}
		}
		walk(tr.base.root)
		return m
	}
	height := 0
	for nd := tr.base.root; ; nd = nd.children()[0] {
		height++
		if nd.leaf() {
			break
		}
	}
	most := 0
	for k := range 200 {
		i := r.Intn(len(bs))
		before := tr.Copy()
		shared := nodes(before)
		tr.Delete(bs[i].min, bs[i].max, i)
		copied := 0
		for nd := range nodes(&tr) {
			if !shared[nd] {
				copied++
			}
		}
		most = max(most, copied)
		if copied > height {
			t.Fatalf("delete %d: %d nodes copied, the path is %d", k, copied, height)
		}
		if before.Len() != len(bs) || !slices.Contains(search(before, bs[i]), i) || slices.Contains(search(&tr, bs[i]), i) {
			t.Fatal("the delete reached the copy taken before it, or left the item in the tree")
		}
		tr.Insert(bs[i].min, bs[i].max, i)
	}
	t.Logf("200,000 clustered boxes, height %d: at most %d nodes copied by a delete", height, most)
}
