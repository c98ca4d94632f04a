package monitoring

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/riskmap"
)

var clock = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

func testInput() Input {
	cfg := Default()
	pts := map[string]*Point{"JC-001": gasPoint()}
	return Input{Now: clock, Config: &cfg, Lookup: func(r PointRef) (*Point, error) {
		for _, p := range pts {
			if r.Code == p.Code || r.ID == p.ID {
				return p, nil
			}
		}
		if r.ID == 99 {
			return nil, riskmap.Errorf(riskmap.EFORBIDDEN, "无权写入监测点 %d 的读数", r.ID)
		}
		return nil, nil
	}}
}

// refusal is "index field" of each refusal.
func refusals(rs []Refusal) map[int]string {
	out := map[int]string{}
	for _, r := range rs {
		out[r.Index] = r.Field
	}
	return out
}

func TestParseBatch(t *testing.T) {
	body := `[
		{"point": "JC-001", "time": "2026-12-06T15:59:00+08:00", "value": 12.5},
		{"point": 1, "time": "2026-12-06T07:59:01Z", "value": NaN},
		{"point": 1, "time": "2026-12-06T07:59:02Z", "value": Infinity},
		{"point": 1, "time": "2026-12-06T07:59:03Z", "value": -Infinity},
		{"point": 1, "time": "2026-12-06T07:59:04Z", "value": 1e308},
		{"point": 1, "time": "2026-12-06T07:59:05Z", "value": 1e999},
		{"point": 1, "time": "2026-12-06T08:06:00Z", "value": 1},
		{"point": 1, "time": "2026-12-06T07:59:07Z", "value": 1, "unit": "%LEL"},
		{"point": "JC-404", "time": "2026-12-06T07:59:08Z", "value": 1},
		{"point": 99, "time": "2026-12-06T07:59:09Z", "value": 1},
		{"point": 1, "time": "yesterday", "value": 1},
		{"point": 1, "time": "2026-12-06T07:59:11Z", "value": "12"},
		{"point": 1, "time": "2026-12-06T07:59:12Z"},
		17,
		{"point": 1, "time": "2026-12-06T08:04:00Z", "value": 0, "note": "NaN in a string stays"},
		{"point": 1, "time": "2026-12-06T07:59:15Z", "value": "NaN"},
		{"point": -3, "time": "2026-12-06T07:59:16Z", "value": 1},
		{"point": 1, "time": "1999-12-31T23:59:59Z", "value": 1},
		{"point": 1, "time": "2026-12-06T08:04:59Z", "value": 100}
	]`
	items, refused, err := ParseBatch([]byte(body), testInput())
	if err != nil {
		t.Fatal(err)
	}
	wantRefused := map[int]string{
		1: "[1].value", 2: "[2].value", 3: "[3].value", 4: "[4].value", 5: "[5].value", 6: "[6].time", 7: "[7].unit",
		8: "[8].point", 9: "[9].point", 10: "[10].time", 11: "[11].value", 12: "[12].value", 13: "[13]", 14: "[14].note",
		15: "[15].value", 16: "[16].point", 17: "[17].time",
	}
	got := refusals(refused)
	for i, f := range wantRefused {
		if got[i] != f {
			t.Errorf("item %d: refused at %q, want %q", i, got[i], f)
		}
	}
	if len(refused) != len(wantRefused) {
		t.Errorf("%d refused, want %d: %v", len(refused), len(wantRefused), got)
	}
	for _, r := range refused {
		if r.Message == "" || !hanRune(r.Message) {
			t.Errorf("item %d: message %q", r.Index, r.Message)
		}
	}
	if len(items) != 2 || items[0].Index != 0 || items[1].Index != 18 {
		t.Fatalf("kept %+v", items)
	}
	if r := items[0].Reading; r.PointID != 1 || !r.Time.Equal(clock.Add(-time.Minute)) || r.Value != 12.5 {
		t.Fatalf("%+v", r)
	}
	msg := map[int]string{}
	for _, r := range refused {
		msg[r.Index] = r.Message
	}
	if msg[8] != "没有监测点 \"JC-404\"" || !strings.Contains(msg[9], "无权") {
		t.Errorf("%q, %q", msg[8], msg[9])
	}
}

