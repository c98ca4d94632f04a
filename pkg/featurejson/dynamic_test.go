package featurejson_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

func date(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// raisedUnit is a 一般 unit raised to 重大 by an open major hidden danger, reviewed last on
// 2026-03-01 (next review, red: 2026-06-01) and identified in full on 2021-06-01.
func raisedUnit() *riskmap.Unit {
	return &riskmap.Unit{ID: 7, Code: "CJ-7", Name: "储罐区", Category: "hazardous_chemicals", Geometry: orb.Point{102.9, 24.6},
		Grade: riskmap.GradeRed, InherentGrade: riskmap.GradeYellow, OpenHazards: 2,
		Conditions: []riskmap.Condition{
			{Source: riskmap.ConditionHazard, Ref: "YH-2026-000123", Level: "major", Since: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), Raises: true},
			{Source: riskmap.ConditionHazard, Ref: "YH-2026-<b>", Level: "general", Since: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)},
		},
		AssessedAt: date("2026-03-01"), NextReviewDue: date("2026-06-01"), IdentifiedAt: date("2021-06-01")}
}

func props(t *testing.T, f *featurejson.Feature) map[string]any {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Properties map[string]any }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Properties
}

// The internal Feature shows both grades, why the current one is raised, the open
// hidden dangers and where the unit stands with its review and its identification.
func TestDynamicProperties(t *testing.T) {
	u := raisedUnit()
	p := props(t, featurejson.NewFeatureOn(u, *date("2026-12-06")))
	want := map[string]any{
		"grade": "red", "current_grade": "red", "inherent_grade": "yellow",
		"dynamic_explanation": "存在未销号重大隐患 YH-2026-000123，等级由一般上调为重大",
		"open_hazards":        float64(2), "review_state": "overdue", "review_overdue": true,
		"identified_at": "2021-06-01", "reidentify_due": "2026-06-01", "reidentify_overdue": true,
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s: want %v, got %v", k, v, p[k])
		}
	}
	if cs, _ := p["conditions"].([]any); len(cs) != 2 {
		t.Errorf("conditions: %v", p["conditions"])
	}
	// Earlier, both were in time; a unit never reviewed is its own state.
	p = props(t, featurejson.NewFeatureOn(u, *date("2026-05-31")))
	if p["review_state"] != "current" || p["review_overdue"] != false || p["reidentify_overdue"] != false {
		t.Errorf("before the dates: %v %v %v", p["review_state"], p["review_overdue"], p["reidentify_overdue"])
	}
	bare := &riskmap.Unit{ID: 8, Grade: riskmap.GradeBlue, Geometry: orb.Point{1, 2}}
	p = props(t, featurejson.NewFeatureOn(bare, *date("2026-12-06")))
	if p["review_state"] != "never" || p["review_overdue"] != false || p["inherent_grade"] != "blue" ||
		p["dynamic_explanation"] != "" || p["identified_at"] != nil || p["reidentify_due"] != nil {
		t.Errorf("a unit never reviewed: %v", p)
	}
	if cs, ok := p["conditions"].([]any); !ok || len(cs) != 0 {
		t.Errorf("no conditions are [], got %v", p["conditions"])
	}
	// The public Feature says nothing of them.
	pub, _ := json.Marshal(featurejson.NewPublicFeature(u, "危险化学品", "凤麓街道"))
	for _, k := range []string{"inherent_grade", "conditions", "open_hazards", "review_state", "YH-"} {
		if bytes.Contains(pub, []byte(k)) {
			t.Errorf("the public Feature shows %s: %s", k, pub)
		}
	}
}

// AppendFeatureOn writes what json.Marshal writes, and Redate gives what encoding on
// another day gives.
func TestDynamicAppendAndRedate(t *testing.T) {
	u := raisedUnit()
	for _, day := range []string{"2026-05-31", "2026-06-01", "2026-06-02", "2026-12-06"} {
		want, err := json.Marshal(featurejson.NewFeatureOn(u, *date(day)))
		if err != nil {
			t.Fatal(err)
		}
		got := featurejson.AppendFeatureOn(nil, u, *date(day))
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: AppendFeatureOn differs:\n got %s\nwant %s", day, got, want)
		}
		old := featurejson.AppendFeatureOn(nil, u, *date("2026-01-01"))
		redated, changed := featurejson.Redate(old, riskmap.ReviewDayOf(u.NextReviewDue), riskmap.ReviewDayOf(u.ReidentifyDue()), *date(day))
		if !bytes.Equal(redated, got) || changed != !bytes.Equal(old, got) {
			t.Fatalf("%s: Redate gives\n%s\nwant\n%s", day, redated, got)
		}
	}
}

