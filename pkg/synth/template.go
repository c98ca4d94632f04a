package synth

import (
	"fmt"
	"strings"
)

// Slots of the name templates; see the comment on spec.
const (
	sCity = iota
	sCityFull
	sTown
	sTownFull
	sComm
	sCommFull
	sGov
	sCommGov
	sBrand
	sRoad
	sRoad2
	sRiver
	sMtn
	sEstate
	sProj
	sN
	sM
	sCn
	sDn
	sKv
	nSlots
)

var slotNames = map[string]int{
	"city": sCity, "cityfull": sCityFull, "town": sTown, "townfull": sTownFull, "comm": sComm,
	"commfull": sCommFull, "gov": sGov, "commgov": sCommGov, "brand": sBrand, "road": sRoad, "road2": sRoad2,
	"river": sRiver, "mtn": sMtn, "estate": sEstate, "proj": sProj, "n": sN, "m": sM, "cn": sCn,
	"dn": sDn, "kv": sKv,
}

// seg is a piece of a compiled template: literal text, or a slot when slot >= 0.
type seg struct {
	lit  string
	slot int
}

// compileTemplate splits "{city}{brand}化工有限公司" into literal and slot pieces once, so
// that filling it per unit is a few appends.
func compileTemplate(s string) ([]seg, error) {
	var out []seg
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			out = append(out, seg{lit: s, slot: -1})
			break
		}
		if i > 0 {
			out = append(out, seg{lit: s[:i], slot: -1})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("template %q: unclosed {", s)
		}
		name := s[i+1 : i+j]
		slot, ok := slotNames[name]
		if !ok {
			return nil, fmt.Errorf("template %q: unknown slot {%s}", s, name)
		}
		out = append(out, seg{slot: slot})
		s = s[i+j+1:]
	}
	return out, nil
}

func fill(buf []byte, t []seg, vals *[nSlots]string) []byte {
	for _, s := range t {
		if s.slot < 0 {
			buf = append(buf, s.lit...)
		} else {
			buf = append(buf, vals[s.slot]...)
		}
	}
	return buf
}
