package riskmap

import (
	"context"
	"math/rand/v2"

	"github.com/paulmach/orb"
)

// A sweep line (Shamos and Hoey, "Geometric intersection problems", 1976) finds whether
// any two of n segments meet at a point inside at least one of them, in O(n log n) time
// whatever the segments: a vertical line sweeps from left to right over the segments'
// endpoints and keeps the segments it crosses in their order along it. Two segments that
// meet that way are next to each other in that order before the sweep passes the leftmost
// such point, so only neighbours are compared: each insertion and deletion compares at most
// two pairs. Segments may share endpoints (a ring's consecutive edges, a hole touching its
// shell at a corner); a shared endpoint alone is not a meeting.
//
// The sweep visits points in lexicographic order (x, then y), which is what a vertical line
// tilted a hair counter-clockwise would do; a vertical segment is crossed from its lower
// end up. At each point it first removes the segments ending there and then inserts those
// starting there.

// sweepSeg is a segment with lo before hi in lexicographic order, and the ranks of its
// ends in that order (equal points have equal ranks).
type sweepSeg struct {
	lo, hi         orb.Point
	loRank, hiRank int32
	ring           int32 // the ring's index in its polygon: 0 for the outer ring
	fwd            bool  // the ring runs from lo to hi along it
}

// cmpPoint orders points lexicographically. Coordinates are never NaN here.
func cmpPoint(a, b orb.Point) int {
	switch {
	case a[0] < b[0]:
		return -1
	case a[0] > b[0]:
		return 1
	case a[1] < b[1]:
		return -1
	case a[1] > b[1]:
		return 1
	}
	return 0
}

// sweepStats counts a sweep's work, for the tests that bound it.
type sweepStats struct {
	pairs int // pairs of segments compared
	steps int // tree nodes visited counting the segments above a hole's edge
}

// ctxCheckEvery is how many endpoints the sweep passes between looks at its context.
const ctxCheckEvery = 1024

// byRank returns the indexes of segs ordered by the rank key gives them, ties in index
// order: a counting sort, as every rank is below ranks.
func byRank(segs []sweepSeg, ranks int, key func(*sweepSeg) int32) []int32 {
	first := make([]int32, ranks+1)
	for i := range segs {
		first[key(&segs[i])+1]++
	}
	for r := 1; r <= ranks; r++ {
		first[r] += first[r-1]
	}
	order := make([]int32, len(segs))
	for i := range segs {
		k := key(&segs[i])
		order[first[k]] = int32(i)
		first[k]++
	}
	return order
}

// holeProbe is what the sweep finds out about one hole: how many edges of the outer ring
// and of holes (its own included) the sweep line crosses above the hole's first edge, just
// after that edge's left end. The point there lies on no other ring when the rings meet
// only at shared corners, and the parity of a ring's edges above it says whether it is
// inside that ring.
type holeProbe struct {
	seg               int32 // -1 until the sweep reaches the hole
	shells, holeEdges int32
	ownAbove          bool // the hole's inside is above its probe edge (set by findCrossing)
}

// findMeeting reports a point where two of segs meet other than at a shared endpoint: a
// crossing, an endpoint of one inside the other, or a stretch they share. ranks is one
// more than the highest rank of an endpoint. It stops with ctx's error when ctx ends first.
// When probes is not nil (a polygon with holes), it has an entry for each ring, and the
// sweep fills in those of the holes (rings 1 and up); they mean something only when no two
// segments meet.
func findMeeting(ctx context.Context, segs []sweepSeg, ranks int, st *sweepStats, probes []holeProbe) (orb.Point, bool, error) {
	n := len(segs)
	starts := byRank(segs, ranks, func(s *sweepSeg) int32 { return s.loRank })
	ends := byRank(segs, ranks, func(s *sweepSeg) int32 { return s.hiRank })

	meet := func(a, b int32) (orb.Point, bool) {
		st.pairs++
		return segmentsMeetInside(&segs[a], &segs[b])
	}
	t := newTreap(n, rand.Uint64())
	if probes != nil {
		t.kind = make([]uint8, n)
		for i := range segs {
			if segs[i].ring > 0 {
				t.kind[i] = 1
			}
		}
		t.count = make([][2]int32, n)
	}
	// The holes whose first edges start at the current point: they are counted once every
	// segment starting there is in the tree, before anything ends at a later point.
	var pending []int32
	probeRank := int32(-1)
	flush := func() {
		for _, h := range pending {
			i := probes[h].seg
			c := t.above(i, st)
			probes[h].shells, probes[h].holeEdges = c[0], c[1]
		}
		pending = pending[:0]
	}
	events := 0
	next := 0 // the next segment to remove, in ends
	remove := func(until int32) (orb.Point, bool, error) {
		for next < n && segs[ends[next]].hiRank <= until {
			if events++; events%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return orb.Point{}, false, err
				}
			}
			i := ends[next]
			next++
			below, above := t.nodes[i].prev, t.nodes[i].next
			t.remove(i)
			if below >= 0 && above >= 0 {
				if p, ok := meet(below, above); ok {
					return p, true, nil
				}
			}
		}
		return orb.Point{}, false, nil
	}
	for _, i := range starts {
		s := &segs[i]
		if len(pending) > 0 && s.loRank != probeRank {
			flush()
		}
		if p, ok, err := remove(s.loRank); ok || err != nil {
			return p, ok, err
		}
		if events++; events%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return orb.Point{}, false, err
			}
		}
		t.insert(i, func(o int32) bool { return sweepBelow(s, &segs[o], i, o) })
		if probes != nil && s.ring > 0 && probes[s.ring].seg < 0 {
			probes[s.ring].seg = i
			pending = append(pending, s.ring)
			probeRank = s.loRank
		}
		for _, o := range [2]int32{t.nodes[i].prev, t.nodes[i].next} {
			if o >= 0 {
				if p, ok := meet(i, o); ok {
					return p, true, nil
				}
			}
		}
	}
	if len(pending) > 0 {
		flush()
	}
	return remove(int32(ranks))
}