// identified_at is taken from a client; the computed properties are ignored.
func TestDecodeIdentifiedAt(t *testing.T) {
	body := strings.Replace(good, `"version":7`, `"version":7,"identified_at":"2021-06-01","inherent_grade":"red","current_grade":"red",
"conditions":[{"source":"hazard"}],"open_hazards":5,"review_state":"current","review_overdue":false,"reidentify_due":"2026-06-01",
"reidentify_overdue":false,"dynamic_explanation":"x"`, 1)
	u, err := featurejson.DecodeUnit([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if u.IdentifiedAt == nil || u.IdentifiedAt.Format(time.DateOnly) != "2021-06-01" {
		t.Fatalf("identified_at: %v", u.IdentifiedAt)
	}
	if u.InherentGrade != "" || u.Conditions != nil || u.OpenHazards != 0 {
		t.Fatalf("computed properties from a client must be ignored: %+v", u)
	}
	bad := strings.Replace(good, `"version":7`, `"version":7,"identified_at":"去年"`, 1)
	if _, err := featurejson.DecodeUnit([]byte(bad)); riskmap.ErrorCode(err) != riskmap.EINVALID {
		t.Fatalf("a bad identified_at: want EINVALID, got %v", err)
	}
}

// conflictUnit is a 较大 unit raised to 重大 by a school inside its influence range, with a
// care home inside it too (which raises nothing).
func conflictUnit() *riskmap.Unit {
	school := riskmap.ConflictCondition(riskmap.TargetSchool, "澄江一中", 120)
	school.Since, school.Raises = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), true
	care := riskmap.ConflictCondition(riskmap.TargetCareHome, "<b>敬老院</b>", 80)
	care.Since = time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	return &riskmap.Unit{ID: 9, Code: "CJ-9", Name: "加油站", Category: "hazardous_chemicals", Geometry: orb.Point{102.9, 24.6},
		Grade: riskmap.GradeRed, InherentGrade: riskmap.GradeOrange, InfluenceRadiusM: 300,
		Conditions: []riskmap.Condition{school, care}, AssessedAt: date("2026-03-01"), NextReviewDue: date("2026-06-01")}
}

// The internal Feature names the target that raises the grade, with its distance, and
// lists every conflict with its detail; the public one shows none of it. Both encoders
// agree.
func TestConflictProperties(t *testing.T) {
	u := conflictUnit()
	p := props(t, featurejson.NewFeatureOn(u, *date("2026-12-06")))
	if p["dynamic_explanation"] != "影响范围内有学校「澄江一中」（距离 120 米），等级由较大上调为重大" || p["inherent_grade"] != "orange" || p["current_grade"] != "red" {
		t.Errorf("grades and explanation: %v %v %v", p["inherent_grade"], p["current_grade"], p["dynamic_explanation"])
	}
	cs, _ := p["conditions"].([]any)
	if len(cs) != 2 {
		t.Fatalf("conditions: %v", p["conditions"])
	}
	c0, _ := cs[0].(map[string]any)
	c1, _ := cs[1].(map[string]any)
	if c0["source"] != "conflict" || c0["ref"] != "澄江一中" || c0["level"] != "school" || c0["detail"] != "距离 120 米" || c0["raises"] != true {
		t.Errorf("the school: %v", c0)
	}
	if c1["ref"] != "<b>敬老院</b>" || c1["detail"] != "距离 80 米" || c1["raises"] != nil {
		t.Errorf("the care home: %v", c1)
	}
	want, err := json.Marshal(featurejson.NewFeatureOn(u, *date("2026-12-06")))
	if err != nil {
		t.Fatal(err)
	}
	if got := featurejson.AppendFeatureOn(nil, u, *date("2026-12-06")); !bytes.Equal(got, want) {
		t.Fatalf("AppendFeatureOn differs:\n got %s\nwant %s", got, want)
	}
	pub, _ := json.Marshal(featurejson.NewPublicFeature(u, "危险化学品", "凤麓街道"))
	pubApp := featurejson.AppendPublicFeature(nil, u, "危险化学品", "凤麓街道")
	for _, k := range []string{"conditions", "detail", "澄江一中", "敬老院", "school", "距离", "inherent_grade", "dynamic_explanation"} {
		if bytes.Contains(pub, []byte(k)) || bytes.Contains(pubApp, []byte(k)) {
			t.Errorf("the public Feature shows %s: %s", k, pub)
		}
	}
}
