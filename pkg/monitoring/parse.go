package monitoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"riskmap/pkg/riskmap"
)

// Limits of a batch of readings from outside.
const (
	MaxBatch  = 50000           // readings in one body
	MaxFuture = 5 * time.Minute // a reading may be this far ahead of the clock (gateway clocks drift)
	// Resolution is the precision of a reading's time: what the GeoPackage keeps (Unix
	// milliseconds), so that two readings one store takes as one are one on both, and what
	// is evaluated is what is stored.
	Resolution   = time.Millisecond
	earliestYear = 2000
)

// PointRef names a point in outside input: by id (a JSON number) or by code (a string).
type PointRef struct {
	ID   int64
	Code string
}

func (r PointRef) String() string {
	if r.Code != "" {
		return strconv.Quote(r.Code)
	}
	return strconv.FormatInt(r.ID, 10)
}

// Input is what the parser needs besides the body.
type Input struct {
	// Now is the clock (required): readings more than MaxFuture after it are refused.
	Now time.Time
	// Retention (> 0) refuses readings older than Now − Retention: they would be dropped
	// at the next daily clean-up (config monitoring.retention_days).
	Retention time.Duration
	// Config is the taxonomy: a value outside its kind's range is refused.
	Config *Config
	// Lookup finds a point the caller may write readings of; an error (ENOTFOUND,
	// EFORBIDDEN …) refuses the item with its message, and so does a nil point (or a nil
	// Lookup): no such point.
	Lookup func(PointRef) (*Point, error)
}

// Item is an accepted reading and its index in the input (for a SensorThings body, the
// row's position counting every dataArray row in order).
type Item struct {
	Index   int     `json:"index"`
	Reading Reading `json:"reading"`
}

// Refusal is an item refused, why, and the field at fault ("[3].value"). Index is -1 for
// a SensorThings group refused that has no rows.
type Refusal struct {
	Index int `json:"index"`
	riskmap.FieldError
}

// ParseBatch reads a JSON batch of readings, [{"point": id or "code", "time": RFC 3339,
// "value": number}], refusing item by item (an unknown field, a value that is not finite or
// outside its kind's range, a time too far in the future, an unknown point) and keeping the
// rest. A body that is not a JSON array is EINVALID, one of over MaxBatch items ETOOLARGE.
func ParseBatch(body []byte, in Input) ([]Item, []Refusal, error) {
	var raw []json.RawMessage
	if err := decodeArray(body, &raw); err != nil {
		return nil, nil, err
	}
	if len(raw) > MaxBatch {
		return nil, nil, riskmap.Errorf(riskmap.ETOOLARGE, "一批最多 %d 条读数，收到 %d 条", MaxBatch, len(raw))
	}
	items := make([]Item, 0, len(raw))
	var refused []Refusal
	for i, r := range raw {
		// The usual item is read without encoding/json; anything else, and any item the
		// fast path would refuse, goes the full way below (which names the field at fault).
		if ref, ts, v, ok := fastItem(r); ok {
			if t, _, ok := in.parseTime(ts, ""); ok {
				if rd, _, ok := in.resolve(ref, t, v, "", ""); ok {
					items = append(items, Item{i, rd})
					continue
				}
			}
		}
		at := "[" + strconv.Itoa(i) + "]"
		var it struct {
			Point json.RawMessage `json:"point"`
			Time  json.RawMessage `json:"time"`
			Value json.RawMessage `json:"value"`
		}
		if fe, ok := strictObject(r, &it, at, "point, time, value"); !ok {
			refused = append(refused, Refusal{i, fe})
			continue
		}
		rd, fe, ok := in.reading(it.Point, it.Time, it.Value, at+".point", at+".time", at+".value")
		if !ok {
			refused = append(refused, Refusal{i, fe})
			continue
		}
		items = append(items, Item{i, rd})
	}
	return items, refused, nil
}

// staComponents are the dataArray components taken; of them only phenomenonTime and
// result are read.
var staComponents = map[string]bool{"phenomenonTime": true, "result": true, "resultTime": true, "FeatureOfInterest/id": true,
	"parameters": true, "resultQuality": true, "validTime": true}

