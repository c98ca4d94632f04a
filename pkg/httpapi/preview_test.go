package httpapi_test

import (
	"strings"
	"testing"
)

// TestPublicationPreview checks that an admin sees what a publication would change before
// making it, and that looking writes nothing.
func TestPublicationPreview(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			first := e.do("GET", "/api/v1/publications/preview", "")
			if first.code != 200 {
				t.Fatalf("preview: %d %s", first.code, first.body)
			}
			if m := first.json(t); m["from"].(float64) != 0 || m["to"].(float64) != 0 {
				t.Errorf("a first preview compares nothing published with now: %v", m)
			}
			if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			e.createShape(t, "PV-NEW", `{"type":"Point","coordinates":[102.912,24.671]}`, true)
			e.createShape(t, "PV-DRAFT", `{"type":"Point","coordinates":[102.913,24.671]}`, false)
			r := e.do("GET", "/api/v1/publications/preview", "")
			if r.code != 200 {
				t.Fatalf("preview: %d %s", r.code, r.body)
			}
			m := r.json(t)
			added := m["added"].([]any)
			if m["from"].(float64) != 1 || len(added) != 1 || added[0].(map[string]any)["code"] != "PV-NEW" {
				t.Errorf("preview after publication 1: %s", r.body)
			}
			// Looking wrote nothing: publication 1 is still the latest.
			if l := e.do("GET", "/public/api/v1/publication", "").json(t); l["number"].(float64) != 1 {
				t.Errorf("latest publication after a preview: %v", l)
			}
			// Only those who may publish may look.
			if r := e.do("GET", "/api/v1/publications/preview", "", e.as("expert1")...); r.code != 403 {
				t.Errorf("an expert's preview: %d", r.code)
			}
		})
	}
}

// TestPublicFollowsPublications: the public view moves to each new publication by its
// change — a unit approved since shows, the units before stay — and what changed is the
// publications' diff.
func TestPublicFollowsPublications(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			public := func() string {
				t.Helper()
				r := e.do("GET", "/public/api/v1/units?q=PF-&limit=100", "")
				if r.code != 200 {
					t.Fatalf("public list: %d %s", r.code, r.body)
				}
				return string(r.body)
			}
			e.createShape(t, "PF-A", `{"type":"Point","coordinates":[102.912,24.671]}`, true)
			if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			if l := public(); !strings.Contains(l, "公开 PF-A") {
				t.Fatalf("publication 1 on the public map: %s", l)
			}
			e.createShape(t, "PF-C", `{"type":"Point","coordinates":[102.913,24.672]}`, true)
			if l := public(); strings.Contains(l, "公开 PF-C") {
				t.Fatalf("an unpublished unit on the public map: %s", l)
			}
			if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			if l := public(); !strings.Contains(l, "公开 PF-A") || !strings.Contains(l, "公开 PF-C") {
				t.Fatalf("publication 2 on the public map: %s", l)
			}
			d := e.do("GET", "/api/v1/publications/1/diff/2", "")
			added, _ := d.json(t)["added"].([]any)
			if d.code != 200 || len(added) != 1 || added[0].(map[string]any)["code"] != "PF-C" {
				t.Fatalf("diff 1→2: %d %s", d.code, d.body)
			}
			back := e.do("GET", "/api/v1/publications/2/diff/1", "")
			removed, _ := back.json(t)["removed"].([]any)
			if back.code != 200 || len(removed) != 1 || removed[0].(map[string]any)["code"] != "PF-C" || len(back.json(t)["added"].([]any)) != 0 {
				t.Fatalf("diff 2→1: %d %s", back.code, back.body)
			}
			same := e.do("GET", "/api/v1/publications/2/diff/2", "").json(t)
			if len(same["added"].([]any))+len(same["removed"].([]any))+len(same["changed"].([]any)) != 0 {
				t.Fatalf("diff 2→2: %v", same)
			}
			if r := e.do("GET", "/api/v1/publications/1/diff/9", ""); r.code != 404 {
				t.Fatalf("diff to a publication that does not exist: %d %s", r.code, r.body)
			}
		})
	}
}