// sweepBelow reports whether segment s, which starts at the sweep's current point, goes
// below segment t, which the sweep line crosses there, just after that point. Segments
// lying on each other are ordered by their index: they meet, and as neighbours they are
// compared.
func sweepBelow(s, t *sweepSeg, si, ti int32) bool {
	if t.lo[0] == t.hi[0] {
		// t is vertical, so it passes through s.lo, and upwards is the topmost direction.
		if s.lo[0] == s.hi[0] {
			return si < ti
		}
		return true
	}
	if o := orient(t.lo, t.hi, s.lo); o != 0 {
		return o < 0
	}
	// s starts on t: compare the directions.
	if o := orient(t.lo, t.hi, s.hi); o != 0 {
		return o < 0
	}
	return si < ti
}

// segmentsMeetInside reports whether segments s and t meet at a point other than an
// endpoint of both, and such a point. Segments that only share an endpoint do not meet in
// this sense; segments that share a stretch do.
func segmentsMeetInside(s, t *sweepSeg) (orb.Point, bool) {
	a, b, c, d := s.lo, s.hi, t.lo, t.hi
	// x ranges are ordered by construction; y ranges need min and max.
	if b[0] < c[0] || d[0] < a[0] ||
		max(a[1], b[1]) < min(c[1], d[1]) || max(c[1], d[1]) < min(a[1], b[1]) {
		return orb.Point{}, false
	}
	o1, o2 := orient(a, b, c), orient(a, b, d)
	if o1 == o2 && o1 != 0 {
		return orb.Point{}, false
	}
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if o3 == o4 && o3 != 0 {
		return orb.Point{}, false
	}
	if o1 == 0 && o2 == 0 {
		// On one line, where lexicographic order is the order along it: they share a
		// stretch when the later start comes before the earlier end.
		lo, hi := a, b
		if cmpPoint(c, lo) > 0 {
			lo = c
		}
		if cmpPoint(d, hi) < 0 {
			hi = d
		}
		return lo, cmpPoint(lo, hi) < 0
	}
	// They meet at one point: an endpoint of t when o1 or o2 is 0, of s when o3 or o4 is.
	switch {
	case (o1 == 0 || o2 == 0) && (o3 == 0 || o4 == 0):
		return orb.Point{}, false // a shared endpoint
	case o1 == 0:
		return c, true
	case o2 == 0:
		return d, true
	case o3 == 0:
		return a, true
	case o4 == 0:
		return b, true
	}
	// A proper crossing; the point is only for the message, so rounding does not matter.
	den := (a[0]-b[0])*(c[1]-d[1]) - (a[1]-b[1])*(c[0]-d[0])
	u := ((a[0]-c[0])*(c[1]-d[1]) - (a[1]-c[1])*(c[0]-d[0])) / den
	return orb.Point{a[0] + u*(b[0]-a[0]), a[1] + u*(b[1]-a[1])}, true
}

// splitmix is SplitMix64's output function: it turns a counter into well-mixed bits.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// treap is the sweep line's order of segments: a binary search tree kept balanced by random
// priorities (a heap on them), so that its depth is O(log n) whatever order the segments
// arrive in. The priorities come from a seed chosen per sweep, so no input can be made to
// unbalance it. Each node also links to its neighbours in order, and removing a node needs
// no comparisons: segments are compared only when one is inserted, at its left end. Node i
// is segment i; links are indexes, -1 for none, so that the garbage collector has no
// pointers to follow.
//
// For a polygon with holes each node also counts the segments of the outer ring and of
// holes in its subtree (count, by kind), so that the segments above one can be counted in
// O(log n) steps.
type treap struct {
	root  int32
	nodes []treapNode
	kind  []uint8    // node i's segment is of the outer ring (0) or a hole (1); nil when not counting
	count [][2]int32 // segments of each kind in node i's subtree
}