// ParseDataArray reads the OGC SensorThings API 1.1 CreateObservations body (the dataArray
// extension): [{"Datastream": {"@iot.id": id}, "components": ["phenomenonTime", "result",
// …], "dataArray": [[time, value, …], …]}], a Datastream being a monitoring point. It
// refuses row by row as ParseBatch; a group that cannot be read refuses each of its rows.
// Indexes count the rows of every group in order, as the response's array of links does.
func ParseDataArray(body []byte, in Input) ([]Item, []Refusal, error) {
	var groups []json.RawMessage
	if err := decodeArray(body, &groups); err != nil {
		return nil, nil, err
	}
	var items []Item
	var refused []Refusal
	index := 0
	for g, raw := range groups {
		at := fmt.Sprintf("[%d]", g)
		var grp struct {
			Datastream *struct {
				ID json.RawMessage `json:"@iot.id"`
			} `json:"Datastream"`
			Components []string          `json:"components"`
			Count      *int              `json:"dataArray@iot.count"`
			DataArray  []json.RawMessage `json:"dataArray"`
		}
		fe, ok := strictObject(raw, &grp, at, "Datastream, components, dataArray@iot.count, dataArray")
		rows := len(grp.DataArray)
		if total := index + rows; total > MaxBatch || total < index {
			return nil, nil, riskmap.Errorf(riskmap.ETOOLARGE, "一批最多 %d 条读数，收到 %d 条", MaxBatch, total)
		}
		if ok {
			fe, ok = checkGroup(at, grp.Datastream != nil, grp.Components, grp.Count, rows)
		}
		if !ok {
			if rows == 0 { // no row to refuse: the group is refused as index -1
				refused = append(refused, Refusal{-1, fe})
			}
			for r := 0; r < rows; r++ {
				refused = append(refused, Refusal{index + r, fe})
			}
			index += rows
			continue
		}
		tIdx, vIdx := -1, -1
		for i, c := range grp.Components {
			switch c {
			case "phenomenonTime":
				tIdx = i
			case "result":
				vIdx = i
			}
		}
		for r, row := range grp.DataArray {
			rat := fmt.Sprintf("%s.dataArray[%d]", at, r)
			var cells []json.RawMessage
			d := json.NewDecoder(bytes.NewReader(row))
			d.UseNumber()
			if err := d.Decode(&cells); err != nil || len(cells) != len(grp.Components) {
				refused = append(refused, Refusal{index, riskmap.FieldErrorf(rat, "应为与 components 等长（%d 个值）的数组", len(grp.Components))})
				index++
				continue
			}
			rd, fe, ok := in.reading(grp.Datastream.ID, cells[tIdx], cells[vIdx], at+".Datastream", fmt.Sprintf("%s[%d]", rat, tIdx), fmt.Sprintf("%s[%d]", rat, vIdx))
			if ok {
				items = append(items, Item{index, rd})
			} else {
				refused = append(refused, Refusal{index, fe})
			}
			index++
		}
	}
	return items, refused, nil
}

func checkGroup(at string, hasDS bool, comps []string, count *int, rows int) (riskmap.FieldError, bool) {
	if !hasDS {
		return riskmap.FieldErrorf(at+".Datastream", "必须指明 Datastream（{\"@iot.id\": 监测点编号}）"), false
	}
	seen := map[string]bool{}
	for _, c := range comps {
		if !staComponents[c] || seen[c] {
			return riskmap.FieldErrorf(at+".components", "不支持或重复的分量 %q；可用：phenomenonTime, result, resultTime, FeatureOfInterest/id, parameters, resultQuality, validTime", c), false
		}
		seen[c] = true
	}
	if !seen["phenomenonTime"] || !seen["result"] {
		return riskmap.FieldErrorf(at+".components", "必须包含 phenomenonTime 与 result"), false
	}
	if count != nil && *count != rows {
		return riskmap.FieldErrorf(at+".dataArray@iot.count", "为 %d，与 dataArray 的 %d 行不符", *count, rows), false
	}
	return riskmap.FieldError{}, true
}

// reading reads one item's point, time and value (raw JSON), naming the fields pf, tf and
// vf in its refusal.
func (in Input) reading(point, tm, value json.RawMessage, pf, tf, vf string) (Reading, riskmap.FieldError, bool) {
	ref, fe, ok := pointRef(point, pf)
	if !ok {
		return Reading{}, fe, false
	}
	t, fe, ok := in.readTime(tm, tf)
	if !ok {
		return Reading{}, fe, false
	}
	v, fe, ok := readValue(value, vf)
	if !ok {
		return Reading{}, fe, false
	}
	return in.resolve(ref, t, v, pf, vf)
}

