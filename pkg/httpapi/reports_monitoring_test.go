package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/httpapi"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// reportMonitoringEnv is reportEnv with a monitoring service wired as cmd/riskmap wires it
// (units from the index, alarm conditions through the register), and the service.
func reportMonitoringEnv(t *testing.T, store riskmap.Store) (*env, *monitoring.Service) {
	t.Helper()
	var svc *monitoring.Service
	e := reportEnv(t, store, func(hc *httpapi.Config) {
		cfg := monitoring.Default()
		units, ix := hc.Units, hc.Index
		svc = monitoring.NewService(store.(monitoring.Store), &cfg, func(id int64) (monitoring.UnitRef, bool) {
			f, ok := ix.Snapshot().Get(id)
			if !ok {
				return monitoring.UnitRef{}, false
			}
			return monitoring.UnitRef{ID: f.ID, Code: f.Code, Name: f.Name, Category: f.Category, RegionCode: f.RegionCode,
				Department: f.Department, Grade: f.Grade}, true
		})
		svc.Conditions = func(ctx context.Context, id int64, conds []riskmap.Condition) error {
			_, err := units.SetConditions(ctx, id, riskmap.ConditionAlarm, conds)
			return err
		}
		svc.Logger = slog.New(slog.DiscardHandler)
		if err := svc.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		hc.Monitoring = svc
	})
	return e, svc
}

// docxText is the text of a DOCX's document.xml.
func docxText(t *testing.T, raw []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The report's chapter 监测预警: absent without points; with a point and a red alarm that was
// acknowledged, the points, the statistics and the open alarm; absent from the report of a
// department whose scope has no point, and from a publication's report.
func TestReportMonitoring(t *testing.T) {
	needFont(t)
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e, svc := reportMonitoringEnv(t, open(t))
			ctx := context.Background()
			id, _ := e.createGraded(t, "REP-M1", "监测报告测试加气站", 102.912, 24.671, 1, 3)
			if text := pdfText(t, e.do("GET", "/api/v1/report.pdf", "").body); strings.Contains(text, "监测预警") {
				t.Error("a report without monitoring points has the chapter 监测预警")
			}
			unit, _ := strconv.ParseInt(id, 10, 64)
			p := &monitoring.Point{Code: "JC-R1", UnitID: unit, Kind: "gas", Location: orb.Point{102.912, 24.671}}
			if err := svc.CreatePoint(ctx, nil, p, nil); err != nil {
				t.Fatal(err)
			}
			res, err := svc.IngestReadings(ctx, []monitoring.Reading{{PointID: p.ID, Time: time.Now().Add(-time.Minute), Value: 62}})
			if err != nil || res.Accepted != 1 {
				t.Fatalf("ingest: %+v %v", res, err)
			}
			alarms, err := svc.Alarms(ctx, nil, monitoring.AlarmQuery{Open: true})
			if err != nil || len(alarms) != 1 {
				t.Fatalf("alarms: %d %v", len(alarms), err)
			}
			admin := &riskmap.User{Name: "admin", Role: riskmap.RoleAdmin}
			if _, err := svc.Transition(ctx, admin, alarms[0].ID, 0, "acknowledge", "", nil); err != nil {
				t.Fatal(err)
			}
			text := pdfText(t, e.do("GET", "/api/v1/report.pdf", "").body)
			for _, want := range []string{"八、监测预警", "共设监测点 1 个（可燃气体浓度 1 个）", "当前在线 1 个，有未关闭报警的 1 个", "监测点分布", "凤麓街道",
				"系统中最近 100000 次报警之内", "共发生报警 1 次，其中未关闭 1 次", "报警处置率 0.0%", "平均确认时间", "1 次），尚无报警被处置", "红色预警", "未关闭的报警", "监测报告测试加气站", "JC-R1",
				"62 %LEL", "已确认"} {
				if !strings.Contains(text, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			if t.Failed() {
				t.Logf("%s", text[max(0, strings.Index(text, "八、监测预警")):])
			}
			d := e.do("GET", "/api/v1/report.docx", "")
			if doc := docxText(t, d.body); d.code != 200 || !strings.Contains(doc, "八、监测预警") || !strings.Contains(doc, "JC-R1") {
				t.Errorf("report.docx: %d, no chapter 监测预警 or no open alarm", d.code)
			}
			// The tables of the chapter, read by python-docx: points by kind and district, alarms by
			// level, kind, department (监管部门) and district, the open alarm.
			rows := docxTableRows(t, d.body)
			for _, want := range []string{"可燃气体浓度|1|1|1", "凤麓街道|1|1|1", "红色预警|1|1|0|0.0%", "可燃气体浓度|1|1|0|0.0%", "监管部门|报警次数|未关闭|已处置|报警处置率", "应急局|1|1|0|0.0%", "凤麓街道|1|1|0|0.0%",
				"|监测报告测试加气站|JC-R1|可燃气体浓度|红色预警|62 %LEL|"} {
				if !strings.Contains(rows, want) {
					t.Errorf("python-docx: no row %q in\n%s", want, rows)
				}
			}
			// 住建局's scope has no hazardous chemicals: no point, no chapter.
			if zjj := pdfText(t, e.do("GET", "/api/v1/report.pdf", "", e.as("zjj")...).body); strings.Contains(zjj, "监测预警") {
				t.Error("住建局's report has the chapter 监测预警 of a unit outside its scope")
			}
			// A filter that leaves the unit out leaves the chapter out.
			if red := pdfText(t, e.do("GET", "/api/v1/report.pdf?grade=blue&category=construction", "").body); strings.Contains(red, "监测预警") {
				t.Error("a report whose units have no point has the chapter 监测预警")
			}
		})
	}
}

// docxTableRows reads every table row of a DOCX with python-docx, one row a line, the cells
// joined by |; it skips without python3-docx outside CI.
func docxTableRows(t *testing.T, raw []byte) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no python3")
	}
	p := filepath.Join(t.TempDir(), "r.docx")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `
import sys, docx
for t in docx.Document(sys.argv[1]).tables:
    for r in t.rows:
        print("|".join(c.text for c in r.cells))
`, p).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No module named 'docx'") && os.Getenv("CI") == "" {
			t.Skip("python3-docx is not installed")
		}
		t.Fatalf("python-docx: %v\n%s", err, out)
	}
	return string(out)
}
