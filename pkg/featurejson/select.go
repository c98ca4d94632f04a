package featurejson

import (
	"bytes"
	"reflect"
	"strings"
)

// PropertyNames are the keys of a unit Feature's properties, PublicPropertyNames those of
// the public Feature's, in the order they are written: what a properties= selection may name.
var (
	PropertyNames       = jsonNames(reflect.TypeFor[Properties]())
	PublicPropertyNames = jsonNames(reflect.TypeFor[PublicProperties]())
)

// jsonNames lists the JSON keys of a struct's fields, embedded structs' fields in place.
func jsonNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			out = append(out, jsonNames(f.Type)...)
		case name != "":
			out = append(out, name)
		}
	}
	return out
}

// propertiesKey starts the properties object of a Feature as Encode and EncodePublic write
// it: the last member of the Feature.
var propertiesKey = []byte(`,"properties":{`)

// AppendSelected appends feature (a Feature as Encode or EncodePublic wrote it, perhaps
// redated) with only the properties keep names, in their order in the feature. The type,
// id and geometry are kept. A feature of another shape is appended as it is.
func AppendSelected(dst, feature []byte, keep map[string]bool) []byte {
	i := bytes.Index(feature, propertiesKey)
	if i < 0 {
		return append(dst, feature...)
	}
	start := len(dst)
	body := i + len(propertiesKey)
	dst = append(dst, feature[:body]...)
	first := true
	// Once every kept property is written the rest (mostly the long assessment and
	// explanation documents) need not be read.
	for p, found := body, 0; found < len(keep) && p < len(feature) && feature[p] == '"'; {
		keyEnd := skipString(feature, p)
		valEnd := skipValue(feature, keyEnd+1) // after the colon
		if keyEnd < 0 || valEnd < 0 {
			return append(dst[:start], feature...) // not what the encoder writes
		}
		if keep[string(feature[p+1:keyEnd-1])] {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, feature[p:valEnd]...)
			first = false
			found++
		}
		p = valEnd
		if p < len(feature) && feature[p] == ',' {
			p++
		}
	}
	return append(dst, "}}"...)
}

// skipString returns the index just after the JSON string that starts at b[i] ('"'), or -1.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		// The quote ends the string unless an odd number of backslashes escapes it.
		bs := 0
		for bs < j-i-1 && b[j-1-bs] == '\\' {
			bs++
		}
		if bs%2 == 0 {
			return j + 1
		}
		j++
	}
	return -1
}

// skipValue returns the index just after the JSON value that starts at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				k := skipString(b, j)
				if k < 0 {
					return -1
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // a number, true, false or null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			j++
		}
		return j
	}
}