type treapNode struct {
	left, right, parent int32
	prev, next          int32 // neighbours in order
	prio                uint64
}

func newTreap(n int, seed uint64) treap {
	t := treap{root: -1, nodes: make([]treapNode, n)}
	for i := range t.nodes {
		t.nodes[i] = treapNode{left: -1, right: -1, parent: -1, prev: -1, next: -1, prio: splitmix(seed + uint64(i))}
	}
	return t
}

// insert adds node i where before says, for a node in the tree, whether i goes before it.
func (t *treap) insert(i int32, before func(int32) bool) {
	parent, prev, next := int32(-1), int32(-1), int32(-1)
	left := false
	for cur := t.root; cur >= 0; {
		parent = cur
		if left = before(cur); left {
			next, cur = cur, t.nodes[cur].left
		} else {
			prev, cur = cur, t.nodes[cur].right
		}
	}
	n := &t.nodes[i]
	n.parent, n.left, n.right, n.prev, n.next = parent, -1, -1, prev, next
	switch {
	case parent < 0:
		t.root = i
	case left:
		t.nodes[parent].left = i
	default:
		t.nodes[parent].right = i
	}
	if prev >= 0 {
		t.nodes[prev].next = i
	}
	if next >= 0 {
		t.nodes[next].prev = i
	}
	if t.kind != nil {
		k := t.kind[i]
		t.count[i] = [2]int32{}
		t.count[i][k] = 1
		for p := parent; p >= 0; p = t.nodes[p].parent {
			t.count[p][k]++
		}
	}
	for p := t.nodes[i].parent; p >= 0 && t.nodes[p].prio < t.nodes[i].prio; p = t.nodes[i].parent {
		t.rotateUp(i)
	}
}

// remove takes node i out of the tree.
func (t *treap) remove(i int32) {
	for {
		n := &t.nodes[i]
		if n.left < 0 && n.right < 0 {
			break
		}
		c := n.left
		if c < 0 || (n.right >= 0 && t.nodes[n.right].prio > t.nodes[c].prio) {
			c = n.right
		}
		t.rotateUp(c)
	}
	n := &t.nodes[i]
	if t.kind != nil {
		k := t.kind[i]
		for p := n.parent; p >= 0; p = t.nodes[p].parent {
			t.count[p][k]--
		}
	}
	switch p := n.parent; {
	case p < 0:
		t.root = -1
	case t.nodes[p].left == i:
		t.nodes[p].left = -1
	default:
		t.nodes[p].right = -1
	}
	if n.prev >= 0 {
		t.nodes[n.prev].next = n.next
	}
	if n.next >= 0 {
		t.nodes[n.next].prev = n.prev
	}
	n.parent, n.prev, n.next = -1, -1, -1
}

// rotateUp swaps node c with its parent, keeping the order.
func (t *treap) rotateUp(c int32) {
	nc := &t.nodes[c]
	p := nc.parent
	np := &t.nodes[p]
	g := np.parent
	if np.left == c {
		np.left = nc.right
		if nc.right >= 0 {
			t.nodes[nc.right].parent = p
		}
		nc.right = p
	} else {
		np.right = nc.left
		if nc.left >= 0 {
			t.nodes[nc.left].parent = p
		}
		nc.left = p
	}
	np.parent, nc.parent = c, g
	if t.kind != nil {
		// c's subtree is now what p's was; p's lost c and c's subtree on one side.
		t.count[c] = t.count[p]
		t.count[p] = t.subtreeCount(p)
	}
	switch {
	case g < 0:
		t.root = c
	case t.nodes[g].left == p:
		t.nodes[g].left = c
	default:
		t.nodes[g].right = c
	}
}

// subtreeCount adds up the counts of node i's children and i itself.
func (t *treap) subtreeCount(i int32) [2]int32 {
	var c [2]int32
	c[t.kind[i]] = 1
	for _, ch := range [2]int32{t.nodes[i].left, t.nodes[i].right} {
		if ch >= 0 {
			c[0] += t.count[ch][0]
			c[1] += t.count[ch][1]
		}
	}
	return c
}

// above counts, by kind, the nodes after node i in order: those in its right subtree, and
// each ancestor it lies left of with that ancestor's right subtree.
func (t *treap) above(i int32, st *sweepStats) [2]int32 {
	var c [2]int32
	add := func(j int32) {
		if j >= 0 {
			c[0] += t.count[j][0]
			c[1] += t.count[j][1]
		}
	}
	add(t.nodes[i].right)
	for ch, p := i, t.nodes[i].parent; p >= 0; ch, p = p, t.nodes[p].parent {
		st.steps++
		if t.nodes[p].left == ch {
			c[t.kind[p]]++
			add(t.nodes[p].right)
		}
	}
	return c
}
