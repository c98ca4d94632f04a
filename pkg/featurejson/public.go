package featurejson

import "riskmap/pkg/riskmap"

// PublicEncoder returns the encoder of the public map's Features: each unit with its
// category's label from cat and its region's name from regions.
func PublicEncoder(cat *riskmap.Catalog, regions []*riskmap.Region) func([]byte, *riskmap.Unit) ([]byte, error) {
	names := make(map[string]string, len(regions))
	for _, r := range regions {
		names[r.Code] = r.Name
	}
	return func(dst []byte, u *riskmap.Unit) ([]byte, error) {
		label := u.Category
		if c, ok := cat.Category(u.Category); ok {
			label = c.Label
		}
		return AppendPublicFeature(dst, u, label, names[u.RegionCode]), nil
	}
}

// Encoder returns the encoder of the internal Features the register's index keeps.
func Encoder() func([]byte, *riskmap.Unit) ([]byte, error) {
	return func(dst []byte, u *riskmap.Unit) ([]byte, error) { return AppendFeature(dst, u), nil }
}
