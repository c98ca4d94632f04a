package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"riskmap/pkg/riskmap"
)

// Users named as people (姓名, 单位, phone), a department's scope changed after its
// creation, and the audit log exported as CSV and xlsx, on both stores.
func TestPeopleAndAuditExport(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			t.Run("Profile", e.testProfile)
			t.Run("ScopeEdited", e.testScopeEdited)
			t.Run("People", e.testPeople)
			t.Run("AuditCSV", e.testAuditCSV)
			t.Run("AuditXLSX", e.testAuditXLSX)
			t.Run("AuditExportRefused", e.testAuditExportRefused)
		})
	}
}

func (e *env) testProfile(t *testing.T) {
	e.t = t
	r := e.do("POST", "/api/v1/users", `{"name":"liexp","role":"expert","display_name":" 李明 ","organisation":"云南省安全生产专家库","phone":"0877-6691234"}`)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	u := r.json(t)["user"].(map[string]any)
	if u["display_name"] != "李明" || u["organisation"] != "云南省安全生产专家库" || u["phone"] != "0877-6691234" {
		t.Fatalf("created: %v", u)
	}
	// A bad phone is refused by name, and changes nothing.
	r = e.do("PATCH", "/api/v1/users/liexp", `{"phone":"找前台","display_name":"李四"}`)
	if r.code != 400 || !strings.Contains(string(r.body), `"field":"phone"`) || !strings.Contains(string(r.body), "电话号码") {
		t.Fatalf("bad phone: %d %s", r.code, r.body)
	}
	r = e.do("PATCH", "/api/v1/users/liexp", `{"organisation":"澄江市应急管理局"}`)
	if r.code != 200 {
		t.Fatalf("patch: %d %s", r.code, r.body)
	}
	var list struct{ Users []map[string]any }
	if err := json.Unmarshal(e.do("GET", "/api/v1/users", "").body, &list); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list.Users, func(u map[string]any) bool { return u["name"] == "liexp" })
	if i < 0 || list.Users[i]["display_name"] != "李明" || list.Users[i]["organisation"] != "澄江市应急管理局" || list.Users[i]["phone"] != "0877-6691234" {
		t.Fatalf("listed: %v", list.Users)
	}
}

func (e *env) testScopeEdited(t *testing.T) {
	e.t = t
	r := e.do("PATCH", "/api/v1/users/yjj", `{"categories":["hazardous_chemicals","fireworks"],"regions":["530481001","530481002"]}`)
	if r.code != 200 {
		t.Fatalf("patch: %d %s", r.code, r.body)
	}
	// The department's new scope applies at once: it reads its new category.
	u, err := e.store.UserByName(context.Background(), "yjj")
	if err != nil || !slices.Equal(u.Categories, []string{"hazardous_chemicals", "fireworks"}) || !slices.Equal(u.Regions, []string{"530481001", "530481002"}) {
		t.Fatalf("stored: %+v %v", u, err)
	}
	// The audit row has the scope before and after.
	es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "user.update", TargetID: "yjj", Limit: 1})
	if err != nil || len(es) != 1 {
		t.Fatalf("%v %v", es, err)
	}
	var before, after struct{ Categories, Regions []string }
	if json.Unmarshal(es[0].Before, &before) != nil || json.Unmarshal(es[0].After, &after) != nil ||
		!slices.Equal(before.Categories, []string{"hazardous_chemicals"}) || !slices.Equal(before.Regions, []string{"530481001"}) ||
		!slices.Equal(after.Categories, []string{"hazardous_chemicals", "fireworks"}) || !slices.Equal(after.Regions, []string{"530481001", "530481002"}) {
		t.Fatalf("audit before %s after %s", es[0].Before, es[0].After)
	}
	// A department left without a region is refused, in Chinese, and keeps its scope.
	r = e.do("PATCH", "/api/v1/users/yjj", `{"regions":[]}`)
	if r.code != 400 || !strings.Contains(string(r.body), "管辖区域") {
		t.Fatalf("no regions: %d %s", r.code, r.body)
	}
	if u, _ := e.store.UserByName(context.Background(), "yjj"); len(u.Regions) != 2 {
		t.Fatalf("changed anyway: %v", u.Regions)
	}
}

