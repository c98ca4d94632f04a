package riskmap

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// MaxVertices is the most positions a geometry may have, all its parts and rings together
// (a ring's closing position counts). It bounds the work of checking one: counting comes
// first, and the rest is linear except the boundary check, which is O(n log n).
const MaxVertices = 50000

// CheckVertexCount refuses a geometry of n positions when n is over MaxVertices.
func CheckVertexCount(n int) error {
	if n > MaxVertices {
		return Errorf(EINVALID, "顶点过多（共 %d 个，上限 %d 个）", n, MaxVertices)
	}
	return nil
}

// ValidateGeometry checks that g is a non-empty point, line or polygon (or a multi- of
// them) in longitude/latitude with finite, in-range coordinates; that polygon rings are
// closed, have at least three distinct corners and neither cross themselves nor each other;
// and that each hole lies inside its polygon's outer ring and not inside another hole.
// The error message says what is wrong in words a user can act on. It is
// ValidateGeometryShape and then ValidateBoundaries.
func ValidateGeometry(g orb.Geometry) error {
	if err := ValidateGeometryShape(g); err != nil {
		return err
	}
	return ValidateBoundaries(context.Background(), g)
}

// ValidateGeometryShape checks everything ValidateGeometry does except whether polygon
// boundaries cross or touch: the type, the number of positions (before anything else), the
// coordinates and the shape of each ring. It takes time linear in the number of positions.
func ValidateGeometryShape(g orb.Geometry) error {
	if g == nil {
		return Errorf(EINVALID, "必填（GeoJSON 的 Point、LineString、Polygon 或其 Multi- 类型）")
	}
	if err := CheckVertexCount(countVertices(g)); err != nil {
		return err
	}
	switch g := g.(type) {
	case orb.Point:
		return checkPoint(g, Text{})
	case orb.MultiPoint:
		return checkParts(g, "MultiPoint", Textf("点"), checkPoint)
	case orb.LineString:
		return checkLine(g, Text{})
	case orb.MultiLineString:
		return checkParts(g, "MultiLineString", Textf("线"), checkLine)
	case orb.Polygon:
		return checkPolygon(g, Text{})
	case orb.MultiPolygon:
		return checkParts(g, "MultiPolygon", Textf("面"), checkPolygon)
	default:
		return Errorf(EINVALID, "不支持 %s 类型；请使用 Point、LineString、Polygon 或其 Multi- 类型", g.GeoJSONType())
	}
}

// ValidateBoundaries checks that the rings of each polygon of g (one that passed
// ValidateGeometryShape) neither cross nor touch themselves or each other, except that
// rings of a polygon may share corners (without crossing there); and that each hole lies
// inside the outer ring and outside every other hole of its polygon. Rings of different
// polygons of a MultiPolygon are not compared. It takes O(n log n) time in the number of
// positions, whatever their shape, and stops with an error wrapping ctx's when ctx ends
// first.
func ValidateBoundaries(ctx context.Context, g orb.Geometry) error {
	var st sweepStats
	switch g := g.(type) {
	case orb.Polygon:
		return boundaryError(ctx, g, 0, &st)
	case orb.MultiPolygon:
		for i, p := range g {
			if err := ctx.Err(); err != nil { // many small parts never reach the sweep's look
				return fmt.Errorf("riskmap: geometry check stopped: %w", err)
			}
			if err := boundaryError(ctx, p, i+1, &st); err != nil {
				return err
			}
		}
	}
	return nil
}

