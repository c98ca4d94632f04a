package featurejson

import "riskmap/pkg/riskmap"

// PublicEncoder returns the encoder of the public map's Features: each unit with its
// category's label from cat and its region's name from regions.
func PublicEncoder(cat *riskmap.Catalog, regions []*riskmap.Region) func([]byte, *riskmap.Unit) ([]byte, error) {
	l := newPublicLabels(cat, regions)
	return func(dst []byte, u *riskmap.Unit) ([]byte, error) {
		return AppendPublicFeature(dst, u, l.category(u.Category), l.regions[u.RegionCode]), nil
	}
}

// PublicWriter returns what writes the public Feature of a unit (PublicEncoder's bytes) from
// the facts a public index keeps of it, whose Name is the unit's public label (公开名称):
// a public index keeps no document, every property of the public Feature is among its facts.
func PublicWriter(cat *riskmap.Catalog, regions []*riskmap.Region) func(dst []byte, id int64, f *riskmap.UnitFacts) []byte {
	l := newPublicLabels(cat, regions)
	return func(b []byte, id int64, f *riskmap.UnitFacts) []byte {
		b = appendFeatureStart(b, id, f.Geometry, f.Code)
		// riskmap.PublicTextFields has one field, the public label (TestPublicWriter fails
		// when it gains another, which the facts would then have to keep).
		b = append(b, `,"public_label":`...)
		b = appendString(b, f.Name)
		return appendPublicRest(b, f.Category, l.category(f.Category), f.Grade, f.RegionCode, l.regions[f.RegionCode])
	}
}

// publicLabels are the category labels and region names of the public Feature.
type publicLabels struct {
	cat     *riskmap.Catalog
	regions map[string]string
}

func newPublicLabels(cat *riskmap.Catalog, regions []*riskmap.Region) publicLabels {
	names := make(map[string]string, len(regions))
	for _, r := range regions {
		names[r.Code] = r.Name
	}
	return publicLabels{cat: cat, regions: names}
}

// category is the label of a category, or its code when the catalog does not know it.
func (l publicLabels) category(code string) string {
	if c, ok := l.cat.Category(code); ok {
		return c.Label
	}
	return code
}

// Encoder returns the encoder of the internal Features the register's index keeps.
func Encoder() func([]byte, *riskmap.Unit) ([]byte, error) {
	return func(dst []byte, u *riskmap.Unit) ([]byte, error) { return AppendFeature(dst, u), nil }
}