func hanRune(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func TestParseBatchBody(t *testing.T) {
	for _, tc := range []struct{ name, body, code string }{
		{"ErrNotArray", `{"point":1}`, riskmap.EINVALID},
		{"ErrEmpty", ``, riskmap.EINVALID},
		{"ErrBroken", `[{"point":1,`, riskmap.EINVALID},
		{"ErrTrailing", `[] []`, riskmap.EINVALID},
		{"ErrTooMany", "[" + strings.Repeat("1,", MaxBatch) + "1]", riskmap.ETOOLARGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseBatch([]byte(tc.body), testInput())
			if riskmap.ErrorCode(err) != tc.code {
				t.Fatalf("%v", err)
			}
		})
	}
	t.Run("OKEmpty", func(t *testing.T) {
		items, refused, err := ParseBatch([]byte(` [] `), testInput())
		if err != nil || len(items)+len(refused) != 0 {
			t.Fatal(items, refused, err)
		}
	})
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		`[NaN,-Infinity,+Infinity]`:  `["NaN","-Infinity","+Infinity"]`,
		`{"NaN":"x NaN","v":NaN}`:    `{"NaN":"x NaN","v":"NaN"}`,
		`["a\"NaN",NaNx,xNaN]`:       `["a\"NaN",NaNx,xNaN]`,
		`[1.5,true,null,"Infinity"]`: `[1.5,true,null,"Infinity"]`,
		`[ Infinity ]`:               `[ "Infinity" ]`,
		`["\\",NaN]`:                 `["\\","NaN"]`,
		`[1,2]`:                      `[1,2]`,
	} {
		if got := string(sanitize([]byte(in))); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestParseDataArray(t *testing.T) {
	body := `[
	  {"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result", "FeatureOfInterest/id"], "dataArray@iot.count": 4,
	   "dataArray": [["2026-12-06T07:58:00Z", 20, 1], ["2026-12-06T07:59:00Z", NaN, 1], ["2026-12-06T09:00:00Z", 21, 1], ["2026-12-06T07:59:30Z", 22]]},
	  {"Datastream": {"@iot.id": "JC-001"}, "components": ["result", "phenomenonTime"], "dataArray": [[23, "2026-12-06T07:59:40Z"]]},
	  {"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result", "colour"], "dataArray": [["2026-12-06T07:59:00Z", 1, "red"], ["2026-12-06T07:59:01Z", 1, "red"]]},
	  {"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], "dataArray@iot.count": 3, "dataArray": [["2026-12-06T07:59:00Z", 1]]},
	  {"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], "extra": 1, "dataArray": [["2026-12-06T07:59:00Z", 1]]},
	  {"MultiDatastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], "dataArray": []},
	  {"Datastream": {"@iot.id": 77}, "components": ["phenomenonTime", "result"], "dataArray": [["2026-12-06T07:00:00Z/2026-12-06T07:59:00Z", 1], ["2026-12-06T07:59:00Z", 2]]}
	]`
	items, refused, err := ParseDataArray([]byte(body), testInput())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		1: "[0].dataArray[1][1]", 2: "[0].dataArray[2][0]", 3: "[0].dataArray[3]",
		5: "[2].components", 6: "[2].components", 7: "[3].dataArray@iot.count", 8: "[4].extra", -1: "[5].MultiDatastream",
		9: "[6].dataArray[0][0]", 10: "[6].Datastream",
	}
	got := refusals(refused)
	if len(got) != len(want) {
		t.Errorf("refused %v, want %v", got, want)
	}
	for i, f := range want {
		if got[i] != f {
			t.Errorf("row %d: refused at %q, want %q", i, got[i], f)
		}
	}
	if len(items) != 2 || items[0].Index != 0 || items[1].Index != 4 || items[1].Reading.Value != 23 || items[1].Reading.PointID != 1 {
		t.Fatalf("kept %+v", items)
	}
}

// FuzzParseBatch: no body makes the parser panic; a refused body is EINVALID or
// ETOOLARGE; every item is kept or refused once, and what is kept is finite, in its kind's
// range and not from the future.
func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`[{"point":"JC-001","time":"2026-12-06T07:59:00Z","value":12.5},{"point":1,"time":"2026-12-06T07:59:00Z","value":NaN}]`))
	f.Add([]byte(`[{"point":1,"time":"2026-12-06T07:59:00Z","value":1e308,"x":1},17,null,[]]`))
	f.Add([]byte(`[{"point":1,"time":"2026-12-06T07:59:00Z","value":-Infinity}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := testInput()
		items, refused, err := ParseBatch(b, in)
		if err != nil {
			if c := riskmap.ErrorCode(err); c != riskmap.EINVALID && c != riskmap.ETOOLARGE {
				t.Fatalf("code %s", c)
			}
			return
		}
		checkParsed(t, in, items, refused, true)
	})
}

// FuzzParseDataArray: as FuzzParseBatch, for the SensorThings dataArray form.
func FuzzParseDataArray(f *testing.F) {
	f.Add([]byte(`[{"Datastream":{"@iot.id":1},"components":["phenomenonTime","result"],"dataArray":[["2026-12-06T07:59:00Z",1],["2026-12-06T07:59:01Z",NaN]]}]`))
	f.Add([]byte(`[{"Datastream":{"@iot.id":"JC-001"},"components":["result","phenomenonTime","resultTime"],"dataArray@iot.count":1,"dataArray":[[3,"2026-12-06T07:59:00Z",null]]}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := testInput()
		items, refused, err := ParseDataArray(b, in)
		if err != nil {
			if c := riskmap.ErrorCode(err); c != riskmap.EINVALID && c != riskmap.ETOOLARGE {
				t.Fatalf("code %s", c)
			}
			return
		}
		checkParsed(t, in, items, refused, false)
	})
}