// boundaryError checks polygon number part of a MultiPolygon (0 for a Polygon).
func boundaryError(ctx context.Context, poly orb.Polygon, part int, st *sweepStats) error {
	pr, err := checkRings(ctx, poly, st)
	if err != nil {
		return fmt.Errorf("riskmap: geometry check stopped: %w", err)
	}
	var where Text
	if part > 0 {
		where = Textf("第 %d 个面：", part)
	}
	switch pr.kind {
	case ringsCross:
		return Errorf(EINVALID, "%s边界在 %.6f, %.6f 附近自相交或自接触", where, pr.at[0], pr.at[1])
	case holeOutside:
		return Errorf(EINVALID, "%s第 %d 个环：内环（洞）位于外环之外", where, pr.ring+1)
	case holeInHole:
		return Errorf(EINVALID, "%s第 %d 个环：内环（洞）嵌套在另一个内环之中", where, pr.ring+1)
	}
	return nil
}

// ringProblem is what checkRings finds wrong with a polygon's rings.
type ringProblem struct {
	kind int
	at   orb.Point // where rings cross or touch
	ring int       // the hole outside the outer ring or inside another hole
}

const (
	ringsOK     = iota
	ringsCross  // a ring crosses or touches itself or another ring, but at shared corners
	holeOutside // a hole lies outside the outer ring
	holeInHole  // a hole lies inside another hole
)

// checkRings checks the rings of a polygon: that they neither cross nor touch (findCrossing),
// that no two cross each other at a corner they share (ringsCrossAtCorner), and then, as
// the rings' boundaries are then disjoint but for shared corners and each hole lies wholly
// inside or wholly outside each other ring, that every hole is inside the outer ring and
// none inside another hole. Which holes are inside which ring the sweep finds out too (see
// holeProbe), in O(log n) more steps per hole.
func checkRings(ctx context.Context, poly orb.Polygon, st *sweepStats) (ringProblem, error) {
	var probes []holeProbe
	if len(poly) > 1 {
		probes = make([]holeProbe, len(poly))
		for i := range probes {
			probes[i].seg = -1
		}
	}
	p, ok, err := findCrossing(ctx, poly, st, probes)
	if err != nil || ok {
		return ringProblem{kind: ringsCross, at: p}, err
	}
	return checkHoles(probes), nil
}

// checkHoles decides from the probes of the sweep whether each hole lies inside the outer
// ring and outside every other hole, the rings meeting only at shared corners without
// crossing there. A hole's probe point is on the hole's own edge and on no other ring, so
// an odd number of outer-ring edges above it puts it, and the hole, inside the outer ring.
// Of the hole edges above it, those of its own hole are odd in number exactly when the
// hole's inside is above the edge (fwd, as the ring runs, is on the left for a ring that
// runs counter-clockwise); the rest are odd when the point is inside an odd number of other
// holes. That is enough: when some hole is inside another, the holes not inside any hole
// (the outer ones) contain, as nested rings do, a hole inside exactly one of them (one
// inside an outer one and in no other hole inside it), and that one's count is odd.
func checkHoles(probes []holeProbe) ringProblem {
	for h := 1; h < len(probes); h++ {
		if probes[h].shells%2 == 0 {
			return ringProblem{kind: holeOutside, ring: h}
		}
	}
	for h := 1; h < len(probes); h++ {
		own := int32(0)
		if probes[h].ownAbove {
			own = 1
		}
		if (probes[h].holeEdges-own)%2 != 0 {
			return ringProblem{kind: holeInHole, ring: h}
		}
	}
	return ringProblem{}
}

// countVertices counts the positions of g.
func countVertices(g orb.Geometry) int {
	n := 0
	switch g := g.(type) {
	case orb.Point:
		n = 1
	case orb.MultiPoint:
		n = len(g)
	case orb.LineString:
		n = len(g)
	case orb.MultiLineString:
		for _, l := range g {
			n += len(l)
		}
	case orb.Polygon:
		for _, r := range g {
			n += len(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				n += len(r)
			}
		}
	}
	return n
}