// resolve looks the point of a reading up and checks the value against its kind's range,
// naming the fields pf and vf in its refusal.
func (in Input) resolve(ref PointRef, t time.Time, v float64, pf, vf string) (Reading, riskmap.FieldError, bool) {
	var p *Point
	var err error
	if in.Lookup != nil {
		p, err = in.Lookup(ref)
	}
	if err != nil || p == nil {
		if err == nil {
			err = riskmap.Errorf(riskmap.ENOTFOUND, "没有监测点 %s", ref)
		}
		return Reading{}, riskmap.FieldErrorf(pf, "%s", riskmap.MessageOf(err)), false
	}
	if in.Config != nil {
		if k, ok := in.Config.Kind(p.Kind); ok && (v < k.Min || v > k.Max) {
			return Reading{}, riskmap.FieldErrorf(vf, "数值 %g 超出%s的量程（%g 到 %g %s）", v, k.Label, k.Min, k.Max, k.Unit), false
		}
	}
	if math.Abs(v) > MaxMagnitude {
		return Reading{}, riskmap.FieldErrorf(vf, "数值 %g 超出可能的范围（绝对值不超过 %g）", v, MaxMagnitude), false
	}
	return Reading{PointID: p.ID, Time: t, Value: v}, riskmap.FieldError{}, true
}

func pointRef(raw json.RawMessage, field string) (PointRef, riskmap.FieldError, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" && len(s) <= 4*MaxCodeLen {
			return PointRef{Code: s}, riskmap.FieldError{}, true
		}
	} else if id, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err == nil && id > 0 {
		return PointRef{ID: id}, riskmap.FieldError{}, true
	}
	return PointRef{}, riskmap.FieldErrorf(field, "必须指明监测点：正整数编号或编码字符串"), false
}

func (in Input) readTime(raw json.RawMessage, field string) (time.Time, riskmap.FieldError, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return time.Time{}, riskmap.FieldErrorf(field, "必须填写观测时间（RFC 3339，如 2026-12-06T08:30:00+08:00）"), false
	}
	return in.parseTime(s, field)
}

// parseTime reads the text of a time (RFC 3339) and checks it against the clock.
func (in Input) parseTime(s, field string) (time.Time, riskmap.FieldError, bool) {
	if strings.Contains(s, "/") {
		return time.Time{}, riskmap.FieldErrorf(field, "不支持时间区间，请给出观测时刻"), false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, riskmap.FieldErrorf(field, "观测时间 %q 无效：请写作 RFC 3339，如 2026-12-06T08:30:00+08:00", clip(s, 40)), false
	}
	t = t.UTC().Truncate(Resolution)
	if fe, ok := checkTime(t, in.Now, in.Retention, field); !ok {
		return time.Time{}, fe, false
	}
	return t, riskmap.FieldError{}, true
}

// checkTime refuses an observation time before 2000, before the retention period (a
// gateway whose clock went back to 2000 would otherwise have its readings acknowledged,
// and on PostGIS a month's partition made for each, then dropped the next day) or more
// than MaxFuture ahead of now.
func checkTime(t, now time.Time, retention time.Duration, field string) (riskmap.FieldError, bool) {
	switch {
	case t.IsZero() || t.Year() < earliestYear:
		return riskmap.FieldErrorf(field, "观测时间不能早于 %d 年", earliestYear), false
	case retention > 0 && t.Before(now.Add(-retention)):
		return riskmap.FieldErrorf(field, "观测时间早于读数保留期限（保留 %d 天，最早 %s）",
			int(retention/(24*time.Hour)), now.Add(-retention).In(riskmap.ChinaTime).Format("2006-01-02 15:04")), false
	case t.After(now.Add(MaxFuture)):
		return riskmap.FieldErrorf(field, "观测时间晚于当前时间超过 %d 分钟（设备时钟有误？）", int(MaxFuture/time.Minute)), false
	}
	return riskmap.FieldError{}, true
}

func readValue(raw json.RawMessage, field string) (float64, riskmap.FieldError, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if _, ok := bareWords[s]; ok {
			return 0, riskmap.FieldErrorf(field, "应为有限数值，收到 %s", s), false
		}
		return 0, riskmap.FieldErrorf(field, "应为数值（JSON 数字），收到字符串"), false
	}
	txt := string(bytes.TrimSpace(raw))
	if txt == "" || txt == "null" {
		return 0, riskmap.FieldErrorf(field, "必须填写数值"), false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return 0, riskmap.FieldErrorf(field, "应为数值（JSON 数字）"), false
	}
	v, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, riskmap.FieldErrorf(field, "数值 %s 超出可能的范围（绝对值不超过 %g）", clip(n.String(), 40), MaxMagnitude), false
	}
	return v, riskmap.FieldError{}, true
}

