package unitcodec

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"riskmap/pkg/riskmap"
)

// The dynamic columns of a unit (sql/*/…_dynamic_grades.sql) follow the public texts in
// every statement of risk_units that writes or reads a whole unit: inherent_grade (NULL
// in a row from before them: its grade is its inherent grade), conditions (JSON, NULL for
// none), open_hazards and identified_at. These helpers write them into the stores' static
// SQL once, at start.
var dynamicColumns = []string{"inherent_grade", "conditions", "open_hazards", "identified_at"}

// NumDynamic is the number of dynamic columns.
var NumDynamic = len(dynamicColumns)

// DynamicColumns returns ", " followed by the dynamic columns, each after prefix.
func DynamicColumns(prefix string) string {
	var b strings.Builder
	for _, c := range dynamicColumns {
		b.WriteString(", " + prefix + c)
	}
	return b.String()
}

// DynamicAssignments returns ", name = $first, …" for the dynamic columns, or
// ", name = ?, …" when first is 0.
func DynamicAssignments(first int) string {
	var b strings.Builder
	for i, c := range dynamicColumns {
		b.WriteString(", " + c + " = ")
		if first == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("$" + strconv.Itoa(first+i))
		}
	}
	return b.String()
}

// DynamicPlaceholders returns ", $first, …" for the dynamic columns, or ", ?, …" when first
// is 0.
func DynamicPlaceholders(first int) string {
	var b strings.Builder
	for i := range dynamicColumns {
		if first == 0 {
			b.WriteString(", ?")
		} else {
			b.WriteString(", $" + strconv.Itoa(first+i))
		}
	}
	return b.String()
}

// EncodeConditions is the stored JSON of conditions: "" (NULL) for none.
func EncodeConditions(cs []riskmap.Condition) string {
	if len(cs) == 0 {
		return ""
	}
	b, err := json.Marshal(cs)
	if err != nil {
		return "" // a Condition has nothing json.Marshal refuses
	}
	return string(b)
}

// DecodeConditions reads stored conditions; "" (NULL) and "[]" are none.
func DecodeConditions(s string) ([]riskmap.Condition, error) {
	if s == "" || s == "null" {
		return nil, nil
	}
	var cs []riskmap.Condition
	if err := json.Unmarshal([]byte(s), &cs); err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, nil
	}
	for i := range cs {
		cs[i].Since = cs[i].Since.UTC()
	}
	return cs, nil
}

// SetDynamic sets the dynamic fields of u from what a store read: inherent "" (NULL) reads
// as u's grade, which must be set already.
func SetDynamic(u *riskmap.Unit, inherent, conditions string, openHazards int, identified *time.Time) error {
	if inherent == "" {
		u.InherentGrade = u.Grade
	} else {
		u.InherentGrade = InternGrade(inherent)
	}
	cs, err := DecodeConditions(conditions)
	if err != nil {
		return err
	}
	u.Conditions, u.OpenHazards, u.IdentifiedAt = cs, openHazards, identified
	return nil
}
