// Package synth makes realistic risk units: names, places, assessments and controls that look
// like a city's register. The demo city (scripts/gendemo) and the synthetic units of
// benchmarks (`riskmap seed --synthetic N`) share it, so both look alike.
//
// Everything is deterministic: the same seed and inputs give the same units, byte for byte.
// Units are streamed; a million of them never sit in memory together.
package synth

import (
	"iter"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/grading"
	"riskmap/pkg/riskmap"
)

// Kind is the geometry type of a unit.
type Kind int

// Geometry kinds. KindAny lets the generator choose: about 80% points, 12% lines and 8%
// polygons.
const (
	KindAny Kind = iota
	KindPoint
	KindLine
	KindArea
)

// kindShare is the mix of geometry kinds when none is asked for.
var kindShare = [3]float64{0.80, 0.12, 0.08}

// gradeShare is the intended mix of grades red, orange, yellow, blue by a category's tilt
// (-1, 0, +1). Over the default category mix it comes to about 5/15/40/40%.
var gradeShare = map[int][4]float64{
	-1: {0.02, 0.08, 0.38, 0.52},
	0:  {0.05, 0.15, 0.40, 0.40},
	1:  {0.10, 0.25, 0.40, 0.25},
}

// directShare is the share of red units graded red by direct determination (直接判定).
const directShare = 0.12