// checkParts checks each part of a multi-geometry of type typ with check, and when one fails
// checks it again to name it in the error ("第 2 个线：…"), so that valid input costs no
// formatting.
func checkParts[T any](parts []T, typ string, part Text, check func(T, Text) error) error {
	if len(parts) == 0 {
		return Errorf(EINVALID, "%s 为空", typ)
	}
	for i, p := range parts {
		if check(p, Text{}) != nil {
			return check(p, Textf("第 %d 个%s：", i+1, part))
		}
	}
	return nil
}

func checkPoint(p orb.Point, where Text) error {
	lon, lat := p[0], p[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return Errorf(EINVALID, "%s坐标应为有限的数值", where)
	}
	if lon < -180 || lon > 180 {
		return Errorf(EINVALID, "%s经度 %g 超出 -180 至 180（坐标为 WGS 84 经度、纬度）", where, lon)
	}
	if lat < -90 || lat > 90 {
		return Errorf(EINVALID, "%s纬度 %g 超出 -90 至 90（坐标为 WGS 84 经度、纬度）", where, lat)
	}
	return nil
}

func checkLine(l orb.LineString, where Text) error {
	if len(l) == 0 {
		return Errorf(EINVALID, "%s线为空", where)
	}
	if err := checkPoints(l, where); err != nil {
		return err
	}
	for _, p := range l[1:] {
		if p != l[0] {
			return nil
		}
	}
	return Errorf(EINVALID, "%s线至少需要两个不同的点", where)
}

// checkPoints checks every position; the message names the first bad one.
func checkPoints(ps []orb.Point, where Text) error {
	for i, p := range ps {
		if checkPoint(p, Text{}) != nil {
			return checkPoint(p, Textf("%s第 %d 个顶点：", where, i+1))
		}
	}
	return nil
}

func checkPolygon(poly orb.Polygon, where Text) error {
	if len(poly) == 0 {
		return Errorf(EINVALID, "%s面为空", where)
	}
	for ri, r := range poly {
		if problem, vertex := checkRing(r); vertex || problem.m != nil {
			rw := Textf("%s第 %d 个环：", where, ri+1)
			if ri == 0 {
				rw = Textf("%s外环：", where)
			}
			if vertex {
				return checkPoints(r, rw)
			}
			return Errorf(EINVALID, "%s%s", rw, problem)
		}
	}
	return nil
}

// checkRing returns what is wrong with a ring (vertex for a bad position), or nothing.
func checkRing(r orb.Ring) (problem Text, vertex bool) {
	if checkPoints(r, Text{}) != nil {
		return Text{}, true
	}
	if len(r) < 4 {
		return Textf("环至少需要 4 个坐标（3 个角点，首点在末尾重复），收到 %d 个", len(r)), false
	}
	if r[0] != r[len(r)-1] {
		return Textf("环未闭合：最后一个坐标应与第一个相同"), false
	}
	if !threeDistinct(r) {
		return Textf("环至少需要 3 个不同的角点"), false
	}
	if planar.Area(r) == 0 {
		if collinear(r) {
			return Textf("环没有面积（所有角点在一条直线上）"), false
		}
		return Textf("边界自相交（如“8”字形），没有面积"), false
	}
	return Text{}, false
}

// collinear reports whether every corner of r lies on the line through its first two
// distinct corners.
func collinear(r orb.Ring) bool {
	a := r[0]
	var b orb.Point
	found := false
	for _, q := range r {
		if q != a {
			b, found = q, true
			break
		}
	}
	if !found {
		return true
	}
	for _, q := range r {
		if (b[0]-a[0])*(q[1]-a[1])-(b[1]-a[1])*(q[0]-a[0]) != 0 {
			return false
		}
	}
	return true
}

// threeDistinct reports whether r has at least three distinct positions.
func threeDistinct(r orb.Ring) bool {
	a := r[0]
	for i, b := range r {
		if b != a {
			for _, c := range r[i+1:] {
				if c != a && c != b {
					return true
				}
			}
			return false
		}
	}
	return false
}

