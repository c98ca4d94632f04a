package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// The demo city's hidden dangers (隐患): a few hundred across the categories of its units,
// each taken through the closed loop by the hazards service, so that the history, the
// re-inspections, the photos and the dynamic grades are what real use would leave. Most
// are closed (销号) after their re-inspection; some are still being rectified, a few past
// their deadline or due within the week; some are major (重大隐患), open, with their 五落实,
// and under the city's or the district's supervision (挂牌督办) — their units are red on
// the map while they are open. Everything follows from a fixed seed and the day of loading.

// UnitFinder lists units: a riskmap.Store.
type UnitFinder interface {
	FindUnits(ctx context.Context, f riskmap.UnitFilter) ([]*riskmap.Unit, int, error)
}

// HazardsOptions tune LoadHazards. The zero value loads DefaultHazards.
type HazardsOptions struct {
	// Count is how many hidden dangers to register (default DefaultHazards).
	Count int
	// Recorder, when not nil, builds the audit row of every write.
	Recorder hazards.Recorder
}

// DefaultHazards is how many hidden dangers the demo city has.
const DefaultHazards = 320

// The people of the demo's hidden dangers: inspectors who find and register them, the
// rectifier who submits the work for acceptance, the re-inspector who closes them (never
// the rectifier), and the city's work-safety office that supervises the major ones.
var (
	demoInspector   = &riskmap.User{Name: "王磊", Role: riskmap.RoleExpert, Department: "市应急管理局"}
	demoInspector2  = &riskmap.User{Name: "李静", Role: riskmap.RoleExpert, Department: "市住房和城乡建设局"}
	demoRectifier   = &riskmap.User{Name: "赵刚", Role: riskmap.RoleExpert, Department: "凤麓街道办事处"}
	demoReinspector = &riskmap.User{Name: "陈敏", Role: riskmap.RoleExpert, Department: "市应急管理局"}
	demoSupervisor  = &riskmap.User{Name: "孙伟", Role: riskmap.RoleAdmin, Department: "市安全生产委员会办公室"}
)

// hazardTemplate is a kind of hidden danger of a category: what is found, where, and
// what is done about it.
type hazardTemplate struct {
	description, location, measures string
	major                           bool // may be a major hidden danger (重大隐患)
}

// hazardTemplates are the hidden dangers of each category; other categories take
// genericTemplates.
var hazardTemplates = map[string][]hazardTemplate{
	"hazardous_chemicals": {
		{"液氨储罐区可燃有毒气体检测报警装置失效，未与紧急切断阀联锁", "液氨储罐区", "更换检测报警装置，恢复与紧急切断阀的联锁并定期标定", true},
		{"危险化学品仓库超量储存，禁忌物料混存", "甲类仓库", "清理超量物料，按禁忌要求分区分类储存", true},
		{"装卸区静电接地报警器损坏", "汽车装卸区", "更换静电接地报警器，装卸前检查接地", false},
		{"部分岗位操作规程未更新，员工未按规程操作", "生产车间", "修订操作规程并组织全员培训考核", false},
	},
	"lifeline_gas": {
		{"燃气调压站安全阀超期未校验", "调压站", "委托有资质机构校验安全阀并建立台账", false},
		{"中压燃气管道上方违章占压", "管线沿线", "拆除占压建筑，设置警示标志并加强巡线", true},
		{"用户端燃气软管老化、未安装熄火保护装置", "餐饮用户", "更换金属波纹管，加装熄火保护和可燃气体报警器", false},
	},
	"crowded_places": {
		{"疏散通道堆放杂物，安全出口被锁闭", "一层疏散通道", "清理杂物，打开安全出口并落实每日巡查", true},
		{"应急照明和疏散指示标志损坏", "地下一层", "更换应急照明和疏散指示标志", false},
		{"消防控制室值班人员无证上岗", "消防控制室", "安排持证人员值班，落实双人值守", false},
	},
	"nine_small": {
		{"违规设置人员住宿，与经营场所未有效分隔", "二层", "拆除住宿区或采用防火分隔，设置独立疏散通道", true},
		{"电动自行车在室内充电", "店铺内", "禁止室内充电，设置集中充电点", false},
		{"电气线路私拉乱接，未穿管保护", "操作间", "由电工整改线路，穿管保护并加装漏电保护", false},
		{"灭火器过期失效", "收银台旁", "更换灭火器并按月检查", false},
	},
	"special_equipment": {
		{"电梯超期未检验仍在使用", "1 号电梯", "停用电梯，委托检验合格后恢复使用", true},
		{"起重机械限位器失灵", "厂房行车", "维修限位器，作业前检查安全装置", false},
		{"压力容器安全附件未定期校验", "空压机房", "校验安全阀和压力表，建立校验台账", false},
	},
	"construction": {
		{"深基坑支护变形超过预警值，未停止作业", "基坑北侧", "停止基坑作业，加固支护并加密监测", true},
		{"高支模未按专项方案搭设", "三层楼面", "按专项方案整改并经验收后方可浇筑", true},
		{"临边洞口防护缺失", "五层楼面", "设置防护栏杆和盖板", false},
		{"塔吊附着装置安装不规范", "2 号塔吊", "按说明书重新安装附着装置并验收", false},
	},
	"high_rise": {
		{"自动喷水灭火系统末端试水压力不足", "屋顶水箱间", "检修消防水泵和稳压设施，恢复系统压力", true},
		{"外墙保温材料局部脱落", "东立面", "清除脱落部位并设置隔离区，委托修复", false},
		{"防火门闭门器损坏，常开防火门", "各楼层前室", "更换闭门器，恢复防火门常闭", false},
	},
	"old_buildings": {
		{"承重墙体开裂，存在局部坍塌风险", "北侧单元", "设置警戒，组织人员撤离并委托房屋安全鉴定", true},
		{"阳台栏杆锈蚀松动", "二至四层阳台", "更换栏杆并加固", false},
	},
	"waterlogging": {
		{"下穿通道排水泵故障，积水预警装置失效", "下穿通道", "维修排水泵和预警装置，汛前联调联试", true},
		{"雨水口被垃圾堵塞", "路口雨水口", "清掏雨水口，建立汛期巡查制度", false},
	},
	"geological": {
		{"边坡截排水沟堵塞，坡面出现裂缝", "边坡坡顶", "疏通截排水沟，裂缝封填并加密监测", true},
		{"地质灾害隐患点警示标志缺失", "隐患点入口", "设置警示标志和监测桩", false},
	},
	"billboards": {
		{"户外广告牌钢结构锈蚀、连接螺栓松动", "楼顶广告牌", "紧固螺栓并除锈防腐，必要时拆除", false},
	},
	"bridges_tunnels": {
		{"桥梁伸缩缝损坏，支座脱空", "主桥", "更换伸缩缝，处理支座并限载通行", true},
		{"隧道照明部分损坏", "隧道中段", "更换照明灯具", false},
	},
}