// reference is the day assessments are dated back from. It is fixed so that output does not
// depend on the clock.
var reference = time.Date(2026, 6, 30, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// Spec fixes parts of a unit; zero fields are chosen at random.
type Spec struct {
	Category string
	Kind     Kind
}

// Generator makes units for one set of regions and one catalog. It is safe for concurrent
// use; each sequence of units has its own random source.
type Generator struct {
	places          []place
	placeIdx        map[string]int
	popCum, areaCum []float64
	cats            []*compiled
	catIdx          map[string]int
	kindCum         [3][]float64 // per kind: cumulative weight over cats
	kindTotal       [3]float64
	inputs          [2][4][]riskmap.Assessment // [LS, LEC][grade rank-1]
	grader          *grading.Grader
	city, cityFull  string
	people          []string
}

type compiled struct {
	spec     *spec
	cat      *riskmap.Category
	tmpls    [3][]ctmpl
	acc      []string
	pools    [5][]string // engineering (family), management, training, ppe, emergency
	gradeCum [4]float64
}

type ctmpl struct {
	name, unit []seg
	sub        string
}

// New prepares a generator. Units go into the community regions (12-digit codes); when there
// are none, into the finest level present (streets, then the district). grader chooses
// assessment inputs that give each intended grade under the deployment's thresholds, and the
// next review dates; nil means the built-in defaults.
func New(regions []*riskmap.Region, cat *riskmap.Catalog, grader *grading.Grader) (*Generator, error) {
	if cat == nil || len(cat.Categories) == 0 {
		return nil, riskmap.Errorf(riskmap.EINVALID, "合成数据：行业目录中没有行业领域")
	}
	if grader == nil {
		grader = config.Default().Grader
	}
	g := &Generator{grader: grader, placeIdx: map[string]int{}, catIdx: map[string]int{}}
	if err := g.initPlaces(regions); err != nil {
		return nil, err
	}
	if err := g.initCategories(cat); err != nil {
		return nil, err
	}
	if err := g.initInputs(); err != nil {
		return nil, err
	}
	for _, s := range surnames {
		for _, n := range givenNames {
			g.people = append(g.people, s+n)
		}
	}
	return g, nil
}

func (g *Generator) initPlaces(regions []*riskmap.Region) error {
	byCode := map[string]*riskmap.Region{}
	for _, r := range regions {
		byCode[r.Code] = r
		if r.Level == riskmap.LevelDistrict && g.cityFull == "" {
			g.cityFull = r.Name
		}
	}
	if g.cityFull == "" {
		g.cityFull = "本市"
	}
	g.city = shortName(g.cityFull)
	for _, level := range []string{riskmap.LevelCommunity, riskmap.LevelStreet, riskmap.LevelDistrict} {
		for _, r := range regions {
			if r.Level != level || len(r.Geometry) == 0 {
				continue
			}
			if err := riskmap.ValidateGeometry(r.Geometry); err != nil {
				return riskmap.Errorf(riskmap.EINVALID, "合成数据：区域 %s 的位置 %v", r.Code, err)
			}
			g.placeIdx[r.Code] = len(g.places)
			g.places = append(g.places, newPlace(r, byCode[r.ParentCode]))
		}
		if len(g.places) > 0 {
			break
		}
	}
	if len(g.places) == 0 {
		return riskmap.Errorf(riskmap.EINVALID, "合成数据：没有带位置的区域可放置单元")
	}
	// Order by code so that the output does not depend on the order regions came in.
	sort.Slice(g.places, func(i, j int) bool { return g.places[i].code < g.places[j].code })
	var popSum, areaSum float64
	for i, p := range g.places {
		g.placeIdx[p.code] = i
		pop := p.population
		if pop <= 0 {
			pop = p.areaM2 / 1000 // no census: a thin, even spread
		}
		popSum += pop
		areaSum += p.areaM2
		g.popCum = append(g.popCum, popSum)
		g.areaCum = append(g.areaCum, areaSum)
	}
	return nil
}

func (g *Generator) initCategories(cat *riskmap.Catalog) error {
	byCode := map[string]*spec{}
	for i := range specs {
		byCode[specs[i].code] = &specs[i]
	}
	for i := range cat.Categories {
		c := &cat.Categories[i]
		s := byCode[c.Code]
		if s == nil {
			s = genericSpec(c)
		}
		cc := &compiled{spec: s, cat: c}
		for k, list := range [3][]tmpl{s.points, s.lines, s.areas} {
			if s.weight[k] <= 0 {
				continue
			}
			for _, t := range list {
				name, err := compileTemplate(t.name)
				if err != nil {
					return err
				}
				unit, err := compileTemplate(t.unit)
				if err != nil {
					return err
				}
				cc.tmpls[k] = append(cc.tmpls[k], ctmpl{name: name, unit: unit, sub: t.sub})
			}
		}
		for _, a := range s.acc {
			if _, ok := cat.AccidentType(a); ok {
				cc.acc = append(cc.acc, a)
			}
		}
		if len(cc.acc) == 0 {
			if _, ok := cat.AccidentType("other_injury"); ok {
				cc.acc = []string{"other_injury"}
			}
		}
		f := families[s.family]
		if f == nil {
			f = families["build"]
		}
		cc.pools = [5][]string{f.engineering, f.management, f.training, f.ppe, f.emergency}
		share := gradeShare[s.tilt]
		sum := 0.0
		for i, v := range share {
			sum += v
			cc.gradeCum[i] = sum
		}
		g.catIdx[c.Code] = len(g.cats)
		g.cats = append(g.cats, cc)
	}
	for k := range 3 {
		sum := 0.0
		for _, cc := range g.cats {
			if len(cc.tmpls[k]) > 0 {
				sum += cc.spec.weight[k]
			}
			g.kindCum[k] = append(g.kindCum[k], sum)
		}
		g.kindTotal[k] = sum
	}
	if g.kindTotal[kPoint]+g.kindTotal[kLine]+g.kindTotal[kArea] == 0 {
		return riskmap.Errorf(riskmap.EINVALID, "合成数据：没有可生成的行业领域")
	}
	return nil
}

// genericSpec is the spec of a category the generator has no words for: points named after
// the category.
func genericSpec(c *riskmap.Category) *spec {
	sub := ""
	if len(c.SubCategories) > 0 {
		sub = c.SubCategories[0]
	}
	label := strings.NewReplacer("{", "", "}", "").Replace(c.Label)
	return &spec{
		code: c.Code, abbr: CodePrefix(c.Code), weight: [3]float64{1, 0, 0}, family: "build",
		points: []tmpl{{"{town}{comm}" + label + "风险点", "{gov}", sub}},
		acc:    []string{"other_injury"}, radius: [2]float64{50, 300},
		factors: []string{label + "相关安全风险"},
	}
}

// initInputs sorts every LS and LEC input combination by the grade the grader gives it, so
// that a unit's inputs can be drawn for its intended grade.
func (g *Generator) initInputs() error {
	add := func(m int, a riskmap.Assessment) error {
		res, err := g.grader.Evaluate(a, "")
		if err != nil {
			return err
		}
		if rk := res.Grade.Rank(); rk > 0 {
			g.inputs[m][rk-1] = append(g.inputs[m][rk-1], a)
		}
		return nil
	}
	for l := 1; l <= 5; l++ {
		for s := 1; s <= 5; s++ {
			if err := add(0, riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: l, Severity: s}); err != nil {
				return err
			}
		}
	}
	for _, l := range riskmap.LECLikelihoods {
		for _, e := range riskmap.LECExposures {
			for _, c := range riskmap.LECConsequences {
				if err := add(1, riskmap.Assessment{Method: riskmap.MethodLEC, L: l, E: e, C: c}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// NewRand returns the random source the generator uses for a seed: PCG, seeded from it.
func NewRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x5eed_c0de_2026))
}

// Units streams n synthetic units for a seed, coded SYN<seed>-<i> (i from 1), all approved
// and with their assessment inputs set but not graded: the caller grades them. Each call of
// the sequence starts over, and the first k units are the same whatever n is.
func (g *Generator) Units(seed int64, n int) iter.Seq[*riskmap.Unit] {
	return func(yield func(*riskmap.Unit) bool) {
		r := NewRand(seed)
		st := &state{}
		prefix := "SYN" + strconv.FormatInt(seed, 10) + "-"
		for i := 1; i <= n; i++ {
			st.code = strconv.AppendInt(append(st.code[:0], prefix...), int64(i), 10)
			kind := g.pickKind(r)
			u := g.make(r, st, st.code, g.pickCat(r, kind), kind)
			if !yield(u) {
				return
			}
		}
	}
}

// Units is New(regions, cat, nil).Units(seed, n): synthetic units graded for the default
// bands. It yields nothing when New would fail (no region with a geometry, no category);
// callers that want the reason, or the deployment's own thresholds, use New.
func Units(seed int64, n int, regions []*riskmap.Region, cat *riskmap.Catalog) iter.Seq[*riskmap.Unit] {
	g, err := New(regions, cat, nil)
	if err != nil {
		return func(func(*riskmap.Unit) bool) {}
	}
	return g.Units(seed, n)
}

// Unit makes one unit with the given code. Spec may fix its category and geometry kind; a
// kind the category never has is replaced by one it has.
func (g *Generator) Unit(r *rand.Rand, code string, s Spec) (*riskmap.Unit, error) {
	kind := -1
	switch s.Kind {
	case KindAny:
	case KindPoint, KindLine, KindArea:
		kind = int(s.Kind) - 1
	default:
		return nil, riskmap.Errorf(riskmap.EINVALID, "合成数据：未知的几何类型 %d", s.Kind)
	}
	if s.Category == "" {
		if kind < 0 || g.kindTotal[kind] == 0 {
			kind = g.pickKind(r)
		}
		return g.make(r, &state{}, []byte(code), g.pickCat(r, kind), kind), nil
	}
	ci, ok := g.catIdx[s.Category]
	if !ok {
		return nil, riskmap.Errorf(riskmap.EINVALID, "合成数据：未知的行业领域 %q", s.Category)
	}
	return g.make(r, &state{}, []byte(code), ci, kind), nil
}

// CodePrefix is the register-code abbreviation of a category, e.g. WHP for
// hazardous_chemicals (CJ-WHP-0001 in the demo city).
func CodePrefix(category string) string {
	for i := range specs {
		if specs[i].code == category {
			return specs[i].abbr
		}
	}
	s := strings.ToUpper(strings.ReplaceAll(category, "_", ""))
	if len(s) > 6 {
		s = s[:6]
	}
	return s
}

// Places returns the codes of the regions units are placed in, in code order.
func (g *Generator) Places() []string {
	out := make([]string, len(g.places))
	for i, p := range g.places {
		out[i] = p.code
	}
	return out
}

// PickPlace draws the code of a place, weighted by population.
func (g *Generator) PickPlace(r *rand.Rand) string {
	return g.places[pick(r, g.popCum)].code
}

// PointIn draws a point inside the place with the code.
func (g *Generator) PointIn(r *rand.Rand, code string) (orb.Point, error) {
	i, ok := g.placeIdx[code]
	if !ok {
		return orb.Point{}, riskmap.Errorf(riskmap.ENOTFOUND, "合成数据：没有地点 %q", code)
	}
	return g.places[i].point(r), nil
}

// AreaIn draws a simple polygon of about radius metres inside the place with the code.
func (g *Generator) AreaIn(r *rand.Rand, code string, radius float64) (orb.Polygon, error) {
	i, ok := g.placeIdx[code]
	if !ok {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "合成数据：没有地点 %q", code)
	}
	return g.places[i].area(r, radius, nil), nil
}

// pick returns the index whose cumulative weight first exceeds a uniform draw.
func pick(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	i := sort.SearchFloat64s(cum, x)
	for i < len(cum)-1 && cum[i] <= x {
		i++
	}
	return min(i, len(cum)-1)
}

func (g *Generator) pickKind(r *rand.Rand) int {
	var cum [3]float64
	sum := 0.0
	for k := range 3 {
		if g.kindTotal[k] > 0 {
			sum += kindShare[k]
		}
		cum[k] = sum
	}
	return pick(r, cum[:])
}

func (g *Generator) pickCat(r *rand.Rand, kind int) int {
	return pick(r, g.kindCum[kind])
}

// state is scratch space reused across the units of one sequence.
type state struct {
	code []byte
	buf  []byte
	pts  []orb.Point
}

// make builds one unit of category ci; kind < 0 (or one the category lacks) picks one of the
// category's kinds by its weights.
func (g *Generator) make(r *rand.Rand, st *state, code []byte, ci int, kind int) *riskmap.Unit {
	cc := g.cats[ci]
	s := cc.spec
	if kind < 0 || len(cc.tmpls[kind]) == 0 {
		var cum [3]float64
		sum := 0.0
		for k := range 3 {
			if len(cc.tmpls[k]) > 0 {
				sum += s.weight[k]
			}
			cum[k] = sum
		}
		kind = pick(r, cum[:])
	}
	var pl *place
	if s.rural {
		pl = &g.places[pick(r, g.areaCum)]
	} else {
		pl = &g.places[pick(r, g.popCum)]
	}

	var vals [nSlots]string
	vals[sCity], vals[sCityFull] = g.city, g.cityFull
	vals[sTown], vals[sTownFull] = pl.town, pl.townFull
	vals[sComm], vals[sCommFull], vals[sGov], vals[sCommGov] = pl.comm, pl.commFull, pl.gov, pl.commGov
	vals[sBrand] = brands[r.IntN(len(brands))]
	ri := r.IntN(len(roads))
	vals[sRoad] = roads[ri]
	vals[sRoad2] = roads[(ri+1+r.IntN(len(roads)-1))%len(roads)]
	vals[sRiver] = rivers[r.IntN(len(rivers))]
	vals[sMtn] = mountains[r.IntN(len(mountains))]
	vals[sEstate] = estates[r.IntN(len(estates))]
	vals[sProj] = projects[r.IntN(len(projects))]
	vals[sN] = strconv.Itoa(1 + r.IntN(99))
	vals[sM] = strconv.Itoa(1 + r.IntN(20))
	vals[sCn] = numeralsZh[r.IntN(len(numeralsZh))]
	vals[sDn] = pipeDN[r.IntN(len(pipeDN))]
	vals[sKv] = voltages[r.IntN(len(voltages))]

	t := &cc.tmpls[kind][r.IntN(len(cc.tmpls[kind]))]
	u := &riskmap.Unit{Category: cc.cat.Code, SubCategory: t.sub, RegionCode: pl.code,
		ResponsibleDepartment: cc.cat.Department, Status: riskmap.StatusApproved}

	// All of the unit's own text goes into one string, sliced into fields: one allocation
	// instead of six, which matters at a million units.
	var ends [6]int
	b := append(st.buf[:0], code...)
	ends[0] = len(b)
	b = fill(b, t.name, &vals)
	ends[1] = len(b)
	b = fill(b, t.unit, &vals)
	ends[2] = len(b)
	b = g.address(r, b, pl, kind, &vals)
	ends[3] = len(b)
	b = factors(r, b, s)
	ends[4] = len(b)
	b = phone(r, b)
	ends[5] = len(b)
	st.buf = b
	text := string(b)
	u.Code, u.Name, u.ResponsibleUnit = text[:ends[0]], text[ends[0]:ends[1]], text[ends[1]:ends[2]]
	u.Address, u.MajorRiskFactors, u.ContactPhone = text[ends[2]:ends[3]], text[ends[3]:ends[4]], text[ends[4]:ends[5]]

	// Grade first, then inputs that give it.
	gi := pick(r, cc.gradeCum[:])
	m := 0
	if r.Float64() < s.lec {
		m = 1
	}
	inputGrade := gi
	if gi == 0 && r.Float64() < directShare {
		reasons := s.reasons
		if len(reasons) == 0 || r.IntN(3) == 0 {
			reasons = generalReasons
		}
		u.DirectMajorReason = reasons[r.IntN(len(reasons))]
		inputGrade = 1 // scored orange, made red by the reason
	}
	u.Assessment = g.drawInputs(r, m, inputGrade)
	if s.mhs > 0 && r.Float64() < s.mhs {
		// Level 1 is the most dangerous; higher grades get lower levels.
		lvl := min(4, 1+gi+r.IntN(2))
		u.MajorHazardSource = &riskmap.MajorHazardSource{Level: lvl}
	}
	nAcc := 0
	if len(cc.acc) > 0 {
		nAcc = 1
		for _, p := range []float64{0.6, 0.3} {
			if nAcc < len(cc.acc) && r.Float64() < p {
				nAcc++
			}
		}
	}
	// Accident types and the five control groups share one backing array too.
	var counts [5]int
	nSpecific := controlCounts(r, cc, &counts)
	total := nAcc
	for _, c := range counts {
		total += c
	}
	all := make([]string, 0, total)
	if nAcc > 0 {
		all = append(all, cc.acc[0])
		if others := cc.acc[1:]; len(others) > 0 {
			start := r.IntN(len(others))
			for i := 1; i < nAcc; i++ {
				all = append(all, others[(start+i-1)%len(others)])
			}
		}
		u.AccidentTypes = all[:nAcc:nAcc]
	}
	u.Controls = controls(r, cc, all, &counts, nSpecific)
	u.ContactPerson = g.people[r.IntN(len(g.people))]
	u.InfluenceRadiusM = influence(r, s.radius, gi)
	u.AssessedBy = assessors[r.IntN(len(assessors))]
	times := new([2]time.Time)
	times[0] = reference.Add(-time.Duration(r.IntN(540))*24*time.Hour +
		time.Duration(9*3600+r.IntN(8*3600))*time.Second).UTC()
	times[1] = g.grader.ReviewDue(riskmap.Grades[gi], times[0])
	u.AssessedAt, u.NextReviewDue = &times[0], &times[1]

	switch kind {
	case kPoint:
		u.Geometry = pl.point(r)
	case kLine:
		length := s.lineLen[0] + (s.lineLen[1]-s.lineLen[0])*r.Float64()
		u.Geometry = pl.line(r, length, st.pts)
	default:
		radius := s.areaR[0] + (s.areaR[1]-s.areaR[0])*r.Float64()
		u.Geometry = pl.area(r, radius, st.pts)
	}
	return u
}

// drawInputs draws assessment inputs of method m (0 LS, 1 LEC) for grade index gi; if the
// method cannot reach that grade under the deployment's bands, the other method is tried,
// then the nearest grade.
func (g *Generator) drawInputs(r *rand.Rand, m, gi int) riskmap.Assessment {
	for d := 0; d < 4; d++ {
		for _, gg := range []int{gi + d, gi - d} {
			if gg < 0 || gg > 3 {
				continue
			}
			for _, mm := range []int{m, 1 - m} {
				if list := g.inputs[mm][gg]; len(list) > 0 {
					return list[r.IntN(len(list))]
				}
			}
		}
	}
	return riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 1, Severity: 1}
}