func (e *env) testPeople(t *testing.T) {
	e.t = t
	for _, who := range []string{"admin", "expert1", "zjj"} {
		r := e.do("GET", "/api/v1/people", "", e.as(who)...)
		if r.code != 200 {
			t.Fatalf("%s: %d %s", who, r.code, r.body)
		}
		var body struct{ People []map[string]any }
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(body.People, func(p map[string]any) bool { return p["username"] == "liexp" })
		if i < 0 {
			t.Fatalf("%s: no liexp in %s", who, r.body)
		}
		p := body.People[i]
		if p["display_name"] != "李明" || p["organisation"] != "澄江市应急管理局" || len(p) != 3 {
			t.Fatalf("%s sees %v: only username, display_name and organisation", who, p)
		}
		if strings.Contains(string(r.body), "0877") || strings.Contains(string(r.body), "530481") {
			t.Fatalf("%s sees a phone or a scope: %s", who, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/people", "", "Authorization", ""); r.code != 401 {
		t.Fatalf("anonymous: %d", r.code)
	}
}

var wantAuditHeader = []string{"记录编号", "时间（北京时间）", "操作人", "登录名", "角色", "操作", "结果", "状态码", "请求",
	"对象", "说明", "修改内容", "来源地址", "次数", "最后一次（北京时间）"}

// col is the value of the column named name in row.
func col(row []string, name string) string {
	i := slices.Index(wantAuditHeader, name)
	if i < 0 || i >= len(row) {
		return ""
	}
	return row[i]
}

func (e *env) testAuditCSV(t *testing.T) {
	e.t = t
	// The admin gets a name to be shown by.
	if r := e.do("PATCH", "/api/v1/users/admin", `{"display_name":"王立新","organisation":"澄江市应急管理局"}`); r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r := e.do("GET", "/api/v1/audit.csv?action=user.&target_id=yjj", "")
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v %s", r.code, r.header, r.body)
	}
	rows := readCSV(t, r)
	if !slices.Equal(rows[0], wantAuditHeader) {
		t.Fatalf("header %q", rows[0])
	}
	if len(rows) != 3 { // the header, the scope change and the refused one
		t.Fatalf("want 2 rows of user.* on yjj, got %q", rows[1:])
	}
	ok := rows[2] // oldest last
	if col(ok, "操作") != "修改用户" || col(ok, "结果") != "成功" || col(ok, "操作人") != "王立新（澄江市应急管理局）" ||
		col(ok, "登录名") != "admin" || col(ok, "角色") != "管理员" || col(ok, "对象") != "用户 yjj" || col(ok, "状态码") != "200" {
		t.Fatalf("row %q", ok)
	}
	if c := col(ok, "修改内容"); c != "管辖行业领域：危险化学品 → 危险化学品、烟花爆竹；管辖区域：凤麓街道（530481001） → 凤麓街道（530481001）、"+regionName(t, e, "530481002")+"（530481002）" {
		t.Fatalf("修改内容 %q", c)
	}
	if col(rows[1], "结果") != "失败" && col(rows[1], "结果") != "拒绝" {
		t.Fatalf("the refused change: %q", rows[1])
	}
	// Without filters: every row, users named by 姓名（单位）, the newest first.
	rows = readCSV(t, e.do("GET", "/api/v1/audit.csv", ""))
	if len(rows) < 6 {
		t.Fatalf("only %d rows", len(rows))
	}
	found := false
	for _, row := range rows[1:] {
		if col(row, "操作") == "新增用户" && col(row, "对象") == "用户 李明（澄江市应急管理局）" {
			found = true
		}
	}
	if !found {
		t.Fatal("the creation of liexp is not named 用户 李明（澄江市应急管理局）")
	}
	// More rows than a page of the log: all of them, each once.
	for i := 0; i < 1050; i++ {
		if err := e.store.AppendAudit(context.Background(), &riskmap.AuditEntry{Actor: "bulk", Action: "unit.update", Outcome: riskmap.OutcomeOK,
			Status: 200, Method: "PUT", Path: "/api/v1/units/1", Detail: "=1+1"}); err != nil {
			t.Fatal(err)
		}
	}
	rows = readCSV(t, e.do("GET", "/api/v1/audit.csv?actor=bulk", ""))
	ids := map[string]bool{}
	for _, row := range rows[1:] {
		ids[col(row, "记录编号")] = true
		if col(row, "说明") != "'=1+1" {
			t.Fatalf("a formula is not quoted: %q", row)
		}
	}
	if len(rows) != 1051 || len(ids) != 1050 {
		t.Fatalf("%d rows, %d ids", len(rows)-1, len(ids))
	}
}

func regionName(t *testing.T, e *env, code string) string {
	t.Helper()
	r, err := e.store.GetRegion(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return r.Name
}

func (e *env) testAuditXLSX(t *testing.T) {
	e.t = t
	// A unit row names the unit by code and name.
	if r := e.do("POST", "/api/v1/units", feature("EXP-0001", "导出测试加油站", 102.92, 24.67, 3, 3)); r.code != 201 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r := e.do("GET", "/api/v1/audit.xlsx?action=unit.create&outcome=ok", "")
	if r.code != 200 || r.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("%d %v %s", r.code, r.header, r.body)
	}
	book, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	if sheets := book.GetSheetList(); !slices.Equal(sheets, []string{"操作日志"}) {
		t.Fatalf("sheets %v", sheets)
	}
	rows, err := book.GetRows("操作日志")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], wantAuditHeader) {
		t.Fatalf("header %q", rows[0])
	}
	if len(rows) < 2 {
		t.Fatal("no rows")
	}
	for _, row := range rows[1:] {
		if col(row, "操作") != "新增单元" || col(row, "结果") != "成功" {
			t.Fatalf("a row the filters do not select: %q", row)
		}
	}
	if got := col(rows[1], "对象"); !strings.HasPrefix(got, "风险单元 EXP-0001 导出测试加油站") {
		t.Fatalf("对象 %q", got)
	}
	if col(rows[1], "操作人") != "王立新（澄江市应急管理局）" || col(rows[1], "请求") != "POST /api/v1/units" {
		t.Fatalf("row %q", rows[1])
	}
	// Numbers are numbers.
	if typ, err := book.GetCellType("操作日志", "H2"); err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Fatalf("状态码 is stored as %v (%v)", typ, err)
	}
}