// genericTemplates are the hidden dangers any unit may have.
var genericTemplates = []hazardTemplate{
	{"安全警示标志缺失或不清晰", "出入口", "补设安全警示标志", false},
	{"应急预案未按期演练", "管理台账", "组织应急演练并评估修订预案", false},
	{"安全管理人员未按规定培训", "管理台账", "组织培训并取得合格证明", false},
	{"消防设施未定期维护保养", "消防设施", "委托维保单位检测维护", false},
	{"隐患排查记录不完整", "管理台账", "完善隐患排查治理台账", false},
}

// demoClock is the hazards service's clock while the demo loads: each write happens at
// the moment of the hidden danger's story it tells.
type demoClock struct{ t time.Time }

func (c *demoClock) now() time.Time { return c.t }

// hazardPlan is what becomes of one demo hidden danger.
type hazardPlan struct {
	unit     *riskmap.Unit
	tpl      hazardTemplate
	major    bool
	found    time.Time
	deadline time.Time
	end      hazards.Status // where it stands today
	failed   bool           // one failed acceptance on the way
	extended bool           // an approved extension of its deadline
	photos   bool           // photos before and after rectification
	super    string         // "" or a supervision level
}

// LoadHazards registers the demo city's hidden dangers on its approved units, through svc
// (whose store, dynamics and index it uses, so that units' grades and tiles follow), as
// they would stand on the day today. It returns how many it registered. The units must be
// loaded first; the hidden dangers follow from the units and today alone.
func LoadHazards(ctx context.Context, units UnitFinder, svc *hazards.Service, today time.Time, opt HazardsOptions) (int, error) {
	count := opt.Count
	if count <= 0 {
		count = DefaultHazards
	}
	list, _, err := units.FindUnits(ctx, riskmap.UnitFilter{Statuses: []riskmap.Status{riskmap.StatusApproved}})
	if err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, nil
	}
	// The order of the units is their codes', whatever ids the store gave them.
	slices.SortFunc(list, func(a, b *riskmap.Unit) int { return strings.Compare(a.Code, b.Code) })
	y, m, d := today.UTC().Date()
	today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)

	clock := &demoClock{}
	s := *svc
	s.Now = clock.now
	r := rand.New(rand.NewPCG(14, 2026))
	n := 0
	for i := range count {
		p := planHazard(r, list, i, count, today)
		if err := runPlan(ctx, &s, clock, r, p, today, opt.Recorder); err != nil {
			return n, fmt.Errorf("演示城市的隐患（风险单元 %s）：%v", p.unit.Code, riskmap.ErrorMessage(err))
		}
		n++
	}
	return n, nil
}