func (g *Generator) address(r *rand.Rand, b []byte, pl *place, kind int, vals *[nSlots]string) []byte {
	b = append(b, g.cityFull...)
	if pl.townFull != pl.commFull {
		b = append(b, pl.townFull...)
	}
	b = append(b, pl.commFull...)
	switch {
	case kind == kLine:
		b = append(b, "境内"...)
	case kind == kArea:
		b = append(b, "境内"...)
		if r.IntN(2) == 0 {
			b = append(b, vals[sMtn]...)
			b = append(b, "一带"...)
		}
	case pl.village:
		b = strconv.AppendInt(b, int64(1+r.IntN(12)), 10)
		b = append(b, "组"...)
	default:
		b = append(b, vals[sRoad]...)
		b = strconv.AppendInt(b, int64(1+r.IntN(399)), 10)
		b = append(b, "号"...)
	}
	return b
}

func factors(r *rand.Rand, b []byte, s *spec) []byte {
	if len(s.factors) == 0 {
		return b
	}
	n := min(len(s.factors), 1+r.IntN(2))
	start := r.IntN(len(s.factors))
	for i := range n {
		if i > 0 {
			b = append(b, "；"...)
		}
		b = append(b, s.factors[(start+i)%len(s.factors)]...)
	}
	return b
}

