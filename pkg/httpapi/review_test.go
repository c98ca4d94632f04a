package httpapi_test

import (
	"slices"
	"strings"
	"testing"
)

// TestReviewDesk: the review desk's rules as a client meets them, on both stores.
func TestReviewDesk(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			e.testReviewDesk(t)
		})
	}
}

// fieldsOf lists the fields an error answer names.
func fieldsOf(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	errObj, _ := r.json(t)["error"].(map[string]any)
	fs, _ := errObj["fields"].([]any)
	for _, f := range fs {
		out = append(out, f.(map[string]any)["field"].(string))
	}
	return out
}

func (e *env) testReviewDesk(t *testing.T) {
	e.t = t
	ifMatch := func(who, v string) []string { return append(e.as(who), "If-Match", `"`+v+`"`) }
	etagOf := func(r resp) string { return strings.Trim(r.header.Get("ETag"), `"`) }
	review := func(id string) map[string]any { return e.do("GET", "/api/v1/units/"+id+"/review", "").json(t) }

	// A unit that is not complete cannot be submitted: one problem per missing item.
	bare := strings.NewReplacer(`"contact_phone":"0877-1234567",`, ``, `"ppe":["防护服"]`, `"ppe":[]`).
		Replace(feature("RD-0", "未填全的单元", 102.91, 24.67, 2, 3))
	r := e.do("POST", "/api/v1/units", bare, e.as("expert1")...)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	incomplete := strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
	if m := review(incomplete)["missing"].([]any); len(m) != 2 {
		t.Fatalf("review lists what is missing: %v", m)
	}
	r = e.do("POST", "/api/v1/units/"+incomplete+"/submit", "", ifMatch("expert1", "1")...)
	if f := fieldsOf(t, r); r.code != 400 || !slices.Equal(f, []string{"controls.ppe", "contact_phone"}) {
		t.Fatalf("an incomplete unit is refused with its missing fields: %d %v", r.code, f)
	}
	sub := strings.Replace(bare, `"code":`, `"status":"submitted","code":`, 1)
	if r := e.do("PUT", "/api/v1/units/"+incomplete, sub, ifMatch("expert1", "1")...); r.code != 400 || len(fieldsOf(t, r)) != 2 {
		t.Fatalf("saving as submitted is refused alike: %d %s", r.code, r.body)
	}

	// An approved, published red unit.
	body := feature("RD-1", "液氨储罐区", 102.91, 24.67, 4, 5)
	r = e.do("POST", "/api/v1/units", body, e.as("expert1")...)
	id := strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
	loc := "/api/v1/units/" + id
	if r := e.do("POST", loc+"/submit", "", ifMatch("expert1", "1")...); r.code != 200 {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/approve", `{"comment":"评估依据充分，同意。"}`, ifMatch("expert2", "2")...); r.code != 200 {
		t.Fatalf("approve: %d %s", r.code, r.body)
	}
	if c := review(id)["comment"]; c != "评估依据充分，同意。" {
		t.Fatalf("the reviewer's comment is kept: %v", c)
	}

	// Saving it unchanged writes nothing: the version stays.
	if r := e.do("PUT", loc, body, ifMatch("expert1", "3")...); r.code != 200 || etagOf(r) != "3" {
		t.Fatalf("an unchanged save keeps version 3: %d %s %s", r.code, r.header.Get("ETag"), r.body)
	}

	// Lowering its grade needs a reason, which the reviewer sees with the old grade and the
	// approved revision.
	lower := strings.Replace(feature("RD-1", "液氨储罐区（已整改）", 102.91, 24.67, 1, 1), `"code":`, `"status":"submitted","code":`, 1)
	if r := e.do("PUT", loc, lower, ifMatch("expert1", "3")...); r.code != 400 || !slices.Contains(fieldsOf(t, r), "downgrade_reason") {
		t.Fatalf("a lowered grade without a reason: %d %s", r.code, r.body)
	}
	lowerWhy := strings.Replace(lower, `"code":`, `"downgrade_reason":"储量减半并加装喷淋","code":`, 1)
	if r := e.do("PUT", loc, lowerWhy, ifMatch("expert1", "3")...); r.code != 200 || etagOf(r) != "4" {
		t.Fatalf("a lowered grade with a reason: %d %s", r.code, r.body)
	}
	rv := review(id)
	if rv["downgrade_reason"] != "储量减半并加装喷淋" || rv["approved_grade"] != "red" {
		t.Fatalf("the review shows the reason and the approved grade: %v", rv)
	}
	if ap, _ := rv["approved"].(map[string]any); ap == nil || ap["properties"].(map[string]any)["name"] != "液氨储罐区" {
		t.Fatalf("the review carries the approved revision to compare: %v", rv["approved"])
	}
	if r := e.do("POST", loc+"/reject", `{"comment":"降级依据不足"}`, ifMatch("expert2", "4")...); r.code != 200 {
		t.Fatalf("reject: %d %s", r.code, r.body)
	}
	if rv := review(id); rv["comment"] != "降级依据不足" || rv["status"] != "draft" {
		t.Fatalf("the rejection's comment is kept: %v", rv)
	}
	if r := e.do("PUT", loc, body, ifMatch("expert1", "5")...); r.code != 200 {
		t.Fatalf("back to red: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/submit", "", ifMatch("expert1", "6")...); r.code != 200 {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/approve", "", ifMatch("expert2", "7")...); r.code != 200 {
		t.Fatalf("approve: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish: %d %s", r.code, r.body)
	}

	// Retiring it is a request with a reason; the unit stays approved and public until
	// another reviewer approves the request.
	if r := e.do("DELETE", loc, "", ifMatch("expert1", "8")...); r.code != 400 || !slices.Contains(fieldsOf(t, r), "reason") {
		t.Fatalf("a retirement without a reason: %d %s", r.code, r.body)
	}
	if r := e.do("DELETE", loc, "不是 JSON", ifMatch("expert1", "8")...); r.code != 400 {
		t.Fatalf("a body that is not JSON: %d %s", r.code, r.body)
	}
	r = e.do("DELETE", loc, `{"reason":"企业已搬迁"}`, ifMatch("expert1", "8")...)
	if r.code != 202 || r.json(t)["properties"].(map[string]any)["status"] != "submitted" {
		t.Fatalf("a retirement request is accepted: %d %s", r.code, r.body)
	}
	rv = review(id)
	if rv["retire_pending"] != true || rv["retire_reason"] != "企业已搬迁" || rv["retire_requested_by"] != "expert1" || rv["can_retire"] != false {
		t.Fatalf("the review shows the pending request: %v", rv)
	}
	if n := e.do("GET", "/api/v1/units?status=submitted&q=RD-1", "").json(t)["numberMatched"]; n != 1.0 {
		t.Fatalf("the request is in the review queue: %v", n)
	}
	if r := e.do("DELETE", loc, `{"reason":"重复申请"}`, ifMatch("expert2", "9")...); r.code != 409 {
		t.Fatalf("a second request while one is pending: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/public/api/v1/units/"+id, "", "Authorization", ""); r.code != 200 {
		t.Fatalf("the unit stays public while its retirement waits: %d", r.code)
	}
	if r := e.do("POST", loc+"/approve", "", ifMatch("expert1", "9")...); r.code != 403 {
		t.Fatalf("the requester may not approve its own request: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/reject", `{"comment":"仍在生产，不予注销"}`, ifMatch("expert2", "9")...); r.code != 200 ||
		r.json(t)["properties"].(map[string]any)["status"] != "approved" {
		t.Fatalf("a rejected request keeps the unit approved: %d %s", r.code, r.body)
	}

	// A department user inside its scope asks too (POST …/retire); an expert approves.
	r = e.do("POST", loc+"/retire", `{"reason":"已关停"}`, ifMatch("yjj", "10")...)
	if r.code != 202 {
		t.Fatalf("a department's request: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/approve", `{"comment":"核实已关停"}`, ifMatch("expert1", "11")...); r.code != 200 ||
		r.json(t)["properties"].(map[string]any)["status"] != "retired" {
		t.Fatalf("approving the request retires the unit: %d %s", r.code, r.body)
	}
	// The audit log tells a request (申请注销) and its approval (同意注销) from a retirement
	// and an approval.
	for action, want := range map[string]float64{"unit.retire_request": 2, "unit.retire_approve": 1} {
		es := e.do("GET", "/api/v1/audit?target_type=unit&target_id="+id+"&action="+action, "").json(t)["entries"].([]any)
		if len(es) != int(want) {
			t.Errorf("audit rows of %s: %d, want %v", action, len(es), want)
		}
	}
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/public/api/v1/units/"+id, "", "Authorization", ""); r.code != 404 {
		t.Fatalf("a retired unit leaves the next publication: %d", r.code)
	}

	// The author of a unit never approved retires it at once, without a reason.
	if r := e.do("DELETE", "/api/v1/units/"+incomplete, "", ifMatch("expert1", "1")...); r.code != 200 ||
		r.json(t)["properties"].(map[string]any)["status"] != "retired" {
		t.Fatalf("a draft is retired at once by its author: %d %s", r.code, r.body)
	}
}
