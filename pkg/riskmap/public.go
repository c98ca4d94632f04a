package riskmap

// PublicTexts are the texts of a unit written for the public map (公开信息). They are part
// of the unit's revision and go through review with it; the approved register and every
// publication keep them; /public shows them. The stores (a column of the same name in
// risk_units, approved_units and published_units), GeoJSON (a property of the same name,
// in the internal and the public Feature) and Validate all walk PublicTextFields, so a new
// public text is a field here, its entry in PublicTextFields and one migration per store.
type PublicTexts struct {
	// PublicLabel (公开名称) names the unit for citizens, e.g. "户外广告牌（抚仙路东段）".
	// It never defaults to the internal name: "" shows none.
	PublicLabel string `json:"public_label"`
}

// PublicTextField describes one field of PublicTexts.
type PublicTextField struct {
	// Name is the column in every table that keeps units and the Feature property.
	Name string
	// MaxRunes is the longest text accepted.
	MaxRunes int
	// Of points to the field in t.
	Of func(t *PublicTexts) *string
}

// PublicTextFields lists the fields of PublicTexts in the order they are stored and written.
var PublicTextFields = []PublicTextField{
	{Name: "public_label", MaxRunes: MaxNameLen, Of: func(t *PublicTexts) *string { return &t.PublicLabel }},
}

// check adds the problems of the unit's public texts to p. They are optional.
func (t *PublicTexts) check(p *Problems) {
	for _, f := range PublicTextFields {
		checkText(p, f.Name, *f.Of(t), f.MaxRunes, false)
	}
}
