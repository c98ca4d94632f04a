package unitcodec

import (
	"strconv"
	"strings"

	"riskmap/pkg/riskmap"
)

// The public texts of a unit (riskmap.PublicTextFields) follow the fixed columns of every
// unit table, in the order of riskmap.PublicTextFields, as text columns of the same name.
// These helpers write them into the stores' static SQL once, at start, and bind them.

// PublicColumns returns ", " followed by the public text columns, each after prefix
// ("excluded.", "w.", or ""), or "" when there are none.
func PublicColumns(prefix string) string {
	var b strings.Builder
	for _, f := range riskmap.PublicTextFields {
		b.WriteString(", " + prefix + f.Name)
	}
	return b.String()
}

// PublicAssignments returns ", name = $first, … " for the public texts, numbering from
// first, or ", name = ?, …" when first is 0.
func PublicAssignments(first int) string {
	var b strings.Builder
	for i, f := range riskmap.PublicTextFields {
		b.WriteString(", " + f.Name + " = ")
		if first == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("$" + strconv.Itoa(first+i))
		}
	}
	return b.String()
}

// PublicCopies returns ", name = prefix.name, …" for the public texts: the SET list of an
// upsert (prefix "excluded").
func PublicCopies(prefix string) string {
	var b strings.Builder
	for _, f := range riskmap.PublicTextFields {
		b.WriteString(", " + f.Name + " = " + prefix + "." + f.Name)
	}
	return b.String()
}

// PublicPlaceholders returns ", $first, $first+1 …" for the public texts, or ", ?, ?…"
// when first is 0.
func PublicPlaceholders(first int) string {
	var b strings.Builder
	for i := range riskmap.PublicTextFields {
		if first == 0 {
			b.WriteString(", ?")
		} else {
			b.WriteString(", $" + strconv.Itoa(first+i))
		}
	}
	return b.String()
}

// AppendPublicValues appends the public texts of t to args, in column order.
func AppendPublicValues(args []any, t *riskmap.PublicTexts) []any {
	for _, f := range riskmap.PublicTextFields {
		args = append(args, *f.Of(t))
	}
	return args
}

// AppendPublicTargets appends pointers to the public texts of t to dest, for Scan.
func AppendPublicTargets(dest []any, t *riskmap.PublicTexts) []any {
	for _, f := range riskmap.PublicTextFields {
		dest = append(dest, f.Of(t))
	}
	return dest
}