// planHazard decides the i-th of count hidden dangers: its unit, kind, dates and fate.
func planHazard(r *rand.Rand, units []*riskmap.Unit, i, count int, today time.Time) hazardPlan {
	u := units[r.IntN(len(units))]
	tpls := hazardTemplates[u.Category]
	if len(tpls) == 0 || r.IntN(4) == 0 {
		tpls = append(slices.Clip(tpls), genericTemplates...)
	}
	tpl := tpls[r.IntN(len(tpls))]
	p := hazardPlan{unit: u, tpl: tpl}
	// Found in the last ten months, in working hours (China: 08:30-17:30, UTC+8).
	days := 1 + r.IntN(300)
	p.found = today.AddDate(0, 0, -days).Add(time.Duration(30+r.IntN(540)) * time.Minute)
	p.major = tpl.major && r.IntN(3) == 0
	limit := 15 + 15*r.IntN(4) // 15 to 60 days
	if p.major {
		limit = 60 + 30*r.IntN(2)
	}
	p.deadline = p.found.AddDate(0, 0, limit)
	overdue := !p.deadline.After(today)

	// The fate follows how long ago it was found: old ones are mostly closed.
	x := r.Float64()
	switch {
	case overdue && x < 0.82:
		p.end = hazards.StatusClosed
	case overdue && x < 0.88:
		p.end = hazards.StatusAccepted
	case overdue:
		p.end = hazards.StatusRectifying // past its deadline: overdue
	case x < 0.25:
		p.end = hazards.StatusClosed
	case x < 0.35:
		p.end = hazards.StatusAccepted
	case x < 0.70:
		p.end = hazards.StatusRectifying
	case x < 0.85:
		p.end = hazards.StatusReported
	default:
		p.end = hazards.StatusRegistered
	}
	if p.end == hazards.StatusRectifying && overdue && r.IntN(3) == 0 {
		p.end = hazards.StatusReported // reported, never started: overdue too
	}
	// A recent one cannot have gone far yet.
	switch {
	case days < 3:
		p.end = hazards.StatusRegistered
	case days < 6 && p.end != hazards.StatusRegistered:
		p.end = hazards.StatusReported
	case days < 20 && (p.end == hazards.StatusAccepted || p.end == hazards.StatusClosed):
		p.end = hazards.StatusRectifying
	}
	p.failed = p.end == hazards.StatusClosed && r.IntN(12) == 0
	p.extended = (p.end == hazards.StatusClosed && days > limit+20 || p.end == hazards.StatusRectifying && days > limit/3+6) && r.IntN(10) == 0
	p.photos = p.end == hazards.StatusClosed && r.IntN(8) == 0
	if p.major && p.end != hazards.StatusClosed && p.end != hazards.StatusRegistered {
		switch r.IntN(3) {
		case 0:
			p.super = hazards.SupervisionCity
		case 1:
			p.super = hazards.SupervisionDistrict
		}
	}
	return p
}

