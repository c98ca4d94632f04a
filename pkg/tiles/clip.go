package tiles

import "github.com/paulmach/orb"

// Clipping to the buffered tile, in tile units. The algorithms are those of orb's clip
// package (after mapbox/lineclip: Cohen–Sutherland for lines, Sutherland–Hodgman for
// rings), which tests compare these with; these write into the projector's reused
// buffers instead of growing new slices point by point, the most of what drawing an
// uncached tile allocated (issue 18).

// clipLine appends to out the parts of the line in that lie in p.box.
func (p *projector) clipLine(out orb.MultiLineString, in []orb.Point) orb.MultiLineString {
	if len(in) == 0 {
		return out
	}
	box := p.box
	buf := p.take(2 * len(in)) // each segment adds at most its two ends
	starts := p.starts[:0]
	starts = append(starts, 0)
	codeA := bitCode(box, in[0])
	last := len(in) - 1
	for i := 1; i <= last; i++ {
		a, b := in[i-1], in[i]
		codeB := bitCode(box, b)
		endCode := codeB
		for {
			if codeA|codeB == 0 {
				buf = append(buf, a)
				if codeB != endCode { // the segment leaves the box
					buf = append(buf, b)
					if i < last {
						starts = append(starts, len(buf))
					}
				} else if i == last {
					buf = append(buf, b)
				}
				break
			} else if codeA&codeB != 0 {
				break // wholly beyond one side
			} else if codeA != 0 {
				a = intersect(box, codeA, a, b)
				codeA = bitCode(box, a)
			} else {
				b = intersect(box, codeB, a, b)
				codeB = bitCode(box, b)
			}
		}
		codeA = endCode
	}
	starts = append(starts, len(buf))
	for k := 0; k+1 < len(starts); k++ {
		if s, e := starts[k], starts[k+1]; e > s {
			out = append(out, orb.LineString(buf[s:e:e]))
		}
	}
	p.starts = starts
	return out
}

// clipRing clips the ring in (which it may overwrite) to p.box and returns it, closed if in
// was, or nil when nothing is left. The result is in the arena, or in a new array when
// clipping added more than eight points (a ring that zigzags across a side): never over
// another part.
func (p *projector) clipRing(in []orb.Point) []orb.Point {
	if len(in) == 0 {
		return nil
	}
	box := p.box
	first, lastPt := in[0], in[len(in)-1]
	closed := first == lastPt
	out := p.take(len(in) + 8)
	for edge := 1; edge <= 8; edge <<= 1 {
		out = out[:0]
		prev := in[len(in)-1]
		if !closed {
			prev = in[0]
		}
		prevInside := bitCode(box, prev)&edge == 0
		for _, q := range in {
			inside := bitCode(box, q)&edge == 0
			if inside != prevInside {
				out = append(out, intersect(box, edge, prev, q))
			}
			if inside {
				out = append(out, q)
			}
			prev, prevInside = q, inside
		}
		if len(out) == 0 {
			return nil
		}
		in, out = out, in
	}
	if closed && in[0] != in[len(in)-1] {
		in = append(in, in[0])
	}
	return in
}

// bitCode says where q lies against b: 1 left, 2 right, 4 below, 8 above; 0 inside.
func bitCode(b orb.Bound, q orb.Point) int {
	code := 0
	if q[0] < b.Min[0] {
		code |= 1
	} else if q[0] > b.Max[0] {
		code |= 2
	}
	if q[1] < b.Min[1] {
		code |= 4
	} else if q[1] > b.Max[1] {
		code |= 8
	}
	return code
}

// intersect is where the segment ab crosses the side of box that edge names.
func intersect(box orb.Bound, edge int, a, b orb.Point) orb.Point {
	switch {
	case edge&8 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Max[1]-a[1])/(b[1]-a[1]), box.Max[1]}
	case edge&4 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Min[1]-a[1])/(b[1]-a[1]), box.Min[1]}
	case edge&2 != 0:
		return orb.Point{box.Max[0], a[1] + (b[1]-a[1])*(box.Max[0]-a[0])/(b[0]-a[0])}
	case edge&1 != 0:
		return orb.Point{box.Min[0], a[1] + (b[1]-a[1])*(box.Min[0]-a[0])/(b[0]-a[0])}
	}
	return a // not reached: the callers pass a side a or b lies beyond
}