// fastItem reads the usual item of a batch, {"point": id or "code", "time": "…", "value":
// number}, each field once, in any order, its strings plain ASCII without escapes, without
// encoding/json (which took half of the server's CPU at 20,000 readings/s). ok is false for
// any other item: ParseBatch then reads it the full way, which decides as it always did.
// raw is one JSON value (decodeArray checked the body).
func fastItem(raw []byte) (ref PointRef, ts string, v float64, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return
	}
	i++
	var hasPoint, hasTime, hasValue bool
	for n := 0; ; n++ {
		i = skipSpace(raw, i)
		if n > 0 {
			if i < len(raw) && raw[i] == '}' {
				i++
				break
			}
			if i >= len(raw) || raw[i] != ',' {
				return
			}
			i = skipSpace(raw, i+1)
		}
		key, j, plain := plainString(raw, i)
		if !plain {
			return
		}
		i = skipSpace(raw, j)
		if i >= len(raw) || raw[i] != ':' {
			return
		}
		i = skipSpace(raw, i+1)
		switch string(key) {
		case "point":
			if hasPoint {
				return
			}
			hasPoint = true
			if i < len(raw) && raw[i] == '"' {
				code, j, plain := plainString(raw, i)
				s := strings.TrimSpace(string(code))
				if !plain || s == "" || len(s) > 4*MaxCodeLen {
					return
				}
				ref, i = PointRef{Code: s}, j
				continue
			}
			j := i
			for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
				j++
			}
			id, err := strconv.ParseInt(string(raw[i:j]), 10, 64)
			if err != nil || id < 1 {
				return
			}
			ref, i = PointRef{ID: id}, j
		case "time":
			if hasTime {
				return
			}
			hasTime = true
			t, j, plain := plainString(raw, i)
			if !plain {
				return
			}
			ts, i = string(t), j
		case "value":
			if hasValue {
				return
			}
			hasValue = true
			j := i
			for j < len(raw) && (raw[j] >= '0' && raw[j] <= '9' || raw[j] == '-' || raw[j] == '+' || raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E') {
				j++
			}
			f, err := strconv.ParseFloat(string(raw[i:j]), 64)
			if j == i || err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return
			}
			v, i = f, j
		default:
			return
		}
	}
	ok = hasPoint && hasTime && hasValue && skipSpace(raw, i) == len(raw)
	return
}

// skipSpace is the index of the first byte from i on that is not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the JSON string at b[i]: its content and the index after it; plain is
// false unless it is there and printable ASCII without an escape.
func plainString(b []byte, i int) (s []byte, next int, plain bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, i, false
		}
	}
	return nil, i, false
}

// strictObject decodes an object into v refusing unknown fields; the refusal names the
// field at fault under at.
func strictObject(raw json.RawMessage, v any, at, fields string) (riskmap.FieldError, bool) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return riskmap.FieldErrorf(at, "应为对象（字段：%s）", fields), false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "unknown field "); i >= 0 {
			name, _ := strconv.Unquote(msg[i+len("unknown field "):])
			return riskmap.FieldErrorf(at+"."+clip(name, 40), "不是可用的字段；可用：%s", fields), false
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return riskmap.FieldErrorf(at+"."+te.Field, "类型不对（应为 %s）", te.Type.String()), false
		}
		return riskmap.FieldErrorf(at, "应为对象（字段：%s）", fields), false
	}
	return riskmap.FieldError{}, true
}

// decodeArray decodes a JSON array body into v, bare NaN and Infinity (which Python's and
// JavaScript's encoders write) taken as strings for the items to refuse one by one.
func decodeArray(body []byte, v *[]json.RawMessage) error {
	b := bytes.TrimSpace(sanitize(body))
	if len(b) == 0 || b[0] != '[' {
		return riskmap.Errorf(riskmap.EINVALID, "请求体应为 JSON 数组")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return riskmap.Errorf(riskmap.EINVALID, "请求体不是有效的 JSON 数组")
	}
	if d.More() {
		return riskmap.Errorf(riskmap.EINVALID, "请求体在 JSON 数组之后还有内容")
	}
	return nil
}

var bareWords = map[string]struct{}{"NaN": {}, "-NaN": {}, "Infinity": {}, "-Infinity": {}, "+Infinity": {}}

// sanitize quotes the bare words NaN and Infinity (optionally signed) outside strings.
func sanitize(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out = append(out, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
			out = append(out, c)
			continue
		}
		j := i
		if c == '-' || c == '+' {
			j++
		}
		word := ""
		for _, w := range []string{"NaN", "Infinity"} {
			if bytes.HasPrefix(b[j:], []byte(w)) && (j+len(w) == len(b) || !isWordByte(b[j+len(w)])) && (i == 0 || !isWordByte(b[i-1])) {
				word = string(b[i : j+len(w)])
			}
		}
		if word != "" {
			out = append(out, '"')
			out = append(out, word...)
			out = append(out, '"')
			i += len(word) - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
