package riskmap

// Grade is one of the four risk grades of the four-colour map.
type Grade string

// The four grades, from the highest.
const (
	GradeRed    Grade = "red"    // 重大风险
	GradeOrange Grade = "orange" // 较大风险
	GradeYellow Grade = "yellow" // 一般风险
	GradeBlue   Grade = "blue"   // 低风险
)

// Grades lists the grades from the highest to the lowest.
var Grades = []Grade{GradeRed, GradeOrange, GradeYellow, GradeBlue}

// Valid reports whether g is one of the four grades.
func (g Grade) Valid() bool { return g.Rank() > 0 }

// Rank is 1 for red (the highest) to 4 for blue, 0 for an unknown grade.
func (g Grade) Rank() int {
	switch g {
	case GradeRed:
		return 1
	case GradeOrange:
		return 2
	case GradeYellow:
		return 3
	case GradeBlue:
		return 4
	}
	return 0
}

// Higher reports whether g is a higher (more severe) grade than o. Any valid grade is
// higher than an invalid one.
func (g Grade) Higher(o Grade) bool {
	if !g.Valid() {
		return false
	}
	return !o.Valid() || g.Rank() < o.Rank()
}

// Label is the Chinese name of the grade, the same everywhere in the product.
func (g Grade) Label() string {
	switch g {
	case GradeRed:
		return "重大风险"
	case GradeOrange:
		return "较大风险"
	case GradeYellow:
		return "一般风险"
	case GradeBlue:
		return "低风险"
	}
	return ""
}

// ShortLabel is the two-character name used in legends: 重大, 较大, 一般, 低.
func (g Grade) ShortLabel() string {
	switch g {
	case GradeRed:
		return "重大"
	case GradeOrange:
		return "较大"
	case GradeYellow:
		return "一般"
	case GradeBlue:
		return "低"
	}
	return ""
}

// ColourName is the Chinese colour name: 红, 橙, 黄, 蓝.
func (g Grade) ColourName() string {
	switch g {
	case GradeRed:
		return "红"
	case GradeOrange:
		return "橙"
	case GradeYellow:
		return "黄"
	case GradeBlue:
		return "蓝"
	}
	return ""
}

// ParseGrade accepts the English code, the Chinese label, the short label or the colour
// name.
func ParseGrade(s string) (Grade, bool) {
	for _, g := range Grades {
		if s == string(g) || s == g.Label() || s == g.ShortLabel() || s == g.ColourName() {
			return g, true
		}
	}
	return "", false
}