// runPlan tells one hidden danger's story through the service, each step at its moment.
func runPlan(ctx context.Context, s *hazards.Service, clock *demoClock, r *rand.Rand, p hazardPlan, today time.Time, rec hazards.Recorder) error {
	u := p.unit
	person := u.ContactPerson
	if person == "" {
		person = "安全负责人"
	}
	unitName := u.ResponsibleUnit
	if unitName == "" {
		unitName = u.Name
	}
	inspector := demoInspector
	if r.IntN(2) == 0 {
		inspector = demoInspector2
	}
	source := []hazards.Source{hazards.SourceInspection, hazards.SourceInspection, hazards.SourceSelfInspection, hazards.SourceMonitoring}[r.IntN(4)]
	h := &hazards.Hazard{UnitID: u.ID, Level: hazards.LevelGeneral, Description: p.tpl.description, Location: p.tpl.location,
		FoundAt: p.found, FoundBy: inspector.Name, Source: source, ResponsibleUnit: unitName, ResponsiblePerson: person,
		Measures: p.tpl.measures, Deadline: p.deadline}
	if p.major {
		h.Level = hazards.LevelMajor
		h.Five = &hazards.FiveImplementations{
			Responsibility: unitName + "主要负责人" + person + "为第一责任人",
			Measures:       p.tpl.measures,
			Funds:          fmt.Sprintf("%d 万元，由%s列支", 5+5*r.IntN(20), unitName),
			TimeLimit:      "于 " + p.deadline.Format("2006年1月2日") + " 前完成整改",
			Plan:           "制定专项治理方案和现场应急处置方案，整改期间落实监控和警戒措施",
		}
	}
	// Every step happens before the day of loading began.
	latest := today.Add(-time.Minute)
	at := p.found.Add(30 * time.Minute)
	clock.t = at
	set := func() {
		clock.t = at
		if clock.t.After(latest) {
			clock.t = latest
		}
	}
	if err := s.Create(ctx, inspector, h, rec); err != nil {
		return err
	}
	id := h.ID
	step := func(hours int) { at = at.Add(time.Duration(hours) * time.Hour); set() }
	move := func(by *riskmap.User, to hazards.Status, note string) error {
		_, err := s.Transition(ctx, by, id, 0, to, note, rec)
		return err
	}
	photo := func(by *riskmap.User, stage string) error {
		b, err := demoPhoto(r, stage)
		if err == nil {
			_, err = s.AddPhoto(ctx, by, id, stage, b, rec)
		}
		return err
	}
	if p.photos {
		step(1)
		if err := photo(inspector, hazards.PhotoBefore); err != nil {
			return err
		}
	}
	if p.end == hazards.StatusRegistered {
		return nil
	}
	step(20)
	if err := move(inspector, hazards.StatusReported, "已上报属地和行业主管部门"); err != nil {
		return err
	}
	if p.super != "" {
		step(24 + r.IntN(48))
		note := "列入市级挂牌督办，限期整改"
		if p.super == hazards.SupervisionDistrict {
			note = "列入区级挂牌督办，每周报送整改进展"
		}
		if _, err := s.Supervise(ctx, demoSupervisor, id, p.super, note, rec); err != nil {
			return err
		}
	}
	if p.end == hazards.StatusReported {
		return nil
	}
	step(24)
	if err := move(demoRectifier, hazards.StatusRectifying, "已制定整改方案，开始整改"); err != nil {
		return err
	}
	limit := p.deadline.Sub(p.found)
	if p.extended {
		step(int(limit.Hours() / 3))
		if _, err := s.RequestExtension(ctx, demoRectifier, id, p.deadline.AddDate(0, 0, 30), "整改所需设备供货周期较长，申请延期 30 日", rec); err != nil {
			return err
		}
		step(26)
		if _, err := s.DecideExtension(ctx, demoReinspector, id, true, "情况属实，同意延期，期间落实临时管控措施", rec); err != nil {
			return err
		}
	}
	if p.end == hazards.StatusRectifying {
		return nil
	}
	// The work is done within its time, before the (original) deadline, and early enough
	// for its acceptance and re-inspection to have followed by today.
	avail := min(limit, today.Sub(p.found)-10*24*time.Hour)
	done := p.found.Add(avail * time.Duration(50+r.IntN(40)) / 100)
	if done.After(at) {
		at = done
		set()
	}
	if p.photos {
		step(1)
		if err := photo(demoRectifier, hazards.PhotoAfter); err != nil {
			return err
		}
	}
	step(2)
	if err := move(demoRectifier, hazards.StatusAccepted, "整改完成，申请验收"); err != nil {
		return err
	}
	if p.end == hazards.StatusAccepted {
		return nil
	}
	if p.failed {
		step(30)
		if err := move(demoReinspector, hazards.StatusRectifying, "复查发现整改不彻底，退回继续整改"); err != nil {
			return err
		}
		step(72)
		if err := move(demoRectifier, hazards.StatusAccepted, "已按复查意见完成整改，再次申请验收"); err != nil {
			return err
		}
	}
	step(24 + r.IntN(72))
	return move(demoReinspector, hazards.StatusClosed, "经现场复查，整改措施落实到位，同意销号")
}

// demoPhoto is a small picture for a photo of the given stage: a scene in muted colours,
// warmer before the rectification than after. It is PNG; the service re-encodes it.
func demoPhoto(r *rand.Rand, stage string) ([]byte, error) {
	const w, h = 320, 240
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	base := color.RGBA{R: 150, G: 120, B: 100, A: 255}
	if stage == hazards.PhotoAfter {
		base = color.RGBA{R: 110, G: 135, B: 150, A: 255}
	}
	for y := range h {
		for x := range w {
			shade := uint8((x + y) / 32)
			img.SetRGBA(x, y, color.RGBA{R: base.R - shade, G: base.G - shade, B: base.B - shade, A: 255})
		}
	}
	// A few blocks: the things in the picture.
	for range 6 {
		x0, y0 := r.IntN(w-60), r.IntN(h-60)
		bw, bh := 20+r.IntN(40), 20+r.IntN(40)
		c := color.RGBA{R: uint8(60 + r.IntN(150)), G: uint8(60 + r.IntN(150)), B: uint8(60 + r.IntN(150)), A: 255}
		for y := y0; y < y0+bh; y++ {
			for x := x0; x < x0+bw; x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