func (e *env) testAuditExportRefused(t *testing.T) {
	e.t = t
	for _, path := range []string{"/api/v1/audit.csv", "/api/v1/audit.xlsx"} {
		for _, who := range []string{"expert1", "zjj"} {
			if r := e.do("GET", path, "", e.as(who)...); r.code != 403 {
				t.Fatalf("%s exports %s: %d", who, path, r.code)
			}
		}
		if r := e.do("GET", path, "", "Authorization", ""); r.code != 401 {
			t.Fatalf("anonymous exports %s: %d", path, r.code)
		}
		for q, field := range map[string]string{"since=yesterday": "since", "outcome=maybe": "outcome", "limit=5": "limit"} {
			r := e.do("GET", path+"?"+q, "")
			if r.code != 400 || !strings.Contains(string(r.body), `"field":"`+field+`"`) {
				t.Fatalf("%s?%s: %d %s", path, q, r.code, r.body)
			}
		}
	}
}

// TestAuditExportSaysUnitChanges: the export says what a unit's write changed and a
// review's comment in words, as the 操作日志 panel does, not in codes or JSON.
func TestAuditExportSaysUnitChanges(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			r := e.do("POST", "/api/v1/units", feature("AX-0001", "导出测试单元", 102.912, 24.671, 4, 5), e.as("expert1")...)
			if r.code != 201 {
				t.Fatalf("create: %d %s", r.code, r.body)
			}
			id := strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
			if r := e.do("POST", "/api/v1/units/"+id+"/submit", "", append(e.as("expert1"), "If-Match", `"1"`)...); r.code != 200 {
				t.Fatalf("submit: %d %s", r.code, r.body)
			}
			if r := e.do("POST", "/api/v1/units/"+id+"/approve", `{"comment":"评估依据充分"}`, append(e.as("expert2"), "If-Match", `"2"`)...); r.code != 200 {
				t.Fatalf("approve: %d %s", r.code, r.body)
			}
			rows := readCSV(t, e.do("GET", "/api/v1/audit.csv?target_type=unit&target_id="+id, ""))
			var created, approved []string
			for _, row := range rows[1:] {
				switch col(row, "操作") {
				case "新增单元":
					created = row
				case "审核通过":
					approved = row
				}
			}
			if created == nil || approved == nil {
				t.Fatalf("rows %q", rows)
			}
			ch := col(created, "修改内容")
			for _, want := range []string{"行业领域：— → 危险化学品", "风险等级：— → 重大风险", "状态：— → 草稿", "评估：— → 风险矩阵法：L = 4，S = 5", "管控措施：— → 工程技术措施："} {
				if !strings.Contains(ch, want) {
					t.Errorf("修改内容 lacks %q: %s", want, ch)
				}
			}
			for _, raw := range []string{"hazardous_chemicals", "draft", `{"`, "red"} {
				if strings.Contains(ch, raw) {
					t.Errorf("修改内容 shows the raw %q: %s", raw, ch)
				}
			}
			if d := col(approved, "说明"); !strings.HasSuffix(d, "审核意见：评估依据充分") || strings.Contains(d, `{"`) {
				t.Errorf("说明 of the approval: %q", d)
			}
		})
	}
}