// findCrossing reports a point where two edges of the polygon meet that may not: two edges
// of one ring that are not consecutive along it, consecutive edges folding back onto each
// other, or edges of two rings anywhere but at a corner of both. Every such meeting is
// either a ring passing through one point twice, found by sorting the corners, or two
// edges meeting at a point inside one of them, found by a sweep (findMeeting). It also
// reports a point where two rings cross each other at a corner they share, found by
// ordering the edges round each shared corner (ringsCrossAtCorner): in O(k log k) for k
// rings through the corner, O(n log n) in all.
//
// For a polygon with holes, probes has an entry for each ring, which the sweep fills in for
// each hole (see holeProbe) and then checkRings reads.
func findCrossing(ctx context.Context, poly orb.Polygon, st *sweepStats, probes []holeProbe) (orb.Point, bool, error) {
	n := 0
	for _, r := range poly {
		n += len(r)
	}
	corners := make([]corner, 0, n)
	type span struct{ first, n int }
	rings := make([]span, 0, len(poly))
	for ri, r := range poly {
		// Drop repeated consecutive positions so that they do not look like touching edges,
		// and the closing one.
		first := len(corners)
		for _, p := range r {
			if len(corners) == first || corners[len(corners)-1].p != p {
				corners = append(corners, corner{p: p, ring: int32(ri), id: int32(len(corners))})
			}
		}
		for len(corners) > first+1 && corners[len(corners)-1].p == corners[first].p {
			corners = corners[:len(corners)-1]
		}
		rings = append(rings, span{first, len(corners) - first})
	}
	pts := make([]orb.Point, len(corners))
	for i, c := range corners {
		pts[i] = c.p
	}
	sortCorners(corners)
	rank := make([]int32, len(corners))
	ranks := 0
	for i, c := range corners {
		if i > 0 && c.p != corners[i-1].p {
			ranks++
		}
		if i > 0 && c.p == corners[i-1].p && c.ring == corners[i-1].ring {
			// Two visits to one point make two edges meet there that are not consecutive.
			return c.p, true, nil
		}
		rank[c.id] = int32(ranks)
	}
	segs := make([]sweepSeg, 0, len(corners))
	for ri, r := range rings {
		if r.n < 2 {
			continue
		}
		for i := 0; i < r.n; i++ {
			a, b := r.first+i, r.first+(i+1)%r.n
			fwd := true
			if rank[b] < rank[a] {
				a, b, fwd = b, a, false
			}
			segs = append(segs, sweepSeg{lo: pts[a], hi: pts[b], loRank: rank[a], hiRank: rank[b],
				ring: int32(ri), fwd: fwd})
		}
	}
	if p, ok, err := findMeeting(ctx, segs, ranks+1, st, probes); ok || err != nil {
		return p, ok, err
	}
	// No two edges meet but at shared corners, and no ring passes through a point twice;
	// rings may still cross each other at a corner they share.
	around := func(c corner) (orb.Point, orb.Point) {
		r := rings[c.ring]
		k := int(c.id) - r.first
		return pts[r.first+(k+r.n-1)%r.n], pts[r.first+(k+1)%r.n]
	}
	open := make([]bool, len(rings)) // scratch for ringsCrossAtCorner
	for i := 0; i < len(corners); {
		j := i + 1
		for j < len(corners) && corners[j].p == corners[i].p {
			j++
		}
		if j-i > 1 && ringsCrossAtCorner(corners[i:j], around, open) {
			return corners[i].p, true, nil
		}
		i = j
	}
	// Which side of its probe edge each hole's inside lies on: the ring runs
	// counter-clockwise when it turns left at its lowest corner in the sweep's order, where
	// it cannot run straight on (its two edges there would lie on each other).
	if probes != nil {
		ccw := make([]bool, len(rings))
		seen := make([]bool, len(rings))
		for _, c := range corners {
			if !seen[c.ring] {
				seen[c.ring] = true
				a, b := around(c)
				ccw[c.ring] = orient(a, c.p, b) > 0
			}
		}
		for h := 1; h < len(probes); h++ {
			if s := probes[h].seg; s >= 0 {
				probes[h].ownAbove = ccw[h] == segs[s].fwd
			}
		}
	}
	return orb.Point{}, false, nil
}

