package hazards

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Time is a time in a request body: a date (2026-12-06, midnight UTC) or an RFC 3339 time.
type Time struct{ time.Time }

// UnmarshalJSON reads a date or an RFC 3339 time; null or "" is the zero time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// ParseTime reads a date (YYYY-MM-DD) or an RFC 3339 time; "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Year() < 1900 || t.Year() > 9999 {
		return time.Time{}, riskmap.Errorf(riskmap.EINVALID, "日期 %q 无效：请写作 2026-12-06 或 2026-12-06T08:30:00+08:00", clipText(s, 40))
	}
	return t.UTC(), nil
}

// Input is the JSON of a new hidden danger (POST /api/v1/hazards) and of the hidden
// danger a report becomes (POST /api/v1/reports/{id}/convert, without unit_id's
// requirement of found_at and source).
type Input struct {
	UnitID            int64                `json:"unit_id"`
	Level             Level                `json:"level"`
	Description       string               `json:"description"`
	Location          string               `json:"location"`
	Point             *[2]float64          `json:"point"`
	FoundAt           Time                 `json:"found_at"`
	FoundBy           string               `json:"found_by"`
	Source            Source               `json:"source"`
	ResponsibleUnit   string               `json:"responsible_unit"`
	ResponsiblePerson string               `json:"responsible_person"`
	Measures          string               `json:"measures"`
	Deadline          Time                 `json:"deadline"`
	Five              *FiveImplementations `json:"five"`
}

// Hazard is the hidden danger the input describes.
func (in *Input) Hazard() *Hazard {
	h := &Hazard{UnitID: in.UnitID, Level: in.Level, Description: in.Description, Location: in.Location,
		FoundAt: in.FoundAt.Time, FoundBy: in.FoundBy, Source: in.Source, ResponsibleUnit: in.ResponsibleUnit,
		ResponsiblePerson: in.ResponsiblePerson, Measures: in.Measures, Deadline: in.Deadline.Time, Five: in.Five}
	if in.Point != nil {
		h.Point = orb.Point(*in.Point)
	}
	return h
}

// DecodeInput reads the JSON of a new hidden danger; unknown fields are refused.
func DecodeInput(b []byte) (*Input, error) {
	var in Input
	if err := strict(b, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// notPatchable are the fields PATCH refuses, and why.
var notPatchable = map[string]string{
	"deadline": "整改期限只能通过延期申请（POST …/extension）变更",
	"status":   "状态只能通过状态流转（POST …/transitions）变更",
	"unit_id":  "隐患所属的风险单元不能修改",
}

// DecodePatch reads the JSON of a PATCH. It names the fields that cannot be patched
// (deadline, status, unit_id) as problems in refused: the caller answers 422.
func DecodePatch(b []byte) (p Patch, refused riskmap.Problems, err error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return p, nil, err
	}
	for k := range keys {
		if why, ok := notPatchable[k]; ok {
			refused.Add(k, "%s", why)
		}
	}
	if len(refused) > 0 {
		return p, refused, nil
	}
	for _, k := range []string{"id", "code", "version", "created_by", "created_at", "updated_at", "accepted_by", "accepted_at", "closed_by", "closed_at", "supervision", "extension",
		"unit_code", "unit_name", "category", "region_code", "department", "report_id", "alarm_id"} {
		delete(keys, k) // read-only fields of the view sent back as they were: ignored
	}
	clean, _ := json.Marshal(keys)
	err = strict(clean, &p)
	return p, nil, err
}

// strict decodes JSON into v, refusing unknown fields and trailing data. Its errors are
// encoding/json's, for the caller to word.
func strict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return riskmap.Errorf(riskmap.EINVALID, "请求体只能有一个 JSON 对象")
	}
	return nil
}
