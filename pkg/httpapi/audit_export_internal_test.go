package httpapi

import (
	"net/url"
	"testing"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// FuzzAuditFilter: whatever query a client sends to the audit log or its export, the
// filter is read or refused with EINVALID naming the parameters in Chinese; the page size
// stays within 1 to 1000.
func FuzzAuditFilter(f *testing.F) {
	for _, seed := range []string{"", "action=user.&outcome=ok", "since=2026-11-26T08:00:00Z&until=x", "limit=0", "limit=1000&before=5",
		"outcome=maybe", "before=-1", "format=xlsx", "%zz", "actor=%E6%9D%8E"} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, raw string, paging bool) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		af, err := auditFilter(q, paging)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("%q: %v", raw, err)
			}
			for _, p := range riskmap.ErrorFields(err) {
				if !utf8.ValidString(p.Message) || p.Message == "" {
					t.Fatalf("%q: message %q", raw, p.Message)
				}
			}
			return
		}
		if af.Limit < 1 || af.Limit > 1000 || af.BeforeID < 0 {
			t.Fatalf("%q: %+v", raw, af)
		}
		if !paging && (af.BeforeID != 0 || af.Limit != 100) {
			t.Fatalf("an export read paging parameters: %q %+v", raw, af)
		}
	})
}

func TestAuditActionLabel(t *testing.T) {
	for code, want := range map[string]string{"unit.approve": "审核通过", "user.update": "修改用户", "user.rename": "用户：user.rename",
		"publication.create": "发布", "something": "something"} {
		if got := auditActionLabel(code); got != want {
			t.Errorf("auditActionLabel(%q) = %q, want %q", code, got, want)
		}
	}
}
