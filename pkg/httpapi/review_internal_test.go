package httpapi

import (
	"testing"

	"riskmap/pkg/riskmap"
)

// FuzzReviewBody: any body of a review action is a note or a 400, never a panic.
func FuzzReviewBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"comment":"同意"}`, `{"reason":"企业已搬迁"}`, `{"reason":null}`,
		`{"downgrade_reason":"已整改","comment":" x "}`, `{"x":1}`, `[]`, `"reason"`, `{"comment":1}`, `{} {}`, "{\"reason\":\"\xff\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, action := range []string{"approve", "reject", "retire", "submit"} {
			n, err := parseReviewBody(action, []byte(body))
			if err != nil {
				if riskmap.ErrorCode(err) != riskmap.EINVALID {
					t.Fatalf("%q: want invalid, got %v", body, err)
				}
				continue
			}
			if body == "" && (n.Comment != "" || n.Reason != "") {
				t.Fatalf("an empty body has no note: %+v", n)
			}
		}
	})
}
