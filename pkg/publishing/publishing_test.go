package publishing_test

import (
	"strings"
	"testing"

	"riskmap/pkg/publishing"
	"riskmap/pkg/riskmap"
)

func TestCheckNote(t *testing.T) {
	for _, tc := range []struct {
		name string
		note string
		ok   bool
	}{
		{"OK", "", true},
		{"OKAtTheLimit", strings.Repeat("长", publishing.MaxNoteLen), true},
		{"ErrTooLong", strings.Repeat("长", publishing.MaxNoteLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := publishing.CheckNote(tc.note)
			if tc.ok != (err == nil) || (err != nil && riskmap.ErrorCode(err) != riskmap.EINVALID) {
				t.Fatalf("CheckNote of %d characters: %v", len([]rune(tc.note)), err)
			}
		})
	}
}