func checkParsed(t *testing.T, in Input, items []Item, refused []Refusal, dense bool) {
	seen := map[int]bool{}
	for _, it := range items {
		r := it.Reading
		if seen[it.Index] || math.IsNaN(r.Value) || r.Value < 0 || r.Value > 100 || r.Time.After(in.Now.Add(MaxFuture)) || r.PointID != 1 {
			t.Fatalf("kept %+v", it)
		}
		seen[it.Index] = true
	}
	for _, r := range refused {
		if r.Index == -1 && !dense {
			continue
		}
		if seen[r.Index] || r.Message == "" {
			t.Fatalf("refused %+v", r)
		}
		seen[r.Index] = true
	}
	if dense {
		for i := range len(seen) {
			if !seen[i] {
				t.Fatal(fmt.Sprintf("item %d neither kept nor refused", i))
			}
		}
	}
}

// BenchmarkParseBatch: a batch of 1,000 readings.
func BenchmarkParseBatch(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"point":"JC-001","time":"2026-12-06T07:%02d:%02dZ","value":%d}`, i/60%60, i%60, i%90)
	}
	sb.WriteString("]")
	body := []byte(sb.String())
	in := testInput()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if items, _, err := ParseBatch(body, in); err != nil || len(items) != 1000 {
			b.Fatal(len(items), err)
		}
	}
}

// TestFastItem: the items ParseBatch reads without encoding/json are read as the full way
// reads them; any other item is left to the full way.
func TestFastItem(t *testing.T) {
	for _, tc := range []struct {
		item string
		fast bool
	}{
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":12.5}`, true},
		{` { "value" : -0.5e1 , "time" : "2026-12-06T15:59:00.123+08:00" , "point" : "JC-001" } `, true},
		{`{"point":" JC-001 ","time":"2026-12-06T07:59:00Z","value":0}`, true},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":1E-7}`, true},
		{"{\"point\":1,\n\"time\":\"2026-12-06T07:59:00Z\",\t\"value\":100}", true},
		{`{"point":1,"time":"2026-12-06T07:59:00Z"}`, false},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":1,"value":2}`, false},
		{`{"Point":1,"time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":1,"unit":"%LEL"}`, false},
		{`{"point":"JC-\u0030","time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":"监测点","time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":"  ","time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":1.0,"time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":0,"time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":-1,"time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":99999999999999999999,"time":"2026-12-06T07:59:00Z","value":1}`, false},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":"NaN"}`, false},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":null}`, false},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":1e999}`, false},
		{`{"point":1,"time":null,"value":1}`, false},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":[1]}`, false},
		{`{}`, false},
		{`17`, false},
		{`{"point":1,"time":"2026-12-06T07:59:00Z","value":1}x`, false},
	} {
		ref, ts, v, ok := fastItem([]byte(tc.item))
		if ok != tc.fast {
			t.Errorf("%s: fast %v, want %v", tc.item, ok, tc.fast)
		}
		if ok {
			agree(t, tc.item, ref, ts, v)
		}
	}
}

// agree fails unless the full way reads item as ref, ts and v.
func agree(t *testing.T, item string, ref PointRef, ts string, v float64) {
	t.Helper()
	var raw struct {
		Point json.RawMessage `json:"point"`
		Time  json.RawMessage `json:"time"`
		Value json.RawMessage `json:"value"`
	}
	if fe, ok := strictObject([]byte(item), &raw, "[0]", ""); !ok {
		t.Fatalf("%s: fast, but the full way refuses it: %v", item, fe)
	}
	r, _, ok1 := pointRef(raw.Point, "")
	var s string
	err := json.Unmarshal(raw.Time, &s)
	f, _, ok2 := readValue(raw.Value, "")
	if !ok1 || err != nil || !ok2 || r != ref || s != ts || math.Float64bits(f) != math.Float64bits(v) {
		t.Fatalf("%s: fast %+v %q %v, the full way %+v %q %v", item, ref, ts, v, r, s, f)
	}
}

// FuzzFastItem: whatever fastItem reads, the full way reads alike.
func FuzzFastItem(f *testing.F) {
	f.Add([]byte(`{"point":1,"time":"2026-12-06T07:59:00Z","value":12.5}`))
	f.Add([]byte(` { "value" : -0.5e1 , "time" : "2026-12-06T15:59:00+08:00" , "point" : "JC-001" } `))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // ParseBatch hands it only JSON values
		}
		if ref, ts, v, ok := fastItem(b); ok {
			agree(t, string(b), ref, ts, v)
		}
	})
}