// controlCounts draws how many measures each group gets, and how many of the engineering
// ones are specific to the category.
func controlCounts(r *rand.Rand, cc *compiled, counts *[5]int) int {
	eng := cc.spec.eng
	nSpecific := 0
	if len(eng) > 0 {
		nSpecific = 1 + r.IntN(min(2, len(eng)))
	}
	counts[0] = nSpecific + min(1+r.IntN(2), len(cc.pools[0]))
	counts[1] = min(2+r.IntN(2), len(cc.pools[1]))
	counts[2] = min(1+r.IntN(2), len(cc.pools[2]))
	counts[3] = min(1+r.IntN(2), len(cc.pools[3]))
	counts[4] = min(1+r.IntN(2), len(cc.pools[4]))
	return nSpecific
}

// controls appends the measures to all and slices the five groups out of it, each capped so
// that appending to one group cannot overwrite the next.
func controls(r *rand.Rand, cc *compiled, all []string, counts *[5]int, nSpecific int) riskmap.Controls {
	var groups [5][]string
	eng := cc.spec.eng
	for i := range counts {
		from := len(all)
		n := counts[i]
		if i == 0 && nSpecific > 0 {
			start := r.IntN(len(eng))
			for j := range nSpecific {
				all = append(all, eng[(start+j)%len(eng)])
			}
			n -= nSpecific
		}
		if pool := cc.pools[i]; len(pool) > 0 && n > 0 {
			start := r.IntN(len(pool))
			for j := range n {
				all = append(all, pool[(start+j)%len(pool)])
			}
		}
		groups[i] = all[from:len(all):len(all)]
	}
	return riskmap.Controls{Engineering: groups[0], Management: groups[1], Training: groups[2],
		PPE: groups[3], Emergency: groups[4]}
}

// phone makes a fictitious number: a mobile prefix and eight digits, or a 0877 (玉溪) landline.
func phone(r *rand.Rand, b []byte) []byte {
	p := phonePrefixes[r.IntN(len(phonePrefixes))]
	b = append(b, p...)
	digits := 8
	if strings.HasSuffix(p, "-") {
		b = append(b, '6')
		digits = 6
	}
	for range digits {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return b
}

// influence is the influence radius in metres, larger for higher grades, rounded to 10 m.
func influence(r *rand.Rand, rng [2]float64, gi int) float64 {
	lo := [4]float64{0.7, 0.45, 0.2, 0}[gi]
	f := lo + 0.3*r.Float64()
	v := rng[0] + (rng[1]-rng[0])*f
	return math.Round(v/10) * 10
}
