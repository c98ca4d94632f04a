package mqttfeed

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"time"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// Value is one reading of a per-point topic: its time and value.
type Value struct {
	Time  time.Time
	Value float64
}

// ParsePointPayload reads the payload of riskmap/points/CODE/readings: {"time": RFC 3339,
// "value": number} or a JSON array of those (at most monitoring.MaxBatch). A reading
// without "time" is taken at now. A payload that is not one of those — an unknown field,
// a value that is not a finite number, a time that is not RFC 3339 — is EINVALID as a
// whole: a sensor that sends it is misconfigured. The kind's range and the clock are the
// service's to check (IngestReadings).
func ParsePointPayload(payload []byte, now time.Time) ([]Value, error) {
	b := bytes.TrimSpace(payload)
	if len(b) == 0 {
		return nil, riskmap.Errorf(riskmap.EINVALID, "消息为空：应为 {\"time\": …, \"value\": …} 或其数组")
	}
	var raws []json.RawMessage
	if b[0] == '[' {
		if err := decodeOne(b, &raws); err != nil {
			return nil, riskmap.Errorf(riskmap.EINVALID, "消息不是有效的 JSON 数组")
		}
		if len(raws) == 0 {
			return nil, riskmap.Errorf(riskmap.EINVALID, "消息是空数组，没有读数")
		}
		if len(raws) > monitoring.MaxBatch {
			return nil, riskmap.Errorf(riskmap.ETOOLARGE, "一批最多 %d 条读数，收到 %d 条", monitoring.MaxBatch, len(raws))
		}
	} else {
		raws = []json.RawMessage{b}
	}
	out := make([]Value, 0, len(raws))
	for i, r := range raws {
		v, err := parseValue(r, now)
		if err != nil {
			if len(raws) > 1 || b[0] == '[' {
				return nil, riskmap.Errorf(riskmap.EINVALID, "第 %d 条读数：%s", i+1, riskmap.MessageOf(err))
			}
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseValue(raw json.RawMessage, now time.Time) (Value, error) {
	var it struct {
		Time  *string         `json:"time"`
		Value json.RawMessage `json:"value"`
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return Value{}, riskmap.Errorf(riskmap.EINVALID, "读数应为对象 {\"time\": …, \"value\": …}")
	}
	if err := decodeOne(raw, &it); err != nil {
		return Value{}, riskmap.Errorf(riskmap.EINVALID, "读数应为对象，字段只有 time（RFC 3339）与 value（数值）")
	}
	if len(it.Value) == 0 || string(it.Value) == "null" {
		return Value{}, riskmap.Errorf(riskmap.EINVALID, "缺少数值 value")
	}
	var n json.Number
	if it.Value[0] == '"' || json.Unmarshal(it.Value, &n) != nil {
		return Value{}, riskmap.Errorf(riskmap.EINVALID, "value 应为数值（JSON 数字）")
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}, riskmap.Errorf(riskmap.EINVALID, "value 应为有限数值")
	}
	v := Value{Time: now.UTC(), Value: f}
	if it.Time != nil {
		s := strings.TrimSpace(*it.Time)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return Value{}, riskmap.Errorf(riskmap.EINVALID, "time 应为 RFC 3339 时刻，如 2026-12-06T08:30:00+08:00")
		}
		v.Time = t.UTC()
	}
	return v, nil
}

// decodeOne decodes exactly one JSON value into v, refusing unknown fields and anything
// after it.
func decodeOne(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return riskmap.Errorf(riskmap.EINVALID, "多余的内容")
	}
	var extra json.RawMessage
	if d.Decode(&extra) == nil {
		return riskmap.Errorf(riskmap.EINVALID, "多余的内容")
	}
	return nil
}