// ringsCrossAtCorner reports whether, of the rings through one point (cs, one corner of
// each), two cross there: whether in the order of their edges round the point the edges of
// two rings alternate. around gives the corners before and after a corner along its ring.
// The edges at the point have distinct directions, as no two lie on each other. open has
// an entry for each ring, all false, and is left so when no rings cross.
func ringsCrossAtCorner(cs []corner, around func(corner) (orb.Point, orb.Point), open []bool) bool {
	type edge struct {
		to   orb.Point
		ring int32
		half int32
	}
	p := cs[0].p
	// Counter-clockwise from the direction of +x: first the half-plane above (with +x),
	// then the one below (with −x); within one, b after a when it is left of the line p→a.
	half := func(q orb.Point) int32 {
		if q[1] > p[1] || q[1] == p[1] && q[0] > p[0] {
			return 0
		}
		return 1
	}
	es := make([]edge, 0, 2*len(cs))
	for _, c := range cs {
		a, b := around(c)
		es = append(es, edge{a, c.ring, half(a)}, edge{b, c.ring, half(b)})
	}
	slices.SortFunc(es, func(a, b edge) int {
		if a.half != b.half {
			return int(a.half - b.half)
		}
		return crossSign(p, b.to, p, a.to)
	})
	// The rings do not cross when the pairs of edges nest like brackets, which does not
	// depend on where the circle is cut.
	stack := make([]int32, 0, len(cs))
	for _, e := range es {
		if open[e.ring] {
			if stack[len(stack)-1] != e.ring {
				for _, r := range stack {
					open[r] = false
				}
				return true
			}
			stack = stack[:len(stack)-1]
			open[e.ring] = false
			continue
		}
		stack = append(stack, e.ring)
		open[e.ring] = true
	}
	return false
}

// corner is a ring's corner, with its coordinates as keys that sort as the numbers do.
type corner struct {
	p      orb.Point
	kx, ky uint64
	ring   int32
	id     int32 // index before sorting
}

func sortKey(v float64) uint64 {
	if v == 0 {
		v = 0 // -0 and +0 are one point
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// sortCorners sorts corners listed ring by ring into lexicographic order of their points,
// and of their rings for one point: a least-significant-digit radix sort, 16 bits at a time,
// skipping digits all corners share (most of them, for coordinates in one city).
func sortCorners(cs []corner) {
	for i := range cs {
		cs[i].kx, cs[i].ky = sortKey(cs[i].p[0]), sortKey(cs[i].p[1])
	}
	if len(cs) < 256 {
		slices.SortFunc(cs, func(a, b corner) int {
			if c := cmpPoint(a.p, b.p); c != 0 {
				return c
			}
			return int(a.ring - b.ring)
		})
		return
	}
	orig := cs
	tmp := make([]corner, len(cs))
	count := make([]int32, 1<<16)
	for pass := range 8 {
		shift := uint(pass%4) * 16
		key := func(c *corner) uint64 { return c.ky }
		if pass >= 4 {
			key = func(c *corner) uint64 { return c.kx }
		}
		clear(count)
		for i := range cs {
			count[key(&cs[i])>>shift&0xffff]++
		}
		if int(count[key(&cs[0])>>shift&0xffff]) == len(cs) {
			continue
		}
		var sum int32
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i := range cs {
			d := key(&cs[i]) >> shift & 0xffff
			tmp[count[d]] = cs[i]
			count[d]++
		}
		cs, tmp = tmp, cs
	}
	if &cs[0] != &orig[0] {
		copy(orig, cs)
	}
}
