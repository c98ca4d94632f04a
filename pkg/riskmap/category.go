package riskmap

// Category is one industry field (行业领域) of the register. The taxonomy is data: a
// deployment edits it in its config file.
type Category struct {
	Code       string `json:"code"`
	Label      string `json:"label"`
	Group      string `json:"group"`
	GroupLabel string `json:"group_label"`
	// Department is the default responsible department (监管部门) of units in the category.
	Department string `json:"department"`
	// SubCategories are suggestions; a unit's sub_category is free text.
	SubCategories []string `json:"sub_categories,omitempty"`
}

// CategoryGroup is one of the four groups of DOMAIN.md.
type CategoryGroup struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Catalog is the taxonomy in force: categories and accident types, looked up by code.
type Catalog struct {
	Groups        []CategoryGroup
	Categories    []Category
	AccidentTypes []AccidentType

	byCode     map[string]*Category
	accByCode  map[string]*AccidentType
	groupIndex map[string]int
}

// NewCatalog indexes the categories and accident types. It checks that codes are unique and
// every category names a known group.
func NewCatalog(groups []CategoryGroup, cats []Category, acc []AccidentType) (*Catalog, error) {
	c := &Catalog{Groups: groups, Categories: cats, AccidentTypes: acc,
		byCode: map[string]*Category{}, accByCode: map[string]*AccidentType{}, groupIndex: map[string]int{}}
	for i, g := range groups {
		if g.Code == "" || g.Label == "" {
			return nil, Errorf(EINVALID, "第 %d 个行业大类：代码和名称必填", i+1)
		}
		c.groupIndex[g.Code] = i
	}
	for i := range cats {
		cat := &c.Categories[i]
		if cat.Code == "" || cat.Label == "" {
			return nil, Errorf(EINVALID, "第 %d 个行业领域：代码和名称必填", i+1)
		}
		if _, dup := c.byCode[cat.Code]; dup {
			return nil, Errorf(EINVALID, "行业领域 %q 重复", cat.Code)
		}
		gi, ok := c.groupIndex[cat.Group]
		if !ok {
			return nil, Errorf(EINVALID, "行业领域 %q：未知的大类 %q", cat.Code, cat.Group)
		}
		if cat.GroupLabel == "" {
			cat.GroupLabel = groups[gi].Label
		}
		c.byCode[cat.Code] = cat
	}
	for i := range c.AccidentTypes {
		a := &c.AccidentTypes[i]
		if _, dup := c.accByCode[a.Code]; dup {
			return nil, Errorf(EINVALID, "事故类型 %q 重复", a.Code)
		}
		c.accByCode[a.Code] = a
	}
	return c, nil
}

// Category returns the category with the code.
func (c *Catalog) Category(code string) (*Category, bool) {
	cat, ok := c.byCode[code]
	return cat, ok
}

// AccidentType returns the accident type with the code.
func (c *Catalog) AccidentType(code string) (*AccidentType, bool) {
	a, ok := c.accByCode[code]
	return a, ok
}

// AccidentType is one class of GB 6441 (企业职工伤亡事故分类).
type AccidentType struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}
